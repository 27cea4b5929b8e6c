package vnfpkgm

import (
	"bytes"
	"encoding/json"

	"github.com/vnfpkgm/vnfpkgm/storage"
	"github.com/vnfpkgm/vnfpkgm/vnfpkgm/sol013"
)

// filterView builds, for one stored package, the part of its VnfPkgInfo
// JSON object that a filter looks at. Lists run the filter over every row
// they scan, so this avoids building the whole representation (and a JSON
// round trip) for rows that do not match: scalar attributes come straight
// from their columns, and a JSON column is decoded only when the filter
// names an attribute inside it.
type filterView struct {
	need map[string]bool // top-level attributes the filter names
}

func newFilterView(f *sol013.Filter) *filterView {
	v := &filterView{need: map[string]bool{}}
	if f != nil {
		for i := range f.Terms {
			if path := f.Terms[i].Path(); len(path) > 0 {
				v.need[path[0]] = true
			}
		}
	}
	return v
}

// jsonColumns are the VnfPkgInfo attributes stored as JSON documents whose
// JSON is the attribute's representation as is.
var jsonColumns = map[string]func(*storage.Package) storage.JSON{
	"compatibleSpecificationVersions": func(p *storage.Package) storage.JSON { return p.CompatibleSpecificationVersions },
	"checksum":                        func(p *storage.Package) storage.JSON { return p.Checksum },
	"softwareImages":                  func(p *storage.Package) storage.JSON { return p.SoftwareImages },
	"additionalArtifacts":             func(p *storage.Package) storage.JSON { return p.AdditionalArtifacts },
	"vnfmInfo":                        func(p *storage.Package) storage.JSON { return p.VnfmInfo },
	"userDefinedData":                 func(p *storage.Package) storage.JSON { return p.UserDefinedData },
	"onboardingFailureDetails":        func(p *storage.Package) storage.JSON { return p.OnboardingFailureDetails },
}

// of returns the filterable object of p.
func (v *filterView) of(p *storage.Package) map[string]any {
	m := make(map[string]any, len(v.need))
	for attr := range v.need {
		if attr == "checksum" && p.OnboardingState != storage.OnboardingOnboarded {
			continue // absent before onboarding, as in the representation
		}
		if col, ok := jsonColumns[attr]; ok {
			if j := col(p); len(j) > 0 && string(j) != "null" {
				d := json.NewDecoder(bytes.NewReader(j))
				d.UseNumber()
				var x any
				if d.Decode(&x) == nil {
					m[attr] = x
				}
			}
			continue
		}
		if s := scalarAttr(p, attr); s != "" {
			m[attr] = s
		}
	}
	return m
}

// scalarAttr is a string attribute of VnfPkgInfo ("" when absent).
func scalarAttr(p *storage.Package, attr string) string {
	switch attr {
	case "id":
		return p.ID
	case "vnfdId":
		return p.VnfdID
	case "vnfProvider":
		return p.VnfProvider
	case "vnfProductName":
		return p.VnfProductName
	case "vnfSoftwareVersion":
		return p.VnfSoftwareVersion
	case "vnfdVersion":
		return p.VnfdVersion
	case "packageSecurityOption":
		return p.PackageSecurityOption
	case "signingCertificate":
		return p.SigningCertificate
	case "onboardingState":
		return p.OnboardingState
	case "operationalState":
		return p.OperationalState
	case "usageState":
		return p.UsageState
	}
	return ""
}
