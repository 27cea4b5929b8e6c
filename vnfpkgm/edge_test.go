package vnfpkgm

import (
	"strings"
	"testing"
)

func TestETagListMatches(t *testing.T) {
	const cur = `"r7"`
	for _, c := range []struct {
		header string
		match  bool
		bad    bool
	}{
		{`"r7"`, true, false},
		{`*`, true, false},
		{`"r6", "r7"`, true, false},
		{`"r6","r7"`, true, false},
		{` "r6" ,, "r7" `, true, false},
		{`"a,b", "r7"`, true, false}, // a comma inside a tag is part of it
		{`"r6"`, false, false},
		{`W/"r7"`, false, false}, // If-Match compares strongly
		{`"r7`, false, true},
		{`r7`, false, true},
		{`"r7" "r8"`, false, true},
		{`W/`, false, true},
		{"\"r\x017\"", false, true},
	} {
		match, err := etagListMatches(c.header, cur)
		if match != c.match || (err != nil) != c.bad {
			t.Errorf("If-Match %q against %s: %v, %v; want %v, malformed %v", c.header, cur, match, err, c.match, c.bad)
		}
	}
}

func TestEdgeConfig(t *testing.T) {
	env := func(k, v string) func(string) string {
		return func(name string) string {
			if name == k {
				return v
			}
			return ""
		}
	}
	cfg, err := ParseConfig(nil, env("VNFPKGM_PUBLIC_URL", "https://pkgs.example.net/nfv/"))
	if err != nil || cfg.PublicURL != "https://pkgs.example.net/nfv/" || cfg.MaxUserDataSize != 64<<10 || cfg.MaxRanges != 200 {
		t.Fatalf("defaults and VNFPKGM_PUBLIC_URL: %+v, %v", cfg, err)
	}
	if root, _ := publicRoot(cfg.PublicURL); root != "https://pkgs.example.net/nfv" {
		t.Fatalf("apiRoot %q", root)
	}
	for _, args := range [][]string{
		{"--public-url", "pkgs.example.net"},
		{"--public-url", "ftp://pkgs.example.net"},
		{"--public-url", "https://user@pkgs.example.net"},
		{"--public-url", "https://pkgs.example.net/?a=b"},
		{"--max-user-data-size", "0"},
		{"--max-user-data-size", "2000000"},
		{"--max-ranges", "0"},
	} {
		if _, err := ParseConfig(args, func(string) string { return "" }); err == nil {
			t.Errorf("%s accepted", strings.Join(args, " "))
		}
	}
}
