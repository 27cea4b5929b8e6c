package openstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/vnfpkgm/vnfpkgm/csar/digest"
	"github.com/vnfpkgm/vnfpkgm/vim"
)

// defaultHashAlgorithms are computed over the bytes sent to Glance, in the
// same single pass that uploads them.
//
// Glance reports the digest of what it stored as os_hash_algo and
// os_hash_value, with the algorithm its operator configured
// ([DEFAULT] hashing_algorithm, sha512 by default). The API does not say
// which algorithm that is until the upload is over, and spec.Content can be
// read only once; buffering the image would cost its whole size in memory
// or on disk. So the driver computes, in parallel while streaming, every
// algorithm a deployment realistically configures: sha512 (the default),
// the other SHA-2 and SHA-3 sizes used in practice, blake2b, and sha1 and
// md5 (md5 is also the legacy "checksum" field of Glance before Rocky).
// Should Glance report anything else (blake2s, sha224, ...), the driver
// downloads the stored image once and checks both that it has the SHA-512
// of the bytes sent and that Glance's own digest is right: still a proof
// that Glance stored exactly what was sent, at the cost of one download.
// Options["hash_algorithms"] replaces the list for a cloud known to use
// one algorithm.
var defaultHashAlgorithms = []string{"sha512", "sha256", "sha384", "sha3_512", "sha3_256", "blake2b", "sha1", "md5"}

// referenceAlgorithm is always computed: the fallback check compares a
// download of the stored image with the bytes sent in it.
const referenceAlgorithm = "sha512"

func parseHashAlgorithms(s string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		a, ok := digest.Lookup(f)
		if !ok {
			return nil, fmt.Errorf("%w: openstack: hash_algorithms: unknown algorithm %q (known: %s)", vim.ErrInvalid, f, strings.Join(digest.Names(), ", "))
		}
		if a.Extendable() {
			return nil, fmt.Errorf("%w: openstack: hash_algorithms: %s has no fixed size, Glance cannot use it", vim.ErrInvalid, a.Name)
		}
		out = append(out, a.Name)
	}
	return out, nil
}

// Glance's own properties, which are not labels.
var glanceKeys = map[string]bool{
	"stores": true, "direct_url": true, "locations": true, "properties": true,
	"version": true, "self": true, "virtual_size": true,
}

// labelKey reports whether a Glance property is a label set by AddImage.
func labelKey(k string) bool {
	return !glanceKeys[k] && !strings.HasPrefix(k, "os_") && !strings.HasPrefix(k, "owner_specified.")
}

func toImage(g *images.Image) *vim.Image {
	im := &vim.Image{
		ID:              g.ID,
		Name:            g.Name,
		Status:          string(g.Status),
		ContainerFormat: g.ContainerFormat,
		DiskFormat:      g.DiskFormat,
		Size:            g.SizeBytes,
		CreatedAt:       g.CreatedAt,
	}
	algo, value := glanceHash(g)
	if algo != "" {
		if a, ok := digest.Lookup(algo); ok {
			algo = a.Name
		}
		im.Checksum = vim.Checksum{Algorithm: algo, Hash: value}
	}
	for k, v := range g.Properties {
		s, ok := v.(string)
		if !ok {
			continue
		}
		if k == "version" {
			im.Version = s
			continue
		}
		if labelKey(k) {
			if im.Labels == nil {
				im.Labels = map[string]string{}
			}
			im.Labels[k] = s
		}
	}
	return im
}

// glanceHash returns the digest Glance computed of the stored data:
// os_hash_algo/os_hash_value (Rocky and later), else the legacy md5
// checksum.
func glanceHash(g *images.Image) (algo, value string) {
	a, _ := g.Properties["os_hash_algo"].(string)
	v, _ := g.Properties["os_hash_value"].(string)
	if a != "" && v != "" {
		return a, v
	}
	if g.Checksum != "" {
		return "md5", g.Checksum
	}
	return "", ""
}

// ceilDiv rounds n/unit up; n <= 0 gives 0.
func ceilDiv(n, unit int64) int {
	if n <= 0 {
		return 0
	}
	return int((n + unit - 1) / unit)
}

// AddImage implements vim.Driver: it creates the Glance image, uploads
// spec.Content while hashing it, waits until the image is active and checks
// what Glance stored against what was sent (see defaultHashAlgorithms) and
// the bytes sent against the VNFD's checksum. An image failing a check is
// deleted and a *vim.ChecksumError returned.
func (d *Driver) AddImage(ctx context.Context, spec vim.ImageSpec) (*vim.Image, error) {
	c, err := d.imageClient()
	if err != nil {
		return nil, err
	}
	if spec.Name == "" || spec.Content == nil {
		return nil, fmt.Errorf("%w: openstack: an image needs a name and content", vim.ErrInvalid)
	}
	if spec.ContainerFormat == "" || spec.DiskFormat == "" {
		return nil, fmt.Errorf("%w: openstack: image %q needs a container format and a disk format", vim.ErrInvalid, spec.Name)
	}
	// Every digest wanted, checked before anything is created. Index 0 is
	// the reference, then the declared checksum if any, then the rest.
	wants := []digest.Want{{Algorithm: referenceAlgorithm}}
	declared := -1
	if spec.Checksum.Algorithm != "" || spec.Checksum.Hash != "" {
		w := digest.Want{Algorithm: spec.Checksum.Algorithm, Expected: spec.Checksum.Hash}
		if w.Expected == "" {
			return nil, fmt.Errorf("%w: openstack: image %q: checksum algorithm %q without a hash", vim.ErrInvalid, spec.Name, w.Algorithm)
		}
		if err := digest.Validate(w); err != nil {
			return nil, fmt.Errorf("%w: openstack: image %q: %v", vim.ErrInvalid, spec.Name, err)
		}
		declared = len(wants)
		wants = append(wants, w)
	}
	for _, a := range d.hashAlgs {
		wants = append(wants, digest.Want{Algorithm: a})
	}

	props := map[string]string{}
	for k, v := range spec.Labels {
		props[k] = v
	}
	if spec.Version != "" {
		props["version"] = spec.Version
	}
	created, err := images.Create(ctx, c, images.CreateOpts{
		Name:            spec.Name,
		ContainerFormat: strings.ToLower(spec.ContainerFormat),
		DiskFormat:      strings.ToLower(spec.DiskFormat),
		MinDisk:         ceilDiv(spec.MinDisk, 1<<30),
		MinRAM:          ceilDiv(spec.MinRAM, 1<<20),
		Properties:      props,
	}).Extract()
	if err != nil {
		return nil, mapErr(err, "creating image "+spec.Name)
	}
	id := created.ID
	fail := func(e error) (*vim.Image, error) {
		ie := &ImageError{ImageID: id, Err: e}
		if derr := d.deleteQuietly(ctx, id); derr != nil {
			ie.DeleteErr = derr
			return nil, ie
		}
		ie.Deleted = true
		return nil, ie
	}

	results, sent, err := d.upload(ctx, c, id, spec.Content, wants)
	if err != nil {
		return fail(err)
	}
	if spec.Size > 0 && sent != spec.Size {
		return fail(fmt.Errorf("%w: openstack: image %q: %d bytes read, the spec says %d", vim.ErrInvalid, spec.Name, sent, spec.Size))
	}
	if declared >= 0 && !results[declared].Match {
		r := results[declared]
		return fail(&vim.ChecksumError{What: "the bytes sent (VNFD checksum of " + spec.Name + ")", Algorithm: r.Algorithm.Name, Expected: strings.ToLower(spec.Checksum.Hash), Actual: r.Hex})
	}

	g, err := d.waitActive(ctx, c, id)
	if err != nil {
		return fail(err)
	}
	if g.SizeBytes != sent {
		return fail(&vim.ChecksumError{What: "the size of the image Glance stored", Algorithm: "size", Expected: fmt.Sprint(sent), Actual: fmt.Sprint(g.SizeBytes)})
	}
	algo, value := glanceHash(g)
	if algo == "" {
		return fail(fmt.Errorf("%w: openstack: Glance reported no digest for image %s", vim.ErrChecksum, id))
	}
	a, ok := digest.Lookup(algo)
	if !ok || a.Extendable() {
		return fail(fmt.Errorf("%w: openstack: Glance hashes with %q, which cannot be checked here", vim.ErrNotSupported, algo))
	}
	var computed *digest.Result
	for i := range results {
		if results[i].Algorithm == a {
			computed = &results[i]
			break
		}
	}
	if computed != nil {
		if !digest.Equal(computed.Hex, value) {
			return fail(&vim.ChecksumError{What: "the image Glance stored", Algorithm: a.Name, Expected: computed.Hex, Actual: strings.ToLower(value)})
		}
	} else if err := d.verifyByDownload(ctx, c, id, a, value, results[0]); err != nil {
		return fail(err)
	}
	return toImage(g), nil
}

// ImageError is what AddImage returns once Glance has an image: it names
// the image and says whether the driver deleted it again (it always tries).
// It unwraps to the cause, e.g. a *vim.ChecksumError.
type ImageError struct {
	ImageID   string
	Deleted   bool
	DeleteErr error // why deleting failed, when it did
	Err       error
}

func (e *ImageError) Error() string {
	switch {
	case e.Deleted:
		return fmt.Sprintf("%v (image %s deleted)", e.Err, e.ImageID)
	case e.DeleteErr != nil:
		return fmt.Sprintf("%v (deleting image %s failed: %v)", e.Err, e.ImageID, e.DeleteErr)
	}
	return fmt.Sprintf("%v (image %s)", e.Err, e.ImageID)
}

func (e *ImageError) Unwrap() error { return e.Err }

// upload streams content to Glance while digest.Sum hashes the same bytes
// in parallel from a pipe; it returns the digests and the byte count.
func (d *Driver) upload(ctx context.Context, c *gophercloud.ServiceClient, id string, content io.Reader, wants []digest.Want) ([]digest.Result, int64, error) {
	pr, pw := io.Pipe()
	type sumOut struct {
		res []digest.Result
		n   int64
		err error
	}
	done := make(chan sumOut, 1)
	go func() {
		res, n, err := digest.Sum(ctx, pr, wants)
		// Unblock the uploader if hashing stopped early.
		pr.CloseWithError(errors.Join(err, io.ErrClosedPipe))
		done <- sumOut{res, n, err}
	}()
	body := &readCounter{r: io.TeeReader(content, pw)}
	upErr := imagedata.Upload(ctx, c, id, body).ExtractErr()
	if upErr != nil {
		pw.CloseWithError(upErr)
	} else {
		pw.Close()
	}
	out := <-done
	if upErr != nil {
		return nil, 0, mapErr(upErr, "uploading image "+id)
	}
	if out.err != nil {
		return nil, 0, fmt.Errorf("openstack: hashing image %s: %w", id, out.err)
	}
	if out.n != body.n || !body.eof {
		return nil, 0, fmt.Errorf("%w: openstack: uploading image %s: the upload ended after %d of the bytes read", vim.ErrUnavailable, id, out.n)
	}
	return out.res, out.n, nil
}

// readCounter counts the bytes read and notes the end of the stream, so an
// upload cut short by the HTTP client is never taken for a whole one.
type readCounter struct {
	r   io.Reader
	n   int64
	eof bool
}

func (rc *readCounter) Read(p []byte) (int, error) {
	n, err := rc.r.Read(p)
	rc.n += int64(n)
	if err == io.EOF {
		rc.eof = true
	}
	return n, err
}

// waitActive polls the image until it is active, failing if Glance gives up
// on it or d.imageTimeout passes.
func (d *Driver) waitActive(ctx context.Context, c *gophercloud.ServiceClient, id string) (*images.Image, error) {
	deadline := time.Now().Add(d.imageTimeout)
	for {
		g, err := images.Get(ctx, c, id).Extract()
		if err != nil {
			return nil, mapErr(err, "reading image "+id)
		}
		switch g.Status {
		case images.ImageStatusActive:
			return g, nil
		case images.ImageStatusKilled, images.ImageStatusDeleted, images.ImageStatusPendingDelete, images.ImageStatusDeactivated:
			return nil, fmt.Errorf("%w: openstack: image %s is %s", vim.ErrUnavailable, id, g.Status)
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%w: openstack: image %s still %s after %s", vim.ErrUnavailable, id, g.Status, d.imageTimeout)
		}
		if err := sleep(ctx, d.poll); err != nil {
			return nil, fmt.Errorf("openstack: waiting for image %s: %w", id, err)
		}
	}
}

// verifyByDownload checks a stored image whose digest algorithm was not
// computed during the upload: the download must have the reference digest
// of the bytes sent, and Glance's digest.
func (d *Driver) verifyByDownload(ctx context.Context, c *gophercloud.ServiceClient, id string, a digest.Algorithm, value string, sent digest.Result) error {
	rc, err := imagedata.Download(ctx, c, id).Extract()
	if err != nil {
		return mapErr(err, "downloading image "+id+" to verify it")
	}
	defer rc.Close()
	res, _, err := digest.Sum(ctx, rc, []digest.Want{{Algorithm: sent.Algorithm.Name, Expected: sent.Hex}, {Algorithm: a.Name, Expected: value}})
	if err != nil {
		return fmt.Errorf("%w: openstack: downloading image %s to verify it: %v", vim.ErrUnavailable, id, err)
	}
	if !res[0].Match {
		return &vim.ChecksumError{What: "the image Glance stored (downloaded)", Algorithm: sent.Algorithm.Name, Expected: sent.Hex, Actual: res[0].Hex}
	}
	if !res[1].Match {
		return &vim.ChecksumError{What: "the digest Glance reported", Algorithm: a.Name, Expected: res[1].Hex, Actual: strings.ToLower(value)}
	}
	return nil
}

// deleteQuietly removes an image that failed a check, even if ctx was
// cancelled meanwhile.
func (d *Driver) deleteQuietly(ctx context.Context, id string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	return d.DeleteImage(ctx, id)
}

// QueryImage implements vim.Driver.
func (d *Driver) QueryImage(ctx context.Context, id string) (*vim.Image, error) {
	c, err := d.imageClient()
	if err != nil {
		return nil, err
	}
	g, err := images.Get(ctx, c, id).Extract()
	if err != nil {
		return nil, mapErr(err, "reading image "+id)
	}
	return toImage(g), nil
}

// ListImages implements vim.Driver: every image the credentials can see.
func (d *Driver) ListImages(ctx context.Context) ([]vim.Image, error) {
	c, err := d.imageClient()
	if err != nil {
		return nil, err
	}
	pages, err := images.List(c, images.ListOpts{}).AllPages(ctx)
	if err != nil {
		return nil, mapErr(err, "listing images")
	}
	all, err := images.ExtractImages(pages)
	if err != nil {
		return nil, mapErr(err, "listing images")
	}
	out := make([]vim.Image, 0, len(all))
	for i := range all {
		out = append(out, *toImage(&all[i]))
	}
	return out, nil
}

// DeleteImage implements vim.Driver; an image already gone is no error.
func (d *Driver) DeleteImage(ctx context.Context, id string) error {
	c, err := d.imageClient()
	if err != nil {
		return err
	}
	if err := images.Delete(ctx, c, id).ExtractErr(); err != nil && !isNotFound(err) {
		return mapErr(err, "deleting image "+id)
	}
	return nil
}
