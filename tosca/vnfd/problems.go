package vnfd

import (
	"fmt"

	"github.com/vnfpkgm/vnfpkgm/tosca"
)

// Problem codes reported by Extract. They are stable: clients match on them.
const (
	// CodeNoVNFNode: neither a node template nor a substituted node type
	// derived from tosca.nodes.nfv.VNF.
	CodeNoVNFNode = "vnfd-no-vnf-node"
	// CodeVNFPropertyMissing: descriptor_id, descriptor_version, provider,
	// product_name or software_version has no value anywhere.
	CodeVNFPropertyMissing = "vnfd-vnf-property-missing"
	// CodeNoFlavour: no deployment flavour.
	CodeNoFlavour = "vnfd-no-flavour"
	// CodeFlavourIDMissing: a flavour topology gives no flavour_id.
	CodeFlavourIDMissing = "vnfd-flavour-id-missing"
	// CodeDuplicateFlavourID: two flavours share a flavour_id.
	CodeDuplicateFlavourID = "vnfd-duplicate-flavour-id"
	// CodeFlavourNodeType: a flavour substitutes a VNF node type unrelated
	// to the VNFD's.
	CodeFlavourNodeType = "vnfd-flavour-node-type"

	// CodeMultipleSwImages: more than one SwImage artifact on one node.
	CodeMultipleSwImages = "vnfd-multiple-sw-images"
	// CodeSwImageDataMissing: a SwImage artifact on a node without sw_image_data.
	CodeSwImageDataMissing = "vnfd-sw-image-data-missing"
	// CodeSwImageNotInPackage (warning): sw_image_data without a SwImage
	// artifact, and no other node delivers an image with the same checksum.
	CodeSwImageNotInPackage = "vnfd-sw-image-not-in-package"
	// CodeSwImageUntyped (warning): an artifact in short form, without a
	// type, on a VDU or storage node is taken as its SwImage artifact (as
	// Tacker does).
	CodeSwImageUntyped = "vnfd-sw-image-untyped"
	// CodeSwImageHostPath: a SwImage artifact whose file is an absolute
	// path, a file on the VNFM host rather than in the package.
	CodeSwImageHostPath = "vnfd-sw-image-host-path"
	// CodeInvalidSize: a scalar-unit.size value that does not parse.
	CodeInvalidSize = "vnfd-invalid-size"
	// CodeVduProfileRange: vdu_profile min_number_of_instances exceeds max.
	CodeVduProfileRange = "vnfd-vdu-profile-range"

	// CodeDuplicatePolicy: a flavour has two InstantiationLevels policies.
	CodeDuplicatePolicy = "vnfd-duplicate-policy"
	// CodeInstantiationLevelsMissing: Vdu/VirtualLink InstantiationLevels
	// policies without an InstantiationLevels policy.
	CodeInstantiationLevelsMissing = "vnfd-instantiation-levels-missing"
	// CodeUnknownInstantiationLevel: a level that InstantiationLevels does not define.
	CodeUnknownInstantiationLevel = "vnfd-unknown-instantiation-level"
	// CodeUnknownDefaultLevel: default_level is not among the levels.
	CodeUnknownDefaultLevel = "vnfd-unknown-default-level"
	// CodeDefaultLevelMissing (warning): several levels and no default_level.
	CodeDefaultLevelMissing = "vnfd-default-level-missing"
	// CodeUnknownScalingAspect: an aspect that no ScalingAspects policy defines.
	CodeUnknownScalingAspect = "vnfd-unknown-scaling-aspect"
	// CodeDuplicateScalingAspect: two ScalingAspects policies define one aspect.
	CodeDuplicateScalingAspect = "vnfd-duplicate-scaling-aspect"
	// CodeScaleLevelRange: a scale_level outside 0..max_scale_level.
	CodeScaleLevelRange = "vnfd-scale-level-range"
	// CodeUnknownScalingDelta (warning): a VduScalingAspectDeltas delta that
	// the aspect's step_deltas do not list (Tacker's samples do this).
	CodeUnknownScalingDelta = "vnfd-unknown-scaling-delta"
	// CodePolicyTargetNotVDU: a policy type that applies to
	// Vdu.Compute nodes targets something else.
	CodePolicyTargetNotVDU = "vnfd-policy-target-not-vdu"
	// CodePolicyTargetNotVirtualLink: a policy type that applies to
	// VnfVirtualLink nodes targets something else.
	CodePolicyTargetNotVirtualLink = "vnfd-policy-target-not-virtual-link"
	// CodePolicyTargetInvalid: an affinity rule targets something other
	// than a VDU, a virtual link or a placement group.
	CodePolicyTargetInvalid = "vnfd-policy-target-invalid"
	// CodePolicyNoTargets (warning): a VDU or virtual-link policy with no targets.
	CodePolicyNoTargets = "vnfd-policy-no-targets"
)

// report records a problem.
func (x *extractor) report(sev tosca.Severity, code string, p tosca.Position, format string, args ...any) {
	x.problems = append(x.problems, tosca.Problem{
		Severity: sev,
		Code:     code,
		File:     p.File,
		Line:     p.Line,
		Column:   p.Column,
		Message:  fmt.Sprintf(format, args...),
	})
}

func (x *extractor) errorf(code string, p tosca.Position, format string, args ...any) {
	x.report(tosca.SeverityError, code, p, format, args...)
}

func (x *extractor) warnf(code string, p tosca.Position, format string, args ...any) {
	x.report(tosca.SeverityWarning, code, p, format, args...)
}
