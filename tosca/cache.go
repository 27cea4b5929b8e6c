package tosca

import (
	"crypto/sha256"
	"sync"
	"sync/atomic"
)

// A process-wide cache of parsed files. Reading YAML dominates the cost of
// processing a SOL 001 VNFD (yaml.v3 needs ~3.5 ms for the ~77 KB of SOL 001
// types every Tacker package ships), and the same type files arrive again
// and again. The cache keeps a parsedFile: its node tree, its top-level
// declarations and, filled on demand, its decoded type bodies, all
// immutable once published. Every result builds its own Types, values and
// problems from it, so nothing mutable is shared between results.
//
// The key is the file's name and the SHA-256 of its bytes: the name is in
// the key because positions (Position.File) inside the cached problems
// and definitions carry it. A file is only cached when it was read
// successfully; its node count and depth are re-checked against the limits
// of each call.

const fileCacheMax = 256

type cacheKey struct {
	name string
	sum  [sha256.Size]byte
}

var (
	fileCacheMu sync.Mutex
	fileCache   = map[cacheKey]*parsedFile{}
	// cacheDisabled turns the cache off (benchmarks measure both).
	cacheDisabled atomic.Bool
)

// parse parses data as the file name within the package budget: through
// the cache, or after a scan of its nodes. A file the budget refuses
// yields an empty parsedFile (the problem is recorded).
func (p *processor) parse(name string, data []byte) *parsedFile {
	size := int64(len(data))
	if !p.admitBytes(name, size) {
		return &parsedFile{name: name}
	}
	pf := cachedFile(name, data, p.lim)
	if pf == nil {
		if !p.admitNodes(name, scanNodes(data)) {
			return &parsedFile{name: name}
		}
		pf = parseFile(name, data, p.lim)
		storeFile(name, data, pf)
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

func cacheKeyOf(name string, data []byte) cacheKey {
	return cacheKey{name: name, sum: sha256.Sum256(data)}
}

// cachedFile returns the cached parse of data as name, nil if none.
func cachedFile(name string, data []byte, lim Limits) *parsedFile {
	if cacheDisabled.Load() {
		return nil
	}
	fileCacheMu.Lock()
	pf := fileCache[cacheKeyOf(name, data)]
	fileCacheMu.Unlock()
	if pf != nil && pf.stats.nodes <= lim.MaxNodes && pf.stats.depth <= lim.MaxDepth && int64(len(data)) <= lim.MaxFileSize {
		return pf
	}
	return nil
}

// storeFile caches a file that was read successfully.
func storeFile(name string, data []byte, pf *parsedFile) {
	if cacheDisabled.Load() || pf.root == nil {
		return
	}
	key := cacheKeyOf(name, data)
	fileCacheMu.Lock()
	if len(fileCache) >= fileCacheMax {
		// Drop about half, in map order: simple, and a working set of
		// profile files refills quickly.
		n := 0
		for k := range fileCache {
			delete(fileCache, k)
			if n++; n >= fileCacheMax/2 {
				break
			}
		}
	}
	fileCache[key] = pf
	fileCacheMu.Unlock()
}
