package main_test

// Black-box tests: they build the real vnfpkgmd binary, start it on a free
// port of 127.0.0.1 with a fresh data directory, and talk HTTP to it.

import (
	"archive/zip"
	"bytes"
	"crypto/sha3"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vnfpkgm/vnfpkgm/internal/testenv"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "vnfpkgmd-test-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "vnfpkgmd")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building vnfpkgmd: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// server is a running vnfpkgmd.
type server struct {
	t    *testing.T
	base string
	dir  string
	cmd  *exec.Cmd
	log  *bytes.Buffer
}

func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startServer starts vnfpkgmd over dir (a new one when empty).
func startServer(t *testing.T, dir string, extra ...string) *server {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	addr := freePort(t)
	s := &server{t: t, base: "http://" + addr, dir: dir, log: &bytes.Buffer{}}
	s.cmd = exec.Command(binary, append([]string{"--listen", addr, "--data-dir", dir}, extra...)...)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.stop)
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(s.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("vnfpkgmd did not become healthy: %v\n%s", err, s.log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *server) stop() {
	if s.cmd.ProcessState != nil {
		return
	}
	s.cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
}

func (s *server) kill() {
	s.cmd.Process.Kill()
	s.cmd.Wait()
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, r.body)
	}
}

func (s *server) do(method, path string, body io.Reader, headers ...string) response {
	s.t.Helper()
	r, err := s.try(method, path, body, headers...)
	if err != nil {
		s.t.Fatal(err)
	}
	return r
}

// try is do returning its error instead of failing the test: for requests
// from other goroutines, and for requests a killed server may never answer.
func (s *server) try(method, path string, body io.Reader, headers ...string) (response, error) {
	req, err := http.NewRequest(method, s.base+path, body)
	if err != nil {
		return response{}, err
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: reading the answer: %w", method, path, err)
	}
	return response{resp.StatusCode, resp.Header, b}, nil
}

func expectStatus(t *testing.T, r response, want int) {
	t.Helper()
	if r.status != want {
		t.Fatalf("status %d, want %d: %s", r.status, want, r.body)
	}
	if r.header.Get("Version") == "" {
		t.Fatalf("response without a Version header")
	}
	if want >= 400 && !strings.Contains(r.header.Get("Content-Type"), "application/problem+json") {
		t.Fatalf("error response of type %q, want application/problem+json", r.header.Get("Content-Type"))
	}
}

const pkgs = "/vnfpkgm/v1/vnf_packages"

func (s *server) createPackage(t *testing.T) string {
	t.Helper()
	r := s.do("POST", pkgs, strings.NewReader(`{"userDefinedData":{"owner":"test"}}`), "Content-Type", "application/json")
	expectStatus(t, r, 201)
	var info map[string]any
	r.json(t, &info)
	id, _ := info["id"].(string)
	if id == "" || r.header.Get("Location") != s.base+pkgs+"/"+id {
		t.Fatalf("create: id %q, Location %q", id, r.header.Get("Location"))
	}
	if info["onboardingState"] != "CREATED" || info["operationalState"] != "DISABLED" || info["usageState"] != "NOT_IN_USE" {
		t.Fatalf("a new package is CREATED, DISABLED, NOT_IN_USE: %v", info)
	}
	return id
}

func (s *server) upload(t *testing.T, id, file string) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	expectStatus(t, s.do("PUT", pkgs+"/"+id+"/package_content", f, "Content-Type", "application/zip"), 202)
}

// waitState polls until the package leaves UPLOADING/PROCESSING.
func (s *server) waitState(t *testing.T, id string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var info map[string]any
		r := s.do("GET", pkgs+"/"+id, nil)
		expectStatus(t, r, 200)
		r.json(t, &info)
		if st := info["onboardingState"]; st != "UPLOADING" && st != "PROCESSING" {
			return info
		}
		if time.Now().After(deadline) {
			t.Fatalf("package %s still %v\n%s", id, info["onboardingState"], s.log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *server) onboard(t *testing.T, file string) (string, map[string]any) {
	t.Helper()
	id := s.createPackage(t)
	s.upload(t, id, file)
	return id, s.waitState(t, id)
}

func corpusFile(t *testing.T, name string) string {
	return filepath.Join(testenv.Corpus(t), name)
}

func TestPackageLifecycle(t *testing.T) {
	s := startServer(t, "")
	hw := corpusFile(t, "helloworld3-multi.zip")

	var versions map[string]any
	r := s.do("GET", "//vnfpkgm/v1/api_versions", nil)
	expectStatus(t, r, 200)
	r.json(t, &versions)
	if versions["uriPrefix"] != s.base+"/vnfpkgm/v1" {
		t.Fatalf("api_versions: %v", versions)
	}
	expectStatus(t, s.do("GET", pkgs, nil, "Version", "9.9.9"), 406)

	id := s.createPackage(t)
	// Reads before onboarding are conflicts.
	expectStatus(t, s.do("GET", pkgs+"/"+id+"/package_content", nil), 409)
	expectStatus(t, s.do("GET", pkgs+"/"+id+"/vnfd", nil), 409)
	// Operational state changes before onboarding are conflicts.
	expectStatus(t, s.do("PATCH", pkgs+"/"+id, strings.NewReader(`{"operationalState":"ENABLED"}`), "Content-Type", "application/merge-patch+json"), 409)

	s.upload(t, id, hw)
	info := s.waitState(t, id)
	if info["onboardingState"] != "ONBOARDED" || info["operationalState"] != "ENABLED" {
		t.Fatalf("after onboarding: %v", info)
	}
	if info["vnfdId"] != "5189df9e-7018-11ea-b97a-000c292ec2ea" || info["vnfProvider"] != "DemoLabs" {
		t.Fatalf("VNFD facts: %v", info)
	}
	// A second upload is a conflict.
	f, _ := os.Open(hw)
	expectStatus(t, s.do("PUT", pkgs+"/"+id+"/package_content", f, "Content-Type", "application/zip"), 409)
	f.Close()

	// userDefinedData merges (RFC 7396).
	r = s.do("PATCH", pkgs+"/"+id, strings.NewReader(`{"userDefinedData":{"owner":null,"team":"nfv"}}`), "Content-Type", "application/merge-patch+json")
	expectStatus(t, r, 200)
	r = s.do("GET", pkgs+"/"+id, nil)
	r.json(t, &info)
	if ud, _ := info["userDefinedData"].(map[string]any); ud["team"] != "nfv" || ud["owner"] != nil {
		t.Fatalf("userDefinedData after merge: %v", info["userDefinedData"])
	}
	// Enabling an enabled package, deleting an enabled one: conflicts.
	expectStatus(t, s.do("PATCH", pkgs+"/"+id, strings.NewReader(`{"operationalState":"ENABLED"}`), "Content-Type", "application/json"), 409)
	expectStatus(t, s.do("DELETE", pkgs+"/"+id, nil), 409)
	expectStatus(t, s.do("PATCH", pkgs+"/"+id, strings.NewReader(`{"operationalState":"DISABLED"}`), "Content-Type", "application/json"), 200)
	// Unknown methods: 405 with Allow.
	r = s.do("PUT", pkgs+"/"+id, nil)
	expectStatus(t, r, 405)
	if allow := r.header.Get("Allow"); !strings.Contains(allow, "GET") || !strings.Contains(allow, "DELETE") {
		t.Fatalf("Allow %q", allow)
	}
	expectStatus(t, s.do("GET", "/vnfpkgm/v1/nothing_here", nil), 404)
	expectStatus(t, s.do("DELETE", pkgs+"/"+id, nil), 204)
	expectStatus(t, s.do("GET", pkgs+"/"+id, nil), 404)
}

func TestRangeAndArtifacts(t *testing.T) {
	s := startServer(t, "")
	hw := corpusFile(t, "helloworld3-multi.zip")
	id, _ := s.onboard(t, hw)
	whole, err := os.ReadFile(hw)
	if err != nil {
		t.Fatal(err)
	}
	size := len(whole)
	content := pkgs + "/" + id + "/package_content"

	r := s.do("GET", content, nil)
	expectStatus(t, r, 200)
	if !bytes.Equal(r.body, whole) || r.header.Get("Accept-Ranges") != "bytes" || r.header.Get("ETag") == "" || r.header.Get("Last-Modified") == "" {
		t.Fatalf("full download: %d bytes, headers %v", len(r.body), r.header)
	}
	etag := r.header.Get("ETag")
	cases := []struct {
		rng        string
		start, end int // inclusive
	}{
		{"bytes=0-99", 0, 99},
		{"bytes=-100", size - 100, size - 1},
		{fmt.Sprintf("bytes=%d-", size-10), size - 10, size - 1},
		{fmt.Sprintf("bytes=%d-%d", size-5, size+1000), size - 5, size - 1},
	}
	for _, c := range cases {
		r := s.do("GET", content, nil, "Range", c.rng)
		expectStatus(t, r, 206)
		if !bytes.Equal(r.body, whole[c.start:c.end+1]) || r.header.Get("Content-Range") != fmt.Sprintf("bytes %d-%d/%d", c.start, c.end, size) {
			t.Fatalf("%s: %d bytes, Content-Range %q", c.rng, len(r.body), r.header.Get("Content-Range"))
		}
	}
	// Several ranges: multipart/byteranges with each part right.
	r = s.do("GET", content, nil, "Range", "bytes=0-9,100-109")
	expectStatus(t, r, 206)
	mt, params, _ := mime.ParseMediaType(r.header.Get("Content-Type"))
	if mt != "multipart/byteranges" {
		t.Fatalf("several ranges answered %q", mt)
	}
	mr := multipart.NewReader(bytes.NewReader(r.body), params["boundary"])
	for _, want := range [][2]int{{0, 9}, {100, 109}} {
		part, err := mr.NextPart()
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(part)
		if !bytes.Equal(got, whole[want[0]:want[1]+1]) {
			t.Fatalf("part %v wrong", want)
		}
	}
	// Unsatisfiable: 416 with the size.
	r = s.do("GET", content, nil, "Range", fmt.Sprintf("bytes=%d-", size+10))
	if r.status != 416 || r.header.Get("Content-Range") != fmt.Sprintf("bytes */%d", size) {
		t.Fatalf("unsatisfiable range: %d, Content-Range %q", r.status, r.header.Get("Content-Range"))
	}
	// If-Range with the current ETag honours the range, with another one sends everything.
	if r := s.do("GET", content, nil, "Range", "bytes=0-9", "If-Range", etag); r.status != 206 {
		t.Fatalf("If-Range with the current ETag: %d", r.status)
	}
	if r := s.do("GET", content, nil, "Range", "bytes=0-9", "If-Range", `"stale"`); r.status != 200 || len(r.body) != size {
		t.Fatalf("If-Range with a stale ETag: %d, %d bytes", r.status, len(r.body))
	}

	// Artifacts: byte-identical, stored or compressed, with ranges.
	zr, err := zip.OpenReader(hw)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, name := range []string{"Files/images/cirros-0.5.2-x86_64-disk.img", "Scripts/install.sh", "Files/kubernetes/deployment.yaml"} {
		f, err := zr.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := io.ReadAll(f)
		f.Close()
		r := s.do("GET", pkgs+"/"+id+"/artifacts/"+name, nil)
		expectStatus(t, r, 200)
		if !bytes.Equal(r.body, want) {
			t.Fatalf("%s: %d bytes differ from the package's %d", name, len(r.body), len(want))
		}
		r = s.do("GET", pkgs+"/"+id+"/artifacts/"+name, nil, "Range", "bytes=10-19,30-")
		expectStatus(t, r, 206)
		r = s.do("GET", pkgs+"/"+id+"/artifacts/"+name, nil, "Range", "bytes=-7")
		if r.status != 206 || !bytes.Equal(r.body, want[len(want)-7:]) {
			t.Fatalf("%s suffix range: %d %q", name, r.status, r.body)
		}
	}
	expectStatus(t, s.do("GET", pkgs+"/"+id+"/artifacts/Files/none.bin", nil), 404)

	// The SOL 003 view by vnfdId.
	r = s.do("GET", "/vnfpkgm/v1/onboarded_vnf_packages/5189df9e-7018-11ea-b97a-000c292ec2ea/package_content", nil, "Range", "bytes=0-3")
	if r.status != 206 || string(r.body) != string(whole[:4]) {
		t.Fatalf("onboarded view: %d", r.status)
	}
}

func TestVNFDAcceptMatrix(t *testing.T) {
	s := startServer(t, "")
	multi, _ := s.onboard(t, corpusFile(t, "helloworld3-multi.zip"))
	single, _ := s.onboard(t, corpusFile(t, "single-file-no-meta.zip"))
	cases := []struct {
		id, accept string
		status     int
		ctype      string
	}{
		{multi, "text/plain", 406, ""},
		{multi, "application/zip", 200, "application/zip"},
		{multi, "text/plain, application/zip", 200, "application/zip"},
		{multi, "", 200, "application/zip"},
		{multi, "application/json", 406, ""},
		{single, "text/plain", 200, "text/plain"},
		{single, "text/plain,application/zip", 200, "text/plain"},
		{single, "application/zip", 200, "application/zip"},
	}
	for _, c := range cases {
		r := s.do("GET", pkgs+"/"+c.id+"/vnfd", nil, "Accept", c.accept)
		expectStatus(t, r, c.status)
		if c.status != 200 {
			continue
		}
		if !strings.HasPrefix(r.header.Get("Content-Type"), c.ctype) {
			t.Fatalf("Accept %q: Content-Type %q", c.accept, r.header.Get("Content-Type"))
		}
		if c.ctype == "application/zip" {
			zr, err := zip.NewReader(bytes.NewReader(r.body), int64(len(r.body)))
			if err != nil {
				t.Fatal(err)
			}
			names := map[string]bool{}
			for _, f := range zr.File {
				names[f.Name] = true
			}
			if !names["TOSCA-Metadata/TOSCA.meta"] || (c.id == multi && (!names["Definitions/helloworld3_top.vnfd.yaml"] || !names["Definitions/helloworld3_df_simple.yaml"] || names["Files/images/cirros-0.5.2-x86_64-disk.img"])) {
				t.Fatalf("VNFD zip holds %v", names)
			}
		}
	}
}

func TestInvalidPackagesEndInError(t *testing.T) {
	s := startServer(t, "")
	for _, name := range []string{"bad-algorithm.zip", "bad-artifact-hash.zip", "bad-image-checksum.zip", "bad-manifest-extension.zip",
		"empty-algorithm-value.zip", "image-checksum-blake2b.zip", "image-checksum-sha3-256.zip", "missing-algorithm-key.zip", "missing-source.zip"} {
		t.Run(name, func(t *testing.T) {
			_, info := s.onboard(t, corpusFile(t, name))
			if info["onboardingState"] != "ERROR" || info["operationalState"] != "DISABLED" {
				t.Fatalf("state %v/%v", info["onboardingState"], info["operationalState"])
			}
			details, _ := info["onboardingFailureDetails"].(map[string]any)
			problems, _ := details["problems"].([]any)
			if details["status"] == nil || details["detail"] == "" || len(problems) == 0 {
				t.Fatalf("onboardingFailureDetails: %v", details)
			}
			located := false
			for _, p := range problems {
				pm := p.(map[string]any)
				if pm["severity"] == "error" && pm["file"] != "" && pm["line"] != nil {
					located = true
				}
			}
			if !located {
				t.Fatalf("no error with file and line in %v", problems)
			}
		})
	}
	// Not an archive at all.
	id := s.createPackage(t)
	expectStatus(t, s.do("PUT", pkgs+"/"+id+"/package_content", strings.NewReader("not a zip"), "Content-Type", "application/octet-stream"), 202)
	if info := s.waitState(t, id); info["onboardingState"] != "ERROR" {
		t.Fatalf("a non-archive: %v", info["onboardingState"])
	}
	// Empty: refused at once, the package stays CREATED.
	id = s.createPackage(t)
	expectStatus(t, s.do("PUT", pkgs+"/"+id+"/package_content", strings.NewReader(""), "Content-Type", "application/zip"), 400)
	if info := s.waitState(t, id); info["onboardingState"] != "CREATED" {
		t.Fatalf("after an empty upload: %v", info["onboardingState"])
	}
	// A duplicate vnfdId ends in ERROR naming the onboarded package.
	first, _ := s.onboard(t, corpusFile(t, "helloworld3-multi.zip"))
	_, info := s.onboard(t, corpusFile(t, "image-checksum-sha-256.zip"))
	details, _ := info["onboardingFailureDetails"].(map[string]any)
	if info["onboardingState"] != "ERROR" || !strings.Contains(fmt.Sprint(details), first) {
		t.Fatalf("duplicate vnfdId: %v %v", info["onboardingState"], details)
	}
}

func TestListFilterAndSelectors(t *testing.T) {
	s := startServer(t, "")
	s.onboard(t, corpusFile(t, "helloworld3-multi.zip"))
	s.onboard(t, corpusFile(t, "practical-two-flavours.zip"))
	s.createPackage(t)
	count := func(query string) []map[string]any {
		t.Helper()
		r := s.do("GET", pkgs+query, nil)
		expectStatus(t, r, 200)
		var list []map[string]any
		r.json(t, &list)
		return list
	}
	if l := count(""); len(l) != 3 || l[0]["softwareImages"] != nil {
		t.Fatalf("plain list: %d packages, default exclusions not applied: %v", len(l), l)
	}
	if l := count("?filter=(eq,vnfProvider,DemoLabs)"); len(l) != 1 {
		t.Fatalf("eq: %d", len(l))
	}
	if l := count("?vnfProvider=Sample"); len(l) != 1 || l[0]["vnfProductName"] != "Node" {
		t.Fatalf("legacy form: %v", l)
	}
	if l := count("?filter=(eq,softwareImages/checksum/algorithm,sha-512)&all_fields"); len(l) != 1 || l[0]["softwareImages"] == nil {
		t.Fatalf("nested attribute with all_fields: %v", l)
	}
	if l := count("?filter=(in,onboardingState,ONBOARDED,CREATED);(neq,vnfProvider,DemoLabs)"); len(l) != 2 {
		t.Fatalf("in + neq: %d", len(l))
	}
	if l := count("?filter=(cont,vnfProductName,'Demo')&fields=vnfProductName"); len(l) != 1 || l[0]["vnfProductName"] != "Demo VNF" {
		t.Fatalf("cont with fields: %v", l)
	}
	expectStatus(t, s.do("GET", pkgs+"?filter=(eq,noSuchAttribute,x)", nil), 400)
	expectStatus(t, s.do("GET", pkgs+"?filter=(eq,vnfProvider", nil), 400)
	expectStatus(t, s.do("GET", pkgs+"?all_fields&exclude_fields=userDefinedData", nil), 400)
}

func TestPaging(t *testing.T) {
	s := startServer(t, "")
	for i := 0; i < 105; i++ {
		s.createPackage(t)
	}
	r := s.do("GET", pkgs+"?filter=(eq,onboardingState,CREATED)", nil)
	expectStatus(t, r, 200)
	var first []map[string]any
	r.json(t, &first)
	link := r.header.Get("Link")
	if len(first) != 100 || !strings.Contains(link, `rel="next"`) || !strings.Contains(link, "nextpage_opaque_marker=") || !strings.Contains(link, "filter=") {
		t.Fatalf("first page: %d items, Link %q", len(first), link)
	}
	next := link[strings.Index(link, "<")+1 : strings.Index(link, ">")]
	s.createPackage(t) // a concurrent insert lands after the marker
	r = s.do("GET", strings.TrimPrefix(next, s.base), nil)
	expectStatus(t, r, 200)
	var second []map[string]any
	r.json(t, &second)
	if len(second) != 6 || r.header.Get("Link") != "" {
		t.Fatalf("second page: %d items, Link %q", len(second), r.header.Get("Link"))
	}
	seen := map[any]bool{}
	for _, p := range append(first, second...) {
		if seen[p["id"]] {
			t.Fatalf("package %v on two pages", p["id"])
		}
		seen[p["id"]] = true
	}
	expectStatus(t, s.do("GET", pkgs+"?nextpage_opaque_marker=forged", nil), 400)
}

// writeBigPackage writes a valid CSAR with one stored image of size bytes,
// listed in the manifest with SHA3-512 (slow on purpose: onboarding must
// still be running when the test kills the server).
func writeBigPackage(t *testing.T, name string, size int64) {
	out, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	zw := zip.NewWriter(out)
	w, _ := zw.CreateHeader(&zip.FileHeader{Name: "Files/images/big.img", Method: zip.Store})
	buf := make([]byte, 1<<20)
	for i := range buf {
		buf[i] = byte(i * 7)
	}
	h := sha3.New512()
	for n := int64(0); n < size; n += int64(len(buf)) {
		w.Write(buf)
		h.Write(buf)
	}
	meta, _ := zw.Create("TOSCA-Metadata/TOSCA.meta")
	io.WriteString(meta, "TOSCA-Meta-File-Version: 1.0\nCSAR-Version: 1.1\nCreated-By: test\nEntry-Definitions: Definitions/vnfd.yaml\nETSI-Entry-Manifest: manifest.mf\n")
	mf, _ := zw.Create("manifest.mf")
	fmt.Fprintf(mf, "Source: Files/images/big.img\nAlgorithm: sha3_512\nHash: %x\n", h.Sum(nil))
	vnfd, _ := zw.Create("Definitions/vnfd.yaml")
	io.WriteString(vnfd, bigVNFD)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
}

const bigVNFD = `tosca_definitions_version: tosca_simple_yaml_1_2
imports:
  - https://forge.etsi.org/rep/nfv/SOL001/raw/v2.6.1/etsi_nfv_sol001_common_types.yaml
  - https://forge.etsi.org/rep/nfv/SOL001/raw/v2.6.1/etsi_nfv_sol001_vnfd_types.yaml
node_types:
  test.BigVNF:
    derived_from: tosca.nodes.nfv.VNF
    properties:
      descriptor_id: {type: string, default: 0c4b2b4e-big0-4000-8000-000000000001}
      descriptor_version: {type: string, default: '1.0'}
      provider: {type: string, default: Test}
      product_name: {type: string, default: Big}
      software_version: {type: string, default: '1.0'}
      vnfm_info: {type: list, entry_schema: {type: string}, default: [etsivnfm]}
      flavour_id: {type: string, default: simple}
      flavour_description: {type: string, default: one VDU}
topology_template:
  substitution_mappings:
    node_type: test.BigVNF
    properties:
      flavour_id: simple
  node_templates:
    VNF:
      type: test.BigVNF
    VDU1:
      type: tosca.nodes.nfv.Vdu.Compute
      properties:
        name: VDU1
        description: a VDU
        vdu_profile: {min_number_of_instances: 1, max_number_of_instances: 1}
      capabilities:
        virtual_compute:
          properties:
            virtual_memory: {virtual_mem_size: 512 MB}
            virtual_cpu: {num_virtual_cpu: 1}
            virtual_local_storage: [{size_of_storage: 1 GB}]
`
