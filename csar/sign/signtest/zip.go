package signtest

import (
	"archive/zip"
	"bytes"
	"io"
	"testing"
)

// RewriteZip copies a zip, passing each member through edit (nil keeps
// it; an edit returning nil drops it), then adds the extra members in
// the order given (name, data, name, data...).
func RewriteZip(t testing.TB, in []byte, edit func(name string, data []byte) []byte, extra ...any) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(in), int64(len(in)))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	put := func(name string, data []byte) {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if edit != nil {
			data = edit(f.Name, data)
		}
		if data != nil {
			put(f.Name, data)
		}
	}
	for i := 0; i+1 < len(extra); i += 2 {
		put(extra[i].(string), extra[i+1].([]byte))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// SignManifest signs the manifest member of a zip with openssl and
// appends the CMS block to it, after a blank line, as a vendor would;
// tamper (may be nil) then edits the manifest text before the signature.
func (p *PKI) SignManifest(in []byte, manifest, signer string, o Options, tamper func([]byte) []byte) []byte {
	p.t.Helper()
	return RewriteZip(p.t, in, func(name string, data []byte) []byte {
		if name != manifest {
			return data
		}
		cms := p.Sign(data, signer, o)
		if tamper != nil {
			data = tamper(data)
		}
		return append(append(data, '\n'), cms...)
	})
}

// SignedPackage builds a security option 2 package: a zip holding
// BASE.csar (stored unless deflate), and BASE.cms and BASE.cert where
// not nil.
func SignedPackage(t testing.TB, base string, csarBytes, cms, cert []byte, deflate bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	put := func(name string, data []byte, method uint16) {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: method})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	method := zip.Store
	if deflate {
		method = zip.Deflate
	}
	put(base+".csar", csarBytes, method)
	if cms != nil {
		put(base+".cms", cms, zip.Deflate)
	}
	if cert != nil {
		put(base+".cert", cert, zip.Deflate)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
