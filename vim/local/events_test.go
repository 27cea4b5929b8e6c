package local

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vnfpkgm/vnfpkgm/vim"
)

// BenchmarkGuestTrouble judges an instance whose guest has reboot-looped
// for long: a 64 MiB event log and a 16 MiB console. Every QueryCompute
// (and each compute of a list) does this; only the files' tails are read,
// so its cost does not grow with them.
func BenchmarkGuestTrouble(b *testing.B) {
	dir := b.TempDir()
	d, err := Open(b.Context(), vim.Config{DataDir: dir})
	if err != nil {
		b.Fatal(err)
	}
	in := &instance{Compute: vim.Compute{ID: "loop"}, LaunchedAt: time.Now().Add(-time.Hour)}
	idir := d.instanceDir(in.ID)
	if err := os.MkdirAll(idir, 0o755); err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	write := func(name string, size int64, line func(i int64) string) {
		f, err := os.Create(filepath.Join(idir, name))
		if err != nil {
			b.Fatal(err)
		}
		w := bufio.NewWriter(f)
		var n int64
		for i := int64(0); n < size; i++ {
			k, _ := w.WriteString(line(i))
			n += int64(k)
		}
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
	const events, console = 64 << 20, 16 << 20
	reset := func(t time.Time) string {
		return fmt.Sprintf(`{"timestamp": {"seconds": %d, "microseconds": %06d}, "event": "RESET", "data": {"guest": true, "reason": "guest-reset"}}`+"\n", t.Unix(), t.Nanosecond()/1000)
	}
	// One reset a second, the last one now.
	lines := int64(events / len(reset(now)))
	write(eventLogBase+".out", events, func(i int64) string { return reset(now.Add(-time.Duration(lines-1-i) * time.Second)) })
	write("console.log", console, func(i int64) string {
		return fmt.Sprintf("[    %d.000000] Kernel panic - not syncing: Requested init /nonexistent failed (error -2).\n", i)
	})
	b.ReportAllocs()
	for b.Loop() {
		if st := d.guestTrouble(in, now); st.reason != vim.ReasonRebootLoop {
			b.Fatalf("%+v", st)
		}
	}
}
