package main_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/vnfpkgm/vnfpkgm/internal/testenv"
	"github.com/vnfpkgm/vnfpkgm/storage"
)

// TestReplicasBehindNginx runs the replicated setup of deploy/: PostgreSQL,
// an S3 store (versitygw), three vnfpkgmd replicas and Debian's nginx with
// deploy/nginx.conf in front. Through nginx, 32 concurrent uploads of valid
// and invalid packages all end in their state; some onboarding jobs are
// run by another replica than the one that took the upload; content and
// ranges are byte-identical through nginx and every replica; each
// onboarding is notified exactly once; a replica killed during an upload
// leaves no object and its package returns to CREATED.
func TestReplicasBehindNginx(t *testing.T) {
	nginxBin := nginxBinary(t)
	dsn := testenv.Postgres(t).Database(t)
	s3, admin := packagesBucket(t)

	lbAddr := freePort(t)
	shared := t.TempDir()
	replicas := make([]*server, 3)
	for i := range replicas {
		replicas[i] = startServer(t, "", "--database", dsn, "--blob-store", "s3://packages/vnfpkgm?endpoint="+s3.Endpoint,
			"--host-id", fmt.Sprintf("replica-%d", i), "--log-format", "json", "--workers", "1",
			"--job-lease", "2s", "--upload-lease", "2s", "--public-url", "http://"+lbAddr,
			"--secrets-key-file", filepath.Join(shared, "secrets.key"))
	}
	startNginx(t, nginxBin, lbAddr, replicaAddrs(replicas))
	lb := &server{t: t, base: "http://" + lbAddr, log: &bytes.Buffer{}}

	rc := newReceiver(t)
	lb.mustSubscribe(t, `{"callbackUri":"`+rc.url("/cb")+`","filter":{"notificationTypes":["VnfPackageOnboardingNotification"]}}`)

	// 32 uploads at once: three of four valid (distinct VNFDs), the others
	// invalid in two ways (a wrong image checksum, not an archive).
	invalid, err := os.ReadFile(corpusFile(t, "bad-image-checksum.zip"))
	if err != nil {
		t.Fatal(err)
	}
	type upload struct {
		data []byte
		want string
		id   string
		err  error
	}
	uploads := make([]upload, 32)
	for i := range uploads {
		switch i % 4 {
		case 3:
			uploads[i] = upload{data: invalid, want: "ERROR"}
		case 2:
			if i%8 == 2 {
				uploads[i] = upload{data: []byte("not a package, only text"), want: "ERROR"}
				continue
			}
			fallthrough
		default:
			uploads[i] = upload{data: testPkg{vnfdID: newVnfdID(7000 + i)}.build(t).zip, want: "ONBOARDED"}
		}
	}
	var wg sync.WaitGroup
	for i := range uploads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			uploads[i].id, uploads[i].err = uploadThrough(lb, uploads[i].data)
		}()
	}
	wg.Wait()
	onboarded := 0
	for i, u := range uploads {
		if u.err != nil {
			t.Fatalf("upload %d through nginx: %v", i, u.err)
		}
		if info := lb.waitState(t, u.id); info["onboardingState"] != u.want {
			t.Fatalf("upload %d (%s): %v, want %s", i, u.id, info["onboardingState"], u.want)
		}
		if u.want == "ONBOARDED" {
			onboarded++
		}
	}

	// Who took each upload (its PUT answered 202) and who ran its
	// onboarding job, from the replicas' logs.
	uploader, onboarder := map[string]int{}, map[string]int{}
	for i, r := range replicas {
		for _, rec := range jsonLog(t, r) {
			path, _ := rec["path"].(string)
			switch {
			case rec["msg"] == "request" && rec["method"] == "PUT" && rec["status"] == float64(202) && strings.HasSuffix(path, "/package_content"):
				uploader[strings.Split(strings.TrimPrefix(path, pkgs+"/"), "/")[0]] = i
			case rec["msg"] == "job done" && rec["kind"] == "onboard":
				onboarder[rec["package"].(string)] = i
			}
		}
	}
	elsewhere := 0
	for _, u := range uploads {
		up, ok1 := uploader[u.id]
		on, ok2 := onboarder[u.id]
		if !ok1 || !ok2 {
			t.Fatalf("package %s: uploader or onboarding replica not in the logs (%v %v)", u.id, ok1, ok2)
		}
		if up != on {
			elsewhere++
		}
	}
	if elsewhere == 0 {
		t.Errorf("every onboarding job ran on the replica that took its upload: the queue is not shared")
	}
	t.Logf("%d of %d onboarding jobs ran on another replica than the upload", elsewhere, len(uploads))

	// Content and ranges, byte for byte, through nginx and every replica.
	for _, u := range uploads[:2] {
		content := pkgs + "/" + u.id + "/package_content"
		for _, s := range append([]*server{lb}, replicas...) {
			r := s.do("GET", content, nil)
			expectStatus(t, r, 200)
			if !bytes.Equal(r.body, u.data) {
				t.Fatalf("%s%s: %d bytes differ from the %d uploaded", s.base, content, len(r.body), len(u.data))
			}
			r = s.do("GET", content, nil, "Range", "bytes=100-1099")
			expectStatus(t, r, 206)
			if !bytes.Equal(r.body, u.data[100:1100]) {
				t.Fatalf("%s%s range 100-1099: %d bytes, not the uploaded ones", s.base, content, len(r.body))
			}
			r = s.do("GET", content, nil, "Range", "bytes=-500")
			expectStatus(t, r, 206)
			if !bytes.Equal(r.body, u.data[len(u.data)-500:]) {
				t.Fatalf("%s%s suffix range: not the uploaded bytes", s.base, content)
			}
		}
	}

	// Exactly one onboarding notification per onboarded package.
	seen := map[string]bool{}
	for _, n := range rc.await(onboarded, 30*time.Second) {
		id, _ := n.body["id"].(string)
		if seen[id] {
			t.Fatalf("notification %s delivered twice", id)
		}
		seen[id] = true
	}

	counts := replicaCounts{onboarded: onboarded, failed: len(uploads) - onboarded}
	for _, u := range uploads {
		counts.uploadedBytes += int64(len(u.data))
	}
	checkReplicaMetrics(t, replicas, counts)

	killed := killDuringFetch(t, lb, replicas, dsn, testPkg{vnfdID: newVnfdID(7999)}.build(t).zip)
	objectsBefore := bucketObjects(t, admin)
	killDuringUpload(t, lb, replicas[(killed+1)%len(replicas)])
	if after := bucketObjects(t, admin); after != objectsBefore {
		t.Fatalf("objects in the bucket: %d after the killed upload, %d before", after, objectsBefore)
	}
}

// killDuringFetch has a package fetched by upload_from_uri from an origin
// that sends half of it and then stalls on the first request; the replica
// holding the fetch job (its lease owner in the jobs table, host:pid:...)
// is killed with SIGKILL, and another replica takes the job over once its
// lease runs out (--job-lease), fetches again, and the package onboards
// with the whole content. It returns the index of the replica killed.
func killDuringFetch(t *testing.T, lb *server, replicas []*server, dsn string, data []byte) int {
	t.Helper()
	stalled, release := make(chan struct{}), make(chan struct{})
	var requests atomic.Int32
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/zip")
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		if requests.Add(1) == 1 {
			w.Write(data[:len(data)/2])
			w.(http.Flusher).Flush()
			close(stalled)
			<-release
			return
		}
		w.Write(data)
	}))
	defer origin.Close()
	defer close(release)

	id := lb.createPackage(t)
	expectStatus(t, lb.fetch(t, id, `{"addressInformation":"`+origin.URL+`/pkg.zip"}`), 202)
	select {
	case <-stalled:
	case <-time.After(30 * time.Second):
		t.Fatal("no replica fetched the package")
	}
	db, err := storage.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var owner string
	if err := db.Gorm().Raw("SELECT lease_owner FROM jobs WHERE package_id = ? AND kind = ? AND state = 'running'", id, "fetch").Scan(&owner).Error; err != nil || owner == "" {
		t.Fatalf("the running fetch job of %s: owner %q, %v", id, owner, err)
	}
	victim := -1
	for i, r := range replicas {
		if strings.Contains(owner, fmt.Sprintf(":%d:", r.cmd.Process.Pid)) {
			victim = i
		}
	}
	if victim < 0 {
		t.Fatalf("lease owner %q is none of the replicas", owner)
	}
	replicas[victim].kill()
	if info := lb.waitState(t, id); info["onboardingState"] != "ONBOARDED" {
		t.Fatalf("package fetched by a killed replica: %v, want ONBOARDED by another: %v", info["onboardingState"], info["onboardingFailureDetails"])
	}
	if requests.Load() < 2 {
		t.Fatalf("the origin was asked %d times: no other replica fetched again", requests.Load())
	}
	r := lb.do("GET", pkgs+"/"+id+"/package_content", nil)
	expectStatus(t, r, 200)
	if !bytes.Equal(r.body, data) {
		t.Fatalf("content after the take-over: %d bytes, want the %d of the origin", len(r.body), len(data))
	}
	return victim
}

// killDuringUpload starts an upload straight to victim, kills it with
// SIGKILL once the package is UPLOADING, checks the client got an error,
// and waits until the surviving replicas return the package to CREATED
// (its upload lease ran out).
func killDuringUpload(t *testing.T, lb, victim *server) {
	t.Helper()
	id := lb.createPackage(t)
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		r, err := victim.try("PUT", pkgs+"/"+id+"/package_content", pr, "Content-Type", "application/zip")
		if err == nil {
			err = fmt.Errorf("the upload to a killed replica answered %d", r.status)
		}
		done <- err
	}()
	if _, err := pw.Write(bytes.Repeat([]byte("PK"), 1<<19)); err != nil {
		t.Fatal(err)
	}
	lb.waitFor(t, id, "UPLOADING")
	if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	victim.cmd.Wait()
	pw.CloseWithError(io.ErrUnexpectedEOF)
	if err := <-done; err == nil || strings.Contains(err.Error(), "answered") {
		t.Fatalf("client of the killed replica: %v, want a transport error", err)
	}
	lb.waitFor(t, id, "CREATED")
}

// waitFor polls the package until its onboardingState is want.
func (s *server) waitFor(t *testing.T, id, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var info map[string]any
		r := s.do("GET", pkgs+"/"+id, nil)
		expectStatus(t, r, 200)
		r.json(t, &info)
		if info["onboardingState"] == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("package %s is %v, want %s", id, info["onboardingState"], want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// uploadThrough creates a package and uploads data, from any goroutine.
func uploadThrough(s *server, data []byte) (string, error) {
	return uploadReader(s, bytes.NewReader(data))
}

// uploadReader creates a package and uploads what body reads.
func uploadReader(s *server, body io.Reader) (string, error) {
	r, err := s.try("POST", pkgs, strings.NewReader(`{}`), "Content-Type", "application/json")
	if err != nil {
		return "", err
	}
	var info map[string]any
	if r.status != http.StatusCreated || json.Unmarshal(r.body, &info) != nil {
		return "", fmt.Errorf("create: %d %s", r.status, r.body)
	}
	id, _ := info["id"].(string)
	r, err = s.try("PUT", pkgs+"/"+id+"/package_content", body, "Content-Type", "application/zip")
	if err != nil {
		return id, err
	}
	if r.status != http.StatusAccepted {
		return id, fmt.Errorf("upload: %d %s", r.status, r.body)
	}
	return id, nil
}

// packagesBucket starts versitygw with a bucket "packages" and puts its
// credentials in the AWS variables the servers read.
func packagesBucket(tb testing.TB) (*testenv.S3Server, *minio.Client) {
	tb.Helper()
	s3 := testenv.VersityGW(tb)
	admin, err := minio.New(strings.TrimPrefix(s3.Endpoint, "http://"), &minio.Options{
		Creds: credentials.NewStaticV4(s3.Access, s3.Secret, ""), Region: s3.Region, BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		tb.Fatal(err)
	}
	if err := admin.MakeBucket(context.Background(), "packages", minio.MakeBucketOptions{Region: s3.Region}); err != nil {
		tb.Fatal(err)
	}
	tb.Setenv("AWS_ACCESS_KEY_ID", s3.Access)
	tb.Setenv("AWS_SECRET_ACCESS_KEY", s3.Secret)
	return s3, admin
}

func bucketObjects(t *testing.T, admin *minio.Client) int {
	t.Helper()
	n := 0
	for oi := range admin.ListObjects(context.Background(), "packages", minio.ListObjectsOptions{Prefix: "vnfpkgm/", Recursive: true}) {
		if oi.Err != nil {
			t.Fatal(oi.Err)
		}
		n++
	}
	return n
}

// jsonLog parses a replica's JSON log lines.
func jsonLog(t *testing.T, s *server) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(s.log.String()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var rec map[string]any
		if json.Unmarshal(sc.Bytes(), &rec) == nil {
			out = append(out, rec)
		}
	}
	return out
}

func replicaAddrs(replicas []*server) []string {
	var out []string
	for _, r := range replicas {
		out = append(out, strings.TrimPrefix(r.base, "http://"))
	}
	return out
}

func nginxBinary(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/nginx"); err == nil {
		return "/usr/sbin/nginx"
	}
	testenv.Missing(t, "nginx (the load balancer of deploy/nginx.conf)", "apt-get install nginx")
	return ""
}

// startNginx runs deploy/nginx.conf itself, with only its listen address,
// its upstream servers and its file paths replaced; a replacement that
// finds nothing fails the test, so the file and the test cannot drift.
func startNginx(t testing.TB, bin, listen string, upstreams []string) {
	t.Helper()
	conf, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "deploy", "nginx.conf"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	text := string(conf)
	replace := func(old, new string) {
		if !strings.Contains(text, old) {
			t.Fatalf("deploy/nginx.conf no longer contains %q", old)
		}
		text = strings.ReplaceAll(text, old, new)
	}
	replace("pid /run/vnfpkgm-nginx.pid;", "pid "+filepath.Join(dir, "nginx.pid")+";")
	replace("/var/log/nginx/", dir+"/")
	replace("/var/lib/nginx/", dir+"/")
	replace("listen 8080;", "listen "+listen+";")
	for i, addr := range upstreams {
		replace(fmt.Sprintf("server 127.0.0.1:%d ", 9891+i), "server "+addr+" ")
	}
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-c", path, "-p", dir, "-e", filepath.Join(dir, "startup-error.log"), "-g", "daemon off;")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM) // fast shutdown of the master and its workers
		cmd.Wait()
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + listen + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			errs, _ := os.ReadFile(filepath.Join(dir, "vnfpkgm-error.log"))
			t.Fatalf("nginx did not answer: %v\n%s%s", err, out.String(), errs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
