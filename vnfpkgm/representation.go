package vnfpkgm

import (
	"bytes"
	"encoding/json"

	"github.com/vnfpkgm/vnfpkgm/storage"
	"github.com/vnfpkgm/vnfpkgm/vnfpkgm/sol013"
	"github.com/vnfpkgm/vnfpkgm/vnfpkgm/validate"
)

// Checksum is SOL 005's Checksum (algorithm and hex digest), the type
// package validation reports.
type Checksum = validate.Checksum

// APIVersion is the version of the SOL 005 VNF package management API
// served under /vnfpkgm/v1, as ETSI's v2.6.1 conformance suite and Tacker
// report it.
const APIVersion = "2.6.1"

// BasePath is the URI prefix of the API.
const BasePath = "/vnfpkgm/v1"

// VnfPkgInfo is the SOL 005 representation of a package.
type VnfPkgInfo struct {
	ID                              string                 `json:"id"`
	VnfdID                          string                 `json:"vnfdId,omitempty"`
	VnfProvider                     string                 `json:"vnfProvider,omitempty"`
	VnfProductName                  string                 `json:"vnfProductName,omitempty"`
	VnfSoftwareVersion              string                 `json:"vnfSoftwareVersion,omitempty"`
	VnfdVersion                     string                 `json:"vnfdVersion,omitempty"`
	CompatibleSpecificationVersions []string               `json:"compatibleSpecificationVersions,omitempty"`
	Checksum                        *Checksum              `json:"checksum,omitempty"`
	PackageSecurityOption           string                 `json:"packageSecurityOption,omitempty"`
	SigningCertificate              string                 `json:"signingCertificate,omitempty"`
	SoftwareImages                  []SoftwareImageInfo    `json:"softwareImages,omitempty"`
	AdditionalArtifacts             []ArtifactInfo         `json:"additionalArtifacts,omitempty"`
	OnboardingState                 string                 `json:"onboardingState"`
	OperationalState                string                 `json:"operationalState"`
	UsageState                      string                 `json:"usageState"`
	VnfmInfo                        []string               `json:"vnfmInfo,omitempty"`
	UserDefinedData                 map[string]any         `json:"userDefinedData,omitempty"`
	OnboardingFailureDetails        *sol013.ProblemDetails `json:"onboardingFailureDetails,omitempty"`
	Links                           PkgLinks               `json:"_links"`
}

// SoftwareImageInfo is VnfPackageSoftwareImageInfo.
type SoftwareImageInfo struct {
	ID              string         `json:"id"`
	Name            string         `json:"name"`
	Provider        string         `json:"provider"`
	Version         string         `json:"version"`
	Checksum        Checksum       `json:"checksum"`
	IsEncrypted     bool           `json:"isEncrypted"`
	ContainerFormat string         `json:"containerFormat"`
	DiskFormat      string         `json:"diskFormat"`
	CreatedAt       string         `json:"createdAt"`
	MinDisk         int64          `json:"minDisk"`
	MinRAM          int64          `json:"minRam"`
	Size            int64          `json:"size"`
	UserMetadata    map[string]any `json:"userMetadata,omitempty"`
	ImagePath       string         `json:"imagePath,omitempty"`
	ImageURI        string         `json:"imageUri,omitempty"`
}

// ArtifactInfo is VnfPackageArtifactInfo.
type ArtifactInfo struct {
	ArtifactPath           string         `json:"artifactPath,omitempty"`
	ArtifactURI            string         `json:"artifactURI,omitempty"`
	Checksum               Checksum       `json:"checksum"`
	IsEncrypted            bool           `json:"isEncrypted"`
	NonManoArtifactSetID   string         `json:"nonManoArtifactSetId,omitempty"`
	ArtifactClassification string         `json:"artifactClassification,omitempty"`
	Metadata               map[string]any `json:"metadata,omitempty"`
}

// Link is a SOL 013 Link.
type Link struct {
	Href string `json:"href"`
}

// PkgLinks are the links of a VnfPkgInfo.
type PkgLinks struct {
	Self           Link `json:"self"`
	Vnfd           Link `json:"vnfd"`
	PackageContent Link `json:"packageContent"`
}

// toInfo builds the representation of a stored package. apiRoot
// ("http://host:port", see setAPIRoot) makes the links absolute, as SOL
// 013 asks.
func toInfo(p *storage.Package, apiRoot string) *VnfPkgInfo {
	self := apiRoot + BasePath + "/vnf_packages/" + p.ID
	info := &VnfPkgInfo{
		ID: p.ID, VnfdID: p.VnfdID, VnfProvider: p.VnfProvider, VnfProductName: p.VnfProductName,
		VnfSoftwareVersion: p.VnfSoftwareVersion, VnfdVersion: p.VnfdVersion,
		PackageSecurityOption: p.PackageSecurityOption, SigningCertificate: p.SigningCertificate,
		OnboardingState: p.OnboardingState, OperationalState: p.OperationalState, UsageState: p.UsageState,
		Links: PkgLinks{Self: Link{self}, Vnfd: Link{self + "/vnfd"}, PackageContent: Link{self + "/package_content"}},
	}
	decode(p.CompatibleSpecificationVersions, &info.CompatibleSpecificationVersions)
	decode(p.SoftwareImages, &info.SoftwareImages)
	decode(p.AdditionalArtifacts, &info.AdditionalArtifacts)
	decode(p.UserDefinedData, &info.UserDefinedData)
	decode(p.VnfmInfo, &info.VnfmInfo)
	// The checksum describes onboarded content: SOL 005 has it absent
	// before (the server computes it at upload, for the ETag).
	if len(p.Checksum) > 0 && p.OnboardingState == storage.OnboardingOnboarded {
		info.Checksum = &Checksum{}
		decode(p.Checksum, info.Checksum)
	}
	if len(p.OnboardingFailureDetails) > 0 {
		info.OnboardingFailureDetails = &sol013.ProblemDetails{}
		decode(p.OnboardingFailureDetails, info.OnboardingFailureDetails)
	}
	return info
}

// decode reads a JSON column written by this package; a column that does
// not decode is left empty rather than failing the whole representation
// (it can only come from a database edited by hand).
func decode(j storage.JSON, v any) {
	if len(j) > 0 && string(j) != "null" {
		_ = json.Unmarshal(j, v)
	}
}

// asMap is the JSON object form of a representation, as filters and
// attribute selectors see it.
func asMap(v any) map[string]any {
	b, err := json.Marshal(v)
	if err != nil {
		return map[string]any{}
	}
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		return map[string]any{}
	}
	return m
}

// defaultExcluded are the attributes a list leaves out unless asked
// (SOL 005 clause 9.4.2.3.2).
var defaultExcluded = []string{"softwareImages", "additionalArtifacts", "userDefinedData", "checksum"}

// pkgSchema describes VnfPkgInfo for filter validation.
var pkgSchema = sol013.Object(sol013.Fields{
	"id":                              sol013.String(),
	"vnfdId":                          sol013.String(),
	"vnfProvider":                     sol013.String(),
	"vnfProductName":                  sol013.String(),
	"vnfSoftwareVersion":              sol013.String(),
	"vnfdVersion":                     sol013.String(),
	"compatibleSpecificationVersions": sol013.ArrayOf(sol013.String()),
	"checksum":                        checksumSchema,
	"packageSecurityOption":           sol013.Enum("OPTION_1", "OPTION_2"),
	"signingCertificate":              sol013.String(),
	"softwareImages": sol013.ArrayOf(sol013.Object(sol013.Fields{
		"id": sol013.String(), "name": sol013.String(), "provider": sol013.String(), "version": sol013.String(),
		"checksum": checksumSchema, "isEncrypted": sol013.Boolean(),
		"containerFormat": sol013.Enum("AKI", "AMI", "ARI", "BARE", "DOCKER", "OVA", "OVF"),
		"diskFormat":      sol013.Enum("AKI", "AMI", "ARI", "ISO", "QCOW2", "RAW", "VDI", "VHD", "VHDX", "VMDK"),
		"createdAt":       sol013.DateTime(), "minDisk": sol013.Integer(), "minRam": sol013.Integer(), "size": sol013.Integer(),
		"userMetadata": sol013.FreeForm(), "imagePath": sol013.String(), "imageUri": sol013.String(),
	})),
	"additionalArtifacts": sol013.ArrayOf(sol013.Object(sol013.Fields{
		"artifactPath": sol013.String(), "artifactURI": sol013.String(), "checksum": checksumSchema,
		"isEncrypted": sol013.Boolean(), "nonManoArtifactSetId": sol013.String(),
		"artifactClassification": sol013.Enum("HISTORY", "TESTING", "LICENSE"), "metadata": sol013.FreeForm(),
	})),
	"onboardingState":          sol013.Enum("CREATED", "UPLOADING", "PROCESSING", "ONBOARDED", "ERROR"),
	"operationalState":         sol013.Enum("ENABLED", "DISABLED"),
	"usageState":               sol013.Enum("IN_USE", "NOT_IN_USE"),
	"vnfmInfo":                 sol013.ArrayOf(sol013.String()),
	"userDefinedData":          sol013.FreeForm(),
	"onboardingFailureDetails": sol013.FreeForm(),
})

var checksumSchema = sol013.Object(sol013.Fields{"algorithm": sol013.String(), "hash": sol013.String()})
