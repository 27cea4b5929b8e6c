package main_test

// Black-box benchmarks of the real vnfpkgmd binary (built by TestMain in
// blackbox_test.go), run by `make bench`. Each is meaningful at b.N = 1:
// run them one at a time with
//
//	go test -run '^$' -bench <Name> -benchtime 1x ./cmd/vnfpkgmd/
//
// Multi-GiB files go under $VNFPKGM_BENCHDIR when it is set (else the test
// temp dir) and are removed afterwards. Nothing here asserts a timing: the
// figures are reported with b.ReportMetric, with the server's CPU time and
// peak RSS (from /proc) beside them: wall times on a shared 2-core machine
// are noisy, CPU time less so (it leaves out waiting for a CPU, though
// contention still inflates it) and memory hardly at all.

import (
	"archive/zip"
	"bufio"
	"context"
	"crypto/sha512"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/vnfpkgm/vnfpkgm/internal/testenv"
	"github.com/vnfpkgm/vnfpkgm/storage"
	"github.com/vnfpkgm/vnfpkgm/vnfpkgm"
)

// benchDir is a directory for big files: under $VNFPKGM_BENCHDIR if set,
// else the benchmark's temp dir; removed when the benchmark ends.
func benchDir(b *testing.B) string {
	b.Helper()
	root := os.Getenv("VNFPKGM_BENCHDIR")
	if root == "" {
		return b.TempDir()
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		b.Fatal(err)
	}
	dir, err := os.MkdirTemp(root, "vnfpkgmd-bench-")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// benchServer is a vnfpkgmd child process for benchmarks. Unlike server
// (blackbox_test.go) it works with a *testing.B, logs to a file rather than
// a buffer (nothing grows in the benchmark's memory; no copying goroutine)
// and has a client that keeps enough idle connections for concurrent
// clients.
type benchServer struct {
	tb      testing.TB
	base    string
	dir     string
	cmd     *exec.Cmd
	logPath string
	client  *http.Client
}

func startBenchServer(tb testing.TB, dir string, extra ...string) *benchServer {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	logf, err := os.CreateTemp("", "vnfpkgmd-bench-log-")
	if err != nil {
		tb.Fatal(err)
	}
	s := &benchServer{tb: tb, base: "http://" + addr, dir: dir, logPath: logf.Name(),
		client: &http.Client{Transport: &http.Transport{
			MaxIdleConns:        128,
			MaxIdleConnsPerHost: 64,
			DisableCompression:  true,
		}}}
	s.cmd = exec.Command(binary, append([]string{"--listen", addr, "--data-dir", dir}, extra...)...)
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	err = s.cmd.Start()
	logf.Close()
	if err != nil {
		os.Remove(s.logPath)
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		s.stop()
		s.client.CloseIdleConnections()
		os.Remove(s.logPath)
	})
	deadline := time.Now().Add(2 * time.Minute) // start-up reconciles every row
	for {
		resp, err := s.client.Get(s.base + "/healthz")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s
			}
		}
		if s.exited() || time.Now().After(deadline) {
			tb.Fatalf("vnfpkgmd did not become healthy: %v\n%s", err, s.logTail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *benchServer) exited() bool {
	_, err := os.Stat(fmt.Sprintf("/proc/%d", s.cmd.Process.Pid))
	return err != nil || procState(s.cmd.Process.Pid) == "Z"
}

func (s *benchServer) stop() {
	if s.cmd.ProcessState != nil {
		return
	}
	s.cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
}

// logTail is the end of the server's log, for failure messages.
func (s *benchServer) logTail() string {
	b, _ := os.ReadFile(s.logPath)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// call sends a request and reads the whole answer; any transport error is
// fatal.
func (s *benchServer) call(method, path string, body io.Reader, headers ...string) response {
	s.tb.Helper()
	req, err := http.NewRequest(method, s.base+path, body)
	if err != nil {
		s.tb.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := s.client.Do(req)
	if err != nil {
		s.tb.Fatalf("%s %s: %v\n%s", method, path, err, s.logTail())
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.tb.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, b}
}

func (s *benchServer) expect(r response, status int, what string) {
	s.tb.Helper()
	if r.status != status {
		s.tb.Fatalf("%s: status %d, want %d: %.2000s\n%s", what, r.status, status, r.body, s.logTail())
	}
}

func (s *benchServer) create() string {
	s.tb.Helper()
	r := s.call("POST", pkgs, strings.NewReader(`{"userDefinedData":{"owner":"bench"}}`), "Content-Type", "application/json")
	s.expect(r, 201, "create")
	var info struct{ ID string }
	if err := json.Unmarshal(r.body, &info); err != nil || info.ID == "" {
		s.tb.Fatalf("create: %v: %s", err, r.body)
	}
	return info.ID
}

// put uploads file as the package content (with its Content-Length, as a
// real client sends it) and returns how long the PUT took.
func (s *benchServer) put(id, file string) time.Duration {
	s.tb.Helper()
	f, err := os.Open(file)
	if err != nil {
		s.tb.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		s.tb.Fatal(err)
	}
	req, err := http.NewRequest("PUT", s.base+pkgs+"/"+id+"/package_content", f)
	if err != nil {
		s.tb.Fatal(err)
	}
	req.ContentLength = st.Size()
	req.Header.Set("Content-Type", "application/zip")
	start := time.Now()
	resp, err := s.client.Do(req)
	if err != nil {
		s.tb.Fatalf("upload: %v\n%s", err, s.logTail())
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	d := time.Since(start)
	if resp.StatusCode != 202 {
		s.tb.Fatalf("upload: status %d: %s\n%s", resp.StatusCode, body, s.logTail())
	}
	return d
}

// awaitOnboarded polls the package every 20 ms until it leaves UPLOADING
// and PROCESSING; anything but ONBOARDED is fatal.
func (s *benchServer) awaitOnboarded(id string) {
	s.tb.Helper()
	deadline := time.Now().Add(15 * time.Minute)
	for {
		r := s.call("GET", pkgs+"/"+id, nil)
		s.expect(r, 200, "poll")
		var info struct {
			OnboardingState          string          `json:"onboardingState"`
			OnboardingFailureDetails json.RawMessage `json:"onboardingFailureDetails"`
		}
		if err := json.Unmarshal(r.body, &info); err != nil {
			s.tb.Fatal(err)
		}
		switch info.OnboardingState {
		case "ONBOARDED":
			return
		case "UPLOADING", "PROCESSING":
		default:
			s.tb.Fatalf("package %s ended %s: %s", id, info.OnboardingState, info.OnboardingFailureDetails)
		}
		if time.Now().After(deadline) {
			s.tb.Fatalf("package %s still %s\n%s", id, info.OnboardingState, s.logTail())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// remove disables and deletes an onboarded package (freeing its vnfdId and
// its blob).
func (s *benchServer) remove(id string) {
	s.tb.Helper()
	s.expect(s.call("PATCH", pkgs+"/"+id, strings.NewReader(`{"operationalState":"DISABLED"}`), "Content-Type", "application/json"), 200, "disable")
	s.expect(s.call("DELETE", pkgs+"/"+id, nil), 204, "delete")
}

// procStatusMiB reads a "Vm..." line (in kB) of /proc/<pid>/status, in MiB.
func procStatusMiB(tb testing.TB, pid int, field string) float64 {
	tb.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		tb.Fatalf("reading the server's memory: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || name != field {
			continue
		}
		kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
		if err != nil {
			tb.Fatalf("/proc/%d/status %s: %v", pid, field, err)
		}
		return kb / 1024
	}
	tb.Fatalf("/proc/%d/status has no %s", pid, field)
	return 0
}

// procStat returns the fields of /proc/<pid>/stat after the command name
// (fields[0] is field 3, the state).
func procStat(pid int) []string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(string(b[i+1:]))
}

func procState(pid int) string {
	if f := procStat(pid); len(f) > 0 {
		return f[0]
	}
	return ""
}

// procCPU is the user+system CPU time the process has used (utime and
// stime, fields 14 and 15, in clock ticks of 1/100 s on Linux).
func procCPU(pid int) time.Duration {
	u, s := procCPUSplit(pid)
	return u + s
}

// procCPUSplit is the user and the system CPU time of process pid.
func procCPUSplit(pid int) (user, system time.Duration) {
	f := procStat(pid)
	if len(f) < 13 {
		return 0, 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u) * 10 * time.Millisecond, time.Duration(s) * 10 * time.Millisecond
}

// selfCPU is the CPU time (user and system) this process has used: the
// benchmark's clients.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// writeRandomPackage writes a valid CSAR with one stored image of size
// pseudo-random bytes (ChaCha8 of seed: incompressible, like a real
// qcow2), listed in the manifest with SHA-512, and the VNFD of
// writeBigPackage with vnfdID as its descriptor_id. The image comes
// first, so nothing says how to digest it while it is uploaded.
func writeRandomPackage(tb testing.TB, name string, size int64, seed byte, vnfdID string) {
	writeRandomPackageLaid(tb, name, size, seed, vnfdID, false)
}

// writeRandomPackageLaid is writeRandomPackage with TOSCA.meta, the
// manifest and the VNFD before the image when metadataFirst, as a
// packager that wants one-pass onboarding lays them out.
func writeRandomPackageLaid(tb testing.TB, name string, size int64, seed byte, vnfdID string, metadataFirst bool) {
	tb.Helper()
	out, err := os.Create(name)
	if err != nil {
		tb.Fatal(err)
	}
	defer out.Close()
	bw := bufio.NewWriterSize(out, 1<<20)
	zw := zip.NewWriter(bw)
	// writeImage writes the image to w (nil: only hashes it) and returns
	// its SHA-512.
	writeImage := func(w io.Writer) []byte {
		rng := rand.NewChaCha8([32]byte{seed})
		buf := make([]byte, 1<<20)
		h := sha512.New()
		for n := int64(0); n < size; {
			chunk := buf[:min(int64(len(buf)), size-n)]
			rng.Read(chunk)
			if w != nil {
				if _, err := w.Write(chunk); err != nil {
					tb.Fatal(err)
				}
			}
			h.Write(chunk)
			n += int64(len(chunk))
		}
		return h.Sum(nil)
	}
	var sum []byte
	image := func() {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: "Files/images/big.img", Method: zip.Store})
		if err != nil {
			tb.Fatal(err)
		}
		sum = writeImage(w)
	}
	if metadataFirst {
		sum = writeImage(nil)
	} else {
		image()
	}
	meta, _ := zw.Create("TOSCA-Metadata/TOSCA.meta")
	io.WriteString(meta, "TOSCA-Meta-File-Version: 1.0\nCSAR-Version: 1.1\nCreated-By: bench\nEntry-Definitions: Definitions/vnfd.yaml\nETSI-Entry-Manifest: manifest.mf\n")
	mf, _ := zw.Create("manifest.mf")
	fmt.Fprintf(mf, "Source: Files/images/big.img\nAlgorithm: SHA-512\nHash: %x\n", sum)
	vnfd, _ := zw.Create("Definitions/vnfd.yaml")
	io.WriteString(vnfd, strings.Replace(bigVNFD, "0c4b2b4e-big0-4000-8000-000000000001", vnfdID, 1))
	if metadataFirst {
		image()
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	if err := bw.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := out.Close(); err != nil {
		tb.Fatal(err)
	}
}

// warmCache reads file once so that it is in the page cache.
func warmCache(tb testing.TB, file string) {
	tb.Helper()
	f, err := os.Open(file)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	for {
		_, err := f.Read(buf)
		if err == io.EOF {
			return
		}
		if err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchmarkUploadOnboard1GiB uploads a package holding a 1 GiB stored,
// incompressible image listed in the manifest with SHA-512 and times it
// from the start of the PUT until the package is ONBOARDED (polled every
// 20 ms), against `sha512sum` of the same file (both from the page cache).
// Two layouts: image-first (the image streams in before the manifest, so
// the upload can only speculate, with SHA-256, and onboarding reads the
// image back for its SHA-512) and metadata-first (TOSCA.meta, manifest
// and VNFD first: the upload computes the SHA-512 and onboarding reads
// no image byte). The aims: ratio-to-sha512sum <= 1.25, cpu-ratio <= 1.5
// and server-peak-RSS-MiB < 64 with metadata first.
//
// Metrics: upload+onboard-s (of which upload-s is the PUT until its 202),
// sha512sum-s, ratio-to-sha512sum (wall); the CPU time of the server over
// the upload and onboarding (utime+stime from /proc/PID/stat), and of
// sha512sum (its rusage): server-cpu-s (server-sys-s of it in the
// kernel), sha512sum-cpu-s, cpu-ratio (less
// sensitive to the machine's other load than wall time);
// server-peak-RSS-MiB is VmHWM of the vnfpkgmd process.
func BenchmarkUploadOnboard1GiB(b *testing.B) {
	b.Run("image-first", func(b *testing.B) { benchUploadOnboard(b, false) })
	b.Run("metadata-first", func(b *testing.B) { benchUploadOnboard(b, true) })
}

func benchUploadOnboard(b *testing.B, metadataFirst bool) {
	sha512sum := testenv.Command(b, "sha512sum", "coreutils")
	const size = 1 << 30
	dir := benchDir(b)
	pkg := filepath.Join(dir, "big-sha512.zip")
	writeRandomPackageLaid(b, pkg, size, 1, "0c4b2b4e-b512-4000-8000-000000000001", metadataFirst)
	s := startBenchServer(b, filepath.Join(dir, "data"))
	pid := s.cmd.Process.Pid
	warmCache(b, pkg)

	var total, upload, ref, serverCPU, serverSys, refCPU time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// The reference first, so that it does not run beside the
		// write-back of the blob the upload leaves dirty.
		b.StopTimer()
		warmCache(b, pkg)
		cmd := exec.Command(sha512sum, pkg)
		t0 := time.Now()
		out, err := cmd.Output()
		ref += time.Since(t0)
		if err != nil {
			b.Fatalf("sha512sum: %v", err)
		}
		if len(out) < 128 {
			b.Fatalf("sha512sum printed %q", out)
		}
		refCPU += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		id := s.create()
		b.StartTimer()

		user0, sys0 := procCPUSplit(pid)
		start := time.Now()
		upload += s.put(id, pkg)
		s.awaitOnboarded(id)
		total += time.Since(start)
		user1, sys1 := procCPUSplit(pid)
		serverCPU += user1 + sys1 - user0 - sys0
		serverSys += sys1 - sys0

		b.StopTimer()
		s.remove(id)
		b.StartTimer()
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(total.Seconds()/n, "upload+onboard-s")
	b.ReportMetric(upload.Seconds()/n, "upload-s")
	b.ReportMetric(ref.Seconds()/n, "sha512sum-s")
	b.ReportMetric(total.Seconds()/ref.Seconds(), "ratio-to-sha512sum")
	b.ReportMetric(serverCPU.Seconds()/n, "server-cpu-s")
	b.ReportMetric(serverSys.Seconds()/n, "server-sys-s")
	b.ReportMetric(refCPU.Seconds()/n, "sha512sum-cpu-s")
	if refCPU > 0 {
		b.ReportMetric(serverCPU.Seconds()/refCPU.Seconds(), "cpu-ratio")
	}
	b.ReportMetric(procStatusMiB(b, pid, "VmHWM"), "server-peak-RSS-MiB")
}

// drain reads r to its end through buf, returning the byte count.
func drain(r io.Reader, buf []byte) (int64, error) {
	var n int64
	for {
		k, err := r.Read(buf)
		n += int64(k)
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// BenchmarkRangedGets16Clients onboards a package with a 256 MiB image,
// then has 16 concurrent clients each fetch the whole package_content as
// consecutive 8 MiB Range requests, against 16 concurrent plain full
// downloads. Each op runs the two kinds of phase twice, ranged first and
// last (ABBA), 16 x ~256 MiB per phase. Metrics: ranged-MB/s and full-MB/s
// (bytes received by all clients over the wall time of the phases, MB =
// 10^6 bytes), ratio (ranged/full), the server's CPU time per GB served in
// each kind of phase and the clients' (this process's) per GB received:
// on 2 cores the server and the clients compete for the CPU.
func BenchmarkRangedGets16Clients(b *testing.B) {
	const (
		imageSize = 256 << 20
		clients   = 16
		rangeSize = 8 << 20
	)
	dir := benchDir(b)
	pkg := filepath.Join(dir, "ranged.zip")
	writeRandomPackage(b, pkg, imageSize, 2, "0c4b2b4e-b256-4000-8000-000000000002")
	st, err := os.Stat(pkg)
	if err != nil {
		b.Fatal(err)
	}
	size := st.Size()
	s := startBenchServer(b, filepath.Join(dir, "data"))
	pid := s.cmd.Process.Pid
	id := s.create()
	s.put(id, pkg)
	s.awaitOnboarded(id)
	os.Remove(pkg) // the server has its own copy
	url := s.base + pkgs + "/" + id + "/package_content"

	get := func(buf []byte, rng string) (int64, error) {
		req, err := http.NewRequest("GET", url, nil)
		if err != nil {
			return 0, err
		}
		want, wantLen := 200, size
		if rng != "" {
			req.Header.Set("Range", rng)
			want = 206
		}
		resp, err := s.client.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		n, err := drain(resp.Body, buf)
		if err != nil {
			return n, err
		}
		if rng != "" {
			var first, last, total int64
			if _, err := fmt.Sscanf(resp.Header.Get("Content-Range"), "bytes %d-%d/%d", &first, &last, &total); err != nil || total != size {
				return n, fmt.Errorf("%s: Content-Range %q", rng, resp.Header.Get("Content-Range"))
			}
			wantLen = last - first + 1
		}
		if resp.StatusCode != want || n != wantLen {
			return n, fmt.Errorf("GET Range %q: status %d, %d bytes; want %d, %d bytes", rng, resp.StatusCode, n, want, wantLen)
		}
		return n, nil
	}
	// phase runs the 16 clients, each calling fetch once, and returns the
	// bytes received, the wall time and the server CPU time used.
	phase := func(fetch func(buf []byte) (int64, error)) (int64, time.Duration, time.Duration) {
		var wg sync.WaitGroup
		var mu sync.Mutex
		var bytes int64
		var firstErr error
		cpu0 := procCPU(pid)
		start := time.Now()
		for range clients {
			wg.Go(func() {
				buf := make([]byte, 256<<10)
				n, err := fetch(buf)
				mu.Lock()
				bytes += n
				if err != nil && firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			})
		}
		wg.Wait()
		d := time.Since(start)
		cpu := procCPU(pid) - cpu0
		if firstErr != nil {
			b.Fatalf("%v\n%s", firstErr, s.logTail())
		}
		return bytes, d, cpu
	}
	ranged := func(buf []byte) (int64, error) {
		var n int64
		for off := int64(0); off < size; off += rangeSize {
			k, err := get(buf, fmt.Sprintf("bytes=%d-%d", off, min(off+rangeSize, size)-1))
			n += k
			if err != nil {
				return n, err
			}
		}
		return n, nil
	}
	full := func(buf []byte) (int64, error) { return get(buf, "") }

	// Warm the blob into the page cache and open the connections.
	phase(full)

	var rBytes, fBytes int64
	var rTime, fTime, rCPU, fCPU time.Duration
	client0 := selfCPU()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// ABBA: a drift of the machine's other load over the op weighs
		// on both kinds alike.
		for _, isRanged := range []bool{true, false, false, true} {
			if isRanged {
				n, d, c := phase(ranged)
				rBytes, rTime, rCPU = rBytes+n, rTime+d, rCPU+c
			} else {
				n, d, c := phase(full)
				fBytes, fTime, fCPU = fBytes+n, fTime+d, fCPU+c
			}
		}
	}
	b.StopTimer()
	clientCPU := selfCPU() - client0
	if want := int64(b.N) * 2 * clients * size; rBytes != want || fBytes != want {
		b.Fatalf("ranged clients received %d bytes, full ones %d, want %d each", rBytes, fBytes, want)
	}
	rRate := float64(rBytes) / 1e6 / rTime.Seconds()
	fRate := float64(fBytes) / 1e6 / fTime.Seconds()
	b.ReportMetric(rRate, "ranged-MB/s")
	b.ReportMetric(fRate, "full-MB/s")
	b.ReportMetric(rRate/fRate, "ratio")
	b.ReportMetric(rCPU.Seconds()/(float64(rBytes)/1e9), "ranged-server-cpu-s/GB")
	b.ReportMetric(fCPU.Seconds()/(float64(fBytes)/1e9), "full-server-cpu-s/GB")
	b.ReportMetric(clientCPU.Seconds()/(float64(rBytes+fBytes)/1e9), "client-cpu-s/GB")
	b.ReportMetric(procStatusMiB(b, pid, "VmHWM"), "server-peak-RSS-MiB")
}

// listBenchPackages is the size of the table of BenchmarkListFilter100k.
const listBenchPackages = 100_000

// fillPackages inserts n packages shaped like onboarded ones into the
// database at dbPath, in batches, before any server opens it: 100 providers
// (provider-0 .. provider-99, ~1000 packages each), 92% ONBOARDED, 5%
// CREATED, 3% ERROR; an onboarded package has 1 or 2 software images, and
// about 1% of them have a RAW one (the others are QCOW2 or VMDK). It
// returns how many packages have a RAW image, overall and of provider-42
// in ONBOARDED.
func fillPackages(tb testing.TB, dbPath string, n int) (raw, raw42 int) {
	tb.Helper()
	db, err := storage.Open(dbPath)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(42, 4242))
	hexOf := func(nbytes int) string {
		var sb strings.Builder
		for range nbytes / 8 {
			fmt.Fprintf(&sb, "%016x", rng.Uint64())
		}
		return sb.String()
	}
	created := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	batch := make([]*storage.Package, 0, 1000)
	flush := func() {
		if err := db.CreatePackages(ctx, batch); err != nil {
			tb.Fatal(err)
		}
		batch = batch[:0]
	}
	for i := range n {
		provider := fmt.Sprintf("provider-%d", rng.IntN(100))
		p := &storage.Package{
			UserDefinedData: storage.MustJSON(map[string]any{"owner": fmt.Sprintf("team-%d", rng.IntN(40)), "site": fmt.Sprintf("dc-%d", rng.IntN(8))}),
		}
		switch r := rng.IntN(100); {
		case r < 5:
			p.OnboardingState, p.OperationalState, p.UsageState = storage.OnboardingCreated, storage.OperationalDisabled, storage.UsageNotInUse
		case r < 8:
			p.OnboardingState, p.OperationalState, p.UsageState = storage.OnboardingError, storage.OperationalDisabled, storage.UsageNotInUse
			p.Checksum = storage.MustJSON(vnfpkgm.Checksum{Algorithm: "SHA-256", Hash: hexOf(32)})
			p.OnboardingFailureDetails = storage.MustJSON(map[string]any{
				"type": "about:blank", "title": "Invalid VNF package", "status": 422,
				"detail": "the package is invalid: 1 problem(s): manifest.mf:3: the hash of Files/images/image.qcow2 does not match",
				"problems": []map[string]any{{"severity": "error", "code": "artifact-hash-mismatch", "file": "manifest.mf", "line": 3,
					"message": "the hash of Files/images/image.qcow2 does not match"}},
			})
		default:
			p.OnboardingState, p.OperationalState, p.UsageState = storage.OnboardingOnboarded, storage.OperationalEnabled, storage.UsageNotInUse
			if rng.IntN(10) == 0 {
				p.OperationalState = storage.OperationalDisabled
			}
			if rng.IntN(3) == 0 {
				p.UsageState = storage.UsageInUse
			}
			product := rng.IntN(20)
			p.VnfdID = uuid.NewString()
			p.VnfProvider = provider
			p.VnfProductName = fmt.Sprintf("%s vnf-%d", provider, product)
			p.VnfSoftwareVersion = fmt.Sprintf("%d.%d.%d", 1+rng.IntN(5), rng.IntN(10), rng.IntN(20))
			p.VnfdVersion = fmt.Sprintf("%d.%d", 1+rng.IntN(3), rng.IntN(10))
			p.CompatibleSpecificationVersions = storage.MustJSON([]string{"2.6.1", "3.3.1"})
			p.VnfmInfo = storage.MustJSON([]string{"etsivnfm"})
			p.Checksum = storage.MustJSON(vnfpkgm.Checksum{Algorithm: "SHA-256", Hash: hexOf(32)})
			hasRaw := rng.IntN(100) == 0
			if hasRaw {
				raw++
				if provider == "provider-42" {
					raw42++
				}
			}
			images := make([]vnfpkgm.SoftwareImageInfo, 1+rng.IntN(2))
			for j := range images {
				format := []string{"QCOW2", "QCOW2", "QCOW2", "VMDK"}[rng.IntN(4)]
				if hasRaw && j == len(images)-1 {
					format = "RAW"
				}
				ext := strings.ToLower(format)
				images[j] = vnfpkgm.SoftwareImageInfo{
					ID: fmt.Sprintf("VDU%d", j+1), Name: fmt.Sprintf("vnf-%d-vdu%d-image", product, j+1),
					Provider: provider, Version: p.VnfSoftwareVersion,
					Checksum:        vnfpkgm.Checksum{Algorithm: "SHA-512", Hash: hexOf(64)},
					ContainerFormat: "BARE", DiskFormat: format,
					CreatedAt: created.Add(time.Duration(i) * time.Minute).Format(time.RFC3339),
					MinDisk:   int64(1+rng.IntN(40)) << 30, MinRAM: int64(1+rng.IntN(16)) << 30,
					Size:      int64(100+rng.IntN(4000)) << 20,
					ImagePath: fmt.Sprintf("Files/images/vdu%d-image.%s", j+1, ext),
				}
			}
			p.SoftwareImages = storage.MustJSON(images)
			p.AdditionalArtifacts = storage.MustJSON([]vnfpkgm.ArtifactInfo{
				{ArtifactPath: "Scripts/install.sh", Checksum: vnfpkgm.Checksum{Algorithm: "SHA-256", Hash: hexOf(32)}},
				{ArtifactPath: "Files/ChangeLog.txt", Checksum: vnfpkgm.Checksum{Algorithm: "SHA-256", Hash: hexOf(32)}},
			})
		}
		batch = append(batch, p)
		if len(batch) == cap(batch) {
			flush()
		}
	}
	if len(batch) > 0 {
		flush()
	}
	return raw, raw42
}

// BenchmarkListFilter100k lists a server's 100,000 packages with a filter,
// following no Link: only the first page (at most 100 packages) is
// fetched. Each op is listRequests sequential GETs (fewer if they take
// more than listBudget); the sub-benchmarks report their median and p99
// latency, the number of packages on the page, and the server's peak RSS
// so far.
//
//   - indexed: (eq,vnfProvider,provider-42), pushed down to the
//     (vnf_provider, seq) index; ~1000 packages match.
//   - nested: (eq,softwareImages/diskFormat,RAW), evaluated in Go on every
//     package scanned; ~1% match, so a page scans ~10,000 packages.
//   - combined: provider-42, ONBOARDED and a RAW image: the index narrows
//     to ~1000 packages, of which ~10 match.
func BenchmarkListFilter100k(b *testing.B) {
	const (
		listRequests = 200
		listBudget   = 60 * time.Second
	)
	dir := filepath.Join(benchDir(b), "data")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	raw, raw42 := fillPackages(b, filepath.Join(dir, "vnfpkgm.db"), listBenchPackages)
	b.Logf("filled %d packages (%d with a RAW image, %d of them provider-42) in %v", listBenchPackages, raw, raw42, time.Since(t0).Round(time.Millisecond))
	t0 = time.Now()
	s := startBenchServer(b, dir)
	pid := s.cmd.Process.Pid
	b.Logf("server healthy after %v; RSS %.1f MiB", time.Since(t0).Round(time.Millisecond), procStatusMiB(b, pid, "VmRSS"))

	for _, c := range []struct {
		name, filter string
		page         int // packages expected on the first page
	}{
		{"indexed", "(eq,vnfProvider,provider-42)", 100},
		{"nested", "(eq,softwareImages/diskFormat,RAW)", min(100, raw)},
		{"combined", "(eq,vnfProvider,provider-42);(eq,onboardingState,ONBOARDED);(eq,softwareImages/diskFormat,RAW)", min(100, raw42)},
	} {
		b.Run(c.name, func(b *testing.B) {
			url := s.base + pkgs + "?filter=" + c.filter
			var lat []time.Duration
			var items int
			cpu0 := procCPU(pid)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				for k := 0; k < listRequests && (k < 20 || time.Since(start) < listBudget); k++ {
					t := time.Now()
					resp, err := s.client.Get(url)
					if err != nil {
						b.Fatal(err)
					}
					body, err := io.ReadAll(resp.Body)
					resp.Body.Close()
					d := time.Since(t)
					if err != nil {
						b.Fatal(err)
					}
					lat = append(lat, d)
					if resp.StatusCode != 200 {
						b.Fatalf("GET %s: %d: %.1000s", url, resp.StatusCode, body)
					}
					if len(lat) == 1 {
						b.StopTimer()
						var page []map[string]any
						if err := json.Unmarshal(body, &page); err != nil {
							b.Fatal(err)
						}
						items = len(page)
						if items != c.page {
							b.Fatalf("%s: %d packages on the first page, want %d", c.filter, items, c.page)
						}
						if strings.Contains(c.filter, "provider-42") && items > 0 && page[0]["vnfProvider"] != "provider-42" {
							b.Fatalf("%s: got %v", c.filter, page[0])
						}
						b.StartTimer()
					}
				}
			}
			b.StopTimer()
			cpu := procCPU(pid) - cpu0
			slices.Sort(lat)
			ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
			b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
			b.ReportMetric(ms(lat[(len(lat)*99+99)/100-1]), "p99-ms")
			b.ReportMetric(float64(len(lat))/float64(b.N), "requests/op")
			b.ReportMetric(cpu.Seconds()*1000/float64(len(lat)), "server-cpu-ms/req")
			b.ReportMetric(float64(items), "page-items")
			b.ReportMetric(procStatusMiB(b, pid, "VmHWM"), "server-peak-RSS-MiB")
		})
	}
}
