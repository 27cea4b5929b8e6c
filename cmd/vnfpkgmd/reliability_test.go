package main_test

// The reliability suite of the hardening issue: hostile archives through
// the API and through `vnfpkgm validate`, each within 128 MiB of peak
// resident memory, and kill -9 at every stage of a package's life (upload,
// processing, PATCH, DELETE) with nothing stuck once the restarted server
// has swept.

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/flate"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vnfpkgm/vnfpkgm/internal/testenv"
)

// memoryCeiling is the peak resident memory the server and the validating
// CLI may reach on any one hostile package.
const memoryCeiling = 128 << 20

// ---------------------------------------------------------------------
// Hostile archives, written in the test's temp dir.

// member is one entry of a zip written by writeZip. raw, when set, is
// data already deflated (stored as is, so that one compression serves
// many entries).
type member struct {
	name string
	data []byte
	raw  *deflated
}

// deflated is a deflate stream and what a zip header says of its input.
type deflated struct {
	comp []byte
	crc  uint32
	size uint64
}

func deflate(t *testing.T, data []byte) *deflated {
	var b bytes.Buffer
	fw, err := flate.NewWriter(&b, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	fw.Close()
	return &deflated{comp: b.Bytes(), crc: crc32.ChecksumIEEE(data), size: uint64(len(data))}
}

// deflateZeros deflates n zero bytes a MiB at a time.
func deflateZeros(t *testing.T, n int64) *deflated {
	var b bytes.Buffer
	fw, _ := flate.NewWriter(&b, flate.BestCompression)
	zeros := make([]byte, 1<<20)
	h := crc32.NewIEEE()
	for left := n; left > 0; {
		k := min(left, int64(len(zeros)))
		fw.Write(zeros[:k])
		h.Write(zeros[:k])
		left -= k
	}
	fw.Close()
	return &deflated{comp: b.Bytes(), crc: h.Sum32(), size: uint64(n)}
}

func writeZip(t *testing.T, name string, members []member) string {
	t.Helper()
	out, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	zw := zip.NewWriter(out)
	for _, m := range members {
		var w io.Writer
		if m.raw != nil {
			w, err = zw.CreateRaw(&zip.FileHeader{Name: m.name, Method: zip.Deflate, CRC32: m.raw.crc,
				CompressedSize64: uint64(len(m.raw.comp)), UncompressedSize64: m.raw.size})
			if err == nil {
				_, err = w.Write(m.raw.comp)
			}
		} else {
			w, err = zw.CreateHeader(&zip.FileHeader{Name: m.name, Method: zip.Deflate})
			if err == nil {
				_, err = w.Write(m.data)
			}
		}
		if err != nil {
			t.Fatalf("%s: %v", m.name, err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return name
}

// validMembers are the files of a valid test package, in a stable order:
// a hostile package is one of them plus its hostile part, so that what
// refuses it is the hostile part.
func validMembers(t *testing.T, vnfdID string) []member {
	b := testPkg{vnfdID: vnfdID}.build(t)
	var ms []member
	for _, n := range slices.Sorted(maps.Keys(b.files)) {
		ms = append(ms, member{name: n, data: b.files[n]})
	}
	return ms
}

// csarWithVNFD is a package whose entry definitions are vnfd (and files,
// the files it imports, under Definitions/).
func csarWithVNFD(vnfd []byte, files ...member) []member {
	meta := "TOSCA-Meta-File-Version: 1.0\nCSAR-Version: 1.1\nCreated-By: test\nEntry-Definitions: Definitions/vnfd.yaml\n"
	return append([]member{{name: "TOSCA-Metadata/TOSCA.meta", data: []byte(meta)}, {name: "Definitions/vnfd.yaml", data: vnfd}}, files...)
}

// billionLaughs is a VNFD of a few hundred bytes whose aliases expand to
// 10^9 nodes.
func billionLaughs() []byte {
	var b strings.Builder
	b.WriteString("tosca_definitions_version: tosca_simple_yaml_1_3\ndsl_definitions:\n  l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&b, "  l%d: &l%d [", i, i)
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*l%d", i-1)
		}
		b.WriteString("]\n")
	}
	return []byte(b.String())
}

// deeplyNested is a VNFD holding a flow list nested depth times.
func deeplyNested(depth int) []byte {
	return []byte("tosca_definitions_version: tosca_simple_yaml_1_3\ndsl_definitions:\n  deep: " +
		strings.Repeat("[", depth) + strings.Repeat("]", depth) + "\n")
}

// fanOutImport is an import of about size bytes, almost all YAML nodes,
// that deflates about 100:1: one line in 64 varies (a fan-out file of
// identical lines deflates 1000:1 and is refused by the compression ratio
// before the parse budget is reached; this one must reach the budget).
func fanOutImport(size int) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	var b bytes.Buffer
	b.WriteString("tosca_definitions_version: tosca_simple_yaml_1_3\ndsl_definitions:\n")
	for i := 0; b.Len() < size-12; i++ {
		if i%64 == 0 {
			fmt.Fprintf(&b, "  - %07x\n", rng.Uint32()&0xfffffff)
		} else {
			b.WriteString("  - vvvvvvv\n")
		}
	}
	return b.Bytes()
}

// importFanOut is a package whose VNFD imports n copies of one multi-MB
// file, each within every per-file limit, deflated once and stored n
// times: the package budget (tosca-budget-*) must refuse it.
func importFanOut(t *testing.T, n, size int) []member {
	file := deflate(t, fanOutImport(size))
	var vnfd bytes.Buffer
	vnfd.WriteString("tosca_definitions_version: tosca_simple_yaml_1_3\nimports:\n")
	var files []member
	for i := 0; i < n; i++ {
		fmt.Fprintf(&vnfd, "  - f%02d.yaml\n", i)
		files = append(files, member{name: fmt.Sprintf("Definitions/f%02d.yaml", i), raw: file})
	}
	return csarWithVNFD(vnfd.Bytes(), files...)
}

// writeTarWithLink writes the valid members and a symbolic link leaving
// the package as a tar.
func writeTarWithLink(t *testing.T, name string, members []member) string {
	out, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	tw := tar.NewWriter(out)
	for _, m := range members {
		tw.WriteHeader(&tar.Header{Name: m.name, Mode: 0o644, Size: int64(len(m.data)), Typeflag: tar.TypeReg})
		tw.Write(m.data)
	}
	if err := tw.WriteHeader(&tar.Header{Name: "Files/passwd", Linkname: "../../../../../etc/passwd", Typeflag: tar.TypeSymlink, Mode: 0o777}); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return name
}

// hostile is one hostile package: how to write it, and the problem codes
// that may refuse it (one of them must be among its errors).
type hostile struct {
	name  string
	write func(t *testing.T, path string) string
	codes []string
}

func hostilePackages() []hostile {
	return []hostile{
		{"zip-slip", func(t *testing.T, p string) string {
			return writeZip(t, p, append(validMembers(t, newVnfdID(901)), member{name: "../../evil.sh", data: []byte("#!/bin/sh\nrm -rf ~\n")}))
		}, []string{"archive-path-traversal"}},
		{"absolute-path", func(t *testing.T, p string) string {
			return writeZip(t, p, append(validMembers(t, newVnfdID(902)), member{name: "/etc/cron.d/evil", data: []byte("* * * * * root true\n")}))
		}, []string{"archive-absolute-path"}},
		{"tar-symlink-out", func(t *testing.T, p string) string {
			return writeTarWithLink(t, p, validMembers(t, newVnfdID(903)))
		}, []string{"archive-link-escape"}},
		{"zip-bomb", func(t *testing.T, p string) string {
			// 256 MiB of zeros in ~250 KB: about 1000:1.
			return writeZip(t, p, append(validMembers(t, newVnfdID(904)), member{name: "Files/bomb.bin", raw: deflateZeros(t, 256<<20)}))
		}, []string{"archive-compression-ratio"}},
		{"many-small-bombs", func(t *testing.T, p string) string {
			// Each just under the ratio floor, so that only the
			// whole-archive budget sees them: 4 GiB in ~4 MB.
			bomb := deflateZeros(t, 1<<20-1)
			ms := validMembers(t, newVnfdID(905))
			for i := 0; i < 4000; i++ {
				ms = append(ms, member{name: fmt.Sprintf("Files/b/%04d.bin", i), raw: bomb})
			}
			return writeZip(t, p, ms)
		}, []string{"archive-expansion-budget"}},
		{"200k-entries", func(t *testing.T, p string) string {
			ms := validMembers(t, newVnfdID(906))
			for i := 0; i < 200_000; i++ {
				ms = append(ms, member{name: fmt.Sprintf("e/%06d", i)})
			}
			return writeZip(t, p, ms)
		}, []string{"archive-too-many-entries"}},
		{"billion-laughs", func(t *testing.T, p string) string {
			return writeZip(t, p, csarWithVNFD(billionLaughs()))
		}, []string{"tosca-too-many-nodes", "tosca-budget-nodes"}},
		{"deeply-nested", func(t *testing.T, p string) string {
			return writeZip(t, p, csarWithVNFD(deeplyNested(100_000)))
		}, []string{"tosca-too-deep"}},
		{"import-fan-out", func(t *testing.T, p string) string {
			return writeZip(t, p, importFanOut(t, 40, 4<<20))
		}, []string{"tosca-budget-nodes", "tosca-budget-bytes"}},
		{"truncated-zip", func(t *testing.T, p string) string {
			whole := testPkg{vnfdID: newVnfdID(907), image: binaryData(256<<10, 7)}.build(t).zip
			if err := os.WriteFile(p, whole[:len(whole)/2], 0o644); err != nil {
				t.Fatal(err)
			}
			return p
		}, []string{"archive-corrupt", "archive-unsupported-format"}},
		{"not-an-archive", func(t *testing.T, p string) string {
			if err := os.WriteFile(p, bytes.Repeat([]byte("this is not a VNF package\n"), 40_000), 0o644); err != nil {
				t.Fatal(err)
			}
			return p
		}, []string{"archive-unsupported-format"}},
	}
}

// errorCodes are the codes of the error problems of a problem list
// (onboardingFailureDetails.problems, validate's problems).
func errorCodes(problems any) []string {
	list, _ := problems.([]any)
	var codes []string
	for _, p := range list {
		pm, _ := p.(map[string]any)
		if pm["severity"] == "error" {
			codes = append(codes, fmt.Sprint(pm["code"]))
		}
	}
	return codes
}

func expectOneOf(t *testing.T, what string, got, want []string) {
	t.Helper()
	for _, c := range want {
		if slices.Contains(got, c) {
			return
		}
	}
	t.Errorf("%s: error codes %v, want one of %v", what, got, want)
}

var (
	cliOnce sync.Once
	cliBin  string
	cliErr  error
)

// cliBinary builds the vnfpkgm CLI once, beside the server binary.
func cliBinary(t *testing.T) string {
	t.Helper()
	cliOnce.Do(func() {
		cliBin = filepath.Join(filepath.Dir(binary), "vnfpkgm")
		if out, err := exec.Command("go", "build", "-o", cliBin, "../vnfpkgm").CombinedOutput(); err != nil {
			cliErr = fmt.Errorf("building vnfpkgm: %v\n%s", err, out)
		}
	})
	if cliErr != nil {
		t.Fatal(cliErr)
	}
	return cliBin
}

// TestHostileArchives sends every hostile package through the API of one
// server, started fresh for them, and through `vnfpkgm validate`: each is
// refused naming a problem code, the server's peak RSS and the CLI's stay
// under memoryCeiling, and a package onboarded before them is untouched.
func TestHostileArchives(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir)
	pid := s.cmd.Process.Pid
	good := corpusFile(t, "helloworld3-multi.zip")
	goodBytes, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	goodID, _ := s.onboard(t, good)
	cli := cliBinary(t)

	for _, h := range hostilePackages() {
		t.Run(h.name, func(t *testing.T) {
			path := h.write(t, filepath.Join(t.TempDir(), h.name))
			fi, _ := os.Stat(path)

			id := s.createPackage(t)
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			r := s.do("PUT", pkgs+"/"+id+"/package_content", f, "Content-Type", "application/octet-stream")
			f.Close()
			switch {
			case r.status == 202:
				info := s.waitState(t, id)
				pd, _ := info["onboardingFailureDetails"].(map[string]any)
				if info["onboardingState"] != "ERROR" || pd == nil || pd["status"] == nil || pd["detail"] == "" || pd["detail"] == nil {
					t.Fatalf("API: %s ends %v, want ERROR with a ProblemDetails in onboardingFailureDetails: %v", h.name, info["onboardingState"], pd)
				}
				expectOneOf(t, "API", errorCodes(pd["problems"]), h.codes)
			case r.status >= 400 && r.status < 500:
				var pd map[string]any
				r.json(t, &pd)
				expectOneOf(t, "API (refused at upload)", errorCodes(pd["problems"]), h.codes)
			default:
				t.Fatalf("API: upload answered %d: %s", r.status, r.body)
			}
			serverPeak := procStatusMiB(t, pid, "VmHWM")

			peak, code, out := testenv.RunMeasured(t, exec.Command(cli, "validate", "-o", "json", path))
			if code != 1 {
				t.Fatalf("validate exits %d, want 1 (invalid): %s", code, out)
			}
			var res map[string]any
			if err := json.Unmarshal(out, &res); err != nil {
				t.Fatalf("validate -o json: %v: %s", err, out)
			}
			expectOneOf(t, "validate", errorCodes(res["problems"]), h.codes)

			t.Logf("%s (%d bytes): server peak RSS %.1f MiB, validate peak RSS %.1f MiB", h.name, fi.Size(), serverPeak, float64(peak)/(1<<20))
			if serverPeak >= memoryCeiling>>20 {
				t.Errorf("server peak RSS %.1f MiB after %s, want < %d MiB", serverPeak, h.name, memoryCeiling>>20)
			}
			if peak >= memoryCeiling {
				t.Errorf("validate peak RSS %.1f MiB on %s, want < %d MiB", float64(peak)/(1<<20), h.name, memoryCeiling>>20)
			}

			// The package onboarded before is untouched.
			if info := s.info(t, goodID); info["onboardingState"] != "ONBOARDED" || info["operationalState"] != "ENABLED" {
				t.Fatalf("the onboarded package became %v/%v", info["onboardingState"], info["operationalState"])
			}
			if r := s.do("GET", pkgs+"/"+goodID+"/package_content", nil); r.status != 200 || !bytes.Equal(r.body, goodBytes) {
				t.Fatalf("the onboarded package's content: %d, %d bytes, want %d identical", r.status, len(r.body), len(goodBytes))
			}
		})
	}
	// Nothing was written outside the packages' own storage: beside the
	// database, the data directory holds only the blob store, whose
	// content blobs are those of the packages (settled).
	for _, escaped := range []string{filepath.Join(dir, "..", "evil.sh"), filepath.Join(dir, "evil.sh")} {
		if _, err := os.Stat(escaped); err == nil {
			t.Errorf("%s exists", escaped)
		}
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.Name() != "blobs" && !strings.HasPrefix(e.Name(), "vnfpkgm.db") {
			t.Errorf("the data directory holds %s", e.Name())
		}
	}
	settled(t, s, dir)
}

// ---------------------------------------------------------------------
// kill -9 at every stage.

// crashFlags make a restarted server repair quickly: the upload lease
// expires after 3s and every second a sweep removes what dead writers
// and deleters left.
var crashFlags = []string{"--sweep-interval", "1s", "--upload-lease", "3s"}

// blobFiles lists the committed content blobs on disk by package id, and
// the temp files.
func blobFiles(t *testing.T, dir string) (byPackage map[string][]string, temp []string) {
	t.Helper()
	byPackage = map[string][]string{}
	root := filepath.Join(dir, "blobs", "objects", "packages")
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) && p == root {
				return filepath.SkipDir
			}
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			id, _, _ := strings.Cut(rel, string(filepath.Separator))
			byPackage[id] = append(byPackage[id], p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return byPackage, tempFiles(t, dir)
}

// settled waits until the restarted server has repaired everything, then
// checks that it did so consistently, and returns every package by id:
//   - no package is UPLOADING or PROCESSING;
//   - no temp file is left, and every content blob on disk belongs to a
//     package that exists, at most one each, and every ONBOARDED package
//     has one whose bytes its package_content serves, matching its
//     checksum.
//
// The waits are bounds for a broken server, not timings asserted.
func settled(t *testing.T, s *server, dir string) map[string]map[string]any {
	t.Helper()
	all := func() map[string]map[string]any {
		out := map[string]map[string]any{}
		for _, p := range s.list(t, "?all_fields") {
			out[p["id"].(string)] = p
		}
		return out
	}
	waitFor(t, "no package is UPLOADING or PROCESSING", func() bool {
		for _, p := range all() {
			if st := p["onboardingState"]; st == "UPLOADING" || st == "PROCESSING" {
				return false
			}
		}
		return true
	})
	var why string
	consistent := func() bool {
		why = ""
		infos := all()
		blobs, temp := blobFiles(t, dir)
		if len(temp) > 0 {
			why = fmt.Sprintf("temp files left: %v", temp)
			return false
		}
		for id, files := range blobs {
			if infos[id] == nil {
				why = fmt.Sprintf("content of the missing package %s left: %v", id, files)
				return false
			}
			if len(files) > 1 {
				why = fmt.Sprintf("package %s has %d content blobs: %v", id, len(files), files)
				return false
			}
		}
		for id, p := range infos {
			if p["onboardingState"] == "ONBOARDED" && len(blobs[id]) != 1 {
				why = fmt.Sprintf("ONBOARDED package %s has %d content blobs", id, len(blobs[id]))
				return false
			}
		}
		return true
	}
	deadline := time.Now().Add(time.Minute)
	for !consistent() {
		if time.Now().After(deadline) {
			t.Fatalf("the blob store still disagrees with the packages after a minute: %s", why)
		}
		time.Sleep(100 * time.Millisecond)
	}
	infos := all()
	blobs, _ := blobFiles(t, dir)
	for id, p := range infos {
		if p["onboardingState"] != "ONBOARDED" {
			continue
		}
		status, n, sum := contentSHA256(t, s, id)
		cs, _ := p["checksum"].(map[string]any)
		if status != 200 || sum != cs["hash"] {
			t.Fatalf("ONBOARDED package %s: content %d, %d bytes, SHA-256 %s, want its checksum %v", id, status, n, sum, cs)
		}
		if fi, err := os.Stat(blobs[id][0]); err != nil || fi.Size() != n {
			t.Fatalf("ONBOARDED package %s serves %d bytes, its blob on disk: %v %v", id, n, fi, err)
		}
	}
	return infos
}

// contentSHA256 downloads the content of package id, hashing it as it
// comes (a package may be large).
func contentSHA256(t *testing.T, s *server, id string) (status int, n int64, sum string) {
	t.Helper()
	resp, err := http.Get(s.base + pkgs + "/" + id + "/package_content")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	h := sha256.New()
	if n, err = io.Copy(h, resp.Body); err != nil {
		t.Fatalf("downloading the content of %s: %v", id, err)
	}
	return resp.StatusCode, n, hex.EncodeToString(h.Sum(nil))
}

// killSoon kills s after a random pause of up to max: where the kill lands
// is not chosen, and every assertion after it must hold wherever it does.
func killSoon(s *server, max time.Duration) {
	time.Sleep(time.Duration(rand.Int64N(int64(max) + 1)))
	s.kill()
}

// slowUpload PUTs data to package id in 16 KiB pieces, pausing between
// them, until it is all sent or the server goes away.
func slowUpload(s *server, id string, data []byte, pause time.Duration) {
	pr, pw := io.Pipe()
	go func() {
		for off := 0; off < len(data); off += 16 << 10 {
			if _, err := pw.Write(data[off:min(off+16<<10, len(data))]); err != nil {
				return
			}
			time.Sleep(pause)
		}
		pw.Close()
	}()
	s.try("PUT", pkgs+"/"+id+"/package_content", pr, "Content-Type", "application/zip")
	pr.Close()
}

// TestKillDuringUpload: uploads at different points of their bodies (one
// stalled at half, two trickling, one sent whole) when the server is
// killed. After the restart each package is either CREATED again with
// failure details (its upload lost) and can be uploaded again, or went on
// to onboard (its body had arrived); no temp file is left.
func TestKillDuringUpload(t *testing.T) {
	for round := 0; round < 2; round++ {
		t.Run(fmt.Sprint("round", round), func(t *testing.T) {
			dir := t.TempDir()
			s := startServer(t, dir, crashFlags...)
			paces := []time.Duration{-1, 2 * time.Millisecond, 5 * time.Millisecond, 0} // -1: stall at half
			ids := make([]string, len(paces))
			zips := make([][]byte, len(paces))
			var wg sync.WaitGroup
			for i, pace := range paces {
				ids[i] = s.createPackage(t)
				zips[i] = testPkg{vnfdID: newVnfdID(910 + 10*round + i), image: binaryData(1<<20, uint64(i))}.build(t).zip
				if pace < 0 {
					stalledUpload(t, s, ids[i], len(zips[i])/2)
					continue
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					slowUpload(s, ids[i], zips[i], pace)
				}()
			}
			for _, id := range ids[:3] {
				waitFor(t, "the upload of "+id+" has begun", s.stateIs(t, id, "UPLOADING"))
			}
			killSoon(s, 200*time.Millisecond)
			wg.Wait()

			s2 := startServer(t, dir, crashFlags...)
			infos := settled(t, s2, dir)
			for i, id := range ids {
				info := infos[id]
				switch info["onboardingState"] {
				case "CREATED":
					pd, _ := info["onboardingFailureDetails"].(map[string]any)
					if pd == nil || pd["detail"] == "" {
						t.Errorf("package %s is CREATED again without failure details", id)
					}
					s2.uploadBytes(t, id, zips[i], "application/zip")
					s2.mustOnboard(t, id)
				case "ONBOARDED":
					r := s2.do("GET", pkgs+"/"+id+"/package_content", nil)
					if !bytes.Equal(r.body, zips[i]) {
						t.Errorf("package %s is ONBOARDED with %d bytes that are not the %d uploaded", id, len(r.body), len(zips[i]))
					}
				default:
					t.Errorf("package %s of a killed upload is %v: %v", id, info["onboardingState"], info["onboardingFailureDetails"])
				}
			}
			settled(t, s2, dir)
		})
	}
}

// TestRestartDuringProcessing kills the server while a large package is
// PROCESSING (its image is read back with SHA3-512, which takes a
// moment); the next server finishes the job once the dead worker's job
// lease (10s, fixed) has expired, and leaves no temp file or second blob.
func TestRestartDuringProcessing(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir, crashFlags...)
	big := filepath.Join(t.TempDir(), "big.zip")
	writeBigPackage(t, big, 128<<20)
	id := s.createPackage(t)
	s.upload(t, id, big)
	st := s.info(t, id)["onboardingState"]
	if st != "PROCESSING" && st != "ONBOARDED" {
		t.Fatalf("right after upload: %v", st)
	}
	s.kill()
	t.Logf("killed while %v", st)
	s2 := startServer(t, dir, crashFlags...)
	if info := settled(t, s2, dir)[id]; info["onboardingState"] != "ONBOARDED" {
		t.Fatalf("after restart: %v %v", info["onboardingState"], info["onboardingFailureDetails"])
	}
}

// TestKillDuringPatches: writers toggle the operational state and each
// write its own counter into userDefinedData, as fast as they can, when
// the server is killed. After the restart the package is in one state:
// ONBOARDED, its revision (ETag) at least the last one acknowledged, each
// writer's counter between its last acknowledged and its last sent value
// (no acknowledged write lost, none invented); PATCH with If-Match works.
func TestKillDuringPatches(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir, crashFlags...)
	pkg := testPkg{vnfdID: newVnfdID(940)}.build(t)
	id, _ := s.onboardBytes(t, pkg.zip, `{"owner":"test"}`)

	const writers = 4
	acked := make([]int, writers) // last counter answered 200
	sent := make([]int, writers)  // last counter sent
	var mu sync.Mutex
	maxRev := 0
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			state := []string{"DISABLED", "ENABLED"}
			for n := 1; ; n++ {
				mu.Lock()
				sent[w] = n
				mu.Unlock()
				body := fmt.Sprintf(`{"operationalState":%q,"userDefinedData":{"w%d":%d}}`, state[n%2], w, n)
				r, err := s.try("PATCH", pkgs+"/"+id, strings.NewReader(body), "Content-Type", mergePatch)
				if err != nil {
					return // the server was killed
				}
				if r.status == 200 {
					var rev int
					fmt.Sscanf(r.header.Get("ETag"), `"r%d"`, &rev)
					mu.Lock()
					acked[w], maxRev = n, max(maxRev, rev)
					mu.Unlock()
				}
			}
		}()
	}
	waitFor(t, "some PATCHes succeeded", func() bool { mu.Lock(); defer mu.Unlock(); return maxRev > 0 })
	killSoon(s, 300*time.Millisecond)
	wg.Wait()

	s2 := startServer(t, dir, crashFlags...)
	info := settled(t, s2, dir)[id]
	if info["onboardingState"] != "ONBOARDED" || (info["operationalState"] != "ENABLED" && info["operationalState"] != "DISABLED") {
		t.Fatalf("after restart: %v/%v", info["onboardingState"], info["operationalState"])
	}
	ud, _ := info["userDefinedData"].(map[string]any)
	if ud["owner"] != "test" {
		t.Errorf("userDefinedData lost its owner: %v", ud)
	}
	for w := 0; w < writers; w++ {
		got, _ := ud[fmt.Sprintf("w%d", w)].(float64)
		if int(got) < acked[w] || int(got) > sent[w] {
			t.Errorf("writer %d: counter %v after restart, acknowledged %d, last sent %d", w, got, acked[w], sent[w])
		}
	}
	r := s2.do("GET", pkgs+"/"+id, nil)
	etag := r.header.Get("ETag")
	var rev int
	if _, err := fmt.Sscanf(etag, `"r%d"`, &rev); err != nil || rev < maxRev {
		t.Fatalf("ETag %s after restart, the last acknowledged was r%d", etag, maxRev)
	}
	other := map[any]string{"ENABLED": "DISABLED", "DISABLED": "ENABLED"}[info["operationalState"]]
	r = s2.do("PATCH", pkgs+"/"+id, strings.NewReader(`{"operationalState":"`+other+`"}`), "Content-Type", mergePatch, "If-Match", etag)
	expectStatus(t, r, 200)
	if r.header.Get("ETag") == etag {
		t.Errorf("the ETag did not change with the PATCH: %s", etag)
	}
	expectStatus(t, s2.do("PATCH", pkgs+"/"+id, strings.NewReader(`{"operationalState":"`+info["operationalState"].(string)+`"}`), "Content-Type", mergePatch, "If-Match", etag), 412)
	if r := s2.do("GET", pkgs+"/"+id+"/package_content", nil); !bytes.Equal(r.body, pkg.zip) {
		t.Errorf("the content changed: %d bytes", len(r.body))
	}
}

// TestKillDuringDeletes: DELETEs of many packages in flight when the
// server is killed, three times over one data directory. After each
// restart every package either exists whole (its content downloadable,
// identical) or is gone with its blob removed by the sweep; the survivors
// can still be deleted.
func TestKillDuringDeletes(t *testing.T) {
	dir := t.TempDir()
	for round := 0; round < 3; round++ {
		s := startServer(t, dir, crashFlags...)
		const n = 16
		contents := map[string][]byte{}
		var ids []string
		for i := 0; i < n; i++ {
			pkg := testPkg{vnfdID: newVnfdID(950 + n*round + i), image: binaryData(64<<10, uint64(i))}.build(t)
			id, _ := s.onboardBytes(t, pkg.zip, `{}`)
			expectStatus(t, s.do("PATCH", pkgs+"/"+id, strings.NewReader(`{"operationalState":"DISABLED"}`), "Content-Type", mergePatch), 200)
			contents[id] = pkg.zip
			ids = append(ids, id)
		}
		var wg sync.WaitGroup
		var once sync.Once
		answered := make(chan struct{})
		for _, id := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.try("DELETE", pkgs+"/"+id, nil)
				once.Do(func() { close(answered) })
			}()
		}
		// Once the first DELETE is answered, the others are in flight.
		<-answered
		killSoon(s, []time.Duration{0, 2, 6}[round]*time.Millisecond)
		wg.Wait()

		s2 := startServer(t, dir, crashFlags...)
		infos := settled(t, s2, dir)
		deleted := 0
		for _, id := range ids {
			info := infos[id]
			if info == nil {
				deleted++
				expectStatus(t, s2.do("GET", pkgs+"/"+id, nil), 404)
				continue
			}
			if info["onboardingState"] != "ONBOARDED" || info["operationalState"] != "DISABLED" {
				t.Errorf("package %s survived its DELETE as %v/%v", id, info["onboardingState"], info["operationalState"])
			}
			if r := s2.do("GET", pkgs+"/"+id+"/package_content", nil); !bytes.Equal(r.body, contents[id]) {
				t.Errorf("package %s survived its DELETE without its content: %d, %d bytes", id, r.status, len(r.body))
			}
			expectStatus(t, s2.do("DELETE", pkgs+"/"+id, nil), 204)
		}
		t.Logf("round %d: %d of %d packages were deleted before the kill", round, deleted, n)
		if left := settled(t, s2, dir); len(left) != 0 {
			t.Errorf("packages left after deleting every survivor: %v", slices.Sorted(maps.Keys(left)))
		}
		s2.stop()
	}
}
