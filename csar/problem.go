// Package csar reads and verifies SOL 004 VNF packages (CSARs): it opens a
// stored archive as an fs.FS while refusing hostile archives, parses
// TOSCA.meta and the manifest, and checks every declared digest, collecting
// every problem instead of stopping at the first.
package csar

import "fmt"

// Severity of a Problem.
type Severity string

const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Problem is one finding about a package. Code is stable and
// machine-readable; File is the package path the finding is about (or the
// archive itself when empty); Line and Column are 1-based, 0 when unknown.
// Its fields match tosca.Problem so the two convert into each other.
type Problem struct {
	Severity Severity `json:"severity"`
	Code     string   `json:"code"`
	File     string   `json:"file,omitempty"`
	Line     int      `json:"line,omitempty"`
	Column   int      `json:"column,omitempty"`
	Message  string   `json:"message"`
}

func (p Problem) String() string {
	loc := p.File
	if loc == "" {
		loc = "(archive)"
	}
	if p.Line > 0 {
		loc += fmt.Sprintf(":%d", p.Line)
		if p.Column > 0 {
			loc += fmt.Sprintf(":%d", p.Column)
		}
	}
	return fmt.Sprintf("%s: %s: %s [%s]", loc, p.Severity, p.Message, p.Code)
}

// Stable problem codes. Clients match on these; never rename one.
const (
	// Archive structure (hostile or broken archives).
	CodeArchiveEmpty            = "archive-empty"
	CodeArchiveUnsupported      = "archive-unsupported-format"
	CodeArchiveCorrupt          = "archive-corrupt"
	CodeArchivePathTraversal    = "archive-path-traversal"
	CodeArchiveAbsolutePath     = "archive-absolute-path"
	CodeArchiveInvalidPath      = "archive-invalid-path"
	CodeArchiveLinkEscape       = "archive-link-escape"
	CodeArchiveDuplicateEntry   = "archive-duplicate-entry"
	CodeArchiveTooManyEntries   = "archive-too-many-entries"
	CodeArchiveTooLarge         = "archive-too-large"
	CodeArchiveEntryTooLarge    = "archive-entry-too-large"
	CodeArchiveCompressionRatio = "archive-compression-ratio"
	CodeArchiveExpansionBudget  = "archive-expansion-budget"
	CodeArchiveUnsupportedEntry = "archive-unsupported-entry"

	// TOSCA.meta.
	CodeMetaSyntax                = "meta-syntax"
	CodeMetaTooLarge              = "meta-too-large"
	CodeMetaKeyMissing            = "meta-key-missing"
	CodeMetaKeyCase               = "meta-key-case"
	CodeMetaKeyDuplicate          = "meta-key-duplicate"
	CodeMetaKeyUnknown            = "meta-key-unknown"
	CodeMetaVersion               = "meta-version-unsupported"
	CodeEntryDefinitionsMissing   = "meta-entry-definitions-missing"
	CodeEntryDefinitionsNotFound  = "meta-entry-definitions-not-found"
	CodeEntryManifestMissing      = "meta-entry-manifest-missing"
	CodeEntryManifestExtension    = "meta-entry-manifest-extension"
	CodeEntryManifestNotFound     = "meta-entry-manifest-not-found"
	CodeMetaEntryNotFound         = "meta-entry-not-found"
	CodeMetaFileBlockName         = "meta-file-block-name"
	CodeMetaFileBlockNotFound     = "meta-file-block-not-found"
	CodeMetaFileBlockIncomplete   = "meta-file-block-incomplete"
	CodeMetaFileBlockHashMismatch = "meta-file-block-hash-mismatch"

	// CSAR without TOSCA-Metadata.
	CodeRootYAMLNone          = "root-yaml-missing"
	CodeRootYAMLMultiple      = "root-yaml-multiple"
	CodeRootYAMLMetadata      = "root-yaml-metadata-missing"
	CodeRootManifestName      = "root-manifest-name-mismatch"
	CodeRootManifestMultiple  = "root-manifest-multiple"
	CodeRootManifestMissing   = "root-manifest-missing"
	CodeRootYAMLUnreadable    = "root-yaml-unreadable"
	CodeEntryDefinitionsParse = "entry-definitions-unreadable"

	// Manifest.
	CodeManifestSyntax            = "manifest-syntax"
	CodeManifestTooLarge          = "manifest-too-large"
	CodeManifestMetadataMissing   = "manifest-metadata-missing"
	CodeManifestMetadataKey       = "manifest-metadata-key"
	CodeManifestSourceMissing     = "manifest-source-missing"
	CodeManifestSourceNotFound    = "manifest-source-not-found"
	CodeManifestSourceInvalid     = "manifest-source-invalid"
	CodeManifestSourceDuplicate   = "manifest-source-duplicate"
	CodeManifestAlgorithmMissing  = "manifest-algorithm-missing"
	CodeManifestAlgorithmEmpty    = "manifest-algorithm-empty"
	CodeManifestAlgorithmUnknown  = "manifest-algorithm-unknown"
	CodeManifestHashMissing       = "manifest-hash-missing"
	CodeManifestHashEmpty         = "manifest-hash-empty"
	CodeManifestHashMalformed     = "manifest-hash-malformed"
	CodeManifestHashMismatch      = "manifest-hash-mismatch"
	CodeManifestExternalArtifact  = "manifest-external-artifact"
	CodeManifestFileUnlisted      = "manifest-file-unlisted"
	CodeManifestSignatureSyntax   = "manifest-signature-syntax"
	CodeManifestNonManoSetSyntax  = "manifest-non-mano-set-syntax"
	CodeManifestNonManoSetUnknown = "manifest-non-mano-source-unlisted"

	// I/O while verifying (a file that cannot be read back).
	CodeReadError = "read-error"
)
