package vnfpkgm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/vnfpkgm/vnfpkgm/csar"
	"github.com/vnfpkgm/vnfpkgm/storage"
	"github.com/vnfpkgm/vnfpkgm/vnfpkgm/sol013"
	"github.com/vnfpkgm/vnfpkgm/vnfpkgm/validate"
)

// maxAttempts is how often a job is claimed before it is given up: a job
// that kills its worker every time must not loop forever.
const maxAttempts = 5

// notify wakes one idle worker.
func (s *Server) notify() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// work claims and runs jobs of the given kinds until ctx ends. It polls
// the shared queue (other replicas enqueue too) and wakes early when this
// process enqueues (wake).
func (s *Server) work(ctx context.Context, owner string, kinds storage.JobKinds, wake <-chan struct{}) {
	for ctx.Err() == nil {
		job, err := s.db.ClaimJobOf(ctx, owner, s.cfg.JobLease, kinds)
		if err != nil {
			if !errors.Is(err, storage.ErrNoJob) && ctx.Err() == nil {
				s.log.Error("claiming a job", "error", err)
			}
			select {
			case <-ctx.Done():
			case <-wake:
			case <-time.After(time.Second):
			}
			continue
		}
		s.metrics.jobsClaimed.WithLabelValues(job.Kind).Inc()
		s.runJob(ctx, owner, job)
	}
}

// runJob runs one claimed job, renewing its lease meanwhile.
func (s *Server) runJob(ctx context.Context, owner string, job *storage.Job) {
	log := s.log.With("request_id", job.RequestID, "job", job.ID, "kind", job.Kind, "package", job.PackageID, "attempt", job.Attempts)
	// What the job logs and the jobs it queues carry its request id.
	jobCtx, cancel := context.WithCancel(storage.WithRequestID(ctx, job.RequestID))
	defer cancel()
	go func() {
		t := time.NewTicker(s.cfg.JobLease / 3)
		defer t.Stop()
		for {
			select {
			case <-jobCtx.Done():
				return
			case <-t.C:
				if err := s.db.RenewLease(jobCtx, job.ID, owner, s.cfg.JobLease); err != nil && jobCtx.Err() == nil {
					log.Warn("lease lost", "error", err)
					cancel()
					return
				}
			}
		}
	}()
	start := time.Now()
	var err error
	switch {
	case job.Kind == JobUpload:
		// Claimed by a worker: its uploader is gone.
		err = s.uploadAbandoned(jobCtx, job)
	case job.Attempts > maxAttempts:
		err = fmt.Errorf("given up after %d attempts", job.Attempts-1)
		if job.Kind == JobFetch {
			// The package is UPLOADING: failPackage (PROCESSING only)
			// would leave it there.
			s.fetchFailed(jobCtx, job.PackageID, fmt.Errorf("the fetch was interrupted too often: %w", err))
		} else {
			s.failPackage(job.PackageID, []csar.Problem{{Severity: csar.SeverityError, Code: "onboarding-aborted", Message: "onboarding was interrupted too often: " + err.Error()}})
		}
	case job.Kind == storage.JobOnboard:
		err = s.onboard(jobCtx, job.PackageID)
	case job.Kind == JobFetch:
		// Whatever ends the fetch here, its credentials go with it (a
		// later attempt, here or elsewhere, finds them lost).
		defer s.fetchSecrets.Delete(job.ID)
		err = s.fetch(jobCtx, job)
		if err != nil && ctx.Err() == nil {
			s.fetchFailed(jobCtx, job.PackageID, err)
		}
	default:
		err = fmt.Errorf("unknown job kind %q", job.Kind)
	}
	if ctx.Err() != nil {
		// Shutting down: the job is released and resumes later.
		return
	}
	var retry *retryLater
	if errors.As(err, &retry) {
		log.Warn("job to be retried", "error", err, "duration", time.Since(start))
		if rerr := s.db.RetryJob(context.Background(), job.ID, owner, err.Error(), retryDelay); rerr != nil {
			log.Error("queueing the job again", "error", rerr)
		}
		return
	}
	if err != nil {
		log.Warn("job failed", "error", err, "duration", time.Since(start))
		s.metrics.jobsFailed.WithLabelValues(job.Kind).Inc()
		if ferr := s.db.FailJob(context.Background(), job.ID, owner, err.Error()); ferr != nil {
			log.Error("recording the failure", "error", ferr)
		}
		return
	}
	log.Info("job done", "duration", time.Since(start))
	if err := s.db.CompleteJob(context.Background(), job.ID, owner); err != nil {
		log.Error("completing the job", "error", err)
	}
}

// onboard processes an uploaded package: PROCESSING -> ONBOARDED, or
// ERROR with every problem found. A returned error means the job could
// not run (and may run again); a bad package is not an error of the job.
func (s *Server) onboard(ctx context.Context, id string) error {
	started := time.Now()
	p, err := s.db.GetPackage(ctx, id)
	if err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return nil // deleted meanwhile: nothing to do
		}
		return err
	}
	if p.OnboardingState != storage.OnboardingProcessing || !p.HasContent() {
		return nil
	}
	obj, err := s.blobs.Open(ctx, *p.ContentKey)
	if err != nil {
		return fmt.Errorf("opening the content: %w", err)
	}
	defer obj.Close()
	sigOpts, err := s.cfg.Sign.options()
	if err != nil {
		return err
	}
	rep, err := validate.Package(ctx, obj, obj.Size(), validate.Options{Limits: s.cfg.Limits, Precomputed: storedUploadDigests(p), Signatures: sigOpts})
	if err != nil {
		return err
	}
	s.logFor(ctx).Debug("onboarding digests", "package", id, "fromUpload", rep.DigestsKnown, "readBack", rep.DigestsRead)
	if !rep.Valid {
		return s.rejectPackage(id, rep.Problems, started)
	}
	_, err = s.db.UpdatePackageIf(ctx, id, storage.InOnboarding(storage.OnboardingProcessing), func(p *storage.Package) error {
		applyReport(p, rep)
		p.UploadDigests = nil
		p.OnboardingState = storage.OnboardingOnboarded
		p.OperationalState = storage.OperationalEnabled
		p.OnboardingFailureDetails = nil
		return nil
	})
	if errors.Is(err, storage.ErrVnfdIDOnboarded) {
		existing, gerr := s.db.GetOnboardedPackage(ctx, rep.VnfdID)
		other := "another package"
		if gerr == nil {
			other = "package " + existing.ID
		}
		return s.rejectPackage(id, []csar.Problem{{Severity: csar.SeverityError, Code: "vnfd-id-duplicate", File: rep.EntryDefinitions,
			Message: fmt.Sprintf("vnfdId %s is already the vnfdId of %s, which is ONBOARDED", rep.VnfdID, other)}}, started)
	}
	if errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrConflict) {
		return nil // deleted or changed meanwhile
	}
	if err == nil {
		s.metrics.onboardingEnded("onboarded", started)
		// The package is ONBOARDED whatever happens here.
		s.autoRegisterImages(ctx, id)
	}
	return err
}

// applyReport records the facts of a validation in the package row.
func applyReport(p *storage.Package, rep *validate.Report) {
	p.VnfdID, p.VnfProvider, p.VnfProductName = rep.VnfdID, rep.VnfProvider, rep.VnfProductName
	p.VnfSoftwareVersion, p.VnfdVersion = rep.VnfSoftwareVersion, rep.VnfdVersion
	p.PackageSecurityOption, p.SigningCertificate = rep.PackageSecurityOption, rep.SigningCertificate
	p.VnfmInfo, p.CompatibleSpecificationVersions = nil, nil
	if len(rep.VnfmInfo) > 0 {
		p.VnfmInfo = storage.MustJSON(rep.VnfmInfo)
	}
	if len(rep.CompatibleSpecificationVersions) > 0 {
		p.CompatibleSpecificationVersions = storage.MustJSON(rep.CompatibleSpecificationVersions)
	}
	created := time.Now().UTC().Format(time.RFC3339)
	images := make([]SoftwareImageInfo, 0, len(rep.SoftwareImages))
	for _, im := range rep.SoftwareImages {
		images = append(images, SoftwareImageInfo{
			ID: im.ID, Name: im.Name, Provider: im.Provider, Version: im.Version,
			Checksum: im.Checksum, ContainerFormat: im.ContainerFormat, DiskFormat: im.DiskFormat,
			CreatedAt: created, MinDisk: im.MinDisk, MinRAM: im.MinRam, Size: im.Size,
			ImagePath: im.ImagePath, ImageURI: im.ImageURI,
		})
	}
	p.SoftwareImages = storage.MustJSON(images)
	arts := make([]ArtifactInfo, 0, len(rep.AdditionalArtifacts))
	for _, a := range rep.AdditionalArtifacts {
		arts = append(arts, ArtifactInfo{ArtifactPath: a.ArtifactPath, ArtifactURI: a.ArtifactURI, Checksum: a.Checksum,
			NonManoArtifactSetID: a.NonManoArtifactSetID, ArtifactClassification: a.ArtifactClassification})
	}
	p.AdditionalArtifacts = storage.MustJSON(arts)
}

// rejectPackage ends the onboarding of an invalid package in ERROR.
func (s *Server) rejectPackage(id string, problems []csar.Problem, started time.Time) error {
	err := s.failPackage(id, problems)
	if err == nil {
		s.metrics.onboardingEnded("error", started)
	}
	return err
}

// failPackage puts a package in ERROR with a ProblemDetails listing every
// problem (errors and warnings), each with file, line and column.
func (s *Server) failPackage(id string, problems []csar.Problem) error {
	var errs []string
	for _, p := range problems {
		if p.Severity == csar.SeverityError {
			errs = append(errs, p.String())
		}
	}
	detail := fmt.Sprintf("the package is invalid: %d problem(s): %s", len(errs), strings.Join(errs, "; "))
	if len(detail) > 4000 {
		detail = detail[:3997] + "..."
	}
	pd := sol013.NewProblem(http.StatusUnprocessableEntity, detail)
	pd.Title = "Invalid VNF package"
	pd.With("problems", problems)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := s.db.UpdatePackageIf(ctx, id, storage.InOnboarding(storage.OnboardingProcessing), func(p *storage.Package) error {
		p.OnboardingState = storage.OnboardingError
		p.UploadDigests = nil
		p.OperationalState = storage.OperationalDisabled
		p.OnboardingFailureDetails = storage.MustJSON(pd)
		return nil
	})
	if errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrConflict) {
		return nil
	}
	return err
}
