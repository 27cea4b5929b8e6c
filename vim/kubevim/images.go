package kubevim

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/kube-nfv/kube-vim-api/pkg/apis"
	"github.com/kube-nfv/kube-vim-api/pkg/apis/admin"
	"github.com/kube-nfv/kube-vim-api/pkg/apis/vivnfm"
	"google.golang.org/protobuf/proto"

	"github.com/vnfpkgm/vnfpkgm/csar/digest"
	"github.com/vnfpkgm/vnfpkgm/vim"
	"github.com/vnfpkgm/vnfpkgm/vim/internal/restclient"
)

// Metadata keys AddImage stores with an image, besides the labels.
const (
	metaContainerFormat = "containerFormat"
	metaDiskFormat      = "diskFormat"
	// metaChecksum is the VNFD's checksum, ALGO:HEX, given with a
	// registry source (whose message has no checksum field). It is what
	// was declared, not what KubeVim computed: it is no label of the
	// image and never taken for its checksum.
	metaChecksum = "checksum"
)

// checksumAlgorithm is the name KubeVim is given for an algorithm: the
// lower-case spelling of the Glance family ("sha512", "sha3_256"), which
// the seed's example uses ("sha256").
func checksumAlgorithm(name string) (string, error) {
	a, ok := digest.Lookup(name)
	if !ok {
		return "", fmt.Errorf("unknown checksum algorithm %q (known: %s)", name, strings.Join(digest.Names(), ", "))
	}
	if a.Extendable() {
		return "", fmt.Errorf("checksum algorithm %s has no fixed size", a.Name)
	}
	return strings.ReplaceAll(strings.ToLower(a.Name), "-", ""), nil
}

// AddImage implements vim.Driver: KubeVim downloads the image, from
// spec.SourceURL validating the VNFD's checksum itself (image_source
// http), or from the catalogue's OCI endpoint by manifest digest
// (image_source registry, spec.OCI); the driver waits for the download,
// then checks the image KubeVim reports (size, and checksum when it
// reports one in the VNFD's algorithm). spec.Content is not read.
//
// KubeVim's API has no image deletion: an image whose download failed or
// that fails a check stays in KubeVim; the error names it.
func (d *Driver) AddImage(ctx context.Context, spec vim.ImageSpec) (*vim.Image, error) {
	if spec.Name == "" {
		return nil, fmt.Errorf("%w: kubevim: an image needs a name", vim.ErrInvalid)
	}
	if d.st.imageSource == sourceHTTP && spec.SourceURL == "" {
		return nil, fmt.Errorf("%w: kubevim: KubeVim downloads images from this server, which has no address it can reach: start vnfpkgmd with --public-url (or register the VIM with image_source=registry and registry=HOST:PORT)", vim.ErrNotSupported)
	}
	if spec.Checksum.Algorithm == "" || spec.Checksum.Hash == "" {
		return nil, fmt.Errorf("%w: kubevim: image %q has no checksum for KubeVim to validate", vim.ErrInvalid, spec.Name)
	}
	if err := digest.Validate(digest.Want{Algorithm: spec.Checksum.Algorithm, Expected: spec.Checksum.Hash}); err != nil {
		return nil, fmt.Errorf("%w: kubevim: image %q: %v", vim.ErrInvalid, spec.Name, err)
	}
	algo, err := checksumAlgorithm(spec.Checksum.Algorithm)
	if err != nil {
		return nil, fmt.Errorf("%w: kubevim: image %q: %v", vim.ErrInvalid, spec.Name, err)
	}
	hash := strings.ToLower(spec.Checksum.Hash)
	req := downloadRequest(spec, d.st.imageTimeout)
	if d.st.imageSource == sourceRegistry {
		ref, _, err := restclient.ImageReference(ctx, Type, d.st.registryHost, spec)
		if err != nil {
			return nil, fmt.Errorf("kubevim: image %q: %w", spec.Name, err)
		}
		req.Source = registrySource(ref)
		req.Metadata.Metadata.Fields[metaChecksum] = algo + ":" + hash
	} else {
		req.Source = httpSource(spec.SourceURL, algo, hash)
	}
	resp, err := d.admin.DownloadImage(ctx, req)
	if err != nil {
		return nil, d.mapErr(err, "downloading image "+spec.Name)
	}
	id := resp.GetImageId().GetValue()
	if id == "" {
		return nil, fmt.Errorf("%w: kubevim: DownloadImage of %s answered no image id", vim.ErrUnavailable, spec.Name)
	}
	if err := d.waitDownloaded(ctx, id); err != nil {
		return nil, &ImageError{ImageID: id, Err: err}
	}
	im, err := d.QueryImage(ctx, id)
	if err != nil {
		return nil, &ImageError{ImageID: id, Err: err}
	}
	if err := checkStored(im, spec, algo, hash); err != nil {
		return nil, &ImageError{ImageID: id, Err: err}
	}
	return im, nil
}

// downloadRequest is the admin DownloadImage request for spec, without
// its source.
func downloadRequest(spec vim.ImageSpec, timeout time.Duration) *admin.DownloadImageRequest {
	meta := map[string]string{metaContainerFormat: spec.ContainerFormat, metaDiskFormat: spec.DiskFormat}
	for k, v := range spec.Labels {
		meta[k] = v
	}
	md := &admin.ImageMetadata{Name: spec.Name, Metadata: &apis.Metadata{Fields: meta}}
	if spec.Version != "" {
		md.Version = proto.String(spec.Version)
	}
	return &admin.DownloadImageRequest{
		Metadata: md,
		Options: &admin.DownloadOptions{
			LazyDownload:     proto.Bool(false),
			ValidateChecksum: proto.Bool(true),
			Timeout:          proto.String(timeout.String()),
		},
	}
}

// httpSource is the download of url, validated against the VNFD's checksum.
func httpSource(url, algo, hash string) *admin.ImageSource {
	return &admin.ImageSource{
		Type: admin.ImageSourceType_HTTP,
		Http: &admin.HttpSource{
			Url:       url,
			VerifyTls: proto.Bool(true),
			Checksum:  &admin.Checksum{Algorithm: algo, Value: hash},
		},
	}
}

// registrySource is the pull of ref, HOST[:PORT]/REPOSITORY@DIGEST. The
// content cannot change under a digest, so a copy KubeVim already holds
// is as good as a new pull (IF_NOT_PRESENT).
func registrySource(ref string) *admin.ImageSource {
	return &admin.ImageSource{
		Type: admin.ImageSourceType_REGISTRY,
		Registry: &admin.RegistrySource{
			Image:      ref,
			PullPolicy: admin.PullPolicy_IF_NOT_PRESENT.Enum(),
		},
	}
}

// waitDownloaded polls GetImageDownloadStatus until COMPLETED, failing on
// FAILED or CANCELLED or once image_timeout has passed.
func (d *Driver) waitDownloaded(ctx context.Context, id string) error {
	deadline := time.Now().Add(d.st.imageTimeout)
	for {
		resp, err := d.admin.GetImageDownloadStatus(ctx, &admin.GetImageDownloadStatusRequest{ImageId: &apis.Identifier{Value: id}})
		if err != nil {
			return d.mapErr(err, "reading the download status of image "+id)
		}
		st := resp.GetStatus()
		switch st.GetState() {
		case admin.DownloadState_COMPLETED:
			return nil
		case admin.DownloadState_FAILED, admin.DownloadState_CANCELLED:
			return downloadFailed(id, st)
		case admin.DownloadState_LAZY_REGISTERED:
			// Never asked for (lazyDownload false): the bytes were not checked.
			return fmt.Errorf("%w: kubevim: image %s was registered for a lazy download, not downloaded", vim.ErrUnavailable, id)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: kubevim: image %s still %s after %s (image_timeout)", vim.ErrUnavailable, id, st.GetState(), d.st.imageTimeout)
		}
		if err := vim.Sleep(ctx, d.st.poll); err != nil {
			return fmt.Errorf("kubevim: waiting for image %s: %w", id, err)
		}
	}
}

// downloadFailed is the error of a failed download. The admin API gives
// no error code, only words: a failure whose message speaks of the
// checksum is taken for a checksum mismatch (KubeVim validated the bytes
// and refused them), any other for the VIM failing.
func downloadFailed(id string, st *admin.ImageDownloadStatus) error {
	msg := strings.TrimSpace(st.GetErrorMessage() + " " + st.GetMessage())
	if strings.Contains(strings.ToLower(msg), "checksum") {
		return fmt.Errorf("%w: kubevim: KubeVim refused the bytes it downloaded for image %s: %s", vim.ErrChecksum, id, msg)
	}
	return fmt.Errorf("%w: kubevim: the download of image %s is %s: %s", vim.ErrUnavailable, id, st.GetState(), msg)
}

// checkStored compares what KubeVim reports of a downloaded image with the
// spec: the size when both are known, and the checksum when KubeVim
// reports one ("ALGO:HEX" or bare hex of the declared algorithm).
func checkStored(im *vim.Image, spec vim.ImageSpec, algo, hash string) error {
	if spec.Size > 0 && im.Size > 0 && im.Size != spec.Size {
		return &vim.ChecksumError{What: "the size of the image KubeVim stored", Algorithm: "size", Expected: fmt.Sprint(spec.Size), Actual: fmt.Sprint(im.Size)}
	}
	if im.Checksum.Hash == "" {
		return nil
	}
	if im.Checksum.Algorithm != "" {
		got, err := checksumAlgorithm(im.Checksum.Algorithm)
		if err != nil || got != algo {
			// Another algorithm: KubeVim validated ours already (HTTP
			// source), or pulled the bytes by their digest (registry).
			return nil
		}
	}
	if !digest.Equal(im.Checksum.Hash, hash) {
		return &vim.ChecksumError{What: "the checksum KubeVim reports", Algorithm: algo, Expected: hash, Actual: strings.ToLower(im.Checksum.Hash)}
	}
	return nil
}

// ImageError is what AddImage returns once KubeVim has an image: it names
// the image, which stays in KubeVim (its API cannot delete images). It
// unwraps to the cause.
type ImageError struct {
	ImageID string
	Err     error
}

func (e *ImageError) Error() string {
	return fmt.Sprintf("%v (image %s stays in KubeVim, whose API has no image deletion)", e.Err, e.ImageID)
}

func (e *ImageError) Unwrap() error { return e.Err }

// toImage converts IFA 006 SoftwareImageInformation.
func toImage(s *vivnfm.SoftwareImageInformation) *vim.Image {
	im := &vim.Image{
		ID:              s.GetSoftwareImageId().GetValue(),
		Name:            s.GetName(),
		Version:         s.GetVersion(),
		Status:          strings.ToLower(s.GetStatus()),
		ContainerFormat: s.GetContainerFormat(),
		DiskFormat:      s.GetDiskFormat(),
	}
	if q := s.GetSize(); q != nil {
		im.Size = q.Value()
	}
	if t := s.GetCreatedAt(); t != nil {
		im.CreatedAt = t.AsTime()
	}
	if c := s.GetChecksum(); c != "" {
		if a, h, ok := strings.Cut(c, ":"); ok {
			im.Checksum = vim.Checksum{Algorithm: a, Hash: h}
		} else {
			im.Checksum = vim.Checksum{Hash: c}
		}
	}
	for k, v := range s.GetMetadata().GetFields() {
		switch k {
		case metaContainerFormat:
			if im.ContainerFormat == "" {
				im.ContainerFormat = v
			}
		case metaDiskFormat:
			if im.DiskFormat == "" {
				im.DiskFormat = v
			}
		case metaChecksum:
		default:
			if im.Labels == nil {
				im.Labels = map[string]string{}
			}
			im.Labels[k] = v
		}
	}
	return im
}

// QueryImage implements vim.Driver.
func (d *Driver) QueryImage(ctx context.Context, id string) (*vim.Image, error) {
	resp, err := d.vi.QueryImage(ctx, &vivnfm.QueryImageRequest{SoftwareImageId: &apis.Identifier{Value: id}})
	if err != nil {
		return nil, d.mapErr(err, "reading image "+id)
	}
	if resp.GetSoftwareImageInformation() == nil {
		return nil, fmt.Errorf("%w: kubevim: image %s", vim.ErrNotFound, id)
	}
	return toImage(resp.GetSoftwareImageInformation()), nil
}

// ListImages implements vim.Driver: every image KubeVim has.
func (d *Driver) ListImages(ctx context.Context) ([]vim.Image, error) {
	resp, err := d.vi.QueryImages(ctx, &vivnfm.QueryImagesRequest{})
	if err != nil {
		return nil, d.mapErr(err, "listing images")
	}
	out := make([]vim.Image, 0, len(resp.GetSoftwareImagesInformation()))
	for _, s := range resp.GetSoftwareImagesInformation() {
		out = append(out, *toImage(s))
	}
	return out, nil
}

// DeleteImage implements vim.Driver: KubeVim's VI-VNFM and admin APIs
// have no image deletion, so this is refused (the image stays).
func (d *Driver) DeleteImage(ctx context.Context, id string) error {
	return fmt.Errorf("%w: kubevim: KubeVim's API cannot delete images (image %s stays)", vim.ErrNotSupported, id)
}
