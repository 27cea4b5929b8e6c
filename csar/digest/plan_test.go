package digest

import "testing"

// TestPlanSharesHashes checks that equal algorithms share one hash and that
// a SHAKE hash is computed to the longest output any Want asks for.
func TestPlanSharesHashes(t *testing.T) {
	p, err := newPlan([]Want{
		{Algorithm: "SHA-256"}, {Algorithm: "sha256"}, {Algorithm: "Sha_256", Expected: "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"},
		{Algorithm: "sha3_256"}, {Algorithm: "SHA3-256"},
		{Algorithm: "shake_128", Expected: "0011"}, {Algorithm: "SHAKE128"}, {Algorithm: "shake-128", Expected: "00112233"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.hashers) != 3 || len(p.algs) != 3 {
		t.Fatalf("%d hashers for %v, want 3", len(p.hashers), p.algs)
	}
	if p.sizes[2] != 32 {
		t.Errorf("shake_128 computed to %d bytes, want 32 (the default, longest asked)", p.sizes[2])
	}
	wantIdx := []int{0, 0, 0, 1, 1, 2, 2, 2}
	wantSize := []int{32, 32, 32, 32, 32, 2, 32, 4}
	for i, w := range p.wants {
		if w.idx != wantIdx[i] || w.size != wantSize[i] {
			t.Errorf("want %d: idx %d size %d, want %d, %d", i, w.idx, w.size, wantIdx[i], wantSize[i])
		}
	}
}
