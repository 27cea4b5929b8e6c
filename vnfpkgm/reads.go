package vnfpkgm

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/vnfpkgm/vnfpkgm/csar"
	"github.com/vnfpkgm/vnfpkgm/storage"
	"github.com/vnfpkgm/vnfpkgm/storage/blob"
	"github.com/vnfpkgm/vnfpkgm/tosca"
	"github.com/vnfpkgm/vnfpkgm/vnfpkgm/sol013"
	"github.com/vnfpkgm/vnfpkgm/vnfpkgm/validate"
)

// openContent opens an onboarded package's stored content.
func (s *Server) openContent(ctx context.Context, p *storage.Package) (blob.Object, error) {
	if !p.HasContent() {
		return nil, sol013.Problemf(http.StatusConflict, "VNF package %s has no content", p.ID)
	}
	return s.blobs.Open(ctx, *p.ContentKey)
}

// openArchive opens an onboarded package's content as a CSAR; the caller
// closes the returned object.
func (s *Server) openArchive(ctx context.Context, p *storage.Package) (*csar.Archive, blob.Object, error) {
	obj, err := s.openContent(ctx, p)
	if err != nil {
		return nil, nil, err
	}
	// The CSAR itself, or the one inside a signed package (option 2).
	a, err := validate.OpenCSAR(ctx, obj, obj.Size(), s.cfg.Limits)
	if err != nil {
		obj.Close()
		return nil, nil, fmt.Errorf("reopening the content of %s: %w", p.ID, err)
	}
	return a, obj, nil
}

func lastModified(p *storage.Package) time.Time {
	if p.ContentUploadedAt != nil {
		return *p.ContentUploadedAt
	}
	return p.UpdatedAt
}

// getContent is GET .../package_content: the stored package, with RFC 9110
// ranges (single, suffix, open, several as multipart/byteranges), a strong
// ETag, If-Range and Last-Modified.
func (s *Server) getContent(c echo.Context, p *storage.Package) error {
	obj, err := s.openContent(c.Request().Context(), p)
	if err != nil {
		return err
	}
	defer obj.Close()
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "application/zip")
	h.Set("ETag", p.ContentETag)
	s.serveContent(c, lastModified(p), obj.Size(), obj)
	return nil
}

// getArtifact is GET .../artifacts/{artifactPath}: one file of the package,
// byte for byte, with ranges whether it is stored or compressed.
func (s *Server) getArtifact(c echo.Context, p *storage.Package) error {
	name := pathParam(c, "*")
	if !fs.ValidPath(name) || name == "." {
		return sol013.Problemf(http.StatusBadRequest, "%q is not a path inside the package", name)
	}
	a, obj, err := s.openArchive(c.Request().Context(), p)
	if err != nil {
		return err
	}
	defer obj.Close()
	e, ok := a.Lookup(name)
	if !ok || e.IsDir() {
		return sol013.Problemf(http.StatusNotFound, "VNF package %s has no artifact %s", p.ID, name)
	}
	if with, err := includeSignatures(c); err != nil || with {
		if err != nil {
			return err
		}
		return s.artifactWithSignatures(c, a, name)
	}
	content, err := seekableMember(a, name, e.Size)
	if err != nil {
		return err
	}
	defer content.Close()
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, artifactMediaType(a, name))
	// The artifact's bytes never change while the package exists: the
	// package ETag plus the path identify them.
	h.Set("ETag", fmt.Sprintf(`"%s-%x"`, strings.Trim(p.ContentETag, `"`), []byte(name)))
	s.serveContent(c, lastModified(p), e.Size, content)
	return nil
}

// openMember opens a member of an archive. Tests replace it to count the
// passes of a compressed member's decompressor (each open is one).
var openMember = func(a *csar.Archive, name string) (fs.File, error) { return a.Open(name) }

// seekableMember gives http.ServeContent the io.ReadSeeker it needs. A
// stored member seeks directly; a compressed one is read forwards and
// re-opened only when a range starts before the current position and was
// not kept (see reopener).
func seekableMember(a *csar.Archive, name string, size int64) (io.ReadSeekCloser, error) {
	f, err := openMember(a, name)
	if err != nil {
		return nil, err
	}
	if rs, ok := f.(io.ReadSeeker); ok {
		return struct {
			io.ReadSeeker
			io.Closer
		}{rs, f}, nil
	}
	return &reopener{a: a, name: name, size: size, f: f}, nil
}

// reopener is an io.ReadSeeker over a compressed member. Going forwards it
// decompresses and discards; going backwards it starts again from the
// start, unless the bytes asked are in a range kept from the pass (the
// ranges planRanges expects to serve after one further on).
type reopener struct {
	a    *csar.Archive
	name string
	size int64
	f    fs.File
	pos  int64 // position of f
	want int64 // position asked by Seek
	kept []keptRange
}

// keptRange is a range of the member held in memory once the reader has
// passed it; data fills as the pass goes.
type keptRange struct {
	byteRange
	data []byte
}

// keepRanges makes the reader keep ranges as it passes them. The plan
// bounds their total size (reorderBudget).
func (r *reopener) keepRanges(ranges []byteRange) {
	r.kept = r.kept[:0]
	for _, k := range ranges {
		r.kept = append(r.kept, keptRange{byteRange: k, data: make([]byte, 0, k.length())})
	}
}

func (r *reopener) Read(p []byte) (int, error) {
	if r.want < r.pos {
		if n, ok := r.readKept(p); ok {
			return n, nil
		}
		r.f.Close()
		f, err := openMember(r.a, r.name)
		if err != nil {
			return 0, err
		}
		r.f, r.pos = f, 0
		for i := range r.kept {
			r.kept[i].data = r.kept[i].data[:0]
		}
	}
	if err := r.skip(r.want - r.pos); err != nil {
		return 0, err
	}
	n, err := r.f.Read(p)
	r.keep(p[:n], r.pos)
	r.pos += int64(n)
	r.want = r.pos
	return n, err
}

// skip reads n bytes forwards, keeping what belongs to kept ranges.
func (r *reopener) skip(n int64) error {
	if n <= 0 {
		return nil
	}
	if len(r.kept) == 0 {
		m, err := io.CopyN(io.Discard, r.f, n)
		r.pos += m
		return err
	}
	buf := make([]byte, min(n, 32<<10))
	for n > 0 {
		m, err := io.ReadFull(r.f, buf[:min(n, int64(len(buf)))])
		r.keep(buf[:m], r.pos)
		r.pos += int64(m)
		n -= int64(m)
		if err != nil {
			return err
		}
	}
	return nil
}

// keep copies into the kept ranges the bytes of b, read at offset at.
func (r *reopener) keep(b []byte, at int64) {
	end := at + int64(len(b))
	for i := range r.kept {
		k := &r.kept[i]
		next := k.first + int64(len(k.data)) // the first byte k still lacks
		if next > k.last || next < at || next >= end {
			continue
		}
		k.data = append(k.data, b[next-at:min(end, k.last+1)-at]...)
	}
}

// readKept serves a read at r.want from a kept range, if one holds it.
func (r *reopener) readKept(p []byte) (int, bool) {
	for _, k := range r.kept {
		have := k.first + int64(len(k.data))
		if r.want >= k.first && r.want < have {
			n := copy(p, k.data[r.want-k.first:])
			r.want += int64(n)
			return n, true
		}
	}
	return 0, false
}

func (r *reopener) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += r.want
	case io.SeekEnd:
		offset += r.size
	}
	if offset < 0 {
		return 0, errors.New("seek before the start")
	}
	r.want = offset
	return offset, nil
}

func (r *reopener) Close() error { return r.f.Close() }

// accepts reports which of text/plain and application/zip an Accept header
// allows; a missing Accept or */* allows both. A media range with q=0 is
// "not acceptable" (RFC 9110 12.5.1), and the most specific range that
// matches a type decides for it.
func accepts(h string) (text, zipOK bool) {
	if strings.TrimSpace(h) == "" {
		return true, true
	}
	// The quality given to each type by the most specific range naming it:
	// specificity 2 for the exact type, 1 for type/*, 0 for */*.
	type verdict struct {
		spec int
		ok   bool
	}
	best := map[string]verdict{"text/plain": {-1, false}, "application/zip": {-1, false}}
	for _, part := range strings.Split(h, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		ok := true
		if q, has := params["q"]; has {
			if v, err := strconv.ParseFloat(q, 64); err == nil && v <= 0 {
				ok = false
			}
		}
		for typ, cur := range best {
			spec := -1
			switch {
			case mt == typ:
				spec = 2
			case mt == strings.SplitN(typ, "/", 2)[0]+"/*":
				spec = 1
			case mt == "*/*":
				spec = 0
			}
			if spec > cur.spec || (spec == cur.spec && spec >= 0 && !ok) {
				best[typ] = verdict{spec, ok}
			}
		}
	}
	return best["text/plain"].ok, best["application/zip"].ok
}

// getVNFD is GET .../vnfd: the VNFD as one YAML file (text/plain) when it
// is one file, or a zip of TOSCA.meta, the entry definitions and every
// file they import, with their paths.
func (s *Server) getVNFD(c echo.Context, p *storage.Package) error {
	accept := c.Request().Header.Get(echo.HeaderAccept)
	model := asksFor(accept, VNFDModelType)
	text, zipOK := accepts(accept)
	if !text && !zipOK && !model {
		return sol013.NewProblem(http.StatusNotAcceptable, "the VNFD is available as text/plain (one file) or application/zip (or "+VNFDModelType+")")
	}
	ctx := c.Request().Context()
	a, obj, err := s.openArchive(ctx, p)
	if err != nil {
		return err
	}
	defer obj.Close()
	pkg := csar.Inspect(a, csar.Options{})
	if pkg.EntryDefinitions == "" {
		return fmt.Errorf("onboarded package %s has no entry definitions", p.ID)
	}
	st := tosca.Process(a, pkg.EntryDefinitions, tosca.Options{})
	if model {
		return writeVNFDModel(c, p, st)
	}
	files := st.Files
	if text && (len(files) == 1 || !zipOK) {
		if len(files) != 1 {
			return sol013.Problemf(http.StatusNotAcceptable, "the VNFD of %s is %d files: ask for application/zip", p.ID, len(files))
		}
		data, err := fs.ReadFile(a, files[0])
		if err != nil {
			return err
		}
		return c.Blob(http.StatusOK, "text/plain; charset=utf-8", data)
	}
	names := append([]string(nil), files...)
	var meta []byte
	if pkg.Meta != nil {
		names = append(names, csar.MetaPath)
	} else {
		meta = []byte("TOSCA-Meta-File-Version: 1.0\nCSAR-Version: 1.1\nCreated-By: vnfpkgm\nEntry-Definitions: " + pkg.EntryDefinitions + "\n")
	}
	return streamZip(c, a, names, map[string][]byte{csar.MetaPath: meta})
}

// streamZip writes a zip of package files (plus generated ones) straight
// to the response, never holding a member in memory.
func streamZip(c echo.Context, a *csar.Archive, names []string, generated map[string][]byte) error {
	sort.Strings(names)
	c.Response().Header().Set(echo.HeaderContentType, "application/zip")
	c.Response().WriteHeader(http.StatusOK)
	if c.Request().Method == http.MethodHead {
		// The body would be dropped: do not read the artifacts for it.
		return nil
	}
	zw := zip.NewWriter(c.Response())
	for name, data := range generated {
		if data == nil {
			continue
		}
		w, err := zw.Create(name)
		if err != nil {
			return err
		}
		if _, err := w.Write(data); err != nil {
			return err
		}
	}
	for _, name := range names {
		w, err := zw.Create(name)
		if err != nil {
			return err
		}
		f, err := a.Open(name)
		if err != nil {
			return err
		}
		_, err = io.Copy(w, f)
		f.Close()
		if err != nil {
			return err
		}
	}
	return zw.Close()
}

// getManifest is GET .../manifest: the manifest as text/plain, or a zip
// with it (and, with include_signatures, its certificate). Without
// include_signatures the CMS signature is left out.
func (s *Server) getManifest(c echo.Context, p *storage.Package) error {
	text, zipOK := accepts(c.Request().Header.Get(echo.HeaderAccept))
	if !text && !zipOK {
		return sol013.NewProblem(http.StatusNotAcceptable, "the manifest is available as text/plain or application/zip")
	}
	q, err := sol013.ParseQuery(c.Request().URL.RawQuery)
	if err != nil {
		return sol013.Problemf(http.StatusBadRequest, "the query string is malformed: %v", err)
	}
	_, withSignatures := q["include_signatures"]
	a, obj, err := s.openArchive(c.Request().Context(), p)
	if err != nil {
		return err
	}
	defer obj.Close()
	pkg := csar.Inspect(a, csar.Options{})
	if pkg.ManifestPath == "" {
		return sol013.Problemf(http.StatusNotFound, "VNF package %s has no manifest", p.ID)
	}
	data, err := fs.ReadFile(a, pkg.ManifestPath)
	if err != nil {
		return err
	}
	if !withSignatures {
		// Exactly the bytes the manifest's signature covers.
		data, _, _ = csar.ManifestSignedContent(data)
	}
	// With include_signatures and a separate certificate the manifest is
	// two files. As for the VNFD: one file goes as text/plain when that is
	// accepted, several only in a zip (406 if only text/plain is accepted).
	var names []string
	if withSignatures && pkg.CertificatePath != "" {
		names = append(names, pkg.CertificatePath)
	}
	switch {
	case text && len(names) == 0:
		return c.Blob(http.StatusOK, "text/plain; charset=utf-8", data)
	case !zipOK:
		return sol013.Problemf(http.StatusNotAcceptable, "with include_signatures the manifest of %s comes with its certificate %s: ask for application/zip", p.ID, pkg.CertificatePath)
	}
	return streamZip(c, a, names, map[string][]byte{path.Clean(pkg.ManifestPath): data})
}

// getArtifacts is GET .../artifacts: a zip of the package's artifacts
// other than software images (SOL 005: the archive leaves the images out;
// the MANO artifacts are the additional artifacts "that are not images"),
// with their package paths, selected by exclude_all_mano_artifacts,
// exclude_all_non_mano_artifacts and select_non_mano_artifact_sets. The
// artifacts are the additional artifacts of VnfPkgInfo plus every file the
// manifest's non_mano_artifact_sets list; external artifacts are not
// fetched.
func (s *Server) getArtifacts(c echo.Context, p *storage.Package) error {
	q, err := sol013.ParseQuery(c.Request().URL.RawQuery)
	if err != nil {
		return sol013.Problemf(http.StatusBadRequest, "the query string is malformed: %v", err)
	}
	_, noMano := q["exclude_all_mano_artifacts"]
	_, noNonMano := q["exclude_all_non_mano_artifacts"]
	var sets map[string]bool
	if _, ok := q["select_non_mano_artifact_sets"]; ok {
		if noNonMano {
			return sol013.NewProblem(http.StatusBadRequest, "select_non_mano_artifact_sets and exclude_all_non_mano_artifacts exclude each other")
		}
		sets = map[string]bool{}
		for _, v := range q["select_non_mano_artifact_sets"] {
			for _, id := range strings.Split(v, ",") {
				if id = strings.TrimSpace(id); id != "" {
					sets[id] = true
				}
			}
		}
	}
	a, obj, err := s.openArchive(c.Request().Context(), p)
	if err != nil {
		return err
	}
	defer obj.Close()
	pkg := csar.Inspect(a, csar.Options{})
	nonMano := validate.NonManoSets(pkg) // path -> set id
	info := toInfo(p, "")
	images := map[string]bool{}
	for _, im := range info.SoftwareImages {
		if im.ImagePath != "" {
			images[path.Clean(im.ImagePath)] = true
		}
	}
	var paths []string
	for _, art := range info.AdditionalArtifacts {
		if art.ArtifactPath != "" {
			paths = append(paths, path.Clean(art.ArtifactPath))
		}
	}
	for n := range nonMano {
		paths = append(paths, n)
	}
	seen := map[string]bool{}
	var names []string
	for _, n := range paths {
		if seen[n] || images[n] || !pkg.HasFile(n) {
			continue
		}
		seen[n] = true
		set, isNonMano := nonMano[n]
		switch {
		case isNonMano && (noNonMano || (sets != nil && !sets[set])):
		case !isNonMano && noMano:
		default:
			names = append(names, n)
		}
	}
	if _, ok := q["include_signatures"]; ok {
		names = append(names, signatureFiles(pkg, names)...)
	}
	return streamZip(c, a, names, nil)
}

// artifactMediaType is the Content-Type TOSCA.meta declares for a file
// (SOL 004 file blocks), or application/octet-stream when it declares
// none or an unparsable one.
func artifactMediaType(a *csar.Archive, name string) string {
	data, err := fs.ReadFile(a, csar.MetaPath)
	if err != nil {
		return "application/octet-stream"
	}
	meta, _ := csar.ParseMeta(data, csar.MetaPath)
	for _, fb := range meta.Files {
		if path.Clean(fb.Name) == name && fb.ContentType != "" {
			if _, _, err := mime.ParseMediaType(fb.ContentType); err == nil {
				return fb.ContentType
			}
		}
	}
	return "application/octet-stream"
}
