package validate_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/vnfpkgm/vnfpkgm/csar"
	"github.com/vnfpkgm/vnfpkgm/vnfpkgm/validate"
)

// TestMetaFileBlockHashProblemsReported: a TOSCA.meta file block whose
// Hash is not a digest of its Algorithm is found while the digest checks
// are listed; the report must carry that problem (it was lost when the
// package's problems were copied before the checks were listed).
func TestMetaFileBlockHashProblemsReported(t *testing.T) {
	meta := compatFiles["TOSCA-Metadata/TOSCA.meta"]
	t.Cleanup(func() { compatFiles["TOSCA-Metadata/TOSCA.meta"] = meta })
	compatFiles["TOSCA-Metadata/TOSCA.meta"] = meta +
		"\nName: Scripts/health.sh\nContent-Type: text/x-sh\nAlgorithm: SHA-256\nHash: not-hex\n"
	for name, run := range map[string]func(context.Context, *bytes.Reader, int64, validate.Options) (*validate.Report, error){
		"Package": func(ctx context.Context, r *bytes.Reader, n int64, o validate.Options) (*validate.Report, error) {
			return validate.Package(ctx, r, n, o)
		},
		"Describe": func(ctx context.Context, r *bytes.Reader, n int64, o validate.Options) (*validate.Report, error) {
			return validate.Describe(ctx, r, n, o)
		},
	} {
		b := compatZip(t)
		rep, err := run(context.Background(), bytes.NewReader(b), int64(len(b)), validate.Options{})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, p := range rep.Problems {
			found = found || (p.Code == csar.CodeManifestHashMalformed && p.File == csar.MetaPath)
		}
		if !found || rep.Valid {
			t.Errorf("%s: valid=%v, no %s problem in TOSCA.meta:\n%s", name, rep.Valid, csar.CodeManifestHashMalformed, render(rep.Problems))
		}
	}
}
