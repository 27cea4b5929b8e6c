package auth

import (
	"crypto/sha256"
	"sync"
	"time"
)

// tokenKey is what caches index tokens by: their SHA-256, so that a cache
// holds no usable token and its memory per entry is fixed.
type tokenKey [32]byte

func keyOf(token string) tokenKey { return sha256.Sum256([]byte(token)) }

// answerCache keeps the verdicts on tokens until a deadline each, at most
// max of them: when full, expired entries go first, then arbitrary ones
// (Go's map order), so that a flood of distinct tokens costs a bounded
// amount of memory and only evicts.
type answerCache struct {
	mu      sync.RWMutex
	max     int
	entries map[tokenKey]verdict
}

type verdict struct {
	principal *Principal
	refusal   *Error
	until     time.Time
}

func (v verdict) answer() (*Principal, error) {
	if v.refusal != nil {
		return nil, v.refusal
	}
	return v.principal, nil
}

func newAnswerCache(max int) *answerCache {
	if max <= 0 {
		max = 10000
	}
	return &answerCache{max: max, entries: map[tokenKey]verdict{}}
}

// get returns the verdict on key if it holds at now.
func (c *answerCache) get(key tokenKey, now time.Time) (verdict, bool) {
	c.mu.RLock()
	v, ok := c.entries[key]
	c.mu.RUnlock()
	if !ok || !now.Before(v.until) {
		return verdict{}, false
	}
	return v, true
}

func (c *answerCache) put(key tokenKey, v verdict, now time.Time) {
	if !now.Before(v.until) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		for k, old := range c.entries {
			if !now.Before(old.until) {
				delete(c.entries, k)
			}
		}
	}
	for k := range c.entries {
		if len(c.entries) < c.max {
			break
		}
		delete(c.entries, k)
	}
	c.entries[key] = v
}
