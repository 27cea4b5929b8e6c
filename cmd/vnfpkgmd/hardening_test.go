package main_test

// Hardening tests against the real binary: resource bounds under bursts,
// crashes mid-upload and mid-delete, stalled clients and origins, secrets
// at rest, egress policy, disk full.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// fdsOn counts the descriptors of process pid open on the file path.
func fdsOn(t *testing.T, pid int, path string) int {
	t.Helper()
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Skipf("cannot read the descriptors of the server: %v", err)
	}
	n := 0
	for _, e := range ents {
		if target, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, e.Name())); err == nil && target == abs {
			n++
		}
	}
	return n
}

// TestDatabasePoolBounded: a burst of concurrent requests must not leave
// the server with one database connection per request it served.
func TestDatabasePoolBounded(t *testing.T) {
	s := startServer(t, "", "--db-max-open-conns", "4")
	id := s.createPackage(t)
	var wg sync.WaitGroup
	for i := 0; i < 300; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			path := pkgs + "/" + id
			if i%3 == 0 {
				path = pkgs + "?filter=(eq,onboardingState,CREATED)"
			}
			s.do("GET", path, nil)
		}(i)
	}
	wg.Wait()
	db := filepath.Join(s.dir, "vnfpkgm.db")
	if n := fdsOn(t, s.cmd.Process.Pid, db); n > 4 {
		t.Fatalf("%d descriptors open on %s after the burst, want at most 4 (--db-max-open-conns)", n, db)
	}
	if n := fdsOn(t, s.cmd.Process.Pid, db+"-wal"); n > 4 {
		t.Fatalf("%d descriptors open on the WAL after the burst, want at most 4", n)
	}
}

// stalledUpload starts a PUT of package id that announces a large body,
// sends sent bytes of it and then nothing; the connection stays open.
func stalledUpload(t *testing.T, s *server, id string, sent int) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(s.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	fmt.Fprintf(c, "PUT %s/%s/package_content HTTP/1.1\r\nHost: test\r\nContent-Type: application/zip\r\nContent-Length: %d\r\n\r\n", pkgs, id, 1<<30)
	if _, err := c.Write(bytes.Repeat([]byte("PK"), sent/2)); err != nil {
		t.Fatal(err)
	}
	return c
}

// waitFor polls cond until it holds, failing after a minute (a bound
// for a broken server, not a timing the test asserts).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still not the case after a minute: %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *server) stateIs(t *testing.T, id, state string) func() bool {
	return func() bool { return s.info(t, id)["onboardingState"] == state }
}

// tempFiles lists the blob store's uncommitted files.
func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(dir, "blobs", "tmp"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// TestKilledUploadReturnsToCreated: kill -9 while a PUT streams in leaves
// the package UPLOADING; once the upload's lease expires the package is
// CREATED again (with failure details), its temp file is gone and a new
// upload works: after a restart, and on a second replica that keeps
// running.
func TestKilledUploadReturnsToCreated(t *testing.T) {
	pkg := testPkg{vnfdID: newVnfdID(70)}.build(t)
	fast := []string{"--upload-lease", "2s", "--sweep-interval", "1s"}
	check := func(t *testing.T, s *server, dir, id string) {
		waitFor(t, "the package of the killed upload is CREATED", s.stateIs(t, id, "CREATED"))
		info := s.info(t, id)
		pd, _ := info["onboardingFailureDetails"].(map[string]any)
		if pd == nil || !strings.Contains(fmt.Sprint(pd["detail"]), "interrupted") {
			t.Fatalf("failure details should say the upload was interrupted: %v", info["onboardingFailureDetails"])
		}
		if left := tempFiles(t, dir); len(left) != 0 {
			t.Fatalf("temp files of the killed upload left: %v", left)
		}
		s.uploadBytes(t, id, pkg.zip, "application/zip")
		s.mustOnboard(t, id)
	}
	startStalled := func(t *testing.T, s *server, dir string) string {
		id := s.createPackage(t)
		stalledUpload(t, s, id, 64<<10)
		waitFor(t, "the upload is UPLOADING", s.stateIs(t, id, "UPLOADING"))
		waitFor(t, "the upload has a temp file", func() bool { return len(tempFiles(t, dir)) == 1 })
		return id
	}
	t.Run("restart", func(t *testing.T) {
		dir := t.TempDir()
		s := startServer(t, dir, fast...)
		id := startStalled(t, s, dir)
		s.kill()
		s2 := startServer(t, dir, fast...)
		check(t, s2, dir, id)
	})
	t.Run("second replica", func(t *testing.T) {
		dir := t.TempDir()
		a := startServer(t, dir, fast...)
		b := startServer(t, dir, fast...)
		id := startStalled(t, a, dir)
		a.kill()
		check(t, b, dir, id)
	})
}

// procFDs counts the open descriptors of process pid whose target
// (socket:[...], a path) match says to count.
func procFDs(t *testing.T, pid int, match func(target string) bool) int {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Skipf("cannot read the descriptors of the server: %v", err)
	}
	n := 0
	for _, e := range ents {
		if target, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, e.Name())); err == nil && match(target) {
			n++
		}
	}
	return n
}

// TestStalledUploadIsCut: uploads whose clients stop sending are cut after
// the idle timeout: the packages are CREATED again, the temp files gone,
// the connections and files closed.
func TestStalledUploadIsCut(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir, "--upload-idle-timeout", "1s")
	pid := s.cmd.Process.Pid
	ids := make([]string, 20)
	for i := range ids {
		ids[i] = s.createPackage(t)
	}
	// Connections and temp files (database connections come and go with the pool).
	uploadFD := func(target string) bool {
		return strings.HasPrefix(target, "socket:") || strings.Contains(target, filepath.Join("blobs", "tmp"))
	}
	before := procFDs(t, pid, uploadFD)
	for _, id := range ids {
		stalledUpload(t, s, id, 4096)
	}
	for _, id := range ids {
		waitFor(t, "the stalled upload of "+id+" is cut", s.stateIs(t, id, "CREATED"))
	}
	waitFor(t, "the temp files of stalled uploads are removed", func() bool { return len(tempFiles(t, dir)) == 0 })
	// The clients still hold their ends open: the server must have closed its own.
	waitFor(t, "the connections and temp files of stalled uploads are closed", func() bool { return procFDs(t, pid, uploadFD) <= before })
	pkg := testPkg{vnfdID: newVnfdID(71)}.build(t)
	s.uploadBytes(t, ids[0], pkg.zip, "application/zip")
	s.mustOnboard(t, ids[0])
}

// TestRefusedUploadAnsweredAtOnce: an upload refused before its body is
// read (here 409, the package is ONBOARDED; the same path answers a busy
// database) reaches a client that has stalled, and the server closes the
// connection. Before, net/http first tried to read 256 KiB more of the
// body, with no deadline: the answer never came and the connection stayed.
func TestRefusedUploadAnsweredAtOnce(t *testing.T) {
	s := startServer(t, "")
	id := s.createPackage(t)
	s.uploadBytes(t, id, testPkg{vnfdID: newVnfdID(73)}.build(t).zip, "application/zip")
	s.mustOnboard(t, id)
	c := stalledUpload(t, s, id, 4096)
	c.SetReadDeadline(time.Now().Add(time.Minute)) // a bound for a broken server
	answer, err := io.ReadAll(c)
	if err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("no answer to a refused upload, and the connection not closed: %v (got %q)", err, answer)
	}
	if !bytes.HasPrefix(answer, []byte("HTTP/1.1 409 ")) || !bytes.Contains(answer, []byte("Connection: close")) {
		t.Fatalf("answer to an upload of an onboarded package: %q", answer)
	}
}

// silentOrigin accepts connections and never answers.
func silentOrigin(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	return "http://" + ln.Addr().String()
}

// TestFetchesDoNotBlockOnboarding: fetches hanging on an origin that never
// answers (as many as there are onboarding workers) do not hold up the
// onboarding of an uploaded package.
func TestFetchesDoNotBlockOnboarding(t *testing.T) {
	s := startServer(t, "", "--workers", "2", "--fetch-timeout", "30m", "--fetch-header-timeout", "30m")
	origin := silentOrigin(t)
	var hanging []string
	for i := 0; i < 2; i++ {
		id := s.createPackage(t)
		expectStatus(t, s.fetch(t, id, fetchBody(fmt.Sprintf("%s/p%d.zip", origin, i), "", "")), 202)
		hanging = append(hanging, id)
	}
	pkg := testPkg{vnfdID: newVnfdID(72)}.build(t)
	id := s.createPackage(t)
	s.uploadBytes(t, id, pkg.zip, "application/zip")
	s.mustOnboard(t, id)
	for _, h := range hanging {
		if st := s.info(t, h)["onboardingState"]; st != "UPLOADING" {
			t.Fatalf("the fetch from the silent origin should still hang, its package is %v", st)
		}
	}
}

// rawFiles is the content of the database and its WAL.
func rawFiles(t *testing.T, dir string) []byte {
	t.Helper()
	var all []byte
	for _, name := range []string{"vnfpkgm.db", "vnfpkgm.db-wal"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}

// gatedOrigin serves pkg at /p.zip to basic auth user:password, sending
// half of it and then waiting until release is closed.
func gatedOrigin(t *testing.T, pkg []byte, user, password string) (*httptest.Server, chan struct{}) {
	release := make(chan struct{})
	o := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u != user || p != password {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(pkg)))
		w.Write(pkg[:len(pkg)/2])
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		w.Write(pkg[len(pkg)/2:])
	}))
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
		o.CloseClientConnections()
		o.Close()
	})
	return o, release
}

// TestFetchSecretsNotStored: the credentials of upload_from_uri (userName,
// password, and those in the URL) never reach the database file or its
// WAL, during the fetch, after it, or after kill -9 mid-fetch; a fetch
// resumed without them fails cleanly; the data files are owner-only.
func TestFetchSecretsNotStored(t *testing.T) {
	const password, urlPassword, querySig = "pw-body-7f3a9c", "pw-url-5e2b81", "sig-query-4c1d9e"
	pkg := testPkg{vnfdID: newVnfdID(73)}.build(t)
	dir := t.TempDir()
	s := startServer(t, dir)
	o, release := gatedOrigin(t, pkg.zip, "operator", password)
	noSecrets := func(when string) {
		t.Helper()
		raw := rawFiles(t, dir)
		for _, secret := range []string{password, urlPassword, querySig} {
			if bytes.Contains(raw, []byte(secret)) {
				t.Fatalf("%s: the secret %q is in the database files", when, secret)
			}
		}
	}
	id := s.createPackage(t)
	// A presigned URL's signature is a credential too.
	expectStatus(t, s.fetch(t, id, fetchBody(o.URL+"/p.zip?X-Amz-Signature="+querySig, "operator", password)), 202)
	waitFor(t, "the fetch has a temp file", func() bool { return len(tempFiles(t, dir)) == 1 })
	noSecrets("during the fetch")
	close(release)
	s.mustOnboard(t, id)
	noSecrets("after the fetch")

	// Credentials in the URL, and a kill -9 mid-fetch.
	o2, _ := gatedOrigin(t, pkg.zip, "operator", urlPassword)
	id2 := s.createPackage(t)
	withUser := strings.Replace(o2.URL, "http://", "http://operator:"+urlPassword+"@", 1) + "/p.zip"
	expectStatus(t, s.fetch(t, id2, fetchBody(withUser, "", "")), 202)
	waitFor(t, "the second fetch has a temp file", func() bool { return len(tempFiles(t, dir)) == 1 })
	noSecrets("during the fetch with a URL password")
	s.kill()
	noSecrets("after kill -9")

	// The restarted server resumes the fetch without its credentials: it
	// fails cleanly, the package is CREATED and can be fetched again.
	s2 := startServer(t, dir)
	waitFor(t, "the resumed fetch ends", s2.stateIs(t, id2, "CREATED"))
	expectFetchFailed(t, s2.info(t, id2), "credentials were lost")
	noSecrets("after the resumed fetch")

	for name, want := range map[string]os.FileMode{
		"vnfpkgm.db": 0o600, "vnfpkgm.db-wal": 0o600, "vnfpkgm.db-shm": 0o600,
		"blobs": 0o700, "blobs/tmp": 0o700, "blobs/objects": 0o700,
	} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s has mode %v, want %v", name, fi.Mode().Perm(), want)
		}
	}
	filepath.Walk(filepath.Join(dir, "blobs"), func(path string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() && fi.Mode().Perm() != 0o600 {
			t.Errorf("blob %s has mode %v, want 0600", path, fi.Mode().Perm())
		}
		if err == nil && fi.IsDir() && fi.Mode().Perm() != 0o700 {
			t.Errorf("blob directory %s has mode %v, want 0700", path, fi.Mode().Perm())
		}
		return nil
	})
}

// TestFetchEgressPolicy: upload_from_uri does not reach denied addresses
// (metadata, the server itself, loopback when denied), also through a
// redirect, and answers one detail whether the address was denied,
// refused or silent.
func TestFetchEgressPolicy(t *testing.T) {
	o := newOrigin(t)
	pkg := testPkg{vnfdID: newVnfdID(74)}.build(t)
	o.files["/p.zip"] = pkg.zip
	s := startServer(t, "", "--fetch-connect-timeout", "2s", "--fetch-header-timeout", "2s")
	failure := func(s *server, addr string) (string, any) {
		t.Helper()
		id := s.createPackage(t)
		expectStatus(t, s.fetch(t, id, fetchBody(addr, "", "")), 202)
		info := s.waitState(t, id)
		expectFetchFailed(t, info, "could not be fetched")
		pd := info["onboardingFailureDetails"].(map[string]any)
		return strings.Replace(fmt.Sprint(pd["detail"]), addr, "ADDR", 1), pd["status"]
	}
	own := s.base + "/vnfpkgm/v1/api_versions"
	want, wantStatus := failure(s, "http://169.254.169.254/latest/meta-data/")
	for _, addr := range []string{
		own,                                // the server's own API
		"http://" + freePort(t) + "/p.zip", // connection refused
		silentOrigin(t) + "/p.zip",         // no answer
	} {
		if got, status := failure(s, addr); got != want || status != wantStatus {
			t.Errorf("%s: detail %q (%v), want the same as for a denied address: %q (%v)", addr, got, status, want, wantStatus)
		}
	}
	// A redirect from an allowed origin to a denied address.
	redirector := httptest.NewServer(http.RedirectHandler(own, http.StatusFound))
	defer redirector.Close()
	if got, _ := failure(s, redirector.URL+"/p.zip"); got != want {
		t.Errorf("redirect to the server itself: detail %q", got)
	}
	// Loopback is allowed by default (the origin is on 127.0.0.1) ...
	id := s.createPackage(t)
	expectStatus(t, s.fetch(t, id, fetchBody(o.URL+"/p.zip", "", "")), 202)
	s.mustOnboard(t, id)
	// ... and denied when configured.
	strict := startServer(t, "", "--egress-deny", "loopback")
	if got, _ := failure(strict, o.URL+"/p.zip"); got != want {
		t.Errorf("loopback denied: detail %q", got)
	}
	if o.hitCount("/p.zip") != 1 {
		t.Errorf("the origin was reached %d times, want once (the allowed fetch)", o.hitCount("/p.zip"))
	}
}

// TestDiskFullTmpfs runs the server on a small tmpfs (root only: mount)
// and fills it: an upload answers 507 without paths, /healthz is 503 until
// space is freed, then uploads work again. TestUploadDiskFull in package
// vnfpkgm covers the same without privileges, at the blob layer.
func TestDiskFullTmpfs(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root; TestUploadDiskFull (package vnfpkgm) covers ENOSPC without it")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	s := startServer(t, dir)
	id := s.createPackage(t)
	// Fill the filesystem, then free 512 KiB: less than the upload and the probe.
	filler := filepath.Join(dir, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 64<<10)
	var size int64
	for {
		n, err := f.Write(chunk)
		size += int64(n)
		if err != nil {
			break
		}
	}
	if err := f.Truncate(size - 512<<10); err != nil {
		t.Fatal(err)
	}
	f.Close()
	r := s.do("PUT", pkgs+"/"+id+"/package_content", bytes.NewReader(make([]byte, 4<<20)), "Content-Type", "application/zip")
	expectStatus(t, r, http.StatusInsufficientStorage)
	if strings.Contains(string(r.body), dir) || strings.Contains(string(r.body), "tmp/") {
		t.Fatalf("the 507 reveals a path: %s", r.body)
	}
	if r := s.do("GET", "/healthz", nil); r.status != http.StatusServiceUnavailable {
		t.Fatalf("healthz on a full disk: %d %s", r.status, r.body)
	}
	if st := s.info(t, id)["onboardingState"]; st != "CREATED" {
		t.Fatalf("after the failed upload: %v", st)
	}
	os.Remove(filler)
	if r := s.do("GET", "/healthz", nil); r.status != http.StatusOK {
		t.Fatalf("healthz once space is freed: %d %s", r.status, r.body)
	}
	pkg := testPkg{vnfdID: newVnfdID(75)}.build(t)
	s.uploadBytes(t, id, pkg.zip, "application/zip")
	s.mustOnboard(t, id)
}
