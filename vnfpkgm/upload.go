package vnfpkgm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/vnfpkgm/vnfpkgm/storage"
	"github.com/vnfpkgm/vnfpkgm/vnfpkgm/sol013"
)

// JobFetch fetches a package for upload_from_uri; it then enqueues the
// onboarding job.
const JobFetch = "fetch"

// PackageChecksumAlgorithm is the algorithm of VnfPkgInfo.checksum,
// computed while the upload streams into the blob store.
const PackageChecksumAlgorithm = "SHA-256"

// uploadBody returns the package bytes of a PUT .../package_content:
// the body itself (application/zip, application/octet-stream) or the
// first file of a multipart/form-data body, streamed, never buffered.
// body is the request body as the handler reads it (with its idle timeout).
func uploadBody(c echo.Context, body io.Reader) (io.Reader, error) {
	ct := c.Request().Header.Get(echo.HeaderContentType)
	mt, params, err := mime.ParseMediaType(ct)
	if ct == "" || err != nil {
		return nil, sol013.Problemf(http.StatusUnsupportedMediaType, "Content-Type %q: send the package as application/zip, application/octet-stream or multipart/form-data", ct)
	}
	switch mt {
	case "application/zip", "application/octet-stream", "application/x-zip-compressed":
		return body, nil
	case "multipart/form-data":
		mr := multipart.NewReader(body, params["boundary"])
		for {
			part, err := mr.NextPart()
			if err == io.EOF {
				return nil, sol013.NewProblem(http.StatusBadRequest, "the multipart/form-data body has no file part")
			}
			if err != nil {
				return nil, sol013.Problemf(http.StatusBadRequest, "the multipart/form-data body is malformed: %v", err)
			}
			if part.FileName() != "" || part.FormName() == "file" {
				return clientPart{part}, nil
			}
		}
	}
	return nil, sol013.Problemf(http.StatusUnsupportedMediaType, "Content-Type %s is not accepted: send application/zip, application/octet-stream or multipart/form-data", mt)
}

// uploadContent is PUT /vnf_packages/{id}/package_content.
func (s *Server) uploadContent(c echo.Context) (err error) {
	defer func() {
		if err != nil {
			// The rest of the body is not read: the connection cannot
			// serve another request, and net/http would otherwise read up
			// to 256 KiB of it, with no deadline, before sending the
			// answer: a refused upload (409, 404, a busy database) from a
			// client that stalled would never get its answer and would
			// hold the connection for good.
			c.Response().Header().Set(echo.HeaderConnection, "close")
		}
	}()
	ctx := c.Request().Context()
	id := pathParam(c, "id")
	idle := s.idleBody(c)
	body, err := uploadBody(c, idle)
	if err != nil {
		return err
	}
	hold, err := s.beginUpload(ctx, id)
	if err != nil {
		return storageError(err, "VNF package "+id)
	}
	defer hold.stopRenewing()
	if err := s.storeContent(ctx, id, body, hold); err != nil {
		s.backToCreated(id, hold, err)
		return err
	}
	idle.clear()
	return c.NoContent(http.StatusAccepted)
}

// storeError maps a failure to copy an upload into the blob store (or to
// commit it) to ProblemDetails: the client stopped sending (400) or stalled
// (408), the disk is full (507); anything else is the server's (500, the
// cause logged, never sent: it names the server's files).
func (s *Server) storeError(n int64, err error) error {
	var ce *clientReadError
	var oe *originReadError
	switch {
	case errors.As(err, &oe):
		return sol013.Problemf(http.StatusBadGateway, "the origin stopped sending after %d bytes", n)
	case errors.As(err, &ce) && ce.idle > 0:
		return sol013.Problemf(http.StatusRequestTimeout, "the package upload sent nothing for %s after %d bytes and was cut", ce.idle, n)
	case errors.As(err, &ce):
		return sol013.Problemf(http.StatusBadRequest, "the package upload was interrupted after %d bytes: %s", n, clientReadCause(ce.err))
	case isNoSpace(err):
		s.space.failed(time.Now())
		return insufficientStorageProblem()
	}
	return fmt.Errorf("storing the package after %d bytes: %w", n, err)
}

// clientPart is the file part of a multipart/form-data upload: what it
// fails to read is the client's doing (a body cut before its closing
// boundary is io.ErrUnexpectedEOF from mime/multipart), not the server's.
type clientPart struct{ r io.Reader }

func (p clientPart) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	var ce *clientReadError
	if err != nil && err != io.EOF && !errors.As(err, &ce) {
		err = &clientReadError{err: err}
	}
	return n, err
}

// clientReadCause says why a request body could not be read, without the
// text of a network error (it names the server's own address).
func clientReadCause(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the body ended before it was complete"
	case errors.As(err, &ne):
		return "the connection failed"
	}
	return "the body could not be read"
}

// backToCreated undoes UPLOADING after a failed upload, so it can be
// retried, and ends the upload's job; if the upload's hold was lost meanwhile
// (the package already went back to CREATED) it changes nothing.
func (s *Server) backToCreated(id string, hold *uploadHold, cause error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	hold.stopRenewing()
	err := s.db.Tx(ctx, func(tx *storage.DB) error {
		if err := tx.FailJob(ctx, hold.job.ID, hold.owner, sol013.ProblemFromError(cause).Detail); err != nil {
			return err
		}
		_, err := tx.UpdatePackageIf(ctx, id, storage.InOnboarding(storage.OnboardingUploading), func(p *storage.Package) error {
			p.OnboardingState = storage.OnboardingCreated
			return nil
		})
		return err
	})
	if err != nil && !errors.Is(err, storage.ErrNotFound) && !errors.Is(err, storage.ErrConflict) {
		s.logFor(ctx).Warn("failed upload not rolled back", "package", id, "error", err)
	}
}

// storeContent streams body into the blob store while hashing it, then
// records the content and enqueues onboarding in one transaction. The blob
// is committed before the row names it, so a row never points at a
// missing blob; a crash in between leaves an orphan Reconcile removes.
//
// hold is the upload's lease (nil for a fetch, which its job's lease
// covers): the transaction ends it, and fails if it was lost.
func (s *Server) storeContent(ctx context.Context, id string, body io.Reader, hold *uploadHold) error {
	w, err := s.blobs.Create(ctx)
	if err != nil {
		return err
	}
	// Every path that does not commit discards the temp file and its lock
	// (a failed Commit too); after a Commit, Abort does nothing.
	defer w.Abort()
	// The blob, the package's SHA-256 and the digests onboarding needs,
	// from one read of the body (uploadpipe.go, onepass.go).
	dg := newUploadDigester(s.cfg.Limits)
	n, sumBytes, err := streamUpload(w, io.LimitReader(body, s.cfg.MaxUploadSize+1), sha256.New(), dg)
	digests := dg.Close()
	switch {
	case err != nil:
		w.Abort()
		return s.storeError(n, err)
	case n > s.cfg.MaxUploadSize:
		w.Abort()
		return sol013.Problemf(http.StatusRequestEntityTooLarge, "the package is larger than the %d bytes this server accepts", s.cfg.MaxUploadSize)
	case n == 0:
		w.Abort()
		return sol013.NewProblem(http.StatusBadRequest, "the package is empty (0 bytes)")
	}
	key := storage.NewContentKey(id)
	if err := w.Commit(ctx, key); err != nil {
		return s.storeError(n, err)
	}
	sum := hex.EncodeToString(sumBytes)
	now := time.Now().UTC()
	// The renewals stop before the transaction: it holds SQLite's write
	// lock, which a renewal running meanwhile would wait for while the
	// transaction waited for the renewal to end.
	hold.stopRenewing()
	err = s.db.Tx(ctx, func(tx *storage.DB) error {
		if _, err := tx.UpdatePackageIf(ctx, id, storage.InOnboarding(storage.OnboardingUploading), func(p *storage.Package) error {
			p.OnboardingState = storage.OnboardingProcessing
			p.ContentKey = &key
			p.ContentSize = n
			p.ContentChecksum = "sha-256:" + sum
			p.ContentETag = `"` + sum + `"`
			p.ContentUploadedAt = &now
			p.Checksum = storage.MustJSON(Checksum{Algorithm: PackageChecksumAlgorithm, Hash: sum})
			p.UploadDigests = encodeUploadDigests(key, digests)
			return nil
		}); err != nil {
			return err
		}
		if err := hold.end(ctx, tx); err != nil {
			return err
		}
		return tx.EnqueueJob(ctx, &storage.Job{PackageID: id, Kind: storage.JobOnboard})
	})
	if err != nil {
		if derr := s.blobs.Delete(context.Background(), key); derr != nil {
			s.logFor(ctx).Warn("uploaded content left for clean-up", "package", id, "error", derr)
		}
		return storageError(err, "VNF package "+id)
	}
	s.space.recovered(now)
	s.notify()
	return nil
}

// fetchRequest is UploadVnfPkgFromUriRequest.
type fetchRequest struct {
	AddressInformation string `json:"addressInformation"`
	UserName           string `json:"userName,omitempty"`
	Password           string `json:"password,omitempty"`
}

// fetchPayload is what a fetch job stores in the database: the address
// without any user information or query, and whether credentials were
// given. The credentials themselves (userName, password, those of the URL
// and its query) stay in the memory of the process that accepted the
// request (fetchSecret):
// a database and its WAL outlive the request, are copied into backups
// and are read by whoever can read the files. The cost: a fetch that
// another process resumes (this one died or stopped) fails cleanly and
// must be asked again. Encrypting them under a key kept outside the
// database would let another replica resume, but every replica would
// then need the key, and a key on the same host protects little.
type fetchPayload struct {
	Address     string `json:"address"`
	Credentials bool   `json:"credentials,omitempty"`
}

// fetchSecret is the part of an upload_from_uri request never stored.
// The URL's query counts: a presigned URL (S3's X-Amz-Signature, Swift's
// temp_url_sig) carries its credential there.
type fetchSecret struct {
	userName, password string
	urlUser            *url.Userinfo
	query              string
}

// errCredentialsLost is the failure of a fetch resumed by a process that
// does not hold its credentials.
var errCredentialsLost = sol013.NewProblem(http.StatusConflict,
	"the credentials were lost with the process that held them (the server stopped or another replica resumed the fetch); upload again")

// uploadFromURI is POST .../package_content/upload_from_uri: the fetch
// runs as a persisted job on the fetch workers.
func (s *Server) uploadFromURI(c echo.Context) error {
	ctx := c.Request().Context()
	id := pathParam(c, "id")
	var req fetchRequest
	if err := readJSON(c, &req); err != nil {
		return err
	}
	u, err := url.Parse(req.AddressInformation)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return sol013.Problemf(http.StatusBadRequest, "addressInformation %q must be an http or https URL", redactURL(req.AddressInformation))
	}
	secret := fetchSecret{userName: req.UserName, password: req.Password, urlUser: u.User, query: u.RawQuery}
	u.User, u.RawQuery, u.ForceQuery, u.Fragment = nil, "", false, ""
	payload := fetchPayload{Address: u.String(), Credentials: secret != (fetchSecret{})}
	job := &storage.Job{ID: uuid.NewString(), PackageID: id, Kind: JobFetch, Payload: storage.MustJSON(payload)}
	if payload.Credentials {
		// Before the commit: a worker may claim the job at once.
		s.fetchSecrets.Store(job.ID, secret)
	}
	err = s.db.Tx(ctx, func(tx *storage.DB) error {
		if _, err := tx.UpdatePackageIf(ctx, id, storage.InOnboarding(storage.OnboardingCreated), func(p *storage.Package) error {
			p.OnboardingState = storage.OnboardingUploading
			p.OnboardingFailureDetails = nil
			return nil
		}); err != nil {
			return err
		}
		return tx.EnqueueJob(ctx, job)
	})
	if err != nil {
		s.fetchSecrets.Delete(job.ID)
		return storageError(err, "VNF package "+id)
	}
	s.notifyFetch()
	return c.NoContent(http.StatusAccepted)
}

// redactURL is raw without its password and query, for messages.
func redactURL(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		u.RawQuery, u.ForceQuery = "", false
		return u.Redacted()
	}
	return "(an unparsable URL)"
}

// errNotFetched is the one detail of a fetch that got no answer from the
// origin, whatever the reason (refused, timed out, unresolvable, denied by
// the egress policy, TLS failure): telling them apart would make the
// server a scanner of the networks it reaches. The cause is logged.
const errNotFetched = "the address could not be fetched"

// fetch runs a JobFetch: GET the address with bounded connect, header,
// idle and total times, a bounded redirect count and size, through the
// egress policy, and store it as the package content. Its errors are
// ProblemDetails that fetchFailed records in the package.
func (s *Server) fetch(ctx context.Context, job *storage.Job) error {
	defer s.fetchSecrets.Delete(job.ID)
	var p fetchPayload
	decode(job.Payload, &p)
	addr := p.Address
	var secret fetchSecret
	if p.Credentials {
		v, ok := s.fetchSecrets.Load(job.ID)
		if !ok {
			return errCredentialsLost
		}
		secret = v.(fetchSecret)
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.FetchTimeout)
	defer cancel()
	target, err := url.Parse(addr)
	if err != nil {
		return sol013.Problemf(http.StatusBadRequest, "fetching %s: %v", addr, err)
	}
	target.User, target.RawQuery = secret.urlUser, secret.query
	hr, err := http.NewRequestWithContext(ctx, http.MethodGet, target.String(), nil)
	if err != nil {
		return sol013.Problemf(http.StatusBadRequest, "fetching %s: %v", addr, err)
	}
	if secret.userName != "" || secret.password != "" {
		hr.SetBasicAuth(secret.userName, secret.password)
	}
	resp, err := s.fetchClient.Do(hr)
	var re *redirectError
	if errors.As(err, &re) {
		return sol013.Problemf(http.StatusBadGateway, "fetching %s: %s", addr, re.msg)
	}
	if err != nil {
		s.logFor(ctx).Info("upload from URI: no answer", "package", job.PackageID, "address", addr, "cause", redactedCause(err))
		return sol013.Problemf(http.StatusBadGateway, "fetching %s: %s", addr, errNotFetched)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return sol013.Problemf(http.StatusBadGateway, "fetching %s: the server answered %s", addr, resp.Status)
	}
	body := newIdleCancelReader(resp.Body, s.cfg.FetchIdleTimeout, cancel)
	defer body.stop()
	if err := s.storeContent(ctx, job.PackageID, body, nil); err != nil {
		var pd *sol013.ProblemDetails
		switch {
		case body.idled():
			return sol013.Problemf(http.StatusGatewayTimeout, "fetching %s: the origin sent nothing for %s and the transfer was cut", addr, s.cfg.FetchIdleTimeout)
		case errors.Is(ctx.Err(), context.DeadlineExceeded):
			return sol013.Problemf(http.StatusGatewayTimeout, "fetching %s: the transfer took longer than the %s allowed", addr, s.cfg.FetchTimeout)
		case errors.As(err, &pd):
			q := pd.Clone()
			q.Detail = "fetching " + addr + ": " + q.Detail
			return q
		}
		return err
	}
	return nil
}

// redactedCause is the error of an HTTP client call without the URL
// (*url.Error repeats it, with any user information).
func redactedCause(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// newFetchClient is the HTTP client of upload_from_uri: every connection
// (each redirect hop, each address DNS returns) checked by the egress
// policy, connect and TLS/response-header timeouts of its own (the
// whole-transfer limit is the request's context, the idle limit the body
// reader's), and a bounded number of redirects to http(s) only.
func (s *Server) newFetchClient() *http.Client {
	return &http.Client{
		Transport: s.egress.Transport(s.cfg.FetchConnectTimeout, s.cfg.FetchHeaderTimeout),
		CheckRedirect: func(r *http.Request, via []*http.Request) error {
			if len(via) > s.cfg.FetchRedirects {
				return &redirectError{fmt.Sprintf("stopped after %d redirects (at most %d are followed)", len(via)-1, s.cfg.FetchRedirects)}
			}
			if r.URL.Scheme != "http" && r.URL.Scheme != "https" {
				return &redirectError{fmt.Sprintf("redirect to a %s URL", r.URL.Scheme)}
			}
			return nil
		},
	}
}

// redirectError is a redirect refused: the origin answered, so saying why
// reveals nothing of the network.
type redirectError struct{ msg string }

func (e *redirectError) Error() string { return e.msg }

// fetchFailed ends a failed upload_from_uri: the package goes back from
// UPLOADING to CREATED, so that the upload can be retried (SOL 005 accepts
// uploads in CREATED only), with onboardingFailureDetails saying why, as
// SOL 005 has it for an upload that fails ("present when the onboarding
// state is CREATED and the uploading or processing fails"). ERROR is for
// content that was received and found invalid.
func (s *Server) fetchFailed(jobCtx context.Context, id string, cause error) {
	log := s.logFor(jobCtx)
	// A full disk (the blob or the database) is said as such, as for a PUT.
	pd := sol013.ProblemFromError(s.insufficientStorage(cause))
	if pd.Status >= 500 && pd.Status != http.StatusBadGateway && pd.Status != http.StatusGatewayTimeout && pd.Status != http.StatusInsufficientStorage {
		// Not an answer of the origin: log the cause, reveal no internals.
		log.Error("upload from URI", "package", id, "error", cause)
		pd = sol013.NewProblem(http.StatusInternalServerError, "the package could not be fetched and stored; the error has been logged")
	}
	pd.Title = "Upload from URI failed"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := s.db.UpdatePackageIf(ctx, id, storage.InOnboarding(storage.OnboardingUploading), func(p *storage.Package) error {
		p.OnboardingState = storage.OnboardingCreated
		p.OnboardingFailureDetails = storage.MustJSON(pd)
		return nil
	})
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		log.Warn("failed fetch not rolled back", "package", id, "error", err)
	}
}
