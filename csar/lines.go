package csar

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"strings"
)

// readBounded reads a small text file of the package (TOSCA.meta, the
// manifest) refusing anything larger than max bytes, so a hostile package
// cannot make the server allocate without bound.
func readBounded(fsys fs.FS, name string, max int64) (data []byte, tooLarge bool, err error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	data, err = io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, false, err
	}
	if int64(len(data)) > max {
		return nil, true, nil
	}
	return data, false, nil
}

// line is one line of a key/value text file with its 1-based number.
type line struct {
	no   int
	text string // without the line terminator
}

// splitLines cuts text into lines, accepting LF and CRLF endings.
func splitLines(data []byte) []line {
	var out []line
	no := 0
	for len(data) > 0 {
		no++
		i := bytes.IndexByte(data, '\n')
		var l []byte
		if i < 0 {
			l, data = data, nil
		} else {
			l, data = data[:i], data[i+1:]
		}
		out = append(out, line{no: no, text: strings.TrimSuffix(string(l), "\r")})
	}
	return out
}

// field is one "Key: value" line.
type field struct {
	Key      string
	Value    string
	Line     int
	ValueCol int // 1-based column where the value starts (after the blank)
	Indent   int
}

// parseField splits "Key: value". ok is false when the line has no colon
// or an empty key.
func parseField(l line) (field, bool) {
	trimmed := strings.TrimLeft(l.text, " \t")
	indent := len(l.text) - len(trimmed)
	i := strings.IndexByte(trimmed, ':')
	if i <= 0 {
		return field{}, false
	}
	key := strings.TrimRight(trimmed[:i], " \t")
	if key == "" {
		return field{}, false
	}
	rest := trimmed[i+1:]
	value := strings.TrimSpace(rest)
	col := indent + i + 2 + (len(rest) - len(strings.TrimLeft(rest, " \t")))
	return field{Key: key, Value: value, Line: l.no, ValueCol: col, Indent: indent}, true
}

func isBlank(s string) bool { return strings.TrimSpace(s) == "" }

// problemAt builds a problem located in a file.
func problemAt(sev Severity, code, file string, line, col int, format string, args ...any) Problem {
	return Problem{Severity: sev, Code: code, File: file, Line: line, Column: col, Message: fmt.Sprintf(format, args...)}
}
