package vim

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// DurationOption reads option key of opts as a positive Go duration
// ("30s", "5m"), def when it is absent; a malformed value is an
// *OptionError naming key.
func DurationOption(opts map[string]string, key string, def time.Duration) (time.Duration, error) {
	s := strings.TrimSpace(opts[key])
	if s == "" {
		return def, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, OptionErrorf(key, "%q is not a positive duration such as 30s or 5m", s)
	}
	return d, nil
}

// Sleep waits for d or until ctx is done, whose error it then returns:
// the pause of a driver's polling and retry loops.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// IntOption reads option key of opts as an integer from min to max, def
// when it is absent; anything else is an *OptionError naming key.
func IntOption(opts map[string]string, key string, def, min, max int) (int, error) {
	s := strings.TrimSpace(opts[key])
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < min || n > max {
		return 0, OptionErrorf(key, "%q is not a number from %d to %d", s, min, max)
	}
	return n, nil
}

// BoolOption reads option key of opts as true or false, false when it is
// absent; anything else is an *OptionError naming key.
func BoolOption(opts map[string]string, key string) (bool, error) {
	switch s := strings.TrimSpace(opts[key]); s {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	default:
		return false, OptionErrorf(key, "%q is not true or false", s)
	}
}
