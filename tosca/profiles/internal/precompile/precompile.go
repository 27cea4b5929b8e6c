// Package precompile builds the precompiled profile forms of
// tosca/profiles: used by the generator (go generate) and by the test
// that fails when the committed forms are stale.
package precompile

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/vnfpkgm/vnfpkgm/tosca/internal/yamlbin"
	"github.com/vnfpkgm/vnfpkgm/tosca/profiles"
)

// FileName is the name of the form of src in profiles.PrecompiledDir.
func FileName(src []byte) string {
	sum := sha256.Sum256(src)
	return hex.EncodeToString(sum[:]) + ".tyb"
}

// Form parses src and returns its precompiled form. A source the form
// would have to copy text from (a value not found verbatim in it) is
// refused: the form of a Published file must not carry ETSI's text.
func Form(name string, src []byte) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(doc.Content) != 1 {
		return nil, fmt.Errorf("%s: not one YAML document", name)
	}
	form, st, err := yamlbin.Encode(doc.Content[0], src)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if st.Literals > 0 && published(src) {
		return nil, fmt.Errorf("%s: %d values are not verbatim in the source", name, st.Literals)
	}
	return form, nil
}

func published(src []byte) bool {
	sum := sha256.Sum256(src)
	h := hex.EncodeToString(sum[:])
	for _, p := range profiles.Published {
		if p.SHA256 == h {
			return true
		}
	}
	return false
}

// Embedded returns the forms of every embedded profile file, by file name.
func Embedded() (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, name := range profiles.Names() {
		_, src, ok := profiles.Resolve(name)
		if !ok {
			return nil, fmt.Errorf("%s: not resolvable", name)
		}
		form, err := Form(name, src)
		if err != nil {
			return nil, err
		}
		out[FileName(src)] = form
	}
	return out, nil
}

// FindPublished looks for the bytes of every profiles.Published file in
// the zip packages and YAML files under dir (the interop corpus) and
// returns the forms of those found, by file name, and the hashes not found.
func FindPublished(dir string) (forms map[string][]byte, missing []string, err error) {
	want := map[string]bool{}
	for _, p := range profiles.Published {
		want[p.SHA256] = true
	}
	forms = map[string][]byte{}
	consider := func(name string, src []byte) error {
		sum := sha256.Sum256(src)
		h := hex.EncodeToString(sum[:])
		if !want[h] || forms[h+".tyb"] != nil {
			return nil
		}
		form, err := Form(name, src)
		if err != nil {
			return err
		}
		forms[h+".tyb"] = form
		return nil
	}
	err = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch {
		case strings.HasSuffix(path, ".yaml"):
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			return consider(path, src)
		case strings.HasSuffix(path, ".zip"):
			return eachZipYAML(path, consider)
		}
		return nil
	})
	for _, p := range profiles.Published {
		if forms[p.SHA256+".tyb"] == nil {
			missing = append(missing, p.SHA256)
		}
	}
	return forms, missing, err
}

func eachZipYAML(path string, f func(name string, src []byte) error) error {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer zr.Close()
	for _, zf := range zr.File {
		if !strings.HasSuffix(zf.Name, ".yaml") || zf.UncompressedSize64 > 1<<20 {
			continue
		}
		rc, err := zf.Open()
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		_, err = io.Copy(&buf, rc)
		rc.Close()
		if err != nil {
			return err
		}
		if err := f(path+":"+zf.Name, buf.Bytes()); err != nil {
			return err
		}
	}
	return nil
}
