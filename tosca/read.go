package tosca

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/vnfpkgm/vnfpkgm/internal/lazy"
	"gopkg.in/yaml.v3"
)

// Phase 1, read: bytes to a yaml.Node tree, bounded against hostile input.
// A file that breaks a limit, is not one YAML document, or whose root is
// not a mapping yields problems and no tree; nothing after this phase sees
// it.

// readStats are what the limits were checked against; the file cache keeps
// them so a cached tree is re-checked against the limits of a later call.
type readStats struct {
	nodes int // nodes with alias expansion counted
	depth int // deepest nesting, aliases expanded
}

// readYAML parses one file. It returns the root mapping, or nil when the
// file cannot be used.
func readYAML(name string, data []byte, lim Limits, pl *problemList) (root *yaml.Node, st readStats) {
	at := Position{File: name}
	if int64(len(data)) > lim.MaxFileSize {
		pl.errorf(CodeFileTooLarge, at, "the file has %d bytes, more than the limit of %d", len(data), lim.MaxFileSize)
		return nil, st
	}
	doc, second, err := decodeDocuments(data)
	if err != nil {
		at := yamlErrorPos(name, err, data)
		if strings.HasPrefix(at.msg, "exceeded max depth of ") {
			// yaml.v3 stops at its own depth (10,000), far past MaxDepth:
			// the file breaks the depth limit, whatever the parser says.
			pl.errorf(CodeTooDeep, at.pos, "the YAML nesting is deeper than the limit of %d", lim.MaxDepth)
			return nil, st
		}
		pl.errorf(CodeYAMLSyntax, at.pos, "YAML syntax: %s", at.msg)
		return nil, st
	}
	if second != nil {
		pl.errorf(CodeMultiDocument, posOf(name, second), "the file holds more than one YAML document; a TOSCA file is exactly one")
		return nil, st
	}
	if doc == nil || len(doc.Content) == 0 || isNull(doc.Content[0]) {
		pl.errorf(CodeEmptyFile, at, "the file is empty; a TOSCA file is a mapping starting with tosca_definitions_version")
		return nil, st
	}
	return checkTree(name, doc.Content[0], lim, pl)
}

// checkTree checks the top node of a file, freshly parsed or loaded from
// its precompiled form, against the limits, and reports repeated keys.
func checkTree(name string, top *yaml.Node, lim Limits, pl *problemList) (root *yaml.Node, st readStats) {
	w := walker{file: name, lim: lim, pl: pl}
	st.nodes, st.depth = w.walk(top, 1)
	if w.failed {
		return nil, st
	}
	if top.Kind != yaml.MappingNode {
		pl.errorf(CodeNotMapping, posOf(name, top), "the top of a TOSCA file must be a mapping, not %s", describeNode(top))
		return nil, st
	}
	return top, st
}

// decodeDocuments decodes the first document and reports the start of a
// second one. yaml.v3 is not expected to panic, but a parser bug must not
// take the server down: a panic becomes a syntax error.
func decodeDocuments(data []byte) (doc, second *yaml.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			doc, second, err = nil, nil, errors.New("the YAML parser failed on this input")
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var d yaml.Node
	if err := dec.Decode(&d); err != nil {
		if err == io.EOF {
			return nil, nil, nil
		}
		return nil, nil, err
	}
	var d2 yaml.Node
	switch err := dec.Decode(&d2); {
	case err == io.EOF:
		return &d, nil, nil
	case err != nil:
		return nil, nil, err
	}
	if d2.Line == 0 {
		d2.Line = 1
	}
	return &d, &d2, nil
}

var (
	yamlLineRE = &lazy.Value[*regexp.Regexp]{Build: func() *regexp.Regexp {
		return regexp.MustCompile(`^yaml: line (\d+): `)
	}}
	yamlAnchorRE = &lazy.Value[*regexp.Regexp]{Build: func() *regexp.Regexp {
		return regexp.MustCompile(`^yaml: unknown anchor '([^']*)' referenced`)
	}}
)

type yamlErrAt struct {
	pos Position
	msg string
}

// yamlErrorPos turns a yaml.v3 error ("yaml: line 3: mapping values are
// not allowed in this context") into a position and a plain message.
// yaml.v3 reports no column, and for parser errors ("did not find
// expected ...") a 0-based line: that of the construct left open (an
// unclosed [ or {, a list missing its -); it is made 1-based here. An
// unknown alias is located by searching for it.
func yamlErrorPos(file string, err error, data []byte) yamlErrAt {
	msg := err.Error()
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	if m := yamlLineRE.Get().FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		rest := msg[len(m[0]):]
		if strings.HasPrefix(rest, "did not find expected") {
			n++
			rest += " (in the construct that starts on this line)"
		}
		// At the end of the stream yaml.v3 may count one line past the end.
		if lines := bytes.Count(data, []byte("\n")); !bytes.HasSuffix(data, []byte("\n")) {
			lines++
			n = min(n, lines)
		} else {
			n = min(n, max(lines, 1))
		}
		return yamlErrAt{Position{File: file, Line: n}, rest}
	}
	if m := yamlAnchorRE.Get().FindStringSubmatch(msg); m != nil {
		if i := bytes.Index(data, []byte("*"+m[1])); i >= 0 {
			line := bytes.Count(data[:i], []byte("\n")) + 1
			col := i - bytes.LastIndexByte(data[:i], '\n')
			return yamlErrAt{Position{File: file, Line: line, Column: col}, "the alias *" + m[1] + " refers to no anchor"}
		}
	}
	return yamlErrAt{Position{File: file}, strings.TrimPrefix(msg, "yaml: ")}
}

// walker checks a tree against the node and depth limits, counting alias
// expansions without performing them (the size of an anchored subtree is
// computed once), and reports repeated mapping keys.
type walker struct {
	file   string
	lim    Limits
	pl     *problemList
	count  int
	failed bool
	memo   map[*yaml.Node][2]int // anchored node -> expanded size, height
	active map[*yaml.Node]bool   // anchored nodes being walked (alias cycles)
}

// walk returns the expanded size and height of n at depth.
func (w *walker) walk(n *yaml.Node, depth int) (size, height int) {
	if w.failed || n == nil {
		return 0, 0
	}
	if depth > w.lim.MaxDepth {
		w.failed = true
		w.pl.errorf(CodeTooDeep, posOf(w.file, n), "the YAML nesting is deeper than the limit of %d", w.lim.MaxDepth)
		return 0, 0
	}
	if n.Kind == yaml.AliasNode {
		target := n.Alias
		if target == nil || w.active[target] {
			w.failed = true
			w.pl.errorf(CodeYAMLSyntax, posOf(w.file, n), "the alias *%s refers to a node that contains it", n.Value)
			return 0, 0
		}
		m, ok := w.memo[target]
		if !ok {
			// An alias before its anchor cannot happen in YAML; be safe anyway.
			s, h := w.walk(target, depth)
			m = [2]int{s, h}
		}
		w.count = satAdd(w.count, m[0])
		if w.count > w.lim.MaxNodes {
			w.tooMany(n)
			return 0, 0
		}
		if depth+m[1]-1 > w.lim.MaxDepth {
			w.failed = true
			w.pl.errorf(CodeTooDeep, posOf(w.file, n), "the alias *%s expands deeper than the limit of %d", n.Value, w.lim.MaxDepth)
			return 0, 0
		}
		return m[0], m[1]
	}
	w.count++
	if w.count > w.lim.MaxNodes {
		w.tooMany(n)
		return 0, 0
	}
	if n.Anchor != "" {
		if w.active == nil {
			w.active = map[*yaml.Node]bool{}
			w.memo = map[*yaml.Node][2]int{}
		}
		w.active[n] = true
		defer delete(w.active, n)
	}
	size, height = 1, 1
	for _, c := range n.Content {
		s, h := w.walk(c, depth+1)
		if w.failed {
			return 0, 0
		}
		size = satAdd(size, s)
		if h+1 > height {
			height = h + 1
		}
	}
	if n.Kind == yaml.MappingNode {
		w.repeatedKeys(n)
	}
	if n.Anchor != "" {
		w.memo[n] = [2]int{size, height}
	}
	return size, height
}

func (w *walker) tooMany(n *yaml.Node) {
	w.failed = true
	w.pl.errorf(CodeTooManyNodes, posOf(w.file, n), "the file has more than %d YAML nodes (aliases expanded)", w.lim.MaxNodes)
}

// repeatedKeys reports a key written twice in one mapping. YAML forbids it;
// PyYAML (and so tosca-parser) keeps the last value, and a Tacker sample
// repeats `required: false`. The same value twice is a warning (the last
// one is used, which changes nothing); different values are an error.
func (w *walker) repeatedKeys(n *yaml.Node) {
	c := n.Content
	if len(c) < 4 {
		return
	}
	check := func(i, j int) { // i < j, both key indexes
		k := c[j]
		first := c[i]
		if sameNode(c[i+1], c[j+1]) {
			w.pl.warnf(CodeDuplicateKey, posOf(w.file, k),
				"the key %q is repeated (first at line %d) with the same value; the last one is used, as tosca-parser does", k.Value, first.Line)
			return
		}
		w.pl.errorf(CodeDuplicateKey, posOf(w.file, k),
			"the key %q is repeated (first at line %d) with a different value", k.Value, first.Line)
	}
	if len(c) <= 32 {
		for j := 2; j+1 < len(c); j += 2 {
			if c[j].Kind != yaml.ScalarNode || c[j].Tag == tagMerge {
				continue
			}
			for i := 0; i < j; i += 2 {
				if c[i].Kind == yaml.ScalarNode && c[i].Value == c[j].Value && c[i].Tag != tagMerge {
					check(i, j)
					break
				}
			}
		}
		return
	}
	seen := make(map[string]int, len(c)/2)
	for j := 0; j+1 < len(c); j += 2 {
		if c[j].Kind != yaml.ScalarNode || c[j].Tag == tagMerge {
			continue
		}
		if i, ok := seen[c[j].Value]; ok {
			check(i, j)
			continue
		}
		seen[c[j].Value] = j
	}
}

// satAdd adds without overflowing: sizes of nested aliases grow
// exponentially (billion laughs) and only their comparison with a limit
// matters.
func satAdd(a, b int) int {
	const max = 1 << 60
	if a > max-b {
		return max
	}
	return a + b
}
