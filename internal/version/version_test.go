package version

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestFromBuild(t *testing.T) {
	stamped := &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Main:      debug.Module{Path: "github.com/vnfpkgm/vnfpkgm", Version: "v1.2.3"},
		Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "1111111111111111111111111111111111111111"},
			{Key: "vcs.time", Value: "2026-12-04T17:00:00Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	for _, tc := range []struct {
		name               string
		bi                 *debug.BuildInfo
		ldCommit, ldModify string
		want               []string
	}{
		{"go stamp", stamped, "", "", []string{
			"vnfpkgm v1.2.3\n", "module: github.com/vnfpkgm/vnfpkgm\n",
			"commit: 1111111111111111111111111111111111111111 (modified: built with uncommitted changes)\n",
			"commit-time: 2026-12-04T17:00:00Z\n", "go: go1.26.8\n"}},
		{"linker values win", stamped, "2222222222222222222222222222222222222222", "false", []string{
			"vnfpkgm v1.2.3\n", "commit: 2222222222222222222222222222222222222222\n"}},
		{"nothing known", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/vnfpkgm/vnfpkgm", Version: "(devel)"}}, "", "", []string{
			"vnfpkgm (devel)\n", "commit: unknown (built without VCS information)\n"}},
		{"no build info", nil, "", "", []string{"vnfpkgm unknown\n", "module: unknown\n", "go: unknown\n"}},
	} {
		got := fromBuild(tc.bi, tc.ldCommit, tc.ldModify).String("vnfpkgm")
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: %q lacks %q", tc.name, got, w)
			}
		}
		if tc.ldCommit != "" && strings.Contains(got, "1111111") {
			t.Errorf("%s: the go stamp shows through the linker's commit: %q", tc.name, got)
		}
	}
}
