package digest_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/vnfpkgm/vnfpkgm/csar/digest"
)

// The known answers below were computed with Python 3.11 hashlib
// (hashlib.new(name, data).hexdigest(), hexdigest(32)/hexdigest(64) for
// shake_128/shake_256) and cross-checked with coreutils sha224sum ..
// sha512sum, md5sum, sha1sum and b2sum where those exist.

// pattern is 3 MiB + 17 bytes, byte i = i mod 251: it crosses 1 MiB chunk
// boundaries and ends in a partial chunk.
func pattern() []byte {
	b := make([]byte, 3<<20+17)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}

type kat struct{ alg, hex string }

var katEmpty = []kat{
	{"sha224", "d14a028c2a3a2bc9476102bb288234c415a2b01f828ea62ac5b3e42f"},
	{"sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
	{"sha384", "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b"},
	{"sha512", "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"},
	{"md5", "d41d8cd98f00b204e9800998ecf8427e"},
	{"sha1", "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
	{"sha3_256", "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a"},
	{"sha3_384", "0c63a75b845e4f7d01107d852e4c2485c51a50aaaa94fc61995e71bbee983a2ac3713831264adb47fb6bd1e058d5f004"},
	{"sha3_512", "a69f73cca23a9ac5c8b567dc185a756e97c982164fe25859e0d1dcc1475c80a615b2123af1f5f94c11e3e9402c3ac558f500199d95b6d3e301758586281dcd26"},
	{"blake2b", "786a02f742015903c6c6fd852552d272912f4740e15847618a86e217f71f5419d25e1031afee585313896444934eb04b903a685b1448b755d56f701afe9be2ce"},
	{"blake2s", "69217a3079908094e11121d042354a7c1f55b6482ca1a51e1b250dfd1ed0eef9"},
	{"shake_128", "7f9c2ba4e88f827d616045507605853ed73b8093f6efbc88eb1a6eacfa66ef26"},
	{"shake_256", "46b9dd2b0ba88d13233b3feb743eeb243fcd52ea62b81b82b50c27646ed5762fd75dc4ddd8c0f200cb05019d67b592f6fc821c49479ab48640292eacb3b7c4be"},
}

var katABC = []kat{
	{"sha224", "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7"},
	{"sha256", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
	{"sha384", "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7"},
	{"sha512", "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"},
	{"md5", "900150983cd24fb0d6963f7d28e17f72"},
	{"sha1", "a9993e364706816aba3e25717850c26c9cd0d89d"},
	{"sha3_256", "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532"},
	{"sha3_384", "ec01498288516fc926459f58e2c6ad8df9b473cb0fc08c2596da7cf0e49be4b298d88cea927ac7f539f1edf228376d25"},
	{"sha3_512", "b751850b1a57168a5693cd924b6b096e08f621827444f70d884f5d0240d2712e10e116e9192af3c91a7ec57647e3934057340b4cf408d5a56592f8274eec53f0"},
	{"blake2b", "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923"},
	{"blake2s", "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982"},
	{"shake_128", "5881092dd818bf5cf8a3ddb793fbcba74097d5c526a6d35f97b83351940f2cc8"},
	{"shake_256", "483366601360a8771c6863080cc4114d8db44530f8f1e1ee4f94ea37e78b5739d5a15bef186a5386c75744c0527e1faa9f8726e462a12a4feb06bd8801e751e4"},
}

var katPattern = []kat{
	{"sha224", "07463d97a0c72d2d6b07de8bc122030b1b112ada46e3dbb6d1e70e31"},
	{"sha256", "fe2aaf82bfa2ffec207a0c6fa7ce7d4af268d67e2672fdaec675f3f9b65d0854"},
	{"sha384", "f6a74a07ef1115e2087bf84fe9c8cc5e34be7d12eb0b885848ff4e29486466bf2e2862a9d3587f8356ff529b5e8e75cb"},
	{"sha512", "ffc05de5fba9d792394f2047713dde4c7af417fea57de040d9f0dd50780bb5e0292e76b93b4ea4e77cd3ca7f385bb285fe34830c0c0110e712dfaabfe97d9d87"},
	{"md5", "7114d559ffda7029526064baa992a30d"},
	{"sha1", "da6de52b0377c05cb5717f7517861dc0eb7ba169"},
	{"sha3_256", "10c81320afb99e5fb5ec74bb0e7347657febdbfeac6c60b02e5109db7813b712"},
	{"sha3_384", "854313f65aec19185a16167bbd4478965ba16d848f5b00657305a966b663fd25f02973fb677f59aed0b6c3a1a2d1d043"},
	{"sha3_512", "dccdbed1ebc9a1d1c14578df316127ccea2372006134334a723ea1c24d8fcfa10aba901c8d8e24c3d06b62b4f7fd7a93950aabf08f92d81750275e702b479a38"},
	{"blake2b", "afef3360d1ac0c80b19209d2cfd0f9438f26b1938b1202c5ab22d4587948390155bbc33b1f54fc0e9660fcfae9855e934af588524ebb10be9d0e79dd25a505cc"},
	{"blake2s", "eb3e429ed2ad9db98356d0e7cbf79de3dc90f1a71dc24b7b535d8968cf46d470"},
	{"shake_128", "35b4db4cce617c741650694593da4ed9e7114961f2343cf3d0675368c7a7e595"},
	{"shake_256", "ebab40c1c3945d15c5ad8fa9942e16fc157431371db9e30d97073021d644a7377eceadc1425f7c136eb10876b8ce20b639b03ab0fc435a91c48cf5b55c10019a"},
}

// Longer and shorter SHAKE outputs (hashlib hexdigest(n)).
const (
	shake128ABC100   = "5881092dd818bf5cf8a3ddb793fbcba74097d5c526a6d35f97b83351940f2cc844c50af32acd3f2cdd066568706f509bc1bdde58295dae3f891a9a0fca5783789a41f8611214ce612394df286a62d1a2252aa94db9c538956c717dc2bed4f232a0294c85"
	shake256Pattern7 = "ebab40c1c3945d"
	shake256Pat200   = "ebab40c1c3945d15c5ad8fa9942e16fc157431371db9e30d97073021d644a7377eceadc1425f7c136eb10876b8ce20b639b03ab0fc435a91c48cf5b55c10019a1baeb36470f7a767b7b03355b96cca8be2841dc791b89464817c36e0a10ccbf5d59e67179e2c1451c6ea4562f51e05731f4e500b0e1076cfe588ea03c83bbbd2b63324a643d790a9b46af39e3978f2cbf5a24421fa6ba363fb43497de5be3a0fa2adc4c041e81a3ce2eb3d71ac9da74de5a97e2f3c1757c572a33dbdec3bee9ddfad62e4ded1f853"
)

var canonical = map[string]string{
	"sha224": "SHA-224", "sha256": "SHA-256", "sha384": "SHA-384", "sha512": "SHA-512",
	"md5": "md5", "sha1": "sha1", "sha3_256": "sha3_256", "sha3_384": "sha3_384", "sha3_512": "sha3_512",
	"blake2b": "blake2b", "blake2s": "blake2s", "shake_128": "shake_128", "shake_256": "shake_256",
}

// readers returns ways of presenting data that exercise short reads and
// data returned together with io.EOF.
func readers(data []byte) map[string]func() io.Reader {
	m := map[string]func() io.Reader{
		"bytes":   func() io.Reader { return bytes.NewReader(data) },
		"half":    func() io.Reader { return iotest.HalfReader(bytes.NewReader(data)) },
		"dataerr": func() io.Reader { return iotest.DataErrReader(bytes.NewReader(data)) },
	}
	if len(data) < 1<<10 {
		m["onebyte"] = func() io.Reader { return iotest.OneByteReader(bytes.NewReader(data)) }
	}
	return m
}

func TestKnownAnswersEach(t *testing.T) {
	pat := pattern()
	for _, in := range []struct {
		name string
		data []byte
		kats []kat
	}{{"empty", nil, katEmpty}, {"abc", []byte("abc"), katABC}, {"pattern", pat, katPattern}} {
		for _, k := range in.kats {
			for rname, mk := range readers(in.data) {
				t.Run(in.name+"/"+k.alg+"/"+rname, func(t *testing.T) {
					res, n, err := digest.Sum(context.Background(), mk(), []digest.Want{
						{Algorithm: k.alg}, // computed only
						{Algorithm: canonical[k.alg], Expected: k.hex},       // lowercase expected
						{Algorithm: k.alg, Expected: strings.ToUpper(k.hex)}, // uppercase expected
					})
					if err != nil {
						t.Fatal(err)
					}
					if n != int64(len(in.data)) {
						t.Errorf("count %d, want %d", n, len(in.data))
					}
					if len(res) != 3 {
						t.Fatalf("%d results, want 3", len(res))
					}
					for i, r := range res {
						if r.Hex != k.hex {
							t.Errorf("result %d: %s = %s, want %s", i, k.alg, r.Hex, k.hex)
						}
						if r.Algorithm.Name != canonical[k.alg] {
							t.Errorf("result %d: algorithm %q, want %q", i, r.Algorithm.Name, canonical[k.alg])
						}
						if want := i > 0; r.Match != want {
							t.Errorf("result %d: Match %v, want %v", i, r.Match, want)
						}
					}
				})
			}
		}
	}
}

// TestKnownAnswersAll computes every algorithm at once (the parallel path).
func TestKnownAnswersAll(t *testing.T) {
	pat := pattern()
	for _, in := range []struct {
		name string
		data []byte
		kats []kat
	}{{"empty", nil, katEmpty}, {"abc", []byte("abc"), katABC}, {"pattern", pat, katPattern}} {
		for rname, mk := range readers(in.data) {
			t.Run(in.name+"/"+rname, func(t *testing.T) {
				var wants []digest.Want
				for _, k := range in.kats {
					wants = append(wants, digest.Want{Algorithm: k.alg, Expected: k.hex})
				}
				res, n, err := digest.Sum(context.Background(), mk(), wants)
				if err != nil {
					t.Fatal(err)
				}
				if n != int64(len(in.data)) {
					t.Errorf("count %d, want %d", n, len(in.data))
				}
				for i, k := range in.kats {
					if res[i].Hex != k.hex || !res[i].Match {
						t.Errorf("%s = %s (match %v), want %s", k.alg, res[i].Hex, res[i].Match, k.hex)
					}
				}
			})
		}
	}
}

func TestMismatch(t *testing.T) {
	wrong := strings.Repeat("0", 64)
	res, _, err := digest.Sum(context.Background(), strings.NewReader("abc"), []digest.Want{
		{Algorithm: "SHA-256", Expected: wrong},
		{Algorithm: "md5", Expected: "900150983CD24FB0D6963F7D28E17F72"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Match || res[0].Hex != katABC[1].hex {
		t.Errorf("SHA-256: %+v", res[0])
	}
	if !res[1].Match {
		t.Errorf("md5: %+v", res[1])
	}
}

func TestLookup(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"SHA-256", "SHA-256"}, {"sha256", "SHA-256"}, {"Sha_256", "SHA-256"}, {" sha-256\t", "SHA-256"},
		{"SHA224", "SHA-224"}, {"sha-384", "SHA-384"}, {"SHA_512", "SHA-512"},
		{"MD5", "md5"}, {"SHA-1", "sha1"}, {"sha1", "sha1"},
		{"sha3_256", "sha3_256"}, {"SHA3-256", "sha3_256"}, {"sha3256", "sha3_256"},
		{"SHA3-384", "sha3_384"}, {"Sha3_512", "sha3_512"},
		{"BLAKE2b", "blake2b"}, {"blake2s", "blake2s"}, {"Blake-2s", "blake2s"},
		{"SHAKE128", "shake_128"}, {"shake-256", "shake_256"}, {"s_h-a__256", "SHA-256"},
	} {
		a, ok := digest.Lookup(c.in)
		if !ok || a.Name != c.want {
			t.Errorf("Lookup(%q) = %q, %v; want %q", c.in, a.Name, ok, c.want)
		}
	}
	for _, in := range []string{"", "sha", "sha3", "sha3_224", "sha512_256", "SHA-512/256", "blake2b512",
		"crc32", "shake", "ѕha256" /* Cyrillic ѕ */, "sha 256", "sha256\x00"} {
		if a, ok := digest.Lookup(in); ok {
			t.Errorf("Lookup(%q) = %q, want unknown", in, a.Name)
		}
	}
	if a, b := digest.Normalize("SHA3-256"), digest.Normalize("sha3_256"); a != "sha3256" || b != a {
		t.Errorf("Normalize: %q, %q", a, b)
	}
	if got := digest.Normalize("Sha_256"); got != "sha256" {
		t.Errorf("Normalize(Sha_256) = %q", got)
	}
	x, _ := digest.Lookup("sha-256")
	y, _ := digest.Lookup("SHA256")
	if x != y {
		t.Errorf("Algorithms not comparable: %#v != %#v", x, y)
	}
}

func TestNamesAndSizes(t *testing.T) {
	names := digest.Names()
	want := []string{"SHA-224", "SHA-256", "SHA-384", "SHA-512", "blake2b", "blake2s", "md5", "sha1",
		"sha3_256", "sha3_384", "sha3_512", "shake_128", "shake_256"}
	if !slices.Equal(names, want) {
		t.Fatalf("Names() = %q, want %q", names, want)
	}
	names[0] = "mutated"
	if digest.Names()[0] != "SHA-224" {
		t.Error("Names() returns shared storage")
	}
	sizes := map[string][3]int{ // Size, DefaultSize, extendable
		"SHA-224": {28, 28, 0}, "SHA-256": {32, 32, 0}, "SHA-384": {48, 48, 0}, "SHA-512": {64, 64, 0},
		"md5": {16, 16, 0}, "sha1": {20, 20, 0}, "sha3_256": {32, 32, 0}, "sha3_384": {48, 48, 0},
		"sha3_512": {64, 64, 0}, "blake2b": {64, 64, 0}, "blake2s": {32, 32, 0},
		"shake_128": {0, 32, 1}, "shake_256": {0, 64, 1},
	}
	algs := digest.Algorithms()
	if len(algs) != len(want) {
		t.Fatalf("Algorithms(): %d", len(algs))
	}
	for i, a := range algs {
		if a.Name != want[i] || a.String() != want[i] {
			t.Errorf("Algorithms()[%d] = %q", i, a.Name)
		}
		l, ok := digest.Lookup(a.Name)
		if !ok || l != a {
			t.Errorf("Lookup(%q) = %#v, %v", a.Name, l, ok)
		}
		s := sizes[a.Name]
		if a.Size != s[0] || a.DefaultSize() != s[1] || a.Extendable() != (s[2] == 1) {
			t.Errorf("%s: Size %d DefaultSize %d Extendable %v", a.Name, a.Size, a.DefaultSize(), a.Extendable())
		}
	}
	var zero digest.Algorithm
	if zero.Extendable() || zero.DefaultSize() != 0 {
		t.Error("zero Algorithm")
	}
}

// untouchable fails the test if read.
type untouchable struct{ t *testing.T }

func (u untouchable) Read([]byte) (int, error) {
	u.t.Error("stream read although the wants are invalid")
	return 0, io.EOF
}

func TestUnknownAlgorithm(t *testing.T) {
	_, n, err := digest.Sum(context.Background(), untouchable{t}, []digest.Want{
		{Algorithm: "SHA-256"}, {Algorithm: "sha3-224", Expected: "00"},
	})
	var ue *digest.UnknownAlgorithmError
	if !errors.As(err, &ue) || ue.Name != "sha3-224" || n != 0 {
		t.Fatalf("err %v (%T), n %d", err, err, n)
	}
	if msg := err.Error(); !strings.Contains(msg, `"sha3-224"`) || !strings.Contains(msg, "known: SHA-224, SHA-256") {
		t.Errorf("message %q", msg)
	}
	if _, err := digest.NewMulti([]digest.Want{{Algorithm: "crc32"}}); !errors.As(err, &ue) {
		t.Errorf("NewMulti: %v", err)
	}
}

func TestMalformedExpected(t *testing.T) {
	sha256abc := katABC[1].hex
	for _, c := range []struct {
		alg, hash, reason string
	}{
		{"SHA-256", sha256abc[:62], "62 hex digits, want 64"},
		{"SHA-256", sha256abc + "00", "66 hex digits, want 64"},
		{"SHA-256", sha256abc[:63], "odd number of hex digits (63)"},
		{"sha256", sha256abc[:63] + "g", `'g' at offset 63 is not a hex digit`},
		{"SHA-256", " " + sha256abc[1:], `' ' at offset 0 is not a hex digit`},
		{"SHA-256", "0x" + sha256abc[2:], `'x' at offset 1 is not a hex digit`},
		{"md5", "900150983cd24fb0d6963f7d28e17f7é", `'é' at offset 31 is not a hex digit`},
		{"sha-512", katABC[1].hex, "64 hex digits, want 128"},
		{"shake_128", "abc", "odd number of hex digits (3)"},
		{"shake_256", strings.Repeat("ab", digest.MaxExtendableSize+1), "2050 hex digits, at most 2048"},
	} {
		a, _ := digest.Lookup(c.alg)
		_, n, err := digest.Sum(context.Background(), untouchable{t}, []digest.Want{
			{Algorithm: "md5"}, {Algorithm: c.alg, Expected: c.hash},
		})
		var me *digest.MalformedHashError
		if !errors.As(err, &me) || n != 0 {
			t.Errorf("%s %q: err %v (%T), n %d", c.alg, c.hash, err, err, n)
			continue
		}
		if me.Algorithm != a.Name || me.Hash != c.hash || me.Reason != c.reason {
			t.Errorf("%s %q: got %+v, want reason %q", c.alg, c.hash, *me, c.reason)
		}
		if !strings.Contains(err.Error(), a.Name) || !strings.Contains(err.Error(), c.reason) {
			t.Errorf("message %q", err.Error())
		}
	}
	// The longest extendable output is accepted.
	if _, _, err := digest.Sum(context.Background(), strings.NewReader(""), []digest.Want{
		{Algorithm: "shake_256", Expected: strings.Repeat("ab", digest.MaxExtendableSize)},
	}); err != nil {
		t.Error(err)
	}
}

func TestShakeLength(t *testing.T) {
	pat := pattern()
	res, _, err := digest.Sum(context.Background(), bytes.NewReader(pat), []digest.Want{
		{Algorithm: "shake_256", Expected: strings.ToUpper(shake256Pattern7)},
		{Algorithm: "SHAKE-256"},
		{Algorithm: "shake256", Expected: shake256Pat200},
		{Algorithm: "shake_256", Expected: shake256Pat200[:398] + "00"}, // wrong last byte
		{Algorithm: "shake_128"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		hex   string
		match bool
	}{{shake256Pattern7, true}, {katPattern[12].hex, false}, {shake256Pat200, true}, {shake256Pat200, false}, {katPattern[11].hex, false}}
	for i, w := range want {
		if res[i].Hex != w.hex || res[i].Match != w.match {
			t.Errorf("result %d: %s (match %v), want %s (match %v)", i, res[i].Hex, res[i].Match, w.hex, w.match)
		}
	}
	res, _, err = digest.Sum(context.Background(), strings.NewReader("abc"), []digest.Want{{Algorithm: "shake_128", Expected: shake128ABC100}})
	if err != nil || res[0].Hex != shake128ABC100 || !res[0].Match {
		t.Errorf("shake_128(abc, 100): %+v, %v", res, err)
	}
}

// TestDuplicates checks that equal algorithms, however spelled, give one
// result each, computed from one hash (a second hash of one stream would
// still give the same digest, so the sharing itself is checked in
// plan_test.go).
func TestDuplicates(t *testing.T) {
	res, n, err := digest.Sum(context.Background(), strings.NewReader("abc"), []digest.Want{
		{Algorithm: "SHA-256"}, {Algorithm: "sha256", Expected: katABC[1].hex}, {Algorithm: "Sha_256", Expected: katEmpty[1].hex},
	})
	if err != nil || n != 3 {
		t.Fatal(err, n)
	}
	for i, m := range []bool{false, true, false} {
		if res[i].Hex != katABC[1].hex || res[i].Match != m || res[i].Algorithm.Name != "SHA-256" {
			t.Errorf("result %d: %+v", i, res[i])
		}
	}
}

func TestNoWants(t *testing.T) {
	res, n, err := digest.Sum(context.Background(), bytes.NewReader(pattern()), nil)
	if err != nil || len(res) != 0 || n != 3<<20+17 {
		t.Errorf("%v, %d, %v", res, n, err)
	}
}

// endless yields an unbounded stream of bytes and calls hook after each read.
type endless struct {
	n    int64
	hook func(n int64)
}

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(e.n + int64(i))
	}
	e.n += int64(len(p))
	if e.hook != nil {
		e.hook(e.n)
	}
	return len(p), nil
}

var oneAndMany = map[string][]digest.Want{
	"one":  {{Algorithm: "SHA-512"}},
	"many": {{Algorithm: "SHA-256"}, {Algorithm: "SHA-512"}, {Algorithm: "md5"}},
}

func TestContextCancel(t *testing.T) {
	for name, wants := range oneAndMany {
		t.Run(name+"/before", func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			res, n, err := digest.Sum(ctx, untouchable{t}, wants)
			if !errors.Is(err, context.Canceled) || n != 0 || res != nil {
				t.Errorf("%v, %d, %v", res, n, err)
			}
		})
		t.Run(name+"/during", func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			r := &endless{hook: func(n int64) {
				if n >= 5<<20 {
					cancel()
				}
			}}
			res, n, err := digest.Sum(ctx, r, wants)
			if !errors.Is(err, context.Canceled) || res != nil {
				t.Fatalf("%v, %d, %v", res, n, err)
			}
			if n < 5<<20 || n > 6<<20 || n != r.n {
				t.Errorf("read %d bytes (reader served %d), want cancellation at the chunk after 5 MiB", n, r.n)
			}
		})
	}
}

var errBoom = errors.New("boom")

// dataThenErr returns its data in reads of at most 100000 bytes, the last
// one together with errBoom.
type dataThenErr struct{ data []byte }

func (d *dataThenErr) Read(p []byte) (int, error) {
	n := copy(p, d.data[:min(len(d.data), 100000)])
	d.data = d.data[n:]
	if len(d.data) == 0 {
		return n, errBoom
	}
	return n, nil
}

func TestReaderError(t *testing.T) {
	pat := pattern()
	for name, wants := range oneAndMany {
		t.Run(name, func(t *testing.T) {
			const at = 2<<20 + 1<<19
			r := io.MultiReader(bytes.NewReader(pat[:at]), iotest.ErrReader(errBoom))
			res, n, err := digest.Sum(context.Background(), r, wants)
			if !errors.Is(err, errBoom) || res != nil || n != at {
				t.Errorf("%v, %d, %v", res, n, err)
			}
			// An error returned together with the last data.
			res, n, err = digest.Sum(context.Background(), &dataThenErr{data: pat[:at]}, wants)
			if !errors.Is(err, errBoom) || res != nil || n != at {
				t.Errorf("data with error: %v, %d, %v", res, n, err)
			}
		})
	}
}

// stuck returns (0, nil) forever.
type stuck struct{}

func (stuck) Read([]byte) (int, error) { return 0, nil }

func TestNoProgress(t *testing.T) {
	for name, wants := range oneAndMany {
		if _, _, err := digest.Sum(context.Background(), stuck{}, wants); !errors.Is(err, io.ErrNoProgress) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestMemoryBounded hashes 256 MiB and checks that the allocation is a few
// MiB (the pooled chunks), not the stream.
func TestMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	for name, wants := range map[string][]digest.Want{
		"one":  {{Algorithm: "md5"}},
		"many": {{Algorithm: "md5"}, {Algorithm: "sha1"}},
	} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, n, err := digest.Sum(context.Background(), io.LimitReader(&endless{}, 256<<20), wants)
		runtime.ReadMemStats(&after)
		if err != nil || n != 256<<20 {
			t.Fatal(err, n)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
			t.Errorf("%s: allocated %d bytes to hash %d", name, alloc, n)
		}
	}
}

func TestMulti(t *testing.T) {
	pat := pattern()
	var wants []digest.Want
	for _, k := range katPattern {
		wants = append(wants, digest.Want{Algorithm: k.alg, Expected: k.hex})
	}
	m, err := digest.NewMulti(wants)
	if err != nil {
		t.Fatal(err)
	}
	for rest := pat; len(rest) > 0; {
		k := min(len(rest), 77777)
		if n, err := m.Write(rest[:k]); n != k || err != nil {
			t.Fatal(n, err)
		}
		rest = rest[k:]
	}
	if m.Count() != int64(len(pat)) {
		t.Errorf("Count %d", m.Count())
	}
	res := m.Results()
	for i, k := range katPattern {
		if res[i].Hex != k.hex || !res[i].Match {
			t.Errorf("%s: %+v", k.alg, res[i])
		}
	}
	if n, err := m.Write([]byte("x")); n != 0 || !errors.Is(err, digest.ErrFinished) {
		t.Errorf("Write after Results: %d, %v", n, err)
	}
	if again := m.Results(); !slices.Equal(again, res) {
		t.Error("second Results differs")
	}
}

func TestEqual(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"abcdef0123", "ABCDEF0123", true},
		{"aBcD", "AbCd", true},
		{"00", "00", true},
		{"", "", false},
		{"ab", "abc", false},
		{"ab", "ac", false},
		{"gg", "gg", false},
		{"GG", "gg", false},
		{" a", " a", false},
	} {
		if got := digest.Equal(c.a, c.b); got != c.want {
			t.Errorf("Equal(%q, %q) = %v", c.a, c.b, got)
		}
	}
}

func TestValidate(t *testing.T) {
	if err := digest.Validate(digest.Want{Algorithm: "SHA-256", Expected: strings.Repeat("A", 64)}); err != nil {
		t.Fatalf("a well-formed SHA-256 digest: %v", err)
	}
	var unknown *digest.UnknownAlgorithmError
	if err := digest.Validate(digest.Want{Algorithm: "SHA-255"}); !errors.As(err, &unknown) {
		t.Fatalf("unknown algorithm: %v", err)
	}
	var malformed *digest.MalformedHashError
	if err := digest.Validate(digest.Want{Algorithm: "sha512", Expected: "abcd"}); !errors.As(err, &malformed) {
		t.Fatalf("short digest: %v", err)
	}
}
