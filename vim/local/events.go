package local

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The event log of an instance: QEMU's second QMP monitor reads
// <eventLogBase>.in and writes <eventLogBase>.out (a pipe chardev opens
// both files read-write and never sees an end of input).
const eventLogBase = "events"

// qmpNegotiation is all the event monitor is ever told: once capabilities
// are negotiated, QMP sends it every event.
const qmpNegotiation = `{"execute":"qmp_capabilities"}` + "\n"

// How much of the end of the event log and of the console is read to judge
// a guest, whatever the size the files have grown to: the last ~500
// events (a reboot is 2 to 5 RESET events, ~130 bytes each: 100 reboots
// or more, far beyond reboot_loop_count) and the kernel's panic message.
const (
	eventTailSize   = 64 << 10
	consoleTailSize = 16 << 10
)

// rebootSpan is how long the RESET events of one reboot may be spread
// over: a guest reset emits several within a fraction of a second
// (kernel, then firmware). Measured from the reboot's first RESET, so that
// a guest resetting every second still counts each time.
const rebootSpan = time.Second

// qmpEvent is one QMP event as QEMU writes it.
type qmpEvent struct {
	Event     string `json:"event"`
	Timestamp struct {
		Seconds      int64 `json:"seconds"`
		Microseconds int64 `json:"microseconds"`
	} `json:"timestamp"`
	Data struct {
		Guest  bool   `json:"guest"`  // RESET, SHUTDOWN: the guest asked for it
		Reason string `json:"reason"` // RESET, SHUTDOWN: guest-reset, guest-panic, host-signal, ...
		Action string `json:"action"` // GUEST_PANICKED: pause, poweroff, run
	} `json:"data"`
}

func (e qmpEvent) time() time.Time {
	return time.Unix(e.Timestamp.Seconds, e.Timestamp.Microseconds*1000)
}

// resetEventLog prepares the event log files for a launch: the input
// with the negotiation, an empty output.
func resetEventLog(dir string) error {
	base := filepath.Join(dir, eventLogBase)
	if err := os.WriteFile(base+".in", []byte(qmpNegotiation), 0o644); err != nil {
		return err
	}
	return os.WriteFile(base+".out", nil, 0o644)
}

// readEventLog returns the events at the end of an instance's event log,
// oldest first.
func readEventLog(dir string) ([]qmpEvent, error) {
	b, err := readTail(filepath.Join(dir, eventLogBase+".out"), eventTailSize)
	if err != nil {
		return nil, err
	}
	var out []qmpEvent
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), eventTailSize)
	for sc.Scan() {
		var e qmpEvent
		// The first line of a tail may be cut; answers and the greeting
		// have no event.
		if json.Unmarshal(sc.Bytes(), &e) == nil && e.Event != "" {
			out = append(out, e)
		}
	}
	return out, nil
}

// readTail reads at most the last n bytes of a file; a missing file is empty.
func readTail(path string, n int64) ([]byte, error) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	off := max(fi.Size()-n, 0)
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return nil, err
	}
	return io.ReadAll(io.LimitReader(f, n))
}

// panicked reports whether the guest's last panic (GUEST_PANICKED) came
// after its last reset, i.e. it has not started again since.
func panicked(events []qmpEvent) bool {
	for i := len(events) - 1; i >= 0; i-- {
		switch events[i].Event {
		case "GUEST_PANICKED":
			return true
		case "RESET":
			return false
		}
	}
	return false
}

// guestReboots counts the reboots the guest asked for since the given
// time: its RESET events, those within rebootSpan of a reboot's first
// counted once.
func guestReboots(events []qmpEvent, since time.Time) int {
	n := 0
	var first time.Time
	for _, e := range events {
		if e.Event != "RESET" || !e.Data.Guest {
			continue
		}
		t := e.time()
		if t.Before(since) {
			continue
		}
		if first.IsZero() || t.Sub(first) >= rebootSpan {
			n++
			first = t
		}
	}
	return n
}

// lastConsoleLine is the last non-empty line of a console tail.
func lastConsoleLine(console []byte) string {
	lines := strings.Split(strings.TrimRight(string(console), "\r\n\t "), "\n")
	line := strings.TrimSpace(lines[len(lines)-1])
	// The kernel prefixes its messages with their time: "[    1.48] ".
	if strings.HasPrefix(line, "[") {
		if _, rest, ok := strings.Cut(line, "] "); ok {
			line = strings.TrimSpace(rest)
		}
	}
	return line
}

// lastPanic is "; console: " and the kernel's last panic message in a
// console tail, or "" when there is none.
func lastPanic(console []byte) string {
	i := bytes.LastIndex(console, []byte("Kernel panic - not syncing"))
	if i < 0 {
		return ""
	}
	line, _, _ := bytes.Cut(console[i:], []byte("\n"))
	return "; console: " + strings.TrimSpace(string(line))
}
