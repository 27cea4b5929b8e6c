package oci

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"time"
)

// Layout names the layer's layout. It is stored with every digest: a
// change to the header or padding written here must change it, so that
// digests computed under the old layout are computed again.
const Layout = "containerdisk-tar-v1"

// The containerDisk convention of KubeVirt: the disk is the one file under
// /disk, readable by the qemu user of its launcher pod (uid and gid 107).
const (
	diskDir  = "disk/"
	diskUID  = 107
	diskGID  = 107
	diskMode = 0o440
	dirMode  = 0o555
	block    = 512
	// endBlocks is the tar end-of-archive marker: two zero blocks.
	endBlocks = 2 * block
)

// epoch is the modification time of the layer's entries: a fixed time, so
// that the layer of the same image is the same bytes whenever it is made.
var epoch = time.Unix(0, 0)

// LayerPath is where the layer holds the file of a package path:
// disk/<file name>.
func LayerPath(imagePath string) string { return diskDir + path.Base(imagePath) }

// layerHeader returns the tar headers that precede the image bytes: the
// disk/ directory, then disk/<file> of size bytes, both owned 107:107.
func layerHeader(imagePath string, size int64) ([]byte, error) {
	file := path.Base(imagePath)
	if file == "." || file == "/" || file == "" {
		return nil, fmt.Errorf("software image path %q has no file name", imagePath)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	hdrs := []*tar.Header{
		{Typeflag: tar.TypeDir, Name: diskDir, Mode: dirMode, Uid: diskUID, Gid: diskGID, ModTime: epoch},
		{Typeflag: tar.TypeReg, Name: diskDir + file, Mode: diskMode, Uid: diskUID, Gid: diskGID, ModTime: epoch, Size: size},
	}
	for _, h := range hdrs {
		// WriteHeader writes the header blocks at once; the file's bytes
		// are not written here (they are streamed from the package), so
		// the writer is never closed.
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("tar header for %s: %w", h.Name, err)
		}
	}
	return buf.Bytes(), nil
}

// trailerSize is the padding of size bytes to a whole block plus the end
// of the archive.
func trailerSize(size int64) int64 { return (block-size%block)%block + endBlocks }

// layer is the layout of one image's layer: header, image, trailer.
type layer struct {
	header    []byte
	imageSize int64
}

func newLayer(imagePath string, imageSize int64) (layer, error) {
	h, err := layerHeader(imagePath, imageSize)
	if err != nil {
		return layer{}, err
	}
	return layer{header: h, imageSize: imageSize}, nil
}

// size is the layer's length in bytes.
func (l layer) size() int64 { return int64(len(l.header)) + l.imageSize + trailerSize(l.imageSize) }

// reader returns the layer over image, an io.ReadSeeker of the image's
// bytes: the three segments are read in turn and seeks land in the one
// that holds the offset, so that a Range on the layer reads only the
// part of the image it covers.
func (l layer) reader(image io.ReadSeeker) io.ReadSeeker {
	return &segments{parts: []segment{
		{size: int64(len(l.header)), r: bytes.NewReader(l.header)},
		{size: l.imageSize, r: image},
		{size: trailerSize(l.imageSize), r: zeros{}},
	}}
}

// digest reads the whole layer over image and returns its sha256 digest.
// A short image (the package's member is smaller than its header says)
// is an error, never a digest.
func (l layer) digest(ctx context.Context, image io.ReadSeeker) (string, error) {
	h := sha256.New()
	n, err := io.Copy(h, ctxReader{ctx, l.reader(image)})
	if err != nil {
		return "", err
	}
	if n != l.size() {
		return "", fmt.Errorf("layer is %d bytes, expected %d: the image is shorter than its archive entry says", n, l.size())
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// segment is a part of the layer: size bytes read from r.
type segment struct {
	size int64
	r    io.ReadSeeker
}

// segments reads its parts one after the other, as one io.ReadSeeker.
type segments struct {
	parts []segment
	pos   int64
	// cur is the part holding pos and seeked says whether that part's
	// reader is already at pos (it is not after a Seek).
	cur    int
	seeked bool
}

func (s *segments) Read(p []byte) (int, error) {
	for s.cur < len(s.parts) {
		part := &s.parts[s.cur]
		start := s.start(s.cur)
		if s.pos >= start+part.size {
			s.cur++
			s.seeked = false
			continue
		}
		if !s.seeked {
			if _, err := part.r.Seek(s.pos-start, io.SeekStart); err != nil {
				return 0, err
			}
			s.seeked = true
		}
		left := start + part.size - s.pos
		if int64(len(p)) > left {
			p = p[:left]
		}
		n, err := part.r.Read(p)
		s.pos += int64(n)
		if err == io.EOF {
			if s.pos < start+part.size {
				return n, io.ErrUnexpectedEOF
			}
			err = nil
		}
		return n, err
	}
	return 0, io.EOF
}

// start is the offset of part i.
func (s *segments) start(i int) int64 {
	var off int64
	for _, p := range s.parts[:i] {
		off += p.size
	}
	return off
}

func (s *segments) Seek(offset int64, whence int) (int64, error) {
	var total int64
	for _, p := range s.parts {
		total += p.size
	}
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += s.pos
	case io.SeekEnd:
		offset += total
	default:
		return 0, errors.New("segments: bad whence")
	}
	if offset < 0 {
		return 0, errors.New("segments: seek before the start")
	}
	s.pos, s.cur, s.seeked = offset, 0, false
	for s.cur < len(s.parts)-1 && offset >= s.start(s.cur+1) {
		s.cur++
	}
	return offset, nil
}

// zeros reads zero bytes for ever (its segment bounds it).
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func (zeros) Seek(int64, int) (int64, error) { return 0, nil }

// ctxReader stops a long read (a digest of a large image) when ctx ends.
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
