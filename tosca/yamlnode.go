package tosca

import (
	"iter"
	"strconv"

	"gopkg.in/yaml.v3"
)

// Helpers over yaml.v3 nodes. Every phase reads the node tree through these
// so aliases and merge keys ("<<") behave the same everywhere. Nodes are
// never modified: a parsed file may be shared by concurrent Process calls
// through the file cache.

const (
	tagNull      = "!!null"
	tagStr       = "!!str"
	tagInt       = "!!int"
	tagFloat     = "!!float"
	tagBool      = "!!bool"
	tagTimestamp = "!!timestamp"
	tagMerge     = "!!merge"
)

// deref follows aliases to the node they stand for.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 64; i++ {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.AliasNode {
		return nil // an alias chain that does not end: the reader refuses it earlier
	}
	return n
}

func isMapping(n *yaml.Node) bool  { n = deref(n); return n != nil && n.Kind == yaml.MappingNode }
func isSequence(n *yaml.Node) bool { n = deref(n); return n != nil && n.Kind == yaml.SequenceNode }
func isScalar(n *yaml.Node) bool   { n = deref(n); return n != nil && n.Kind == yaml.ScalarNode }

// isNull reports whether n is absent or a YAML null.
func isNull(n *yaml.Node) bool {
	n = deref(n)
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == tagNull)
}

// isString reports whether n is a scalar resolved as a string.
func isString(n *yaml.Node) bool {
	n = deref(n)
	return n != nil && n.Kind == yaml.ScalarNode && n.Tag == tagStr
}

// entries iterates over the key/value pairs of a mapping node, merge keys
// included: entries written in the mapping come first, then merged ones
// whose key the mapping does not set itself (YAML merge semantics).
func entries(n *yaml.Node) iter.Seq2[*yaml.Node, *yaml.Node] {
	return func(yield func(k, v *yaml.Node) bool) {
		n = deref(n)
		if n == nil || n.Kind != yaml.MappingNode {
			return
		}
		hasMerge := false
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Tag == tagMerge {
				hasMerge = true
				continue
			}
			if !yield(k, n.Content[i+1]) {
				return
			}
		}
		if !hasMerge {
			return
		}
		own := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			own[n.Content[i].Value] = true
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Tag != tagMerge {
				continue
			}
			src := deref(n.Content[i+1])
			var maps []*yaml.Node
			switch {
			case src == nil:
			case src.Kind == yaml.MappingNode:
				maps = []*yaml.Node{src}
			case src.Kind == yaml.SequenceNode:
				maps = src.Content
			}
			for _, m := range maps {
				m = deref(m)
				if m == nil || m.Kind != yaml.MappingNode || m == n {
					continue
				}
				for mk, mv := range entries(m) {
					if own[mk.Value] {
						continue
					}
					own[mk.Value] = true
					if !yield(mk, mv) {
						return
					}
				}
			}
		}
	}
}

// mapLen counts the entries of a mapping (merge keys expanded).
func mapLen(n *yaml.Node) int {
	c := 0
	for range entries(n) {
		c++
	}
	return c
}

// lookupKey returns the value of key in a mapping node, nil if absent.
func lookupKey(n *yaml.Node, key string) *yaml.Node {
	for k, v := range entries(n) {
		if k.Value == key {
			return v
		}
	}
	return nil
}

// items returns the entries of a sequence node (aliases not followed).
func items(n *yaml.Node) []*yaml.Node {
	n = deref(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	return n.Content
}

// posOf is the position of n in file.
func posOf(file string, n *yaml.Node) Position {
	if n == nil {
		return Position{File: file}
	}
	return Position{File: file, Line: n.Line, Column: n.Column}
}

// describeNode names a node's shape for messages: "a mapping", "a list",
// "the string \"x\"", "the integer 5".
func describeNode(n *yaml.Node) string {
	n = deref(n)
	if n == nil {
		return "nothing"
	}
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.Tag {
		case tagNull:
			return "null"
		case tagStr:
			return strconv.Quote(n.Value)
		case tagInt:
			return "the integer " + n.Value
		case tagFloat:
			return "the float " + n.Value
		case tagBool:
			return "the boolean " + n.Value
		case tagTimestamp:
			return "the timestamp " + n.Value
		}
		return strconv.Quote(n.Value)
	}
	return "an unknown node"
}

// sameNode compares two trees by content, ignoring positions, comments and
// style: two copies of the same definition from two files are the same.
func sameNode(a, b *yaml.Node) bool {
	return sameNodeDepth(a, b, 0)
}

func sameNodeDepth(a, b *yaml.Node, depth int) bool {
	a, b = deref(a), deref(b)
	if a == nil || b == nil {
		return a == b
	}
	if depth > 200 {
		return false
	}
	if a.Kind != b.Kind {
		return false
	}
	switch a.Kind {
	case yaml.ScalarNode:
		return a.Tag == b.Tag && a.Value == b.Value
	case yaml.SequenceNode:
		if len(a.Content) != len(b.Content) {
			return false
		}
		for i := range a.Content {
			if !sameNodeDepth(a.Content[i], b.Content[i], depth+1) {
				return false
			}
		}
		return true
	case yaml.MappingNode:
		bm := make(map[string]*yaml.Node, len(b.Content)/2)
		for k, v := range entries(b) {
			bm[k.Value] = v
		}
		n := 0
		for k, v := range entries(a) {
			n++
			w := bm[k.Value]
			if w == nil || !sameNodeDepth(v, w, depth+1) {
				return false
			}
		}
		return n == len(bm)
	}
	return false
}

// plain converts a node to plain Go data (nil, bool, int64, float64,
// string, []any, map[string]any) without type checking: scalars keep their
// YAML resolution, anything unparsable stays a string.
func plain(n *yaml.Node) any {
	return plainDepth(n, 0)
}

func plainDepth(n *yaml.Node, depth int) any {
	n = deref(n)
	if n == nil || depth > 200 {
		return nil
	}
	switch n.Kind {
	case yaml.ScalarNode:
		return plainScalar(n)
	case yaml.SequenceNode:
		out := make([]any, len(n.Content))
		for i, c := range n.Content {
			out[i] = plainDepth(c, depth+1)
		}
		return out
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		for k, v := range entries(n) {
			out[k.Value] = plainDepth(v, depth+1)
		}
		return out
	}
	return nil
}

func plainScalar(n *yaml.Node) any {
	switch n.Tag {
	case tagNull:
		return nil
	case tagBool:
		if b, ok := parseBool(n.Value); ok {
			return b
		}
	case tagInt:
		if i, err := parseInt(n.Value); err == nil {
			return i
		}
	case tagFloat:
		if f, err := parseFloat(n.Value); err == nil {
			return f
		}
	}
	return n.Value
}
