package local

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeQMP is a QMP server on a unix socket: it greets, requires
// qmp_capabilities first, sends an event before every answer, and keeps a
// run state that stop/cont change.
type fakeQMP struct {
	mu       sync.Mutex
	status   string
	commands []string
}

func startFakeQMP(t *testing.T) (*fakeQMP, string) {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "q.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	f := &fakeQMP{status: "running"}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go f.serve(conn)
		}
	}()
	return f, sock
}

func (f *fakeQMP) serve(conn net.Conn) {
	defer conn.Close()
	w := func(s string) { conn.Write([]byte(s + "\n")) }
	w(`{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}}, "capabilities": ["oob"]}}`)
	sc := bufio.NewScanner(conn)
	negotiated := false
	for sc.Scan() {
		var req struct {
			Execute string `json:"execute"`
		}
		if err := json.Unmarshal(sc.Bytes(), &req); err != nil {
			w(`{"error": {"class": "GenericError", "desc": "bad json"}}`)
			continue
		}
		f.mu.Lock()
		f.commands = append(f.commands, req.Execute)
		f.mu.Unlock()
		if !negotiated && req.Execute != "qmp_capabilities" {
			w(`{"error": {"class": "CommandNotFound", "desc": "Expecting capabilities negotiation with 'qmp_capabilities'"}}`)
			continue
		}
		w(`{"timestamp": {"seconds": 1, "microseconds": 2}, "event": "RTC_CHANGE", "data": {"offset": 0}}`)
		f.mu.Lock()
		switch req.Execute {
		case "qmp_capabilities":
			negotiated = true
			w(`{"return": {}}`)
		case "query-status":
			w(`{"return": {"status": "` + f.status + `", "singlestep": false, "running": ` + map[bool]string{true: "true", false: "false"}[f.status == "running"] + `}}`)
		case "stop":
			f.status = "paused"
			w(`{"return": {}}`)
		case "cont":
			f.status = "running"
			w(`{"return": {}}`)
		default:
			w(`{"error": {"class": "CommandNotFound", "desc": "The command ` + req.Execute + ` has not been found"}}`)
		}
		f.mu.Unlock()
	}
}

func TestQMPClient(t *testing.T) {
	f, sock := startFakeQMP(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	st, err := qmpStatus(ctx, sock)
	if err != nil || st != "running" {
		t.Fatalf("status = %q, %v; want running", st, err)
	}
	if _, err := qmpDo(ctx, sock, "stop"); err != nil {
		t.Fatal(err)
	}
	if st, _ := qmpStatus(ctx, sock); st != "paused" {
		t.Fatalf("after stop: %q, want paused", st)
	}
	if _, err := qmpDo(ctx, sock, "cont"); err != nil {
		t.Fatal(err)
	}
	if st, _ := qmpStatus(ctx, sock); st != "running" {
		t.Fatalf("after cont: %q, want running", st)
	}
	_, err = qmpDo(ctx, sock, "no-such-command")
	var qe *qmpError
	if !errors.As(err, &qe) || qe.Class != "CommandNotFound" {
		t.Fatalf("unknown command: err = %v, want a CommandNotFound qmpError", err)
	}
	f.mu.Lock()
	got := strings.Join(f.commands, " ")
	f.mu.Unlock()
	if !strings.HasPrefix(got, "qmp_capabilities query-status qmp_capabilities stop") {
		t.Errorf("commands sent: %s", got)
	}
}

func TestQMPNoServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := qmpStatus(ctx, filepath.Join(t.TempDir(), "none.sock")); err == nil {
		t.Fatal("no error from a missing socket")
	}
}

func TestQMPNotABanner(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "x.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			c.Write([]byte(`{"return": {}}` + "\n"))
			time.Sleep(time.Second)
			c.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := dialQMP(ctx, sock); err == nil || !strings.Contains(err.Error(), "banner") {
		t.Fatalf("err = %v, want a banner error", err)
	}
}

func TestQMPTimeout(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "s.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			time.Sleep(2 * time.Second) // never greets
			c.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := dialQMP(ctx, sock); err == nil {
		t.Fatal("no error from a silent server")
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("gave up after %v, want about the context deadline", d)
	}
}
