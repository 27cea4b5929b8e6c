package vnfd

import (
	"strings"

	"github.com/vnfpkgm/vnfpkgm/tosca"
)

// flavour reads one deployment flavour from its topology. sm is the
// topology's substitution_mappings (nil for a VNFD without substitution),
// typ the VNF node type it substitutes.
func (x *extractor) flavour(t *tosca.Topology, sm *tosca.SubstitutionMappings, typ *tosca.Type) *Flavour {
	f := &Flavour{File: t.File, Pos: t.Pos, topo: t, VDUs: []*VDU{}}
	if sm != nil {
		f.Pos = firstPos(sm.Pos, t.Pos)
	}
	node := vnfNodeOf(t)
	if node != nil {
		f.VNFNode = node.Name
		f.Interfaces = lcmInterfaces(node.Interfaces)
	}
	f.ID, f.idPos = x.flavourProperty(t, sm, node, typ, "flavour_id")
	f.Description, _ = x.flavourProperty(t, sm, node, typ, "flavour_description")

	nodes := orderedNodes(t)
	for _, n := range nodes {
		img := x.nodeImage(n)
		if img != nil {
			f.Images = append(f.Images, img)
		}
		switch {
		case n.Type.IsA(TypeVduCompute):
			f.VDUs = append(f.VDUs, x.vdu(n, img))
		case n.Type.IsA(TypeVirtualBlockStorage), n.Type.IsA(TypeVirtualObjectStorage), n.Type.IsA(TypeVirtualFileStorage):
			f.Storages = append(f.Storages, x.storage(n, img))
		case n.Type.IsA(TypeVduCp):
			f.VduCps = append(f.VduCps, vduCp(n))
		case n.Type.IsA(TypeVnfVirtualLink):
			f.VirtualLinks = append(f.VirtualLinks, virtualLink(n))
		}
	}
	f.ExtCps = extCps(t, sm, nodes)
	x.policies(f, t)
	return f
}

// flavourProperty finds flavour_id or flavour_description of a flavour:
// the substitution_mappings property first (where SOL 001 puts
// flavour_id), then the value written on the flavour's VNF node template,
// then the node template's value from the type's default, then the
// type's single valid value. The VNF node template's value wins over the
// substitution_mappings one only for flavour_description, the property
// SOL 001 samples set on the node template.
func (x *extractor) flavourProperty(t *tosca.Topology, sm *tosca.SubstitutionMappings, node *tosca.NodeTemplate, typ *tosca.Type, name string) (string, tosca.Position) {
	fromNode := func(explicit bool) (string, tosca.Position, bool) {
		if node == nil {
			return "", tosca.Position{}, false
		}
		v := prop(node.Properties, name)
		s, ok := val(v).(string)
		if !ok || s == "" {
			return "", tosca.Position{}, false
		}
		// A value written in this topology's file, not a default carried
		// over from the type's definition.
		if explicit && v.Pos.File != "" && v.Pos.File != t.File {
			return "", tosca.Position{}, false
		}
		return s, v.Pos, true
	}
	fromMapping := func() (string, tosca.Position, bool) {
		if sm == nil {
			return "", tosca.Position{}, false
		}
		v := prop(sm.Properties, name)
		if v == nil {
			return "", tosca.Position{}, false
		}
		switch d := v.V.(type) {
		case string:
			if d != "" && v.Function == "" {
				return d, v.Pos, true
			}
		case []any:
			// A property mapped to an input, [ input_name ] (tosca.Process
			// marks it as a get_input): the input's value.
			if len(d) == 1 && (v.Function == "" || v.Function == "get_input") {
				if in, ok := d[0].(string); ok && t.Inputs[in] != nil {
					if s, ok := val(t.Inputs[in].Value).(string); ok && s != "" {
						return s, v.Pos, true
					}
				}
			}
		}
		return "", tosca.Position{}, false
	}
	order := []func() (string, tosca.Position, bool){fromMapping, func() (string, tosca.Position, bool) { return fromNode(true) }}
	if name == "flavour_description" {
		order[0], order[1] = order[1], order[0]
	}
	order = append(order, func() (string, tosca.Position, bool) { return fromNode(false) })
	for _, get := range order {
		if s, p, ok := get(); ok {
			return s, p
		}
	}
	if typ != nil {
		if def := typ.Properties[name]; def != nil {
			if s, ok := val(def.Default).(string); ok && s != "" {
				return s, def.Pos
			}
			if d, ok := singleValidValue(def.Constraints); ok {
				if s, ok := d.(string); ok {
					return s, def.Pos
				}
			}
		}
	}
	if sm != nil {
		return "", sm.Pos
	}
	return "", tosca.Position{}
}

// imageNode reports whether a node type carries software images in SOL 001.
func imageNode(t *tosca.Type) bool {
	return t.IsA(TypeVduCompute) || t.IsA(TypeVirtualBlockStorage)
}

// nodeImage checks a node's SwImage artifacts against its sw_image_data
// and returns its software image (nil when the node has no sw_image_data).
//
// The rules, from SOL 001 (Vdu.Compute and Vdu.VirtualBlockStorage:
// sw_image_data "is required when the node template has an associated
// artifact of type tosca.artifacts.nfv.SwImage and not required
// otherwise") and SOL 004 (at most one image per VDU or storage):
//   - two or more SwImage artifacts on one node: error;
//   - a SwImage artifact without sw_image_data: error;
//   - sw_image_data without an artifact is allowed, the image then comes
//     from outside the package (Tacker's samples rely on images already in
//     the VIM); a warning says so unless another node delivers an image
//     with the same checksum (checkOrphanImages).
func (x *extractor) nodeImage(n *tosca.NodeTemplate) *SwImage {
	var arts []*tosca.ArtifactTemplate
	for _, name := range sortedKeys(n.Artifacts) {
		a := n.Artifacts[name]
		if a == nil {
			continue
		}
		switch {
		case a.Type.IsA(TypeSwImage):
			arts = append(arts, a)
		case a.Type == nil && imageNode(n.Type) && !(n.Type.IsA(TypeVduCompute) && (name == ArtifactKernel || name == ArtifactInitrd)):
			// (An untyped kernel or initrd of a VDU is its boot file.)
			x.warnf(CodeSwImageUntyped, a.Pos,
				"artifact %s of node %s has no type; it is taken as the node's software image (declare type: %s)", artifactName(a, name), n.Name, TypeSwImage)
			arts = append(arts, a)
		}
	}
	sortArtifacts(arts)
	data := prop(n.Properties, "sw_image_data")
	dm := asMap(val(data))
	if len(arts) > 1 {
		names := make([]string, len(arts))
		for i, a := range arts {
			names[i] = a.Name
		}
		x.errorf(CodeMultipleSwImages, firstPos(arts[1].Pos, n.Pos),
			"node %s has %d SwImage artifacts (%s); a node has at most one software image", n.Name, len(arts), strings.Join(names, ", "))
	}
	if len(arts) > 0 && dm == nil {
		x.errorf(CodeSwImageDataMissing, firstPos(arts[0].Pos, n.Pos),
			"node %s has the SwImage artifact %s but no sw_image_data property", n.Name, arts[0].Name)
		return nil
	}
	if dm == nil {
		return nil
	}
	img := &SwImage{
		ID:                                  n.Name,
		Name:                                str(field(dm, "name")),
		Version:                             str(field(dm, "version")),
		Provider:                            str(field(dm, "provider")),
		ContainerFormat:                     str(field(dm, "container_format")),
		DiskFormat:                          str(field(dm, "disk_format")),
		OperatingSystem:                     str(field(dm, "operating_system")),
		SupportedVirtualisationEnvironments: asStrings(field(dm, "supported_virtualisation_environments")),
		Pos:                                 data.Pos,
	}
	if img.Provider == "" {
		img.Provider = str(val(prop(n.Properties, "provider")))
	}
	switch c := field(dm, "checksum").(type) {
	case map[string]any:
		img.Checksum = Checksum{Algorithm: str(c["algorithm"]), Hash: str(c["hash"])}
	case string: // SOL 001 v2.4: a bare hash
		img.Checksum = Checksum{Hash: c}
	}
	what := n.Name + ".sw_image_data."
	img.MinDisk = x.size(field(dm, "min_disk"), data.Pos, what+"min_disk")
	img.MinRam = x.size(field(dm, "min_ram"), data.Pos, what+"min_ram")
	img.Size = x.size(field(dm, "size"), data.Pos, what+"size")
	if len(arts) > 0 {
		a := arts[0]
		img.ArtifactName = a.Name
		img.ArtifactPos = a.Pos
		switch {
		case onVNFMHost(a):
			// tosca.Process lets a host file pass for a management
			// driver; an image must reach the VIM from the package or a
			// URI, and its bytes must be verifiable.
			x.errorf(CodeSwImageHostPath, a.Pos,
				"the SwImage artifact %s of node %s names %q, a file on the VNFM host: a software image must be in the package or at a URI", a.Name, n.Name, a.File)
		case isURL(a.ResolvedFile):
			img.URI = a.ResolvedFile
		default:
			img.File = a.ResolvedFile
		}
		if img.Checksum.Hash != "" {
			x.deliveredHashes[strings.ToLower(img.Checksum.Hash)] = true
		}
	} else {
		x.orphanImages = append(x.orphanImages, img)
	}
	return img
}

// bootFile is the artifact name of a VDU node as a boot file (nil when
// there is none, or when it is the SwImage artifact).
func bootFile(n *tosca.NodeTemplate, name string) *BootFile {
	a := n.Artifacts[name]
	if a == nil || a.Type.IsA(TypeSwImage) {
		return nil
	}
	b := &BootFile{Artifact: name, Pos: a.Pos}
	if a.Type != nil {
		b.Type = a.Type.Name
	}
	switch {
	case onVNFMHost(a):
	case isURL(a.ResolvedFile):
		b.URI = a.ResolvedFile
	default:
		b.File = a.ResolvedFile
	}
	return b
}

// onVNFMHost reports an artifact whose file is an absolute path (a file
// on the VNFM host, tosca.CodeLenientHostArtifact), which the processor
// leaves unresolved.
func onVNFMHost(a *tosca.ArtifactTemplate) bool {
	return a.Repository == "" && a.ResolvedFile == "" && strings.HasPrefix(a.File, "/")
}

func artifactName(a *tosca.ArtifactTemplate, key string) string {
	if a.Name != "" {
		return a.Name
	}
	return key
}

// sortArtifacts orders artifacts by position, then name.
func sortArtifacts(arts []*tosca.ArtifactTemplate) {
	for i := 1; i < len(arts); i++ {
		for j := i; j > 0; j-- {
			a, b := arts[j-1], arts[j]
			if before(b.Pos, a.Pos) || (a.Pos == b.Pos && b.Name < a.Name) {
				arts[j-1], arts[j] = b, a
				continue
			}
			break
		}
	}
}

// checkOrphanImages warns about images that have no SwImage artifact and
// whose checksum no delivered image matches.
func (x *extractor) checkOrphanImages() {
	for _, img := range x.orphanImages {
		if img.Checksum.Hash != "" && x.deliveredHashes[strings.ToLower(img.Checksum.Hash)] {
			continue
		}
		x.warnf(CodeSwImageNotInPackage, img.Pos,
			"node %s has sw_image_data but no %s artifact: the image %q is not in the package and must be provided to the VIM otherwise",
			img.ID, TypeSwImage, img.Name)
	}
}

// size converts a scalar-unit.size value to bytes; 0 when absent.
func (x *extractor) size(v any, p tosca.Position, what string) int64 {
	switch s := v.(type) {
	case nil:
		return 0
	case string:
		n, err := tosca.ParseScalarSize(s)
		if err != nil {
			x.errorf(CodeInvalidSize, p, "%s: %q is not a size: %v", what, s, err)
			return 0
		}
		return n
	}
	if n, ok := asInt64(v); ok {
		return n // a bare number: the processor reports the type error
	}
	x.errorf(CodeInvalidSize, p, "%s: %v is not a size", what, v)
	return 0
}

// vdu reads a Vdu.Compute node template.
func (x *extractor) vdu(n *tosca.NodeTemplate, img *SwImage) *VDU {
	d := &VDU{
		ID:          n.Name,
		Name:        str(val(prop(n.Properties, "name"))),
		Description: str(val(prop(n.Properties, "description"))),
		BootData:    str(val(prop(n.Properties, "boot_data"))),
		SwImage:     img,
		Pos:         n.Pos,
		Kernel:      bootFile(n, ArtifactKernel),
		Initrd:      bootFile(n, ArtifactInitrd),
	}
	vp := prop(n.Properties, "vdu_profile")
	pm := asMap(val(vp))
	minN, minOK := asInt(field(pm, "min_number_of_instances"))
	maxN, maxOK := asInt(field(pm, "max_number_of_instances"))
	d.VduProfile = VduProfile{MinInstances: minN, MaxInstances: maxN}
	if minOK && maxOK && minN > maxN {
		x.errorf(CodeVduProfileRange, firstPos(pos(vp), n.Pos),
			"VDU %s: vdu_profile min_number_of_instances %d exceeds max_number_of_instances %d", n.Name, minN, maxN)
	}

	if c := n.Capabilities["virtual_compute"]; c != nil {
		what := n.Name + ".virtual_compute."
		memV := prop(c.Properties, "virtual_memory")
		d.VirtualCompute.MemoryBytes = x.size(field(asMap(val(memV)), "virtual_mem_size"),
			firstPos(pos(memV), c.Pos, n.Pos), what+"virtual_memory.virtual_mem_size")
		cpu := asMap(val(prop(c.Properties, "virtual_cpu")))
		d.VirtualCompute.NumVirtualCPU, _ = asInt(field(cpu, "num_virtual_cpu"))
		d.VirtualCompute.CPUArchitecture = str(field(cpu, "cpu_architecture"))
		lsV := prop(c.Properties, "virtual_local_storage")
		for _, e := range asList(val(lsV)) {
			d.VirtualCompute.VirtualLocalStorage = append(d.VirtualCompute.VirtualLocalStorage,
				x.size(field(asMap(e), "size_of_storage"), firstPos(pos(lsV), c.Pos, n.Pos), what+"virtual_local_storage.size_of_storage"))
		}
	}
	for _, r := range n.Requirements {
		if r != nil && r.Name == "virtual_storage" && r.Node != "" {
			d.Storages = append(d.Storages, r.Node)
		}
	}
	return d
}

// storage reads a virtual storage node template.
func (x *extractor) storage(n *tosca.NodeTemplate, img *SwImage) *Storage {
	s := &Storage{ID: n.Name, SwImage: img, Pos: n.Pos}
	var dataName, sizeName string
	switch {
	case n.Type.IsA(TypeVirtualBlockStorage):
		s.Kind, dataName, sizeName = StorageBlock, "virtual_block_storage_data", "size_of_storage"
	case n.Type.IsA(TypeVirtualObjectStorage):
		s.Kind, dataName, sizeName = StorageObject, "virtual_object_storage_data", "max_size_of_storage"
	default:
		s.Kind, dataName, sizeName = StorageFile, "virtual_file_storage_data", "size_of_storage"
	}
	dv := prop(n.Properties, dataName)
	dm := asMap(val(dv))
	s.SizeBytes = x.size(field(dm, sizeName), firstPos(pos(dv), n.Pos), n.Name+"."+dataName+"."+sizeName)
	s.RDMAEnabled, _ = asBool(field(dm, "rdma_enabled"))
	s.FileSystemProtocol = str(field(dm, "file_system_protocol"))
	return s
}

// requirementTarget returns the node of a node template's first
// requirement with the given name.
func requirementTarget(n *tosca.NodeTemplate, name string) string {
	for _, r := range n.Requirements {
		if r != nil && r.Name == name {
			return r.Node
		}
	}
	return ""
}

// vduCp reads a VduCp node template.
func vduCp(n *tosca.NodeTemplate) *VduCp {
	c := &VduCp{
		ID:             n.Name,
		Description:    str(val(prop(n.Properties, "description"))),
		LayerProtocols: asStrings(val(prop(n.Properties, "layer_protocols"))),
		VnicType:       str(val(prop(n.Properties, "vnic_type"))),
		VirtualBinding: requirementTarget(n, "virtual_binding"),
		VirtualLink:    requirementTarget(n, "virtual_link"),
		Pos:            n.Pos,
	}
	if o, ok := asInt(val(prop(n.Properties, "order"))); ok {
		c.Order = &o
	}
	c.BitrateRequirement, _ = asInt64(val(prop(n.Properties, "bitrate_requirement")))
	return c
}

// bitrate reads LinkBitrateRequirements; nil when absent.
func bitrate(v any) *Bitrate {
	m := asMap(v)
	if m == nil {
		return nil
	}
	b := &Bitrate{}
	b.Root, _ = asInt64(m["root"])
	b.Leaf, _ = asInt64(m["leaf"])
	return b
}

// virtualLink reads a VnfVirtualLink node template.
func virtualLink(n *tosca.NodeTemplate) *VirtualLink {
	l := &VirtualLink{
		ID:          n.Name,
		Description: str(val(prop(n.Properties, "description"))),
		Pos:         n.Pos,
	}
	ct := asMap(val(prop(n.Properties, "connectivity_type")))
	l.LayerProtocols = asStrings(field(ct, "layer_protocols"))
	l.FlowPattern = str(field(ct, "flow_pattern"))
	vp := asMap(val(prop(n.Properties, "vl_profile")))
	l.MaxBitrate = bitrate(field(vp, "max_bitrate_requirements"))
	l.MinBitrate = bitrate(field(vp, "min_bitrate_requirements"))
	for _, e := range asList(field(vp, "virtual_link_protocol_data")) {
		m := asMap(e)
		if m == nil {
			continue
		}
		p := &VirtualLinkProtocol{
			AssociatedLayerProtocol: str(m["associated_layer_protocol"]),
			NetworkType:             str(field(asMap(m["l2_protocol_data"]), "network_type")),
		}
		if l3 := asMap(m["l3_protocol_data"]); l3 != nil {
			p.L3 = &L3ProtocolData{
				Name:      str(l3["name"]),
				IPVersion: str(l3["ip_version"]),
				CIDR:      str(l3["cidr"]),
				GatewayIP: str(l3["gateway_ip"]),
			}
			if b, ok := asBool(l3["dhcp_enabled"]); ok {
				p.L3.DHCPEnabled = &b
			}
		}
		l.Protocols = append(l.Protocols, p)
	}
	return l
}

// cpKind names a connection point's kind.
func cpKind(t *tosca.Type) string {
	switch {
	case t.IsA(TypeVnfExtCp):
		return "VnfExtCp"
	case t.IsA(TypeVduCp):
		return "VduCp"
	case t != nil:
		return t.Name
	}
	return ""
}

// extCps lists the flavour's external connection points: every node a
// substitution_mappings requirement exposes (one entry per mapping), and
// every VnfExtCp node template, in node order.
func extCps(t *tosca.Topology, sm *tosca.SubstitutionMappings, nodes []*tosca.NodeTemplate) []*ExtCp {
	byNode := map[string][]string{}
	nodeReq := map[string]string{}
	if sm != nil {
		for _, req := range sortedKeys(sm.Requirements) {
			m := sm.Requirements[req]
			if len(m) == 0 || m[0] == "" {
				continue
			}
			if t.NodeTemplates[m[0]] == nil {
				continue // tosca.Process reports it (tosca-unknown-template)
			}
			byNode[m[0]] = append(byNode[m[0]], req)
			if len(m) > 1 {
				nodeReq[req] = m[1]
			}
		}
	}
	var out []*ExtCp
	for _, n := range nodes {
		reqs := byNode[n.Name]
		if len(reqs) == 0 && !n.Type.IsA(TypeVnfExtCp) {
			continue
		}
		mk := func(req string) *ExtCp {
			return &ExtCp{
				ID:                  n.Name,
				Kind:                cpKind(n.Type),
				Requirement:         req,
				NodeRequirement:     nodeReq[req],
				LayerProtocols:      asStrings(val(prop(n.Properties, "layer_protocols"))),
				InternalVirtualLink: requirementTarget(n, "internal_virtual_link"),
				VirtualBinding:      requirementTarget(n, "virtual_binding"),
				Pos:                 n.Pos,
			}
		}
		if len(reqs) == 0 {
			out = append(out, mk(""))
		}
		for _, r := range reqs {
			out = append(out, mk(r))
		}
	}
	return out
}
