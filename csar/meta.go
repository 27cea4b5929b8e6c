package csar

import (
	"strings"
)

// MetaPath is where SOL 004 and the TOSCA CSAR format put TOSCA.meta.
const MetaPath = "TOSCA-Metadata/TOSCA.meta"

// Canonical TOSCA.meta keys of the first block (TOSCA CSAR format, SOL 004).
const (
	KeyMetaFileVersion  = "TOSCA-Meta-File-Version"
	KeyCSARVersion      = "CSAR-Version"
	KeyCreatedBy        = "Created-By"
	KeyEntryDefinitions = "Entry-Definitions"
	KeyOtherDefinitions = "Other-Definitions"
	KeyEntryManifest    = "ETSI-Entry-Manifest"
	KeyEntryChangeLog   = "ETSI-Entry-Change-Log"
	KeyEntryLicenses    = "ETSI-Entry-Licenses"
	KeyEntryCertificate = "ETSI-Entry-Certificate"
	KeyEntryTests       = "ETSI-Entry-Tests"
)

var metaBlock0Keys = []string{
	KeyMetaFileVersion, KeyCSARVersion, KeyCreatedBy, KeyEntryDefinitions, KeyOtherDefinitions,
	KeyEntryManifest, KeyEntryChangeLog, KeyEntryLicenses, KeyEntryCertificate, KeyEntryTests,
}

// Canonical keys of the file blocks that follow the first one.
const (
	KeyName        = "Name"
	KeyContentType = "Content-Type"
	KeyAlgorithm   = "Algorithm"
	KeyHash        = "Hash"
)

var metaFileKeys = []string{KeyName, KeyContentType, KeyAlgorithm, KeyHash}

// Meta is a parsed TOSCA.meta.
type Meta struct {
	Values map[string]MetaValue // first block, by canonical key
	Files  []MetaFileBlock      // the blocks that describe files
}

// MetaValue is one key of the first block with where it was written.
type MetaValue struct {
	Value  string
	Line   int
	Column int
}

// Get returns the value of a canonical first-block key ("" when absent).
func (m *Meta) Get(key string) string { return m.Values[key].Value }

// MetaFileBlock is a Name/Content-Type/Algorithm/Hash block.
type MetaFileBlock struct {
	Name        string
	External    bool // Name is a URI (Tacker's extension): reported, never fetched
	ContentType string
	Algorithm   string
	Hash        string
	Line        int // of the Name key
	HashLine    int
	HashColumn  int
}

// canonicalKey matches a key case-insensitively against the known ones.
func canonicalKey(key string, known []string) (string, bool) {
	for _, k := range known {
		if strings.EqualFold(k, key) {
			return k, true
		}
	}
	return "", false
}

// ParseMeta parses TOSCA.meta text. It never stops at the first problem;
// file is used to locate problems. Keys match case-insensitively (every
// Tacker sample writes Created-by); a spelling other than the standard's
// is accepted with a warning.
func ParseMeta(data []byte, file string) (*Meta, []Problem) {
	m := &Meta{Values: map[string]MetaValue{}}
	var problems []Problem
	warn := func(code string, l, c int, f string, a ...any) {
		problems = append(problems, problemAt(SeverityWarning, code, file, l, c, f, a...))
	}
	fail := func(code string, l, c int, f string, a ...any) {
		problems = append(problems, problemAt(SeverityError, code, file, l, c, f, a...))
	}

	var blocks [][]field
	var cur []field
	for _, l := range splitLines(data) {
		if isBlank(l.text) {
			if cur != nil {
				blocks = append(blocks, cur)
				cur = nil
			}
			continue
		}
		if strings.HasPrefix(strings.TrimSpace(l.text), "#") {
			continue
		}
		f, ok := parseField(l)
		if !ok {
			fail(CodeMetaSyntax, l.no, 1, "line is not \"Key: value\": %q", truncate(l.text))
			continue
		}
		cur = append(cur, f)
	}
	if cur != nil {
		blocks = append(blocks, cur)
	}
	if len(blocks) == 0 {
		fail(CodeMetaKeyMissing, 1, 1, "TOSCA.meta is empty")
		return m, problems
	}

	for _, f := range blocks[0] {
		key, known := canonicalKey(f.Key, metaBlock0Keys)
		if !known {
			warn(CodeMetaKeyUnknown, f.Line, 1, "key %q is not defined by TOSCA or SOL 004; it is ignored", f.Key)
			continue
		}
		if key != f.Key {
			warn(CodeMetaKeyCase, f.Line, 1, "key %q is spelled %q in the standard; accepted", f.Key, key)
		}
		if prev, dup := m.Values[key]; dup {
			fail(CodeMetaKeyDuplicate, f.Line, 1, "key %s given again (first on line %d)", key, prev.Line)
			continue
		}
		m.Values[key] = MetaValue{Value: f.Value, Line: f.Line, Column: f.ValueCol}
	}
	first := blocks[0][0]
	if k, _ := canonicalKey(first.Key, metaBlock0Keys); k != KeyMetaFileVersion {
		warn(CodeMetaSyntax, first.Line, 1, "TOSCA.meta should start with %s", KeyMetaFileVersion)
	}
	for _, key := range []string{KeyMetaFileVersion, KeyCSARVersion, KeyCreatedBy} {
		if v, ok := m.Values[key]; !ok {
			fail(CodeMetaKeyMissing, 1, 1, "the first block has no %s key", key)
		} else if v.Value == "" {
			fail(CodeMetaKeyMissing, v.Line, v.Column, "%s has no value", key)
		}
	}
	if v, ok := m.Values[KeyMetaFileVersion]; ok && v.Value != "" && !oneOf(v.Value, "1.0", "1.1") {
		warn(CodeMetaVersion, v.Line, v.Column, "%s %q is not one this reader knows (1.0, 1.1)", KeyMetaFileVersion, v.Value)
	}
	if v, ok := m.Values[KeyCSARVersion]; ok && v.Value != "" && !oneOf(v.Value, "1.0", "1.1") {
		warn(CodeMetaVersion, v.Line, v.Column, "%s %q is not one this reader knows (1.0, 1.1)", KeyCSARVersion, v.Value)
	}
	if v, ok := m.Values[KeyEntryDefinitions]; !ok || v.Value == "" {
		line := 1
		if ok {
			line = v.Line
		}
		fail(CodeEntryDefinitionsMissing, line, 1, "TOSCA.meta has no Entry-Definitions: the package's main service template is unknown")
	}

	for _, block := range blocks[1:] {
		fb := MetaFileBlock{Line: block[0].Line}
		seen := map[string]int{}
		for _, f := range block {
			key, known := canonicalKey(f.Key, metaFileKeys)
			if !known {
				warn(CodeMetaKeyUnknown, f.Line, 1, "key %q is not defined for a file block; it is ignored", f.Key)
				continue
			}
			if key != f.Key {
				warn(CodeMetaKeyCase, f.Line, 1, "key %q is spelled %q in the standard; accepted", f.Key, key)
			}
			if prev, dup := seen[key]; dup {
				fail(CodeMetaKeyDuplicate, f.Line, 1, "key %s given again in this block (first on line %d)", key, prev)
				continue
			}
			seen[key] = f.Line
			switch key {
			case KeyName:
				fb.Name, fb.Line, fb.External = f.Value, f.Line, isURI(f.Value)
			case KeyContentType:
				fb.ContentType = f.Value
			case KeyAlgorithm:
				fb.Algorithm = f.Value
			case KeyHash:
				fb.Hash, fb.HashLine, fb.HashColumn = f.Value, f.Line, f.ValueCol
			}
		}
		if fb.Name == "" {
			fail(CodeMetaFileBlockName, block[0].Line, 1, "a file block has no Name")
			continue
		}
		if (fb.Algorithm == "") != (fb.Hash == "") {
			fail(CodeMetaFileBlockIncomplete, fb.Line, 1, "the block of %s has an Algorithm or a Hash but not both", fb.Name)
		}
		m.Files = append(m.Files, fb)
	}
	return m, problems
}

func oneOf(s string, options ...string) bool {
	for _, o := range options {
		if s == o {
			return true
		}
	}
	return false
}

// truncate shortens text quoted in a message.
func truncate(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}
