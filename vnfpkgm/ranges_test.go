package vnfpkgm

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/vnfpkgm/vnfpkgm/csar"
)

func TestPlanRanges(t *testing.T) {
	const size = 1000
	for _, c := range []struct {
		name, header string
		max          int
		sequential   bool
		want         string // "" for the whole content
		keep         []byteRange
	}{
		{"one range", "bytes=0-99", 200, false, "bytes=0-99", nil},
		{"blanks around commas", "bytes= 0-9 , 20-29,", 200, false, "bytes=0-9,20-29", nil},
		{"suffix and open overlapping", "bytes=-100,10-19,995-", 200, false, "bytes=10-19,900-999", nil},
		{"suffix and open apart", "bytes=-100,10-19", 200, false, "bytes=900-999,10-19", nil},
		{"end past the size", "bytes=990-5000", 200, false, "bytes=990-999", nil},
		{"order kept without overlap", "bytes=500-509,0-9,-7", 200, false, "bytes=500-509,0-9,993-999", nil},
		{"sequential: passed ranges kept", "bytes=500-509,0-9,-7", 200, true, "bytes=500-509,0-9,993-999", []byteRange{{0, 9}}},
		{"overlaps merged and sorted", "bytes=150-160,0-9,155-170,5-12", 200, false, "bytes=0-12,150-170", nil},
		{"nearby ranges merged once merging", "bytes=0-0,0-0,100-100,120-120", 200, false, "bytes=0-0,100-120", nil},
		{"beyond the cap: whole", "bytes=0-0,2-2,4-4", 2, false, "", nil},
		{"cap counts merged parts", "bytes=0-5,1-6,2-7", 1, false, "bytes=0-7", nil},
		{"unsatisfiable", "bytes=1000-", 200, false, "bytes=1000-", nil},
		{"unsatisfiable ones dropped", "bytes=2000-3000,0-0", 200, false, "bytes=0-0", nil},
		{"zero suffix unsatisfiable", "bytes=-0", 200, false, "bytes=1000-", nil},
		{"unknown unit", "items=0-1", 200, false, "", nil},
		{"last before first", "bytes=9-0", 200, false, "", nil},
		{"sign", "bytes=+1-2", 200, false, "", nil},
		{"no dash", "bytes=5", 200, false, "", nil},
		{"empty set", "bytes=", 200, false, "", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			plan := planRanges(c.header, size, c.max, c.sequential)
			if plan.header != c.want || fmt.Sprint(plan.keep) != fmt.Sprint(c.keep) {
				t.Fatalf("planRanges(%q) = %q keep %v, want %q keep %v", c.header, plan.header, plan.keep, c.want, c.keep)
			}
		})
	}
	// More passed bytes than reorderBudget: sorted instead of kept.
	big := fmt.Sprintf("bytes=%d-%d,0-%d", reorderBudget+10, reorderBudget+20, reorderBudget)
	if plan := planRanges(big, 4*reorderBudget, 200, true); plan.keep != nil || !strings.HasPrefix(plan.header, "bytes=0-") {
		t.Fatalf("over the reorder budget: %q keep %v", plan.header, plan.keep)
	}
}

// deflatedArchive is a zip holding one deflated member of n bytes.
func deflatedArchive(t testing.TB, n int) (*csar.Archive, []byte) {
	t.Helper()
	data := make([]byte, n)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(rng.IntN(16)) // compressible, as a disk image is
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "Files/big.bin", Method: zip.Deflate})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	a, err := csar.Open(context.Background(), bytes.NewReader(buf.Bytes()), int64(buf.Len()), csar.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	return a, data
}

// countPasses makes openMember count the members it opens (each is one
// pass of the decompressor) until the test ends.
func countPasses(t testing.TB) *atomic.Int64 {
	var n atomic.Int64
	orig := openMember
	openMember = func(a *csar.Archive, name string) (fs.File, error) {
		n.Add(1)
		return orig(a, name)
	}
	t.Cleanup(func() { openMember = orig })
	return &n
}

// serveMember serves the member through serveContent as GET .../artifacts does.
func serveMember(t testing.TB, s *Server, a *csar.Archive, size int64, rangeHeader string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/vnfpkgm/v1/vnf_packages/x/artifacts/Files/big.bin", nil)
	req.Header.Set("Range", rangeHeader)
	rec := httptest.NewRecorder()
	c := echo.New().NewContext(req, rec)
	content, err := seekableMember(a, "Files/big.bin", size)
	if err != nil {
		t.Fatal(err)
	}
	defer content.Close()
	c.Response().Header().Set(echo.HeaderContentType, "application/octet-stream")
	s.serveContent(c, time.Unix(0, 0), size, content)
	return rec
}

// parts reads a multipart/byteranges answer: each part's Content-Range and bytes.
func parts(t testing.TB, rec *httptest.ResponseRecorder) (ranges []string, bodies [][]byte) {
	t.Helper()
	mt, params, err := mime.ParseMediaType(rec.Header().Get("Content-Type"))
	if err != nil || mt != "multipart/byteranges" {
		t.Fatalf("status %d, Content-Type %q, not multipart/byteranges", rec.Code, rec.Header().Get("Content-Type"))
	}
	mr := multipart.NewReader(rec.Body, params["boundary"])
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

// Many ranges of a compressed member, in descending order as in issue 15
// (each used to decompress the member from its start again): one pass of
// the decompressor, every part right and in the order asked.
func TestRangesOfCompressedMemberOnePass(t *testing.T) {
	const n = 1 << 20
	a, data := deflatedArchive(t, n)
	s := &Server{cfg: DefaultConfig()}
	passes := countPasses(t)

	var specs []string
	for i := 199; i >= 0; i-- {
		specs = append(specs, fmt.Sprintf("%d-%d", i*5000, i*5000))
	}
	rec := serveMember(t, s, a, n, "bytes="+strings.Join(specs, ","))
	if rec.Code != http.StatusPartialContent {
		t.Fatalf("status %d", rec.Code)
	}
	got, bodies := parts(t, rec)
	if len(got) != 200 {
		t.Fatalf("%d parts, want 200", len(got))
	}
	for i, cr := range got {
		off := (199 - i) * 5000
		if cr != fmt.Sprintf("bytes %d-%d/%d", off, off, n) || !bytes.Equal(bodies[i], data[off:off+1]) {
			t.Fatalf("part %d: Content-Range %q, %x", i, cr, bodies[i])
		}
	}
	if p := passes.Load(); p != 1 {
		t.Fatalf("the member was decompressed %d times for 200 ranges, want once", p)
	}

	// Overlapping and disordered ranges: merged, sorted, still one pass.
	passes.Store(0)
	rec = serveMember(t, s, a, n, "bytes=900000-900100,10-20,900050-900200,15-30")
	got, bodies = parts(t, rec)
	if fmt.Sprint(got) != fmt.Sprintf("[bytes 10-30/%d bytes 900000-900200/%d]", n, n) ||
		!bytes.Equal(bodies[0], data[10:31]) || !bytes.Equal(bodies[1], data[900000:900201]) {
		t.Fatalf("merged parts %v", got)
	}
	if p := passes.Load(); p != 1 {
		t.Fatalf("%d passes for merged ranges, want 1", p)
	}
}

// 10,000 overlapping ranges answer one part, not 10,000.
func TestOverlappingRangesCoalesced(t *testing.T) {
	const n = 1 << 16
	a, data := deflatedArchive(t, n)
	s := &Server{cfg: DefaultConfig()}
	specs := make([]string, 10000)
	for i := range specs {
		// Two bytes each: their sum stays below the size, which
		// http.ServeContent alone would have answered part by part.
		specs[i] = fmt.Sprintf("%d-%d", i%100, i%100+1)
	}
	rec := serveMember(t, s, a, n, "bytes="+strings.Join(specs, ","))
	if rec.Code != http.StatusPartialContent || rec.Header().Get("Content-Range") != fmt.Sprintf("bytes 0-100/%d", n) ||
		!bytes.Equal(rec.Body.Bytes(), data[:101]) {
		t.Fatalf("status %d, Content-Type %q, Content-Range %q, %d bytes", rec.Code, rec.Header().Get("Content-Type"), rec.Header().Get("Content-Range"), rec.Body.Len())
	}
}

// More parts than --max-ranges: the whole content, 200.
func TestRangesBeyondCapServeWhole(t *testing.T) {
	const n = 1 << 16
	a, data := deflatedArchive(t, n)
	cfg := DefaultConfig()
	cfg.MaxRanges = 10
	s := &Server{cfg: cfg}
	var specs []string
	for i := range 11 {
		specs = append(specs, fmt.Sprintf("%d-%d", i*1000, i*1000+9))
	}
	rec := serveMember(t, s, a, n, "bytes="+strings.Join(specs, ","))
	if rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), data) {
		t.Fatalf("11 ranges over a cap of 10: status %d, %d bytes", rec.Code, rec.Body.Len())
	}
	rec = serveMember(t, s, a, n, "bytes="+strings.Join(specs[:10], ","))
	if got, _ := parts(t, rec); len(got) != 10 {
		t.Fatalf("10 ranges under a cap of 10: %d parts", len(got))
	}
}

// BenchmarkDescendingRangesDeflated serves 200 descending one-byte ranges
// of a 64 MiB deflated member (issue 15: each range used to decompress the
// member from its start).
func BenchmarkDescendingRangesDeflated(b *testing.B) {
	const n = 64 << 20
	a, _ := deflatedArchive(b, n)
	s := &Server{cfg: DefaultConfig()}
	var specs []string
	for i := 199; i >= 0; i-- {
		specs = append(specs, fmt.Sprintf("%d-%d", int64(i)*(n/200), int64(i)*(n/200)))
	}
	h := "bytes=" + strings.Join(specs, ",")
	b.ResetTimer()
	for b.Loop() {
		if rec := serveMember(b, s, a, n, h); rec.Code != http.StatusPartialContent {
			b.Fatalf("status %d", rec.Code)
		}
	}
}
