package validate_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"sync/atomic"
	"testing"

	"github.com/vnfpkgm/vnfpkgm/csar"
	"github.com/vnfpkgm/vnfpkgm/vnfpkgm/validate"
)

// Tacker's test_cnf_ext_artifact pattern on a package of our own: no
// manifest, and a TOSCA.meta file block whose Name is an http URL with
// the artifact's SHA-256. The package is valid with a warning naming the
// laxity, the URL is not fetched (it points at a port nothing listens
// on), and the artifact is an additional artifact by URI, with the
// checksum TOSCA.meta declares.
func TestMetaExternalArtifactPackage(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var connections atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			connections.Add(1)
			c.Close()
		}
	}()
	url := "http://" + ln.Addr().String() + "/storage-class-url.yaml"
	sum := sha256.Sum256([]byte("kind: StorageClass\n"))
	hash := hex.EncodeToString(sum[:])
	meta := "TOSCA-Meta-File-Version: 1.0\nCSAR-Version: 1.1\nCreated-by: Acme\nEntry-Definitions: Definitions/top.yaml\n\n" +
		"Name: " + url + "\nContent-Type: test-data\nAlgorithm: SHA-256\nHash: " + hash + "\n"
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range []string{"Definitions/types.yaml", "Definitions/top.yaml", "Definitions/df_premium.yaml", "Files/gateway.img", "Scripts/health.sh", "TOSCA-Metadata/TOSCA.meta"} {
		content := compatFiles[name]
		if name == "TOSCA-Metadata/TOSCA.meta" {
			content = meta
		}
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(content)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	rep, err := validate.Package(context.Background(), bytes.NewReader(b), int64(len(b)), validate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	if n := connections.Load(); n != 0 {
		t.Errorf("validation connected %d times to the external artifact's host", n)
	}
	if !rep.Valid {
		t.Fatalf("invalid:\n%s", render(rep.Problems))
	}
	warned := false
	for _, p := range rep.Problems {
		warned = warned || (p.Code == csar.CodeMetaExternalArtifact && p.Severity == csar.SeverityWarning)
	}
	if !warned {
		t.Errorf("no %s warning:\n%s", csar.CodeMetaExternalArtifact, render(rep.Problems))
	}
	var found bool
	for _, a := range rep.AdditionalArtifacts {
		if a.ArtifactURI == url {
			found = a.ArtifactPath == "" && a.Checksum == validate.Checksum{Algorithm: "SHA-256", Hash: hash}
		}
	}
	if !found {
		t.Errorf("additional artifacts %+v: want %s with its declared checksum", rep.AdditionalArtifacts, url)
	}
}
