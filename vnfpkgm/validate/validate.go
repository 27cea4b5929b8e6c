// Package validate checks a whole VNF package (SOL 004 archive, TOSCA.meta,
// manifest, SOL 001 VNFD, every digest) and reports its facts and every
// problem. It depends only on csar, tosca and tosca/vnfd, so that the CLI's
// `vnfpkgm validate` links neither the server, the database nor echo; the
// server's onboarding uses it too.
package validate

import (
	"context"
	"errors"
	"io"
	"strings"

	"github.com/vnfpkgm/vnfpkgm/csar"
	"github.com/vnfpkgm/vnfpkgm/tosca"
)

// Checksum is SOL 005's Checksum: an algorithm name and a hex digest.
type Checksum struct {
	Algorithm string `json:"algorithm"`
	Hash      string `json:"hash"`
}

// Report is the verdict on one package: the facts found and every
// problem. Facts that depend on the VNFD are absent when it could not be
// processed; nothing is invented.
type Report struct {
	Valid              bool   `json:"valid"`
	VnfdID             string `json:"vnfdId,omitempty"`
	VnfProvider        string `json:"vnfProvider,omitempty"`
	VnfProductName     string `json:"vnfProductName,omitempty"`
	VnfSoftwareVersion string `json:"vnfSoftwareVersion,omitempty"`
	VnfdVersion        string `json:"vnfdVersion,omitempty"`
	// VnfmInfo is the VNFD's vnfm_info: the VNFMs compatible with the VNF.
	VnfmInfo []string `json:"vnfmInfo,omitempty"`
	// CompatibleSpecificationVersions is the manifest's
	// compatible_specification_versions metadata, split at commas.
	CompatibleSpecificationVersions []string              `json:"compatibleSpecificationVersions,omitempty"`
	Flavours                        []ReportFlavour       `json:"flavours,omitempty"`
	SoftwareImages                  []ReportSoftwareImage `json:"softwareImages,omitempty"`
	AdditionalArtifacts             []ReportArtifact      `json:"additionalArtifacts,omitempty"`
	// PackageSecurityOption is OPTION_1 (signed manifest) or OPTION_2
	// (signed package); "" for an unsigned package.
	PackageSecurityOption string `json:"packageSecurityOption,omitempty"`
	// SigningCertificate is the PEM of the verified signer.
	SigningCertificate string         `json:"signingCertificate,omitempty"`
	Problems           []csar.Problem `json:"problems"`

	// EntryDefinitions is the main service template; not part of the JSON
	// contract of `vnfpkgm validate`.
	EntryDefinitions string `json:"-"`
	// DigestsKnown counts the digest checks answered by
	// Options.Precomputed, DigestsRead those that read the file back.
	DigestsKnown, DigestsRead int `json:"-"`
	// SignatureReads counts the artifacts read again for their signature
	// (their digest pass had no digest of the signature's algorithm).
	SignatureReads int `json:"-"`

	// pkg is what csar.Inspect found, for the steps after describe.
	pkg *csar.Package
}

// ReportFlavour is one deployment flavour and its VDUs.
type ReportFlavour struct {
	ID   string      `json:"id"`
	VDUs []ReportVDU `json:"vdus"`
}

// ReportVDU is one VDU of a flavour.
type ReportVDU struct {
	ID            string `json:"id"`
	Name          string `json:"name,omitempty"`
	NumVirtualCPU int    `json:"numVirtualCpu,omitempty"`
	MemoryBytes   int64  `json:"virtualMemoryBytes,omitempty"`
	SoftwareImage string `json:"softwareImage,omitempty"`
	MinInstances  int    `json:"minInstances"`
	MaxInstances  int    `json:"maxInstances"`
	// VirtualStorages are the targets of the VDU's virtual_storage
	// requirements, in their order.
	VirtualStorages []ReportStorage `json:"virtualStorages,omitempty"`
	// Kernel and Initrd are the VDU's boot files (its artifacts named
	// kernel and initrd, vnfd.BootFile).
	Kernel *ReportBootFile `json:"kernel,omitempty"`
	Initrd *ReportBootFile `json:"initrd,omitempty"`
}

// ReportBootFile is a boot file of a VDU: a file of the package (Path),
// or a URL or a file on the VNFM host, which are not in the package
// (URI, or neither).
type ReportBootFile struct {
	Artifact string `json:"artifact"`
	Path     string `json:"path,omitempty"`
	URI      string `json:"uri,omitempty"`
}

// ReportStorage is one virtual storage of a VDU.
type ReportStorage struct {
	ID   string `json:"id"`
	Kind string `json:"kind"` // block, object or file (vnfd.Storage*)
	// SizeBytes is size_of_storage (block, file) or max_size_of_storage (object).
	SizeBytes int64 `json:"sizeOfStorage"`
	// SoftwareImage is the id of the storage's software image, when it
	// has one (the storage node's name, as for a VDU).
	SoftwareImage string `json:"softwareImage,omitempty"`
	// ImageInPackage: the image is delivered with the package (a SwImage
	// artifact), not only described by sw_image_data.
	ImageInPackage bool `json:"imageInPackage,omitempty"`
}

// ReportSoftwareImage is a software image as SOL 005 lists it.
type ReportSoftwareImage struct {
	ID              string   `json:"id"`
	Name            string   `json:"name"`
	Version         string   `json:"version"`
	Provider        string   `json:"provider"`
	Checksum        Checksum `json:"checksum"`
	ContainerFormat string   `json:"containerFormat"`
	DiskFormat      string   `json:"diskFormat"`
	MinDisk         int64    `json:"minDisk"`
	MinRam          int64    `json:"minRam"`
	Size            int64    `json:"size"`
	ImagePath       string   `json:"imagePath,omitempty"`
	ImageURI        string   `json:"imageUri,omitempty"`
}

// ReportArtifact is an additional artifact (neither a software image nor a
// VNFD file) declared with a hash.
type ReportArtifact struct {
	ArtifactPath string   `json:"artifactPath,omitempty"`
	ArtifactURI  string   `json:"artifactURI,omitempty"`
	Checksum     Checksum `json:"checksum"`
	// NonManoArtifactSetID is the manifest's non_mano_artifact_sets entry
	// that lists the artifact; "" for a MANO artifact.
	NonManoArtifactSetID string `json:"nonManoArtifactSetId,omitempty"`
	// ArtifactClassification is HISTORY, TESTING or LICENSE for the
	// files TOSCA.meta names as change log, tests or licenses.
	ArtifactClassification string `json:"artifactClassification,omitempty"`
}

// Options configure Package.
type Options struct {
	Limits csar.Limits
	CSAR   csar.Options
	TOSCA  tosca.Options
	// Precomputed are digests computed while the package streamed in
	// (csar.StreamDigester) from the very bytes r holds. Digest checks
	// they answer (where they provably describe the member: see
	// csar.Archive.Known) read nothing; the others read the file as
	// usual. Nil: every digest is computed from r.
	Precomputed *csar.Precomputed
	// Signatures: the policy and trust store of signature checks.
	Signatures Signatures
}

// Package checks a stored package (r, size bytes) completely: the
// archive, TOSCA.meta, the manifest, the VNFD (TOSCA processing and the
// SOL 001 model) and every digest declared by the manifest, TOSCA.meta and
// the software images' sw_image_data. A refused
// (hostile or broken) archive is an invalid package, not an error; the
// error is for I/O failures and cancellation only.
func Package(ctx context.Context, r io.ReaderAt, size int64, opts Options) (*Report, error) {
	// One index of the archive serves the signed-package detection and
	// the checks (a hostile central directory is not indexed twice).
	a, openErr := csar.Open(ctx, r, size, opts.Limits)
	if rep, signed, err := signedPackage(ctx, a, opts, Package, true); signed {
		return rep, err
	}
	rep, a, checks, err := describe(a, openErr, opts)
	if err != nil || a == nil {
		return rep, err
	}
	// One pass over the files for the manifest's, TOSCA.meta's and the
	// images' digests: a file is read once whatever asks for it.
	var known csar.KnownDigests
	if opts.Precomputed != nil {
		known = a.Known(opts.Precomputed)
	}
	outcomes, digestProblems := csar.VerifyDigestsUsing(ctx, a, checks, 0, known)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, o := range outcomes {
		if o.Known {
			rep.DigestsKnown++
		} else {
			rep.DigestsRead++
		}
	}
	rep.Problems = append(rep.Problems, digestProblems...)
	rep.checkManifestSignature(a, rep.pkg, opts.Signatures)
	rep.checkArtifactSignatures(ctx, a, rep.pkg, outcomes, opts.Signatures)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	csar.SortProblems(rep.Problems)
	rep.Valid = !hasErrors(rep.Problems)
	return rep, nil
}

// Describe reads the facts of a package (structure and VNFD)
// without verifying a single digest, so it reads only the small files: for
// packages already validated at onboarding. Its Valid says only that those
// steps found no error.
func Describe(ctx context.Context, r io.ReaderAt, size int64, opts Options) (*Report, error) {
	a, openErr := csar.Open(ctx, r, size, opts.Limits)
	if rep, signed, err := signedPackage(ctx, a, opts, Describe, false); signed {
		return rep, err
	}
	rep, _, _, err := describe(a, openErr, opts)
	if err != nil {
		return nil, err
	}
	csar.SortProblems(rep.Problems)
	rep.Valid = !hasErrors(rep.Problems)
	return rep, nil
}

// describe inspects the opened archive (a, or the error of opening it)
// and processes its VNFD, and returns the digest checks still to run. A
// refused archive gives a report and a nil archive.
func describe(a *csar.Archive, err error, opts Options) (*Report, *csar.Archive, []csar.DigestCheck, error) {
	rep := &Report{Problems: []csar.Problem{}}
	if err != nil {
		var refused *csar.RefusedError
		if errors.As(err, &refused) {
			rep.Problems = append(rep.Problems, refused.Problems...)
			return rep, nil, nil, nil
		}
		return nil, nil, nil, err
	}
	pkg := csar.Inspect(a, opts.CSAR)
	rep.pkg = pkg
	rep.EntryDefinitions = pkg.EntryDefinitions
	if m := pkg.Manifest; m != nil {
		for _, v := range strings.Split(m.Metadata["compatible_specification_versions"].Value, ",") {
			if v = strings.Trim(strings.TrimSpace(v), `'"`); v != "" {
				rep.CompatibleSpecificationVersions = append(rep.CompatibleSpecificationVersions, v)
			}
		}
	}
	// DigestChecks reports the TOSCA.meta hashes it cannot check (a Hash
	// that is not a digest of its Algorithm) into pkg.Problems: list the
	// checks before taking the problems.
	checks := pkg.DigestChecks()
	rep.Problems = append(rep.Problems, pkg.Problems...)
	if pkg.EntryDefinitions != "" {
		d, problems := processDescriptor(a, pkg.EntryDefinitions, opts.TOSCA)
		rep.Problems = append(rep.Problems, problems...)
		if d.vnfd != nil {
			rep.fillFacts(d.vnfd)
			imgChecks, imgProblems := imageChecks(pkg, d.vnfd)
			checks = append(checks, imgChecks...)
			rep.Problems = append(rep.Problems, imgProblems...)
		}
		rep.AdditionalArtifacts = additionalArtifacts(pkg, d)
	}
	return rep, a, checks, nil
}

func hasErrors(ps []csar.Problem) bool {
	for _, p := range ps {
		if p.Severity == csar.SeverityError {
			return true
		}
	}
	return false
}
