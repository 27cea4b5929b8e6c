// Package yamlbin stores a parsed YAML tree (gopkg.in/yaml.v3 nodes) in a
// compact binary form that loads without YAML parsing, for the profile
// files the TOSCA processor reads again and again (tosca/profiles).
//
// The form keeps what the processor reads: kind, style, tag, anchor,
// alias target, line and column of every node, and the scalar values; it
// drops comments. A scalar value is stored as a span of the source bytes
// (offset and length) wherever the source holds it verbatim, which is
// almost everywhere, and as its own bytes otherwise (folded or escaped
// scalars). So the form is always loaded together with the exact source
// bytes it was made from: the caller keys it by the source's SHA-256, and
// the form records the source's length as a check.
package yamlbin

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"gopkg.in/yaml.v3"
)

const magic = "TYB1"

// Tags stored as one byte; any other tag is stored as text.
var knownTags = []string{"", "!!str", "!!int", "!!float", "!!bool", "!!null", "!!map", "!!seq", "!!merge", "!!timestamp", "!!binary"}

var kinds = []yaml.Kind{yaml.DocumentNode, yaml.SequenceNode, yaml.MappingNode, yaml.ScalarNode, yaml.AliasNode}

// Value modes of a scalar.
const (
	valueSpan    = 0 // offset and length in the source
	valueLiteral = 1 // the bytes follow
)

// Stats describe an encoded tree.
type Stats struct {
	Nodes    int // nodes stored
	Literals int // scalar values not found verbatim in the source
}

// Encode stores the tree under root (a document's top node), parsed from
// src.
func Encode(root *yaml.Node, src []byte) ([]byte, Stats, error) {
	e := encoder{index: map[*yaml.Node]int{}, src: src, lines: lineStarts(src)}
	e.count(root)
	e.uvarint(uint64(len(src)))
	e.uvarint(uint64(e.nodes))
	e.uvarint(uint64(e.children))
	if err := e.node(root); err != nil {
		return nil, Stats{}, err
	}
	return append([]byte(magic), e.buf.Bytes()...), Stats{Nodes: e.nodes, Literals: e.literals}, nil
}

type encoder struct {
	buf      bytes.Buffer
	src      []byte
	lines    []int // offset of each line's start
	index    map[*yaml.Node]int
	next     int
	nodes    int
	children int
	literals int
	line     int
	tmp      [binary.MaxVarintLen64]byte
}

func (e *encoder) count(n *yaml.Node) {
	e.nodes++
	e.children += len(n.Content)
	for _, c := range n.Content {
		e.count(c)
	}
}

func (e *encoder) uvarint(v uint64) { e.buf.Write(binary.AppendUvarint(e.tmp[:0], v)) }
func (e *encoder) varint(v int64)   { e.buf.Write(binary.AppendVarint(e.tmp[:0], v)) }

func (e *encoder) text(s string) {
	e.uvarint(uint64(len(s)))
	e.buf.WriteString(s)
}

func (e *encoder) node(n *yaml.Node) error {
	e.index[n] = e.next
	e.next++
	k := indexOf(kinds, n.Kind)
	if k < 0 {
		return fmt.Errorf("yamlbin: node kind %d at line %d", n.Kind, n.Line)
	}
	e.buf.WriteByte(byte(k))
	e.buf.WriteByte(byte(n.Style))
	if t := indexOf(knownTags, n.Tag); t >= 0 {
		e.uvarint(uint64(t))
	} else {
		e.uvarint(uint64(len(knownTags)))
		e.text(n.Tag)
	}
	e.varint(int64(n.Line - e.line))
	e.line = n.Line
	e.uvarint(uint64(n.Column))
	e.text(n.Anchor)
	switch n.Kind {
	case yaml.ScalarNode:
		e.value(n)
	case yaml.AliasNode:
		target, ok := e.index[n.Alias]
		if !ok {
			return fmt.Errorf("yamlbin: the alias at line %d refers to a node not stored before it", n.Line)
		}
		e.uvarint(uint64(target))
	default:
		e.uvarint(uint64(len(n.Content)))
		for _, c := range n.Content {
			if err := e.node(c); err != nil {
				return err
			}
		}
	}
	return nil
}

// value stores a scalar's value as a span of the source when the source
// holds it verbatim: the first occurrence from the start of the node's
// line, else anywhere.
func (e *encoder) value(n *yaml.Node) {
	if n.Value == "" {
		e.buf.WriteByte(valueSpan)
		e.uvarint(0)
		e.uvarint(0)
		return
	}
	from := len(e.src)
	if n.Line >= 1 && n.Line <= len(e.lines) {
		from = e.lines[n.Line-1]
	}
	at := bytes.Index(e.src[from:], []byte(n.Value))
	if at >= 0 {
		at += from
	} else {
		at = bytes.Index(e.src, []byte(n.Value))
	}
	if at < 0 {
		e.literals++
		e.buf.WriteByte(valueLiteral)
		e.text(n.Value)
		return
	}
	e.buf.WriteByte(valueSpan)
	e.uvarint(uint64(at))
	e.uvarint(uint64(len(n.Value)))
}

func lineStarts(src []byte) []int {
	starts := []int{0}
	for i, b := range src {
		if b == '\n' {
			starts = append(starts, i+1)
		}
	}
	return starts
}

func indexOf[T comparable](list []T, v T) int {
	for i, x := range list {
		if x == v {
			return i
		}
	}
	return -1
}

// Decode rebuilds the tree stored by Encode from enc and the source bytes
// it was made from. Scalar values share one copy of the source.
func Decode(enc, src []byte) (*yaml.Node, error) {
	if !bytes.HasPrefix(enc, []byte(magic)) {
		return nil, errors.New("yamlbin: not an encoded YAML tree")
	}
	d := decoder{enc: enc, pos: len(magic)}
	srcLen, nodes, children := d.uvarint(), d.uvarint(), d.uvarint()
	if d.err != nil || srcLen != uint64(len(src)) || nodes == 0 || nodes > uint64(len(enc)) || children >= nodes {
		return nil, errors.New("yamlbin: the encoded tree does not match its source")
	}
	d.src = string(src)
	d.nodes = make([]yaml.Node, nodes)
	d.content = make([]*yaml.Node, children)
	root := d.node()
	if d.err == nil && (d.next != len(d.nodes) || len(d.content) != 0 || d.pos != len(d.enc)) {
		d.err = errors.New("yamlbin: trailing or missing data")
	}
	if d.err != nil {
		return nil, d.err
	}
	return root, nil
}

type decoder struct {
	enc     []byte
	pos     int
	src     string
	nodes   []yaml.Node
	content []*yaml.Node // not yet handed out
	next    int
	line    int
	err     error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("yamlbin: "+format, args...)
	}
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.enc[d.pos:])
	if n <= 0 {
		d.fail("bad number at %d", d.pos)
		d.pos = len(d.enc)
		return 0
	}
	d.pos += n
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.enc[d.pos:])
	if n <= 0 {
		d.fail("bad number at %d", d.pos)
		d.pos = len(d.enc)
		return 0
	}
	d.pos += n
	return v
}

func (d *decoder) byte() byte {
	if d.pos >= len(d.enc) {
		d.fail("truncated")
		return 0
	}
	b := d.enc[d.pos]
	d.pos++
	return b
}

func (d *decoder) text() string {
	n := d.uvarint()
	if n > uint64(len(d.enc)-d.pos) {
		d.fail("truncated text at %d", d.pos)
		return ""
	}
	s := string(d.enc[d.pos : d.pos+int(n)])
	d.pos += int(n)
	return s
}

func (d *decoder) node() *yaml.Node {
	if d.err != nil || d.next >= len(d.nodes) {
		d.fail("more nodes than announced")
		return nil
	}
	n := &d.nodes[d.next]
	d.next++
	k := int(d.byte())
	if k >= len(kinds) {
		d.fail("bad node kind %d", k)
		return nil
	}
	n.Kind = kinds[k]
	n.Style = yaml.Style(d.byte())
	if t := d.uvarint(); t < uint64(len(knownTags)) {
		n.Tag = knownTags[t]
	} else {
		n.Tag = d.text()
	}
	d.line += int(d.varint())
	n.Line = d.line
	n.Column = int(d.uvarint())
	if d.pos < len(d.enc) && d.enc[d.pos] == 0 {
		d.pos++ // no anchor: the common case, without allocating
	} else {
		n.Anchor = d.text()
	}
	switch n.Kind {
	case yaml.ScalarNode:
		n.Value = d.value()
	case yaml.AliasNode:
		t := d.uvarint()
		if t >= uint64(d.next-1) {
			d.fail("an alias refers forward")
			return nil
		}
		n.Alias = &d.nodes[t]
		n.Value = n.Alias.Anchor
	default:
		c := d.uvarint()
		if c > uint64(len(d.content)) {
			d.fail("more children than announced")
			return nil
		}
		n.Content = d.content[:c:c]
		d.content = d.content[c:]
		for i := range n.Content {
			if n.Content[i] = d.node(); d.err != nil {
				return nil
			}
		}
	}
	return n
}

func (d *decoder) value() string {
	switch d.byte() {
	case valueSpan:
		at, n := d.uvarint(), d.uvarint()
		if at > uint64(len(d.src)) || n > uint64(len(d.src))-at {
			d.fail("a value outside the source")
			return ""
		}
		return d.src[at : at+n]
	case valueLiteral:
		return d.text()
	}
	d.fail("bad value mode")
	return ""
}
