package kubevimtest

import (
	"context"
	"fmt"
	"io"
	"net"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/kube-nfv/kube-vim-api/pkg/apis/admin"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/vnfpkgm/vnfpkgm/csar/digest"
	"github.com/vnfpkgm/vnfpkgm/vim/internal/ocipull"
)

// The image source kinds, each with the field of admin.ImageSource that
// carries it, in the order of the message.
var sourceKinds = []struct {
	typ   admin.ImageSourceType
	field string
	set   func(*admin.ImageSource) bool
}{
	{admin.ImageSourceType_HTTP, "http", func(s *admin.ImageSource) bool { return s.Http != nil }},
	{admin.ImageSourceType_REGISTRY, "registry", func(s *admin.ImageSource) bool { return s.Registry != nil }},
	{admin.ImageSourceType_PVC, "pvc", func(s *admin.ImageSource) bool { return s.Pvc != nil }},
	{admin.ImageSourceType_S3, "s3", func(s *admin.ImageSource) bool { return s.S3 != nil }},
}

// oneSourceKind checks that a source is of a known type, carries the
// message of that type and no other. PVC and S3 need a cluster.
func oneSourceKind(src *admin.ImageSource) error {
	t := src.GetType()
	want := ""
	for _, k := range sourceKinds {
		if k.typ == t {
			want = k.field
		}
	}
	if want == "" {
		return invalid("source.type %d is not an ImageSourceType (HTTP, REGISTRY, PVC, S3)", int32(t))
	}
	if t == admin.ImageSourceType_PVC || t == admin.ImageSourceType_S3 {
		return status.Errorf(codes.Unimplemented, "source type %s is not served by this stand-in", t)
	}
	for _, k := range sourceKinds {
		if k.field == want && !k.set(src) {
			return invalid("source.%s is required for type %s", want, t)
		}
	}
	for _, k := range sourceKinds {
		if k.field != want && k.set(src) {
			return invalid("source.%s is set but source.type is %s", k.field, t)
		}
	}
	return nil
}

// The grammar of the distribution spec for repository names and tags, and
// the digests the stand-in can verify (ocipull checks sha256).
var (
	repoRE     = regexp.MustCompile(`^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$`)
	tagRE      = regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$`)
	digestRE   = regexp.MustCompile(`^sha256:[a-f0-9]{64}$`)
	platformRE = regexp.MustCompile(`^[a-z0-9]+/[a-z0-9_]+(/[a-z0-9]+)?$`)
)

// metaChecksum is the metadata key under which a client may give the
// disk's checksum, ALGO:HEX, with a registry source (whose message has no
// checksum field): the vnfpkgm driver puts the VNFD's there.
const metaChecksum = "checksum"

// registryPull is a checked REGISTRY source.
type registryPull struct {
	ref    string // as asked
	host   string
	policy admin.PullPolicy
	// want is the disk's checksum to validate (Expected set) or only the
	// algorithm to report it in.
	want digest.Want
}

// parseRegistrySource checks a REGISTRY source: a reference that names
// its registry host, a repository and a tag or sha256 digest; a known pull
// policy; a platform of the form os/arch[/variant]. With validateChecksum
// the reference must be pinned by digest, the one checksum a registry
// source can carry, and a checksum given in the metadata must be
// well-formed.
func parseRegistrySource(r *admin.RegistrySource, md *admin.ImageMetadata, validate bool) (*registryPull, error) {
	ref := r.GetImage()
	if ref == "" {
		return nil, invalid("source.registry.image is required")
	}
	host, repo, reference, err := ocipull.ParseReference(ref)
	if err != nil {
		return nil, invalid("source.registry.image: %v (the stand-in pulls from the registry the reference names, never a default one)", err)
	}
	if !strings.ContainsAny(host, ".:") && host != "localhost" {
		return nil, invalid("source.registry.image %q names no registry host (HOST[:PORT]/REPOSITORY)", ref)
	}
	if !repoRE.MatchString(repo) {
		return nil, invalid("source.registry.image %q: repository %q is not a valid name", ref, repo)
	}
	byDigest := strings.Contains(ref, "@")
	switch {
	case byDigest && !digestRE.MatchString(reference):
		return nil, invalid("source.registry.image %q: %q is not a sha256 digest", ref, reference)
	case !byDigest && !tagRE.MatchString(reference):
		return nil, invalid("source.registry.image %q: %q is not a valid tag", ref, reference)
	case validate && !byDigest:
		return nil, invalid("validateChecksum needs source.registry.image pinned by digest (REPOSITORY@sha256:HEX): a registry source has no checksum field")
	}
	p := &registryPull{ref: ref, host: host, policy: r.GetPullPolicy()}
	if r.PullPolicy != nil {
		if _, ok := admin.PullPolicy_name[int32(*r.PullPolicy)]; !ok {
			return nil, invalid("source.registry.pullPolicy %d is not a PullPolicy", int32(*r.PullPolicy))
		}
	}
	if r.Platform != nil && !platformRE.MatchString(r.GetPlatform()) {
		return nil, invalid("source.registry.platform %q is not OS/ARCH[/VARIANT]", r.GetPlatform())
	}
	p.want.Algorithm = "sha256"
	if c, ok := md.GetMetadata().GetFields()[metaChecksum]; ok {
		algo, hex, found := strings.Cut(c, ":")
		w := digest.Want{Algorithm: algo, Expected: hex}
		if !found {
			return nil, invalid("metadata.metadata.%s %q is not ALGORITHM:HEX", metaChecksum, c)
		}
		if err := digest.Validate(w); err != nil {
			return nil, invalid("metadata.metadata.%s: %v", metaChecksum, err)
		}
		p.want.Algorithm = algo
		if validate {
			p.want.Expected = hex
		}
	}
	return p, nil
}

// loopback reports whether a registry host is on this machine: the only
// registries a stand-in in a test may reach.
func loopback(host string) bool {
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// isDiskFile reports whether a layer's file is a containerDisk's disk:
// a file directly under disk/.
func isDiskFile(name string) bool {
	name = strings.TrimPrefix(name, "./")
	dir, file := path.Split(name)
	return dir == "disk/" && file != ""
}

// pull pulls a REGISTRY source in the background and records the outcome.
// A digest that does not match is a failed checksum validation, as is a
// disk whose checksum is not the one the metadata gives.
func (s *Server) pull(id string, p *registryPull) {
	defer s.wg.Done()
	s.setState(id, admin.DownloadState_DOWNLOADING, "")
	if p.policy == admin.PullPolicy_NEVER {
		s.setState(id, admin.DownloadState_FAILED, fmt.Sprintf("%s is not present and pullPolicy is NEVER", p.ref))
		return
	}
	if !loopback(p.host) {
		s.setState(id, admin.DownloadState_FAILED, fmt.Sprintf("pulling %s: registry %s is not reachable from this stand-in (loopback registries only)", p.ref, p.host))
		return
	}
	s.mu.Lock()
	corrupt := s.corrupt
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var (
		disks []string
		res   digest.Result
		n     int64
	)
	img, err := ocipull.Pull(ctx, s.http, p.ref, ocipull.Options{Corrupt: corrupt, File: func(name string, r io.Reader) error {
		if !isDiskFile(name) {
			return nil
		}
		disks = append(disks, name)
		rs, nn, err := digest.Sum(ctx, r, []digest.Want{p.want})
		if err != nil {
			return err
		}
		res, n = rs[0], nn
		return nil
	}})
	if err != nil {
		msg := err.Error()
		if pe, ok := err.(*ocipull.Error); ok {
			msg = pe.Message
			if !strings.Contains(msg, p.ref) {
				msg = "pulling " + p.ref + ": " + msg
			}
			if pe.Kind == ocipull.DigestMismatch {
				msg = "checksum validation failed: the registry's bytes do not have their digest: " + pe.Message
			}
		}
		s.setState(id, admin.DownloadState_FAILED, msg)
		return
	}
	if len(disks) != 1 {
		s.setState(id, admin.DownloadState_FAILED, fmt.Sprintf("%s is not a containerDisk: %d regular files under disk/ (%s), want one", p.ref, len(disks), strings.Join(disks, ", ")))
		return
	}
	s.mu.Lock()
	im := s.images[id]
	im.ManifestDigest, im.DiskFile = img.ManifestDigest, disks[0]
	im.Fetched, im.Digest = n, res.Hex
	im.Info.Size = resource.NewQuantity(n, resource.BinarySI)
	im.Info.Checksum = proto.String(strings.ToLower(strings.ReplaceAll(res.Algorithm.Name, "-", "")) + ":" + res.Hex)
	s.mu.Unlock()
	if p.want.Expected != "" && !res.Match {
		s.setState(id, admin.DownloadState_FAILED, fmt.Sprintf("checksum validation failed: %s of %s expected %s, got %s", p.want.Algorithm, disks[0], strings.ToLower(p.want.Expected), res.Hex))
		return
	}
	s.setState(id, admin.DownloadState_COMPLETED, "")
}
