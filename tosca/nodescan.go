package tosca

// scanNodes counts, without building anything, the YAML nodes yaml.v3
// would allocate for data (aliases counted once, the document node not
// counted). It lets the package budget (budget.go) refuse a file before
// parsing it: yaml.v3 builds the whole tree before anything can look at
// it, at ~170 bytes per node, so a dense 8 MB file costs hundreds of MB
// before its node count is known.
//
// Every node other than the root is an entry of a sequence or a key or
// value of a mapping pair, so the count is 1 + entries + 2 x pairs. The
// scanner finds the indicators of entries ("- ", "," in [ ]) and pairs
// (": ", "? ", "," in { }), skipping what cannot hold any: comments,
// quoted scalars, block scalars and the continuation lines of plain
// scalars. It is exact for the block and flow styles real TOSCA files use
// (the tests compare it with yaml.v3 on every profile, the corpus and
// generated files), and linear in the size of data. On syntax it does not
// model it may be off; the exact count is charged once the file is parsed
// and the per-file limits still bound that parse.
func scanNodes(data []byte) int {
	s := nodeScanner{data: data, skipAbove: -1}
	s.run()
	if !s.content {
		return 0
	}
	return satAdd(satAdd(1, s.entries), satAdd(s.pairs, s.pairs))
}

type nodeScanner struct {
	data    []byte
	i       int // read position
	bol     int // start of the current line
	entries int
	pairs   int
	content bool // any node at all

	quote     byte // inside a quoted scalar spanning lines
	flow      []flowLevel
	skipAbove int  // skip lines indented more than this (block or plain scalar text); -1: none
	inPlain   bool // inside a plain scalar in flow context
}

// flowLevel is one open [ or { and what its current item holds so far.
type flowLevel struct {
	kind    byte // '[' or '{'
	item    bool // the current item has content
	hasPair bool // the current item has a ':' value indicator
}

func (s *nodeScanner) run() {
	for s.i < len(s.data) {
		s.bol = s.i
		end := s.lineEnd()
		switch {
		case s.quote != 0:
			s.scanQuoted(end)
			s.rest(end)
		case len(s.flow) > 0:
			s.scanFlow(end)
		default:
			s.blockLine(end)
		}
		s.i = end + 1
	}
}

func (s *nodeScanner) lineEnd() int {
	for j := s.i; j < len(s.data); j++ {
		if s.data[j] == '\n' {
			return j
		}
	}
	return len(s.data)
}

// rest scans what follows a construct on the same line.
func (s *nodeScanner) rest(end int) {
	if s.quote != 0 || s.i >= end {
		return
	}
	if len(s.flow) > 0 {
		s.scanFlow(end)
	}
	// In block context a multi-line quoted scalar is a value: what follows
	// it on its last line is a comment.
}

// blockLine scans one line in block context.
func (s *nodeScanner) blockLine(end int) {
	indent := 0
	for s.i+indent < end && s.data[s.i+indent] == ' ' {
		indent++
	}
	j := s.i + indent
	if j >= end || s.data[j] == '#' || s.data[j] == '\r' {
		return // blank or comment line: belongs to no node
	}
	if s.skipAbove >= 0 {
		if indent > s.skipAbove {
			return // text of a block or multi-line plain scalar
		}
		s.skipAbove = -1
	}
	if indent == 0 && (s.data[j] == '%' || hasMarker(s.data[j:end], "---") || hasMarker(s.data[j:end], "...")) {
		if s.data[j] == '%' || s.data[j] == '.' {
			return
		}
		j += 3 // "--- value" starts a document whose root may follow
	}
	s.i = j
	s.nodeStart(end, indent)
}

// hasMarker reports a document marker: three characters then a space or
// the end of the line.
func hasMarker(line []byte, m string) bool {
	return len(line) >= 3 && string(line[:3]) == m && (len(line) == 3 || isBlankByte(line[3]))
}

// nodeStart scans a line from where a block node may start: first the
// entry and key indicators ("- ", "? ", ": "), then the node itself. col
// is the indentation of the innermost block collection on the line.
func (s *nodeScanner) nodeStart(end, col int) {
	for {
		s.skipSpaces(end)
		if s.i >= end || s.data[s.i] == '#' {
			return
		}
		c := s.data[s.i]
		if (c != '-' && c != '?' && c != ':') || !s.indicatorAt(s.i, end) {
			break
		}
		switch c {
		case '-':
			s.entries++
		case '?':
			s.pairs++
		}
		s.content = true
		col = s.column()
		s.i++
	}
	s.content = true
	s.blockNode(end, col)
}

// column is the 0-based column of s.i.
func (s *nodeScanner) column() int { return s.i - s.bol }

// indicatorAt reports whether the character at j is an indicator: followed
// by a blank or the end of the line.
func (s *nodeScanner) indicatorAt(j, end int) bool {
	return j+1 >= end || isBlankByte(s.data[j+1])
}

func isBlankByte(c byte) bool { return c == ' ' || c == '\t' || c == '\r' }

func (s *nodeScanner) skipSpaces(end int) {
	for s.i < end && isBlankByte(s.data[s.i]) {
		s.i++
	}
}

// skipProperties skips anchors (&a) and tags (!t) before a node.
func (s *nodeScanner) skipProperties(end int) {
	for s.i < end && (s.data[s.i] == '&' || s.data[s.i] == '!') {
		for s.i < end && !isBlankByte(s.data[s.i]) {
			s.i++
		}
		s.skipSpaces(end)
	}
}

// blockNode scans a node starting at s.i in block context: a scalar, a
// flow collection, or the key of a mapping's first pair on this line,
// followed by its value.
func (s *nodeScanner) blockNode(end, col int) {
	s.skipProperties(end)
	if s.i >= end || s.data[s.i] == '#' {
		return // the node is on the next lines
	}
	keyCol := s.column()
	if !s.scalarOrFlow(end, col) {
		return
	}
	s.skipSpaces(end)
	if s.i >= end || s.data[s.i] != ':' || !s.indicatorAt(s.i, end) {
		return // a scalar, not a key
	}
	s.pairs++
	s.i++
	s.skipSpaces(end)
	s.skipProperties(end)
	if s.i >= end || s.data[s.i] == '#' {
		return // the value is on the next lines (or null)
	}
	s.scalarOrFlow(end, keyCol)
}

// scalarOrFlow scans one value at s.i. For a scalar whose text may go on
// over the next lines (plain, block), the lines indented more than col are
// marked to skip. It reports whether a ": " after it can make it a key.
func (s *nodeScanner) scalarOrFlow(end, col int) bool {
	switch c := s.data[s.i]; c {
	case '[', '{':
		s.flow = append(s.flow, flowLevel{kind: c})
		s.i++
		s.scanFlow(end)
		return false
	case '\'', '"':
		s.quote = c
		s.i++
		s.scanQuoted(end)
		return s.quote == 0
	case '|', '>':
		s.skipAbove = col
		s.i = end
		return false
	}
	// A plain scalar or an alias, up to ": ", " #" or the end of the line.
	for ; s.i < end; s.i++ {
		b := s.data[s.i]
		if b == ':' && s.indicatorAt(s.i, end) {
			return true
		}
		if b == '#' && isBlankByte(s.data[s.i-1]) {
			break
		}
	}
	s.i = end
	s.skipAbove = col
	return false
}

// scanQuoted looks for the end of the quoted scalar s.quote on this line.
func (s *nodeScanner) scanQuoted(end int) {
	for ; s.i < end; s.i++ {
		b := s.data[s.i]
		switch {
		case s.quote == '"' && b == '\\':
			s.i++
		case b == s.quote && s.quote == '\'' && s.i+1 < end && s.data[s.i+1] == '\'':
			s.i++
		case b == s.quote:
			s.quote = 0
			s.i++
			return
		}
	}
}

// scanFlow scans flow collections up to the end of the line or of the
// outermost collection.
func (s *nodeScanner) scanFlow(end int) {
	for s.i < end && len(s.flow) > 0 {
		top := &s.flow[len(s.flow)-1]
		b := s.data[s.i]
		switch {
		case isBlankByte(b):
			s.i++
			continue
		case b == '#' && (s.i == 0 || isBlankByte(s.data[s.i-1]) || s.data[s.i-1] == '\n'):
			s.i = end
			return
		case b == '[' || b == '{':
			top.item = true
			s.flow = append(s.flow, flowLevel{kind: b})
			s.inPlain = false
		case b == ']' || b == '}':
			s.endItem(top)
			s.flow = s.flow[:len(s.flow)-1]
			s.inPlain = false
			if len(s.flow) == 0 {
				s.i = end // what may follow (a comment) holds no node
				return
			}
		case b == ',':
			s.endItem(top)
			s.inPlain = false
		case b == ':' && (s.i+1 >= end || isBlankByte(s.data[s.i+1]) || isFlowIndicator(s.data[s.i+1]) || !s.inPlain):
			top.hasPair = true
			s.inPlain = false
		case (b == '\'' || b == '"') && !s.inPlain:
			top.item = true
			s.quote = b
			s.i++
			s.scanQuoted(end)
			if s.quote != 0 {
				return
			}
			continue
		default:
			top.item = true
			s.inPlain = true
		}
		s.i++
	}
}

func isFlowIndicator(c byte) bool { return c == ',' || c == '[' || c == ']' || c == '{' || c == '}' }

// endItem counts the item a ',' or a closing bracket ends: an entry of a
// sequence (plus a pair for "[a: b]", a one-pair mapping) or a pair.
func (s *nodeScanner) endItem(l *flowLevel) {
	if l.item || l.hasPair {
		if l.kind == '[' {
			s.entries++
			if l.hasPair {
				s.pairs++
			}
		} else {
			s.pairs++
		}
	}
	l.item, l.hasPair = false, false
}
