package sign

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/vnfpkgm/vnfpkgm/csar"
)

// DefaultMaxContent bounds what SignDetached holds in memory: the CMS
// library hashes content it is handed whole.
const DefaultMaxContent = 512 << 20

// PackageSigning configures the signing of a whole package.
type PackageSigning struct {
	// Artifacts also signs every local artifact the manifest lists
	// (security option 1's per-artifact signatures).
	Artifacts bool
	// MaxContent bounds one signed file (0: DefaultMaxContent).
	MaxContent int64
}

func (o PackageSigning) maxContent() int64 {
	if o.MaxContent > 0 {
		return o.MaxContent
	}
	return DefaultMaxContent
}

// SignOption1 writes to w a copy of the zip package (r, size bytes) whose
// manifest ends with a CMS signature over its content and, with
// o.Artifacts, whose manifest entries name a detached signature
// (Signature: SOURCE.cms) of each local artifact. Other members are
// copied as they are stored, not recompressed.
func (s *Signer) SignOption1(ctx context.Context, r io.ReaderAt, size int64, w io.Writer, o PackageSigning) error {
	a, err := csar.Open(ctx, r, size, csar.DefaultLimits)
	if err != nil {
		return err
	}
	if a.Format != csar.FormatZip {
		return fmt.Errorf("signing needs a zip package, not %s", a.Format)
	}
	pkg := csar.Inspect(a, csar.Options{})
	m := pkg.Manifest
	if m == nil {
		return errors.New("the package has no readable manifest to sign")
	}
	if m.Signature != nil {
		return fmt.Errorf("the manifest %s is signed already", pkg.ManifestPath)
	}
	manifest, err := fs.ReadFile(a, pkg.ManifestPath)
	if err != nil {
		return err
	}
	sigs := map[string][]byte{}
	var signed []csar.ManifestEntry
	if o.Artifacts {
		for _, e := range m.Entries {
			if e.Signature != "" {
				return fmt.Errorf("the manifest entry of %s has a Signature already", e.Source)
			}
			if e.External || e.Source == "" || !pkg.HasFile(path.Clean(e.Source)) {
				continue
			}
			src := path.Clean(e.Source)
			if pkg.HasFile(src + ".cms") {
				return fmt.Errorf("%s.cms is in the package already", src)
			}
			content, err := readBounded(a, src, o.maxContent())
			if err != nil {
				return err
			}
			if sigs[src+".cms"], err = s.SignDetached(content); err != nil {
				return fmt.Errorf("signing %s: %w", src, err)
			}
			signed = append(signed, e)
		}
	}
	text := withSignatureLines(manifest, signed)
	cms, err := s.SignDetached(text)
	if err != nil {
		return fmt.Errorf("signing the manifest: %w", err)
	}
	// The CMS block follows the content directly, so that the signed
	// bytes are exactly the text before it.
	replaced := map[string][]byte{pkg.ManifestPath: append(text, cms...)}
	return rewriteZip(r, size, w, replaced, sigs)
}

// withSignatureLines adds "Signature: SOURCE.cms" after the Source line
// of each entry, keeping the manifest's line endings, and ends the text
// with exactly one line break.
func withSignatureLines(manifest []byte, entries []csar.ManifestEntry) []byte {
	eol := "\n"
	if bytes.Contains(manifest, []byte("\r\n")) {
		eol = "\r\n"
	}
	after := map[int]string{}
	for _, e := range entries {
		after[e.Line] = "Signature: " + path.Clean(e.Source) + ".cms" + eol
	}
	var out bytes.Buffer
	lines := strings.SplitAfter(string(manifest), "\n")
	for i, l := range lines {
		out.WriteString(l)
		if add, ok := after[i+1]; ok {
			if !strings.HasSuffix(l, "\n") {
				out.WriteString(eol)
			}
			out.WriteString(add)
		}
	}
	return append(bytes.TrimRight(out.Bytes(), "\r\n"), eol...)
}

// SignOption2 writes to w a signed package: the zip holding the package
// (r, size bytes) as BASE.csar, stored, its detached signature BASE.cms and
// the signer's certificate and chain BASE.cert.
func (s *Signer) SignOption2(r io.ReaderAt, size int64, base string, w io.Writer, o PackageSigning) error {
	if size > o.maxContent() {
		return fmt.Errorf("the package is %d bytes; signing holds it in memory and is limited to %d (raise the limit)", size, o.maxContent())
	}
	content := make([]byte, size)
	if _, err := r.ReadAt(content, 0); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	cms, err := s.SignDetached(content)
	if err != nil {
		return err
	}
	var certs bytes.Buffer
	for _, c := range append([]*x509.Certificate{s.Cert}, s.Chain...) {
		certs.WriteString(CertificatePEM(c))
	}
	zw := zip.NewWriter(w)
	put := func(name string, method uint16, data io.Reader) error {
		fw, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: method})
		if err != nil {
			return err
		}
		_, err = io.Copy(fw, data)
		return err
	}
	// Stored, so that the server reads the CSAR in place.
	if err := put(base+".csar", zip.Store, io.NewSectionReader(r, 0, size)); err != nil {
		return err
	}
	if err := put(base+".cms", zip.Deflate, bytes.NewReader(cms)); err != nil {
		return err
	}
	if err := put(base+".cert", zip.Deflate, &certs); err != nil {
		return err
	}
	return zw.Close()
}

func readBounded(fsys fs.FS, name string, max int64) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s is larger than %d bytes, the limit of what is signed in memory (sign without artifact signatures, or raise the limit)", name, max)
	}
	return data, nil
}

// rewriteZip copies the zip, member by member as stored, replacing the
// members named in replaced and adding those of added.
func rewriteZip(r io.ReaderAt, size int64, w io.Writer, replaced, added map[string][]byte) error {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return err
	}
	zw := zip.NewWriter(w)
	for _, f := range zr.File {
		name := path.Clean(strings.TrimPrefix(f.Name, "./"))
		data, ok := replaced[name]
		if !ok {
			if err := zw.Copy(f); err != nil {
				return err
			}
			continue
		}
		fw, err := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: zip.Deflate, Modified: f.Modified})
		if err != nil {
			return err
		}
		if _, err := fw.Write(data); err != nil {
			return err
		}
	}
	names := make([]string, 0, len(added))
	for name := range added {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		data := added[name]
		fw, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate})
		if err != nil {
			return err
		}
		if _, err := fw.Write(data); err != nil {
			return err
		}
	}
	return zw.Close()
}
