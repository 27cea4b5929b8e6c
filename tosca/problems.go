package tosca

import (
	"fmt"
	"sort"
	"strconv"
)

// Stable problem codes. Clients and tests match on these; never rename one.
const (
	// Reading (phase 1).
	CodeYAMLSyntax      = "tosca-yaml-syntax"
	CodeFileTooLarge    = "tosca-file-too-large"
	CodeTooManyNodes    = "tosca-too-many-nodes"
	CodeTooDeep         = "tosca-too-deep"
	CodeMultiDocument   = "tosca-multi-document"
	CodeNotMapping      = "tosca-not-a-mapping"
	CodeEmptyFile       = "tosca-empty-file"
	CodeDuplicateKey    = "tosca-duplicate-key"
	CodeFileUnreadable  = "tosca-file-unreadable"
	CodeTooManyFiles    = "tosca-too-many-files"
	CodeDefinitionsVers = "tosca-definitions-version"

	// Grammar of any construct.
	CodeUnknownKeyname = "tosca-unknown-keyname"
	CodeMissingKeyname = "tosca-missing-keyname"
	CodeSyntax         = "tosca-syntax"

	// Imports (phase 2).
	CodeImportMissing    = "tosca-import-missing"
	CodeImportOutside    = "tosca-import-outside-package"
	CodeImportUnresolved = "tosca-import-unresolved"
	CodeImportLoop       = "tosca-import-loop"
	CodeImportFallback   = "tosca-import-fallback"
	CodeImportRepository = "tosca-import-repository"

	// Namespaces and hierarchy (phases 3 and 4).
	CodeDuplicateType    = "tosca-duplicate-type"
	CodeUnknownType      = "tosca-unknown-type"
	CodeWrongKind        = "tosca-wrong-kind"
	CodeWrongSection     = "tosca-wrong-section"
	CodeUndeclaredImport = "tosca-undeclared-import"
	CodeImplicitSOL001   = "tosca-implicit-sol001-type"
	CodeDerivationLoop   = "tosca-derivation-loop"

	// Inheritance and values (phases 5 and 6).
	CodeRefinement        = "tosca-refinement"
	CodeTypeMismatch      = "tosca-type-mismatch"
	CodeConstraint        = "tosca-constraint"
	CodeInvalidConstraint = "tosca-invalid-constraint"
	CodeUnknownProperty   = "tosca-unknown-property"
	CodeMissingProperty   = "tosca-missing-property"
	CodeNullValue         = "tosca-null-value"
	CodeLenientValue      = "tosca-lenient-value"
	CodeStatus            = "tosca-status"

	// Templates (phase 7).
	CodeUnknownTemplate    = "tosca-unknown-template"
	CodeUnknownCapability  = "tosca-unknown-capability"
	CodeUnknownRequirement = "tosca-unknown-requirement"
	CodeRequirementTarget  = "tosca-requirement-target"
	CodeOccurrences        = "tosca-occurrences"
	CodeUnknownInterface   = "tosca-unknown-interface"
	CodeUnknownOperation   = "tosca-unknown-operation"
	CodeEmptyOperation     = "tosca-empty-operation"
	CodeArtifactMissing    = "tosca-artifact-missing"
	CodeArtifactOutside    = "tosca-artifact-outside-package"
	CodeInvalidTarget      = "tosca-invalid-target"
	CodeTooManyTemplates   = "tosca-too-many-templates"
	CodeLenientSubstitute  = "tosca-lenient-substitution"
	CodeLenientGroup       = "tosca-lenient-group-property"
	CodeInputDefault       = "tosca-input-default-function"
	CodeUnsupported        = "tosca-unsupported"

	// Functions (phase 8).
	CodeUnknownFunction = "tosca-unknown-function"
	CodeFunctionArgs    = "tosca-function-arguments"
	CodeFunctionTarget  = "tosca-function-target"
	CodeFunctionCycle   = "tosca-function-cycle"
	CodeFunctionContext = "tosca-function-context"

	// What OpenStack Tacker's sample packages need only because
	// tosca-parser never checks it; each is a warning naming the laxity.
	//
	// CodeLenientEmptyMapping: a substitution_mappings requirement or
	// capability written as an empty list (`virtual_link_external: []`);
	// it is taken as not mapped.
	CodeLenientEmptyMapping = "tosca-lenient-empty-mapping"
	// CodeLenientMappingTarget: a substitution_mappings requirement mapped
	// to a node template that the topology does not define; the
	// requirement exposes nothing.
	CodeLenientMappingTarget = "tosca-lenient-mapping-target"
	// CodeLenientFlavourID: the flavour_id that a flavour's
	// substitution_mappings give is not among the valid_values of the VNF
	// node type's flavour_id.
	CodeLenientFlavourID = "tosca-lenient-flavour-id"
	// CodeLenientHostArtifact: an artifact file given as an absolute path,
	// a file on the VNFM host (a management driver), not in the package:
	// it is neither read nor verified.
	CodeLenientHostArtifact = "tosca-lenient-host-artifact"

	// A panic turned into a problem; it is a bug of this package.
	CodeInternal = "tosca-internal"
)

// Package budget (budget.go): the YAML one Process call parses, all files
// together.
const (
	CodeBudgetBytes = "tosca-budget-bytes" // total bytes over Limits.MaxTotalBytes
	CodeBudgetNodes = "tosca-budget-nodes" // total YAML nodes over Limits.MaxTotalNodes
)

// String formats the problem the way compilers do:
// "file:line:column: severity: message [code]".
func (p Problem) String() string {
	loc := p.File
	if p.Line > 0 {
		loc += ":" + strconv.Itoa(p.Line)
		if p.Column > 0 {
			loc += ":" + strconv.Itoa(p.Column)
		}
	}
	if loc == "" {
		return fmt.Sprintf("%s: %s [%s]", p.Severity, p.Message, p.Code)
	}
	return fmt.Sprintf("%s: %s: %s [%s]", loc, p.Severity, p.Message, p.Code)
}

// maxProblems bounds the problems of one Process call: a hostile file
// with a million wrong keys must not make a million problems.
const maxProblems = 1000

// CodeTooManyProblems ends a list of problems cut at maxProblems.
const CodeTooManyProblems = "tosca-too-many-problems"

// problemList collects problems; each phase appends, nothing is thrown.
type problemList struct {
	list     []Problem
	overflow bool
}

func (l *problemList) add(sev Severity, code string, at Position, format string, args ...any) {
	if len(l.list) >= maxProblems {
		l.overflow = true
		return
	}
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	l.list = append(l.list, Problem{Severity: sev, Code: code, File: at.File, Line: at.Line, Column: at.Column, Message: msg})
}

// merge appends problems found earlier (those of a cached file).
func (l *problemList) merge(o problemList) {
	l.addAll(o.list)
	l.overflow = l.overflow || o.overflow
}

func (l *problemList) addAll(ps []Problem) {
	for _, p := range ps {
		if len(l.list) >= maxProblems {
			l.overflow = true
			return
		}
		l.list = append(l.list, p)
	}
}

func (l *problemList) errorf(code string, at Position, format string, args ...any) {
	l.add(SeverityError, code, at, format, args...)
}

func (l *problemList) warnf(code string, at Position, format string, args ...any) {
	l.add(SeverityWarning, code, at, format, args...)
}

// sorted returns the problems ordered by file (in the order files were
// read), line and column, without exact duplicates: the same file reached
// twice, or a shared definition checked from two places, reports once.
func (l *problemList) sorted(fileOrder map[string]int) []Problem {
	out := make([]Problem, 0, len(l.list)+1)
	seen := make(map[Problem]bool, len(l.list))
	for _, p := range l.list {
		if seen[p] {
			continue
		}
		seen[p] = true
		out = append(out, p)
	}
	rank := func(f string) int {
		if r, ok := fileOrder[f]; ok {
			return r
		}
		return len(fileOrder)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if ra, rb := rank(a.File), rank(b.File); ra != rb {
			return ra < rb
		}
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	if l.overflow {
		out = append(out, Problem{Severity: SeverityError, Code: CodeTooManyProblems,
			Message: fmt.Sprintf("more problems were found; only the first %d are reported", maxProblems)})
	}
	return out
}
