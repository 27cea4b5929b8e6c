package main

// The harness of the tests that drive the CLI against the real server: the
// vnfpkgmd binary is built once (on first use), each test starts its own
// instance on a free port of 127.0.0.1 over a fresh data directory, and the
// CLI runs in-process through run().

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	buildDir   string
	serverBin  string
	buildOnce  sync.Once
	buildError error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "vnfpkgm-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	buildDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// serverBinary builds ../vnfpkgmd once.
func serverBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		serverBin = filepath.Join(buildDir, "vnfpkgmd")
		out, err := exec.Command("go", "build", "-o", serverBin, "../vnfpkgmd").CombinedOutput()
		if err != nil {
			buildError = fmt.Errorf("building vnfpkgmd: %v\n%s", err, out)
		}
	})
	if buildError != nil {
		t.Fatal(buildError)
	}
	return serverBin
}

// testServer is a running vnfpkgmd.
type testServer struct {
	base string // http://127.0.0.1:PORT
	log  *syncBuffer
	dir  string // the data directory
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startServer(t *testing.T) *testServer {
	t.Helper()
	bin := serverBinary(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	s := &testServer{base: "http://" + addr, log: &syncBuffer{}, dir: t.TempDir()}
	cmd := exec.Command(bin, "--listen", addr, "--data-dir", s.dir)
	cmd.Stdout, cmd.Stderr = s.log, s.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(s.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		select {
		case <-done:
			t.Fatalf("vnfpkgmd exited:\n%s", s.log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("vnfpkgmd did not become healthy: %v\n%s", err, s.log)
		}
		time.Sleep(30 * time.Millisecond)
	}
}

// result is one CLI run.
type cliResult struct {
	code           int
	stdout, stderr string
}

func (r cliResult) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// cli runs the CLI against endpoint.
func cliAt(t *testing.T, endpoint string, args ...string) cliResult {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), append([]string{"--endpoint", endpoint}, args...), &out, &errOut)
	r := cliResult{code, out.String(), errOut.String()}
	// Whatever happens, never a Go stack trace or panic text.
	if strings.Contains(r.stderr, "goroutine ") || strings.Contains(r.stderr, "panic") {
		t.Fatalf("the CLI printed a stack trace:\n%s", r)
	}
	return r
}

func (s *testServer) cli(t *testing.T, args ...string) cliResult {
	t.Helper()
	return cliAt(t, s.base, args...)
}

// mustCLI runs the CLI and fails the test unless it exits 0.
func (s *testServer) mustCLI(t *testing.T, args ...string) cliResult {
	t.Helper()
	r := s.cli(t, args...)
	if r.code != 0 {
		t.Fatalf("vnfpkgm %s: %s\nserver log:\n%s", strings.Join(args, " "), r, s.log)
	}
	return r
}

// The tests check the CLI against the API itself, called directly.

func (s *testServer) api(t *testing.T, method, path string, body io.Reader, headers ...string) (int, http.Header, []byte) {
	t.Helper()
	url := path
	if !strings.HasPrefix(path, "http") {
		url = s.base + "/vnfpkgm/v1" + path
	}
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

func (s *testServer) apiJSON(t *testing.T, path string, v any) http.Header {
	t.Helper()
	status, h, b := s.api(t, http.MethodGet, path, nil)
	if status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, status, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return h
}

// apiCreate creates a package with user defined data.
func (s *testServer) apiCreate(t *testing.T, userData map[string]string) string {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"userDefinedData": userData})
	status, _, body := s.api(t, http.MethodPost, "/vnf_packages", bytes.NewReader(b), "Content-Type", "application/json")
	if status != http.StatusCreated {
		t.Fatalf("create: %d %s", status, body)
	}
	var info struct{ ID string }
	json.Unmarshal(body, &info)
	return info.ID
}

// apiOnboard uploads a file and waits for the end of onboarding; it
// returns the final state.
func (s *testServer) apiOnboard(t *testing.T, id, file string) string {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	status, _, body := s.api(t, http.MethodPut, "/vnf_packages/"+id+"/package_content", f, "Content-Type", "application/zip")
	if status != http.StatusAccepted {
		t.Fatalf("upload: %d %s", status, body)
	}
	return s.apiWait(t, id)
}

func (s *testServer) apiWait(t *testing.T, id string) string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var info struct{ OnboardingState string }
		s.apiJSON(t, "/vnf_packages/"+id, &info)
		if st := info.OnboardingState; st != "UPLOADING" && st != "PROCESSING" {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("package %s still %s", id, info.OnboardingState)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// apiListAll GETs a list with rawQuery and follows every next link.
func (s *testServer) apiListAll(t *testing.T, rawQuery string) (recs []map[string]any, pages int) {
	t.Helper()
	next := s.base + "/vnfpkgm/v1/vnf_packages"
	if rawQuery != "" {
		next += "?" + rawQuery
	}
	for next != "" {
		var page []map[string]any
		h := s.apiJSON(t, next, &page)
		recs = append(recs, page...)
		pages++
		next = ""
		// Parsed here, independently of the CLI's own Link parser.
		if m := nextRE.FindStringSubmatch(h.Get("Link")); m != nil {
			next = m[1]
			if strings.HasPrefix(next, "/") {
				next = s.base + next
			}
		}
	}
	return recs, pages
}

var nextRE = regexp.MustCompile(`<([^>]*)>\s*;\s*rel="?next"?`)
