package sol013

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

// realisticPackages builds n VnfPkgInfo representations shaped like
// json.Unmarshal output, with varied providers, states and images.
func realisticPackages(n int) []map[string]any {
	providers := []string{"Acme", "Company", "Example Networks", "Telco Ltd", "Vendor, Inc."}
	states := []string{"CREATED", "UPLOADING", "PROCESSING", "ONBOARDED", "ERROR"}
	algos := []string{"sha-256", "sha-384", "sha-512"}
	out := make([]map[string]any, n)
	for i := range out {
		var images []any
		for j := 0; j < 1+i%3; j++ {
			images = append(images, map[string]any{
				"id":              fmt.Sprintf("VDU%d", j+1),
				"name":            fmt.Sprintf("image-%d-%d", i, j),
				"provider":        providers[(i+j)%len(providers)],
				"version":         "1.0",
				"checksum":        map[string]any{"algorithm": algos[(i+j)%len(algos)], "hash": fmt.Sprintf("%064x", i*7+j)},
				"isEncrypted":     false,
				"containerFormat": "BARE",
				"diskFormat":      "QCOW2",
				"createdAt":       time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute).Format(time.RFC3339),
				"minDisk":         float64(j * 5),
				"minRam":          float64(512),
				"size":            float64(1_000_000 * (1 + (i+j)%2000)),
				"imagePath":       fmt.Sprintf("Files/images/image-%d.qcow2", j),
				"userMetadata":    map[string]any{"os": "linux"},
			})
		}
		id := fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i)
		out[i] = map[string]any{
			"id":                              id,
			"vnfdId":                          fmt.Sprintf("vnfd-%d", i%1000),
			"vnfProvider":                     providers[i%len(providers)],
			"vnfProductName":                  fmt.Sprintf("Product %d", i%50),
			"vnfSoftwareVersion":              "1.0",
			"vnfdVersion":                     "1.0",
			"compatibleSpecificationVersions": []any{"2.6.1"},
			"checksum":                        map[string]any{"algorithm": "SHA-256", "hash": fmt.Sprintf("%064x", i)},
			"packageSecurityOption":           "OPTION_1",
			"softwareImages":                  images,
			"additionalArtifacts": []any{
				map[string]any{"artifactPath": "Scripts/install.sh", "checksum": map[string]any{"algorithm": "SHA-256", "hash": "ab"}},
			},
			"onboardingState":  states[i%len(states)],
			"operationalState": "ENABLED",
			"usageState":       "NOT_IN_USE",
			"userDefinedData":  map[string]any{"key": fmt.Sprint(i % 10)},
			"_links": map[string]any{
				"self":           map[string]any{"href": "/vnfpkgm/v1/vnf_packages/" + id},
				"vnfd":           map[string]any{"href": "/vnfpkgm/v1/vnf_packages/" + id + "/vnfd"},
				"packageContent": map[string]any{"href": "/vnfpkgm/v1/vnf_packages/" + id + "/package_content"},
			},
		}
	}
	return out
}

// BenchmarkFilterMatch matches a 3-term filter against 100,000 packages per
// iteration and reports the cost per resource.
func BenchmarkFilterMatch(b *testing.B) {
	const n = 100_000
	pkgs := realisticPackages(n)
	f, err := ParseFilter("(eq,onboardingState,ONBOARDED);(eq,softwareImages/checksum/algorithm,sha-512);(gt,softwareImages/size,500000000)")
	if err != nil {
		b.Fatal(err)
	}
	if err := f.Validate(testSchema); err != nil {
		b.Fatal(err)
	}
	matched := 0
	runtime.GC() // finish collecting after the build, outside the timing
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		matched = 0
		for _, p := range pkgs {
			if f.Match(p) {
				matched++
			}
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	if matched == 0 || matched == n {
		b.Fatalf("matched %d of %d: the filter is not selective", matched, n)
	}
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(b.N*n), "ns/resource")
	b.ReportMetric(float64(matched), "matched")
}
