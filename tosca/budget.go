package tosca

import "fmt"

// The package budget: a bound over everything one Process call parses, on
// top of the per-file limits. Without it a package whose VNFD imports 63
// files just under the per-file limits (8 MB, 1M nodes each) drives one
// Process call to ~6 GB: each file is parsed whole by yaml.v3 (~170 bytes
// a node) before anything can look at it, and every parsed file stays
// referenced until the end of the call. Bytes are checked from the file's
// size before it is read, nodes from a scan of its bytes (scanNodes)
// before it is parsed, and again with the exact count (aliases expanded)
// once it is parsed. The first file that does not fit ends the reading:
// the package is refused with one problem naming that file, the totals and
// the budget, and the later phases do not run.

// budget is what one Process call has parsed so far.
type budget struct {
	files  int
	bytes  int64
	nodes  int
	over   bool // a file did not fit: nothing more is read
	limits Limits
}

// admitBytes reports whether a file of size bytes may be read; when it
// may not, the problem is recorded once.
func (p *processor) admitBytes(name string, size int64) bool {
	b := &p.budget
	if b.over {
		return false
	}
	if size <= b.limits.MaxTotalBytes-b.bytes {
		return true
	}
	b.over = true
	p.errorf(CodeBudgetBytes, Position{File: name},
		"%q has %d bytes, which would bring the YAML parsed for this package to %d bytes, over the budget of %d bytes; %s",
		name, size, satAdd64(b.bytes, size), b.limits.MaxTotalBytes, b.soFar())
	return false
}

// admitNodes reports whether a file whose bytes hold nodes YAML nodes may
// be parsed; when it may not, the problem is recorded once.
func (p *processor) admitNodes(name string, nodes int) bool {
	b := &p.budget
	if b.over {
		return false
	}
	if nodes <= b.limits.MaxTotalNodes-b.nodes {
		return true
	}
	b.over = true
	p.errorf(CodeBudgetNodes, Position{File: name},
		"%q holds %d YAML nodes, which would bring the YAML parsed for this package to %d nodes, over the budget of %d nodes; %s",
		name, nodes, satAdd(b.nodes, nodes), b.limits.MaxTotalNodes, b.soFar())
	return false
}

// charge records a parsed file. Its exact node count (aliases expanded)
// may exceed the scan's (aliases once): the file is then refused too.
func (p *processor) charge(name string, size int64, nodes int) bool {
	b := &p.budget
	if !p.admitNodes(name, nodes) {
		return false
	}
	b.files++
	b.bytes += size
	b.nodes += nodes
	return true
}

func (b *budget) soFar() string {
	return fmt.Sprintf("the %d files parsed before it hold %d bytes and %d YAML nodes (budget: %d bytes, %d nodes)",
		b.files, b.bytes, b.nodes, b.limits.MaxTotalBytes, b.limits.MaxTotalNodes)
}

func satAdd64(a, b int64) int64 {
	const max = 1 << 62
	if a > max-b {
		return max
	}
	return a + b
}
