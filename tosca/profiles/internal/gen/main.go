// Command gen writes the precompiled profile forms of tosca/profiles
// (run by go generate in that directory). The forms of the Published ETSI
// files need their bytes, looked for under -corpus; a form already
// committed is kept when its file cannot be found there.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/vnfpkgm/vnfpkgm/tosca/profiles"
	"github.com/vnfpkgm/vnfpkgm/tosca/profiles/internal/precompile"
)

func main() {
	corpus := flag.String("corpus", "", "directory holding the published SOL 001 files (zip packages or YAML)")
	flag.Parse()
	if err := run(*corpus); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(corpus string) error {
	dir := profiles.PrecompiledDir
	forms, err := precompile.Embedded()
	if err != nil {
		return err
	}
	published := map[string][]byte{}
	var missing []string
	if corpus != "" {
		if published, missing, err = precompile.FindPublished(corpus); err != nil {
			return err
		}
	} else {
		for _, p := range profiles.Published {
			missing = append(missing, p.SHA256)
		}
	}
	for name, form := range published {
		forms[name] = form
	}
	for _, h := range missing {
		name := h + ".tyb"
		old, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return fmt.Errorf("the published file %s is not under %q and has no committed form", h, corpus)
		}
		fmt.Fprintf(os.Stderr, "gen: keeping %s: its source is not under %q\n", name, corpus)
		forms[name] = old
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tyb") && forms[e.Name()] == nil {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	for name, form := range forms {
		path := filepath.Join(dir, name)
		if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, form) {
			continue
		}
		if err := os.WriteFile(path, form, 0o644); err != nil {
			return err
		}
	}
	return nil
}
