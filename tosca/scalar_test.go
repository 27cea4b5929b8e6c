package tosca

import (
	"math"
	"testing"
	"time"
)

func TestParseScalarSize(t *testing.T) {
	for in, want := range map[string]int64{
		"4 GB": 4e9, "512 MiB": 512 << 20, "1 GiB": 1 << 30, "1gib": 1 << 30, "10 kB": 1e4, "10 KB": 1e4,
		"3 B": 3, "1.5 TB": 1.5e12, "2 TiB": 2 << 40, "8192MB": 8192e6, " 1 mb ": 1e6,
	} {
		got, err := ParseScalarSize(in)
		if err != nil || got != want {
			t.Errorf("%q: %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"4", "GB", "4 GiBB", "four GB", "4 Gb/s", "-1 GB", "1e30 TB", ""} {
		if _, err := ParseScalarSize(in); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}

func TestParseScalarTimeFrequencyBitrate(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"30 s": 30 * time.Second, "1.5 h": 90 * time.Minute, "2 d": 48 * time.Hour, "5 m": 5 * time.Minute,
		"100 ms": 100 * time.Millisecond, "3 us": 3 * time.Microsecond, "7 ns": 7, "2 MS": 2 * time.Millisecond,
	} {
		if got, err := ParseScalarTime(in); err != nil || got != want {
			t.Errorf("%q: %v, %v; want %v", in, got, err, want)
		}
	}
	for in, want := range map[string]float64{"2.4 GHz": 2.4e9, "100 khz": 1e5, "1 Hz": 1, "3 MHz": 3e6} {
		if got, err := ParseScalarFrequency(in); err != nil || math.Abs(got-want) > 1e-6 {
			t.Errorf("%q: %v, %v; want %v", in, got, err, want)
		}
	}
	for in, want := range map[string]float64{
		"10 bps": 10, "1 Kbps": 1e3, "1 kbps": 1e3, "1 Kibps": 1024, "2 Mbps": 2e6, "1 Mibps": 1 << 20,
		"1 Gbps": 1e9, "1 Gibps": 1 << 30, "1 Tbps": 1e12, "1 Tibps": 1 << 40,
		"1 Bps": 8, "1 KBps": 8e3, "1 KiBps": 8192, "1 MBps": 8e6, "1 GiBps": 8 << 30, "1 TBps": 8e12,
	} {
		if got, err := ParseScalarBitrate(in); err != nil || got != want {
			t.Errorf("%q: %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"1 Kb", "1 Xbps", "1 ps", "bps"} {
		if _, err := ParseScalarBitrate(in); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
	if _, err := ParseScalarTime("1 GB"); err == nil {
		t.Error("a size is not a time")
	}
}

func TestParseVersion(t *testing.T) {
	for in, want := range map[string]Version{
		"1.0": {Major: 1}, "2.6.1": {2, 6, 1, "", 0}, "1.2.3.beta-4": {1, 2, 3, "beta", 4}, "10.20.0.rc1": {10, 20, 0, "rc1", 0},
	} {
		if got, err := ParseVersion(in); err != nil || got != want {
			t.Errorf("%q: %+v, %v", in, got, err)
		}
	}
	for _, in := range []string{"1", "1.", "a.b", "1.2.3.4.5", "1.2.x", "1.2.3.q-x", ""} {
		if _, err := ParseVersion(in); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
	v := func(s string) Version { x, _ := ParseVersion(s); return x }
	if v("1.10").Compare(v("1.9")) <= 0 || v("1.2.3").Compare(v("1.2.3.rc1")) <= 0 || v("2.0").Compare(v("2.0.0")) != 0 {
		t.Error("version order")
	}
}

func TestParseTimestamp(t *testing.T) {
	for in, want := range map[string]time.Time{
		"2001-12-14":                     time.Date(2001, 12, 14, 0, 0, 0, 0, time.UTC),
		"2001-12-15T02:59:43.1Z":         time.Date(2001, 12, 15, 2, 59, 43, 1e8, time.UTC),
		"2001-12-14t21:59:43.10-05:00":   time.Date(2001, 12, 15, 2, 59, 43, 1e8, time.UTC),
		"2001-12-14 21:59:43.10 -5":      time.Date(2001, 12, 15, 2, 59, 43, 1e8, time.UTC),
		"2001-12-15 2:59:43.10":          time.Date(2001, 12, 15, 2, 59, 43, 1e8, time.UTC),
		"2024-02-29T00:00:00+01:30":      time.Date(2024, 2, 28, 22, 30, 0, 0, time.UTC),
		"2024-01-31T12:00:00.123456789Z": time.Date(2024, 1, 31, 12, 0, 0, 123456789, time.UTC),
	} {
		got, err := ParseTimestamp(in)
		if err != nil || !got.Equal(want) {
			t.Errorf("%q: %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"2001-13-01", "2023-02-29", "yesterday", "2001-12-14T25:00:00Z", "12:00:00"} {
		if _, err := ParseTimestamp(in); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}

func TestParseRange(t *testing.T) {
	if lo, hi, err := ParseRange([]any{int64(1), "UNBOUNDED"}); err != nil || lo != 1 || hi != Unbounded {
		t.Fatal(lo, hi, err)
	}
	for _, bad := range []any{[]any{int64(3), int64(1)}, []any{"UNBOUNDED", int64(1)}, []any{int64(1)}, "1-2"} {
		if _, _, err := ParseRange(bad); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}
