package csar

import (
	"context"
	"fmt"
	"io/fs"
	"runtime"
	"sort"
	"sync"

	"github.com/vnfpkgm/vnfpkgm/csar/digest"
)

// DigestCheck is one declared digest of a package file: from the manifest,
// a TOSCA.meta file block, or (added by the caller) a VDU's sw_image_data.
type DigestCheck struct {
	Path      string // package file to hash
	Algorithm string
	Expected  string // hex
	// What the expectation is, for messages: "manifest hash of Scripts/install.sh".
	What string
	// Where it was declared; a mismatch is reported there.
	DeclaredIn   string
	Line, Column int
	MismatchCode string
}

// DigestChecks lists the digests the package declares: every manifest
// entry of a package file with a known algorithm and a well-formed hash,
// and every TOSCA.meta file block with Algorithm and Hash.
func (p *Package) DigestChecks() []DigestCheck {
	var out []DigestCheck
	if m := p.Manifest; m != nil {
		for _, e := range m.Entries {
			if e.External || e.Source == "" || e.Algorithm == "" || e.Hash == "" {
				continue
			}
			src, ok := p.packagePath(e.Source)
			if !ok || !p.files[src] {
				continue
			}
			if err := digest.Validate(digest.Want{Algorithm: e.Algorithm, Expected: e.Hash}); err != nil {
				continue // reported by Inspect
			}
			out = append(out, DigestCheck{
				Path: src, Algorithm: e.Algorithm, Expected: e.Hash,
				What:       "manifest hash of " + src,
				DeclaredIn: p.ManifestPath, Line: e.HashLine, Column: e.HashColumn,
				MismatchCode: CodeManifestHashMismatch,
			})
		}
	}
	if p.Meta != nil {
		for _, fb := range p.Meta.Files {
			if fb.External || fb.Algorithm == "" || fb.Hash == "" {
				continue
			}
			name, ok := p.packagePath(fb.Name)
			if !ok || !p.files[name] {
				continue
			}
			if err := digest.Validate(digest.Want{Algorithm: fb.Algorithm, Expected: fb.Hash}); err != nil {
				p.add(SeverityError, CodeManifestHashMalformed, MetaPath, fb.HashLine, fb.HashColumn, "the Hash of %s in TOSCA.meta is not a %s digest: %v", fb.Name, fb.Algorithm, err)
				continue
			}
			out = append(out, DigestCheck{
				Path: name, Algorithm: fb.Algorithm, Expected: fb.Hash,
				What:       "TOSCA.meta hash of " + name,
				DeclaredIn: MetaPath, Line: fb.HashLine, Column: fb.HashColumn,
				MismatchCode: CodeMetaFileBlockHashMismatch,
			})
		}
	}
	return out
}

// DigestOutcome is the result of one DigestCheck.
type DigestOutcome struct {
	Check    DigestCheck
	Computed string // lowercase hex; "" when the file could not be read
	Match    bool
	Err      error
	// Known is true when the digest came from a KnownDigests instead of
	// a read of the file.
	Known bool
}

// VerifyDigests hashes each file named by checks exactly once, computing
// every algorithm asked of it in that one read, with up to workers files
// in flight (0: one per CPU). It returns one outcome per check, in order,
// and the problems: mismatches at the declaration, unreadable files at the
// file.
func VerifyDigests(ctx context.Context, fsys fs.FS, checks []DigestCheck, workers int) ([]DigestOutcome, []Problem) {
	return VerifyDigestsUsing(ctx, fsys, checks, workers, nil)
}

// VerifyDigestsUsing is VerifyDigests taking the digests known supplies
// (computed while the package streamed in) instead of computing them: a
// file is read only for the algorithms known lacks, and not at all when
// it has them all. known may be nil.
func VerifyDigestsUsing(ctx context.Context, fsys fs.FS, checks []DigestCheck, workers int, known KnownDigests) ([]DigestOutcome, []Problem) {
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	byFile := map[string][]int{}
	var files []string
	for i, c := range checks {
		if _, seen := byFile[c.Path]; !seen {
			files = append(files, c.Path)
		}
		byFile[c.Path] = append(byFile[c.Path], i)
	}
	outcomes := make([]DigestOutcome, len(checks))
	for i, c := range checks {
		outcomes[i].Check = c
	}

	jobs := make(chan string)
	var wg sync.WaitGroup
	for w := 0; w < workers && w < len(files); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for name := range jobs {
				idx := fromKnown(known, name, byFile[name], outcomes)
				if len(idx) > 0 {
					hashFile(ctx, fsys, name, idx, outcomes)
				}
			}
		}()
	}
	for _, f := range files {
		jobs <- f
	}
	close(jobs)
	wg.Wait()

	var problems []Problem
	for _, o := range outcomes {
		c := o.Check
		switch {
		case o.Err != nil:
			problems = append(problems, problemAt(SeverityError, CodeReadError, c.Path, 0, 0, "%s cannot be read to verify its %s: %v", c.Path, c.Algorithm, o.Err))
		case !o.Match:
			problems = append(problems, problemAt(SeverityError, c.MismatchCode, c.DeclaredIn, c.Line, c.Column,
				"%s does not match the file: %s declared %s, computed %s", c.What, c.Algorithm, c.Expected, o.Computed))
		}
	}
	problems = dedupeProblems(problems)
	SortProblems(problems)
	return outcomes, problems
}

// hashFile reads one file once for all the checks (indexes into outcomes)
// that concern it.
func hashFile(ctx context.Context, fsys fs.FS, name string, idx []int, outcomes []DigestOutcome) {
	wants := make([]digest.Want, len(idx))
	for k, i := range idx {
		wants[k] = digest.Want{Algorithm: outcomes[i].Check.Algorithm, Expected: outcomes[i].Check.Expected}
	}
	fail := func(err error) {
		for _, i := range idx {
			outcomes[i].Err = err
		}
	}
	f, err := fsys.Open(name)
	if err != nil {
		fail(err)
		return
	}
	defer f.Close()
	results, _, err := digest.Sum(ctx, f, wants)
	if err != nil {
		fail(err)
		return
	}
	if len(results) != len(wants) {
		fail(fmt.Errorf("digest returned %d results for %d requests", len(results), len(wants)))
		return
	}
	for k, i := range idx {
		outcomes[i].Computed = results[k].Hex
		outcomes[i].Match = results[k].Match
	}
}

// fromKnown fills the outcomes of the checks (indexes into outcomes) that
// known has a digest for, and returns the others.
func fromKnown(known KnownDigests, name string, idx []int, outcomes []DigestOutcome) []int {
	if known == nil {
		return idx
	}
	var missing []int
	for _, i := range idx {
		c := outcomes[i].Check
		a, ok := digest.Lookup(c.Algorithm)
		hex, have := "", false
		if ok {
			hex, have = known.Digest(name, a)
		}
		// Checks carry a well-formed expected value, so its length is the
		// output length; a SHAKE digest streamed at its default length
		// serves any shorter one (XOF output is prefix-stable).
		if !have || len(hex) < len(c.Expected) || (!a.Extendable() && len(hex) != len(c.Expected)) {
			missing = append(missing, i)
			continue
		}
		hex = hex[:len(c.Expected)]
		outcomes[i].Computed, outcomes[i].Match, outcomes[i].Known = hex, digest.Equal(hex, c.Expected), true
	}
	return missing
}

// dedupeProblems drops exact repeats (one unreadable file behind several
// checks is one problem).
func dedupeProblems(ps []Problem) []Problem {
	seen := map[Problem]bool{}
	out := ps[:0]
	for _, p := range ps {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// Verify inspects a package and verifies every digest it declares. The
// problems of both steps are in the returned Package, sorted.
func Verify(ctx context.Context, fsys fs.FS, opts Options) *Package {
	p := Inspect(fsys, opts)
	_, problems := VerifyDigests(ctx, fsys, p.DigestChecks(), 0)
	p.Problems = append(p.Problems, problems...)
	SortProblems(p.Problems)
	return p
}

// SortProblems orders problems by file, line and column.
func SortProblems(ps []Problem) {
	sort.SliceStable(ps, func(i, j int) bool { return lessProblem(ps[i], ps[j]) })
}

func lessProblem(a, b Problem) bool {
	if a.File != b.File {
		return a.File < b.File
	}
	if a.Line != b.Line {
		return a.Line < b.Line
	}
	return a.Column < b.Column
}
