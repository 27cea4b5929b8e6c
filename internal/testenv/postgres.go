package testenv

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// PostgresEnv names a PostgreSQL server URL the tests use instead of
// starting their own cluster (e.g. a CI service):
// postgres://user:password@host:port/postgres. The role must be allowed to
// create databases.
const PostgresEnv = "VNFPKGM_TEST_POSTGRES"

// PostgresHint says what to install when PostgreSQL is missing.
const PostgresHint = "apt-get install postgresql (initdb and pg_ctl, version 15 or later), or set " + PostgresEnv

// ErrNoPostgres: neither PostgresEnv nor the PostgreSQL server binaries.
var ErrNoPostgres = errors.New("PostgreSQL is missing: " + PostgresHint)

// PGCluster is a PostgreSQL server for tests: a throwaway cluster started
// by StartPostgres (initdb, pg_ctl) or the server PostgresEnv names.
type PGCluster struct {
	base    *url.URL // the maintenance database, as the superuser
	admin   *sql.DB
	dataDir string // "" when the server is not ours
	pgCtl   string
	cred    *syscall.Credential
	seq     atomic.Int64
}

// StartPostgres starts a throwaway PostgreSQL cluster on a free port of
// 127.0.0.1, or connects to PostgresEnv's server. The cluster is created
// with initdb and started with pg_ctl; PostgreSQL refuses to run as root,
// so under root the binaries run as the "postgres" user (Debian's package
// creates it) or "nobody", in a temporary directory owned by that user.
// Durability is traded for speed (fsync off): the cluster is thrown away.
// Stop it with Stop. It returns ErrNoPostgres when there is neither.
func StartPostgres() (*PGCluster, error) {
	if env := os.Getenv(PostgresEnv); env != "" {
		u, err := url.Parse(env)
		if err != nil {
			return nil, fmt.Errorf("%s is not a URL", PostgresEnv)
		}
		return connectCluster(&PGCluster{base: u})
	}
	bin, err := postgresBinDir()
	if err != nil {
		return nil, err
	}
	c := &PGCluster{pgCtl: filepath.Join(bin, "pg_ctl")}
	if os.Geteuid() == 0 {
		if c.cred, err = unprivilegedUser(); err != nil {
			return nil, err
		}
	}
	if c.dataDir, err = os.MkdirTemp("", "vnfpkgm-pg-"); err != nil {
		return nil, err
	}
	if err := c.initAndStart(bin); err != nil {
		c.Stop()
		return nil, err
	}
	return connectCluster(c)
}

func (c *PGCluster) initAndStart(bin string) error {
	if c.cred != nil {
		if err := os.Chown(c.dataDir, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
			return err
		}
	}
	data := filepath.Join(c.dataDir, "data")
	if out, err := c.run(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust",
		"-E", "UTF8", "--no-locale", "--no-sync"); err != nil {
		return fmt.Errorf("initdb: %w: %s", err, out)
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	opts := fmt.Sprintf("-p %d -h 127.0.0.1 -k %s -F -c full_page_writes=off -c max_connections=200", port, c.dataDir)
	if out, err := c.run(c.pgCtl, "-D", data, "-l", filepath.Join(c.dataDir, "log"), "-w", "-t", "60", "-o", opts, "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(c.dataDir, "log"))
		return fmt.Errorf("pg_ctl start: %w: %s %s", err, out, log)
	}
	c.base = &url.URL{Scheme: "postgres", User: url.User("postgres"), Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		Path: "/postgres", RawQuery: "sslmode=disable"}
	return nil
}

func connectCluster(c *PGCluster) (*PGCluster, error) {
	admin, err := sql.Open("pgx", c.base.String())
	if err != nil {
		c.Stop()
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		admin.Close()
		c.Stop()
		return nil, fmt.Errorf("PostgreSQL at %s: %w", c.base.Redacted(), err)
	}
	c.admin = admin
	return c, nil
}

// run runs a PostgreSQL binary, as the unprivileged user under root.
func (c *PGCluster) run(name string, args ...string) ([]byte, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = c.dataDir
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	}
	return cmd.CombinedOutput()
}

// Stop stops a cluster StartPostgres started and removes its files (a
// server PostgresEnv names is left running).
func (c *PGCluster) Stop() {
	if c.admin != nil {
		c.admin.Close()
	}
	if c.dataDir == "" {
		return
	}
	if c.base != nil {
		c.run(c.pgCtl, "-D", filepath.Join(c.dataDir, "data"), "-m", "immediate", "-w", "stop")
	}
	os.RemoveAll(c.dataDir)
}

// NewDatabase creates an empty database and returns its URL; Drop removes
// it. Names are unique within the cluster's life.
func (c *PGCluster) NewDatabase(ctx context.Context) (dsn string, drop func() error, err error) {
	return c.NewDatabaseWith(ctx, "")
}

// NewDatabaseWith is NewDatabase with options of CREATE DATABASE (e.g. a
// locale: "TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'").
func (c *PGCluster) NewDatabaseWith(ctx context.Context, options string) (dsn string, drop func() error, err error) {
	name := fmt.Sprintf("t%d_%d", os.Getpid(), c.seq.Add(1))
	if _, err := c.admin.ExecContext(ctx, "CREATE DATABASE "+name+" "+options); err != nil {
		return "", nil, fmt.Errorf("create database %s: %w", name, err)
	}
	u := *c.base
	u.Path = "/" + name
	drop = func() error {
		_, err := c.admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		return err
	}
	return u.String(), drop, nil
}

// Database is NewDatabase for one test: skipped (failed under CI) when
// PostgreSQL is missing, dropped at the test's end.
func (c *PGCluster) Database(t testing.TB) string {
	t.Helper()
	dsn, drop, err := c.NewDatabase(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := drop(); err != nil {
			t.Errorf("drop test database: %v", err)
		}
	})
	return dsn
}

// postgresBinDir finds initdb and pg_ctl: on PATH, else in Debian's
// /usr/lib/postgresql/<version>/bin (newest first).
func postgresBinDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		dir := filepath.Dir(p)
		if _, err := os.Stat(filepath.Join(dir, "pg_ctl")); err == nil {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgVersion(dirs[i]) > pgVersion(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", ErrNoPostgres
}

func pgVersion(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// unprivilegedUser is the user PostgreSQL runs as when the tests run as
// root.
func unprivilegedUser() (*syscall.Credential, error) {
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
	}
	return nil, errors.New("running as root, and neither a postgres nor a nobody user exists to run PostgreSQL")
}

// freePort is a TCP port of 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// PostgresMissing reports err from StartPostgres for a whole test binary
// (TestMain has no testing.T): it prints why PostgreSQL tests are skipped
// and returns the exit code, 1 under CI (CI=true), where .ci/run must
// have installed PostgreSQL.
func PostgresMissing(err error) int {
	if os.Getenv("CI") == "true" {
		fmt.Fprintf(os.Stderr, "FAIL: the PostgreSQL tests cannot run, and CI must run them: %v\n", err)
		return 1
	}
	msg := err.Error()
	if !strings.Contains(msg, PostgresHint) {
		msg += " (" + PostgresHint + ")"
	}
	fmt.Fprintf(os.Stderr, "SKIP: the PostgreSQL tests: %s\n", msg)
	return 0
}

// Postgres starts a throwaway PostgreSQL cluster (StartPostgres) for one
// test, stopped at its end; the test is skipped (failed under CI) when
// PostgreSQL is missing. Test binaries with many PostgreSQL tests start
// one cluster in TestMain instead.
func Postgres(t testing.TB) *PGCluster {
	t.Helper()
	c, err := StartPostgres()
	if errors.Is(err, ErrNoPostgres) {
		Missing(t, "PostgreSQL", PostgresHint)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Stop)
	return c
}
