package tosca

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/vnfpkgm/vnfpkgm/internal/lazy"
)

// Parsers of the TOSCA primitive types that YAML does not know: scalar
// units, versions, timestamps and ranges. Values keep the text they were
// written with; these helpers (exported for tosca/vnfd) convert them.

// scalarKind is one of the four scalar-unit types.
type scalarKind int

const (
	scalarSize scalarKind = iota
	scalarTime
	scalarFrequency
	scalarBitrate
)

func (k scalarKind) String() string {
	return [...]string{"scalar-unit.size", "scalar-unit.time", "scalar-unit.frequency", "scalar-unit.bitrate"}[k]
}

// Units by lower-case name: sizes, times and frequencies are matched
// case-insensitively, as TOSCA says (1 gib = 1 GiB). Bitrates cannot be:
// "Kbps" (kilobits) and "KBps" (kilobytes) differ only by case. For them
// the prefix matches case-insensitively and the b of "bps" decides: b is
// bits, B is bytes.
var (
	sizeUnits = &lazy.Value[map[string]float64]{Build: func() map[string]float64 {
		return map[string]float64{
			"b": 1, "kb": 1e3, "kib": 1 << 10, "mb": 1e6, "mib": 1 << 20,
			"gb": 1e9, "gib": 1 << 30, "tb": 1e12, "tib": 1 << 40,
		}
	}}
	timeUnits = &lazy.Value[map[string]float64]{Build: func() map[string]float64 {
		return map[string]float64{
			"d": 86400, "h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6, "ns": 1e-9,
		}
	}}
	frequencyUnits = &lazy.Value[map[string]float64]{Build: func() map[string]float64 {
		return map[string]float64{
			"hz": 1, "khz": 1e3, "mhz": 1e6, "ghz": 1e9,
		}
	}}
	bitratePrefixes = &lazy.Value[map[string]float64]{Build: func() map[string]float64 {
		return map[string]float64{
			"": 1, "k": 1e3, "ki": 1 << 10, "m": 1e6, "mi": 1 << 20, "g": 1e9, "gi": 1 << 30, "t": 1e12, "ti": 1 << 40,
		}
	}}
)

var unitNames = [...]string{
	"B kB KiB MB MiB GB GiB TB TiB",
	"d h m s ms us ns",
	"Hz kHz MHz GHz",
	"bps Kbps Kibps Mbps Mibps Gbps Gibps Tbps Tibps (Bps for bytes: KBps, KiBps, ...)",
}

// parseScalar splits "<number> <unit>" (the space is optional) and returns
// the value in the kind's base unit: bytes, seconds, hertz or bits per
// second.
func parseScalar(s string, kind scalarKind) (float64, error) {
	t := strings.TrimSpace(s)
	i := len(t)
	for i > 0 && isLetter(t[i-1]) {
		i--
	}
	num, unit := strings.TrimSpace(t[:i]), t[i:]
	if num == "" || unit == "" {
		return 0, fmt.Errorf("%q is not a %s: expected a number and a unit (%s)", s, kind, unitNames[kind])
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("%q is not a %s: %q is not a number", s, kind, num)
	}
	mult, ok := unitFactor(unit, kind)
	if !ok {
		return 0, fmt.Errorf("%q is not a %s: unknown unit %q (use %s)", s, kind, unit, unitNames[kind])
	}
	return f * mult, nil
}

func unitFactor(unit string, kind scalarKind) (float64, bool) {
	switch kind {
	case scalarSize:
		m, ok := sizeUnits.Get()[strings.ToLower(unit)]
		return m, ok
	case scalarTime:
		m, ok := timeUnits.Get()[strings.ToLower(unit)]
		return m, ok
	case scalarFrequency:
		m, ok := frequencyUnits.Get()[strings.ToLower(unit)]
		return m, ok
	}
	if len(unit) < 3 || !strings.EqualFold(unit[len(unit)-2:], "ps") {
		return 0, false
	}
	b := unit[len(unit)-3]
	m, ok := bitratePrefixes.Get()[strings.ToLower(unit[:len(unit)-3])]
	switch {
	case !ok:
		return 0, false
	case b == 'b':
		return m, true
	case b == 'B':
		return m * 8, true
	}
	return 0, false
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// ParseScalarSize converts a scalar-unit.size ("4 GB", "512 MiB") to bytes.
func ParseScalarSize(s string) (int64, error) {
	f, err := parseScalar(s, scalarSize)
	if err != nil {
		return 0, err
	}
	f = math.Round(f)
	if f < 0 || f >= math.MaxInt64 {
		return 0, fmt.Errorf("%q is out of range for a size in bytes", s)
	}
	return int64(f), nil
}

// ParseScalarTime converts a scalar-unit.time ("30 s", "1.5 h") to a duration.
func ParseScalarTime(s string) (time.Duration, error) {
	f, err := parseScalar(s, scalarTime)
	if err != nil {
		return 0, err
	}
	ns := math.Round(f * 1e9)
	if ns >= math.MaxInt64 || ns <= math.MinInt64 {
		return 0, fmt.Errorf("%q is out of range for a duration", s)
	}
	return time.Duration(ns), nil
}

// ParseScalarFrequency converts a scalar-unit.frequency ("2.4 GHz") to hertz.
func ParseScalarFrequency(s string) (float64, error) {
	return parseScalar(s, scalarFrequency)
}

// ParseScalarBitrate converts a scalar-unit.bitrate ("10 Mbps", "1 GiBps")
// to bits per second.
func ParseScalarBitrate(s string) (float64, error) {
	return parseScalar(s, scalarBitrate)
}

// Version is a TOSCA version: major.minor[.fix[.qualifier[-build]]].
type Version struct {
	Major, Minor, Fix int
	Qualifier         string
	Build             int
}

var versionRE = &lazy.Value[*regexp.Regexp]{Build: func() *regexp.Regexp {
	return regexp.MustCompile(`^([0-9]+)\.([0-9]+)(?:\.([0-9]+)(?:\.([A-Za-z0-9_]+)(?:-([0-9]+))?)?)?$`)
}}

// ParseVersion parses a TOSCA version string.
func ParseVersion(s string) (Version, error) {
	m := versionRE.Get().FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return Version{}, fmt.Errorf("%q is not a version (major.minor[.fix[.qualifier[-build]]])", s)
	}
	var v Version
	var err error
	atoi := func(x string) int {
		if x == "" {
			return 0
		}
		n, e := strconv.Atoi(x)
		if e != nil {
			err = e
		}
		return n
	}
	v.Major, v.Minor, v.Fix, v.Qualifier, v.Build = atoi(m[1]), atoi(m[2]), atoi(m[3]), m[4], atoi(m[5])
	if err != nil {
		return Version{}, fmt.Errorf("%q is not a version: a number is too large", s)
	}
	return v, nil
}

// Compare orders versions: -1, 0 or 1. A version without qualifier comes
// after the same version with one (a qualifier marks a pre-release).
func (v Version) Compare(w Version) int {
	for _, d := range [...][2]int{{v.Major, w.Major}, {v.Minor, w.Minor}, {v.Fix, w.Fix}} {
		if d[0] != d[1] {
			return cmpInt(d[0], d[1])
		}
	}
	if v.Qualifier != w.Qualifier {
		switch {
		case v.Qualifier == "":
			return 1
		case w.Qualifier == "":
			return -1
		}
		return strings.Compare(v.Qualifier, w.Qualifier)
	}
	return cmpInt(v.Build, w.Build)
}

func (v Version) String() string {
	s := fmt.Sprintf("%d.%d", v.Major, v.Minor)
	if v.Fix != 0 || v.Qualifier != "" {
		s += fmt.Sprintf(".%d", v.Fix)
	}
	if v.Qualifier != "" {
		s += "." + v.Qualifier
		if v.Build != 0 {
			s += fmt.Sprintf("-%d", v.Build)
		}
	}
	return s
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// YAML 1.1 timestamps (TOSCA's timestamp type refers to them), which
// include the ISO 8601 forms: 2001-12-14, 2001-12-14t21:59:43.10-05:00,
// 2001-12-14 21:59:43.10 -5, 2001-12-15T02:59:43.1Z.
var timestampRE = &lazy.Value[*regexp.Regexp]{Build: func() *regexp.Regexp {
	return regexp.MustCompile(`^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})` +
		`(?:(?:[Tt]|[ \t]+)([0-9]{1,2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]*))?` +
		`(?:[ \t]*(Z|[-+][0-9]{1,2}(?::?[0-9]{2})?))?)?$`)
}}

// ParseTimestamp parses a TOSCA (YAML 1.1) timestamp; a time without zone
// is UTC.
func ParseTimestamp(s string) (time.Time, error) {
	m := timestampRE.Get().FindStringSubmatch(strings.TrimSpace(s))
	bad := fmt.Errorf("%q is not a timestamp (YAML 1.1 / ISO 8601, e.g. 2024-01-31T12:00:00Z)", s)
	if m == nil {
		return time.Time{}, bad
	}
	n := func(x string) int { v, _ := strconv.Atoi(x); return v }
	year, month, day := n(m[1]), n(m[2]), n(m[3])
	if month < 1 || month > 12 || day < 1 || day > 31 {
		return time.Time{}, bad
	}
	if m[4] == "" {
		t := time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC)
		if t.Day() != day {
			return time.Time{}, bad
		}
		return t, nil
	}
	hour, minute, sec := n(m[4]), n(m[5]), n(m[6])
	if hour > 23 || minute > 59 || sec > 60 {
		return time.Time{}, bad
	}
	nsec := 0
	if frac := m[7]; frac != "" {
		if len(frac) > 9 {
			frac = frac[:9]
		}
		nsec = n(frac + strings.Repeat("0", 9-len(frac)))
	}
	loc := time.UTC
	if z := m[8]; z != "" && z != "Z" {
		sign := 1
		if z[0] == '-' {
			sign = -1
		}
		z = strings.ReplaceAll(z[1:], ":", "")
		var hh, mm int
		switch len(z) {
		case 1, 2:
			hh = n(z)
		case 3, 4:
			hh, mm = n(z[:len(z)-2]), n(z[len(z)-2:])
		}
		if hh > 23 || mm > 59 {
			return time.Time{}, bad
		}
		loc = time.FixedZone("", sign*(hh*3600+mm*60))
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, loc)
	if t.Day() != day {
		return time.Time{}, bad // February 30th and the like
	}
	return t, nil
}

// Unbounded is the upper bound of a range (or occurrences) written UNBOUNDED.
const Unbounded = math.MaxInt64

// ParseRange converts a range value ([]any{lower, upper} as found in
// Value.V, upper possibly "UNBOUNDED") to its bounds; an UNBOUNDED upper
// bound is Unbounded.
func ParseRange(v any) (lo, hi int64, err error) {
	l, ok := v.([]any)
	if !ok || len(l) != 2 {
		return 0, 0, errors.New("a range is a list of two integers [lower, upper]")
	}
	bound := func(x any, upper bool) (int64, error) {
		switch b := x.(type) {
		case int64:
			return b, nil
		case int:
			return int64(b), nil
		case string:
			if upper && b == "UNBOUNDED" {
				return Unbounded, nil
			}
		}
		return 0, fmt.Errorf("%v is not an integer bound", x)
	}
	if lo, err = bound(l[0], false); err != nil {
		return 0, 0, err
	}
	if hi, err = bound(l[1], true); err != nil {
		return 0, 0, err
	}
	if lo > hi {
		return 0, 0, fmt.Errorf("the lower bound %d is above the upper bound", lo)
	}
	return lo, hi, nil
}

// parseBool reads a YAML 1.2 boolean.
func parseBool(s string) (bool, bool) {
	switch s {
	case "true", "True", "TRUE":
		return true, true
	case "false", "False", "FALSE":
		return false, true
	}
	return false, false
}

// yaml11Bool reads the booleans YAML 1.1 (and so PyYAML, and so
// tosca-parser) knows beyond true and false.
func yaml11Bool(s string) (bool, bool) {
	switch s {
	case "y", "Y", "yes", "Yes", "YES", "on", "On", "ON":
		return true, true
	case "n", "N", "no", "No", "NO", "off", "Off", "OFF":
		return false, true
	}
	return parseBool(s)
}

// parseInt reads a TOSCA integer: decimal, 0x hexadecimal, 0o octal (and
// the 0b binary and leading-zero octal forms YAML resolvers also know).
func parseInt(s string) (int64, error) {
	return strconv.ParseInt(s, 0, 64)
}

// parseFloat reads a float, YAML's .inf and .nan spellings included.
func parseFloat(s string) (float64, error) {
	switch strings.ToLower(s) {
	case ".inf", "+.inf":
		return math.Inf(1), nil
	case "-.inf":
		return math.Inf(-1), nil
	case ".nan":
		return math.NaN(), nil
	}
	return strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64)
}
