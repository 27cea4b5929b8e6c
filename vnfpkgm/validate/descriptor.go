package validate

import (
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/vnfpkgm/vnfpkgm/csar"
	"github.com/vnfpkgm/vnfpkgm/csar/digest"
	"github.com/vnfpkgm/vnfpkgm/tosca"
	"github.com/vnfpkgm/vnfpkgm/tosca/vnfd"
)

// Problem codes of the software-image checks, which join what the CSAR
// says (files, digests) with what the VNFD says (sw_image_data).
const (
	CodeImageChecksumMismatch = "sw-image-checksum-mismatch"
	CodeImageNotFound         = "sw-image-file-not-found"
	CodeImageAlgorithm        = "sw-image-algorithm-unknown"
	CodeImageHashMalformed    = "sw-image-hash-malformed"
)

// descriptor is the processed VNFD of a package.
type descriptor struct {
	template *tosca.ServiceTemplate
	vnfd     *vnfd.VNFD
}

// processDescriptor runs the TOSCA processor from the package's entry
// definitions and extracts the SOL 001 VNFD.
func processDescriptor(fsys fs.FS, entry string, opts tosca.Options) (*descriptor, []csar.Problem) {
	st := tosca.Process(fsys, entry, opts)
	problems := fromTOSCA(st.Problems)
	d := &descriptor{template: st}
	v, extractProblems := vnfd.Extract(st)
	problems = append(problems, fromTOSCA(extractProblems)...)
	d.vnfd = v
	return d, problems
}

// fromTOSCA converts the processor's problems; the two types carry the
// same fields so reports can mix them.
func fromTOSCA(ps []tosca.Problem) []csar.Problem {
	out := make([]csar.Problem, len(ps))
	for i, p := range ps {
		out[i] = csar.Problem{Severity: csar.Severity(p.Severity), Code: p.Code, File: p.File, Line: p.Line, Column: p.Column, Message: p.Message}
	}
	return out
}

// imageChecks lists, for every software image delivered in the package,
// the check of its bytes against its sw_image_data checksum. They are run
// with the manifest's checks, so a file is read once for all of them.
func imageChecks(pkg *csar.Package, v *vnfd.VNFD) ([]csar.DigestCheck, []csar.Problem) {
	var checks []csar.DigestCheck
	var problems []csar.Problem
	for _, f := range v.Flavours {
		for _, img := range f.Images {
			if img.File == "" {
				continue // external (URI) or provided out of band
			}
			at := img.Pos
			if !pkg.HasFile(img.File) {
				ap := img.ArtifactPos
				problems = append(problems, csar.Problem{Severity: csar.SeverityError, Code: CodeImageNotFound, File: ap.File, Line: ap.Line, Column: ap.Column,
					Message: "the SwImage artifact of " + img.ID + " names " + img.File + ", which is not in the package"})
				continue
			}
			if img.Checksum.Algorithm == "" || img.Checksum.Hash == "" {
				continue // the TOSCA processor reports the missing required property
			}
			if _, known := digest.Lookup(img.Checksum.Algorithm); !known {
				problems = append(problems, csar.Problem{Severity: csar.SeverityError, Code: CodeImageAlgorithm, File: at.File, Line: at.Line, Column: at.Column,
					Message: "the sw_image_data checksum algorithm " + img.Checksum.Algorithm + " of " + img.ID + " is not a known hash algorithm"})
				continue
			}
			if err := digest.Validate(digest.Want{Algorithm: img.Checksum.Algorithm, Expected: img.Checksum.Hash}); err != nil {
				problems = append(problems, csar.Problem{Severity: csar.SeverityError, Code: CodeImageHashMalformed, File: at.File, Line: at.Line, Column: at.Column,
					Message: "the sw_image_data checksum of " + img.ID + " is not a " + img.Checksum.Algorithm + " digest: " + err.Error()})
				continue
			}
			checks = append(checks, csar.DigestCheck{
				Path: img.File, Algorithm: img.Checksum.Algorithm, Expected: img.Checksum.Hash,
				What:       "the sw_image_data checksum of " + img.ID + " (flavour " + f.ID + ")",
				DeclaredIn: at.File, Line: at.Line, Column: at.Column,
				MismatchCode: CodeImageChecksumMismatch,
			})
		}
	}
	return checks, problems
}

// fillFacts copies the VNFD facts into the report.
func (r *Report) fillFacts(v *vnfd.VNFD) {
	r.VnfdID = v.DescriptorID
	r.VnfProvider = v.Provider
	r.VnfProductName = v.ProductName
	r.VnfSoftwareVersion = v.SoftwareVersion
	r.VnfdVersion = v.DescriptorVersion
	r.VnfmInfo = append([]string(nil), v.VnfmInfo...)
	for _, f := range v.Flavours {
		rf := ReportFlavour{ID: f.ID, VDUs: []ReportVDU{}}
		for _, vdu := range f.VDUs {
			rv := ReportVDU{
				ID: vdu.ID, Name: vdu.Name,
				NumVirtualCPU: vdu.VirtualCompute.NumVirtualCPU, MemoryBytes: vdu.VirtualCompute.MemoryBytes,
				MinInstances: vdu.VduProfile.MinInstances, MaxInstances: vdu.VduProfile.MaxInstances,
			}
			if vdu.SwImage != nil {
				rv.SoftwareImage = vdu.SwImage.ID
			}
			for _, name := range vdu.Storages {
				rs := ReportStorage{ID: name}
				for _, st := range f.Storages {
					if st.ID == name {
						rs.Kind, rs.SizeBytes = st.Kind, st.SizeBytes
						if st.SwImage != nil {
							rs.SoftwareImage, rs.ImageInPackage = st.SwImage.ID, st.SwImage.InPackage()
						}
					}
				}
				rv.VirtualStorages = append(rv.VirtualStorages, rs)
			}
			for _, b := range []struct {
				f  *vnfd.BootFile
				to **ReportBootFile
			}{{vdu.Kernel, &rv.Kernel}, {vdu.Initrd, &rv.Initrd}} {
				if b.f != nil {
					*b.to = &ReportBootFile{Artifact: b.f.Artifact, Path: b.f.File, URI: b.f.URI}
				}
			}
			rf.VDUs = append(rf.VDUs, rv)
		}
		r.Flavours = append(r.Flavours, rf)
	}
	for _, img := range v.SoftwareImages() {
		if !img.InPackage() {
			// sw_image_data without an artifact: the image reaches the VIM
			// out of band, so it is not one of the package's images.
			continue
		}
		r.SoftwareImages = append(r.SoftwareImages, ReportSoftwareImage{
			ID: img.ID, Name: img.Name, Version: img.Version, Provider: img.Provider,
			Checksum:        Checksum{Algorithm: img.Checksum.Algorithm, Hash: img.Checksum.Hash},
			ContainerFormat: strings.ToUpper(img.ContainerFormat),
			DiskFormat:      strings.ToUpper(img.DiskFormat),
			MinDisk:         img.MinDisk, MinRam: img.MinRam, Size: img.Size,
			ImagePath: img.File, ImageURI: img.URI,
		})
	}
}

// additionalArtifacts lists every artifact declared with a hash in the
// manifest (or, without one, in TOSCA.meta file blocks) except the
// software images and the files that make up the VNFD (CONFORMANCE.md).
func additionalArtifacts(pkg *csar.Package, d *descriptor) []ReportArtifact {
	exclude := map[string]bool{}
	for _, f := range d.template.Files {
		exclude[f] = true
	}
	if d.vnfd != nil {
		for _, f := range d.vnfd.Flavours {
			for _, img := range f.Images {
				exclude[img.File] = true
				exclude[img.URI] = true
			}
		}
	}
	sets := NonManoSets(pkg)
	class := classifications(pkg)
	var out []ReportArtifact
	addLocal := func(p, alg, hash string) {
		if p = path.Clean(p); exclude[p] {
			return
		}
		out = append(out, ReportArtifact{ArtifactPath: p, Checksum: Checksum{Algorithm: alg, Hash: hash},
			NonManoArtifactSetID: sets[p], ArtifactClassification: class(p)})
	}
	if m := pkg.Manifest; m != nil {
		for _, e := range m.Entries {
			if e.Source == "" || e.Hash == "" {
				continue
			}
			if e.External {
				if !exclude[e.Source] {
					out = append(out, ReportArtifact{ArtifactURI: e.Source, Checksum: Checksum{Algorithm: e.Algorithm, Hash: e.Hash},
						NonManoArtifactSetID: sets[e.Source]})
				}
				continue
			}
			addLocal(e.Source, e.Algorithm, e.Hash)
		}
	} else if pkg.Meta != nil {
		for _, fb := range pkg.Meta.Files {
			switch {
			case fb.Hash == "":
			case fb.External:
				if exclude[fb.Name] {
					continue // an image the VNFD names by this URI
				}
				out = append(out, ReportArtifact{ArtifactURI: fb.Name, Checksum: Checksum{Algorithm: fb.Algorithm, Hash: fb.Hash}})
			default:
				addLocal(fb.Name, fb.Algorithm, fb.Hash)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].ArtifactPath+out[i].ArtifactURI < out[j].ArtifactPath+out[j].ArtifactURI
	})
	return out
}

// NonManoSets maps every artifact the manifest's non_mano_artifact_sets
// list (a clean package path, or a URI for an external one) to its set.
func NonManoSets(pkg *csar.Package) map[string]string {
	out := map[string]string{}
	if pkg.Manifest == nil {
		return out
	}
	for _, set := range pkg.Manifest.NonManoSets {
		for _, src := range set.Sources {
			if !strings.Contains(src, "://") {
				src = path.Clean(src)
			}
			out[src] = set.ID
		}
	}
	return out
}

// classifications returns the SOL 005 artifactClassification of a package
// path: HISTORY for the change log, TESTING and LICENSE for what
// ETSI-Entry-Tests and ETSI-Entry-Licenses name (a file or a directory).
func classifications(pkg *csar.Package) func(string) string {
	type entry struct{ ref, class string }
	var entries []entry
	if pkg.Meta != nil {
		for _, k := range []struct{ key, class string }{
			{csar.KeyEntryChangeLog, "HISTORY"}, {csar.KeyEntryTests, "TESTING"}, {csar.KeyEntryLicenses, "LICENSE"},
		} {
			for _, ref := range strings.Fields(pkg.Meta.Values[k.key].Value) {
				if ref = path.Clean(ref); ref != "." && !strings.HasPrefix(ref, "../") && !strings.HasPrefix(ref, "/") {
					entries = append(entries, entry{ref, k.class})
				}
			}
		}
	}
	return func(p string) string {
		for _, e := range entries {
			if p == e.ref || strings.HasPrefix(p, e.ref+"/") {
				return e.class
			}
		}
		return ""
	}
}
