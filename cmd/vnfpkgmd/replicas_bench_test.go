package main_test

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vnfpkgm/vnfpkgm/internal/testenv"
)

// replicaSet starts PostgreSQL, versitygw, n replicas over them and
// deploy/nginx.conf in front, and returns nginx's base URL and each
// replica's. With fewer than three replicas, the three upstream servers of
// the file name them again (one replica: all three the same), so that
// nginx's configuration is the same in every run.
func replicaSet(b *testing.B, n int) (string, []string) {
	b.Helper()
	nginxBin := nginxBinary(b)
	dsn := testenv.Postgres(b).Database(b)
	s3, _ := packagesBucket(b)
	shared := b.TempDir()
	var addrs, bases []string
	for i := range n {
		s := startBenchServer(b, filepath.Join(benchDir(b), "data"), "--database", dsn,
			"--blob-store", "s3://packages/vnfpkgm?endpoint="+s3.Endpoint, "--host-id", fmt.Sprintf("replica-%d", i),
			"--secrets-key-file", filepath.Join(shared, "secrets.key"))
		addrs = append(addrs, strings.TrimPrefix(s.base, "http://"))
		bases = append(bases, s.base)
	}
	upstreams := make([]string, 3)
	for i := range upstreams {
		upstreams[i] = addrs[i%n]
	}
	l, err := freeAddr()
	if err != nil {
		b.Fatal(err)
	}
	startNginx(b, nginxBin, l, upstreams)
	return "http://" + l, bases
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// BenchmarkReplicasUpload16Clients: 16 clients upload a 16 MiB package
// each through nginx, and the operation ends when all are ONBOARDED; one
// replica against three over the same PostgreSQL and S3.
func BenchmarkReplicasUpload16Clients(b *testing.B) {
	const clients, imageSize = 16, 16 << 20
	for _, n := range []int{1, 3} {
		b.Run(fmt.Sprintf("replicas=%d", n), func(b *testing.B) {
			lbBase, _ := replicaSet(b, n)
			lb := &server{base: lbBase}
			dir := benchDir(b)
			seq := 0
			var size int64
			for b.Loop() {
				b.StopTimer()
				files := make([]string, clients)
				for i := range files {
					seq++
					files[i] = filepath.Join(dir, fmt.Sprintf("p%d.zip", seq))
					writeRandomPackage(b, files[i], imageSize, byte(seq), fmt.Sprintf("0c4b2b4e-b256-4000-8000-%012d", 100000*n+seq))
					st, _ := os.Stat(files[i])
					size = st.Size()
				}
				b.StartTimer()
				ids := make([]string, clients)
				errs := make([]error, clients)
				var wg sync.WaitGroup
				for i := range files {
					wg.Go(func() { ids[i], errs[i] = uploadFile(lb, files[i]) })
				}
				wg.Wait()
				for i, err := range errs {
					if err != nil {
						b.Fatalf("upload %d: %v", i, err)
					}
					if st := awaitSettled(b, lb, ids[i]); st != "ONBOARDED" {
						b.Fatalf("package %s: %s", ids[i], st)
					}
				}
				b.StopTimer()
				for _, f := range files {
					os.Remove(f)
				}
				b.StartTimer()
			}
			b.SetBytes(clients * size)
		})
	}
}

// BenchmarkRangeNginxVsDirect: 16 clients each read 4 ranges of 1 MiB at
// random offsets of a 64 MiB package, straight from a replica and through
// nginx.
func BenchmarkRangeNginxVsDirect(b *testing.B) {
	const clients, ranges, rangeSize, imageSize = 16, 4, 1 << 20, 64 << 20
	lbBase, bases := replicaSet(b, 1)
	pkg := filepath.Join(benchDir(b), "ranged.zip")
	writeRandomPackage(b, pkg, imageSize, 3, "0c4b2b4e-b256-4000-8000-000000000064")
	st, err := os.Stat(pkg)
	if err != nil {
		b.Fatal(err)
	}
	id, err := uploadFile(&server{base: lbBase}, pkg)
	if err != nil {
		b.Fatal(err)
	}
	if st := awaitSettled(b, &server{base: lbBase}, id); st != "ONBOARDED" {
		b.Fatalf("package: %s", st)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients, DisableCompression: true}}
	for _, via := range []struct{ name, base string }{{"direct", bases[0]}, {"nginx", lbBase}} {
		b.Run(via.name, func(b *testing.B) {
			url := via.base + pkgs + "/" + id + "/package_content"
			for b.Loop() {
				var wg sync.WaitGroup
				errs := make(chan error, clients)
				for range clients {
					wg.Go(func() {
						for range ranges {
							first := rand.Int64N(st.Size() - rangeSize)
							if err := getRange(client, url, first, rangeSize); err != nil {
								errs <- err
								return
							}
						}
					})
				}
				wg.Wait()
				close(errs)
				if err := <-errs; err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(clients * ranges * rangeSize)
		})
	}
}

func getRange(c *http.Client, url string, first, n int64) error {
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", first, first+n-1))
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	got, err := io.Copy(io.Discard, resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusPartialContent || got != n {
		return fmt.Errorf("range at %d: %d, %d bytes", first, resp.StatusCode, got)
	}
	return nil
}

// uploadFile creates a package and streams file into it, from any goroutine.
func uploadFile(s *server, file string) (string, error) {
	f, err := os.Open(file)
	if err != nil {
		return "", err
	}
	defer f.Close()
	return uploadReader(s, f)
}

// awaitSettled polls until the package leaves UPLOADING and PROCESSING.
func awaitSettled(tb testing.TB, s *server, id string) string {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Minute)
	for {
		r, err := s.try("GET", pkgs+"/"+id, nil)
		if err != nil {
			tb.Fatal(err)
		}
		var info struct{ OnboardingState string }
		if err := json.Unmarshal(r.body, &info); err != nil {
			tb.Fatal(err)
		}
		if st := info.OnboardingState; st != "UPLOADING" && st != "PROCESSING" {
			return st
		}
		if time.Now().After(deadline) {
			tb.Fatalf("package %s still %s", id, info.OnboardingState)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
