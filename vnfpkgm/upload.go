package vnfpkgm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"time"

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
func uploadBody(c echo.Context) (io.Reader, error) {
	ct := c.Request().Header.Get(echo.HeaderContentType)
	mt, params, err := mime.ParseMediaType(ct)
	if ct == "" || err != nil {
		return nil, sol013.Problemf(http.StatusUnsupportedMediaType, "Content-Type %q: send the package as application/zip, application/octet-stream or multipart/form-data", ct)
	}
	switch mt {
	case "application/zip", "application/octet-stream", "application/x-zip-compressed":
		return c.Request().Body, nil
	case "multipart/form-data":
		mr := multipart.NewReader(c.Request().Body, params["boundary"])
		for {
			part, err := mr.NextPart()
			if err == io.EOF {
				return nil, sol013.NewProblem(http.StatusBadRequest, "the multipart/form-data body has no file part")
			}
			if err != nil {
				return nil, sol013.Problemf(http.StatusBadRequest, "the multipart/form-data body is malformed: %v", err)
			}
			if part.FileName() != "" || part.FormName() == "file" {
				return part, nil
			}
		}
	}
	return nil, sol013.Problemf(http.StatusUnsupportedMediaType, "Content-Type %s is not accepted: send application/zip, application/octet-stream or multipart/form-data", mt)
}

// uploadContent is PUT /vnf_packages/{id}/package_content.
func (s *Server) uploadContent(c echo.Context) error {
	ctx := c.Request().Context()
	id := pathParam(c, "id")
	body, err := uploadBody(c)
	if err != nil {
		return err
	}
	if _, err := s.db.UpdatePackageIf(ctx, id, storage.InOnboarding(storage.OnboardingCreated), func(p *storage.Package) error {
		p.OnboardingState = storage.OnboardingUploading
		// A new upload is the current onboarding procedure: the failure
		// of an earlier one (a failed upload_from_uri) no longer applies.
		p.OnboardingFailureDetails = nil
		return nil
	}); err != nil {
		return storageError(err, "VNF package "+id)
	}
	if err := s.storeContent(ctx, id, body); err != nil {
		s.backToCreated(id)
		return err
	}
	return c.NoContent(http.StatusAccepted)
}

// backToCreated undoes UPLOADING after a failed upload, so it can be retried.
func (s *Server) backToCreated(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := s.db.UpdatePackageIf(ctx, id, storage.InOnboarding(storage.OnboardingUploading), func(p *storage.Package) error {
		p.OnboardingState = storage.OnboardingCreated
		return nil
	})
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		s.log.Warn("failed upload not rolled back", "package", id, "error", err)
	}
}

// storeContent streams body into the blob store while hashing it, then
// records the content and enqueues onboarding in one transaction. The blob
// is committed before the row names it, so a row never points at a
// missing blob; a crash in between leaves an orphan Reconcile removes.
func (s *Server) storeContent(ctx context.Context, id string, body io.Reader) error {
	w, err := s.blobs.Create(ctx)
	if err != nil {
		return err
	}
	h := newPipelinedHash(sha256.New())
	dg := newUploadDigester() // onepass.go
	n, err := io.CopyBuffer(io.MultiWriter(w, h, dg), io.LimitReader(body, s.cfg.MaxUploadSize+1), make([]byte, 1<<20))
	sumBytes := h.Sum()
	digests := dg.Close()
	switch {
	case err != nil:
		w.Abort()
		return sol013.Problemf(http.StatusBadRequest, "the package upload was interrupted after %d bytes: %v", n, err)
	case n > s.cfg.MaxUploadSize:
		w.Abort()
		return sol013.Problemf(http.StatusRequestEntityTooLarge, "the package is larger than the %d bytes this server accepts", s.cfg.MaxUploadSize)
	case n == 0:
		w.Abort()
		return sol013.NewProblem(http.StatusBadRequest, "the package is empty (0 bytes)")
	}
	key := storage.NewContentKey(id)
	if err := w.Commit(ctx, key); err != nil {
		return err
	}
	sum := hex.EncodeToString(sumBytes)
	now := time.Now().UTC()
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
		return tx.EnqueueJob(ctx, &storage.Job{PackageID: id, Kind: storage.JobOnboard})
	})
	if err != nil {
		if derr := s.blobs.Delete(context.Background(), key); derr != nil {
			s.log.Warn("uploaded content left for clean-up", "package", id, "error", derr)
		}
		return storageError(err, "VNF package "+id)
	}
	s.notify()
	return nil
}

// fetchRequest is UploadVnfPkgFromUriRequest.
type fetchRequest struct {
	AddressInformation string `json:"addressInformation"`
	UserName           string `json:"userName,omitempty"`
	Password           string `json:"password,omitempty"`
}

// uploadFromURI is POST .../package_content/upload_from_uri: the fetch
// runs as a persisted job (it resumes after a restart).
func (s *Server) uploadFromURI(c echo.Context) error {
	ctx := c.Request().Context()
	id := pathParam(c, "id")
	var req fetchRequest
	if err := readJSON(c, &req); err != nil {
		return err
	}
	u, err := url.Parse(req.AddressInformation)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return sol013.Problemf(http.StatusBadRequest, "addressInformation %q must be an http or https URL", req.AddressInformation)
	}
	err = s.db.Tx(ctx, func(tx *storage.DB) error {
		if _, err := tx.UpdatePackageIf(ctx, id, storage.InOnboarding(storage.OnboardingCreated), func(p *storage.Package) error {
			p.OnboardingState = storage.OnboardingUploading
			p.OnboardingFailureDetails = nil
			return nil
		}); err != nil {
			return err
		}
		return tx.EnqueueJob(ctx, &storage.Job{PackageID: id, Kind: JobFetch, Payload: storage.MustJSON(req)})
	})
	if err != nil {
		return storageError(err, "VNF package "+id)
	}
	s.notify()
	return c.NoContent(http.StatusAccepted)
}

// fetch runs a JobFetch: GET the address with a bounded time, redirect
// count and size, and store it as the package content. Its errors are
// ProblemDetails that fetchFailed records in the package.
func (s *Server) fetch(ctx context.Context, job *storage.Job) error {
	var req fetchRequest
	decode(job.Payload, &req)
	// Messages name the address without any password it may carry.
	addr := req.AddressInformation
	if u, err := url.Parse(addr); err == nil {
		addr = u.Redacted()
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.FetchTimeout)
	defer cancel()
	client := &http.Client{
		CheckRedirect: func(r *http.Request, via []*http.Request) error {
			if len(via) > s.cfg.FetchRedirects {
				return fmt.Errorf("stopped after %d redirects (at most %d are followed)", len(via)-1, s.cfg.FetchRedirects)
			}
			if r.URL.Scheme != "http" && r.URL.Scheme != "https" {
				return fmt.Errorf("redirect to a %s URL", r.URL.Scheme)
			}
			return nil
		},
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodGet, req.AddressInformation, nil)
	if err != nil {
		return sol013.Problemf(http.StatusBadRequest, "fetching %s: %v", addr, err)
	}
	if req.UserName != "" || req.Password != "" {
		hr.SetBasicAuth(req.UserName, req.Password)
	}
	resp, err := client.Do(hr)
	if err != nil {
		status := http.StatusBadGateway
		if errors.Is(err, context.DeadlineExceeded) {
			status = http.StatusGatewayTimeout
		}
		cause := errors.Unwrap(err) // the *url.Error's cause: its text repeats the URL
		if cause == nil {
			cause = err
		}
		return sol013.Problemf(status, "fetching %s: %v", addr, cause)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return sol013.Problemf(http.StatusBadGateway, "fetching %s: the server answered %s", addr, resp.Status)
	}
	if err := s.storeContent(ctx, job.PackageID, resp.Body); err != nil {
		var pd *sol013.ProblemDetails
		if errors.As(err, &pd) {
			q := pd.Clone()
			q.Detail = "fetching " + addr + ": " + q.Detail
			return q
		}
		return err
	}
	return nil
}

// fetchFailed ends a failed upload_from_uri: the package goes back from
// UPLOADING to CREATED, so that the upload can be retried (SOL 005 accepts
// uploads in CREATED only), with onboardingFailureDetails saying why, as
// SOL 005 has it for an upload that fails ("present when the onboarding
// state is CREATED and the uploading or processing fails"). ERROR is for
// content that was received and found invalid.
func (s *Server) fetchFailed(id string, cause error) {
	pd := sol013.ProblemFromError(cause)
	if pd.Status >= 500 && pd.Status != http.StatusBadGateway && pd.Status != http.StatusGatewayTimeout {
		// Not an answer of the origin: log the cause, reveal no internals.
		s.log.Error("upload from URI", "package", id, "error", cause)
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
		s.log.Warn("failed fetch not rolled back", "package", id, "error", err)
	}
}

// pipelinedHash hashes in its own goroutine what is written to it, so that
// hashing an upload overlaps reading the socket and writing the blob
// instead of adding to them. Write copies the chunk into one of two
// buffers and returns; Sum waits for the hashing to finish.
type pipelinedHash struct {
	h     hash.Hash
	work  chan []byte
	free  chan []byte
	done  chan struct{}
	final []byte
}

func newPipelinedHash(h hash.Hash) *pipelinedHash {
	p := &pipelinedHash{h: h, work: make(chan []byte, 1), free: make(chan []byte, 2), done: make(chan struct{})}
	p.free <- make([]byte, 0, 1<<20)
	p.free <- make([]byte, 0, 1<<20)
	go func() {
		defer close(p.done)
		for b := range p.work {
			p.h.Write(b)
			p.free <- b[:0]
		}
		p.final = p.h.Sum(nil)
	}()
	return p
}

func (p *pipelinedHash) Write(b []byte) (int, error) {
	buf := append(<-p.free, b...)
	p.work <- buf
	return len(b), nil
}

// Sum ends the stream and returns the digest; Write must not follow.
func (p *pipelinedHash) Sum() []byte {
	close(p.work)
	<-p.done
	return p.final
}
