package tosca

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/vnfpkgm/vnfpkgm/tosca/profiles"
)

// fileCacheState is what the cache holds: every key and the byte total.
func fileCacheState() (keys []cacheKey, total int64) {
	fileCache.mu.Lock()
	defer fileCache.mu.Unlock()
	for e := fileCache.lru.Front(); e != nil; e = e.Next() {
		keys = append(keys, e.Value.(*cacheEntry).key)
	}
	return keys, fileCache.bytes
}

// TestCacheKeepsOnlyProfiles: after big, rejected and odd packages the
// cache holds the profile files they used (recognised by their hash) and
// nothing of their own, within its byte bound.
func TestCacheKeepsOnlyProfiles(t *testing.T) {
	resetFileCache()
	zfs, entry := corpusPackage(t, "helloworld3-multi.zip")
	hw := copyFS(t, zfs)
	// A copy of ETSI's file changed by one byte, and a big VNFD (a
	// megabyte of metadata) that fails on a type error.
	odd := copyFS(t, zfs)
	odd[etsiVNFDCopy] = &fstest.MapFile{Data: bytes.Replace(odd[etsiVNFDCopy].Data, []byte("description:"), []byte("description :"), 1)}
	big := fanOutFile(1 << 20)
	// The first three are rejected; the odd copy is accepted but is no
	// profile file.
	packages := []struct {
		fsys  fstest.MapFS
		entry string
	}{
		{fanOutFS(63, fanOutFile(8<<10)), "main.yaml"}, // refused by the budget
		{fstest.MapFS{"main.yaml": {Data: append(big, "node_types:\n  x:\n    derived_from: nope\n"...)}}, "main.yaml"},
		{fstest.MapFS{"main.yaml": {Data: []byte("tosca_definitions_version: tosca_simple_yaml_1_2\nimports: [a.yaml]\n")},
			"a.yaml": {Data: []byte("tosca_definitions_version: tosca_simple_yaml_1_2\nnode_types: {x: [\n")}}, "main.yaml"},
		{odd, entry},
		{hw, entry},
	}
	for i, pk := range packages {
		st := Process(pk.fsys, pk.entry, Options{Limits: Limits{MaxTotalBytes: 4 << 20}})
		if i < 3 && !st.HasErrors() {
			t.Fatalf("package %d was meant to be rejected", i)
		}
	}
	keys, total := fileCacheState()
	if len(keys) == 0 {
		t.Fatal("the profile files were not cached")
	}
	for _, k := range keys {
		if _, ok := profiles.Precompiled(k.sum); !ok {
			t.Errorf("%s (%x) is cached but is no profile file", k.name, k.sum[:6])
		}
		if strings.HasPrefix(k.name, "f") || k.name == "main.yaml" || k.name == "a.yaml" {
			t.Errorf("a file of a rejected package is cached: %s", k.name)
		}
	}
	if total > fileCacheMaxBytes {
		t.Errorf("the cache holds %d bytes, over its bound of %d", total, fileCacheMaxBytes)
	}
	t.Logf("cached: %v, %d bytes", fileCacheNames(), total)
}

// TestCacheBoundedByBytes: one published file shipped under many names
// (one entry each: positions carry the name) stays within the byte bound,
// dropping the least recently used names first.
func TestCacheBoundedByBytes(t *testing.T) {
	zfs, _ := corpusPackage(t, "helloworld3-multi.zip")
	vnfd := copyFS(t, zfs)[etsiVNFDCopy].Data
	resetFileCache()
	old := fileCache.max
	defer func() { fileCache.max = old; resetFileCache() }()
	fileCache.max = 3 << 20
	for i := 0; i < 40; i++ {
		name := fmt.Sprintf("d%02d/%s", i, "etsi_nfv_sol001_vnfd_types.yaml")
		fsys := fstest.MapFS{
			"main.yaml": {Data: []byte("tosca_definitions_version: tosca_simple_yaml_1_2\nimports: [" + name + "]\n")},
			name:        {Data: vnfd},
		}
		// The common types it imports are missing: the embedded ones are used.
		Process(fsys, "main.yaml", Options{})
		keys, total := fileCacheState()
		if total > fileCache.max {
			t.Fatalf("after %d names the cache holds %d bytes, over %d", i+1, total, fileCache.max)
		}
		if keys[0].name != name && keys[1].name != name && keys[2].name != name {
			t.Fatalf("the file just used is not among the most recent entries: %v", fileCacheNames())
		}
	}
	if keys, _ := fileCacheState(); len(keys) >= 40 {
		t.Errorf("nothing was dropped: %d entries", len(keys))
	}
}
