package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// maxConnections bounds --connections.
const maxConnections = 32

// downloadFlags are the options package and artifact downloads share.
type downloadFlags struct {
	file   *string
	resume *bool
	conns  *int
}

func addDownloadFlags(fs *flag.FlagSet) downloadFlags {
	return downloadFlags{
		file:   fs.String("file", "", "the `FILE` to write (FILE.part until complete and verified); without it the content goes to stdout, if that is not a terminal"),
		resume: fs.Bool("continue", false, "resume the partial download FILE.part"),
		conns:  fs.Int("connections", 1, fmt.Sprintf("download with `N` parallel ranged requests (1-%d)", maxConnections)),
	}
}

func (f downloadFlags) check() error {
	if *f.conns < 1 || *f.conns > maxConnections {
		return usagef("--connections %d: between 1 and %d", *f.conns, maxConnections)
	}
	if *f.file == "" && (*f.resume || *f.conns > 1) {
		return usagef("--continue and --connections need --file")
	}
	return checkDestination(*f.file)
}

// checkDestination makes sure, before anything is downloaded, that FILE
// (and FILE.part beside it) can be written: its directory exists and takes
// a new file, and FILE is not a directory.
func checkDestination(file string) error {
	if file == "" {
		return nil
	}
	if st, err := os.Stat(file); err == nil && st.IsDir() {
		return usagef("--file %s is a directory", file)
	}
	dir := filepath.Dir(file)
	st, err := os.Stat(dir)
	if err != nil {
		return &localError{fmt.Errorf("--file %s: %w", file, err)}
	}
	if !st.IsDir() {
		return &localError{fmt.Errorf("--file %s: %s is not a directory", file, dir)}
	}
	// Permissions alone do not tell (root, ACLs, read-only mounts): try.
	probe, err := os.CreateTemp(dir, ".vnfpkgm-write-check-*")
	if err != nil {
		return &localError{fmt.Errorf("--file %s: cannot write in %s: %w", file, dir, err)}
	}
	probe.Close()
	os.Remove(probe.Name())
	return nil
}

func (env *cliEnv) packageDownload(args []string) error {
	fs := env.newFlags("ID [--file F] [--continue] [--connections N] | ID --vnfd [--type text/plain|application/zip|both] [--file F]",
		`Downloads the content of an onboarded VNF package, verified against the
checksum the server reports for it (VnfPkgInfo.checksum): F appears only once
the whole file matches; until then the bytes are in F.part. An interrupted
download (exit 3, or Ctrl-C) resumes with --continue, which also continues
the checksum from where it stopped; --connections N fetches ranges over N
connections in parallel, verified as they arrive.

With --vnfd, downloads the VNFD instead: text/plain when it is one YAML file,
application/zip otherwise (--type both, the default, accepts either).`)
	df := addDownloadFlags(fs)
	vnfd := fs.Bool("vnfd", false, "download the VNFD, not the package")
	typ := fs.String("type", "", "with --vnfd: the `TYPE` accepted: text/plain, application/zip or both (default both)")
	pos, err := env.parse(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(pos, "ID"); err != nil {
		return err
	}
	if err := df.check(); err != nil {
		return err
	}
	if *typ != "" && !*vnfd {
		return usagef("--type goes with --vnfd")
	}
	id := pos[0]
	api, err := env.client()
	if err != nil {
		return err
	}
	if *vnfd {
		if *df.resume || *df.conns > 1 {
			return usagef("--continue and --connections do not apply to --vnfd (the VNFD is small and has no checksum to resume against)")
		}
		return env.downloadVNFD(api, id, *typ, *df.file)
	}
	var info struct {
		OnboardingState string    `json:"onboardingState"`
		Checksum        *checksum `json:"checksum"`
	}
	if _, err := api.getJSON(env.ctx, api.url(pkgPath(id), nil), &info); err != nil {
		return err
	}
	if info.OnboardingState != "ONBOARDED" {
		return failf("VNF package %s is %s, not ONBOARDED: it has no content to download", id, info.OnboardingState)
	}
	content := pkgPath(id, "package_content")
	d := &download{
		env: env, api: api, url: api.url(content, nil), resource: apiPrefix + content,
		what: "VNF package " + id, dest: *df.file, want: info.Checksum, mustVerify: true,
		resume: *df.resume, conns: *df.conns,
	}
	return d.run()
}

// downloadVNFD fetches .../vnfd with the Accept --type asks.
func (env *cliEnv) downloadVNFD(api *apiClient, id, typ, file string) error {
	accept := map[string]string{
		"":                "text/plain, application/zip",
		"both":            "text/plain, application/zip",
		"text/plain":      "text/plain",
		"application/zip": "application/zip",
	}[typ]
	if accept == "" {
		return usagef("--type %q: text/plain, application/zip or both", typ)
	}
	u := api.url(pkgPath(id, "vnfd"), nil)
	resp, err := api.do(env.ctx, request{method: http.MethodGet, url: u, header: http.Header{"Accept": {accept}}})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	ct := resp.Header.Get("Content-Type")
	if file == "" {
		if isTerminal(env.stdout) && !strings.HasPrefix(ct, "text/") {
			return usagef("the VNFD comes as %s: give --file", ct)
		}
		if _, err := io.Copy(&fileWriter{w: env.stdout}, resp.Body); err != nil {
			return (&download{env: env, url: u}).transferError(err)
		}
		return nil
	}
	part := file + ".part"
	f, err := os.Create(part)
	if err != nil {
		return &localError{err}
	}
	n, err := io.Copy(&fileWriter{w: f}, resp.Body)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = &localError{cerr}
	}
	if err == nil && resp.ContentLength >= 0 && n != resp.ContentLength {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		os.Remove(part)
		return (&download{env: env, url: u}).transferError(err)
	}
	if err := os.Rename(part, file); err != nil {
		return &localError{err}
	}
	mt, _, _ := strings.Cut(ct, ";")
	fmt.Fprintf(env.stdout, "VNFD of VNF package %s downloaded to %s (%s, %d bytes).\n", id, file, strings.TrimSpace(mt), n)
	return nil
}

func (env *cliEnv) artifactDownload(args []string) error {
	fs := env.newFlags("ID ARTIFACT_PATH [--file F] [--continue] [--connections N]",
		`Downloads one file of an onboarded VNF package (an artifact, a software
image, a script...) by its path in the package. When the package declares a
checksum for it (additionalArtifacts, softwareImages) the file is verified
against it; --continue and --connections work as for 'package download'.`)
	df := addDownloadFlags(fs)
	pos, err := env.parse(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(pos, "ID", "ARTIFACT_PATH"); err != nil {
		return err
	}
	if err := df.check(); err != nil {
		return err
	}
	id, name := pos[0], strings.TrimPrefix(pos[1], "/")
	api, err := env.client()
	if err != nil {
		return err
	}
	var info map[string]any
	if _, err := api.getJSON(env.ctx, api.url(pkgPath(id), nil), &info); err != nil {
		return err
	}
	res := pkgPath(id, "artifacts", escapePath(name))
	d := &download{
		env: env, api: api, url: api.url(res, nil), resource: apiPrefix + res,
		what: "artifact " + name + " of VNF package " + id, dest: *df.file, want: declaredChecksum(info, name),
		resume: *df.resume, conns: *df.conns,
	}
	return d.run()
}

// declaredChecksum finds the checksum a package declares for one of its
// files: an additional artifact or a software image.
func declaredChecksum(info map[string]any, name string) *checksum {
	name = path.Clean(name)
	type entry struct {
		ArtifactPath string    `json:"artifactPath"`
		ImagePath    string    `json:"imagePath"`
		Checksum     *checksum `json:"checksum"`
	}
	for _, key := range []string{"additionalArtifacts", "softwareImages"} {
		raw, err := json.Marshal(info[key])
		if err != nil {
			continue
		}
		var list []entry
		if json.Unmarshal(raw, &list) != nil {
			continue
		}
		for _, e := range list {
			p := e.ArtifactPath
			if p == "" {
				p = e.ImagePath
			}
			if p != "" && path.Clean(p) == name && e.Checksum != nil {
				return e.Checksum
			}
		}
	}
	return nil
}
