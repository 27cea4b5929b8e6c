package csar

import (
	"strings"
	"time"
)

// Manifest is a parsed SOL 004 manifest file.
type Manifest struct {
	// Metadata is the "metadata:" block, by key as written.
	Metadata     map[string]MetaValue
	HasMetadata  bool
	Entries      []ManifestEntry
	NonManoSets  []NonManoSet
	Signature    []byte // the CMS block, "-----BEGIN CMS-----" to "-----END CMS-----", kept for verification
	SignatureAt  int    // line of BEGIN CMS
	hasNonMano   bool
	nonManoStart int
}

// ManifestEntry is one Source/Algorithm/Hash block.
type ManifestEntry struct {
	Source      string
	External    bool // Source is a URI: reported, never fetched during validation
	Algorithm   string
	Hash        string
	Signature   string // per-artifact signature file (security option 1)
	Certificate string
	Line        int // of Source (or of the block's first line when Source is missing)
	AlgLine     int
	AlgColumn   int
	HashLine    int
	HashColumn  int
	hasAlg      bool
	hasHash     bool
	hasSource   bool
}

// NonManoSet is one entry of non_mano_artifact_sets.
type NonManoSet struct {
	ID      string
	Sources []string
	Line    int
}

// Metadata keys SOL 004 defines for VNF packages, and the optional ones
// later versions added.
var (
	manifestVNFKeys      = []string{"vnf_provider_id", "vnf_product_name", "vnf_release_date_time", "vnf_package_version"}
	manifestOptionalKeys = []string{"vnfd_id", "compatible_specification_versions"}
)

const (
	beginCMS = "-----BEGIN CMS-----"
	endCMS   = "-----END CMS-----"
)

var manifestEntryKeys = []string{"Source", "Algorithm", "Hash", "Signature", "Certificate"}

// ParseManifest parses manifest text, collecting every problem. Checks
// that need the package (does Source exist, does the hash match) are made
// by the verifier, not here.
func ParseManifest(data []byte, file string) (*Manifest, []Problem) {
	m := &Manifest{Metadata: map[string]MetaValue{}}
	var problems []Problem
	add := func(sev Severity, code string, l, c int, f string, a ...any) {
		problems = append(problems, problemAt(sev, code, file, l, c, f, a...))
	}

	const (
		top = iota
		inMetadata
		inEntry
		inNonMano
		inSignature
		afterSignature
	)
	state := top
	var entry *ManifestEntry
	var set *NonManoSet
	var sig strings.Builder
	seenKeys := map[string]int{}

	endEntry := func() {
		if entry == nil {
			return
		}
		checkEntry(entry, file, &problems)
		m.Entries = append(m.Entries, *entry)
		entry = nil
	}

	for _, l := range splitLines(data) {
		text := strings.TrimSpace(l.text)
		switch state {
		case inSignature:
			sig.WriteString(l.text)
			sig.WriteByte('\n')
			if text == endCMS {
				m.Signature = []byte(sig.String())
				state = afterSignature
			}
			continue
		case afterSignature:
			if text != "" {
				add(SeverityError, CodeManifestSignatureSyntax, l.no, 1, "text after the end of the CMS signature")
			}
			continue
		}
		if text == beginCMS {
			endEntry()
			state = inSignature
			m.SignatureAt = l.no
			sig.WriteString(l.text)
			sig.WriteByte('\n')
			continue
		}
		if text == "" {
			if state == inEntry {
				endEntry()
			}
			if state != inNonMano {
				state = top
			}
			continue
		}
		if strings.HasPrefix(text, "#") {
			continue
		}
		f, ok := parseField(l)
		if !ok {
			add(SeverityError, CodeManifestSyntax, l.no, 1, "line is not \"key: value\": %q", truncate(l.text))
			continue
		}

		if state == inNonMano {
			switch {
			case f.Indent == 0 && f.Value == "" && f.Key != "Source":
				// A top-level key ends the section.
				state = top
			case f.Value == "" && f.Key != "Source":
				m.NonManoSets = append(m.NonManoSets, NonManoSet{ID: f.Key, Line: f.Line})
				set = &m.NonManoSets[len(m.NonManoSets)-1]
				continue
			case f.Key == "Source" && set != nil:
				set.Sources = append(set.Sources, f.Value)
				continue
			default:
				add(SeverityError, CodeManifestNonManoSetSyntax, f.Line, 1, "unexpected %q in non_mano_artifact_sets: expected a set name or Source", f.Key)
				continue
			}
		}

		if state == top {
			switch {
			case f.Key == "metadata" && f.Value == "":
				if m.HasMetadata {
					add(SeverityError, CodeManifestSyntax, f.Line, 1, "a second metadata block")
				}
				m.HasMetadata = true
				state = inMetadata
				continue
			case f.Key == "non_mano_artifact_sets" && f.Value == "":
				if m.hasNonMano {
					add(SeverityError, CodeManifestSyntax, f.Line, 1, "a second non_mano_artifact_sets section")
				}
				m.hasNonMano, m.nonManoStart = true, f.Line
				state = inNonMano
				set = nil
				continue
			default:
				state = inEntry
				entry = &ManifestEntry{Line: f.Line}
				clear(seenKeys)
			}
		}

		switch state {
		case inMetadata:
			if _, dup := m.Metadata[f.Key]; dup {
				add(SeverityError, CodeManifestSyntax, f.Line, 1, "metadata key %s given twice", f.Key)
				continue
			}
			m.Metadata[f.Key] = MetaValue{Value: f.Value, Line: f.Line, Column: f.ValueCol}
		case inEntry:
			key, known := canonicalKey(f.Key, manifestEntryKeys)
			if !known {
				add(SeverityWarning, CodeManifestSyntax, f.Line, 1, "key %q is not defined for a manifest entry; it is ignored", f.Key)
				continue
			}
			if key != f.Key {
				add(SeverityWarning, CodeMetaKeyCase, f.Line, 1, "key %q is spelled %q in the standard; accepted", f.Key, key)
			}
			if prev, dup := seenKeys[key]; dup {
				add(SeverityError, CodeManifestSyntax, f.Line, 1, "%s given twice in one entry (first on line %d)", key, prev)
				continue
			}
			seenKeys[key] = f.Line
			switch key {
			case "Source":
				entry.Source, entry.hasSource = f.Value, true
				entry.External = isURI(f.Value)
			case "Algorithm":
				entry.Algorithm, entry.hasAlg, entry.AlgLine, entry.AlgColumn = f.Value, true, f.Line, f.ValueCol
			case "Hash":
				entry.Hash, entry.hasHash, entry.HashLine, entry.HashColumn = f.Value, true, f.Line, f.ValueCol
			case "Signature":
				entry.Signature = f.Value
			case "Certificate":
				entry.Certificate = f.Value
			}
		}
	}
	endEntry()
	if state == inSignature {
		add(SeverityError, CodeManifestSignatureSyntax, m.SignatureAt, 1, "the CMS signature has no %s line", endCMS)
	}
	problems = append(problems, checkManifestMetadata(m, file)...)
	problems = append(problems, checkDuplicateSources(m, file)...)
	return m, problems
}

// checkEntry reports what one block lacks. An Algorithm line with no value
// and a block without Algorithm are different mistakes with their own codes.
func checkEntry(e *ManifestEntry, file string, problems *[]Problem) {
	add := func(code string, l, c int, f string, a ...any) {
		*problems = append(*problems, problemAt(SeverityError, code, file, l, c, f, a...))
	}
	name := e.Source
	if !e.hasSource || e.Source == "" {
		add(CodeManifestSourceMissing, e.Line, 1, "a manifest entry has no Source")
		name = "(no source)"
	}
	switch {
	case !e.hasAlg:
		add(CodeManifestAlgorithmMissing, e.Line, 1, "the entry of %s has no Algorithm", name)
	case e.Algorithm == "":
		add(CodeManifestAlgorithmEmpty, e.AlgLine, e.AlgColumn, "the Algorithm of %s is empty", name)
	}
	switch {
	case !e.hasHash:
		add(CodeManifestHashMissing, e.Line, 1, "the entry of %s has no Hash", name)
	case e.Hash == "":
		add(CodeManifestHashEmpty, e.HashLine, e.HashColumn, "the Hash of %s is empty", name)
	}
}

func checkManifestMetadata(m *Manifest, file string) []Problem {
	var out []Problem
	if !m.HasMetadata {
		return []Problem{problemAt(SeverityWarning, CodeManifestMetadataMissing, file, 1, 1,
			"the manifest has no metadata block (SOL 004 asks for vnf_provider_id, vnf_product_name, vnf_release_date_time, vnf_package_version)")}
	}
	for _, k := range manifestVNFKeys {
		if v, ok := m.Metadata[k]; !ok || v.Value == "" {
			out = append(out, problemAt(SeverityWarning, CodeManifestMetadataKey, file, 1, 1, "the metadata block has no %s", k))
		}
	}
	if v, ok := m.Metadata["vnf_release_date_time"]; ok && v.Value != "" {
		if _, err := time.Parse(time.RFC3339, v.Value); err != nil {
			out = append(out, problemAt(SeverityWarning, CodeManifestMetadataKey, file, v.Line, v.Column,
				"vnf_release_date_time %q is not an RFC 3339 date-time", v.Value))
		}
	}
	for k, v := range m.Metadata {
		if !oneOf(k, manifestVNFKeys...) && !oneOf(k, manifestOptionalKeys...) {
			out = append(out, problemAt(SeverityWarning, CodeManifestMetadataKey, file, v.Line, 1, "metadata key %q is not defined for VNF packages", k))
		}
	}
	return out
}

func checkDuplicateSources(m *Manifest, file string) []Problem {
	var out []Problem
	first := map[string]int{}
	for _, e := range m.Entries {
		if e.Source == "" {
			continue
		}
		if l, dup := first[e.Source]; dup {
			out = append(out, problemAt(SeverityError, CodeManifestSourceDuplicate, file, e.Line, 1, "%s is listed again (first on line %d)", e.Source, l))
			continue
		}
		first[e.Source] = e.Line
	}
	return out
}

// isURI tells an external artifact ("https://...") from a package path.
func isURI(s string) bool {
	i := strings.Index(s, "://")
	if i <= 0 {
		return false
	}
	for _, r := range s[:i] {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}
