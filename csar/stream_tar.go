package csar

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"fmt"
	"hash/crc32"
	"io"
)

// countingReader counts the bytes read through it: archive/tar reads
// headers and contents without buffering ahead, so after Next the count
// is where the member's bytes start.
type countingReader struct {
	r     io.Reader
	n     int64
	total *int64 // also added to, when not nil
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.total != nil {
		*c.total += int64(n)
	}
	return n, err
}

// followTarGz decompresses the stream and follows the tar inside; its
// offsets are in the decompressed stream, as the archive index's are.
//
// The decompressed stream is bounded as the archive index bounds a tar.gz
// (MaxRatio of the archive as a whole): the index refuses more before
// decompressing anything, so decompressing more here is wasted.
func (p *streamParser) followTarGz(br *bufio.Reader) {
	gz, err := gzip.NewReader(br)
	if err != nil {
		p.stop("gzip: " + err.Error())
		return
	}
	defer gz.Close()
	// gzip reads br byte by byte (an io.ByteReader): what br handed out
	// is what was consumed.
	streamed := func() int64 { return p.src.n - int64(br.Buffered()) }
	p.followTar(&inflateBound{r: gz, total: &p.out.Work.Inflated, streamLimit: func() int64 { return p.limits.ratioBound(streamed()) }})
}

// followTar digests every regular member of a tar stream.
func (p *streamParser) followTar(r io.Reader) {
	cr := &countingReader{r: r}
	tr := tar.NewReader(cr)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			p.stop("tar: " + err.Error())
			return
		}
		if hdr.Typeflag != tar.TypeReg && hdr.Typeflag != tar.TypeRegA {
			continue
		}
		name := cleanMemberName(hdr.Name)
		e := PrecomputedEntry{Name: hdr.Name, DataOffset: cr.n}
		crc := crc32.NewIEEE()
		results, n, text, err := p.digestMember(name, io.TeeReader(tr, crc))
		if err != nil {
			p.stop(fmt.Sprintf("member %q: %v", hdr.Name, err))
			return
		}
		e.Size, e.CompressedSize, e.CRC32 = n, n, crc.Sum32()
		p.learn(name, text)
		if !p.record(e, results) {
			return
		}
	}
}
