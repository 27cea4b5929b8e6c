package main

import (
	"context"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

// interruptContext is cancelled by SIGINT or SIGTERM, but it starts
// watching for them only when something first asks for its Done channel
// (an HTTP request, a wait, a download). Watching costs two goroutines
// and usually a new OS thread, about a tenth of the whole run of a command
// that only prints (help, --version, -h) or validates a local file: those
// keep the default action of the signals, which ends the process at once,
// as nothing of theirs is left to clean up.
type interruptContext struct {
	once sync.Once
	ctx  context.Context
	stop context.CancelFunc // restores the default action of the signals
}

func (c *interruptContext) watch() context.Context {
	c.once.Do(func() {
		c.ctx, c.stop = signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	})
	return c.ctx
}

func (c *interruptContext) Deadline() (time.Time, bool) { return c.watch().Deadline() }
func (c *interruptContext) Done() <-chan struct{}       { return c.watch().Done() }
func (c *interruptContext) Err() error                  { return c.watch().Err() }
func (c *interruptContext) Value(key any) any           { return c.watch().Value(key) }
