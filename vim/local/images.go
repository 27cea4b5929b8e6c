package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/vnfpkgm/vnfpkgm/csar/digest"
	"github.com/vnfpkgm/vnfpkgm/vim"
)

func newID() string { return uuid.NewString() }

// qemuFormats maps a SOL 001 / Glance disk_format to the format name
// `qemu-img info` reports for such a file.
var qemuFormats = map[string]string{
	"qcow2": "qcow2",
	"raw":   "raw",
	"iso":   "raw", // qemu-img sees an ISO 9660 image as raw
	"vmdk":  "vmdk",
	"vdi":   "vdi",
	"vhd":   "vpc",
	"vhdx":  "vhdx",
	"ploop": "parallels",
	"ami":   "raw",
	"ari":   "raw",
	"aki":   "raw",
}

func (d *Driver) imagePath(id string) string     { return filepath.Join(d.dir, "images", id) }
func (d *Driver) imageMetaPath(id string) string { return d.imagePath(id) + ".json" }

// ctxReader stops a copy when ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// qemuImgInfo is the part of `qemu-img info --output=json` used here.
type qemuImgInfo struct {
	Format          string `json:"format"`
	VirtualSize     int64  `json:"virtual-size"`
	BackingFilename string `json:"backing-filename"`
}

func (d *Driver) imgInfo(ctx context.Context, path, format string) (*qemuImgInfo, error) {
	args := []string{"info", "--output=json"}
	if format != "" {
		args = append(args, "-f", format)
	}
	cmd := exec.CommandContext(ctx, d.qemuImg, append(args, path)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return nil, fmt.Errorf("%w: %s is not installed (apt-get install qemu-utils)", vim.ErrUnavailable, d.qemuImg)
		}
		return nil, fmt.Errorf("%w: qemu-img info: %v: %s", vim.ErrInvalid, err, strings.TrimSpace(stderr.String()))
	}
	var info qemuImgInfo
	if err := json.Unmarshal(out, &info); err != nil {
		return nil, fmt.Errorf("qemu-img info: %w", err)
	}
	return &info, nil
}

// AddImage streams the content to a temporary file while computing its
// SHA-256 and the declared checksum, refuses a mismatch, checks the disk
// format with qemu-img, then keeps the file as images/<sha256>.
func (d *Driver) AddImage(ctx context.Context, spec vim.ImageSpec) (*vim.Image, error) {
	if spec.Content == nil {
		return nil, fmt.Errorf("%w: image %q has no content", vim.ErrInvalid, spec.Name)
	}
	diskFormat := strings.ToLower(strings.TrimSpace(spec.DiskFormat))
	want, known := qemuFormats[diskFormat]
	if !known {
		names := make([]string, 0, len(qemuFormats))
		for k := range qemuFormats {
			names = append(names, k)
		}
		sort.Strings(names)
		return nil, fmt.Errorf("%w: image %q: disk_format %q is not one the local VIM knows (%s)", vim.ErrInvalid, spec.Name, spec.DiskFormat, strings.Join(names, ", "))
	}
	for _, l := range []string{LabelKernel, LabelInitrd} {
		if p := spec.Labels[l]; p != "" {
			if st, err := os.Stat(p); err != nil || !st.Mode().IsRegular() {
				return nil, fmt.Errorf("%w: image %q: label %s: %s is not a readable file on the VIM host", vim.ErrInvalid, spec.Name, l, p)
			}
		}
	}
	wants := []digest.Want{{Algorithm: "sha256"}}
	if spec.Checksum.Algorithm != "" || spec.Checksum.Hash != "" {
		w := digest.Want{Algorithm: spec.Checksum.Algorithm, Expected: spec.Checksum.Hash}
		if err := digest.Validate(w); err != nil {
			return nil, fmt.Errorf("%w: image %q: checksum: %v", vim.ErrInvalid, spec.Name, err)
		}
		wants = append(wants, w)
	}
	multi, err := digest.NewMulti(wants)
	if err != nil {
		return nil, fmt.Errorf("%w: image %q: %v", vim.ErrInvalid, spec.Name, err)
	}

	tmp, err := os.CreateTemp(filepath.Join(d.dir, "images"), ".upload-*")
	if err != nil {
		return nil, fmt.Errorf("%w: %v", vim.ErrUnavailable, err)
	}
	kept := false
	defer func() {
		if !kept {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	n, err := io.Copy(io.MultiWriter(tmp, multi), ctxReader{ctx, spec.Content})
	if err != nil {
		return nil, fmt.Errorf("image %q: storing: %w", spec.Name, err)
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	res := multi.Results()
	sha := res[0].Hex
	if len(res) > 1 && !res[1].Match {
		return nil, &vim.ChecksumError{What: "the bytes sent", Algorithm: res[1].Algorithm.String(), Expected: strings.ToLower(spec.Checksum.Hash), Actual: res[1].Hex}
	}
	if spec.Size > 0 && n != spec.Size {
		return nil, fmt.Errorf("%w: image %q: %d bytes were declared, %d received", vim.ErrInvalid, spec.Name, spec.Size, n)
	}
	info, err := d.imgInfo(ctx, tmp.Name(), "")
	if err != nil {
		return nil, err
	}
	if info.Format != want {
		return nil, fmt.Errorf("%w: image %q: disk_format is %s but qemu-img reads the content as %s", vim.ErrInvalid, spec.Name, diskFormat, info.Format)
	}
	if info.BackingFilename != "" {
		return nil, fmt.Errorf("%w: image %q: a %s image with a backing file (%s) is refused", vim.ErrInvalid, spec.Name, info.Format, info.BackingFilename)
	}

	img := &vim.Image{
		ID:              sha,
		Name:            spec.Name,
		Version:         spec.Version,
		Status:          "active",
		ContainerFormat: strings.ToLower(spec.ContainerFormat),
		DiskFormat:      diskFormat,
		Size:            n,
		Checksum:        vim.Checksum{Algorithm: "sha256", Hash: sha},
		CreatedAt:       time.Now().UTC(),
		Labels:          maps.Clone(spec.Labels),
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if old, err := d.readImage(sha); err == nil {
		// The same bytes are already stored: one image, as content addressing wants.
		if _, err := os.Stat(d.imagePath(sha)); err == nil {
			return old, nil
		}
	}
	if err := os.Chmod(tmp.Name(), 0o444); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp.Name(), d.imagePath(sha)); err != nil {
		return nil, err
	}
	kept = true
	if err := writeJSON(d.imageMetaPath(sha), img); err != nil {
		os.Remove(d.imagePath(sha))
		return nil, err
	}
	return img, nil
}

func (d *Driver) readImage(id string) (*vim.Image, error) {
	if err := validID("image", id); err != nil {
		return nil, err
	}
	var img vim.Image
	if err := readJSON(d.imageMetaPath(id), "image", id, &img); err != nil {
		return nil, err
	}
	return &img, nil
}

// QueryImage reads an image's metadata.
func (d *Driver) QueryImage(ctx context.Context, id string) (*vim.Image, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return d.readImage(id)
}

// ListImages lists every image, oldest first.
func (d *Driver) ListImages(ctx context.Context) ([]vim.Image, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(filepath.Join(d.dir, "images"))
	if err != nil {
		return nil, err
	}
	out := []vim.Image{}
	for _, e := range ents {
		id, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || strings.HasPrefix(id, ".") {
			continue
		}
		img, err := d.readImage(id)
		if err != nil {
			continue
		}
		out = append(out, *img)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out, nil
}

// DeleteImage removes an image; a missing one is no error. An image an
// instance still runs on (or may start again on: its overlay reads the
// image) is refused with vim.ErrConflict.
func (d *Driver) DeleteImage(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := validID("image", id); err != nil {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	ins, err := d.instances()
	if err != nil {
		return err
	}
	for _, in := range ins {
		if in.ImageID == id {
			return fmt.Errorf("%w: image %s is used by compute %s (%s)", vim.ErrConflict, id, in.ID, in.Name)
		}
		for i, vi := range in.VolumeImages {
			if vi == id {
				return fmt.Errorf("%w: image %s is used by volume %s of compute %s (%s)", vim.ErrConflict, id, in.Volumes[i], in.ID, in.Name)
			}
		}
	}
	for _, p := range []string{d.imageMetaPath(id), d.imagePath(id)} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}
