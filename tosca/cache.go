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

// parseCached parses data as the file name, through the cache.
func parseCached(name string, data []byte, lim Limits) *parsedFile {
	if cacheDisabled.Load() {
		return parseFile(name, data, lim)
	}
	key := cacheKey{name: name, sum: sha256.Sum256(data)}
	fileCacheMu.Lock()
	pf := fileCache[key]
	fileCacheMu.Unlock()
	if pf != nil && pf.stats.nodes <= lim.MaxNodes && pf.stats.depth <= lim.MaxDepth && int64(len(data)) <= lim.MaxFileSize {
		return pf
	}
	pf = parseFile(name, data, lim)
	if pf.root == nil {
		return pf
	}
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
	return pf
}
