package main_test

// Conformance tests: black-box checks of the behaviour CONFORMANCE.md
// promises that blackbox_test.go does not cover (upload variants,
// upload_from_uri, every filter operator and selector, the manifest and
// artifacts resources, the onboarded_vnf_packages view, HEAD, 405/404,
// PATCH and DELETE edge cases, binary safety, If-Range with a date).
//
// Decisions recorded here (and in the server code):
//   - A failed upload_from_uri fetch (origin unreachable, 401 for wrong
//     credentials, 404, too many redirects, an empty body) puts the package
//     back in CREATED with onboardingFailureDetails saying why: SOL 005 has
//     onboardingFailureDetails "present when the onboarding state is CREATED
//     and the uploading or processing fails", the upload may then be
//     retried (uploads are only accepted in CREATED), and nothing is silent
//     (CONFORMANCE.md: do not go back to CREATED silently as Tacker does).
//     ERROR is kept for content that was received and found invalid.
//   - GET .../artifacts leaves the software images out (SOL 005/003: the
//     archive holds the artifacts that are not software images; MANO
//     artifacts are "those that are not images").
//   - GET .../manifest?include_signatures with a separate certificate is
//     two files: Accept text/plain alone is 406, as for a multi-file VNFD.
//   - A package without a manifest answers 404 on .../manifest.
//   - Every resource with GET also answers HEAD (RFC 9110 9.1); an Accept
//     media range with q=0 refuses its type.

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// ---------------------------------------------------------------------
// Building small valid packages in the test.

// pkgFile is one artifact of a test package.
type pkgFile struct {
	name  string
	data  []byte
	store bool // zip.Store; zip.Deflate otherwise
}

// nonManoSet is one entry of the manifest's non_mano_artifact_sets.
type nonManoSet struct {
	id    string
	files []string
}

// testPkg describes a CSAR built by build: TOSCA.meta, a one-file VNFD
// importing the SOL 001 types by their forge.etsi.org URL, a manifest
// listing every file with its SHA-256 and the files given.
type testPkg struct {
	vnfdID, provider, product, version string
	vnfmInfo                           string // a second vnfm_info entry
	image                              []byte // a VDU software image Files/images/test.img
	files                              []pkgFile
	nonMano                            []nonManoSet
	metaExtra                          string // further TOSCA.meta lines
	noManifest                         bool   // no ETSI-Entry-Manifest (file blocks in TOSCA.meta instead)
	signed                             bool   // the manifest ends with a CMS block; TOSCA.meta names manifest.cert
}

const testVNFD = `tosca_definitions_version: tosca_simple_yaml_1_2
description: a conformance test VNF
imports:
  - https://forge.etsi.org/rep/nfv/SOL001/raw/v2.6.1/etsi_nfv_sol001_common_types.yaml
  - https://forge.etsi.org/rep/nfv/SOL001/raw/v2.6.1/etsi_nfv_sol001_vnfd_types.yaml
node_types:
  test.VNF:
    derived_from: tosca.nodes.nfv.VNF
    properties:
      descriptor_id: {type: string, default: %q}
      descriptor_version: {type: string, default: '1.0'}
      provider: {type: string, default: %q}
      product_name: {type: string, default: %q}
      software_version: {type: string, default: %q}
      vnfm_info: {type: list, entry_schema: {type: string}, default: [etsivnfm, %q]}
      flavour_id: {type: string, default: simple}
      flavour_description: {type: string, default: one VDU}
topology_template:
  substitution_mappings:
    node_type: test.VNF
    properties:
      flavour_id: simple
  node_templates:
    VNF:
      type: test.VNF
    VDU1:
      type: tosca.nodes.nfv.Vdu.Compute
      properties:
        name: VDU1
        description: a VDU
        vdu_profile: {min_number_of_instances: 1, max_number_of_instances: 1}
%s      capabilities:
        virtual_compute:
          properties:
            virtual_memory: {virtual_mem_size: 512 MB}
            virtual_cpu: {num_virtual_cpu: 1}
            virtual_local_storage: [{size_of_storage: 1 GB}]
`

const testImageYAML = `        sw_image_data:
          name: test-image
          version: '1.0'
          checksum: {algorithm: sha-256, hash: %x}
          container_format: bare
          disk_format: qcow2
          min_disk: 1 GB
          size: 1 GB
      artifacts:
        sw_image:
          type: tosca.artifacts.nfv.SwImage
          file: ../Files/images/test.img
`

const testCMS = "-----BEGIN CMS-----\nMIIBdGVzdCBzaWduYXR1cmUgb25seQ==\n-----END CMS-----\n"

// built is a test package and what the test needs to know of it.
type built struct {
	zip      []byte
	manifest []byte // the manifest file as stored (with its CMS block if signed)
	unsigned []byte // the manifest without its CMS block
	cert     []byte
	files    map[string][]byte // every file by path
}

func (p testPkg) build(t *testing.T) built {
	t.Helper()
	if p.version == "" {
		p.version = "1.0"
	}
	if p.provider == "" {
		p.provider = "Test"
	}
	if p.product == "" {
		p.product = "Test VNF"
	}
	if p.vnfmInfo == "" {
		p.vnfmInfo = "testvnfm"
	}
	imageYAML := ""
	if p.image != nil {
		imageYAML = fmt.Sprintf(testImageYAML, sha256.Sum256(p.image))
	}
	vnfd := fmt.Sprintf(testVNFD, p.vnfdID, p.provider, p.product, p.version, p.vnfmInfo, imageYAML)

	files := []pkgFile{{name: "Definitions/vnfd.yaml", data: []byte(vnfd)}}
	if p.image != nil {
		files = append(files, pkgFile{name: "Files/images/test.img", data: p.image, store: true})
	}
	files = append(files, p.files...)

	var meta strings.Builder
	meta.WriteString("TOSCA-Meta-File-Version: 1.0\nCSAR-Version: 1.1\nCreated-By: conformance test\nEntry-Definitions: Definitions/vnfd.yaml\n")
	meta.WriteString(p.metaExtra)
	b := built{files: map[string][]byte{}}
	if p.noManifest {
		for _, f := range files {
			fmt.Fprintf(&meta, "\nName: %s\nContent-Type: application/octet-stream\nAlgorithm: SHA-256\nHash: %x\n", f.name, sha256.Sum256(f.data))
		}
	} else {
		meta.WriteString("ETSI-Entry-Manifest: manifest.mf\n")
		if p.signed {
			meta.WriteString("ETSI-Entry-Certificate: manifest.cert\n")
		}
		var mf strings.Builder
		fmt.Fprintf(&mf, "metadata:\n  vnf_provider_id: %s\n  vnf_product_name: %s\n  vnf_release_date_time: 2024-01-01T00:00:00Z\n  vnf_package_version: '1.0'\n  compatible_specification_versions: 2.6.1, 2.7.1\n", p.provider, p.product)
		for _, f := range files {
			fmt.Fprintf(&mf, "\nSource: %s\nAlgorithm: SHA-256\nHash: %x\n", f.name, sha256.Sum256(f.data))
		}
		if len(p.nonMano) > 0 {
			mf.WriteString("\nnon_mano_artifact_sets:\n")
			for _, set := range p.nonMano {
				fmt.Fprintf(&mf, "  %s:\n", set.id)
				for _, f := range set.files {
					fmt.Fprintf(&mf, "    Source: %s\n", f)
				}
			}
		}
		b.unsigned = []byte(mf.String())
		if p.signed {
			mf.WriteString("\n" + testCMS)
			b.cert = []byte("-----BEGIN CERTIFICATE-----\nMIIBdGVzdCBjZXJ0aWZpY2F0ZQ==\n-----END CERTIFICATE-----\n")
		}
		b.manifest = []byte(mf.String())
	}

	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name string, data []byte, store bool) {
		method := zip.Deflate
		if store {
			method = zip.Store
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: method, Modified: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
		b.files[name] = data
	}
	add("TOSCA-Metadata/TOSCA.meta", []byte(meta.String()), false)
	if b.manifest != nil {
		add("manifest.mf", b.manifest, false)
	}
	if b.cert != nil {
		add("manifest.cert", b.cert, false)
	}
	for _, f := range files {
		add(f.name, f.data, f.store)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	b.zip = buf.Bytes()
	return b
}

// newVnfdID returns a vnfdId no other test package uses.
func newVnfdID(n int) string {
	return fmt.Sprintf("c0ffee00-0000-4000-8000-%012d", n)
}

// binaryData is n bytes holding every byte value (0x00 to 0xFF, four
// times in order) followed by pseudo-random bytes.
func binaryData(n int, seed uint64) []byte {
	b := make([]byte, n)
	for i := 0; i < 1024 && i < n; i++ {
		b[i] = byte(i)
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	for i := 1024; i < n; i++ {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// ---------------------------------------------------------------------
// Small request helpers.

// createWith creates a package with the given userDefinedData (a JSON
// object text).
func (s *server) createWith(t *testing.T, userDefinedData string) string {
	t.Helper()
	r := s.do("POST", pkgs, strings.NewReader(`{"userDefinedData":`+userDefinedData+`}`), "Content-Type", "application/json")
	expectStatus(t, r, 201)
	var info map[string]any
	r.json(t, &info)
	id, _ := info["id"].(string)
	if id == "" {
		t.Fatalf("create: no id in %s", r.body)
	}
	return id
}

// uploadBytes PUTs data as the package content.
func (s *server) uploadBytes(t *testing.T, id string, data []byte, ctype string) {
	t.Helper()
	expectStatus(t, s.do("PUT", pkgs+"/"+id+"/package_content", bytes.NewReader(data), "Content-Type", ctype), 202)
}

// mustOnboard waits for package id and fails unless it is ONBOARDED.
func (s *server) mustOnboard(t *testing.T, id string) map[string]any {
	t.Helper()
	info := s.waitState(t, id)
	if info["onboardingState"] != "ONBOARDED" {
		t.Fatalf("package %s is %v, want ONBOARDED: %v", id, info["onboardingState"], info["onboardingFailureDetails"])
	}
	return info
}

// onboardBytes creates a package with userDefinedData, uploads data as
// application/zip and waits until it is ONBOARDED.
func (s *server) onboardBytes(t *testing.T, data []byte, userDefinedData string) (string, map[string]any) {
	t.Helper()
	id := s.createWith(t, userDefinedData)
	s.uploadBytes(t, id, data, "application/zip")
	return id, s.mustOnboard(t, id)
}

func (s *server) info(t *testing.T, id string) map[string]any {
	t.Helper()
	r := s.do("GET", pkgs+"/"+id, nil)
	expectStatus(t, r, 200)
	var info map[string]any
	r.json(t, &info)
	return info
}

// query builds a query string from name/value pairs, in order; a value
// "\x00" makes a flag (the name alone).
func queryString(kv ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		if i == 0 {
			b.WriteByte('?')
		} else {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(kv[i]))
		if kv[i+1] != flagParam {
			b.WriteByte('=')
			b.WriteString(url.QueryEscape(kv[i+1]))
		}
	}
	return b.String()
}

const flagParam = "\x00"

// list GETs the package list with a query and returns the items.
func (s *server) list(t *testing.T, q string) []map[string]any {
	t.Helper()
	r := s.do("GET", pkgs+q, nil)
	expectStatus(t, r, 200)
	var items []map[string]any
	r.json(t, &items)
	return items
}

func idsOf(items []map[string]any) []string {
	out := []string{}
	for _, it := range items {
		out = append(out, fmt.Sprint(it["id"]))
	}
	sort.Strings(out)
	return out
}

func sortedIDs(s ...string) []string {
	out := append([]string{}, s...)
	sort.Strings(out)
	return out
}

// expectProblem checks an error answer: its status, a ProblemDetails
// body with that status, a detail and an instance.
func expectProblem(t *testing.T, r response, status int) map[string]any {
	t.Helper()
	expectStatus(t, r, status)
	var pd map[string]any
	r.json(t, &pd)
	if st, _ := pd["status"].(float64); int(st) != status || pd["detail"] == "" || pd["detail"] == nil || pd["title"] == nil {
		t.Fatalf("ProblemDetails %v for status %d", pd, status)
	}
	return pd
}

// zipEntries reads a zip body into name -> content.
func zipEntries(t *testing.T, body []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatalf("not a zip (%d bytes): %v", len(body), err)
	}
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("zip member %s: %v", f.Name, err)
		}
		if _, dup := out[f.Name]; dup {
			t.Fatalf("zip member %s twice", f.Name)
		}
		out[f.Name] = data
	}
	return out
}

func entryNames(m map[string][]byte) []string {
	out := []string{}
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ---------------------------------------------------------------------
// Upload variants.

func TestUploadContentTypes(t *testing.T) {
	s := startServer(t, "")
	checkContent := func(t *testing.T, id string, want []byte) {
		t.Helper()
		info := s.mustOnboard(t, id)
		sum := sha256.Sum256(want)
		if cs, _ := info["checksum"].(map[string]any); cs["algorithm"] != "SHA-256" || cs["hash"] != hex.EncodeToString(sum[:]) {
			t.Fatalf("package checksum %v, want SHA-256 %x", info["checksum"], sum)
		}
		r := s.do("GET", pkgs+"/"+id+"/package_content", nil)
		expectStatus(t, r, 200)
		if !bytes.Equal(r.body, want) {
			t.Fatalf("stored content differs from the upload (%d bytes, want %d)", len(r.body), len(want))
		}
	}

	t.Run("multipart file part after a field", func(t *testing.T) {
		pkg := testPkg{vnfdID: newVnfdID(1)}.build(t)
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		mw.WriteField("description", "a field before the file")
		fw, _ := mw.CreateFormFile("file", "package.zip")
		fw.Write(pkg.zip)
		mw.WriteField("after", "a field after the file")
		mw.Close()
		id := s.createWith(t, `{}`)
		expectStatus(t, s.do("PUT", pkgs+"/"+id+"/package_content", &body, "Content-Type", mw.FormDataContentType()), 202)
		checkContent(t, id, pkg.zip)
	})
	t.Run("multipart part named file without a file name", func(t *testing.T) {
		pkg := testPkg{vnfdID: newVnfdID(2)}.build(t)
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		fw, _ := mw.CreateFormField("file")
		fw.Write(pkg.zip)
		mw.Close()
		id := s.createWith(t, `{}`)
		expectStatus(t, s.do("PUT", pkgs+"/"+id+"/package_content", &body, "Content-Type", mw.FormDataContentType()), 202)
		checkContent(t, id, pkg.zip)
	})
	t.Run("multipart without a file part", func(t *testing.T) {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		mw.WriteField("description", "no file here")
		mw.Close()
		id := s.createWith(t, `{}`)
		expectProblem(t, s.do("PUT", pkgs+"/"+id+"/package_content", &body, "Content-Type", mw.FormDataContentType()), 400)
		if st := s.info(t, id)["onboardingState"]; st != "CREATED" {
			t.Fatalf("after a refused upload: %v", st)
		}
	})
	t.Run("multipart without a boundary", func(t *testing.T) {
		id := s.createWith(t, `{}`)
		expectProblem(t, s.do("PUT", pkgs+"/"+id+"/package_content", strings.NewReader("x"), "Content-Type", "multipart/form-data"), 400)
		if st := s.info(t, id)["onboardingState"]; st != "CREATED" {
			t.Fatalf("after a refused upload: %v", st)
		}
	})
	t.Run("octet-stream", func(t *testing.T) {
		pkg := testPkg{vnfdID: newVnfdID(3)}.build(t)
		id := s.createWith(t, `{}`)
		s.uploadBytes(t, id, pkg.zip, "application/octet-stream")
		checkContent(t, id, pkg.zip)
	})
	t.Run("zip with parameters", func(t *testing.T) {
		pkg := testPkg{vnfdID: newVnfdID(4)}.build(t)
		id := s.createWith(t, `{}`)
		s.uploadBytes(t, id, pkg.zip, "application/zip; name=package.zip")
		checkContent(t, id, pkg.zip)
	})
	t.Run("unsupported content types", func(t *testing.T) {
		pkg := testPkg{vnfdID: newVnfdID(5)}.build(t)
		id := s.createWith(t, `{}`)
		for _, ct := range []string{"text/plain", "application/json", "image/png", ""} {
			req, _ := http.NewRequest("PUT", s.base+pkgs+"/"+id+"/package_content", bytes.NewReader(pkg.zip))
			if ct != "" {
				req.Header.Set("Content-Type", ct)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			expectProblem(t, response{resp.StatusCode, resp.Header, body}, 415)
		}
		if st := s.info(t, id)["onboardingState"]; st != "CREATED" {
			t.Fatalf("after 415: %v", st)
		}
		// The package can still be uploaded.
		s.uploadBytes(t, id, pkg.zip, "application/zip")
		checkContent(t, id, pkg.zip)
	})
	t.Run("unknown package", func(t *testing.T) {
		pkg := testPkg{vnfdID: newVnfdID(6)}.build(t)
		expectProblem(t, s.do("PUT", pkgs+"/00000000-0000-4000-8000-000000000000/package_content", bytes.NewReader(pkg.zip), "Content-Type", "application/zip"), 404)
	})
}

// origin is a local HTTP server upload_from_uri fetches from.
type origin struct {
	*httptest.Server
	files map[string][]byte
	auth  map[string][2]string // path -> user, password required
	mu    sync.Mutex
	hits  map[string]int
}

func (o *origin) hitCount(path string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.hits[path]
}

func newOrigin(t *testing.T) *origin {
	o := &origin{files: map[string][]byte{}, auth: map[string][2]string{}, hits: map[string]int{}}
	o.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		o.hits[r.URL.Path]++
		o.mu.Unlock()
		if strings.HasPrefix(r.URL.Path, "/hop/") {
			// /hop/N/target: N more redirects, then target.
			rest := strings.TrimPrefix(r.URL.Path, "/hop/")
			n, target, _ := strings.Cut(rest, "/")
			k, _ := strconv.Atoi(n)
			if k == 0 {
				http.Redirect(w, r, "/"+target, http.StatusFound)
				return
			}
			http.Redirect(w, r, fmt.Sprintf("/hop/%d/%s", k-1, target), http.StatusFound)
			return
		}
		if cred, ok := o.auth[r.URL.Path]; ok {
			u, p, ok := r.BasicAuth()
			if !ok || u != cred[0] || p != cred[1] {
				w.Header().Set("WWW-Authenticate", `Basic realm="packages"`)
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
		}
		data, ok := o.files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/zip")
		w.Write(data)
	}))
	t.Cleanup(o.Close)
	return o
}

func (s *server) fetch(t *testing.T, id, body string) response {
	t.Helper()
	return s.do("POST", pkgs+"/"+id+"/package_content/upload_from_uri", strings.NewReader(body), "Content-Type", "application/json")
}

func fetchBody(addr, user, password string) string {
	m := map[string]string{"addressInformation": addr}
	if user != "" || password != "" {
		m["userName"], m["password"] = user, password
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// expectFetchFailed checks a package whose fetch failed: back in CREATED,
// DISABLED, with onboardingFailureDetails whose detail mentions want.
func expectFetchFailed(t *testing.T, info map[string]any, want string) {
	t.Helper()
	if info["onboardingState"] != "CREATED" || info["operationalState"] != "DISABLED" || info["usageState"] != "NOT_IN_USE" {
		t.Fatalf("after a failed fetch: %v/%v/%v", info["onboardingState"], info["operationalState"], info["usageState"])
	}
	pd, _ := info["onboardingFailureDetails"].(map[string]any)
	if pd == nil || pd["status"] == nil || !strings.Contains(fmt.Sprint(pd["detail"]), want) {
		t.Fatalf("onboardingFailureDetails %v should explain the failure (%q)", pd, want)
	}
	if info["checksum"] != nil {
		t.Fatalf("a failed fetch left a checksum: %v", info["checksum"])
	}
}

func TestUploadFromURI(t *testing.T) {
	s := startServer(t, "")
	o := newOrigin(t)
	plain := testPkg{vnfdID: newVnfdID(10)}.build(t)
	secret := testPkg{vnfdID: newVnfdID(11)}.build(t)
	hops := testPkg{vnfdID: newVnfdID(12)}.build(t)
	o.files["/plain.zip"] = plain.zip
	o.files["/secret.zip"] = secret.zip
	o.auth["/secret.zip"] = [2]string{"operator", "s3cr:t"}
	o.files["/hops.zip"] = hops.zip
	o.files["/empty.zip"] = []byte{}

	t.Run("plain", func(t *testing.T) {
		id := s.createWith(t, `{}`)
		expectStatus(t, s.fetch(t, id, fetchBody(o.URL+"/plain.zip", "", "")), 202)
		s.mustOnboard(t, id)
		r := s.do("GET", pkgs+"/"+id+"/package_content", nil)
		if !bytes.Equal(r.body, plain.zip) {
			t.Fatalf("fetched content differs")
		}
		// A second fetch for an onboarded package is a conflict.
		expectProblem(t, s.fetch(t, id, fetchBody(o.URL+"/plain.zip", "", "")), 409)
	})
	t.Run("basic auth", func(t *testing.T) {
		id := s.createWith(t, `{}`)
		// Wrong password: the origin answers 401.
		expectStatus(t, s.fetch(t, id, fetchBody(o.URL+"/secret.zip", "operator", "wrong-password")), 202)
		info := s.waitState(t, id)
		expectFetchFailed(t, info, "401")
		if strings.Contains(fmt.Sprint(info), "wrong-password") {
			t.Fatalf("the password shows in %v", info["onboardingFailureDetails"])
		}
		// No credentials at all.
		expectStatus(t, s.fetch(t, id, fetchBody(o.URL+"/secret.zip", "", "")), 202)
		expectFetchFailed(t, s.waitState(t, id), "401")
		// The right ones: the retry onboards and clears the failure.
		expectStatus(t, s.fetch(t, id, fetchBody(o.URL+"/secret.zip", "operator", "s3cr:t")), 202)
		info = s.mustOnboard(t, id)
		if info["onboardingFailureDetails"] != nil {
			t.Fatalf("onboardingFailureDetails left after a good upload: %v", info["onboardingFailureDetails"])
		}
		r := s.do("GET", pkgs+"/"+id+"/package_content", nil)
		if !bytes.Equal(r.body, secret.zip) {
			t.Fatalf("fetched content differs")
		}
	})
	t.Run("redirects", func(t *testing.T) {
		// The default limit is 5 redirects: 5 are followed ...
		id := s.createWith(t, `{}`)
		expectStatus(t, s.fetch(t, id, fetchBody(o.URL+"/hop/4/hops.zip", "", "")), 202)
		s.mustOnboard(t, id)
		// ... 6 are too many.
		id = s.createWith(t, `{}`)
		before := o.hitCount("/plain.zip")
		expectStatus(t, s.fetch(t, id, fetchBody(o.URL+"/hop/5/plain.zip", "", "")), 202)
		info := s.waitState(t, id)
		expectFetchFailed(t, info, "redirect")
		// /hop/5 -> 4 -> 3 -> 2 -> 1 -> 0 (five redirects followed) -> /plain.zip refused.
		if o.hitCount("/plain.zip") != before || o.hitCount("/hop/0/plain.zip") != 1 {
			t.Fatalf("more than 5 redirects were followed: %v", o.hits)
		}
	})
	t.Run("not found", func(t *testing.T) {
		id := s.createWith(t, `{}`)
		expectStatus(t, s.fetch(t, id, fetchBody(o.URL+"/missing.zip", "", "")), 202)
		expectFetchFailed(t, s.waitState(t, id), "404")
		// A password in the address is not repeated in the failure details.
		withPassword := strings.Replace(o.URL, "http://", "http://someone:topsecret@", 1) + "/missing.zip"
		expectStatus(t, s.fetch(t, id, fetchBody(withPassword, "", "")), 202)
		info := s.waitState(t, id)
		expectFetchFailed(t, info, "404")
		if strings.Contains(fmt.Sprint(info), "topsecret") {
			t.Fatalf("the password shows in %v", info["onboardingFailureDetails"])
		}
	})
	t.Run("empty body", func(t *testing.T) {
		id := s.createWith(t, `{}`)
		expectStatus(t, s.fetch(t, id, fetchBody(o.URL+"/empty.zip", "", "")), 202)
		expectFetchFailed(t, s.waitState(t, id), "empty")
	})
	t.Run("unreachable", func(t *testing.T) {
		id := s.createWith(t, `{}`)
		expectStatus(t, s.fetch(t, id, fetchBody("http://"+freePort(t)+"/p.zip", "", "")), 202)
		expectFetchFailed(t, s.waitState(t, id), "fetching")
	})
	t.Run("refused requests", func(t *testing.T) {
		id := s.createWith(t, `{}`)
		for _, body := range []string{
			fetchBody("ftp://127.0.0.1/p.zip", "", ""),
			fetchBody("file:///etc/passwd", "", ""),
			fetchBody("/relative/p.zip", "", ""),
			fetchBody("http:///nohost.zip", "", ""),
			`{}`,
			`{"addressInformation": 42}`,
			`{"addressInformation": "` + o.URL + `/plain.zip", "unknown": true}`,
			`not json`,
		} {
			expectProblem(t, s.fetch(t, id, body), 400)
		}
		expectProblem(t, s.do("POST", pkgs+"/"+id+"/package_content/upload_from_uri", strings.NewReader(fetchBody(o.URL+"/plain.zip", "", "")), "Content-Type", "text/plain"), 415)
		info := s.info(t, id)
		if info["onboardingState"] != "CREATED" || info["onboardingFailureDetails"] != nil {
			t.Fatalf("a refused request changed the package: %v", info)
		}
		expectProblem(t, s.fetch(t, "00000000-0000-4000-8000-000000000000", fetchBody(o.URL+"/plain.zip", "", "")), 404)
	})
}

// ---------------------------------------------------------------------
// Filters and attribute selectors through the API.

// filterFixture onboards and creates the packages the filter tests query.
type filterFixture struct {
	s                      *server
	acme, beta, hw, p4, p5 string
	all                    []string
}

func newFilterFixture(t *testing.T) *filterFixture {
	s := startServer(t, "")
	f := &filterFixture{s: s}
	acme := testPkg{vnfdID: newVnfdID(20), provider: "Acme", product: "Router (edge), it's fast", version: "1.0",
		vnfmInfo: "vendorA", image: binaryData(4096, 20), files: []pkgFile{{name: "Scripts/setup.sh", data: []byte("#!/bin/sh\necho acme\n")}}}.build(t)
	beta := testPkg{vnfdID: newVnfdID(21), provider: "Beta", product: "Switch", version: "2.0", vnfmInfo: "vendorB"}.build(t)
	f.acme, _ = s.onboardBytes(t, acme.zip, `{"key":"a,b","n":5,"tags":["red","green"],"nested":{"deep":"x"}}`)
	f.beta, _ = s.onboardBytes(t, beta.zip, `{"key":"it's","n":10,"tags":["blue"]}`)
	f.hw = s.createWith(t, `{"key":"hello","n":1.5}`)
	s.upload(t, f.hw, corpusFile(t, "helloworld3-multi.zip"))
	s.mustOnboard(t, f.hw)
	f.p4 = s.createWith(t, `{"key":"x)y","n":7}`)
	f.p5 = s.createWith(t, `{"key":""}`)
	f.all = sortedIDs(f.acme, f.beta, f.hw, f.p4, f.p5)
	return f
}

// except returns every package id but those given.
func (f *filterFixture) except(skip ...string) []string {
	var out []string
	for _, id := range f.all {
		if !slices.Contains(skip, id) {
			out = append(out, id)
		}
	}
	return sortedIDs(out...)
}

func TestFilterOperators(t *testing.T) {
	f := newFilterFixture(t)
	s := f.s
	cases := []struct {
		filter string
		want   []string
	}{
		// Every operator on a string attribute (some pushed down to the database).
		{"(eq,vnfProvider,Acme)", sortedIDs(f.acme)},
		{"(neq,vnfProvider,Acme)", f.except(f.acme)},
		{"(gt,vnfSoftwareVersion,1.0)", sortedIDs(f.beta)},
		{"(gte,vnfSoftwareVersion,1.0)", sortedIDs(f.acme, f.beta, f.hw)},
		{"(lt,vnfSoftwareVersion,2.0)", sortedIDs(f.acme, f.hw)},
		{"(lte,vnfSoftwareVersion,2.0)", sortedIDs(f.acme, f.beta, f.hw)},
		{"(in,vnfProvider,Acme,Beta)", sortedIDs(f.acme, f.beta)},
		{"(nin,vnfProvider,Acme,Beta)", f.except(f.acme, f.beta)},
		{"(cont,vnfProductName,Rout,itch)", sortedIDs(f.acme, f.beta)},
		{"(ncont,vnfProductName,Rout)", f.except(f.acme)},
		{"(in,onboardingState,CREATED)", sortedIDs(f.p4, f.p5)},
		{"(nin,onboardingState,CREATED,ERROR)", sortedIDs(f.acme, f.beta, f.hw)},
		{"(eq,operationalState,ENABLED);(eq,usageState,NOT_IN_USE)", sortedIDs(f.acme, f.beta, f.hw)},
		// Numbers compare as numbers (10 > 7 although "10" < "7").
		{"(gt,userDefinedData/n,6)", sortedIDs(f.beta, f.p4)},
		{"(gte,userDefinedData/n,7)", sortedIDs(f.beta, f.p4)},
		{"(lt,userDefinedData/n,7)", sortedIDs(f.acme, f.hw)},
		{"(lte,userDefinedData/n,7)", sortedIDs(f.acme, f.hw, f.p4)},
		{"(eq,userDefinedData/n,1.5)", sortedIDs(f.hw)},
		{"(in,userDefinedData/n,5,10)", sortedIDs(f.acme, f.beta)},
		{"(neq,userDefinedData/n,5)", f.except(f.acme)},
		// Quoting: ',' ')' and a doubled quote inside quotes; the empty string.
		{"(eq,userDefinedData/key,'a,b')", sortedIDs(f.acme)},
		{"(eq,userDefinedData/key,'it''s')", sortedIDs(f.beta)},
		{"(eq,userDefinedData/key,'x)y')", sortedIDs(f.p4)},
		{"(eq,userDefinedData/key,'')", sortedIDs(f.p5)},
		{"(in,userDefinedData/key,'a,b','x)y',hello)", sortedIDs(f.acme, f.p4, f.hw)},
		{"(nin,userDefinedData/key,'a,b','x)y')", f.except(f.acme, f.p4)},
		{"(cont,userDefinedData/key,',',')')", sortedIDs(f.acme, f.p4)},
		{"(ncont,userDefinedData/key,'''')", f.except(f.beta)},
		{"(eq,vnfProductName,'Router (edge), it''s fast')", sortedIDs(f.acme)},
		{"(in,vnfProductName,'Router (edge), it''s fast',Switch)", sortedIDs(f.acme, f.beta)},
		// Nested attributes.
		{"(eq,softwareImages/checksum/algorithm,sha-256)", sortedIDs(f.acme)},
		{"(eq,softwareImages/checksum/algorithm,sha-512)", sortedIDs(f.hw)},
		{"(eq,softwareImages/diskFormat,QCOW2);(eq,softwareImages/containerFormat,BARE)", sortedIDs(f.acme, f.hw)},
		{"(eq,userDefinedData/nested/deep,x)", sortedIDs(f.acme)},
		{"(eq,checksum/algorithm,SHA-256)", sortedIDs(f.acme, f.beta, f.hw)},
		{"(gt,softwareImages/minDisk,0)", sortedIDs(f.acme, f.hw)},
		// Arrays: a positive operator matches when any element does; the
		// negated ones when none does.
		{"(eq,softwareImages/id,VirtualStorage)", sortedIDs(f.hw)},
		{"(eq,softwareImages/id,VDU1)", sortedIDs(f.acme, f.hw)},
		{"(neq,softwareImages/id,VirtualStorage)", f.except(f.hw)},
		{"(eq,userDefinedData/tags,green)", sortedIDs(f.acme)},
		{"(in,userDefinedData/tags,blue,green)", sortedIDs(f.acme, f.beta)},
		{"(nin,userDefinedData/tags,red)", f.except(f.acme)},
		{"(cont,userDefinedData/tags,ee)", sortedIDs(f.acme)},
		{"(eq,vnfmInfo,vendorA)", sortedIDs(f.acme)},
		{"(eq,vnfmInfo,etsivnfm)", sortedIDs(f.acme, f.beta)},
		{"(eq,vnfmInfo,Tacker)", sortedIDs(f.hw)},
		{"(eq,compatibleSpecificationVersions,2.7.1)", sortedIDs(f.acme, f.beta)},
		{"(eq,additionalArtifacts/artifactPath,Scripts/install.sh)", sortedIDs(f.hw)},
		{"(eq,additionalArtifacts/artifactPath,Scripts/setup.sh)", sortedIDs(f.acme)},
		// Terms are ANDed.
		{"(eq,onboardingState,ONBOARDED);(neq,vnfProvider,DemoLabs);(gt,userDefinedData/n,6)", sortedIDs(f.beta)},
		{"(eq,vnfProvider,Acme);(eq,vnfProvider,Beta)", []string{}},
	}
	for _, c := range cases {
		if got := idsOf(s.list(t, queryString("filter", c.filter))); !slices.Equal(got, c.want) {
			t.Errorf("filter %s: got %v, want %v", c.filter, got, c.want)
		}
	}
	// Several filter parameters are ANDed; the legacy form means eq (in when repeated).
	if got := idsOf(s.list(t, queryString("filter", "(eq,onboardingState,ONBOARDED)", "filter", "(lt,vnfSoftwareVersion,2.0)"))); !slices.Equal(got, sortedIDs(f.acme, f.hw)) {
		t.Errorf("two filter parameters: %v", got)
	}
	if got := idsOf(s.list(t, queryString("vnfProvider", "Acme", "vnfProvider", "Beta"))); !slices.Equal(got, sortedIDs(f.acme, f.beta)) {
		t.Errorf("legacy form repeated: %v", got)
	}
	if got := idsOf(s.list(t, queryString("vnfProvider", "Acme", "filter", "(eq,vnfSoftwareVersion,1.0)"))); !slices.Equal(got, sortedIDs(f.acme)) {
		t.Errorf("legacy form with a filter: %v", got)
	}
	// A raw ';' between terms (not percent-encoded) works too.
	r := s.do("GET", pkgs+"?filter=(eq,vnfProvider,Acme);(eq,vnfSoftwareVersion,1.0)", nil)
	expectStatus(t, r, 200)
	var items []map[string]any
	r.json(t, &items)
	if got := idsOf(items); !slices.Equal(got, sortedIDs(f.acme)) {
		t.Errorf("raw ';': %v", got)
	}

	// Bad filters: 400 with a ProblemDetails.
	for _, bad := range []string{
		"(eq,softwareImages/size,abc)",          // integer attribute, not a number
		"(gt,softwareImages/minDisk,1.5)",       // integer attribute, a fraction
		"(eq,softwareImages/isEncrypted,maybe)", // boolean attribute
		"(eq,onboardingState,DONE)",             // not a value of the enumeration
		"(in,operationalState,ENABLED,ON)",      // one value of several
		"(gt,onboardingState,CREATED)",          // ordering on an enumeration
		"(cont,softwareImages/size,1)",          // cont on a number
		"(eq,softwareImages/createdAt,yesterday)",
		"(eq,checksum,x)",              // a structure
		"(eq,softwareImages/nope,x)",   // unknown nested attribute
		"(eq,noSuchAttribute,x)",       // unknown attribute
		"(eq,userDefinedData/key,a,b)", // eq takes one value: ',' must be quoted
		"(eq,userDefinedData/key,it's)",
		"(eq,userDefinedData/key,'open)",
		"(like,vnfProvider,Acme)",
		"(eq,vnfProvider,)",
		"(eq,vnfProvider,Acme);",
		"(eq,vnfProvider,Acme)(eq,vnfProvider,Beta)",
		"eq,vnfProvider,Acme",
		"",
	} {
		expectProblem(t, s.do("GET", pkgs+queryString("filter", bad), nil), 400)
	}
	expectProblem(t, s.do("GET", pkgs+queryString("noSuchAttribute", "x"), nil), 400)
}

func TestAttributeSelectors(t *testing.T) {
	f := newFilterFixture(t)
	s := f.s
	one := func(q string) map[string]any {
		t.Helper()
		items := s.list(t, queryString(append([]string{"filter", "(eq,vnfProvider,Acme)"}, strings.Split(q, "&")...)...))
		if len(items) != 1 {
			t.Fatalf("%s: %d items", q, len(items))
		}
		return items[0]
	}
	has := func(m map[string]any, attrs ...string) bool {
		for _, a := range attrs {
			if _, ok := m[a]; !ok {
				return false
			}
		}
		return true
	}
	none := func(m map[string]any, attrs ...string) bool {
		for _, a := range attrs {
			if _, ok := m[a]; ok {
				return false
			}
		}
		return true
	}
	simple := []string{"id", "vnfdId", "vnfProvider", "vnfProductName", "vnfSoftwareVersion", "vnfdVersion", "onboardingState", "operationalState", "usageState", "_links"}
	defaults := []string{"softwareImages", "additionalArtifacts", "userDefinedData", "checksum"}

	// No selector: exclude_default.
	m := one("")
	if !has(m, simple...) || !none(m, defaults...) || !has(m, "vnfmInfo") {
		t.Errorf("default: %v", m)
	}
	m = one("exclude_default&" + flagParam)
	if !has(m, simple...) || !none(m, defaults...) || !has(m, "vnfmInfo") {
		t.Errorf("exclude_default: %v", m)
	}
	m = one("all_fields&" + flagParam)
	if !has(m, simple...) || !has(m, defaults...) || !has(m, "vnfmInfo") {
		t.Errorf("all_fields: %v", m)
	}
	// fields: the simple attributes, the complex ones listed, nothing else complex.
	m = one("fields&userDefinedData")
	if !has(m, simple...) || !has(m, "userDefinedData") || !none(m, "softwareImages", "additionalArtifacts", "checksum", "vnfmInfo") {
		t.Errorf("fields=userDefinedData: %v", m)
	}
	m = one("fields&softwareImages/checksum,userDefinedData/nested")
	images, _ := m["softwareImages"].([]any)
	if len(images) != 1 || !has(m, simple...) || !none(m, "additionalArtifacts", "checksum", "vnfmInfo") {
		t.Fatalf("fields with nested paths: %v", m)
	}
	img := images[0].(map[string]any)
	if !has(img, "id", "checksum", "diskFormat") {
		t.Errorf("fields=softwareImages/checksum: image %v", img)
	}
	if ud, _ := m["userDefinedData"].(map[string]any); ud == nil || ud["nested"] == nil || ud["tags"] != nil || ud["key"] != "a,b" {
		t.Errorf("fields=userDefinedData/nested: %v", m["userDefinedData"])
	}
	// exclude_fields: everything but what is listed.
	m = one("exclude_fields&softwareImages,userDefinedData/tags")
	if !has(m, simple...) || !has(m, "additionalArtifacts", "checksum", "vnfmInfo", "userDefinedData") || !none(m, "softwareImages") {
		t.Errorf("exclude_fields: %v", m)
	}
	if ud, _ := m["userDefinedData"].(map[string]any); ud["tags"] != nil || ud["key"] != "a,b" {
		t.Errorf("exclude_fields=userDefinedData/tags: %v", m["userDefinedData"])
	}
	// fields with exclude_default: the default set minus what fields lists.
	m = one("fields&userDefinedData&exclude_default&" + flagParam)
	if !has(m, simple...) || !has(m, "userDefinedData", "vnfmInfo") || !none(m, "softwareImages", "additionalArtifacts", "checksum") {
		t.Errorf("fields+exclude_default: %v", m)
	}

	// Invalid combinations and names: 400.
	for _, q := range []string{
		queryString("all_fields", flagParam, "fields", "userDefinedData"),
		queryString("all_fields", flagParam, "exclude_fields", "userDefinedData"),
		queryString("all_fields", flagParam, "exclude_default", flagParam),
		queryString("fields", "userDefinedData", "exclude_fields", "checksum"),
		queryString("exclude_fields", "checksum", "exclude_default", flagParam),
		queryString("fields", "userDefinedData", "exclude_fields", "checksum", "exclude_default", flagParam),
		queryString("fields", "noSuchAttribute"),
		queryString("exclude_fields", "softwareImages/noSuch"),
		queryString("exclude_fields", "onboardingState"),
		queryString("exclude_fields", "id"),
		queryString("fields", ""),
		queryString("fields", "a,,b"),
	} {
		expectProblem(t, s.do("GET", pkgs+q, nil), 400)
	}
}

// TestLinkKeepsFilterAndSelectors pages through a filtered, selected list:
// the next link carries the filter (with quotes, ',' and ';' inside a
// value) and the selectors, and the next page honours them.
func TestLinkKeepsFilterAndSelectors(t *testing.T) {
	s := startServer(t, "")
	var want []string
	for i := 0; i < 130; i++ {
		if i%5 == 4 {
			s.createWith(t, `{"key":"other","i":`+strconv.Itoa(i)+`}`)
			continue
		}
		want = append(want, s.createWith(t, `{"key":"it's a,b;c)","i":`+strconv.Itoa(i)+`}`))
	}
	filter := "(eq,userDefinedData/key,'it''s a,b;c)');(gte,userDefinedData/i,0)"
	r := s.do("GET", pkgs+queryString("filter", filter, "fields", "userDefinedData", "exclude_default", flagParam), nil)
	expectStatus(t, r, 200)
	var first []map[string]any
	r.json(t, &first)
	link := r.header.Get("Link")
	if len(first) != 100 || !strings.HasSuffix(link, `>; rel="next"`) || !strings.HasPrefix(link, "<"+s.base+pkgs+"?") {
		t.Fatalf("first page: %d items, Link %q", len(first), link)
	}
	next, err := url.Parse(link[1:strings.Index(link, ">")])
	if err != nil {
		t.Fatal(err)
	}
	// The link's query decodes to the same filter and selectors.
	q, err := url.ParseQuery(strings.ReplaceAll(next.RawQuery, ";", "%3B"))
	if err != nil {
		t.Fatal(err)
	}
	if q.Get("filter") != filter || q.Get("fields") != "userDefinedData" || !q.Has("exclude_default") || q.Get("nextpage_opaque_marker") == "" {
		t.Fatalf("the next link lost the query: %q", next.RawQuery)
	}
	r = s.do("GET", next.RequestURI(), nil)
	expectStatus(t, r, 200)
	var second []map[string]any
	r.json(t, &second)
	if r.header.Get("Link") != "" {
		t.Fatalf("last page with a Link: %q", r.header.Get("Link"))
	}
	got := idsOf(append(first, second...))
	if !slices.Equal(got, sortedIDs(want...)) {
		t.Fatalf("pages hold %d packages, want the %d matching", len(got), len(want))
	}
	for _, p := range append(first, second...) {
		ud, _ := p["userDefinedData"].(map[string]any)
		if ud["key"] != "it's a,b;c)" || p["onboardingState"] != "CREATED" || p["_links"] == nil {
			t.Fatalf("selectors not applied on a page: %v", p)
		}
	}
	// all_fields survives paging as well (a flag without a value).
	r = s.do("GET", pkgs+queryString("all_fields", flagParam), nil)
	expectStatus(t, r, 200)
	link = r.header.Get("Link")
	if !strings.Contains(link, "?all_fields&") && !strings.Contains(link, "?all_fields=&") {
		t.Fatalf("all_fields lost: %q", link)
	}
	next, _ = url.Parse(link[1:strings.Index(link, ">")])
	r = s.do("GET", next.RequestURI(), nil)
	expectStatus(t, r, 200)
	second = nil
	r.json(t, &second)
	if len(second) != 30 || second[0]["userDefinedData"] == nil {
		t.Fatalf("second page with all_fields: %d items, %v", len(second), second)
	}
}

// ---------------------------------------------------------------------
// The manifest resource.

func TestManifestResource(t *testing.T) {
	// testCMS is no real signature: the manifest resource is tested here,
	// signature verification in vnfpkgm/validate.
	s := startServer(t, "", "--signatures", "ignore")
	signed := testPkg{vnfdID: newVnfdID(30), signed: true, files: []pkgFile{{name: "Scripts/run.sh", data: []byte("#!/bin/sh\n")}}}.build(t)
	plain := testPkg{vnfdID: newVnfdID(31)}.build(t)
	bare := testPkg{vnfdID: newVnfdID(32), noManifest: true, files: []pkgFile{{name: "Scripts/run.sh", data: []byte("#!/bin/sh\n")}}}.build(t)
	signedID, _ := s.onboardBytes(t, signed.zip, `{}`)
	plainID, _ := s.onboardBytes(t, plain.zip, `{}`)
	bareID, bareInfo := s.onboardBytes(t, bare.zip, `{}`)

	get := func(id, q, accept string) response {
		t.Helper()
		return s.do("GET", pkgs+"/"+id+"/manifest"+q, nil, "Accept", accept)
	}
	text := func(r response, want []byte) {
		t.Helper()
		expectStatus(t, r, 200)
		if mt, _, _ := mime.ParseMediaType(r.header.Get("Content-Type")); mt != "text/plain" {
			t.Fatalf("Content-Type %q, want text/plain", r.header.Get("Content-Type"))
		}
		if !bytes.Equal(r.body, want) {
			t.Fatalf("manifest text:\n%s\nwant:\n%s", r.body, want)
		}
	}
	zipped := func(r response, want map[string][]byte) {
		t.Helper()
		expectStatus(t, r, 200)
		if r.header.Get("Content-Type") != "application/zip" {
			t.Fatalf("Content-Type %q, want application/zip", r.header.Get("Content-Type"))
		}
		got := zipEntries(t, r.body)
		if !slices.Equal(entryNames(got), entryNames(want)) {
			t.Fatalf("zip holds %v, want %v", entryNames(got), entryNames(want))
		}
		for n, data := range want {
			if !bytes.Equal(got[n], data) {
				t.Fatalf("zip member %s:\n%s\nwant:\n%s", n, got[n], data)
			}
		}
	}
	if !bytes.Contains(signed.manifest, []byte("-----BEGIN CMS-----")) || bytes.Contains(signed.unsigned, []byte("CMS")) {
		t.Fatal("test package built wrong")
	}

	// text/plain: the manifest, without its signature unless asked.
	text(get(signedID, "", "text/plain"), signed.unsigned)
	text(get(signedID, "", ""), signed.unsigned)
	text(get(signedID, "", "*/*"), signed.unsigned)
	text(get(signedID, "", "text/plain, application/zip"), signed.unsigned)
	text(get(plainID, "", "text/plain"), plain.manifest)
	// application/zip: the manifest alone, still without the signature.
	zipped(get(signedID, "", "application/zip"), map[string][]byte{"manifest.mf": signed.unsigned})
	// include_signatures: the signed manifest and its certificate, in a zip.
	zipped(get(signedID, "?include_signatures", "application/zip"), map[string][]byte{"manifest.mf": signed.manifest, "manifest.cert": signed.cert})
	zipped(get(signedID, "?include_signatures", "text/plain, application/zip"), map[string][]byte{"manifest.mf": signed.manifest, "manifest.cert": signed.cert})
	zipped(get(signedID, "?include_signatures", ""), map[string][]byte{"manifest.mf": signed.manifest, "manifest.cert": signed.cert})
	// ... which text/plain cannot carry.
	expectProblem(t, get(signedID, "?include_signatures", "text/plain"), 406)
	// A package without a certificate: the manifest is one file either way.
	text(get(plainID, "?include_signatures", "text/plain"), plain.manifest)
	zipped(get(plainID, "?include_signatures", "application/zip"), map[string][]byte{"manifest.mf": plain.manifest})
	// q=0 refuses a type; the most specific range decides.
	text(get(signedID, "", "text/plain;q=0.5, application/zip;q=0"), signed.unsigned)
	zipped(get(signedID, "", "text/plain;q=0, */*"), map[string][]byte{"manifest.mf": signed.unsigned})
	expectProblem(t, get(signedID, "?include_signatures", "application/zip;q=0, */*"), 406)
	expectProblem(t, get(signedID, "", "text/*;q=0, application/zip;q=0"), 406)
	// Neither media type: 406.
	expectProblem(t, get(signedID, "", "application/json"), 406)
	expectProblem(t, get(signedID, "", "image/png, application/xml"), 406)

	// A package without a manifest.
	if bareInfo["onboardingState"] != "ONBOARDED" {
		t.Fatalf("package without manifest: %v", bareInfo)
	}
	expectProblem(t, get(bareID, "", "text/plain"), 404)
	expectProblem(t, get(bareID, "", "application/zip"), 404)
	// Its additional artifacts come from TOSCA.meta's file blocks.
	if arts, _ := bareInfo["additionalArtifacts"].([]any); len(arts) != 1 || arts[0].(map[string]any)["artifactPath"] != "Scripts/run.sh" {
		t.Fatalf("additionalArtifacts without a manifest: %v", bareInfo["additionalArtifacts"])
	}
	// Not onboarded, unknown.
	expectProblem(t, get(s.createWith(t, `{}`), "", "text/plain"), 409)
	expectProblem(t, get("00000000-0000-4000-8000-000000000000", "", "text/plain"), 404)
}

// ---------------------------------------------------------------------
// The artifacts zip.

// artifactsPkg has an image, two MANO artifacts and two non-MANO sets.
func artifactsPkg(t *testing.T, n int) built {
	return testPkg{
		vnfdID: newVnfdID(n),
		image:  binaryData(8192, uint64(n)),
		files: []pkgFile{
			{name: "Scripts/install.sh", data: []byte("#!/bin/sh\necho install\n")},
			{name: "Files/config.yaml", data: []byte("key: value\n"), store: true},
			{name: "Artifacts/Events/ves.yaml", data: []byte("event: {}\n")},
			{name: "Artifacts/Docs/readme.txt", data: []byte("read me\n")},
			{name: "Artifacts/Docs/guide.bin", data: binaryData(3000, uint64(n)+1)},
		},
		nonMano: []nonManoSet{
			{id: "onap_ves_events", files: []string{"Artifacts/Events/ves.yaml"}},
			{id: "prv.example.docs", files: []string{"Artifacts/Docs/readme.txt", "Artifacts/Docs/guide.bin"}},
		},
	}.build(t)
}

func TestArtifactsZip(t *testing.T) {
	s := startServer(t, "")
	pkg := artifactsPkg(t, 40)
	id, info := s.onboardBytes(t, pkg.zip, `{}`)

	mano := []string{"Scripts/install.sh", "Files/config.yaml"}
	ves := []string{"Artifacts/Events/ves.yaml"}
	docs := []string{"Artifacts/Docs/readme.txt", "Artifacts/Docs/guide.bin"}
	cat := func(lists ...[]string) []string {
		var out []string
		for _, l := range lists {
			out = append(out, l...)
		}
		return sortedIDs(out...)
	}
	cases := []struct {
		q    string
		want []string
	}{
		{"", cat(mano, ves, docs)},
		{"?exclude_all_mano_artifacts", cat(ves, docs)},
		{"?exclude_all_non_mano_artifacts", cat(mano)},
		{"?exclude_all_mano_artifacts&exclude_all_non_mano_artifacts", []string{}},
		{"?select_non_mano_artifact_sets=prv.example.docs", cat(mano, docs)},
		{"?select_non_mano_artifact_sets=onap_ves_events,prv.example.docs", cat(mano, ves, docs)},
		{"?select_non_mano_artifact_sets=onap_ves_events&exclude_all_mano_artifacts", cat(ves)},
		{"?select_non_mano_artifact_sets=no_such_set", cat(mano)},
	}
	for _, view := range []string{pkgs + "/" + id, "/vnfpkgm/v1/onboarded_vnf_packages/" + newVnfdID(40)} {
		for _, c := range cases {
			r := s.do("GET", view+"/artifacts"+c.q, nil)
			expectStatus(t, r, 200)
			if r.header.Get("Content-Type") != "application/zip" {
				t.Fatalf("%s: Content-Type %q", c.q, r.header.Get("Content-Type"))
			}
			got := zipEntries(t, r.body)
			if !slices.Equal(entryNames(got), c.want) {
				t.Errorf("artifacts%s: %v, want %v", c.q, entryNames(got), c.want)
			}
			for n, data := range got {
				if !bytes.Equal(data, pkg.files[n]) {
					t.Errorf("artifacts%s: %s differs from the package's", c.q, n)
				}
			}
		}
		expectProblem(t, s.do("GET", view+"/artifacts?select_non_mano_artifact_sets=onap_ves_events&exclude_all_non_mano_artifacts", nil), 400)
	}

	// VnfPkgInfo names the set of each non-MANO artifact, and only of those.
	arts, _ := info["additionalArtifacts"].([]any)
	sets := map[string]any{}
	for _, a := range arts {
		am := a.(map[string]any)
		sets[fmt.Sprint(am["artifactPath"])] = am["nonManoArtifactSetId"]
	}
	want := map[string]any{
		"Scripts/install.sh": nil, "Files/config.yaml": nil,
		"Artifacts/Events/ves.yaml": "onap_ves_events",
		"Artifacts/Docs/readme.txt": "prv.example.docs", "Artifacts/Docs/guide.bin": "prv.example.docs",
	}
	if fmt.Sprint(sets) != fmt.Sprint(want) {
		t.Fatalf("additionalArtifacts sets %v, want %v", sets, want)
	}
	// The image is a software image, not an additional artifact.
	images, _ := info["softwareImages"].([]any)
	if len(images) != 1 || images[0].(map[string]any)["imagePath"] != "Files/images/test.img" {
		t.Fatalf("softwareImages %v", info["softwareImages"])
	}

	// Change log, licenses and tests are classified.
	classified := testPkg{vnfdID: newVnfdID(41),
		metaExtra: "ETSI-Entry-Change-Log: Files/ChangeLog.txt\nETSI-Entry-Licenses: Licenses\nETSI-Entry-Tests: Tests\n",
		files: []pkgFile{
			{name: "Files/ChangeLog.txt", data: []byte("1.0: first\n")},
			{name: "Licenses/LICENSE.txt", data: []byte("MIT\n")},
			{name: "Tests/test.sh", data: []byte("#!/bin/sh\n")},
			{name: "Scripts/other.sh", data: []byte("#!/bin/sh\n")},
		}}.build(t)
	_, cinfo := s.onboardBytes(t, classified.zip, `{}`)
	classes := map[string]any{}
	for _, a := range cinfo["additionalArtifacts"].([]any) {
		am := a.(map[string]any)
		classes[fmt.Sprint(am["artifactPath"])] = am["artifactClassification"]
	}
	wantClasses := map[string]any{"Files/ChangeLog.txt": "HISTORY", "Licenses/LICENSE.txt": "LICENSE", "Tests/test.sh": "TESTING", "Scripts/other.sh": nil}
	if fmt.Sprint(classes) != fmt.Sprint(wantClasses) {
		t.Fatalf("artifactClassification %v, want %v", classes, wantClasses)
	}

	// The helloworld package has no non-MANO set: all is MANO.
	hw, _ := s.onboard(t, corpusFile(t, "helloworld3-multi.zip"))
	r := s.do("GET", pkgs+"/"+hw+"/artifacts", nil)
	expectStatus(t, r, 200)
	if got := entryNames(zipEntries(t, r.body)); !slices.Equal(got, []string{"Files/kubernetes/deployment.yaml", "Scripts/install.sh"}) {
		t.Fatalf("helloworld artifacts: %v", got)
	}
	r = s.do("GET", pkgs+"/"+hw+"/artifacts?exclude_all_mano_artifacts", nil)
	expectStatus(t, r, 200)
	if got := entryNames(zipEntries(t, r.body)); len(got) != 0 {
		t.Fatalf("helloworld artifacts without MANO ones: %v", got)
	}
	expectProblem(t, s.do("GET", pkgs+"/"+s.createWith(t, `{}`)+"/artifacts", nil), 409)
}

// ---------------------------------------------------------------------
// The SOL 003 view by vnfdId.

func TestOnboardedView(t *testing.T) {
	s := startServer(t, "")
	pkg := artifactsPkg(t, 50)
	vnfdID := newVnfdID(50)
	id, _ := s.onboardBytes(t, pkg.zip, `{"k":"v"}`)
	byID := pkgs + "/" + id
	byVnfd := "/vnfpkgm/v1/onboarded_vnf_packages/" + vnfdID

	// The package itself: the same VnfPkgInfo.
	a, b := s.do("GET", byID, nil), s.do("GET", byVnfd, nil)
	expectStatus(t, b, 200)
	var ia, ib map[string]any
	a.json(t, &ia)
	b.json(t, &ib)
	if ib["id"] != id || ib["vnfdId"] != vnfdID || fmt.Sprint(ia) != fmt.Sprint(ib) {
		t.Fatalf("onboarded view %v\nvs %v", ib, ia)
	}
	// Every read resource answers the same bytes both ways.
	for _, c := range []struct{ path, accept string }{
		{"/vnfd", "text/plain"},
		{"/vnfd", "application/zip"},
		{"/manifest", "text/plain"},
		{"/manifest", "application/zip"},
		{"/package_content", ""},
		{"/artifacts", ""},
		{"/artifacts/Artifacts/Docs/guide.bin", ""},
		{"/artifacts/Files/images/test.img", ""},
	} {
		a, b := s.do("GET", byID+c.path, nil, "Accept", c.accept), s.do("GET", byVnfd+c.path, nil, "Accept", c.accept)
		expectStatus(t, a, 200)
		expectStatus(t, b, 200)
		if a.header.Get("Content-Type") != b.header.Get("Content-Type") {
			t.Errorf("%s: Content-Type %q vs %q", c.path, a.header.Get("Content-Type"), b.header.Get("Content-Type"))
		}
		if strings.HasPrefix(a.header.Get("Content-Type"), "application/zip") && !strings.HasSuffix(c.path, "content") {
			// Zips are made per request: compare what they hold.
			if fmt.Sprint(zipEntries(t, a.body)) != fmt.Sprint(zipEntries(t, b.body)) {
				t.Errorf("%s: zips differ", c.path)
			}
		} else if !bytes.Equal(a.body, b.body) {
			t.Errorf("%s: bodies differ", c.path)
		}
	}
	if r := s.do("GET", byVnfd+"/package_content", nil); !bytes.Equal(r.body, pkg.zip) {
		t.Fatalf("package_content by vnfdId differs from the upload")
	}
	if r := s.do("GET", byVnfd+"/vnfd", nil, "Accept", "text/plain"); !bytes.Equal(r.body, pkg.files["Definitions/vnfd.yaml"]) {
		t.Fatalf("vnfd by vnfdId: %s", r.body)
	}
	if r := s.do("GET", byVnfd+"/artifacts/Artifacts/Docs/guide.bin", nil, "Range", "bytes=10-19"); r.status != 206 || !bytes.Equal(r.body, pkg.files["Artifacts/Docs/guide.bin"][10:20]) {
		t.Fatalf("artifact range by vnfdId: %d", r.status)
	}
	expectProblem(t, s.do("GET", byVnfd+"/artifacts/Artifacts/none", nil), 404)

	// Unknown vnfdIds: 404 on every resource, including the id of a
	// package (not a vnfdId) and the vnfdId of a package not onboarded.
	for _, unknown := range []string{"00000000-0000-4000-8000-000000000000", id, "no-such-vnfd"} {
		for _, p := range []string{"", "/vnfd", "/manifest", "/package_content", "/artifacts", "/artifacts/Scripts/install.sh"} {
			expectProblem(t, s.do("GET", "/vnfpkgm/v1/onboarded_vnf_packages/"+unknown+p, nil), 404)
		}
	}
	// A package in ERROR with a vnfdId is not onboarded.
	errID := s.createWith(t, `{}`)
	s.uploadBytes(t, errID, brokenImagePkg(t, newVnfdID(51)), "application/zip")
	if info := s.waitState(t, errID); info["onboardingState"] != "ERROR" {
		t.Fatalf("broken package: %v", info["onboardingState"])
	}
	expectProblem(t, s.do("GET", "/vnfpkgm/v1/onboarded_vnf_packages/"+newVnfdID(51), nil), 404)
	// Once deleted, the vnfdId is unknown.
	expectStatus(t, s.do("PATCH", byID, strings.NewReader(`{"operationalState":"DISABLED"}`), "Content-Type", "application/json"), 200)
	expectStatus(t, s.do("GET", byVnfd, nil), 200)
	expectStatus(t, s.do("DELETE", byID, nil), 204)
	expectProblem(t, s.do("GET", byVnfd, nil), 404)
	expectProblem(t, s.do("GET", byVnfd+"/package_content", nil), 404)
}

// brokenImagePkg is a package whose image does not match its checksum.
func brokenImagePkg(t *testing.T, vnfdID string) []byte {
	good := testPkg{vnfdID: vnfdID, image: []byte("the image"), noManifest: true}
	b := good.build(t)
	// Rebuild with other image bytes but the VNFD of the first.
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range []string{"TOSCA-Metadata/TOSCA.meta", "Definitions/vnfd.yaml", "Files/images/test.img"} {
		w, _ := zw.Create(name)
		data := b.files[name]
		if name == "Files/images/test.img" {
			data = []byte("another image")
		}
		if name == "TOSCA-Metadata/TOSCA.meta" {
			// Drop the file blocks: only the VNFD's checksum speaks.
			data = data[:bytes.Index(data, []byte("\n\n"))+1]
		}
		w.Write(data)
	}
	zw.Close()
	return buf.Bytes()
}

// ---------------------------------------------------------------------
// HEAD.

func TestHead(t *testing.T) {
	s := startServer(t, "")
	pkg := artifactsPkg(t, 60)
	id, _ := s.onboardBytes(t, pkg.zip, `{}`)
	byVnfd := "/vnfpkgm/v1/onboarded_vnf_packages/" + newVnfdID(60)
	head := func(path string, headers ...string) response {
		t.Helper()
		r := s.do("HEAD", path, nil, headers...)
		if len(r.body) != 0 {
			t.Fatalf("HEAD %s sent %d bytes of body", path, len(r.body))
		}
		if r.header.Get("Version") == "" {
			t.Fatalf("HEAD %s: no Version header", path)
		}
		return r
	}
	for _, base := range []string{pkgs + "/" + id, byVnfd} {
		// package_content: the headers of the GET, Content-Length the size.
		get := s.do("GET", base+"/package_content", nil)
		r := head(base + "/package_content")
		if r.status != 200 || r.header.Get("Content-Length") != strconv.Itoa(len(pkg.zip)) || r.header.Get("ETag") != get.header.Get("ETag") ||
			r.header.Get("Accept-Ranges") != "bytes" || r.header.Get("Last-Modified") == "" || r.header.Get("Content-Type") != "application/zip" {
			t.Fatalf("HEAD package_content: %d %v", r.status, r.header)
		}
		r = head(base+"/package_content", "Range", "bytes=100-199")
		if r.status != 206 || r.header.Get("Content-Length") != "100" || r.header.Get("Content-Range") != fmt.Sprintf("bytes 100-199/%d", len(pkg.zip)) {
			t.Fatalf("HEAD package_content with a range: %d %v", r.status, r.header)
		}
		// artifacts/{path}: stored and deflated members, Content-Length their size.
		for _, name := range []string{"Files/config.yaml", "Artifacts/Docs/guide.bin", "Files/images/test.img"} {
			r = head(base + "/artifacts/" + name)
			if r.status != 200 || r.header.Get("Content-Length") != strconv.Itoa(len(pkg.files[name])) || r.header.Get("Accept-Ranges") != "bytes" ||
				r.header.Get("ETag") == "" || r.header.Get("Content-Type") != "application/octet-stream" {
				t.Fatalf("HEAD artifacts/%s: %d %v (size %d)", name, r.status, r.header, len(pkg.files[name]))
			}
			r = head(base+"/artifacts/"+name, "Range", "bytes=-5")
			if r.status != 206 || r.header.Get("Content-Length") != "5" {
				t.Fatalf("HEAD artifacts/%s with a range: %d %v", name, r.status, r.header)
			}
		}
		// The artifacts zip, the VNFD and the manifest: headers, no body.
		for _, p := range []string{"/artifacts", "/vnfd", "/manifest"} {
			get := s.do("GET", base+p, nil)
			r := head(base + p)
			if r.status != 200 || r.header.Get("Content-Type") != get.header.Get("Content-Type") {
				t.Fatalf("HEAD %s: %d %v (GET: %v)", p, r.status, r.header, get.header)
			}
			if cl := r.header.Get("Content-Length"); cl != "" && cl != strconv.Itoa(len(get.body)) {
				t.Fatalf("HEAD %s: Content-Length %s, GET sends %d bytes", p, cl, len(get.body))
			}
		}
		// Errors: the status, no body.
		if r := head(base + "/artifacts/Files/none.bin"); r.status != 404 {
			t.Fatalf("HEAD of a missing artifact: %d", r.status)
		}
		if r := head(base+"/package_content", "Range", fmt.Sprintf("bytes=%d-", len(pkg.zip))); r.status != 416 || r.header.Get("Content-Range") != fmt.Sprintf("bytes */%d", len(pkg.zip)) {
			t.Fatalf("HEAD with an unsatisfiable range: %d %v", r.status, r.header)
		}
	}
	// HEAD is GET without the body on every resource that has GET.
	for _, p := range []string{"/vnfpkgm/v1/api_versions", "/vnfpkgm/api_versions", pkgs, pkgs + "/" + id, byVnfd} {
		get := s.do("GET", p, nil)
		r := head(p)
		// Content-Length, when HEAD sends one, is the GET body's (a long JSON
		// body is chunked and has none).
		cl := r.header.Get("Content-Length")
		if r.status != 200 || r.header.Get("Content-Type") != get.header.Get("Content-Type") || (cl != "" && cl != strconv.Itoa(len(get.body))) ||
			(get.header.Get("Content-Length") != "" && cl != get.header.Get("Content-Length")) {
			t.Fatalf("HEAD %s: %d %v; GET: %d bytes %v", p, r.status, r.header, len(get.body), get.header)
		}
	}
	if r := head(pkgs + "/00000000-0000-4000-8000-000000000000"); r.status != 404 {
		t.Fatalf("HEAD of an unknown package: %d", r.status)
	}
	if r := head(pkgs + "/" + s.createWith(t, `{}`) + "/package_content"); r.status != 409 {
		t.Fatalf("HEAD of the content of a package not onboarded: %d", r.status)
	}
}

// ---------------------------------------------------------------------
// 405 with Allow, 404, doubled slashes.

func TestMethodsAndPaths(t *testing.T) {
	s := startServer(t, "")
	pkg := artifactsPkg(t, 70)
	id, _ := s.onboardBytes(t, pkg.zip, `{}`)
	p := pkgs + "/" + id
	o := "/vnfpkgm/v1/onboarded_vnf_packages/" + newVnfdID(70)
	read := []string{"GET", "HEAD"}
	resources := []struct {
		path  string
		allow []string
	}{
		{"/vnfpkgm/v1/api_versions", read},
		{"/vnfpkgm/api_versions", read},
		{pkgs, []string{"GET", "HEAD", "POST"}},
		{p, []string{"GET", "HEAD", "PATCH", "DELETE"}},
		{p + "/vnfd", read},
		{p + "/manifest", read},
		{p + "/package_content", []string{"GET", "HEAD", "PUT"}},
		{p + "/package_content/upload_from_uri", []string{"POST"}},
		{p + "/artifacts", read},
		{p + "/artifacts/Scripts/install.sh", read},
		{p + "/artifacts/Artifacts/Docs/guide.bin", read},
		{o, read},
		{o + "/vnfd", read},
		{o + "/manifest", read},
		{o + "/package_content", read},
		{o + "/artifacts", read},
		{o + "/artifacts/Scripts/install.sh", read},
	}
	all := []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"}
	for _, res := range resources {
		for _, m := range all {
			if slices.Contains(res.allow, m) {
				continue
			}
			r := s.do(m, res.path, strings.NewReader("{}"), "Content-Type", "application/json")
			if m == "HEAD" {
				if r.status != 405 {
					t.Errorf("HEAD %s: %d, want 405", res.path, r.status)
				}
			} else {
				expectProblem(t, r, 405)
			}
			var allow []string
			for _, a := range strings.Split(r.header.Get("Allow"), ",") {
				if a = strings.TrimSpace(a); a != "" && a != "OPTIONS" {
					allow = append(allow, a)
				}
			}
			if !slices.Equal(sortedIDs(allow...), sortedIDs(res.allow...)) {
				t.Errorf("%s %s: Allow %q, want %v", m, res.path, r.header.Get("Allow"), res.allow)
			}
		}
	}
	// OPTIONS lists the methods.
	for _, res := range resources {
		r := s.do("OPTIONS", res.path, nil)
		var allow []string
		for _, a := range strings.Split(r.header.Get("Allow"), ",") {
			if a = strings.TrimSpace(a); a != "" && a != "OPTIONS" {
				allow = append(allow, a)
			}
		}
		if r.status != 204 || !slices.Equal(sortedIDs(allow...), sortedIDs(res.allow...)) {
			t.Errorf("OPTIONS %s: %d, Allow %q", res.path, r.status, r.header.Get("Allow"))
		}
	}
	// The package survived all that.
	if info := s.info(t, id); info["onboardingState"] != "ONBOARDED" {
		t.Fatalf("after the 405s: %v", info)
	}

	// Unknown paths: 404 whatever the method.
	for _, path := range []string{
		"/", "/vnfpkgm", "/vnfpkgm/v1", "/vnfpkgm/v2/vnf_packages", "/vnfpkgm/v1/vnf_package",
		"/vnfpkgm/v1/onboarded_vnf_packages", p + "/nothing", p + "/vnfd/extra", p + "/package_content/extra",
		p + "/manifest/x", o + "/nothing",
	} {
		for _, m := range []string{"GET", "POST", "DELETE"} {
			expectProblem(t, s.do(m, path, nil), 404)
		}
	}
	// A known resource of an unknown package: 404 for its methods, 405 for others.
	expectProblem(t, s.do("GET", pkgs+"/"+id+"x/vnfd", nil), 404)
	expectProblem(t, s.do("POST", pkgs+"/"+id+"x/vnfd", nil), 405)

	// A doubled (or tripled) slash after the host.
	r := s.do("POST", "/"+pkgs, strings.NewReader(`{"userDefinedData":{"via":"double slash"}}`), "Content-Type", "application/json")
	expectStatus(t, r, 201)
	var created map[string]any
	r.json(t, &created)
	newID := fmt.Sprint(created["id"])
	if r.header.Get("Location") != s.base+pkgs+"/"+newID {
		t.Fatalf("Location %q", r.header.Get("Location"))
	}
	for _, path := range []string{"/" + pkgs, "//" + pkgs} {
		var list []map[string]any
		r := s.do("GET", path+queryString("filter", "(eq,userDefinedData/via,double slash)", "all_fields", flagParam), nil)
		expectStatus(t, r, 200)
		r.json(t, &list)
		if len(list) != 1 || list[0]["id"] != newID {
			t.Fatalf("GET %s: %v", path, list)
		}
	}
	expectStatus(t, s.do("GET", "/"+pkgs+"/"+newID, nil), 200)
	expectStatus(t, s.do("GET", "/"+p+"/artifacts/Scripts/install.sh", nil), 200)
	expectStatus(t, s.do("PATCH", "/"+pkgs+"/"+newID, strings.NewReader(`{"userDefinedData":{"x":"y"}}`), "Content-Type", "application/json"), 200)
	expectProblem(t, s.do("PUT", "/"+pkgs+"/"+newID, nil), 405)
	expectStatus(t, s.do("DELETE", "/"+pkgs+"/"+newID, nil), 204)
	expectProblem(t, s.do("GET", "/"+pkgs+"/"+newID, nil), 404)
	// A doubled slash inside the path is not collapsed: no such artifact.
	expectProblem(t, s.do("GET", p+"/artifacts/Scripts//install.sh", nil), 400)
}

// ---------------------------------------------------------------------
// PATCH and DELETE edge cases.

func TestPatchAndDelete(t *testing.T) {
	s := startServer(t, "")
	id := s.createWith(t, `{"keep":"me"}`)
	patch := func(body, ctype string) response {
		t.Helper()
		req, _ := http.NewRequest("PATCH", s.base+pkgs+"/"+id, strings.NewReader(body))
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return response{resp.StatusCode, resp.Header, b}
	}
	for _, body := range []string{
		"", "   ", "{}", "null", "[]", `"x"`, "not json",
		`{"operationalState":"PAUSED"}`,
		`{"operationalState":"enabled"}`,
		`{"operationalState":""}`,
		`{"operationalState":1}`,
		`{"operationalState":null}`,
		`{"usageState":"IN_USE"}`,
		`{"onboardingState":"ONBOARDED"}`,
		`{"foo":"bar"}`,
		`{"userDefinedData":{"a":"1"},"extra":true}`,
		`{"userDefinedData":"x"}`,
		`{"userDefinedData":["x"]}`,
		`{"userDefinedData":{"a":"1"}} {"userDefinedData":{"b":"2"}}`,
	} {
		expectProblem(t, patch(body, "application/json"), 400)
	}
	for _, ct := range []string{"text/plain", "application/xml", "application/x-www-form-urlencoded", "application/json-patch+json"} {
		expectProblem(t, patch(`{"userDefinedData":{"a":"1"}}`, ct), 415)
	}
	// Nothing changed.
	info := s.info(t, id)
	if fmt.Sprint(info["userDefinedData"]) != "map[keep:me]" || info["operationalState"] != "DISABLED" {
		t.Fatalf("refused PATCHes changed the package: %v", info)
	}
	// Accepted media types, with parameters; no Content-Type is taken as JSON.
	for i, ct := range []string{"application/json", "application/json; charset=utf-8", "application/merge-patch+json", ""} {
		r := patch(fmt.Sprintf(`{"userDefinedData":{"k%d":"v"}}`, i), ct)
		expectStatus(t, r, 200)
		var mod map[string]any
		r.json(t, &mod)
		if fmt.Sprint(mod) != fmt.Sprintf("map[userDefinedData:map[k%d:v]]", i) {
			t.Fatalf("PATCH answered %v", mod)
		}
	}
	if ud := fmt.Sprint(s.info(t, id)["userDefinedData"]); ud != "map[k0:v k1:v k2:v k3:v keep:me]" {
		t.Fatalf("userDefinedData after merges: %s", ud)
	}
	// operationalState of a package not onboarded: 409.
	expectProblem(t, patch(`{"operationalState":"DISABLED"}`, "application/json"), 409)
	expectProblem(t, patch(`{"operationalState":"ENABLED"}`, "application/json"), 409)
	// Unknown package.
	expectProblem(t, s.do("PATCH", pkgs+"/00000000-0000-4000-8000-000000000000", strings.NewReader(`{"userDefinedData":{"a":"b"}}`), "Content-Type", "application/json"), 404)

	// DELETE: a CREATED package is DISABLED and NOT_IN_USE, so it goes.
	expectStatus(t, s.do("DELETE", pkgs+"/"+id, nil), 204)
	expectProblem(t, s.do("GET", pkgs+"/"+id, nil), 404)
	expectProblem(t, s.do("DELETE", pkgs+"/"+id, nil), 404)
	expectProblem(t, s.do("DELETE", pkgs+"/00000000-0000-4000-8000-000000000000", nil), 404)
	expectProblem(t, s.do("DELETE", pkgs+"/not-a-uuid", nil), 404)
	// A package in ERROR goes too, content and all.
	errID := s.createWith(t, `{}`)
	s.uploadBytes(t, errID, []byte("not a zip"), "application/zip")
	if st := s.waitState(t, errID)["onboardingState"]; st != "ERROR" {
		t.Fatalf("not a zip: %v", st)
	}
	expectStatus(t, s.do("DELETE", pkgs+"/"+errID, nil), 204)
	// An onboarded package: 409 while ENABLED, 204 once DISABLED; its
	// vnfdId can then be onboarded again.
	pkg := testPkg{vnfdID: newVnfdID(80)}.build(t)
	onb, _ := s.onboardBytes(t, pkg.zip, `{}`)
	expectProblem(t, s.do("DELETE", pkgs+"/"+onb, nil), 409)
	expectStatus(t, s.do("PATCH", pkgs+"/"+onb, strings.NewReader(`{"operationalState":"DISABLED"}`), "Content-Type", "application/json"), 200)
	expectProblem(t, s.do("PATCH", pkgs+"/"+onb, strings.NewReader(`{"operationalState":"DISABLED"}`), "Content-Type", "application/json"), 409)
	expectStatus(t, s.do("DELETE", pkgs+"/"+onb, nil), 204)
	s.onboardBytes(t, pkg.zip, `{}`)
}

// ---------------------------------------------------------------------
// Binary safety and If-Range with a date.

func TestBinaryArtifacts(t *testing.T) {
	s := startServer(t, "")
	stored := binaryData(300_000, 90)
	deflated := binaryData(200_000, 91)
	// Text-like bytes that a decoder would "fix": CR LF, a BOM, invalid UTF-8.
	odd := append([]byte("\xef\xbb\xbfline\r\nline\n\r\x00\xff\xfe\xc3\x28"), binaryData(2048, 92)...)
	pkg := testPkg{vnfdID: newVnfdID(90), files: []pkgFile{
		{name: "Files/bin/stored.bin", data: stored, store: true},
		{name: "Files/bin/deflated.bin", data: deflated},
		{name: "Files/bin/odd name (1).txt", data: odd},
		{name: "Files/bin/empty.bin", data: []byte{}},
	}}.build(t)
	id, _ := s.onboardBytes(t, pkg.zip, `{}`)
	base := pkgs + "/" + id + "/artifacts/"

	for _, c := range []struct {
		path string
		want []byte
	}{
		{"Files/bin/stored.bin", stored},
		{"Files/bin/deflated.bin", deflated},
		{"Files/bin/odd%20name%20%281%29.txt", odd}, // every reserved character escaped
		{"Files/bin/odd%20name%20(1).txt", odd},     // parentheses raw, space escaped
		{"Files/bin/empty.bin", []byte{}},
	} {
		r := s.do("GET", base+c.path, nil)
		expectStatus(t, r, 200)
		if !bytes.Equal(r.body, c.want) || r.header.Get("Content-Type") != "application/octet-stream" || r.header.Get("Content-Encoding") != "" ||
			r.header.Get("Content-Length") != strconv.Itoa(len(c.want)) {
			t.Fatalf("%s: %d bytes (want %d), headers %v", c.path, len(r.body), len(c.want), r.header)
		}
		if len(c.want) == 0 {
			continue
		}
		n := len(c.want)
		for _, rg := range [][2]int{{0, 0}, {0, 255}, {256, 1023}, {n / 2, n/2 + 4096}, {n - 1, n - 1}, {n - 300, n + 300}} {
			end := min(rg[1], n-1)
			r := s.do("GET", base+c.path, nil, "Range", fmt.Sprintf("bytes=%d-%d", rg[0], rg[1]))
			expectStatus(t, r, 206)
			if !bytes.Equal(r.body, c.want[rg[0]:end+1]) || r.header.Get("Content-Range") != fmt.Sprintf("bytes %d-%d/%d", rg[0], end, n) {
				t.Fatalf("%s bytes=%d-%d: %d bytes, Content-Range %q", c.path, rg[0], rg[1], len(r.body), r.header.Get("Content-Range"))
			}
		}
		// Several ranges, out of order and overlapping the ends.
		r = s.do("GET", base+c.path, nil, "Range", fmt.Sprintf("bytes=%d-%d,0-9,-7", n-20, n-11))
		expectStatus(t, r, 206)
		mt, params, _ := mime.ParseMediaType(r.header.Get("Content-Type"))
		if mt != "multipart/byteranges" {
			t.Fatalf("%s: several ranges answered %q", c.path, mt)
		}
		mr := multipart.NewReader(bytes.NewReader(r.body), params["boundary"])
		for _, want := range [][2]int{{n - 20, n - 11}, {0, 9}, {n - 7, n - 1}} {
			part, err := mr.NextPart()
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(part)
			if !bytes.Equal(got, c.want[want[0]:want[1]+1]) || part.Header.Get("Content-Range") != fmt.Sprintf("bytes %d-%d/%d", want[0], want[1], n) {
				t.Fatalf("%s: part %v wrong (%q)", c.path, want, part.Header.Get("Content-Range"))
			}
		}
	}
	// In the artifacts zip, byte-identical too.
	r := s.do("GET", pkgs+"/"+id+"/artifacts", nil)
	expectStatus(t, r, 200)
	got := zipEntries(t, r.body)
	for name, want := range map[string][]byte{"Files/bin/stored.bin": stored, "Files/bin/deflated.bin": deflated, "Files/bin/odd name (1).txt": odd, "Files/bin/empty.bin": {}} {
		if data, ok := got[name]; !ok || !bytes.Equal(data, want) {
			t.Fatalf("artifacts zip: %s missing or different (%d bytes, want %d)", name, len(data), len(want))
		}
	}
	// The package content is the upload, byte for byte.
	if r := s.do("GET", pkgs+"/"+id+"/package_content", nil); !bytes.Equal(r.body, pkg.zip) {
		t.Fatal("package content differs from the upload")
	}
	// Paths that leave the package or name a directory.
	expectProblem(t, s.do("GET", base+"Files/bin", nil), 404)
	expectProblem(t, s.do("GET", base+"Files/bin/../bin/stored.bin", nil), 400)
	expectProblem(t, s.do("GET", base+"Files/bin/%2E%2E/%2E%2E/TOSCA-Metadata/TOSCA.meta", nil), 400)
}

func TestIfRangeWithDate(t *testing.T) {
	s := startServer(t, "")
	stored := binaryData(50_000, 100)
	deflated := binaryData(50_000, 101)
	pkg := testPkg{vnfdID: newVnfdID(100), files: []pkgFile{
		{name: "Files/stored.bin", data: stored, store: true},
		{name: "Files/deflated.bin", data: deflated},
	}}.build(t)
	id, _ := s.onboardBytes(t, pkg.zip, `{}`)
	for _, c := range []struct {
		path string
		want []byte
	}{
		{pkgs + "/" + id + "/package_content", pkg.zip},
		{pkgs + "/" + id + "/artifacts/Files/stored.bin", stored},
		{pkgs + "/" + id + "/artifacts/Files/deflated.bin", deflated},
	} {
		full := s.do("GET", c.path, nil)
		expectStatus(t, full, 200)
		lm := full.header.Get("Last-Modified")
		when, err := http.ParseTime(lm)
		if err != nil {
			t.Fatalf("%s: Last-Modified %q: %v", c.path, lm, err)
		}
		// The date it has: the range.
		r := s.do("GET", c.path, nil, "Range", "bytes=1000-1999", "If-Range", lm)
		if r.status != 206 || !bytes.Equal(r.body, c.want[1000:2000]) {
			t.Fatalf("%s If-Range with Last-Modified: %d, %d bytes", c.path, r.status, len(r.body))
		}
		// Another date, earlier or later: the whole representation.
		for _, other := range []time.Time{when.Add(-time.Hour), when.Add(time.Second), when.Add(24 * time.Hour)} {
			r := s.do("GET", c.path, nil, "Range", "bytes=1000-1999", "If-Range", other.UTC().Format(http.TimeFormat))
			if r.status != 200 || !bytes.Equal(r.body, c.want) {
				t.Fatalf("%s If-Range %s (Last-Modified %s): %d, %d bytes", c.path, other, lm, r.status, len(r.body))
			}
		}
		// A weak ETag never matches (If-Range needs a strong validator).
		r = s.do("GET", c.path, nil, "Range", "bytes=0-9", "If-Range", "W/"+full.header.Get("ETag"))
		if r.status != 200 || len(r.body) != len(c.want) {
			t.Fatalf("%s If-Range with a weak ETag: %d", c.path, r.status)
		}
		// Conditional GETs keep working with the same validators.
		if r := s.do("GET", c.path, nil, "If-None-Match", full.header.Get("ETag")); r.status != 304 {
			t.Fatalf("%s If-None-Match: %d", c.path, r.status)
		}
		if r := s.do("GET", c.path, nil, "If-Modified-Since", lm); r.status != 304 {
			t.Fatalf("%s If-Modified-Since: %d", c.path, r.status)
		}
	}
}
