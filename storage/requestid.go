package storage

import "context"

// requestIDKey carries the id of the HTTP request (X-Request-Id) that
// caused the work under way, so that a job queued by it records it
// (Job.RequestID) and the job's log lines carry it, on whichever replica
// runs the job.
type requestIDKey struct{}

// WithRequestID returns ctx carrying the request id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestIDFrom is the request id ctx carries, "" when none.
func RequestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}
