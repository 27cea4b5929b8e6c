// Package vnfd extracts the ETSI GS NFV-SOL 001 VNF descriptor from a
// processed TOSCA service template: the VNF itself (identity, provider,
// LCM interfaces), its deployment flavours, and for each flavour the VDUs,
// storages, connection points, virtual links, software images and
// policies (instantiation levels, scaling, placement).
//
// Extract only reads what tosca.Process produced; it adds the checks that
// SOL 001 (and the Tacker behaviour clients rely on) defines across node
// templates and policies, which a generic TOSCA processor cannot know.
//
// Sizes are bytes. Positions (the Pos fields) locate the YAML node that
// defined an element; they are left out of JSON.
package vnfd

import "github.com/vnfpkgm/vnfpkgm/tosca"

// VNFD is the descriptor of one VNF: the VNF node (the node type derived
// from tosca.nodes.nfv.VNF and the VNF node template of the entry topology)
// and its deployment flavours.
type VNFD struct {
	DescriptorID                string   `json:"descriptorId"`
	DescriptorVersion           string   `json:"descriptorVersion"`
	Provider                    string   `json:"provider"`
	ProductName                 string   `json:"productName"`
	SoftwareVersion             string   `json:"softwareVersion"`
	ProductInfoName             string   `json:"productInfoName,omitempty"`
	ProductInfoDescription      string   `json:"productInfoDescription,omitempty"`
	VnfmInfo                    []string `json:"vnfmInfo,omitempty"`
	LocalizationLanguages       []string `json:"localizationLanguages,omitempty"`
	DefaultLocalizationLanguage string   `json:"defaultLocalizationLanguage,omitempty"`
	// Description is the entry file's description.
	Description string `json:"description,omitempty"`
	// NodeType is the full name of the VNF node type.
	NodeType string `json:"nodeType"`
	// Node is the name of the VNF node template in the entry topology
	// ("" when the entry topology has none).
	Node string `json:"node,omitempty"`
	// Interfaces are the LCM interfaces of the entry VNF node template
	// (or, without one, the implemented operations of the VNF node type);
	// each flavour has its own VNF node template's in Flavour.Interfaces.
	Interfaces []*LcmInterface `json:"interfaces,omitempty"`
	Flavours   []*Flavour      `json:"flavours"`
	Pos        tosca.Position  `json:"-"`
}

// LcmInterface is an interface of the VNF node whose type derives from
// tosca.interfaces.nfv.Vnflcm (or, untyped, that is named Vnflcm), with the
// operations present on the node template (assigned by the template, or
// implemented by its type), in the order they were written.
type LcmInterface struct {
	Name       string          `json:"name"`
	Type       string          `json:"type,omitempty"`
	Operations []*LcmOperation `json:"operations"`
	Pos        tosca.Position  `json:"-"`
}

// LcmOperation is one operation of an LCM interface. Implementation is the
// primary artifact name or file ("" when the operation has none, as in
// Tacker's `instantiate: []`).
type LcmOperation struct {
	Name           string         `json:"name"`
	Implementation string         `json:"implementation,omitempty"`
	Dependencies   []string       `json:"dependencies,omitempty"`
	Pos            tosca.Position `json:"-"`
}

// Flavour is one deployment flavour: a topology template whose
// substitution_mappings substitute the VNF node type (or, in a VNFD
// without substitution, the entry topology itself).
type Flavour struct {
	ID          string `json:"flavourId"`
	Description string `json:"description,omitempty"`
	// File is the package path of the file that holds the topology.
	File string `json:"file"`
	// VNFNode is the VNF node template of the flavour topology ("" if none).
	VNFNode string `json:"vnfNode,omitempty"`
	// Interfaces are the LCM interfaces of the flavour's VNF node template.
	Interfaces []*LcmInterface `json:"interfaces,omitempty"`

	VDUs         []*VDU         `json:"vdus"`
	Storages     []*Storage     `json:"storages,omitempty"`
	VduCps       []*VduCp       `json:"vduCps,omitempty"`
	VirtualLinks []*VirtualLink `json:"virtualLinks,omitempty"`
	ExtCps       []*ExtCp       `json:"extCps,omitempty"`
	// Images are the software images of the flavour's nodes (VDUs,
	// storages and any other node with sw_image_data or a SwImage
	// artifact), in node order.
	Images []*SwImage `json:"images,omitempty"`

	// InstantiationLevels are the levels of the
	// tosca.policies.nfv.InstantiationLevels policy, sorted by ID.
	InstantiationLevels []*InstantiationLevel `json:"instantiationLevels,omitempty"`
	// DefaultLevel is default_level, or the only level when there is one.
	DefaultLevel string `json:"defaultLevel,omitempty"`
	// InstantiationLevelsPos is the InstantiationLevels policy's position.
	InstantiationLevelsPos         tosca.Position                    `json:"-"`
	ScalingAspects                 []*ScalingAspect                  `json:"scalingAspects,omitempty"`
	VduInstantiationLevels         []*VduInstantiationLevels         `json:"vduInstantiationLevels,omitempty"`
	VirtualLinkInstantiationLevels []*VirtualLinkInstantiationLevels `json:"virtualLinkInstantiationLevels,omitempty"`
	VduInitialDeltas               []*VduInitialDelta                `json:"vduInitialDeltas,omitempty"`
	VduScalingAspectDeltas         []*VduScalingAspectDeltas         `json:"vduScalingAspectDeltas,omitempty"`
	AffinityRules                  []*PlacementRule                  `json:"affinityRules,omitempty"`
	AntiAffinityRules              []*PlacementRule                  `json:"antiAffinityRules,omitempty"`

	Pos tosca.Position `json:"-"`

	topo  *tosca.Topology
	idPos tosca.Position // where flavour_id was found
}

// VDU is a node template whose type derives from tosca.nodes.nfv.Vdu.Compute.
type VDU struct {
	ID             string         `json:"id"`
	Name           string         `json:"name"`
	Description    string         `json:"description,omitempty"`
	VduProfile     VduProfile     `json:"vduProfile"`
	VirtualCompute VirtualCompute `json:"virtualCompute"`
	SwImage        *SwImage       `json:"swImage,omitempty"`
	// Storages are the targets of the virtual_storage requirements.
	Storages []string `json:"storages,omitempty"`
	BootData string   `json:"bootData,omitempty"`
	// Kernel and Initrd are the VDU's own boot files, for VIMs that boot a
	// kernel beside the image (see BootFile).
	Kernel *BootFile      `json:"kernel,omitempty"`
	Initrd *BootFile      `json:"initrd,omitempty"`
	Pos    tosca.Position `json:"-"`
}

// Names of the artifacts of a Vdu.Compute node that are its boot files.
const (
	ArtifactKernel = "kernel"
	ArtifactInitrd = "initrd"
)

// BootFile is a kernel or initial ramdisk a VDU boots with. SOL 001
// (v2.6.1, v2.7.1) defines no artifact type for them: its only artifact
// type for a VDU is tosca.artifacts.nfv.SwImage, the disk image. A boot
// file is therefore the VDU's artifact named "kernel" or "initrd" (TOSCA
// lets a node template carry artifacts of any type), of any type but
// SwImage, typically tosca.artifacts.Deployment or tosca.artifacts.File:
//
//	artifacts:
//	  kernel:
//	    type: tosca.artifacts.Deployment
//	    file: ../Files/kernel/vmlinuz
type BootFile struct {
	Artifact string `json:"artifact"` // "kernel" or "initrd"
	Type     string `json:"type,omitempty"`
	// File is the package path ("" when the artifact is a URL or a file
	// on the VNFM host); URI the artifact's URL.
	File string         `json:"file,omitempty"`
	URI  string         `json:"uri,omitempty"`
	Pos  tosca.Position `json:"-"`
}

// VduProfile is vdu_profile.
type VduProfile struct {
	MinInstances int `json:"minNumberOfInstances"`
	MaxInstances int `json:"maxNumberOfInstances"`
}

// VirtualCompute is the virtual_compute capability of a VDU.
type VirtualCompute struct {
	MemoryBytes         int64   `json:"virtualMemSize"`
	NumVirtualCPU       int     `json:"numVirtualCpu"`
	CPUArchitecture     string  `json:"cpuArchitecture,omitempty"`
	VirtualLocalStorage []int64 `json:"virtualLocalStorage,omitempty"`
}

// Storage kinds.
const (
	StorageBlock  = "block"
	StorageObject = "object"
	StorageFile   = "file"
)

// Storage is a Vdu.VirtualBlockStorage, Vdu.VirtualObjectStorage or
// Vdu.VirtualFileStorage node template.
type Storage struct {
	ID   string `json:"id"`
	Kind string `json:"kind"` // StorageBlock, StorageObject or StorageFile
	// SizeBytes is size_of_storage (block, file) or max_size_of_storage (object).
	SizeBytes          int64          `json:"sizeOfStorage"`
	RDMAEnabled        bool           `json:"rdmaEnabled,omitempty"`
	FileSystemProtocol string         `json:"fileSystemProtocol,omitempty"`
	SwImage            *SwImage       `json:"swImage,omitempty"`
	Pos                tosca.Position `json:"-"`
}

// Checksum is a ChecksumData value; Algorithm as written ("sha-512").
type Checksum struct {
	Algorithm string `json:"algorithm"`
	Hash      string `json:"hash"`
}

// SwImage is the software image of a node: its sw_image_data and its
// SwImage artifact (an artifact whose type derives from
// tosca.artifacts.nfv.SwImage).
type SwImage struct {
	// ID is the node template name (the VDU or storage node).
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Version  string   `json:"version"`
	Provider string   `json:"provider,omitempty"`
	Checksum Checksum `json:"checksum"`
	// ContainerFormat and DiskFormat are as written in the VNFD (SOL 001
	// spells them in lower case).
	ContainerFormat                     string   `json:"containerFormat"`
	DiskFormat                          string   `json:"diskFormat"`
	MinDisk                             int64    `json:"minDisk"`
	MinRam                              int64    `json:"minRam"`
	Size                                int64    `json:"size"`
	OperatingSystem                     string   `json:"operatingSystem,omitempty"`
	SupportedVirtualisationEnvironments []string `json:"supportedVirtualisationEnvironments,omitempty"`
	// ArtifactName is the name of the SwImage artifact ("" if none).
	ArtifactName string `json:"artifactName,omitempty"`
	// File is the package path of the image ("" when the artifact is a URL
	// or there is no artifact); URI the artifact's URL.
	File string `json:"file,omitempty"`
	URI  string `json:"uri,omitempty"`
	// Pos is the sw_image_data property's position, ArtifactPos the artifact's.
	Pos         tosca.Position `json:"-"`
	ArtifactPos tosca.Position `json:"-"`
}

// InPackage reports whether the image is delivered with the package (a
// SwImage artifact naming a package file) or by URL; images described only
// by sw_image_data are provided out of band.
func (i *SwImage) InPackage() bool { return i.File != "" || i.URI != "" }

// VduCp is a tosca.nodes.nfv.VduCp node template.
type VduCp struct {
	ID                 string   `json:"id"`
	Description        string   `json:"description,omitempty"`
	LayerProtocols     []string `json:"layerProtocols,omitempty"`
	Order              *int     `json:"order,omitempty"`
	VnicType           string   `json:"vnicType,omitempty"`
	BitrateRequirement int64    `json:"bitrateRequirement,omitempty"`
	// VirtualBinding is the VDU the CP binds to, VirtualLink the internal
	// virtual link it connects to ("" when external or unconnected).
	VirtualBinding string         `json:"virtualBinding,omitempty"`
	VirtualLink    string         `json:"virtualLink,omitempty"`
	Pos            tosca.Position `json:"-"`
}

// Bitrate is LinkBitrateRequirements, in bits per second.
type Bitrate struct {
	Root int64 `json:"root"`
	Leaf int64 `json:"leaf,omitempty"`
}

// VirtualLink is a tosca.nodes.nfv.VnfVirtualLink node template.
type VirtualLink struct {
	ID             string                 `json:"id"`
	Description    string                 `json:"description,omitempty"`
	LayerProtocols []string               `json:"layerProtocols,omitempty"`
	FlowPattern    string                 `json:"flowPattern,omitempty"`
	MaxBitrate     *Bitrate               `json:"maxBitrateRequirements,omitempty"`
	MinBitrate     *Bitrate               `json:"minBitrateRequirements,omitempty"`
	Protocols      []*VirtualLinkProtocol `json:"virtualLinkProtocolData,omitempty"`
	Pos            tosca.Position         `json:"-"`
}

// VirtualLinkProtocol is one VirtualLinkProtocolData entry.
type VirtualLinkProtocol struct {
	AssociatedLayerProtocol string          `json:"associatedLayerProtocol"`
	NetworkType             string          `json:"networkType,omitempty"` // l2_protocol_data.network_type
	L3                      *L3ProtocolData `json:"l3ProtocolData,omitempty"`
}

// L3ProtocolData is l3_protocol_data.
type L3ProtocolData struct {
	Name        string `json:"name,omitempty"`
	IPVersion   string `json:"ipVersion"`
	CIDR        string `json:"cidr"`
	GatewayIP   string `json:"gatewayIp,omitempty"`
	DHCPEnabled *bool  `json:"dhcpEnabled,omitempty"`
}

// ExtCp is an external connection point of a flavour: a VnfExtCp node
// template, or any node exposed through a substitution_mappings
// requirement (Tacker's samples expose a VduCp's virtual_link that way).
type ExtCp struct {
	ID   string `json:"id"`
	Kind string `json:"kind"` // the node type's short kind: VnfExtCp, VduCp, or the type name
	// Requirement is the VNF requirement (substitution_mappings) that
	// exposes it, NodeRequirement the node's requirement it maps to
	// (virtual_link, external_virtual_link); both "" for an unmapped VnfExtCp.
	Requirement         string         `json:"requirement,omitempty"`
	NodeRequirement     string         `json:"nodeRequirement,omitempty"`
	LayerProtocols      []string       `json:"layerProtocols,omitempty"`
	InternalVirtualLink string         `json:"internalVirtualLink,omitempty"`
	VirtualBinding      string         `json:"virtualBinding,omitempty"`
	Pos                 tosca.Position `json:"-"`
}

// InstantiationLevel is one level of the InstantiationLevels policy.
type InstantiationLevel struct {
	ID          string `json:"id"`
	Description string `json:"description,omitempty"`
	// ScaleInfo maps a scaling aspect to its scale_level.
	ScaleInfo map[string]int `json:"scaleInfo,omitempty"`
	// VduInstances maps a VDU to its number_of_instances at this level
	// (from the VduInstantiationLevels policies).
	VduInstances map[string]int `json:"vduInstances,omitempty"`
}

// ScalingAspect is one aspect of a ScalingAspects policy.
type ScalingAspect struct {
	ID            string         `json:"id"`
	Name          string         `json:"name,omitempty"`
	Description   string         `json:"description,omitempty"`
	MaxScaleLevel int            `json:"maxScaleLevel"`
	StepDeltas    []string       `json:"stepDeltas,omitempty"`
	Policy        string         `json:"policy"`
	Pos           tosca.Position `json:"-"`
}

// VduInstantiationLevels is a tosca.policies.nfv.VduInstantiationLevels policy.
type VduInstantiationLevels struct {
	Policy  string         `json:"policy"`
	Targets []string       `json:"targets"`
	Levels  map[string]int `json:"levels"` // level -> number_of_instances
	Pos     tosca.Position `json:"-"`
}

// VirtualLinkInstantiationLevels is a
// tosca.policies.nfv.VirtualLinkInstantiationLevels policy.
type VirtualLinkInstantiationLevels struct {
	Policy  string             `json:"policy"`
	Targets []string           `json:"targets"`
	Levels  map[string]Bitrate `json:"levels"` // level -> bitrate_requirements
	Pos     tosca.Position     `json:"-"`
}

// VduInitialDelta is a tosca.policies.nfv.VduInitialDelta policy.
type VduInitialDelta struct {
	Policy            string         `json:"policy"`
	Targets           []string       `json:"targets"`
	NumberOfInstances int            `json:"numberOfInstances"`
	Pos               tosca.Position `json:"-"`
}

// VduScalingAspectDeltas is a tosca.policies.nfv.VduScalingAspectDeltas policy.
type VduScalingAspectDeltas struct {
	Policy  string         `json:"policy"`
	Targets []string       `json:"targets"`
	Aspect  string         `json:"aspect"`
	Deltas  map[string]int `json:"deltas"` // delta -> number_of_instances
	Pos     tosca.Position `json:"-"`
}

// PlacementRule is an AffinityRule or AntiAffinityRule policy.
type PlacementRule struct {
	Policy string `json:"policy"`
	Scope  string `json:"scope"`
	// Targets as written (VDUs, virtual links or placement groups);
	// Members with the groups replaced by their members.
	Targets []string       `json:"targets"`
	Members []string       `json:"members"`
	Pos     tosca.Position `json:"-"`
}
