// Package version says which build of vnfpkgm is running: the module
// version and the VCS commit it was built from, for `vnfpkgm version`,
// `vnfpkgm --version` and `vnfpkgmd --version`.
//
// The commit comes from the linker when the build sets it (the Makefile
// does: -X with `git rev-parse HEAD`), else from the VCS stamp the go
// command embeds (runtime/debug.ReadBuildInfo: vcs.revision,
// vcs.modified). The linker values come first because the go command
// stamps nothing in a linked git worktree (golang/go#58218: it only
// recognises a .git directory) and, in a worktree nested in another
// checkout, stamps that checkout's commit instead.
package version

import (
	"fmt"
	"runtime/debug"
	"strings"
)

// Set by the linker (-ldflags "-X github.com/vnfpkgm/vnfpkgm/internal/version.commit=...").
var (
	commit   string // the full commit hash
	modified string // "true" when the work tree had uncommitted changes
)

// Info is what is known about the running build.
type Info struct {
	Module    string // module path
	Version   string // module version ("(devel)" for a build from a work tree)
	Commit    string // VCS commit, "" when unknown
	Modified  bool   // built from a work tree with uncommitted changes
	Time      string // commit time (RFC 3339), when the go command stamped it
	GoVersion string
}

// Read returns the Info of the running binary.
func Read() Info {
	bi, _ := debug.ReadBuildInfo()
	return fromBuild(bi, commit, modified)
}

// fromBuild combines the build information with the linker's values.
func fromBuild(bi *debug.BuildInfo, ldCommit, ldModified string) Info {
	var in Info
	if bi != nil {
		in.Module, in.Version, in.GoVersion = bi.Main.Path, bi.Main.Version, bi.GoVersion
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				in.Commit = s.Value
			case "vcs.modified":
				in.Modified = s.Value == "true"
			case "vcs.time":
				in.Time = s.Value
			}
		}
	}
	if ldCommit != "" {
		in.Commit, in.Modified, in.Time = ldCommit, ldModified == "true", ""
	}
	return in
}

// String is the text the --version options print: one "key: value" line
// each, so that scripts can pick a line.
func (in Info) String(program string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", program, orUnknown(in.Version))
	fmt.Fprintf(&b, "module: %s\n", orUnknown(in.Module))
	switch {
	case in.Commit == "":
		b.WriteString("commit: unknown (built without VCS information)\n")
	case in.Modified:
		fmt.Fprintf(&b, "commit: %s (modified: built with uncommitted changes)\n", in.Commit)
	default:
		fmt.Fprintf(&b, "commit: %s\n", in.Commit)
	}
	if in.Time != "" {
		fmt.Fprintf(&b, "commit-time: %s\n", in.Time)
	}
	fmt.Fprintf(&b, "go: %s\n", orUnknown(in.GoVersion))
	return b.String()
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
