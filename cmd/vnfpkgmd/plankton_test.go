package main_test

import (
	"archive/zip"
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vnfpkgm/vnfpkgm/vim/plankton/planktontest"
)

// rawImageYAML is a VDU software image in raw format, the one disk format
// Plankton stores (as diskdump).
const rawImageYAML = `        sw_image_data:
          name: raw-image
          version: '2.1'
          checksum: {algorithm: sha-256, hash: %x}
          container_format: bare
          disk_format: raw
          min_disk: 1 GB
          min_ram: 256 MB
          size: %d B
      artifacts:
        sw_image:
          type: tosca.artifacts.nfv.SwImage
          file: ../Files/images/disk.raw
`

// rawImagePackage writes a CSAR (the conformance tests' VNFD, with a
// manifest) whose VDU1 has image as a raw software image.
func rawImagePackage(t *testing.T, vnfdID string, image []byte) string {
	t.Helper()
	vnfd := fmt.Sprintf(testVNFD, vnfdID, "Test", "Raw VNF", "1.0", "testvnfm", fmt.Sprintf(rawImageYAML, sha256.Sum256(image), len(image)))
	files := []pkgFile{{name: "Definitions/vnfd.yaml", data: []byte(vnfd)}, {name: "Files/images/disk.raw", data: image, store: true}}
	mf := "metadata:\n  vnf_provider_id: Test\n  vnf_product_name: Raw VNF\n  vnf_release_date_time: 2024-01-01T00:00:00Z\n  vnf_package_version: '1.0'\n  compatible_specification_versions: 2.6.1\n"
	for _, f := range files {
		mf += fmt.Sprintf("\nSource: %s\nAlgorithm: SHA-256\nHash: %x\n", f.name, sha256.Sum256(f.data))
	}
	files = append([]pkgFile{
		{name: "TOSCA-Metadata/TOSCA.meta", data: []byte("TOSCA-Meta-File-Version: 1.0\nCSAR-Version: 1.1\nCreated-By: plankton test\nEntry-Definitions: Definitions/vnfd.yaml\nETSI-Entry-Manifest: manifest.mf\n")},
		{name: "manifest.mf", data: []byte(mf)},
	}, files...)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		method := zip.Deflate
		if f.store {
			method = zip.Store
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.name, Method: method, Modified: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(f.data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "raw.zip")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestPlanktonThroughTheServer: a raw image goes to Pithos+ and is
// registered with Plankton; compute is refused up front; Plankton's and
// Pithos+'s failures reach the API as precise ProblemDetails; a qcow2
// image (the sample's) is refused as having no Plankton format.
func TestPlanktonThroughTheServer(t *testing.T) {
	const token = "astakos-t0ken-e2e"
	pk := planktontest.Start(t, token)
	s := startServer(t, "")
	image := make([]byte, 256<<10)
	rand.Read(image)
	pkgID, info := s.onboard(t, rawImagePackage(t, newVnfdID(9101), image))
	if info["onboardingState"] != "ONBOARDED" {
		t.Fatalf("raw package: %v\n%s", info, s.log)
	}
	const account = "e2e-account"
	base := s.registerVIM(t, map[string]any{"type": "plankton", "name": "synnefo", "endpoint": pk.ImageAPI,
		"credentials": map[string]any{"token": token},
		"options":     map[string]any{"pithos_endpoint": pk.Pithos, "account": account, "retries": "1", "call_timeout": "1s"}})
	req := map[string]any{"vnfPkgId": pkgID, "softwareImageId": "VDU1"}

	// Failures first, each precise; nothing stays behind.
	pk.Fail(http.MethodPost, "plankton", http.StatusInternalServerError, 1)
	expectProblemDetail(t, s.post(t, base+"/software_images", req), 503, "HTTP 500")
	pk.Fail(http.MethodPut, "pithos", http.StatusUnauthorized, 1) // a 401 is never retried
	expectProblemDetail(t, s.post(t, base+"/software_images", req), 502, "HTTP 401")
	pk.Fail(http.MethodPost, "plankton", http.StatusBadRequest, 1)
	expectProblemDetail(t, s.post(t, base+"/software_images", req), 400, "HTTP 400")
	pk.WrongETags(true)
	expectProblemDetail(t, s.post(t, base+"/software_images", req), 422, "md5")
	pk.WrongETags(false)
	pk.Delay(http.MethodPost, "plankton", 10*time.Second)
	expectProblemDetail(t, s.post(t, base+"/software_images", req), 503, "call_timeout")
	if objs := pk.Objects(); len(objs) != 0 || len(pk.Images()) != 0 {
		t.Fatalf("failed registrations left %v %v", objs, pk.Images())
	}

	// The registration.
	r := s.post(t, base+"/software_images", req)
	expectStatus(t, r, 201)
	var rec map[string]any
	r.json(t, &rec)
	reg, ok := pk.Images()[rec["vimImageId"].(string)]
	if !ok {
		t.Fatalf("Plankton has no image %v: %v", rec["vimImageId"], pk.Images())
	}
	obj := account + "/images/vnfpkgm/" + pkgID + "/VDU1"
	stored, _ := pk.Object(obj)
	sum := md5.Sum(image)
	if !bytes.Equal(stored, image) || reg.Location != "pithos://"+obj || reg.DiskFormat != "diskdump" || reg.ContainerFormat != "bare" ||
		reg.Checksum != hex.EncodeToString(sum[:]) || reg.Name != "raw-image" || reg.Properties["version"] != "2.1" || reg.Properties["min_ram"] != "256000000" {
		t.Fatalf("Plankton registered %+v; Pithos+ holds %d bytes at %s", reg, len(stored), obj)
	}

	// Compute is refused before anything is sent.
	expectProblemDetail(t, s.post(t, base+"/compute", map[string]any{"vnfPkgId": pkgID, "vduId": "VDU1"}), 409, "VIM type plankton has no")

	// A qcow2 image has no Plankton format.
	zip, _ := sampleVNF(t, false)
	sample, info := s.onboard(t, zip)
	if info["onboardingState"] != "ONBOARDED" {
		t.Fatalf("sample package: %v", info)
	}
	expectProblemDetail(t, s.post(t, base+"/software_images", map[string]any{"vnfPkgId": sample, "softwareImageId": "VDU1"}), 409, "qcow2")

	// Deleting the record deletes the image and its object.
	expectStatus(t, s.do("DELETE", base+"/software_images/"+rec["id"].(string), nil), 204)
	if len(pk.Images()) != 0 || len(pk.Objects()) != 0 {
		t.Fatalf("after delete: %v %v", pk.Images(), pk.Objects())
	}

	// Gone: 503.
	pk.Close()
	expectProblemDetail(t, s.post(t, base+"/software_images", req), 503, "unavailable")

	s.stop()
	if bytes.Contains(s.log.Bytes(), []byte(token)) {
		t.Fatalf("the log holds the token")
	}
}
