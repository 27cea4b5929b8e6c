package vnfpkgm

import (
	"testing"

	"github.com/vnfpkgm/vnfpkgm/storage"
	"github.com/vnfpkgm/vnfpkgm/vnfpkgm/sol013"
)

// TestFilterViewAgreesWithRepresentation checks that the partial view the
// list filters use gives the same verdict as the full representation.
func TestFilterViewAgreesWithRepresentation(t *testing.T) {
	p := &storage.Package{
		ID: "0b5ae7a4-4c8a-4c5e-9f6b-7e0a3f0e2d11", VnfdID: "vnfd-1", VnfProvider: "Acme", VnfProductName: "vFW, edge",
		VnfSoftwareVersion: "1.2", VnfdVersion: "3", OnboardingState: "ONBOARDED", OperationalState: "ENABLED", UsageState: "NOT_IN_USE",
		Checksum: storage.MustJSON(Checksum{Algorithm: "SHA-256", Hash: "ab"}),
		SoftwareImages: storage.MustJSON([]SoftwareImageInfo{
			{ID: "VDU1", Name: "img", Checksum: Checksum{Algorithm: "sha-512", Hash: "cd"}, DiskFormat: "QCOW2", Size: 1 << 30},
			{ID: "VDU2", Name: "img2", Checksum: Checksum{Algorithm: "sha-256", Hash: "ef"}, DiskFormat: "RAW", Size: 10},
		}),
		AdditionalArtifacts: storage.MustJSON([]ArtifactInfo{{ArtifactPath: "Scripts/install.sh", Checksum: Checksum{Algorithm: "SHA-256", Hash: "01"}}}),
		UserDefinedData:     storage.MustJSON(map[string]any{"owner": "nfvo", "n": 7}),
		VnfmInfo:            storage.MustJSON([]string{"Tacker"}),
	}
	filters := []string{
		"(eq,vnfProvider,Acme)", "(neq,vnfProvider,Acme)", "(cont,vnfProductName,edge)", "(eq,vnfProductName,'vFW, edge')",
		"(eq,softwareImages/diskFormat,RAW)", "(neq,softwareImages/diskFormat,ISO)", "(gt,softwareImages/size,100)",
		"(lte,softwareImages/size,5)", "(eq,checksum/algorithm,SHA-256)", "(in,additionalArtifacts/artifactPath,a,Scripts/install.sh)",
		"(eq,userDefinedData/owner,nfvo)", "(gte,userDefinedData/n,7)", "(eq,vnfmInfo,Tacker)", "(nin,onboardingState,ERROR,CREATED)",
		"(eq,signingCertificate,x)", "(neq,packageSecurityOption,OPTION_1)", "(eq,id,0b5ae7a4-4c8a-4c5e-9f6b-7e0a3f0e2d11);(eq,usageState,NOT_IN_USE)",
	}
	full := asMap(toInfo(p, "http://127.0.0.1:9890"))
	for _, expr := range filters {
		f, err := sol013.ParseFilter(expr)
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		if got, want := f.Match(newFilterView(f).of(p)), f.Match(full); got != want {
			t.Errorf("%s: view says %v, representation says %v", expr, got, want)
		}
	}
}
