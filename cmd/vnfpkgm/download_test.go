package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vnfpkgm/vnfpkgm/internal/testenv"
)

// proxy forwards requests to the server, recording them; it can cut each
// response body after cutAfter bytes (dropping the connection) or flip a
// byte of the package on its way.
type proxy struct {
	target   string
	cutAfter int64
	flip     bool
	// stallAfter holds the response after that many bytes until the
	// client goes away.
	stallAfter int64
	// overrun appends bytes to every partial (206) content response,
	// beyond its Content-Range.
	overrun bool

	mu   sync.Mutex
	reqs []recorded
}

type recorded struct {
	method, path, rng, ifRange string
}

func newProxy(t *testing.T, target string) (*proxy, string) {
	p := &proxy{target: target}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return p, srv.URL
}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.reqs = append(p.reqs, recorded{r.Method, r.URL.Path, r.Header.Get("Range"), r.Header.Get("If-Range")})
	p.mu.Unlock()
	req, err := http.NewRequestWithContext(r.Context(), r.Method, p.target+r.URL.RequestURI(), r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	req.Header = r.Header.Clone()
	req.ContentLength = r.ContentLength
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	isContent := strings.HasSuffix(r.URL.Path, "/package_content") && r.Method == http.MethodGet
	if isContent && p.flip {
		body, _ := io.ReadAll(resp.Body)
		if len(body) > 0 {
			body[len(body)/2] ^= 0xff
		}
		w.WriteHeader(resp.StatusCode)
		w.Write(body)
		return
	}
	if isContent && p.overrun && resp.StatusCode == http.StatusPartialContent {
		w.Header().Del("Content-Length")
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
		w.Write([]byte("overrun beyond the range"))
		return
	}
	w.WriteHeader(resp.StatusCode)
	if isContent && p.stallAfter > 0 {
		io.CopyN(w, resp.Body, p.stallAfter)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		return
	}
	if isContent && p.cutAfter > 0 {
		n, _ := io.CopyN(w, resp.Body, p.cutAfter)
		if n == p.cutAfter {
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler) // drops the connection mid-body
		}
		return
	}
	io.Copy(w, resp.Body)
}

func (p *proxy) requests() []recorded {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]recorded(nil), p.reqs...)
}

// contentGets are the recorded GETs of the package content.
func (p *proxy) contentGets() []recorded {
	var out []recorded
	for _, r := range p.requests() {
		if r.method == http.MethodGet && strings.HasSuffix(r.path, "/package_content") {
			out = append(out, r)
		}
	}
	return out
}

// onboarded starts a server with helloworld3-multi.zip onboarded.
func onboarded(t *testing.T) (s *testServer, id string, want []byte) {
	t.Helper()
	corpus := testenv.Corpus(t)
	s = startServer(t)
	pkg := filepath.Join(corpus, "helloworld3-multi.zip")
	id = s.apiCreate(t, nil)
	if st := s.apiOnboard(t, id, pkg); st != "ONBOARDED" {
		t.Fatalf("state %s", st)
	}
	want, err := os.ReadFile(pkg)
	if err != nil {
		t.Fatal(err)
	}
	return s, id, want
}

func sameFile(t *testing.T, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: %d bytes, not byte-identical to the package (%d bytes)", path, len(got), len(want))
	}
	for _, leftover := range []string{path + ".part", path + ".part.state"} {
		if _, err := os.Stat(leftover); err == nil {
			t.Fatalf("%s left behind", leftover)
		}
	}
}

func TestDownload(t *testing.T) {
	t.Parallel()
	s, id, want := onboarded(t)
	file := filepath.Join(t.TempDir(), "pkg.zip")
	r := s.mustCLI(t, "package", "download", id, "--file", file)
	if !strings.Contains(r.stdout, "SHA-256 verified") {
		t.Fatalf("download: %s", r)
	}
	sameFile(t, file, want)

	// Without --file, to stdout (a pipe here).
	r = s.mustCLI(t, "package", "download", id)
	if !bytes.Equal([]byte(r.stdout), want) {
		t.Fatalf("download to stdout: %d bytes", len(r.stdout))
	}

	// A package without content: the server's view, exit 1.
	created := s.apiCreate(t, nil)
	r = s.cli(t, "package", "download", created, "--file", file+"2")
	if r.code != exitFailed || !strings.Contains(r.stderr, "CREATED, not ONBOARDED") {
		t.Fatalf("download of a CREATED package: %s", r)
	}
	if _, err := os.Stat(file + "2"); err == nil {
		t.Fatal("a file was written")
	}
}

func TestDownloadInterruptedThenContinued(t *testing.T) {
	t.Parallel()
	s, id, want := onboarded(t)
	const cut = 100_000
	cutter, viaCutter := newProxy(t, s.base)
	cutter.cutAfter = cut
	file := filepath.Join(t.TempDir(), "pkg.zip")

	r := cliAt(t, viaCutter, "package", "download", id, "--file", file)
	if r.code != exitUnreachable || !strings.Contains(r.stderr, "--continue") {
		t.Fatalf("interrupted download: %s", r)
	}
	if _, err := os.Stat(file); err == nil {
		t.Fatal("the final file exists after an interrupted download")
	}
	st, err := os.Stat(file + ".part")
	if err != nil || st.Size() == 0 || st.Size() > cut {
		t.Fatalf("partial file: %v, %v bytes", err, st)
	}
	partial := st.Size()

	// Continued through a recording proxy: one ranged request from the
	// partial size, conditioned on the ETag.
	rec, viaRec := newProxy(t, s.base)
	r = cliAt(t, viaRec, "package", "download", id, "--file", file, "--continue")
	if r.code != exitOK || !strings.Contains(r.stdout, "SHA-256 verified") {
		t.Fatalf("--continue: %s", r)
	}
	sameFile(t, file, want)
	gets := rec.contentGets()
	_, etag, _ := s.api(t, http.MethodHead, "/vnf_packages/"+id+"/package_content", nil)
	if len(gets) != 1 || gets[0].rng != fmt.Sprintf("bytes=%d-%d", partial, len(want)-1) || gets[0].ifRange != etag.Get("ETag") || etag.Get("ETag") == "" {
		t.Fatalf("--continue requested %+v (partial %d bytes, ETag %q)", gets, partial, etag.Get("ETag"))
	}
}

func TestDownloadInterruptedByUser(t *testing.T) {
	t.Parallel()
	s, id, want := onboarded(t)
	const stall = 60_000
	staller, via := newProxy(t, s.base)
	staller.stallAfter = stall
	file := filepath.Join(t.TempDir(), "pkg.zip")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut bytes.Buffer
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"--endpoint", via, "package", "download", id, "--file", file}, &out, &errOut)
	}()
	// Ctrl-C once the first bytes are on disk.
	deadline := time.Now().Add(20 * time.Second)
	for {
		if st, err := os.Stat(file + ".part"); err == nil && st.Size() == stall {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the download did not start")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != exitInterrupted || !strings.Contains(errOut.String(), "interrupted") || !strings.Contains(errOut.String(), "--continue") {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	rec, viaRec := newProxy(t, s.base)
	r := cliAt(t, viaRec, "package", "download", id, "--file", file, "--continue")
	if r.code != exitOK {
		t.Fatalf("--continue after Ctrl-C: %s", r)
	}
	sameFile(t, file, want)
	if gets := rec.contentGets(); len(gets) != 1 || gets[0].rng != fmt.Sprintf("bytes=%d-%d", stall, len(want)-1) {
		t.Fatalf("--continue requested %+v", gets)
	}
}

// TestDownloadProcessInterruptedBySIGINT sends a real SIGINT to the built
// CLI mid-download: the signal handler is installed lazily (interrupt.go),
// on the first request, and must be in place before the first byte lands.
func TestDownloadProcessInterruptedBySIGINT(t *testing.T) {
	t.Parallel()
	bin := cliBinary(t)
	s, id, want := onboarded(t)
	const stall = 60_000
	staller, via := newProxy(t, s.base)
	staller.stallAfter = stall
	file := filepath.Join(t.TempDir(), "pkg.zip")
	cmd := exec.Command(bin, "--endpoint", via, "package", "download", id, "--file", file)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if st, err := os.Stat(file + ".part"); err == nil && st.Size() == stall {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("the download did not start: %s", stderr.Bytes())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != exitInterrupted || !strings.Contains(stderr.String(), "--continue") {
		t.Fatalf("after SIGINT: %v (want exit %d): %s", err, exitInterrupted, stderr.Bytes())
	}
	if st, err := os.Stat(file + ".part"); err != nil || st.Size() != stall {
		t.Fatalf("the partial file after SIGINT: %v %v (want %d bytes of %d)", err, st, stall, len(want))
	}
}

func TestDownloadParallel(t *testing.T) {
	t.Parallel()
	s, id, want := onboarded(t)
	rec, via := newProxy(t, s.base)
	file := filepath.Join(t.TempDir(), "pkg.zip")
	r := cliAt(t, via, "package", "download", id, "--file", file, "--connections", "4")
	if r.code != exitOK || !strings.Contains(r.stdout, "SHA-256 verified") {
		t.Fatalf("--connections 4: %s", r)
	}
	sameFile(t, file, want)
	// Four ranged GETs that together cover the package exactly once.
	gets := rec.contentGets()
	if len(gets) != 4 {
		t.Fatalf("%d GETs of the content, want 4: %+v", len(gets), gets)
	}
	type span struct{ a, b int }
	var spans []span
	for _, g := range gets {
		var sp span
		if _, err := fmt.Sscanf(g.rng, "bytes=%d-%d", &sp.a, &sp.b); err != nil || g.ifRange == "" {
			t.Fatalf("GET without a closed range and If-Range: %+v", g)
		}
		spans = append(spans, sp)
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].a < spans[j].a })
	next := 0
	for _, sp := range spans {
		if sp.a != next || sp.b < sp.a {
			t.Fatalf("ranges do not tile the package: %v", spans)
		}
		next = sp.b + 1
	}
	if next != len(want) {
		t.Fatalf("ranges end at %d of %d", next, len(want))
	}
}

func TestDownloadParallelInterruptedThenContinued(t *testing.T) {
	t.Parallel()
	s, id, want := onboarded(t)
	cutter, viaCutter := newProxy(t, s.base)
	cutter.cutAfter = 20_000 // each of the 4 ranges (~53 KB) is cut
	file := filepath.Join(t.TempDir(), "pkg.zip")
	r := cliAt(t, viaCutter, "package", "download", id, "--file", file, "--connections", "4")
	if r.code != exitUnreachable {
		t.Fatalf("interrupted parallel download: %s", r)
	}
	var state partState
	b, err := os.ReadFile(file + ".part.state")
	if err != nil || json.Unmarshal(b, &state) != nil || covered(state.Have) == 0 || covered(state.Have) >= int64(len(want)) {
		t.Fatalf("state after the interruption: %v %s", err, b)
	}
	have := covered(state.Have)

	rec, via := newProxy(t, s.base)
	r = cliAt(t, via, "package", "download", id, "--file", file, "--continue", "--connections", "2")
	if r.code != exitOK {
		t.Fatalf("--continue --connections 2: %s\nserver log:\n%s", r, s.log)
	}
	sameFile(t, file, want)
	// Only what was missing was asked for.
	var asked int64
	for _, g := range rec.contentGets() {
		var a, b int64
		if _, err := fmt.Sscanf(g.rng, "bytes=%d-%d", &a, &b); err != nil {
			t.Fatalf("GET %+v", g)
		}
		asked += b - a + 1
	}
	if asked != int64(len(want))-have {
		t.Fatalf("asked for %d bytes, %d were missing", asked, int64(len(want))-have)
	}
}

func TestDownloadContinueAfterChange(t *testing.T) {
	t.Parallel()
	s, id, want := onboarded(t)
	file := filepath.Join(t.TempDir(), "pkg.zip")
	// A partial download of another version of the content: other bytes,
	// another ETag. The server answers If-Range with the whole content.
	if err := os.WriteFile(file+".part", bytes.Repeat([]byte("x"), 5000), 0o644); err != nil {
		t.Fatal(err)
	}
	st := partState{Resource: "/vnfpkgm/v1/vnf_packages/" + id + "/package_content", ETag: `"an-older-version"`, Size: int64(len(want)), Sequential: true}
	if err := saveState(file+".part.state", &st); err != nil {
		t.Fatal(err)
	}
	r := s.mustCLI(t, "package", "download", id, "--file", file, "--continue")
	if !strings.Contains(r.stderr, "changed on the server") {
		t.Fatalf("no word of the restart: %s", r)
	}
	sameFile(t, file, want)

	// A partial file without its state is not trusted either.
	if err := os.WriteFile(file+".part", bytes.Repeat([]byte("y"), 5000), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Remove(file)
	r = s.mustCLI(t, "package", "download", id, "--file", file, "--continue")
	if !strings.Contains(r.stderr, "starting again") {
		t.Fatalf("no word of the restart: %s", r)
	}
	sameFile(t, file, want)
}

func TestDownloadChecksumMismatch(t *testing.T) {
	t.Parallel()
	s, id, _ := onboarded(t)
	flipper, via := newProxy(t, s.base)
	flipper.flip = true
	file := filepath.Join(t.TempDir(), "pkg.zip")
	for _, extra := range [][]string{nil, {"--connections", "3"}} {
		r := cliAt(t, via, append([]string{"package", "download", id, "--file", file}, extra...)...)
		if r.code != exitFailed || !strings.Contains(r.stderr, "does not match its checksum") {
			t.Fatalf("corrupted download %v: %s", extra, r)
		}
		for _, p := range []string{file, file + ".part"} {
			if _, err := os.Stat(p); err == nil {
				t.Fatalf("%s exists after a checksum mismatch", p)
			}
		}
	}
	r := cliAt(t, via, "package", "download", id)
	if r.code != exitFailed || !strings.Contains(r.stderr, "does not match the checksum") {
		t.Fatalf("corrupted download to stdout: %s", r)
	}
}

func TestDownloadVNFDAndArtifact(t *testing.T) {
	t.Parallel()
	s, id, pkg := onboarded(t)
	dir := t.TempDir()

	vnfd := filepath.Join(dir, "vnfd.zip")
	r := s.mustCLI(t, "package", "download", id, "--vnfd", "--type", "application/zip", "--file", vnfd)
	if !strings.Contains(r.stdout, "application/zip") {
		t.Fatalf("vnfd: %s", r)
	}
	zr, err := zip.OpenReader(vnfd)
	if err != nil {
		t.Fatalf("the VNFD is not a zip: %v", err)
	}
	names := map[string]bool{}
	for _, f := range zr.File {
		names[f.Name] = true
	}
	zr.Close()
	if !names["TOSCA-Metadata/TOSCA.meta"] || !names["Definitions/helloworld3_top.vnfd.yaml"] {
		t.Fatalf("VNFD zip holds %v", names)
	}
	// This VNFD is several files: text/plain alone is refused (406).
	r = s.cli(t, "package", "download", id, "--vnfd", "--type", "text/plain", "--file", filepath.Join(dir, "vnfd.yaml"))
	if r.code != exitFailed || !strings.Contains(r.stderr, "Not Acceptable") || !strings.Contains(r.stderr, "HTTP 406") {
		t.Fatalf("vnfd text/plain: %s", r)
	}

	// An artifact the manifest lists: verified against its checksum.
	zr2, err := zip.NewReader(bytes.NewReader(pkg), int64(len(pkg)))
	if err != nil {
		t.Fatal(err)
	}
	member := func(name string) []byte {
		f, err := zr2.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		b, _ := io.ReadAll(f)
		return b
	}
	art := filepath.Join(dir, "install.sh")
	r = s.mustCLI(t, "artifact", "download", id, "Scripts/install.sh", "--file", art)
	if !strings.Contains(r.stdout, "SHA-256 verified") {
		t.Fatalf("artifact: %s", r)
	}
	sameFile(t, art, member("Scripts/install.sh"))
	// The software image, in two ranges, verified against its SHA-512.
	img := filepath.Join(dir, "image.img")
	r = s.mustCLI(t, "artifact", "download", id, "Files/images/cirros-0.5.2-x86_64-disk.img", "--file", img, "--connections", "2")
	if !strings.Contains(r.stdout, "sha-512 verified") {
		t.Fatalf("image: %s", r)
	}
	sameFile(t, img, member("Files/images/cirros-0.5.2-x86_64-disk.img"))
	// A file without a declared checksum: downloaded, said to be unverified.
	r = s.mustCLI(t, "artifact", "download", id, "TOSCA-Metadata/TOSCA.meta")
	if r.stdout != string(member("TOSCA-Metadata/TOSCA.meta")) || !strings.Contains(r.stderr, "not verified") {
		t.Fatalf("TOSCA.meta: %s", r)
	}
	r = s.cli(t, "artifact", "download", id, "No/such/file", "--file", filepath.Join(dir, "x"), "--connections", "2")
	if r.code != exitFailed || !strings.Contains(r.stderr, "Not Found") || !strings.Contains(r.stderr, "has no artifact No/such/file") {
		t.Fatalf("unknown artifact: %s", r)
	}
}

// TestDownloadRangeOverrun: a response body longer than its range is an
// error of that response, not bytes written over the next piece.
func TestDownloadRangeOverrun(t *testing.T) {
	t.Parallel()
	s, id, _ := onboarded(t)
	p, via := newProxy(t, s.base)
	p.overrun = true
	file := filepath.Join(t.TempDir(), "pkg.zip")
	r := cliAt(t, via, "package", "download", id, "--file", file, "--connections", "4")
	if r.code != exitFailed || !strings.Contains(r.stderr, "more bytes than the range") {
		t.Fatalf("ranges answered with more bytes: %s", r)
	}
	if _, err := os.Stat(file); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the file exists after a failed download: %v", err)
	}
}
