package oci

import (
	"regexp"
	"strings"
)

// RepositoryPrefix is the first component of every repository served.
const RepositoryPrefix = "vnfpkg"

// The grammar of the distribution spec (v1.1, "Pulling manifests").
var (
	nameRE   = regexp.MustCompile(`^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$`)
	tagRE    = regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$`)
	digestRE = regexp.MustCompile(`^[a-z0-9]+([+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$`)
)

// NameComponent maps a vnfdId or a software image id to one component of a
// repository name:
//
//   - letters are lowered;
//   - every character other than a-z and 0-9 is a separator;
//   - a run of separators is kept when the grammar allows it as it is
//     ("." or "_" or "__" or any number of "-"), and becomes one "-"
//     otherwise;
//   - separators at either end are dropped.
//
// So "VDU1" is "vdu1", "Sample VNF/1" is "sample-vnf-1", and a UUID is
// itself. It reports false when nothing is left (an id of separators
// only), and such an image is not served. Different ids can map to the
// same component ("VDU1" and "vdu1"): the registry then serves neither
// under that name (see Registry).
func NameComponent(id string) (string, bool) {
	var b strings.Builder
	var sep strings.Builder
	flush := func() {
		if b.Len() > 0 && sep.Len() > 0 {
			s := sep.String()
			if s == "." || s == "_" || s == "__" || strings.Trim(s, "-") == "" {
				b.WriteString(s)
			} else {
				b.WriteByte('-')
			}
		}
		sep.Reset()
	}
	for _, r := range strings.ToLower(id) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			flush()
			b.WriteRune(r)
			continue
		}
		sep.WriteRune(r)
	}
	return b.String(), b.Len() > 0
}

// RepositoryName is the repository of a software image:
// "vnfpkg/<vnfdId>/<softwareImageId>", each id mapped by NameComponent.
func RepositoryName(vnfdID, softwareImageID string) (string, bool) {
	v, ok1 := NameComponent(vnfdID)
	s, ok2 := NameComponent(softwareImageID)
	if !ok1 || !ok2 {
		return "", false
	}
	return RepositoryPrefix + "/" + v + "/" + s, true
}

// Tag maps a vnfSoftwareVersion to a tag: every character outside
// [A-Za-z0-9._-] becomes "_" (so "1.0+build 7" is "1.0_build_7"), a
// first character "." or "-" becomes "_", and the tag is cut at the
// grammar's 128 characters. Case is kept: tags may hold capitals. It
// reports false for an empty version.
func Tag(version string) (string, bool) {
	if version == "" {
		return "", false
	}
	out := []byte(version)
	for i, c := range out {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_':
		case (c == '.' || c == '-') && i > 0:
		default:
			out[i] = '_'
		}
	}
	if len(out) > 128 {
		out = out[:128]
	}
	return string(out), true
}

func validName(name string) bool  { return nameRE.MatchString(name) }
func validTag(tag string) bool    { return tagRE.MatchString(tag) }
func validDigest(ref string) bool { return digestRE.MatchString(ref) }
