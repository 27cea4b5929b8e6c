package yamlbin

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/vnfpkgm/vnfpkgm/tosca/profiles"
)

func parse(t *testing.T, src []byte) *yaml.Node {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Content[0]
}

// same compares two trees field by field, comments aside.
func same(a, b *yaml.Node, path string) error {
	if a.Kind != b.Kind || a.Style != b.Style || a.Tag != b.Tag || a.Value != b.Value || a.Anchor != b.Anchor ||
		a.Line != b.Line || a.Column != b.Column || len(a.Content) != len(b.Content) || (a.Alias == nil) != (b.Alias == nil) {
		return fmt.Errorf("%s: %+v != %+v", path, *a, *b)
	}
	if a.Alias != nil && (a.Alias.Line != b.Alias.Line || a.Alias.Column != b.Alias.Column) {
		return fmt.Errorf("%s: aliases differ", path)
	}
	for i := range a.Content {
		if err := same(a.Content[i], b.Content[i], fmt.Sprintf("%s/%d", path, i)); err != nil {
			return err
		}
	}
	return nil
}

func roundTrip(t *testing.T, src []byte) Stats {
	t.Helper()
	want := parse(t, src)
	enc, st, err := Encode(want, src)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(enc, src)
	if err != nil {
		t.Fatal(err)
	}
	if err := same(got, want, ""); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestRoundTrip: the decoded tree equals yaml.v3's, positions included,
// on the embedded profiles and on the constructs the profiles do not use.
func TestRoundTrip(t *testing.T) {
	for _, name := range profiles.Names() {
		_, src, _ := profiles.Resolve(name)
		roundTrip(t, src)
	}
	for _, src := range []string{
		"a: 1\nb: [x, {y: z}]\n",
		"anchor: &a {k: v}\nalias: *a\nmerge:\n  <<: *a\n  own: 2\n",
		"folded: >\n  one\n  two\nliteral: |\n  l1\n  l2\nplain: multi\n  line\n",
		"escaped: \"tab\\there \\u00e9\"\nsingle: 'it''s'\n",
		"tags: !custom x\nstr: !!str 5\nbin: !!binary aGk=\n",
		"- unicode: \"é ü\"\n  after: ok\n",
		"empty:\nnull: ~\n'': blank key\n",
	} {
		st := roundTrip(t, []byte(src))
		if strings.Contains(src, "escaped") && st.Literals == 0 {
			t.Errorf("escaped values cannot be spans of the source: %+v", st)
		}
	}
}

// TestDecodeRefusesCorruptForms: a form that does not match its source,
// or is truncated or damaged, is an error, never a panic or a wrong tree.
func TestDecodeRefusesCorruptForms(t *testing.T) {
	_, src, _ := profiles.Resolve("tosca-normative-1.3.yaml")
	enc, _, err := Encode(parse(t, src), src)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Decode(enc, src[:len(src)-1]); err == nil {
		t.Error("a source of another length was accepted")
	}
	for _, n := range []int{0, 3, 10, len(enc) / 2, len(enc) - 1} {
		if _, err := Decode(enc[:n], src); err == nil {
			t.Errorf("a form truncated to %d bytes was accepted", n)
		}
	}
	for i := len(magic); i < len(enc); i += 97 {
		bad := bytes.Clone(enc)
		bad[i] ^= 0xff
		Decode(bad, src) // must not panic; a damaged value may still decode
	}
}

// BenchmarkDecode loads the largest embedded profile from its form;
// BenchmarkParse parses it with yaml.v3, for comparison.
func BenchmarkDecode(b *testing.B) {
	_, src, _ := profiles.Resolve("sol001/v2.7.1/etsi_nfv_sol001_vnfd_types.yaml")
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		b.Fatal(err)
	}
	enc, _, err := Encode(doc.Content[0], src)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(enc, src); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	_, src, _ := profiles.Resolve("sol001/v2.7.1/etsi_nfv_sol001_vnfd_types.yaml")
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		var doc yaml.Node
		if err := yaml.Unmarshal(src, &doc); err != nil {
			b.Fatal(err)
		}
	}
}
