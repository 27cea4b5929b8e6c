package oci

import "testing"

func TestNameComponent(t *testing.T) {
	for in, want := range map[string]string{
		"VDU1":                                 "vdu1",
		"b1f5e1c2-5d3a-4a0e-9a7b-6a2f3c4d5e60": "b1f5e1c2-5d3a-4a0e-9a7b-6a2f3c4d5e60",
		"Sample VNF/1":                         "sample-vnf-1",
		"a.b_c__d---e":                         "a.b_c__d---e",
		"a..b":                                 "a-b",
		"a___b":                                "a-b",
		"a._b":                                 "a-b",
		"-_lead.trail._":                       "lead.trail",
		"Ünïcode":                              "n-code",
	} {
		got, ok := NameComponent(in)
		if !ok || got != want {
			t.Errorf("NameComponent(%q) = %q, %v; want %q", in, got, ok, want)
		}
		if !validName(got) {
			t.Errorf("NameComponent(%q) = %q is not in the spec's grammar", in, got)
		}
	}
	for _, in := range []string{"", "--", "ü"} {
		if got, ok := NameComponent(in); ok {
			t.Errorf("NameComponent(%q) = %q, want none", in, got)
		}
	}
}

func TestTag(t *testing.T) {
	long := make([]byte, 200)
	for i := range long {
		long[i] = 'v'
	}
	for in, want := range map[string]string{
		"1.0":          "1.0",
		"1.0+build 7":  "1.0_build_7",
		".hidden":      "_hidden",
		"-rc1":         "_rc1",
		"V2-Beta":      "V2-Beta",
		string(long):   string(long[:128]),
		"release/2026": "release_2026",
	} {
		got, ok := Tag(in)
		if !ok || got != want || !validTag(got) {
			t.Errorf("Tag(%q) = %q, %v; want %q in the grammar", in, got, ok, want)
		}
	}
	if _, ok := Tag(""); ok {
		t.Error("an empty version has a tag")
	}
}

func FuzzNameComponent(f *testing.F) {
	for _, s := range []string{"VDU1", "a..b", "x/y z", "__a__"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, ok := NameComponent(s); ok && !validName(got) {
			t.Fatalf("NameComponent(%q) = %q, outside the grammar", s, got)
		}
		if got, ok := Tag(s); ok && !validTag(got) {
			t.Fatalf("Tag(%q) = %q, outside the grammar", s, got)
		}
	})
}
