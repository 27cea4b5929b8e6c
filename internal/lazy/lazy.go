// Package lazy builds package-level tables and compiled expressions on
// their first use instead of at process start.
//
// Every program that links a package pays for its initialisers, including
// `vnfpkgm help`, which reads no TOSCA and opens no archive (issue 14: the
// command-line client starts in under 2 ms). A map literal or a
// regexp.MustCompile at package level runs before main; a lazy.Value whose
// Build is a function literal is laid out by the linker instead, so
// declaring one costs nothing at start-up:
//
//	var versionRE = &lazy.Value[*regexp.Regexp]{Build: func() *regexp.Regexp {
//		return regexp.MustCompile(`^[0-9]+$`)
//	}}
//
// cmd/vnfpkgm's TestHelpRunsNoPackageInitWork holds the packages the CLI
// links to that, from GODEBUG=inittrace=1.
package lazy

import "sync"

// Value is built by Build on the first Get; concurrent Gets wait for it.
type Value[T any] struct {
	once  sync.Once
	Build func() T
	v     T
}

// Get returns the value, building it on the first call.
func (l *Value[T]) Get() T {
	l.once.Do(func() { l.v = l.Build() })
	return l.v
}
