// Package ocipull pulls OCI images over HTTP the way the stand-ins of the
// seed's VIMs do (the Cloud Hypervisor dataplane, Flintlock): the
// manifest, the config and every layer, each checked against its digest
// while it streams, before what a layer holds is believed.
package ocipull

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Kinds of failure.
const (
	InvalidReference = "invalid_reference"
	PullFailed       = "pull_failed" // the registry could not be read
	DigestMismatch   = "digest_mismatch"
	InvalidImage     = "invalid_image"
)

// Error is a failed pull.
type Error struct {
	Kind, Message string
}

func (e *Error) Error() string { return e.Kind + ": " + e.Message }

func fail(kind, format string, args ...any) *Error {
	return &Error{kind, fmt.Sprintf(format, args...)}
}

// Image is what a pull found.
type Image struct {
	ManifestDigest string
	// Files are the regular files of the layers, by path, with their size.
	Files map[string]int64
	// SHA256 are the hex sha256 of the regular files' contents, by path:
	// what a stand-in checks the bytes it booted or attached against.
	SHA256 map[string]string
}

// Options changes a pull for tests.
type Options struct {
	// Corrupt flips a byte of every layer as it arrives (a transfer gone
	// wrong): the digest check must refuse it.
	Corrupt bool
	// File, when set, reads each regular file of the layers as it streams
	// by (path as in the tar, its bytes). What it learns must only be
	// believed once Pull returns nil: a layer's digest is checked after
	// its last byte. An error of File fails the pull (PullFailed).
	File func(path string, r io.Reader) error
}

// Pull fetches HOST[:PORT]/REPO:TAG or HOST[:PORT]/REPO@DIGEST from a
// plain-HTTP registry.
func Pull(ctx context.Context, client *http.Client, ref string, opt Options) (*Image, error) {
	host, repo, reference, err := ParseReference(ref)
	if err != nil {
		return nil, fail(InvalidReference, "%v", err)
	}
	base := "http://" + host + "/v2/" + repo
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/manifests/"+reference, nil)
	req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fail(PullFailed, "fetching the manifest of %s: %v", ref, err)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		return nil, fail(PullFailed, "fetching the manifest of %s: %s %s", ref, resp.Status, body)
	}
	digest := "sha256:" + sha256Hex(body)
	if strings.HasPrefix(reference, "sha256:") && digest != reference {
		return nil, fail(DigestMismatch, "manifest of %s has digest %s", ref, digest)
	}
	if got := resp.Header.Get("Docker-Content-Digest"); got != "" && got != digest {
		return nil, fail(DigestMismatch, "manifest of %s has digest %s, the registry says %s", ref, digest, got)
	}
	var m struct {
		SchemaVersion int `json:"schemaVersion"`
		Config        struct {
			Digest string `json:"digest"`
			Size   int64  `json:"size"`
		} `json:"config"`
		Layers []struct {
			MediaType string `json:"mediaType"`
			Digest    string `json:"digest"`
			Size      int64  `json:"size"`
		} `json:"layers"`
	}
	if err := json.Unmarshal(body, &m); err != nil || m.SchemaVersion != 2 || len(m.Layers) == 0 {
		return nil, fail(InvalidImage, "%s is not an OCI image manifest with layers", ref)
	}
	img := &Image{ManifestDigest: digest, Files: map[string]int64{}, SHA256: map[string]string{}}
	if err := fetchBlob(ctx, client, base, m.Config.Digest, m.Config.Size, nil, nil, Options{}); err != nil {
		return nil, err
	}
	for _, l := range m.Layers {
		if l.MediaType != "application/vnd.oci.image.layer.v1.tar" {
			return nil, fail(InvalidImage, "layer %s is %s: only uncompressed tar layers are converted", l.Digest, l.MediaType)
		}
		if err := fetchBlob(ctx, client, base, l.Digest, l.Size, img.Files, img.SHA256, opt); err != nil {
			return nil, err
		}
	}
	return img, nil
}

// fetchBlob streams a blob through its digest check; a layer's regular
// files go into files and their sha256 into sums (nil for the config).
func fetchBlob(ctx context.Context, client *http.Client, base, digest string, size int64, files map[string]int64, sums map[string]string, opt Options) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/blobs/"+digest, nil)
	resp, err := client.Do(req)
	if err != nil {
		return fail(PullFailed, "fetching blob %s: %v", digest, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fail(PullFailed, "fetching blob %s: %s", digest, resp.Status)
	}
	h := sha256.New()
	var src io.Reader = resp.Body
	if opt.Corrupt {
		src = &flipFirst{r: src}
	}
	cr := &countReader{r: io.TeeReader(src, h)}
	var tarErr error
	if files != nil {
		tarErr = listFiles(cr, files, sums, opt.File)
	}
	var fe *fileError
	if errors.As(tarErr, &fe) {
		return fail(PullFailed, "reading %s of layer %s: %v", fe.path, digest, fe.err)
	}
	// The rest (after the end blocks, or after a header that did not
	// parse) is read too: the digest covers every byte and is checked
	// before what the layer holds, as a content store does.
	if _, err := io.Copy(io.Discard, cr); err != nil {
		return fail(PullFailed, "reading blob %s: %v", digest, err)
	}
	if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != digest || cr.n != size {
		return fail(DigestMismatch, "blob %s: got %d bytes with digest %s, the manifest says %d bytes", digest, cr.n, got, size)
	}
	if tarErr != nil {
		return fail(InvalidImage, "layer %s is not a tar: %v", digest, tarErr)
	}
	return nil
}

// listFiles records the regular files of a tar stream and their sha256,
// each read by read when it is set.
func listFiles(r io.Reader, files map[string]int64, sums map[string]string, read func(string, io.Reader) error) error {
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if hdr.Typeflag == tar.TypeReg {
			files[hdr.Name] = hdr.Size
			h := sha256.New()
			if read != nil {
				if err := read(hdr.Name, io.TeeReader(tr, h)); err != nil {
					return &fileError{hdr.Name, err}
				}
			}
			// What read left of the file (all of it without read).
			if _, err := io.Copy(h, tr); err != nil {
				return err
			}
			sums[hdr.Name] = hex.EncodeToString(h.Sum(nil))
		}
	}
}

// fileError is an error of Options.File, told apart from a tar that does
// not parse.
type fileError struct {
	path string
	err  error
}

func (e *fileError) Error() string { return e.path + ": " + e.err.Error() }

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// flipFirst inverts the first byte it reads.
type flipFirst struct {
	r    io.Reader
	done bool
}

func (f *flipFirst) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if n > 0 && !f.done {
		p[0] ^= 0xff
		f.done = true
	}
	return n, err
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// ParseReference splits HOST[:PORT]/REPO(:TAG|@DIGEST); no tag is "latest".
func ParseReference(ref string) (host, repo, reference string, err error) {
	host, rest, ok := strings.Cut(ref, "/")
	if !ok || host == "" || rest == "" {
		return "", "", "", fmt.Errorf("%q is not HOST/REPOSITORY:TAG or HOST/REPOSITORY@DIGEST", ref)
	}
	if repo, reference, ok = strings.Cut(rest, "@"); ok {
		return host, repo, reference, nil
	}
	i := strings.LastIndexByte(rest, ':')
	if i < 0 {
		return host, rest, "latest", nil
	}
	return host, rest[:i], rest[i+1:], nil
}
