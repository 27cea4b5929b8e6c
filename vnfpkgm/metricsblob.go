package vnfpkgm

// This file is the blob store decorator that counts failed operations
// (vnfpkgm_blob_errors_total{op}). Errors pass through unchanged, so
// callers' errors.Is checks (not found, no space) keep working.

import (
	"context"
	"errors"
	"io"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vnfpkgm/vnfpkgm/storage/blob"
)

type instrumentedStore struct {
	inner blob.Store
	errs  *prometheus.CounterVec
}

// instrumentedCleaner keeps the TempCleaner of a store that has one:
// start-up and sweeps look for it with a type assertion.
type instrumentedCleaner struct {
	*instrumentedStore
	blob.TempCleaner
}

func instrumentBlobs(store blob.Store, errs *prometheus.CounterVec) blob.Store {
	s := &instrumentedStore{inner: store, errs: errs}
	if tc, ok := store.(blob.TempCleaner); ok {
		return instrumentedCleaner{s, tc}
	}
	return s
}

// count records err under op, unless it is a missing object (an answer,
// not a failure: /readyz and every 404 ask for those) or the end of data.
func (s *instrumentedStore) count(op string, err error) error {
	if err != nil && !errors.Is(err, blob.ErrNotFound) && !errors.Is(err, io.EOF) {
		s.errs.WithLabelValues(op).Inc()
	}
	return err
}

func (s *instrumentedStore) Create(ctx context.Context) (blob.Writer, error) {
	w, err := s.inner.Create(ctx)
	if err != nil {
		return nil, s.count("create", err)
	}
	return &instrumentedWriter{Writer: w, store: s}, nil
}

func (s *instrumentedStore) Open(ctx context.Context, key string) (blob.Object, error) {
	o, err := s.inner.Open(ctx, key)
	if err != nil {
		return nil, s.count("open", err)
	}
	return &instrumentedObject{Object: o, store: s}, nil
}

func (s *instrumentedStore) Stat(ctx context.Context, key string) (blob.Info, error) {
	info, err := s.inner.Stat(ctx, key)
	return info, s.count("stat", err)
}

func (s *instrumentedStore) Delete(ctx context.Context, key string) error {
	return s.count("delete", s.inner.Delete(ctx, key))
}

func (s *instrumentedStore) List(ctx context.Context, prefix string, fn func(blob.Info) error) error {
	// Only the store's own failures count, not those of fn.
	var fnErr error
	err := s.inner.List(ctx, prefix, func(i blob.Info) error {
		fnErr = fn(i)
		return fnErr
	})
	if err != nil && fnErr != nil && errors.Is(err, fnErr) {
		return err
	}
	return s.count("list", err)
}

type instrumentedWriter struct {
	blob.Writer
	store *instrumentedStore
}

func (w *instrumentedWriter) Write(p []byte) (int, error) {
	n, err := w.Writer.Write(p)
	return n, w.store.count("write", err)
}

func (w *instrumentedWriter) Commit(ctx context.Context, key string) error {
	return w.store.count("commit", w.Writer.Commit(ctx, key))
}

type instrumentedObject struct {
	blob.Object
	store *instrumentedStore
}

func (o *instrumentedObject) Read(p []byte) (int, error) {
	n, err := o.Object.Read(p)
	return n, o.store.count("read", err)
}

func (o *instrumentedObject) ReadAt(p []byte, off int64) (int, error) {
	n, err := o.Object.ReadAt(p, off)
	return n, o.store.count("read", err)
}

// ReadFrom keeps the store's own ReadFrom (the filesystem store hands
// the source to the file). A failure of the source (the client's body)
// is not a blob store error.
func (w *instrumentedWriter) ReadFrom(r io.Reader) (int64, error) {
	src := &sourceErrors{r: r}
	var n int64
	var err error
	if rf, ok := w.Writer.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(src)
	} else {
		n, err = io.Copy(struct{ io.Writer }{w.Writer}, src)
	}
	if err != nil && (src.err == nil || !errors.Is(err, src.err)) {
		w.store.count("write", err)
	}
	return n, err
}

// sourceErrors remembers the last error of the reader it wraps.
type sourceErrors struct {
	r   io.Reader
	err error
}

func (s *sourceErrors) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		s.err = err
	}
	return n, err
}
