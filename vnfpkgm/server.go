package vnfpkgm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/vnfpkgm/vnfpkgm/internal/egress"
	"github.com/vnfpkgm/vnfpkgm/storage"
	"github.com/vnfpkgm/vnfpkgm/storage/blob"
	"github.com/vnfpkgm/vnfpkgm/vnfpkgm/sol013"
)

// Server is the SOL 005 VNF package management server: the HTTP resources
// and the onboarding workers, over a database and a blob store.
type Server struct {
	cfg   Config
	db    *storage.DB
	blobs blob.Store
	log   *slog.Logger
	echo  *echo.Echo
	// owner names this process's workers in job leases.
	owner string
	// wake and wakeFetch tell idle onboarding and fetch workers that a
	// job was enqueued here.
	wake, wakeFetch chan struct{}
	// fetchClient makes the upload_from_uri requests, through egress.
	fetchClient *http.Client
	egress      *egress.Policy
	// fetchSecrets holds the credentials of upload_from_uri jobs by job
	// id, in memory only: they are never written to the database.
	fetchSecrets sync.Map
	// space records the last write refused for lack of space (readiness).
	space spaceState
	// apiDoc is the OpenAPI document served at /api-ref/openapi.yaml. The
	// daemon sets it from package apiref, which cannot be imported here:
	// its tests drive this server.
	apiDoc, apiDocType []byte
	// vims holds the open VIM drivers.
	vims vimState
	// bootFiles caches the VDU boot files of packages by content (ocisource.go).
	bootFiles bootFileCache

	// notifyState: subscriptions and notifications (notify.go).
	notifyState
	auth    authState      // serverauth.go
	metrics *serverMetrics // metrics.go
}

// SetAPIDocument sets the OpenAPI document the server publishes.
func (s *Server) SetAPIDocument(mediaType string, doc []byte) {
	s.apiDocType, s.apiDoc = []byte(mediaType), doc
}

func (s *Server) apiDocument(c echo.Context) error {
	if s.apiDoc == nil {
		return sol013.NewProblem(http.StatusNotFound, "this server was started without its OpenAPI document")
	}
	return c.Blob(http.StatusOK, string(s.apiDocType), s.apiDoc)
}

// NewServer opens the database and blob store of cfg, repairs what a crash
// may have left (storage.Reconcile) and builds the HTTP handler.
func NewServer(ctx context.Context, cfg Config, log *slog.Logger) (*Server, error) {
	// Only the server's user reads the data (an existing directory, which
	// may be shared, is left as it is).
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	policy, err := cfg.egressPolicy()
	if err != nil {
		return nil, err
	}
	if err := policy.DenySelf(cfg.Listen); err != nil {
		return nil, fmt.Errorf("egress policy: %w", err)
	}
	db, err := storage.OpenWith(cfg.Database, cfg.DBPool)
	if err != nil {
		return nil, fmt.Errorf("database %s: %w", cfg.databaseName(), err)
	}
	blobs, err := cfg.openBlobStore(ctx)
	if err != nil {
		db.Close()
		return nil, err
	}
	rep, err := storage.Reconcile(ctx, db, blobs)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("reconcile: %w", err)
	}
	for _, ev := range rep.Events {
		log.Info("start-up repair", "event", ev)
	}
	host, _ := os.Hostname()
	s := &Server{
		cfg: cfg, db: db, blobs: blobs, log: log,
		owner: fmt.Sprintf("%s:%d:%s", host, os.Getpid(), uuid.NewString()[:8]),
		wake:  make(chan struct{}, 1), wakeFetch: make(chan struct{}, 1),
		egress: policy,
	}
	s.fetchClient = s.newFetchClient()
	if err := s.initNotify(); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.setupAuth(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.setupMetrics(); err != nil { // metrics.go
		db.Close()
		return nil, err
	}
	s.echo = s.routes()
	return s, nil
}

// Egress is the policy of the connections the server opens to addresses
// its clients give: VIM drivers and notification callbacks apply it with
// its Transport or Dialer, as upload_from_uri does.
func (s *Server) Egress() *egress.Policy { return s.egress }

// Close releases the database.
func (s *Server) Close() error {
	s.closeDrivers()
	return s.db.Close()
}

// Handler is the HTTP handler of every resource.
func (s *Server) Handler() http.Handler { return s.echo }

// Serve runs the onboarding workers and serves HTTP on ln until ctx ends,
// then shuts down gracefully: requests in flight get cfg.ShutdownTimeout,
// workers give their jobs back so another process (or the next start)
// resumes them.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	ln, err := s.secureListener(ctx, ln) // tls.go
	if err != nil {
		return err
	}
	workCtx, stopWork := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var owners []string
	pool := func(n int, name string, kinds storage.JobKinds, wake chan struct{}) {
		for i := 0; i < n; i++ {
			owner := fmt.Sprintf("%s/%s%d", s.owner, name, i)
			owners = append(owners, owner)
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.work(workCtx, owner, kinds, wake)
			}()
		}
	}
	// Fetches wait on remote origins: their own pool, so that they never
	// hold up the onboarding of uploaded packages.
	pool(s.cfg.Workers, "", storage.JobKinds{Except: []string{JobFetch}}, s.wake)
	pool(s.cfg.FetchWorkers, "fetch", storage.JobKinds{Only: []string{JobFetch}}, s.wakeFetch)
	s.startNotifier(workCtx, &wg, ln)
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.sweepEvery(workCtx, s.cfg.SweepInterval)
	}()
	srv := &http.Server{Handler: s.echo, ReadHeaderTimeout: 30 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.log.Info("serving", "address", ln.Addr().String(), "api", BasePath, "workers", s.cfg.Workers, "fetch_workers", s.cfg.FetchWorkers)

	select {
	case err = <-errc:
	case <-ctx.Done():
		s.log.Info("shutting down")
		shutCtx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
		err = srv.Shutdown(shutCtx)
		cancel()
	}
	stopWork()
	wg.Wait()
	// Uploads still streaming are released too: the worker that claims
	// them returns their packages to CREATED.
	var released int64
	for _, owner := range append(owners, s.uploadOwner()) {
		if n, rerr := s.db.ReleaseJobs(context.Background(), owner); rerr == nil {
			released += n
		}
	}
	if released > 0 {
		s.log.Info("jobs released for resumption", "count", released)
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// sweepEvery runs storage.Sweep every interval until ctx ends: another
// replica that died leaves temp files and the content of packages it was
// deleting, which must not wait for a restart.
func (s *Server) sweepEvery(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rep, err := storage.Sweep(ctx, s.db, s.blobs)
		if err != nil && ctx.Err() == nil {
			s.log.Warn("periodic clean-up", "error", err)
		}
		s.forgetEndedFetchSecrets(ctx)
		s.retryOrphanedImages(ctx) // vims.go
		for _, ev := range rep.Events {
			s.log.Info("periodic clean-up", "event", ev)
		}
	}
}

// forgetEndedFetchSecrets drops the credentials of fetch jobs that are
// gone or ended without this process running them (their package was
// deleted while they waited, or another process took them over), so that
// none stays in memory for the life of the process.
func (s *Server) forgetEndedFetchSecrets(ctx context.Context) {
	s.fetchSecrets.Range(func(k, _ any) bool {
		job, err := s.db.GetJob(ctx, k.(string))
		switch {
		case errors.Is(err, storage.ErrNotFound):
			s.fetchSecrets.Delete(k)
		case err != nil:
			return false // the database is away: try again at the next sweep
		case job.State == storage.JobDone || job.State == storage.JobFailed:
			s.fetchSecrets.Delete(k)
		}
		return true
	})
}

// routes registers every resource.
func (s *Server) routes() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = sol013.HTTPErrorHandler
	e.Pre(sol013.CollapseLeadingSlashes())
	e.Use(s.metrics.httpMiddleware, s.metrics.countBytes) // metrics.go: outermost, to see the final status
	e.Use(s.requestLog)
	e.Use(sol013.Version(APIVersion))
	e.Use(s.setAPIRoot())
	e.Use(s.authenticate())

	// RFC 9110: a resource that answers GET answers HEAD (the same
	// headers, no body; net/http drops what a handler writes for HEAD).
	e.GET("/api-ref/openapi.yaml", s.apiDocument)
	e.GET("/healthz", s.healthz)
	e.HEAD("/healthz", s.healthz)
	e.GET("/vnfpkgm/api_versions", s.apiVersions)
	e.HEAD("/vnfpkgm/api_versions", s.apiVersions)
	g := e.Group(BasePath)
	read := func(path string, h echo.HandlerFunc) {
		g.GET(path, h)
		g.HEAD(path, h)
	}
	read("/api_versions", s.apiVersions)
	read("/vnf_packages", s.listPackages)
	g.POST("/vnf_packages", s.createPackage)
	read("/vnf_packages/:id", s.showPackage)
	g.PATCH("/vnf_packages/:id", s.patchPackage)
	g.DELETE("/vnf_packages/:id", s.deletePackage)
	g.PUT("/vnf_packages/:id/package_content", s.uploadContent)
	g.POST("/vnf_packages/:id/package_content/upload_from_uri", s.uploadFromURI)
	for _, view := range []struct {
		prefix string
		find   findFunc
	}{
		{"/vnf_packages/:id", s.findByID},
		{"/onboarded_vnf_packages/:id", s.findOnboardedByVnfdID},
	} {
		get := func(path string, h func(echo.Context, *storage.Package) error) {
			read(view.prefix+path, s.onboardedRead(view.find, h))
		}
		if view.prefix != "/vnf_packages/:id" {
			find := view.find
			read(view.prefix, func(c echo.Context) error {
				p, err := find(c)
				if err != nil {
					return err
				}
				return s.writeInfo(c, p)
			})
		}
		get("/package_content", s.getContent)
		get("/vnfd", s.getVNFD)
		get("/manifest", s.getManifest)
		get("/artifacts", s.getArtifacts)
		get("/artifacts/*", s.getArtifact)
	}
	s.vimRoutes(e)
	consoleRoutes(e)
	s.registerOCIRoutes(e) // ocisource.go
	s.registerSubscriptionRoutes(g)
	s.authRoutes(e)                  // serverauth.go
	s.registerObservabilityRoutes(e) // metrics.go, readyz.go
	return e
}

// requestLog gives every request an id (X-Request-Id, taken from the
// client when it sends one) and logs it once it is answered.
func (s *Server) requestLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get(echo.HeaderXRequestID)
		if id == "" || len(id) > 128 {
			id = uuid.NewString()
		}
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		// The jobs this request queues record the id (storage.EnqueueJob).
		c.SetRequest(c.Request().WithContext(storage.WithRequestID(c.Request().Context(), id)))
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(s.insufficientStorage(err))
			if c.Response().Status >= 500 {
				// The client gets a generic ProblemDetails; the cause goes here.
				s.log.Error("request failed", "id", id, "error", err)
			}
		}
		s.log.Info("request", "id", id, "method", c.Request().Method, "path", c.Request().URL.Path,
			"status", c.Response().Status, "bytes", c.Response().Size, "duration", time.Since(start).Round(time.Microsecond))
		return nil
	}
}

func (s *Server) healthz(c echo.Context) error {
	if err := s.db.Gorm().WithContext(context.WithoutCancel(c.Request().Context())).Exec("SELECT 1").Error; err != nil {
		return sol013.NewProblem(http.StatusServiceUnavailable, "the database does not answer")
	}
	if pd := s.spaceReadiness(c.Request().Context()); pd != nil {
		return pd
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// apiVersions is ApiVersionInformation (SOL 013 clause 9.3).
func (s *Server) apiVersions(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]any{
		"uriPrefix":   apiRoot(c) + BasePath,
		"apiVersions": []map[string]any{{"version": APIVersion, "isDeprecated": false}},
	})
}
