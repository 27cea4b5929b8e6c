package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// exitCodeError ends a command with a code whose explanation has already
// been printed.
type exitCodeError struct{ code int }

func (e *exitCodeError) Error() string { return fmt.Sprintf("exit %d", e.code) }

// parseOutput parses a command that prints records: its flags, exactly the
// positional arguments named, and the -f/-c options, checked against the
// columns of the group's output (env.outputColumns) before any request.
func (env *cliEnv) parseOutput(fs *flag.FlagSet, args []string, out *outputOpts, names ...string) ([]string, error) {
	pos, err := env.parse(fs, args)
	if err != nil {
		return nil, err
	}
	if err := wantArgs(pos, names...); err != nil {
		return nil, err
	}
	if env.outputColumns == nil {
		// Every group that prints records names its columns (run): a
		// command without them is a programming error, not a user's.
		return nil, fmt.Errorf("internal error: %s has no output columns to check -c against", env.cmd)
	}
	return pos, out.check(env.outputColumns())
}

// wantArgs checks that there are exactly as many positional arguments as names.

func wantArgs(pos []string, names ...string) error {
	if len(pos) != len(names) {
		return usagef("expected %s, got %d argument(s)", strings.Join(names, " "), len(pos))
	}
	for i, p := range pos {
		if p == "" {
			return usagef("%s must not be empty", names[i])
		}
	}
	return nil
}

// showRecord prints one VnfPkgInfo (or a part of one) as a Field | Value
// table or in the format asked.
func (env *cliEnv) showRecord(out *outputOpts, rec map[string]any) error {
	cols, err := selectColumns(recordColumns(rec), knownColumns(), out.columns)
	if err != nil {
		return err
	}
	return emitOne(env.stdout, out.format, cols, rec)
}

func (env *cliEnv) packageCreate(args []string) error {
	fs := env.newFlags("[--user-data KEY=VALUE ...] [-f FORMAT] [-c COLUMN ...]",
		"Creates a VNF package resource, in the CREATED state; 'package upload' then sends its content.")
	var userData stringList
	fs.Var(&userData, "user-data", "user defined data `KEY=VALUE` (repeatable)")
	out := addOutputFlags(fs)
	_, err := env.parseOutput(fs, args, out)
	if err != nil {
		return err
	}
	ud, err := parseKeyValues("--user-data", userData)
	if err != nil {
		return err
	}
	api, err := env.client()
	if err != nil {
		return err
	}
	body := map[string]any{}
	if ud != nil {
		body["userDefinedData"] = ud
	}
	var rec map[string]any
	if _, err := api.sendJSON(env.ctx, http.MethodPost, api.url("/vnf_packages", nil), "application/json", body, &rec); err != nil {
		return err
	}
	return env.showRecord(out, rec)
}

func (env *cliEnv) packageShow(args []string) error {
	fs := env.newFlags("ID [-f FORMAT] [-c COLUMN ...]", "Shows a VNF package: every attribute of its VnfPkgInfo.")
	out := addOutputFlags(fs)
	pos, err := env.parseOutput(fs, args, out, "ID")
	if err != nil {
		return err
	}
	api, err := env.client()
	if err != nil {
		return err
	}
	var rec map[string]any
	if _, err := api.getJSON(env.ctx, api.url(pkgPath(pos[0]), nil), &rec); err != nil {
		return err
	}
	return env.showRecord(out, rec)
}

func (env *cliEnv) packageList(args []string) error {
	fs := env.newFlags("[--filter F] [--all_fields | --fields F | --exclude_fields F] [--exclude_default] [-f FORMAT] [-c COLUMN ...]",
		`Lists VNF packages, following the server's pages to the end.

--filter takes a SOL 013 attribute filter, e.g.
  "(eq,onboardingState,ONBOARDED);(in,vnfProvider,Company,DemoLabs)"
--all_fields, --fields and --exclude_fields select the complex attributes
(softwareImages, additionalArtifacts, userDefinedData, checksum, ...) the
server leaves out by default; with one of them the table shows every
attribute the server returns.`)
	filter := fs.String("filter", "", "SOL 013 attribute-based `FILTER`")
	allFields := fs.Bool("all_fields", false, "include every complex attribute")
	fields := fs.String("fields", "", "complex `ATTRIBUTES` to include (comma-separated, a/b for nested ones)")
	excludeFields := fs.String("exclude_fields", "", "`ATTRIBUTES` to leave out (comma-separated)")
	excludeDefault := fs.Bool("exclude_default", false, "leave out the complex attributes excluded by default (alone, or with --fields)")
	out := addOutputFlags(fs)
	_, err := env.parseOutput(fs, args, out)
	if err != nil {
		return err
	}
	n := 0
	for _, set := range []bool{*allFields, *fields != "", *excludeFields != ""} {
		if set {
			n++
		}
	}
	if n > 1 {
		return usagef("--all_fields, --fields and --exclude_fields exclude each other")
	}
	q := url.Values{}
	if *filter != "" {
		q.Set("filter", *filter)
	}
	if *allFields {
		q.Set("all_fields", "")
	}
	if *fields != "" {
		q.Set("fields", *fields)
	}
	if *excludeFields != "" {
		q.Set("exclude_fields", *excludeFields)
	}
	if *excludeDefault {
		q.Set("exclude_default", "")
	}
	api, err := env.client()
	if err != nil {
		return err
	}
	recs, err := api.listAll(env, api.url("/vnf_packages", q))
	if err != nil {
		return err
	}

	// Columns: the openstack CLI's six, then (when a selector asked for
	// more) every other attribute the server returned.
	available := append([]column(nil), listColumns...)
	inList := map[string]bool{}
	for _, c := range listColumns {
		inList[c.attr] = true
	}
	var more []column
	for _, r := range recs {
		for attr := range r {
			if !inList[attr] {
				inList[attr] = true
				more = append(more, column{titleOf(attr), attr})
			}
		}
	}
	sort.Slice(more, func(i, j int) bool { return more[i].title < more[j].title })
	if n > 0 {
		available = append(available, more...)
	}
	known := append(append(append([]column(nil), listColumns...), more...), knownColumns()...)
	cols, err := selectColumns(available, known, out.columns)
	if err != nil {
		return err
	}
	return emitList(env.stdout, out.format, cols, recs)
}

// listAll GETs a list and every next page its Link headers name.
func (c *apiClient) listAll(env *cliEnv, first string) ([]map[string]any, error) {
	var recs []map[string]any
	seen := map[string]bool{}
	for next := first; next != ""; {
		if seen[next] {
			return nil, failf("the server's pages loop back to %s", next)
		}
		seen[next] = true
		var page []map[string]any
		hdr, err := c.getJSON(env.ctx, next, &page)
		if err != nil {
			return nil, err
		}
		recs = append(recs, page...)
		next = nextLink(hdr, next)
	}
	return recs, nil
}

func (env *cliEnv) packageUpdate(args []string) error {
	fs := env.newFlags("ID [--operational-state ENABLED|DISABLED] [--user-data KEY=VALUE ...] [--unset-user-data KEY ...] [-f FORMAT] [-c COLUMN ...]",
		"Changes the operational state of an onboarded VNF package, and/or merges user defined data into it.\nPrints the modifications the server applied.")
	opState := fs.String("operational-state", "", "the new `STATE`: ENABLED or DISABLED")
	var userData, unset stringList
	fs.Var(&userData, "user-data", "user defined data `KEY=VALUE` to set (repeatable)")
	fs.Var(&unset, "unset-user-data", "user defined data `KEY` to remove (repeatable)")
	out := addOutputFlags(fs)
	pos, err := env.parseOutput(fs, args, out, "ID")
	if err != nil {
		return err
	}
	body := map[string]any{}
	if *opState != "" {
		s := strings.ToUpper(*opState)
		if s != "ENABLED" && s != "DISABLED" {
			return usagef("--operational-state %q: ENABLED or DISABLED", *opState)
		}
		body["operationalState"] = s
	}
	ud, err := parseKeyValues("--user-data", userData)
	if err != nil {
		return err
	}
	for _, k := range unset {
		if ud == nil {
			ud = map[string]any{}
		}
		if _, both := ud[k]; both {
			return usagef("--user-data and --unset-user-data both name %q", k)
		}
		ud[k] = nil
	}
	if ud != nil {
		body["userDefinedData"] = ud
	}
	if len(body) == 0 {
		return usagef("nothing to update: give --operational-state, --user-data or --unset-user-data")
	}
	api, err := env.client()
	if err != nil {
		return err
	}
	var rec map[string]any
	if _, err := api.sendJSON(env.ctx, http.MethodPatch, api.url(pkgPath(pos[0]), nil), "application/merge-patch+json", body, &rec); err != nil {
		return err
	}
	return env.showRecord(out, rec)
}

func (env *cliEnv) packageDelete(args []string) error {
	fs := env.newFlags("ID [ID ...]", "Deletes VNF packages; each must be DISABLED and NOT_IN_USE.\nEvery ID is tried; the exit code is 1 if any failed (3 if the server could not be reached).")
	pos, err := env.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef("expected ID [ID ...]")
	}
	api, err := env.client()
	if err != nil {
		return err
	}
	failed, unreachable := 0, 0
	for _, id := range pos {
		resp, err := api.do(env.ctx, request{method: http.MethodDelete, url: api.url(pkgPath(id), nil)})
		if err == nil {
			resp.Body.Close()
			continue
		}
		if env.ctx.Err() != nil {
			return env.ctx.Err()
		}
		failed++
		var ce *connError
		if errors.As(err, &ce) {
			unreachable++
		}
		fmt.Fprintf(env.stderr, "%s: %s: %v\n", env.cmd, id, err)
	}
	if failed == 0 {
		fmt.Fprintln(env.stdout, "All specified vnf-package(s) deleted successfully")
		return nil
	}
	fmt.Fprintf(env.stderr, "%s: failed to delete %d of %d vnf-package(s)\n", env.cmd, failed, len(pos))
	if unreachable == failed {
		return &exitCodeError{exitUnreachable}
	}
	return &exitCodeError{exitFailed}
}

func (env *cliEnv) packageUpload(args []string) error {
	fs := env.newFlags("ID (--path FILE | --url URI [--user-name U --password P]) [--wait [--wait-timeout D]]",
		`Uploads the content of a VNF package in the CREATED state: a local file
(streamed, with a progress bar on a terminal) or a URI the server fetches.
With --wait, follows onboarding until the package is ONBOARDED (exit 0) or in
ERROR (exit 1, with every problem found: file:line:column, message, code).`)
	path := fs.String("path", "", "the package `FILE` to upload")
	uri := fs.String("url", "", "an http(s) `URI` the server fetches the package from")
	user := fs.String("user-name", "", "the `USER` name for --url")
	password := fs.String("password", "", "the `PASSWORD` for --url")
	wait := fs.Bool("wait", false, "wait until onboarding ends")
	waitTimeout := fs.Duration("wait-timeout", 30*time.Minute, "give up waiting after `DURATION` (0: never)")
	pos, err := env.parse(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(pos, "ID"); err != nil {
		return err
	}
	if (*path == "") == (*uri == "") {
		return usagef("give exactly one of --path and --url")
	}
	if *path != "" && (*user != "" || *password != "") {
		return usagef("--user-name and --password go with --url")
	}
	if err := checkUploadOptions(fs, *path, *uri, *wait, *waitTimeout); err != nil {
		return err
	}
	id := pos[0]
	api, err := env.client()
	if err != nil {
		return err
	}
	if *path != "" {
		err = env.uploadFile(api, id, *path)
	} else {
		body := map[string]any{"addressInformation": *uri}
		if *user != "" {
			body["userName"] = *user
		}
		if *password != "" {
			body["password"] = *password
		}
		_, err = api.sendJSON(env.ctx, http.MethodPost, api.url(pkgPath(id, "package_content", "upload_from_uri"), nil), "application/json", body, nil)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "Upload request for VNF package %s has been accepted.\n", id)
	if !*wait {
		return nil
	}
	return env.waitOnboarding(api, id, *waitTimeout)
}

// checkUploadOptions refuses, before any request, what the server would
// refuse only after the package left CREATED, or what would be ignored.
func checkUploadOptions(fs *flag.FlagSet, path, uri string, wait bool, waitTimeout time.Duration) error {
	if waitTimeout < 0 {
		return usagef("--wait-timeout %s: 0 (never) or a positive duration", waitTimeout)
	}
	if isSet(fs, "wait-timeout") && !wait {
		return usagef("--wait-timeout goes with --wait")
	}
	if uri != "" {
		// The server fetches http and https URIs only.
		u, err := url.Parse(uri)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return usagef("--url %q is not an http:// or https:// URL", uri)
		}
	}
	if path != "" {
		st, err := os.Stat(path)
		if err != nil {
			return &localError{err}
		}
		if !st.Mode().IsRegular() {
			return &localError{fmt.Errorf("%s is not a regular file", path)}
		}
	}
	return nil
}

// isSet reports whether the command line gave the flag name.
func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// uploadFile streams a package file to PUT .../package_content.
func (env *cliEnv) uploadFile(api *apiClient, id, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return &localError{err}
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return &localError{err}
	}
	if !st.Mode().IsRegular() {
		return &localError{fmt.Errorf("%s is not a regular file", path)}
	}
	bar := newProgress(env.stderr, isTerminal(env.stderr), "Uploading "+filepath.Base(path), 0, st.Size())
	resp, err := api.do(env.ctx, request{
		method: http.MethodPut, url: api.url(pkgPath(id, "package_content"), nil),
		body: &fileReader{f: f, bar: bar, name: path}, size: st.Size(),
		header: http.Header{"Content-Type": {"application/zip"}},
	})
	bar.Done()
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// fileReader reads an upload, counting into a progress bar; a read error
// is a local error (exit 2), not a network one.
type fileReader struct {
	f    *os.File
	bar  *progress
	name string
}

func (r *fileReader) Read(b []byte) (int, error) {
	n, err := r.f.Read(b)
	r.bar.Add(int64(n))
	if err != nil && !errors.Is(err, io.EOF) {
		return n, &localError{fmt.Errorf("reading %s: %w", r.name, err)}
	}
	return n, err
}

// waitOnboarding polls a package until onboarding ends.
func (env *cliEnv) waitOnboarding(api *apiClient, id string, timeout time.Duration) error {
	start := time.Now()
	tty := isTerminal(env.stderr)
	delay := 200 * time.Millisecond
	clear := func() {
		if tty {
			fmt.Fprint(env.stderr, "\r"+strings.Repeat(" ", 70)+"\r")
		}
	}
	for {
		var info map[string]any
		if _, err := api.getJSON(env.ctx, api.url(pkgPath(id), nil), &info); err != nil {
			clear()
			return err
		}
		state, _ := info["onboardingState"].(string)
		switch state {
		case "ONBOARDED":
			clear()
			what := strings.TrimSpace(fmt.Sprintf("%v %v", orEmpty(info["vnfProductName"]), orEmpty(info["vnfSoftwareVersion"])))
			fmt.Fprintf(env.stdout, "VNF package %s is ONBOARDED: %s (VNFD ID %v).\n", id, what, orEmpty(info["vnfdId"]))
			return nil
		case "ERROR":
			clear()
			env.printFailure(id, "onboarding failed (ERROR)", info)
			return errReported
		case "CREATED":
			clear()
			if info["onboardingFailureDetails"] != nil {
				env.printFailure(id, "the upload failed (the package is CREATED again)", info)
				return errReported
			}
			return failf("VNF package %s is CREATED again: its upload did not complete", id)
		}
		if timeout > 0 && time.Since(start) > timeout {
			clear()
			return failf("VNF package %s is still %s after %s", id, state, timeout)
		}
		if tty {
			fmt.Fprintf(env.stderr, "\rOnboarding VNF package %s: %s (%s)", shortID(id), state, time.Since(start).Round(time.Second))
		}
		select {
		case <-env.ctx.Done():
			clear()
			return env.ctx.Err()
		case <-time.After(delay):
		}
		delay = min(delay*2, 2*time.Second)
	}
}

func orEmpty(v any) any {
	if v == nil {
		return ""
	}
	return v
}

func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// printFailure prints the onboardingFailureDetails of a package: its
// title (and detail when it lists no problems), then each problem, errors
// first.
func (env *cliEnv) printFailure(id, what string, info map[string]any) {
	var pd problemDetails
	if raw, err := json.Marshal(info["onboardingFailureDetails"]); err == nil {
		_ = json.Unmarshal(raw, &pd)
	}
	var errs, warns []string
	for _, p := range pd.Problems {
		if p.Severity == "error" {
			errs = append(errs, p.String())
		} else {
			warns = append(warns, p.String())
		}
	}
	head := fmt.Sprintf("%s: VNF package %s: %s", env.cmd, id, what)
	if pd.Title != "" {
		head += ": " + pd.Title
	}
	if len(pd.Problems) == 0 && pd.Detail != "" {
		head += ": " + pd.Detail
	}
	if len(pd.Problems) > 0 {
		head += fmt.Sprintf(" (%d error(s), %d warning(s))", len(errs), len(warns))
	}
	fmt.Fprintln(env.stderr, head)
	for _, l := range append(errs, warns...) {
		fmt.Fprintln(env.stderr, l)
	}
}
