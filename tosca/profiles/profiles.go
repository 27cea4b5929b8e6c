// Package profiles embeds the type profiles the TOSCA processor needs but a
// VNF package does not have to ship: the normative types of the TOSCA Simple
// Profile in YAML (v1.2 and v1.3) and the NFV types of ETSI GS NFV-SOL 001
// (common and VNFD types, per version). The YAML files were written for this
// project from the standards.
//
// Embedded files are named by their path in this package, for example
// "tosca-normative-1.2.yaml" or "sol001/v2.6.1/etsi_nfv_sol001_vnfd_types.yaml";
// that name is what Resolve, Normative and SOL001 return, and what the
// processor records as Position.File for problems found in a profile.
//
// The package does not import tosca (tosca imports it); Resolver has the
// method set of tosca.ImportResolver.
package profiles

import (
	"embed"
	"io/fs"
	"net/url"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/vnfpkgm/vnfpkgm/internal/lazy"
)

//go:embed tosca-normative-1.2.yaml tosca-normative-1.3.yaml sol001
var files embed.FS

// normativeFile names the embedded file of a tosca_definitions_version
// ("" for an unknown one).
func normativeFile(definitionsVersion string) string {
	switch definitionsVersion {
	case "tosca_simple_yaml_1_2":
		return "tosca-normative-1.2.yaml"
	case "tosca_simple_yaml_1_3":
		return "tosca-normative-1.3.yaml"
	}
	return ""
}

// SOL 001 file base names, as ETSI names them.
const (
	CommonTypes = "etsi_nfv_sol001_common_types.yaml"
	VNFDTypes   = "etsi_nfv_sol001_vnfd_types.yaml"
)

// forgePath matches the path of a SOL 001 file on forge.etsi.org, in the
// ".../raw/<tag>/<file>" and ".../-/raw/<tag>/<file>" forms.
var forgePath = &lazy.Value[*regexp.Regexp]{Build: func() *regexp.Regexp {
	return regexp.MustCompile(`(?i)^/rep/nfv/sol001/(?:-/)?raw/v?([0-9]+\.[0-9]+\.[0-9]+)/([^/]+)$`)
}}

// Resolver resolves imports against the embedded profiles. Its Resolve
// method is Resolve, so Resolver{} satisfies tosca.ImportResolver.
type Resolver struct{}

// Resolve is the package function Resolve.
func (Resolver) Resolve(ref string) (name string, data []byte, ok bool) { return Resolve(ref) }

// Resolve maps an import reference to an embedded profile file. It knows
//
//   - the forge.etsi.org URLs of the SOL 001 files of every embedded version,
//     https://forge.etsi.org/rep/nfv/SOL001/raw/v2.6.1/etsi_nfv_sol001_common_types.yaml,
//     also in the "/-/raw/" form, over http or https, with "./" and "../"
//     segments resolved (the form a relative import takes once joined to the
//     URL of the file that made it);
//   - the embedded names themselves ("sol001/v2.6.1/etsi_nfv_sol001_vnfd_types.yaml",
//     "tosca-normative-1.3.yaml"), also with a leading "/" or "./" and with
//     "." and ".." segments (the form a relative import takes once joined to
//     the name of the embedded file that made it).
//
// name is the embedded name; ok is false for anything else.
func Resolve(ref string) (name string, data []byte, ok bool) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return "", nil, false
	}
	if i := strings.Index(ref, "://"); i > 0 {
		return resolveURL(ref)
	}
	if strings.Contains(ref, `\`) {
		return "", nil, false
	}
	p := path.Clean("/" + ref)[1:]
	return open(p)
}

func resolveURL(ref string) (string, []byte, bool) {
	u, err := url.Parse(ref)
	if err != nil {
		return "", nil, false
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", nil, false
	}
	if !strings.EqualFold(u.Hostname(), "forge.etsi.org") || u.User != nil {
		return "", nil, false
	}
	switch u.Port() {
	case "", "80", "443":
	default:
		return "", nil, false
	}
	m := forgePath.Get().FindStringSubmatch(path.Clean("/" + u.Path))
	if m == nil {
		return "", nil, false
	}
	return SOL001(m[1], m[2])
}

// Normative returns the normative types for a tosca_definitions_version:
// tosca_simple_yaml_1_2 or tosca_simple_yaml_1_3. ok is false for any other.
func Normative(definitionsVersion string) (name string, data []byte, ok bool) {
	n := normativeFile(strings.TrimSpace(definitionsVersion))
	if n == "" {
		return "", nil, false
	}
	return open(n)
}

// SOL001 returns the embedded file of a SOL 001 version ("2.6.1"; a leading
// "v" is accepted) by its base name (CommonTypes or VNFDTypes), for packages
// that import etsi_nfv_sol001_vnfd_types.yaml without shipping it.
func SOL001(version, baseName string) (name string, data []byte, ok bool) {
	version = strings.TrimPrefix(strings.TrimSpace(version), "v")
	if !versionRE.Get().MatchString(version) || strings.ContainsAny(baseName, `/\`) || baseName == "" {
		return "", nil, false
	}
	return open("sol001/v" + version + "/" + baseName)
}

var versionRE = &lazy.Value[*regexp.Regexp]{Build: func() *regexp.Regexp {
	return regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+$`)
}}

// SOL001Versions lists the embedded SOL 001 versions ("2.6.1", "2.7.1", ...)
// in ascending order.
func SOL001Versions() []string {
	entries, err := fs.ReadDir(files, "sol001")
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		v := strings.TrimPrefix(e.Name(), "v")
		if e.IsDir() && versionRE.Get().MatchString(v) {
			out = append(out, v)
		}
	}
	sort.Slice(out, func(i, j int) bool { return versionLess(out[i], out[j]) })
	return out
}

// Names lists every embedded profile file by its embedded name, sorted.
func Names() []string {
	var out []string
	_ = fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".yaml") {
			out = append(out, p)
		}
		return nil
	})
	sort.Strings(out)
	return out
}

func open(name string) (string, []byte, bool) {
	if !fs.ValidPath(name) || !strings.HasSuffix(name, ".yaml") {
		return "", nil, false
	}
	data, err := files.ReadFile(name)
	if err != nil {
		return "", nil, false
	}
	return name, data, true
}

func versionLess(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		x, _ := strconv.Atoi(as[i])
		y, _ := strconv.Atoi(bs[i])
		if x != y {
			return x < y
		}
	}
	return len(as) < len(bs)
}
