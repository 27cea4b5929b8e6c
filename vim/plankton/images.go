package plankton

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/vnfpkgm/vnfpkgm/csar/digest"
	"github.com/vnfpkgm/vnfpkgm/vim"
)

// diskFormats maps SOL 001 disk formats onto Plankton's spelling. Plankton
// stores disk dumps only (diskdump, extdump, ntfsdump): a raw image is a
// disk dump; qcow2, vmdk, vdi, vhd, iso and the Amazon formats have no
// Plankton form and are refused rather than mislabelled.
var diskFormats = map[string]string{"raw": "diskdump"}

// containerFormats are the container formats Plankton knows (the same
// spelling as SOL 001).
var containerFormats = map[string]bool{"aki": true, "ari": true, "ami": true, "bare": true, "ovf": true}

// Property names AddImage sets from the VNFD (X-Image-Meta-Property-*),
// besides the labels. Header names are case-insensitive, so properties
// come back lower-cased.
const (
	propVersion  = "version"
	propMinDisk  = "min_disk"
	propMinRAM   = "min_ram"
	propChecksum = "vnfd_checksum" // ALGORITHM:HEX as the VNFD declares it
)

// formats returns Plankton's spellings of spec's formats.
func formats(spec vim.ImageSpec) (disk, container string, err error) {
	disk, ok := diskFormats[strings.ToLower(spec.DiskFormat)]
	if !ok {
		return "", "", fmt.Errorf("%w: plankton: disk format %q has no Plankton equivalent (Plankton stores disk dumps: raw images only)", vim.ErrNotSupported, spec.DiskFormat)
	}
	container = strings.ToLower(spec.ContainerFormat)
	if !containerFormats[container] {
		return "", "", fmt.Errorf("%w: plankton: container format %q is not one of Plankton's (aki, ari, ami, bare, ovf)", vim.ErrNotSupported, spec.ContainerFormat)
	}
	return disk, container, nil
}

// objectName is where an image goes in the container: one object per
// package and software image, so that images of different packages never
// overwrite one another (in Plankton the location is the image's key).
func objectName(spec vim.ImageSpec) string {
	pkg, sw := spec.Labels["vnfPkgId"], spec.Labels["softwareImageId"]
	if pkg != "" && sw != "" {
		return "vnfpkgm/" + pkg + "/" + sw
	}
	return "vnfpkgm/" + spec.Name
}

// objectURL is the Pithos+ URL of an object of the configured account.
func (d *Driver) objectURL(container, object string) string {
	u := d.st.pithos.String() + "/" + url.PathEscape(d.st.account) + "/" + url.PathEscape(container)
	if object != "" {
		segs := strings.Split(object, "/")
		for i, s := range segs {
			segs[i] = url.PathEscape(s)
		}
		u += "/" + strings.Join(segs, "/")
	}
	return u
}

// location is the pithos:// URI Plankton keys the image by.
func (d *Driver) location(object string) string {
	return "pithos://" + d.st.account + "/" + d.st.container + "/" + object
}

// AddImage implements vim.Driver: it uploads spec.Content to Pithos+ with
// one PUT while computing its MD5 and the VNFD's digest, checks both
// (Pithos+'s ETag is the MD5 of what it stored), then registers the image
// with POST /images. An object whose checks or registration fail is
// deleted again.
func (d *Driver) AddImage(ctx context.Context, spec vim.ImageSpec) (*vim.Image, error) {
	if spec.Name == "" || spec.Content == nil {
		return nil, fmt.Errorf("%w: plankton: an image needs a name and content", vim.ErrInvalid)
	}
	disk, container, err := formats(spec)
	if err != nil {
		return nil, err
	}
	wants := []digest.Want{{Algorithm: "md5"}}
	if spec.Checksum.Algorithm != "" || spec.Checksum.Hash != "" {
		w := digest.Want{Algorithm: spec.Checksum.Algorithm, Expected: spec.Checksum.Hash}
		if err := digest.Validate(w); err != nil {
			return nil, fmt.Errorf("%w: plankton: image %q: %v", vim.ErrInvalid, spec.Name, err)
		}
		wants = append(wants, w)
	}
	sums, err := digest.NewMulti(wants)
	if err != nil {
		return nil, fmt.Errorf("%w: plankton: %v", vim.ErrInvalid, err)
	}
	if err := d.ensureContainer(ctx); err != nil {
		return nil, err
	}
	object := objectName(spec)
	md5hex, err := d.upload(ctx, object, spec, sums)
	if err != nil {
		return nil, d.dropObject(ctx, object, err)
	}
	im, err := d.register(ctx, spec, object, disk, container, md5hex, sums.Count())
	if err != nil {
		return nil, d.dropObject(ctx, object, err)
	}
	return im, nil
}

// ensureContainer creates the container; one that exists is fine
// (Pithos+ answers 202 then).
func (d *Driver) ensureContainer(ctx context.Context) error {
	_, _, err := d.do(ctx, request{method: http.MethodPut, url: d.objectURL(d.st.container, ""), timeout: d.st.callTimeout,
		what: "creating the Pithos+ container " + d.st.container}, false)
	return err
}

// upload PUTs the image while hashing it and checks the digests: the
// VNFD's against the bytes sent, the ETag Pithos+ answers against their
// MD5. It returns the MD5.
func (d *Driver) upload(ctx context.Context, object string, spec vim.ImageSpec, sums *digest.Multi) (string, error) {
	// Chunked: the VNFD's size is checked after the upload, so that a
	// wrong one is reported as such rather than as a transport failure.
	length := int64(-1)
	body := &eofReader{r: io.TeeReader(spec.Content, sums)}
	resp, _, err := d.do(ctx, request{
		method: http.MethodPut, url: d.objectURL(d.st.container, object),
		header: http.Header{"Content-Type": {"application/octet-stream"}},
		body:   body, length: length, timeout: d.st.uploadTimeout,
		what: "uploading image " + spec.Name + " to Pithos+",
	}, false)
	if err != nil {
		return "", err
	}
	if !body.eof {
		return "", fmt.Errorf("%w: plankton: uploading image %s: Pithos+ answered before the whole image was sent (%d bytes)", vim.ErrUnavailable, spec.Name, sums.Count())
	}
	if spec.Size > 0 && sums.Count() != spec.Size {
		return "", fmt.Errorf("%w: plankton: image %s: %d bytes sent, the VNFD says %d", vim.ErrInvalid, spec.Name, sums.Count(), spec.Size)
	}
	res := sums.Results()
	md5hex := res[0].Hex
	if len(res) > 1 && !res[1].Match {
		return "", &vim.ChecksumError{What: "the bytes sent (VNFD checksum of " + spec.Name + ")", Algorithm: res[1].Algorithm.Name, Expected: strings.ToLower(spec.Checksum.Hash), Actual: res[1].Hex}
	}
	if etag := strings.Trim(resp.Header.Get("ETag"), `"`); etag == "" {
		return "", fmt.Errorf("%w: plankton: Pithos+ answered no ETag for %s: what it stored cannot be checked", vim.ErrChecksum, object)
	} else if !digest.Equal(etag, md5hex) {
		return "", &vim.ChecksumError{What: "the object Pithos+ stored (ETag)", Algorithm: "md5", Expected: md5hex, Actual: strings.ToLower(etag)}
	}
	return md5hex, nil
}

// eofReader notes that its reader reached its end, so that an upload cut
// short is never taken for a whole one.
type eofReader struct {
	r   io.Reader
	eof bool
}

func (e *eofReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err == io.EOF {
		e.eof = true
	}
	return n, err
}

// register POSTs the image's metadata to Plankton.
func (d *Driver) register(ctx context.Context, spec vim.ImageSpec, object, disk, container, md5hex string, size int64) (*vim.Image, error) {
	h := http.Header{}
	h.Set("X-Image-Meta-Name", spec.Name)
	h.Set("X-Image-Meta-Location", d.location(object))
	h.Set("X-Image-Meta-Disk-Format", disk)
	h.Set("X-Image-Meta-Container-Format", container)
	h.Set("X-Image-Meta-Size", strconv.FormatInt(size, 10))
	h.Set("X-Image-Meta-Checksum", md5hex)
	h.Set("X-Image-Meta-Is-Public", strconv.FormatBool(d.st.public))
	props := map[string]string{}
	for k, v := range spec.Labels {
		props[k] = v
	}
	if spec.Version != "" {
		props[propVersion] = spec.Version
	}
	if spec.MinDisk > 0 {
		props[propMinDisk] = strconv.FormatInt(spec.MinDisk, 10)
	}
	if spec.MinRAM > 0 {
		props[propMinRAM] = strconv.FormatInt(spec.MinRAM, 10)
	}
	if spec.Checksum.Hash != "" {
		props[propChecksum] = spec.Checksum.Algorithm + ":" + strings.ToLower(spec.Checksum.Hash)
	}
	for k, v := range props {
		h.Set("X-Image-Meta-Property-"+k, v)
	}
	resp, _, err := d.do(ctx, request{method: http.MethodPost, url: d.st.images.String() + "/images/", header: h,
		timeout: d.st.callTimeout, what: "registering image " + spec.Name}, false)
	if err != nil {
		return nil, err
	}
	im := imageFromHeaders(resp.Header)
	if im.ID == "" {
		return nil, fmt.Errorf("%w: plankton: registering image %s: no X-Image-Meta-Id in the answer", vim.ErrUnavailable, spec.Name)
	}
	if im.Checksum.Hash != "" && !digest.Equal(im.Checksum.Hash, md5hex) {
		return nil, &vim.ChecksumError{What: "the checksum Plankton registered", Algorithm: "md5", Expected: md5hex, Actual: im.Checksum.Hash}
	}
	return im, nil
}

// dropObject deletes an uploaded object after a failure (even if ctx was
// cancelled meanwhile) and returns the failure, saying whether the object
// stayed.
func (d *Driver) dropObject(ctx context.Context, object string, cause error) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.st.callTimeout)
	defer cancel()
	_, _, err := d.do(ctx, request{method: http.MethodDelete, url: d.objectURL(d.st.container, object), timeout: d.st.callTimeout,
		what: "deleting object " + object}, true)
	if err != nil {
		return fmt.Errorf("%w (the object %s stays in Pithos+: %v)", cause, d.location(object), err)
	}
	return cause
}

// imageFromHeaders reads the X-Image-Meta-* headers of a POST or HEAD
// answer. Plankton's guide spells a few of them X-Meta-Image-*; both are
// read.
func imageFromHeaders(h http.Header) *vim.Image {
	get := func(name string) string {
		if v := h.Get("X-Image-Meta-" + name); v != "" {
			return v
		}
		return h.Get("X-Meta-Image-" + name)
	}
	im := &vim.Image{
		ID:              get("Id"),
		Name:            get("Name"),
		Status:          strings.ToLower(get("Status")),
		DiskFormat:      get("Disk-Format"),
		ContainerFormat: get("Container-Format"),
	}
	im.Size, _ = strconv.ParseInt(get("Size"), 10, 64)
	if c := get("Checksum"); c != "" {
		im.Checksum = vim.Checksum{Algorithm: "md5", Hash: strings.ToLower(c)}
	}
	if t, err := time.Parse(time.RFC3339, get("Created_at")); err == nil {
		im.CreatedAt = t
	}
	const prefix = "X-Image-Meta-Property-"
	for k, v := range h {
		if !strings.HasPrefix(k, prefix) || len(v) == 0 {
			continue
		}
		name := strings.ToLower(k[len(prefix):])
		if name == propVersion {
			im.Version = v[0]
			continue
		}
		if im.Labels == nil {
			im.Labels = map[string]string{}
		}
		im.Labels[name] = v[0]
	}
	return im
}

// imageURL is the URL of one image of the image API.
func (d *Driver) imageURL(id string) string {
	return d.st.images.String() + "/images/" + url.PathEscape(id)
}

// QueryImage implements vim.Driver: HEAD /images/ID.
func (d *Driver) QueryImage(ctx context.Context, id string) (*vim.Image, error) {
	resp, _, err := d.do(ctx, request{method: http.MethodHead, url: d.imageURL(id), timeout: d.st.callTimeout, what: "reading image " + id}, false)
	if err != nil {
		return nil, err
	}
	im := imageFromHeaders(resp.Header)
	if im.ID == "" {
		im.ID = id
	}
	return im, nil
}

// listedImage is an entry of GET /images.
type listedImage struct {
	ID              string `json:"id"`
	Name            string `json:"name"`
	Status          string `json:"status"`
	DiskFormat      string `json:"disk_format"`
	ContainerFormat string `json:"container_format"`
	Size            int64  `json:"size"`
}

// ListImages implements vim.Driver: GET /images, every image the token
// can see (its own, shared with it, public).
func (d *Driver) ListImages(ctx context.Context) ([]vim.Image, error) {
	_, body, err := d.do(ctx, request{method: http.MethodGet, url: d.st.images.String() + "/images/", timeout: d.st.callTimeout, what: "listing images"}, false)
	if err != nil {
		return nil, err
	}
	var list []listedImage
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, fmt.Errorf("%w: plankton: listing images: the answer is not a JSON list of images: %v", vim.ErrUnavailable, err)
	}
	out := make([]vim.Image, 0, len(list))
	for _, l := range list {
		out = append(out, vim.Image{ID: l.ID, Name: l.Name, Status: strings.ToLower(l.Status), DiskFormat: l.DiskFormat, ContainerFormat: l.ContainerFormat, Size: l.Size})
	}
	return out, nil
}

// DeleteImage implements vim.Driver: the registration (DELETE /images/ID,
// the Image API v1 call Plankton extends) and then the Pithos+ object it
// points at. An image already gone is no error.
func (d *Driver) DeleteImage(ctx context.Context, id string) error {
	resp, _, err := d.do(ctx, request{method: http.MethodHead, url: d.imageURL(id), timeout: d.st.callTimeout, what: "reading image " + id}, true)
	if err != nil {
		return err
	}
	if resp.StatusCode == http.StatusNotFound {
		return nil
	}
	loc := resp.Header.Get("X-Image-Meta-Location")
	if _, _, err := d.do(ctx, request{method: http.MethodDelete, url: d.imageURL(id), timeout: d.st.callTimeout, what: "deleting image " + id}, true); err != nil {
		return err
	}
	prefix := "pithos://" + d.st.account + "/" + d.st.container + "/"
	object, ok := strings.CutPrefix(loc, prefix)
	if !ok {
		return nil // not an object this driver uploaded: leave it
	}
	_, _, err = d.do(ctx, request{method: http.MethodDelete, url: d.objectURL(d.st.container, object), timeout: d.st.callTimeout,
		what: "deleting object " + object}, true)
	return err
}
