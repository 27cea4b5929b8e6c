package main_test

// Range requests that cost the server more than the bytes they ask for
// (issue 15 item 4): many ranges of a compressed artifact, thousands of
// overlapping ranges, more ranges than --max-ranges, malformed ranges.

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"strings"
	"testing"
)

// byteranges reads a multipart/byteranges body: each part's Content-Range and bytes.
func byteranges(t *testing.T, r response) (ranges []string, bodies [][]byte) {
	t.Helper()
	mt, params, err := mime.ParseMediaType(r.header.Get("Content-Type"))
	if err != nil || mt != "multipart/byteranges" {
		t.Fatalf("status %d, Content-Type %q: not multipart/byteranges", r.status, r.header.Get("Content-Type"))
	}
	mr := multipart.NewReader(bytes.NewReader(r.body), params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return ranges, bodies
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		ranges = append(ranges, p.Header.Get("Content-Range"))
		bodies = append(bodies, b)
	}
}

func TestManyRanges(t *testing.T) {
	s := startServer(t, "", "--max-ranges", "50")
	deflated := binaryData(1<<20, 150)
	pkg := testPkg{vnfdID: newVnfdID(150), files: []pkgFile{{name: "Files/bin/deflated.bin", data: deflated}}}.build(t)
	id, _ := s.onboardBytes(t, pkg.zip, `{}`)
	artifact := pkgs + "/" + id + "/artifacts/Files/bin/deflated.bin"
	content := pkgs + "/" + id + "/package_content"
	n := len(deflated)

	t.Run("descending ranges of a deflated artifact", func(t *testing.T) {
		// Served in the order asked, from one pass of the decompressor
		// (counted by TestRangesOfCompressedMemberOnePass in vnfpkgm).
		var specs []string
		for i := 49; i >= 0; i-- {
			specs = append(specs, fmt.Sprintf("%d-%d", i*20000, i*20000))
		}
		r := s.do("GET", artifact, nil, "Range", "bytes="+strings.Join(specs, ","))
		expectStatus(t, r, 206)
		got, bodies := byteranges(t, r)
		if len(got) != 50 {
			t.Fatalf("%d parts, want 50", len(got))
		}
		for i := range got {
			off := (49 - i) * 20000
			if got[i] != fmt.Sprintf("bytes %d-%d/%d", off, off, n) || !bytes.Equal(bodies[i], deflated[off:off+1]) {
				t.Fatalf("part %d: %q %x", i, got[i], bodies[i])
			}
		}
	})

	t.Run("10000 overlapping ranges coalesced", func(t *testing.T) {
		specs := make([]string, 10000)
		for i := range specs {
			specs[i] = fmt.Sprintf("%d-%d", i%100, i%100+1)
		}
		for _, path := range []string{content, artifact} {
			r := s.do("GET", path, nil, "Range", "bytes="+strings.Join(specs, ","))
			expectStatus(t, r, 206)
			if cr := r.header.Get("Content-Range"); !strings.HasPrefix(cr, "bytes 0-100/") || len(r.body) != 101 {
				t.Fatalf("%s: Content-Type %q, Content-Range %q, %d bytes: want one part of 101 bytes",
					path, r.header.Get("Content-Type"), cr, len(r.body))
			}
		}
		// Overlapping and disjoint: merged and sorted, two parts.
		r := s.do("GET", artifact, nil, "Range", "bytes=5000-5100,0-9,5050-5200,5-20")
		expectStatus(t, r, 206)
		got, bodies := byteranges(t, r)
		if fmt.Sprint(got) != fmt.Sprintf("[bytes 0-20/%d bytes 5000-5200/%d]", n, n) ||
			!bytes.Equal(bodies[0], deflated[:21]) || !bytes.Equal(bodies[1], deflated[5000:5201]) {
			t.Fatalf("parts %v", got)
		}
	})

	t.Run("more ranges than --max-ranges", func(t *testing.T) {
		var specs []string
		for i := range 51 {
			specs = append(specs, fmt.Sprintf("%d-%d", i*1000, i*1000+1))
		}
		r := s.do("GET", artifact, nil, "Range", "bytes="+strings.Join(specs, ","))
		expectStatus(t, r, 200)
		if !bytes.Equal(r.body, deflated) {
			t.Fatalf("51 ranges over a cap of 50: %d bytes, want the whole %d", len(r.body), n)
		}
		r = s.do("GET", artifact, nil, "Range", "bytes="+strings.Join(specs[:50], ","))
		expectStatus(t, r, 206)
		if got, _ := byteranges(t, r); len(got) != 50 {
			t.Fatalf("50 ranges: %d parts", len(got))
		}
	})

	t.Run("unknown unit and malformed sets are ignored", func(t *testing.T) {
		for _, h := range []string{"items=0-9", "bytes=9-0", "bytes=+1-2", "bytes=5", "bytes=0-9,x"} {
			r := s.do("GET", artifact, nil, "Range", h)
			expectStatus(t, r, 200)
			if !bytes.Equal(r.body, deflated) {
				t.Fatalf("Range %q: %d bytes, want the whole %d", h, len(r.body), n)
			}
		}
		// No satisfiable range: 416 with the size, as before.
		r := s.do("GET", artifact, nil, "Range", fmt.Sprintf("bytes=%d-,-0", n))
		expectProblem(t, r, 416)
		if r.header.Get("Content-Range") != fmt.Sprintf("bytes */%d", n) {
			t.Fatalf("416 Content-Range %q", r.header.Get("Content-Range"))
		}
	})
}
