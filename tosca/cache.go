package tosca

import (
	"container/list"
	"crypto/sha256"
	"sync"
	"sync/atomic"

	"github.com/vnfpkgm/vnfpkgm/tosca/internal/yamlbin"
	"github.com/vnfpkgm/vnfpkgm/tosca/profiles"
)

// A process-wide cache of the parsed profile files. Reading YAML dominates
// the cost of processing a SOL 001 VNFD, and the same type files arrive
// again and again: the embedded profiles, and the copies of ETSI's SOL 001
// files that Tacker-style packages ship. Those files are recognised by the
// SHA-256 of their bytes (profiles.Precompiled), loaded from their
// precompiled form without YAML parsing, and only they are cached: a
// package's own files, and any file of a rejected package, are parsed for
// their Process call and dropped with it. The cache holds parsedFiles
// (node tree, top-level declarations and, filled on demand, decoded type
// bodies), immutable once published; every result builds its own Types,
// values and problems from them.
//
// The key is the file's name and the SHA-256 of its bytes: the name is in
// the key because positions (Position.File) inside the cached problems and
// definitions carry it, so one published file shipped under many names is
// many entries. The cache is bounded by an estimate of its bytes (source
// plus parsed form) and drops the least recently used entries beyond it.
// A cached file's node count and depth are re-checked against the limits
// of each call.

// fileCacheMaxBytes bounds the cache. One entry is ~0.2-0.9 MB (the ETSI
// v2.6.1 VNFD types: 67 KB of source, 2,857 nodes): the bound holds every
// embedded and published profile under several names each.
const fileCacheMaxBytes = 32 << 20

// nodeCost estimates the memory of one parsed node: the yaml.Node (152
// bytes), its place in its parent's Content and its share of the decoded
// declarations and type bodies.
const nodeCost = 256

type cacheKey struct {
	name string
	sum  [sha256.Size]byte
}

type cacheEntry struct {
	key   cacheKey
	pf    *parsedFile
	bytes int64
}

type fileCacheT struct {
	mu    sync.Mutex
	max   int64
	bytes int64
	lru   list.List // of *cacheEntry, most recently used first
	index map[cacheKey]*list.Element
}

var (
	fileCache = &fileCacheT{max: fileCacheMaxBytes} // index is made by the first put
	// cacheDisabled turns the cache off; precompiledDisabled makes profile
	// files parsed as YAML (benchmarks measure each).
	cacheDisabled       atomic.Bool
	precompiledDisabled atomic.Bool
)

// parse parses data as the file name within the package budget: a profile
// file through the cache from its precompiled form, any other after a
// scan of its nodes. A file the budget refuses yields an empty parsedFile
// (the problem is recorded).
func (p *processor) parse(name string, data []byte) *parsedFile {
	size := int64(len(data))
	if !p.admitBytes(name, size) {
		return &parsedFile{name: name}
	}
	pf := profileFile(name, data, p.lim)
	if pf == nil {
		if !p.admitNodes(name, scanNodes(data)) {
			return &parsedFile{name: name}
		}
		pf = parseFile(name, data, p.lim)
	}
	if pf.root == nil {
		p.budget.files++
		p.budget.bytes += size
		return pf
	}
	if !p.charge(name, size, pf.stats.nodes) {
		return &parsedFile{name: name}
	}
	return pf
}

// profileFile returns the parse of data as name when data is a profile
// file with a precompiled form, nil otherwise.
func profileFile(name string, data []byte, lim Limits) *parsedFile {
	if precompiledDisabled.Load() {
		return nil
	}
	key := cacheKey{name: name, sum: sha256.Sum256(data)}
	form, ok := profiles.Precompiled(key.sum)
	if !ok {
		return nil
	}
	if pf := fileCache.get(key); pf != nil && pf.stats.nodes <= lim.MaxNodes && pf.stats.depth <= lim.MaxDepth && int64(len(data)) <= lim.MaxFileSize {
		return pf
	}
	top, err := yamlbin.Decode(form, data)
	if err != nil {
		return nil // a form that does not load (a bug): parse the YAML instead
	}
	pf := parseTree(name, top, lim)
	if pf.root != nil {
		fileCache.put(key, pf, int64(len(data))+int64(pf.stats.nodes)*nodeCost)
	}
	return pf
}

func (c *fileCacheT) get(key cacheKey) *parsedFile {
	if cacheDisabled.Load() {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.index[key]
	if e == nil {
		return nil
	}
	c.lru.MoveToFront(e)
	return e.Value.(*cacheEntry).pf
}

func (c *fileCacheT) put(key cacheKey, pf *parsedFile, bytes int64) {
	if cacheDisabled.Load() || bytes > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.index[key]; e != nil {
		c.lru.MoveToFront(e) // a concurrent call stored it first
		return
	}
	if c.index == nil {
		c.index = map[cacheKey]*list.Element{}
	}
	c.index[key] = c.lru.PushFront(&cacheEntry{key: key, pf: pf, bytes: bytes})
	c.bytes += bytes
	for c.bytes > c.max {
		last := c.lru.Back()
		e := last.Value.(*cacheEntry)
		c.lru.Remove(last)
		delete(c.index, e.key)
		c.bytes -= e.bytes
	}
}
