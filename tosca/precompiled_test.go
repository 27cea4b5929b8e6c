package tosca

import (
	"bytes"
	"container/list"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/vnfpkgm/vnfpkgm/internal/testenv"
	"github.com/vnfpkgm/vnfpkgm/tosca/profiles"
)

// processWith runs Process with the precompiled profiles and the cache on
// or off.
func processWith(fsys fs.FS, entry string, precompiled, cache bool) *ServiceTemplate {
	precompiledDisabled.Store(!precompiled)
	cacheDisabled.Store(!cache)
	defer precompiledDisabled.Store(false)
	defer cacheDisabled.Store(false)
	return Process(fsys, entry, Options{})
}

// copyFS reads a package into memory, so single files can be changed.
func copyFS(t *testing.T, src fs.FS) fstest.MapFS {
	t.Helper()
	out := fstest.MapFS{}
	err := fs.WalkDir(src, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(src, p)
		out[p] = &fstest.MapFile{Data: data}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestPrecompiledSameResult: every corpus package gives the same result,
// every position included, whether its profile files (the embedded ones
// and its copies of ETSI's SOL 001 files) are parsed as YAML or loaded
// from their precompiled form, cold or from the cache.
func TestPrecompiledSameResult(t *testing.T) {
	dir := testenv.Corpus(t)
	zips, _ := filepath.Glob(filepath.Join(dir, "*.zip"))
	for _, z := range zips {
		fsys, entry := corpusPackage(t, filepath.Base(z))
		want := processWith(fsys, entry, false, false)
		for _, cache := range []bool{false, true, true} {
			got := processWith(fsys, entry, true, cache)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s (cache %v): the result differs from that of parsing the YAML:\n%s\nwant:\n%s",
					filepath.Base(z), cache, dump(got.Problems), dump(want.Problems))
			}
		}
	}
}

const etsiVNFDCopy = "Definitions/etsi_nfv_sol001_vnfd_types.yaml"

// lineOf is the 1-based line of the first line of data starting with
// prefix.
func lineOf(data []byte, prefix string) int {
	for i, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, prefix) {
			return i + 1
		}
	}
	return 0
}

// TestPrecompiledPublishedCopy: a package's byte-identical copy of ETSI's
// SOL 001 v2.6.1 VNFD types is served from its precompiled form (it lands
// in the profile cache under its name in the package), with the positions
// of the package's file.
func TestPrecompiledPublishedCopy(t *testing.T) {
	zfs, entry := corpusPackage(t, "helloworld3-multi.zip")
	fsys := copyFS(t, zfs)
	data := fsys[etsiVNFDCopy].Data
	sum := sha256.Sum256(data)
	if _, ok := profiles.Precompiled(sum); !ok {
		t.Fatalf("the corpus copy of %s is not recognised as ETSI's v2.6.1 file", etsiVNFDCopy)
	}
	resetFileCache()
	st := Process(fsys, entry, Options{})
	wantClean(t, st)
	if !fileCacheHas(etsiVNFDCopy, data) {
		t.Fatalf("%s was not served from its precompiled form; cache: %v", etsiVNFDCopy, fileCacheNames())
	}
	vdu := st.Types[KindNode]["tosca.nodes.nfv.Vdu.Compute"]
	if vdu == nil {
		t.Fatal("no tosca.nodes.nfv.Vdu.Compute")
	}
	want := Position{File: etsiVNFDCopy, Line: lineOf(data, "  tosca.nodes.nfv.Vdu.Compute:"), Column: 3}
	if vdu.Pos != want {
		t.Errorf("tosca.nodes.nfv.Vdu.Compute at %v, want %v", vdu.Pos, want)
	}
}

// TestPrecompiledOneByteDiffers: a copy of ETSI's file that differs by one
// byte is parsed as YAML, gives exactly the result of parsing it as YAML,
// and is not cached. The byte changed names an unknown parent type, so the
// problem's position is checked too.
func TestPrecompiledOneByteDiffers(t *testing.T) {
	zfs, entry := corpusPackage(t, "helloworld3-multi.zip")
	fsys := copyFS(t, zfs)
	data := bytes.Clone(fsys[etsiVNFDCopy].Data)
	i := bytes.Index(data, []byte("derived_from: tosca.nodes.Root"))
	if i < 0 {
		t.Fatal("no derived_from: tosca.nodes.Root in the copy")
	}
	i += len("derived_from: tosca.nodes.Roo")
	data[i] = 'x' // tosca.nodes.Roox
	fsys[etsiVNFDCopy] = &fstest.MapFile{Data: data}
	line := bytes.Count(data[:i], []byte("\n")) + 1
	col := i - bytes.LastIndexByte(data[:i], '\n') - len("tosca.nodes.Roo")

	resetFileCache()
	st := Process(fsys, entry, Options{})
	wantProblem(t, st, CodeUnknownType, etsiVNFDCopy, line, col, "tosca.nodes.Roox")
	if fileCacheHas(etsiVNFDCopy, data) {
		t.Error("a file that is no profile was cached")
	}
	if yamlResult := processWith(fsys, entry, false, false); !reflect.DeepEqual(st, yamlResult) {
		t.Errorf("the result differs from that of parsing the YAML:\n%s\nwant:\n%s", dump(st.Problems), dump(yamlResult.Problems))
	}
}

// TestPrecompiledProfilesLoad: every committed form loads and gives the
// tree yaml.v3 gives (the form is checked byte for byte against a fresh
// encoding by TestPrecompiledUpToDate in tosca/profiles).
func TestPrecompiledProfilesLoad(t *testing.T) {
	for _, name := range profiles.Names() {
		_, data, _ := profiles.Resolve(name)
		precompiled := parseTreeOf(t, name, data)
		parsed := parseFile(name, data, DefaultLimits)
		if precompiled == nil || !sameNode(precompiled.root, parsed.root) || !reflect.DeepEqual(precompiled.problems, parsed.problems) ||
			precompiled.stats != parsed.stats || len(precompiled.decls) != len(parsed.decls) {
			t.Errorf("%s: the precompiled form differs from the YAML", name)
			continue
		}
		for i, d := range precompiled.decls {
			if p := parsed.decls[i]; d.name != p.name || d.pos != p.pos || d.derived != p.derived {
				t.Errorf("%s: declaration %s at %v, YAML says %s at %v", name, d.name, d.pos, p.name, p.pos)
			}
		}
	}
}

func parseTreeOf(t *testing.T, name string, data []byte) *parsedFile {
	t.Helper()
	cacheDisabled.Store(true)
	defer cacheDisabled.Store(false)
	pf := profileFile(name, data, DefaultLimits)
	if pf == nil {
		t.Errorf("%s has no precompiled form", name)
	}
	return pf
}

func resetFileCache() {
	fileCache.mu.Lock()
	defer fileCache.mu.Unlock()
	fileCache.lru.Init()
	fileCache.index = map[cacheKey]*list.Element{}
	fileCache.bytes = 0
}

func fileCacheHas(name string, data []byte) bool {
	fileCache.mu.Lock()
	defer fileCache.mu.Unlock()
	return fileCache.index[cacheKey{name: name, sum: sha256.Sum256(data)}] != nil
}

func fileCacheNames() []string {
	fileCache.mu.Lock()
	defer fileCache.mu.Unlock()
	var out []string
	for e := fileCache.lru.Front(); e != nil; e = e.Next() {
		k := e.Value.(*cacheEntry).key
		out = append(out, fmt.Sprintf("%s@%x", k.name, k.sum[:4]))
	}
	return out
}
