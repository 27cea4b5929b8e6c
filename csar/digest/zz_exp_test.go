package digest

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"sync"
	"testing"
)

// barrier: double-buffered; all hashers finish chunk k before k+1 is handed out.
func sumBarrier(ctx context.Context, r io.Reader, hs []hasher) (int64, error) {
	bufs := [2]*[]byte{bufPool.Get().(*[]byte), bufPool.Get().(*[]byte)}
	var total int64
	var wg sync.WaitGroup
	cur := 0
	for {
		if err := ctx.Err(); err != nil {
			wg.Wait()
			return total, err
		}
		n, err := fill(r, *bufs[cur])
		wg.Wait()
		total += int64(n)
		if n > 0 {
			b := (*bufs[cur])[:n]
			for _, h := range hs {
				wg.Go(func() { h.Write(b) })
			}
		}
		cur ^= 1
		if err == io.EOF {
			wg.Wait()
			return total, nil
		}
		if err != nil {
			wg.Wait()
			return total, err
		}
	}
}

var expData = func() []byte { b := make([]byte, 64<<20); rand.NewChaCha8([32]byte{1}).Read(b); return b }()

func BenchmarkExp(b *testing.B) {
	sets := map[string][]string{
		"sha256+sha512+sha3_512": {"SHA-256", "SHA-512", "sha3_512"},
		"sha512+md5+blake2b":     {"SHA-512", "md5", "blake2b"},
		"sha256+sha512":          {"SHA-256", "SHA-512"},
	}
	for name, algs := range sets {
		for _, eng := range []string{"ring", "barrier"} {
			b.Run(name+"/"+eng, func(b *testing.B) {
				b.SetBytes(int64(len(expData)))
				for b.Loop() {
					var ws []Want
					for _, a := range algs {
						ws = append(ws, Want{Algorithm: a})
					}
					p, _ := newPlan(ws)
					if eng == "ring" {
						sumParallel(context.Background(), bytes.NewReader(expData), p.hashers)
					} else {
						sumBarrier(context.Background(), bytes.NewReader(expData), p.hashers)
					}
				}
			})
		}
	}
}

func BenchmarkExpOne(b *testing.B) {
	for _, eng := range []string{"serial", "ring"} {
		b.Run("SHA-512/"+eng, func(b *testing.B) {
			b.SetBytes(int64(len(expData)))
			for b.Loop() {
				p, _ := newPlan([]Want{{Algorithm: "SHA-512"}})
				if eng == "serial" {
					sumSerial(context.Background(), bytes.NewReader(expData), p.hashers)
				} else {
					sumParallel(context.Background(), bytes.NewReader(expData), p.hashers)
				}
			}
		})
	}
}
