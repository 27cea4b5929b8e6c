package testenv

import (
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// VersityGWVersion is the S3 server the tests run (versitygw, Apache-2.0,
// a production S3 gateway over a POSIX directory).
const VersityGWVersion = "v1.8.0"

// VersityGWHint says how to get versitygw (.ci/run does this once).
const VersityGWHint = "GOBIN=$HOME/.cache/vnfpkgm-tools go install github.com/versity/versitygw/cmd/versitygw@" + VersityGWVersion

// S3Server is a running S3 service for a test.
type S3Server struct {
	Endpoint       string // http://127.0.0.1:port
	Region         string
	Access, Secret string
	Dir            string // the directory behind it: a bucket per subdirectory
}

// VersityGW starts versitygw on a free port of 127.0.0.1 over a temporary
// directory, with a random access key and secret, and stops it at the
// test's end. The binary is $VERSITYGW, versitygw on PATH, or
// $HOME/.cache/vnfpkgm-tools/versitygw; without it the test is skipped
// (failed under CI).
func VersityGW(t testing.TB) *S3Server {
	t.Helper()
	bin := versityGWBinary()
	if bin == "" {
		Missing(t, "versitygw (the S3 server of the tests)", VersityGWHint)
	}
	dir := t.TempDir()
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	s := &S3Server{
		Endpoint: "http://127.0.0.1:" + strconv.Itoa(port), Region: "us-east-1",
		Access: "AKIA" + randomHex(t, 8), Secret: randomHex(t, 20), Dir: dir,
	}
	cmd := exec.Command(bin, "--port", "127.0.0.1:"+strconv.Itoa(port), "--access", s.Access, "--secret", s.Secret, "posix", dir)
	log, err := os.Create(filepath.Join(t.TempDir(), "versitygw.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		log.Close()
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
		if err == nil {
			c.Close()
			return s
		}
		if time.Now().After(deadline) || cmd.ProcessState != nil {
			out, _ := os.ReadFile(log.Name())
			t.Fatalf("versitygw did not start: %v: %s", err, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func versityGWBinary() string {
	if p := os.Getenv("VERSITYGW"); p != "" {
		return p
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	home, _ := os.UserHomeDir()
	p := filepath.Join(home, ".cache", "vnfpkgm-tools", "versitygw")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return ""
}

func randomHex(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%X", b)
}
