package vnfd

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/vnfpkgm/vnfpkgm/tosca"
)

func TestExtractHelloworld(t *testing.T) {
	st, _ := helloworld()
	d, probs := Extract(st)
	wantNoErrors(t, probs)
	if len(probs) != 0 {
		t.Errorf("unexpected problems: %+v", probs)
	}

	if d.DescriptorID != "5189df9e-7018-11ea-b97a-000c292ec2ea" || d.Provider != "DemoLabs" || d.ProductName != "Demo VNF" ||
		d.SoftwareVersion != "1.0" || d.DescriptorVersion != "1.0" {
		t.Errorf("header: %+v", d)
	}
	if !reflect.DeepEqual(d.VnfmInfo, []string{"Tacker"}) {
		t.Errorf("vnfm_info %v", d.VnfmInfo)
	}
	if d.NodeType != "company.provider.VNF" || d.Node != "VNF" || d.Pos != at(topFile, 18, 5) || d.Description != "Demo VNF" {
		t.Errorf("node: %q %q %+v %q", d.NodeType, d.Node, d.Pos, d.Description)
	}
	// The entry VNF node template assigns no operation.
	if len(d.Interfaces) != 0 {
		t.Errorf("entry interfaces: %+v", d.Interfaces)
	}

	if len(d.Flavours) != 1 {
		t.Fatalf("flavours: %d", len(d.Flavours))
	}
	f := d.Flavours[0]
	if f.ID != "simple" || f.Description != "A simple flavour" || f.File != simpleFile || f.VNFNode != "VNF" || f.Pos != at(simpleFile, 31, 5) {
		t.Errorf("flavour: %q %q %q %q %+v", f.ID, f.Description, f.File, f.VNFNode, f.Pos)
	}
	// LCM: only Vnflcm, operations in file order.
	if len(f.Interfaces) != 1 || f.Interfaces[0].Name != "Vnflcm" || f.Interfaces[0].Type != TypeVnflcm {
		t.Fatalf("interfaces: %+v", f.Interfaces)
	}
	var ops []string
	for _, op := range f.Interfaces[0].Operations {
		ops = append(ops, op.Name)
	}
	if want := []string{"instantiate", "instantiate_start", "instantiate_end", "terminate"}; !reflect.DeepEqual(ops, want) {
		t.Errorf("operations %v, want %v", ops, want)
	}
	if op := f.Interfaces[0].Operations[1]; op.Implementation != "install" || !reflect.DeepEqual(op.Dependencies, []string{"util"}) || op.Pos != at(simpleFile, 49, 11) {
		t.Errorf("instantiate_start: %+v", op)
	}

	// VDUs.
	if len(f.VDUs) != 2 {
		t.Fatalf("VDUs: %d", len(f.VDUs))
	}
	v1, v2 := f.VDUs[0], f.VDUs[1]
	if v1.ID != "VDU1" || v1.Name != "VDU1" || v1.Description != "VDU1 compute node" || v1.Pos != at(simpleFile, 80, 5) {
		t.Errorf("VDU1: %+v", v1)
	}
	if v1.VduProfile != (VduProfile{1, 1}) || v2.VduProfile != (VduProfile{1, 3}) {
		t.Errorf("vdu profiles %+v %+v", v1.VduProfile, v2.VduProfile)
	}
	wantVC := VirtualCompute{MemoryBytes: 512_000_000, NumVirtualCPU: 2, CPUArchitecture: "x86_64", VirtualLocalStorage: []int64{1 << 30}}
	if !reflect.DeepEqual(v1.VirtualCompute, wantVC) {
		t.Errorf("VDU1 virtual compute %+v, want %+v", v1.VirtualCompute, wantVC)
	}
	if v2.SwImage != nil || !reflect.DeepEqual(v2.Storages, []string{"VirtualStorage"}) {
		t.Errorf("VDU2: image %+v storages %v", v2.SwImage, v2.Storages)
	}

	// Images.
	img := v1.SwImage
	if img == nil {
		t.Fatal("VDU1 has no image")
	}
	want := SwImage{
		ID: "VDU1", Name: "Demo software of VDU1", Version: "0.5.2",
		Checksum:        Checksum{Algorithm: "sha-512", Hash: hash512},
		ContainerFormat: "bare", DiskFormat: "qcow2",
		MinDisk: 4_000_000_000, MinRam: 512 << 20, Size: 4_000_000_000,
		ArtifactName: "sw_image", File: "Files/images/cirros-0.5.2-x86_64-disk.img",
		Pos: at(simpleFile, 89, 11), ArtifactPos: at(simpleFile, 101, 9),
	}
	if !reflect.DeepEqual(*img, want) {
		t.Errorf("VDU1 image\n got %+v\nwant %+v", *img, want)
	}
	if !img.InPackage() {
		t.Error("VDU1 image not in package")
	}

	// Storage.
	if len(f.Storages) != 1 {
		t.Fatalf("storages %d", len(f.Storages))
	}
	s := f.Storages[0]
	if s.ID != "VirtualStorage" || s.Kind != StorageBlock || s.SizeBytes != 30_000_000_000 || !s.RDMAEnabled ||
		s.SwImage == nil || s.SwImage.Name != "DemoVirtualStorage" || s.Pos != at(simpleFile, 138, 5) {
		t.Errorf("storage %+v", s)
	}

	imgs := d.SoftwareImages()
	if len(imgs) != 2 || imgs[0].ID != "VDU1" || imgs[1].ID != "VirtualStorage" {
		t.Errorf("software images %+v", imgs)
	}

	// CPs and links.
	if len(f.VduCps) != 2 {
		t.Fatalf("VduCps %d", len(f.VduCps))
	}
	c1, c2 := f.VduCps[0], f.VduCps[1]
	if c1.ID != "CP1" || c1.VirtualBinding != "VDU1" || c1.VirtualLink != "" || c1.Order == nil || *c1.Order != 0 ||
		c1.VnicType != "direct-physical" || !reflect.DeepEqual(c1.LayerProtocols, []string{"ipv4"}) {
		t.Errorf("CP1 %+v", c1)
	}
	if c2.VirtualLink != "internalVL2" || c2.Order == nil || *c2.Order != 1 {
		t.Errorf("CP2 %+v", c2)
	}
	if len(f.VirtualLinks) != 1 {
		t.Fatalf("virtual links %d", len(f.VirtualLinks))
	}
	vl := f.VirtualLinks[0]
	if vl.ID != "internalVL2" || vl.Description != "Internal Virtual link in the VNF" || !reflect.DeepEqual(vl.LayerProtocols, []string{"ipv4"}) ||
		vl.MaxBitrate == nil || *vl.MaxBitrate != (Bitrate{1048576, 1048576}) || len(vl.Protocols) != 1 ||
		vl.Protocols[0].L3 == nil || vl.Protocols[0].L3.CIDR != "11.11.0.0/24" || vl.Protocols[0].L3.DHCPEnabled == nil || !*vl.Protocols[0].L3.DHCPEnabled {
		t.Errorf("VL %+v", vl)
	}
	if len(f.ExtCps) != 1 || f.ExtCps[0].ID != "CP1" || f.ExtCps[0].Kind != "VduCp" || f.ExtCps[0].Requirement != "virtual_link_external" ||
		f.ExtCps[0].NodeRequirement != "virtual_link" || f.ExtCps[0].VirtualBinding != "VDU1" {
		t.Errorf("ext CPs %+v", f.ExtCps)
	}

	// Policies.
	if len(f.InstantiationLevels) != 2 || f.DefaultLevel != "instantiation_level_1" || f.InstantiationLevelsPos != at(simpleFile, 242, 7) {
		t.Fatalf("levels %+v default %q pos %+v", f.InstantiationLevels, f.DefaultLevel, f.InstantiationLevelsPos)
	}
	l2 := f.InstantiationLevels[1]
	if l2.ID != "instantiation_level_2" || l2.Description != "Largest size" || l2.ScaleInfo["worker_instance"] != 2 ||
		!reflect.DeepEqual(l2.VduInstances, map[string]int{"VDU1": 3, "VDU2": 1}) {
		t.Errorf("level 2 %+v", l2)
	}
	if len(f.ScalingAspects) != 1 || f.ScalingAspects[0].ID != "worker_instance" || f.ScalingAspects[0].MaxScaleLevel != 2 ||
		!reflect.DeepEqual(f.ScalingAspects[0].StepDeltas, []string{"delta_1"}) || f.ScalingAspects[0].Pos != at(simpleFile, 215, 7) {
		t.Errorf("aspects %+v", f.ScalingAspects)
	}
	if len(f.VduInitialDeltas) != 1 || f.VduInitialDeltas[0].NumberOfInstances != 1 || !reflect.DeepEqual(f.VduInitialDeltas[0].Targets, []string{"VDU2"}) ||
		f.VduInitialDeltas[0].Pos != at(simpleFile, 226, 7) {
		t.Errorf("initial deltas %+v", f.VduInitialDeltas)
	}
	if len(f.VduScalingAspectDeltas) != 1 || f.VduScalingAspectDeltas[0].Aspect != "worker_instance" || f.VduScalingAspectDeltas[0].Deltas["delta_1"] != 1 {
		t.Errorf("scaling deltas %+v", f.VduScalingAspectDeltas)
	}
	if len(f.VduInstantiationLevels) != 2 || f.VduInstantiationLevels[0].Levels["instantiation_level_2"] != 3 || f.VduInstantiationLevels[1].Pos != at(simpleFile, 267, 7) {
		t.Errorf("VDU levels %+v", f.VduInstantiationLevels)
	}
	if len(f.VirtualLinkInstantiationLevels) != 1 || f.VirtualLinkInstantiationLevels[0].Levels["instantiation_level_2"] != (Bitrate{Root: 2097152}) {
		t.Errorf("VL levels %+v", f.VirtualLinkInstantiationLevels)
	}
}

func TestJSONNames(t *testing.T) {
	st, _ := helloworld()
	d, _ := Extract(st)
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	js := string(b)
	for _, k := range []string{`"descriptorId":"5189df9e`, `"descriptorVersion"`, `"productName"`, `"softwareVersion"`, `"vnfmInfo"`,
		`"flavourId":"simple"`, `"vduProfile"`, `"virtualMemSize":512000000`, `"containerFormat":"bare"`, `"diskFormat":"qcow2"`,
		`"checksum":{"algorithm":"sha-512"`, `"sizeOfStorage":30000000000`, `"instantiationLevels"`, `"defaultLevel"`} {
		if !strings.Contains(js, k) {
			t.Errorf("JSON lacks %s", k)
		}
	}
	for _, k := range []string{`"Pos"`, `"File":`, `"Line"`, `"ArtifactPos"`} {
		if strings.Contains(js, k) {
			t.Errorf("JSON has %s", k)
		}
	}
}

func TestVNFHeaderSources(t *testing.T) {
	t.Run("template value beats type default", func(t *testing.T) {
		st, _ := helloworld()
		top := st.Topologies[0]
		top.NodeTemplates["VNF"].Properties["descriptor_id"] = v("75aaa9fa-9c79-dcf5-bda2-5b98a08c9f54", at(topFile, 22, 24))
		d, _ := Extract(st)
		if d.DescriptorID != "75aaa9fa-9c79-dcf5-bda2-5b98a08c9f54" {
			t.Errorf("descriptor_id %q", d.DescriptorID)
		}
	})
	t.Run("unresolved input falls back to default", func(t *testing.T) {
		st, _ := helloworld()
		top := st.Topologies[0]
		top.NodeTemplates["VNF"].Properties["provider"] = &tosca.Value{V: nil, Pos: at(topFile, 23, 19)}
		top.NodeTemplates["VNF"].Properties["product_name"] = &tosca.Value{V: []any{"x"}, Function: "get_attribute", Pos: at(topFile, 24, 19)}
		d, probs := Extract(st)
		wantNoErrors(t, probs)
		if d.Provider != "DemoLabs" || d.ProductName != "Demo VNF" {
			t.Errorf("provider %q product %q", d.Provider, d.ProductName)
		}
	})
	t.Run("single valid value without default", func(t *testing.T) {
		st, ts := helloworld()
		vt := ts.node("company.provider.VNF")
		vt.Properties["provider"].Default = nil
		delete(st.Topologies[0].NodeTemplates["VNF"].Properties, "provider")
		d, probs := Extract(st)
		wantNoErrors(t, probs)
		if d.Provider != "DemoLabs" {
			t.Errorf("provider %q", d.Provider)
		}
	})
	t.Run("no entry node: substituted type", func(t *testing.T) {
		st, ts := helloworld()
		ops := ts.node("company.provider.VNF").Interfaces["Vnflcm"].Operations
		ops["instantiate"] = &tosca.Operation{Name: "instantiate", Pos: at(typesFile, 51, 9)}
		ops["heal"] = &tosca.Operation{Name: "heal", Implementation: "heal.sh", Pos: at(typesFile, 52, 9)}
		st.Topologies = st.Topologies[1:]
		st.Topologies[0].File = simpleFile
		d, probs := Extract(st)
		wantNoErrors(t, probs)
		if d.Node != "" || d.NodeType != "company.provider.VNF" || d.DescriptorID != "5189df9e-7018-11ea-b97a-000c292ec2ea" || len(d.Flavours) != 1 {
			t.Errorf("%+v", d)
		}
		// Interfaces then come from the type: the implemented operations.
		if len(d.Interfaces) != 1 || d.Interfaces[0].Name != "Vnflcm" || len(d.Interfaces[0].Operations) != 1 ||
			d.Interfaces[0].Operations[0].Name != "heal" || d.Interfaces[0].Operations[0].Implementation != "heal.sh" {
			t.Errorf("interfaces %+v", d.Interfaces)
		}
	})
	t.Run("missing identity", func(t *testing.T) {
		st, ts := helloworld()
		vt := ts.node("company.provider.VNF")
		delete(vt.Properties, "software_version")
		delete(st.Topologies[0].NodeTemplates["VNF"].Properties, "software_version")
		for _, n := range flavourTopo(st, simpleFile).NodeTemplates {
			delete(n.Properties, "software_version")
		}
		_, probs := Extract(st)
		p := wantProblem(t, probs, CodeVNFPropertyMissing, tosca.SeverityError, at(topFile, 18, 5))
		if !strings.Contains(p.Message, "software_version") {
			t.Errorf("message %q", p.Message)
		}
	})
}

func TestNoVNFNode(t *testing.T) {
	ts := newTypes()
	vdu := node("VDU1", ts.node(TypeVduCompute), at(topFile, 12, 5))
	tp := topo(topFile, vdu)
	tp.Pos = at(topFile, 10, 1)
	st := &tosca.ServiceTemplate{Entry: topFile, Types: ts.all, Topologies: []*tosca.Topology{tp}}
	d, probs := Extract(st)
	if d == nil {
		t.Fatal("nil VNFD")
	}
	wantProblem(t, probs, CodeNoVNFNode, tosca.SeverityError, at(topFile, 10, 1))
	wantProblem(t, probs, CodeNoFlavour, tosca.SeverityError, at(topFile, 10, 1))

	// No topology at all: the entry file is blamed.
	st = &tosca.ServiceTemplate{Entry: topFile, Types: ts.all}
	_, probs = Extract(st)
	wantProblem(t, probs, CodeNoVNFNode, tosca.SeverityError, at(topFile, 1, 1))

	d, probs = Extract(nil)
	if d == nil || len(findProblems(probs, CodeNoVNFNode)) != 1 {
		t.Errorf("nil template: %+v %+v", d, probs)
	}
}

func TestNoFlavour(t *testing.T) {
	// A substitution of a non-VNF type is no flavour.
	st, ts := helloworld()
	df := flavourTopo(st, simpleFile)
	df.Substitution.Type = ts.node(TypeVduCompute)
	df.Substitution.NodeType = TypeVduCompute
	st.Topologies = st.Topologies[1:] // no entry VNF node either
	st.Entry = simpleFile
	delete(df.NodeTemplates, "VNF")
	df.NodeOrder = df.NodeOrder[1:]
	df.Pos = at(simpleFile, 12, 1)
	d, probs := Extract(st)
	wantProblem(t, probs, CodeNoFlavour, tosca.SeverityError, at(simpleFile, 12, 1))
	if len(d.Flavours) != 0 {
		t.Errorf("flavours %+v", d.Flavours)
	}
}

func TestSingleTopologyWithoutSubstitution(t *testing.T) {
	// Tacker's old single-file VNFDs: no substitution_mappings; the VNF
	// node template's flavour_id names the one flavour.
	st, _ := helloworld()
	df := flavourTopo(st, simpleFile)
	df.Substitution = nil
	df.File = topFile
	df.NodeTemplates["VNF"].Properties["flavour_id"] = v("default", at(topFile, 41, 21))
	st.Topologies = []*tosca.Topology{df}
	d, probs := Extract(st)
	wantNoErrors(t, probs)
	if len(d.Flavours) != 1 || d.Flavours[0].ID != "default" || d.DescriptorID == "" || d.Node != "VNF" {
		t.Fatalf("%+v", d)
	}
	if len(d.Interfaces) != 1 || len(d.Interfaces[0].Operations) != 4 {
		t.Errorf("entry interfaces %+v", d.Interfaces)
	}
}

func TestFlavourIDSources(t *testing.T) {
	t.Run("mapping beats node default", func(t *testing.T) {
		st, _ := helloworld()
		// The node template carries the type default "simple"; the mapping says "large".
		df := flavourTopo(st, simpleFile)
		df.Substitution.Properties["flavour_id"] = v("large", at(simpleFile, 34, 19))
		d, _ := Extract(st)
		if d.Flavours[0].ID != "large" {
			t.Errorf("flavour %q", d.Flavours[0].ID)
		}
	})
	t.Run("property mapped to an input", func(t *testing.T) {
		st, _ := helloworld()
		df := flavourTopo(st, simpleFile)
		// As tosca.Process hands it over: a get_input with the input's name.
		df.Substitution.Properties["flavour_id"] = &tosca.Value{V: []any{"fid"}, Function: "get_input", Pos: at(simpleFile, 34, 19)}
		df.Inputs = map[string]*tosca.Input{"fid": {Value: v("from-input", at(simpleFile, 20, 16))}}
		d, _ := Extract(st)
		if d.Flavours[0].ID != "from-input" || d.Flavours[0].idPos != at(simpleFile, 34, 19) {
			t.Errorf("flavour %q at %+v", d.Flavours[0].ID, d.Flavours[0].idPos)
		}
		// An input without a value: the next source (the type's default).
		df.Inputs["fid"].Value = nil
		d, _ = Extract(st)
		if d.Flavours[0].ID != "simple" {
			t.Errorf("flavour %q", d.Flavours[0].ID)
		}
	})
	t.Run("type default without mapping", func(t *testing.T) {
		st, _ := helloworld()
		df := flavourTopo(st, simpleFile)
		delete(df.Substitution.Properties, "flavour_id")
		d, _ := Extract(st)
		if d.Flavours[0].ID != "simple" {
			t.Errorf("flavour %q", d.Flavours[0].ID)
		}
	})
	t.Run("description: node template beats mapping", func(t *testing.T) {
		st, _ := helloworld()
		df := flavourTopo(st, simpleFile)
		df.Substitution.Properties["flavour_description"] = v("from mapping", at(simpleFile, 35, 28))
		d, _ := Extract(st)
		if d.Flavours[0].Description != "A simple flavour" {
			t.Errorf("description %q", d.Flavours[0].Description)
		}
		// Without one on the node template (only the type's default), the mapping's.
		df.NodeTemplates["VNF"].Properties["flavour_description"] = v("type default", at(typesFile, 40, 18))
		d, _ = Extract(st)
		if d.Flavours[0].Description != "from mapping" {
			t.Errorf("description %q", d.Flavours[0].Description)
		}
	})
	t.Run("none", func(t *testing.T) {
		st, ts := helloworld()
		df := flavourTopo(st, simpleFile)
		delete(df.Substitution.Properties, "flavour_id")
		delete(ts.node("company.provider.VNF").Properties, "flavour_id")
		delete(df.NodeTemplates["VNF"].Properties, "flavour_id")
		_, probs := Extract(st)
		wantProblem(t, probs, CodeFlavourIDMissing, tosca.SeverityError, at(simpleFile, 31, 5))
	})
}

// twoFlavours adds a second flavour file to helloworld with the given ID.
func twoFlavours(id string) (*tosca.ServiceTemplate, *types) {
	st, ts := helloworld()
	vt := ts.node("company.provider.VNF")
	fvnf := vnfNode(vt, "VNF", at(otherFile, 40, 5), map[string]*tosca.Value{
		"flavour_description": v("Other flavour", at(otherFile, 43, 30)),
	})
	vdu := node("VDU1", ts.node(TypeVduCompute), at(otherFile, 50, 5))
	vdu.Properties["sw_image_data"] = swImageData("other image", "sha-256", "abcd", at(otherFile, 55, 11))
	vdu.Artifacts = map[string]*tosca.ArtifactTemplate{"img": swArtifact(ts, "img", "Files/images/other.img", at(otherFile, 60, 9))}
	vdu3 := node("VDU3", ts.node(TypeVduCompute), at(otherFile, 70, 5))
	vdu3.Properties["sw_image_data"] = swImageData("third", "sha-256", "ef01", at(otherFile, 75, 11))
	vdu3.Artifacts = map[string]*tosca.ArtifactTemplate{"img": {Name: "img", Type: ts.artifact(TypeSwImage),
		File: "https://example.com/third.qcow2", ResolvedFile: "https://example.com/third.qcow2", Pos: at(otherFile, 80, 9)}}
	tp := topo(otherFile, fvnf, vdu, vdu3)
	tp.Substitution = &tosca.SubstitutionMappings{NodeType: vt.Name, Type: vt, Pos: at(otherFile, 31, 5),
		Properties: map[string]*tosca.Value{"flavour_id": v(id, at(otherFile, 34, 19))}}
	st.Topologies = append(st.Topologies, tp)
	return st, ts
}

func TestTwoFlavours(t *testing.T) {
	st, _ := twoFlavours("large")
	d, probs := Extract(st)
	wantNoErrors(t, probs)
	if len(d.Flavours) != 2 || d.Flavours[0].ID != "simple" || d.Flavours[1].ID != "large" || d.Flavours[1].Description != "Other flavour" {
		t.Fatalf("flavours %+v", d.Flavours)
	}
	if d.Flavour("large") != d.Flavours[1] || d.Flavour("nope") != nil {
		t.Error("Flavour lookup")
	}
	imgs := d.SoftwareImages()
	var ids []string
	for _, i := range imgs {
		ids = append(ids, i.ID)
	}
	// VDU1 of the first flavour wins over the second's.
	if want := []string{"VDU1", "VirtualStorage", "VDU3"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("images %v, want %v", ids, want)
	}
	if imgs[0].Name != "Demo software of VDU1" {
		t.Errorf("first flavour should win: %+v", imgs[0])
	}
	if imgs[2].URI != "https://example.com/third.qcow2" || imgs[2].File != "" || !imgs[2].InPackage() {
		t.Errorf("URL image %+v", imgs[2])
	}
}

func TestDuplicateFlavourID(t *testing.T) {
	st, _ := twoFlavours("simple")
	_, probs := Extract(st)
	p := wantProblem(t, probs, CodeDuplicateFlavourID, tosca.SeverityError, at(otherFile, 34, 19))
	if !strings.Contains(p.Message, simpleFile) {
		t.Errorf("message should name the first flavour's file: %q", p.Message)
	}
}

func TestFlavourNodeTypeMismatch(t *testing.T) {
	st, ts := twoFlavours("large")
	other := ts.add(tosca.KindNode, "other.VNF", TypeVNF)
	st.Topologies[2].Substitution.Type = other
	st.Topologies[2].Substitution.NodeType = other.Name
	_, probs := Extract(st)
	wantProblem(t, probs, CodeFlavourNodeType, tosca.SeverityError, at(otherFile, 31, 5))

	// A type derived from the VNFD's is fine.
	st, ts = twoFlavours("large")
	derived := ts.add(tosca.KindNode, "derived.VNF", "company.provider.VNF")
	st.Topologies[2].Substitution.Type = derived
	_, probs = Extract(st)
	if len(findProblems(probs, CodeFlavourNodeType)) != 0 {
		t.Errorf("derived type reported: %+v", probs)
	}
}

func TestMultipleSwImages(t *testing.T) {
	st, ts := helloworld()
	vdu1 := flavourTopo(st, simpleFile).NodeTemplates["VDU1"]
	// A second image declared earlier in the map order but later in the file.
	vdu1.Artifacts["a_second"] = swArtifact(ts, "a_second", "Files/images/b.img", at(simpleFile, 104, 9))
	// Non-image artifacts do not count.
	vdu1.Artifacts["script"] = &tosca.ArtifactTemplate{Name: "script", Type: ts.artifact("tosca.artifacts.Implementation.Bash"), Pos: at(simpleFile, 103, 9)}
	d, probs := Extract(st)
	p := wantProblem(t, probs, CodeMultipleSwImages, tosca.SeverityError, at(simpleFile, 104, 9))
	if !strings.Contains(p.Message, "VDU1") {
		t.Errorf("message %q", p.Message)
	}
	// The first one (in file order) is the image.
	if d.Flavours[0].VDUs[0].SwImage.ArtifactName != "sw_image" {
		t.Errorf("image artifact %q", d.Flavours[0].VDUs[0].SwImage.ArtifactName)
	}
}

func TestDerivedTypesCount(t *testing.T) {
	st, ts := helloworld()
	myVdu := ts.add(tosca.KindNode, "my.Vdu", TypeVduCompute)
	myImage := ts.add(tosca.KindArtifact, "my.SwImage", TypeSwImage)
	df := flavourTopo(st, simpleFile)
	df.NodeTemplates["VDU1"].Type = myVdu
	df.NodeTemplates["VDU1"].Artifacts["sw_image"].Type = myImage
	df.NodeTemplates["VDU1"].Artifacts["other"] = &tosca.ArtifactTemplate{Name: "other", Type: myImage, Pos: at(simpleFile, 103, 9)}
	d, probs := Extract(st)
	wantProblem(t, probs, CodeMultipleSwImages, tosca.SeverityError, at(simpleFile, 103, 9))
	if len(d.Flavours[0].VDUs) != 2 || d.Flavours[0].VDUs[0].ID != "VDU1" {
		t.Errorf("derived VDU not extracted: %+v", d.Flavours[0].VDUs)
	}
}

func TestSwImageDataMissing(t *testing.T) {
	st, ts := helloworld()
	vdu2 := flavourTopo(st, simpleFile).NodeTemplates["VDU2"]
	vdu2.Artifacts = map[string]*tosca.ArtifactTemplate{"image": swArtifact(ts, "image", "Files/images/x.img", at(simpleFile, 130, 9))}
	d, probs := Extract(st)
	wantProblem(t, probs, CodeSwImageDataMissing, tosca.SeverityError, at(simpleFile, 130, 9))
	if d.Flavours[0].VDUs[1].SwImage != nil {
		t.Error("VDU2 got an image")
	}

	// Also outside flavours (the entry topology of a multi-file VNFD).
	st, ts = helloworld()
	n := node("Stray", ts.node(TypeVduCompute), at(topFile, 40, 5))
	n.Artifacts = map[string]*tosca.ArtifactTemplate{"image": swArtifact(ts, "image", "Files/images/x.img", at(topFile, 44, 9))}
	st.Topologies[0].NodeTemplates["Stray"] = n
	st.Topologies[0].NodeOrder = append(st.Topologies[0].NodeOrder, "Stray")
	_, probs = Extract(st)
	wantProblem(t, probs, CodeSwImageDataMissing, tosca.SeverityError, at(topFile, 44, 9))
}

func TestSwImageWithoutArtifact(t *testing.T) {
	// sw_image_data without an artifact: a warning, the image is listed
	// but not in the package.
	st, _ := helloworld()
	df := flavourTopo(st, simpleFile)
	df.NodeTemplates["VDU2"].Properties["sw_image_data"] = swImageData("external", "sha-256", "1234", at(simpleFile, 125, 11))
	d, probs := Extract(st)
	wantNoErrors(t, probs)
	wantProblem(t, probs, CodeSwImageNotInPackage, tosca.SeverityWarning, at(simpleFile, 125, 11))
	img := d.Flavours[0].VDUs[1].SwImage
	if img == nil || img.InPackage() || img.File != "" || img.Name != "external" {
		t.Errorf("image %+v", img)
	}
	if len(d.SoftwareImages()) != 3 {
		t.Errorf("images %d", len(d.SoftwareImages()))
	}

	// The same image (checksum, compared case-insensitively) delivered by
	// another node: no warning.
	for _, c := range []struct{ delivered, orphan string }{
		{hash512, strings.ToUpper(hash512)},
		{strings.ToUpper(hash512), hash512},
	} {
		st, _ = helloworld()
		df = flavourTopo(st, simpleFile)
		df.NodeTemplates["VirtualStorage"].Properties["sw_image_data"] = swImageData("DemoVirtualStorage", "sha-512", c.delivered, at(simpleFile, 144, 11))
		df.NodeTemplates["VDU1"].Properties["sw_image_data"] = swImageData("Demo software of VDU1", "sha-512", c.delivered, at(simpleFile, 89, 11))
		df.NodeTemplates["VDU2"].Properties["sw_image_data"] = swImageData("shared", "sha-512", c.orphan, at(simpleFile, 125, 11))
		_, probs = Extract(st)
		if len(probs) != 0 {
			t.Errorf("problems %+v", probs)
		}
	}
}

func TestUntypedShortFormArtifact(t *testing.T) {
	st, _ := helloworld()
	vdu1 := flavourTopo(st, simpleFile).NodeTemplates["VDU1"]
	vdu1.Artifacts["sw_image"].Type = nil
	d, probs := Extract(st)
	wantNoErrors(t, probs)
	wantProblem(t, probs, CodeSwImageUntyped, tosca.SeverityWarning, at(simpleFile, 101, 9))
	if d.Flavours[0].VDUs[0].SwImage.File == "" {
		t.Error("untyped artifact not used as image")
	}
}

func TestSizes(t *testing.T) {
	st, _ := helloworld()
	df := flavourTopo(st, simpleFile)
	vdu1 := df.NodeTemplates["VDU1"]
	vdu1.Capabilities["virtual_compute"].Properties["virtual_memory"] = v(map[string]any{"virtual_mem_size": "2 GiB"}, at(simpleFile, 109, 15))
	df.NodeTemplates["VirtualStorage"].Properties["virtual_block_storage_data"] = v(map[string]any{"size_of_storage": "lots"}, at(simpleFile, 141, 11))
	d, probs := Extract(st)
	if got := d.Flavours[0].VDUs[0].VirtualCompute.MemoryBytes; got != 2<<30 {
		t.Errorf("memory %d", got)
	}
	wantProblem(t, probs, CodeInvalidSize, tosca.SeverityError, at(simpleFile, 141, 11))
}

func TestVduProfileRange(t *testing.T) {
	st, _ := helloworld()
	df := flavourTopo(st, simpleFile)
	df.NodeTemplates["VDU2"].Properties["vdu_profile"] = v(map[string]any{"min_number_of_instances": int64(4), "max_number_of_instances": int64(3)}, at(simpleFile, 122, 11))
	_, probs := Extract(st)
	wantProblem(t, probs, CodeVduProfileRange, tosca.SeverityError, at(simpleFile, 122, 11))
}

func policyNamed(t *tosca.Topology, name string) *tosca.Policy {
	for _, p := range t.Policies {
		if p.Name == name {
			return p
		}
	}
	panic("no policy " + name)
}

func TestUnknownInstantiationLevel(t *testing.T) {
	st, _ := helloworld()
	df := flavourTopo(st, simpleFile)
	p := policyNamed(df, "VDU2_instantiation_levels")
	p.Properties["levels"].V.(map[string]any)["instantiation_level_3"] = map[string]any{"number_of_instances": int64(2)}
	_, probs := Extract(st)
	g := wantProblem(t, probs, CodeUnknownInstantiationLevel, tosca.SeverityError, at(simpleFile, 270, 11))
	if !strings.Contains(g.Message, "instantiation_level_3") || !strings.Contains(g.Message, "VDU2_instantiation_levels") {
		t.Errorf("message %q", g.Message)
	}

	// A virtual-link level too.
	st, _ = helloworld()
	df = flavourTopo(st, simpleFile)
	p = policyNamed(df, "internalVL2_instantiation_levels")
	p.Properties["levels"].V.(map[string]any)["bogus"] = map[string]any{}
	_, probs = Extract(st)
	wantProblem(t, probs, CodeUnknownInstantiationLevel, tosca.SeverityError, at(simpleFile, 280, 11))
}

func TestInstantiationLevelsMissing(t *testing.T) {
	st, _ := helloworld()
	df := flavourTopo(st, simpleFile)
	var keep []*tosca.Policy
	for _, p := range df.Policies {
		if p.Name != "instantiation_levels" && p.Name != "VDU2_instantiation_levels" && p.Name != "internalVL2_instantiation_levels" {
			keep = append(keep, p)
		}
	}
	df.Policies = keep
	d, probs := Extract(st)
	wantProblem(t, probs, CodeInstantiationLevelsMissing, tosca.SeverityError, at(simpleFile, 260, 11))
	if d.Flavours[0].DefaultLevel != "" {
		t.Errorf("default level %q", d.Flavours[0].DefaultLevel)
	}
}

func TestDefaultLevel(t *testing.T) {
	st, _ := helloworld()
	df := flavourTopo(st, simpleFile)
	p := policyNamed(df, "instantiation_levels")
	p.Properties["default_level"] = v("instantiation_level_9", at(simpleFile, 255, 26))
	_, probs := Extract(st)
	wantProblem(t, probs, CodeUnknownDefaultLevel, tosca.SeverityError, at(simpleFile, 255, 26))

	// Absent with several levels: a warning (Tacker's samples do it).
	delete(p.Properties, "default_level")
	d, probs := Extract(st)
	wantNoErrors(t, probs)
	wantProblem(t, probs, CodeDefaultLevelMissing, tosca.SeverityWarning, at(simpleFile, 242, 7))
	if d.Flavours[0].DefaultLevel != "" {
		t.Errorf("default level %q", d.Flavours[0].DefaultLevel)
	}

	// Absent with one level: that level.
	delete(p.Properties["levels"].V.(map[string]any), "instantiation_level_2")
	for _, name := range []string{"VDU1_instantiation_levels", "VDU2_instantiation_levels", "internalVL2_instantiation_levels"} {
		delete(policyNamed(df, name).Properties["levels"].V.(map[string]any), "instantiation_level_2")
	}
	d, probs = Extract(st)
	if len(probs) != 0 || d.Flavours[0].DefaultLevel != "instantiation_level_1" {
		t.Errorf("default %q problems %+v", d.Flavours[0].DefaultLevel, probs)
	}

	// Two InstantiationLevels policies.
	st, ts := helloworld()
	df = flavourTopo(st, simpleFile)
	df.Policies = append(df.Policies, policy("more_levels", ts.policy(TypeInstantiationLevels), at(simpleFile, 300, 7), nil, nil))
	_, probs = Extract(st)
	wantProblem(t, probs, CodeDuplicatePolicy, tosca.SeverityError, at(simpleFile, 300, 7))
}

func TestScalingAspectChecks(t *testing.T) {
	t.Run("unknown aspect in scale_info", func(t *testing.T) {
		st, _ := helloworld()
		df := flavourTopo(st, simpleFile)
		lv := policyNamed(df, "instantiation_levels").Properties["levels"].V.(map[string]any)
		lv["instantiation_level_1"].(map[string]any)["scale_info"] = map[string]any{"nope": map[string]any{"scale_level": int64(0)}}
		_, probs := Extract(st)
		wantProblem(t, probs, CodeUnknownScalingAspect, tosca.SeverityError, at(simpleFile, 246, 13))
	})
	t.Run("unknown aspect in deltas", func(t *testing.T) {
		st, _ := helloworld()
		df := flavourTopo(st, simpleFile)
		policyNamed(df, "VDU2_scaling_aspect_deltas").Properties["aspect"] = v("nope", at(simpleFile, 236, 19))
		_, probs := Extract(st)
		wantProblem(t, probs, CodeUnknownScalingAspect, tosca.SeverityError, at(simpleFile, 236, 19))
	})
	t.Run("scale level out of range", func(t *testing.T) {
		st, _ := helloworld()
		df := flavourTopo(st, simpleFile)
		lv := policyNamed(df, "instantiation_levels").Properties["levels"].V.(map[string]any)
		lv["instantiation_level_2"].(map[string]any)["scale_info"] = map[string]any{"worker_instance": map[string]any{"scale_level": int64(3)}}
		_, probs := Extract(st)
		wantProblem(t, probs, CodeScaleLevelRange, tosca.SeverityError, at(simpleFile, 246, 13))
	})
	t.Run("delta not in step_deltas is a warning", func(t *testing.T) {
		// Tacker's helloworld3 names delta_2 where the aspect lists delta_1.
		st, _ := helloworld()
		df := flavourTopo(st, simpleFile)
		policyNamed(df, "VDU2_scaling_aspect_deltas").Properties["deltas"] = v(map[string]any{"delta_2": map[string]any{"number_of_instances": int64(1)}}, at(simpleFile, 238, 13))
		_, probs := Extract(st)
		wantNoErrors(t, probs)
		wantProblem(t, probs, CodeUnknownScalingDelta, tosca.SeverityWarning, at(simpleFile, 238, 13))
	})
	t.Run("aspect defined twice", func(t *testing.T) {
		st, ts := helloworld()
		df := flavourTopo(st, simpleFile)
		df.Policies = append(df.Policies, policy("more_aspects", ts.policy(TypeScalingAspects), at(simpleFile, 300, 7), nil, map[string]*tosca.Value{
			"aspects": v(map[string]any{"worker_instance": map[string]any{"max_scale_level": int64(1)}}, at(simpleFile, 303, 11)),
		}))
		d, probs := Extract(st)
		wantProblem(t, probs, CodeDuplicateScalingAspect, tosca.SeverityError, at(simpleFile, 303, 11))
		if len(d.Flavours[0].ScalingAspects) != 1 || d.Flavours[0].ScalingAspects[0].MaxScaleLevel != 2 {
			t.Errorf("aspects %+v", d.Flavours[0].ScalingAspects)
		}
	})
}

func TestPolicyTargets(t *testing.T) {
	cases := []struct {
		policy, target, code string
	}{
		{"VDU2_initial_delta", "internalVL2", CodePolicyTargetNotVDU},
		{"VDU2_scaling_aspect_deltas", "CP1", CodePolicyTargetNotVDU},
		{"VDU1_instantiation_levels", "VirtualStorage", CodePolicyTargetNotVDU},
		{"internalVL2_instantiation_levels", "VDU1", CodePolicyTargetNotVirtualLink},
	}
	for _, c := range cases {
		t.Run(c.policy+"->"+c.target, func(t *testing.T) {
			st, _ := helloworld()
			p := policyNamed(flavourTopo(st, simpleFile), c.policy)
			p.Targets = []string{c.target}
			_, probs := Extract(st)
			g := wantProblem(t, probs, c.code, tosca.SeverityError, p.Pos)
			if !strings.Contains(g.Message, c.target) {
				t.Errorf("message %q", g.Message)
			}
		})
	}
	t.Run("group target", func(t *testing.T) {
		st, ts := helloworld()
		df := flavourTopo(st, simpleFile)
		df.Groups = []*tosca.Group{{Name: "G", Type: ts.get(tosca.KindGroup, TypePlacementGroup), Members: []string{"VDU1"}}}
		p := policyNamed(df, "VDU2_initial_delta")
		p.Targets = []string{"G"}
		_, probs := Extract(st)
		wantProblem(t, probs, CodePolicyTargetNotVDU, tosca.SeverityError, p.Pos)
	})
	t.Run("left to the processor", func(t *testing.T) {
		// Unknown targets (tosca-unknown-template) and targets outside
		// the policy type's declared targets (tosca-invalid-target) are
		// reported by tosca.Process; Extract does not repeat them.
		st, ts := helloworld()
		ts.policy(TypeVduInitialDelta).Targets = []string{TypeVduCompute}
		df := flavourTopo(st, simpleFile)
		policyNamed(df, "VDU2_initial_delta").Targets = []string{"internalVL2"}
		policyNamed(df, "VDU1_instantiation_levels").Targets = []string{"NoSuchNode"}
		_, probs := Extract(st)
		if len(probs) != 0 {
			t.Errorf("problems %+v", probs)
		}
		// A policy type declaring wider targets than SOL 001: Extract's check.
		ts.policy(TypeVduInitialDelta).Targets = []string{TypeVduCompute, TypeVnfVirtualLink}
		_, probs = Extract(st)
		wantProblem(t, probs, CodePolicyTargetNotVDU, tosca.SeverityError, policyNamed(df, "VDU2_initial_delta").Pos)
	})
	t.Run("derived VDU type is a VDU", func(t *testing.T) {
		st, ts := helloworld()
		df := flavourTopo(st, simpleFile)
		df.NodeTemplates["VDU2"].Type = ts.add(tosca.KindNode, "my.Vdu", TypeVduCompute)
		_, probs := Extract(st)
		if len(probs) != 0 {
			t.Errorf("problems %+v", probs)
		}
	})
	t.Run("no targets", func(t *testing.T) {
		st, _ := helloworld()
		p := policyNamed(flavourTopo(st, simpleFile), "VDU2_initial_delta")
		p.Targets = nil
		_, probs := Extract(st)
		wantNoErrors(t, probs)
		wantProblem(t, probs, CodePolicyNoTargets, tosca.SeverityWarning, p.Pos)
	})
}

func TestPlacementRules(t *testing.T) {
	st, ts := helloworld()
	df := flavourTopo(st, simpleFile)
	df.Groups = []*tosca.Group{{Name: "AntiAffinityGroup", Type: ts.get(tosca.KindGroup, TypePlacementGroup), Members: []string{"VDU1", "VDU2"}}}
	df.Policies = append(df.Policies,
		policy("anti", ts.policy(TypeAntiAffinityRule), at(simpleFile, 300, 7), []string{"AntiAffinityGroup", "VDU1"},
			map[string]*tosca.Value{"scope": v("nfvi_node", at(simpleFile, 303, 18))}),
		policy("aff", ts.policy(TypeAffinityRule), at(simpleFile, 305, 7), []string{"VDU2", "CP1", "Missing"},
			map[string]*tosca.Value{"scope": v("zone", at(simpleFile, 308, 18))}),
	)
	d, probs := Extract(st)
	f := d.Flavours[0]
	if len(f.AntiAffinityRules) != 1 || len(f.AffinityRules) != 1 {
		t.Fatalf("rules %+v %+v", f.AntiAffinityRules, f.AffinityRules)
	}
	a := f.AntiAffinityRules[0]
	if a.Policy != "anti" || a.Scope != "nfvi_node" || !reflect.DeepEqual(a.Targets, []string{"AntiAffinityGroup", "VDU1"}) ||
		!reflect.DeepEqual(a.Members, []string{"VDU1", "VDU2"}) || a.Pos != at(simpleFile, 300, 7) {
		t.Errorf("anti-affinity %+v", a)
	}
	// CP1 is no valid target; Missing is tosca.Process's to report.
	if got := findProblems(probs, CodePolicyTargetInvalid); len(got) != 1 || !strings.Contains(got[0].Message, "CP1") {
		t.Errorf("want 1 invalid target (CP1), got %+v", got)
	} else {
		for _, p := range got {
			if p.Line != 305 {
				t.Errorf("position %+v", p)
			}
		}
	}
}

func TestExtCps(t *testing.T) {
	st, ts := helloworld()
	df := flavourTopo(st, simpleFile)
	ext := node("ExtCP", ts.node(TypeVnfExtCp), at(simpleFile, 205, 5))
	ext.Properties["layer_protocols"] = v([]any{"ipv4"}, at(simpleFile, 207, 26))
	ext.Requirements = []*tosca.RequirementAssignment{{Name: "internal_virtual_link", Node: "internalVL2"}}
	unmapped := node("Unmapped", ts.node(TypeVnfExtCp), at(simpleFile, 210, 5))
	df.NodeTemplates["ExtCP"], df.NodeTemplates["Unmapped"] = ext, unmapped
	df.NodeOrder = append(df.NodeOrder, "ExtCP", "Unmapped")
	df.Substitution.Requirements["ext"] = []string{"ExtCP", "external_virtual_link"}
	df.Substitution.Requirements["ghost"] = []string{"Ghost", "external_virtual_link"}
	d, probs := Extract(st)
	// A mapping to a missing node is tosca.Process's to report.
	if len(probs) != 0 {
		t.Errorf("problems %+v", probs)
	}
	var got []string
	for _, c := range d.Flavours[0].ExtCps {
		got = append(got, c.ID+"/"+c.Kind+"/"+c.Requirement+"/"+c.NodeRequirement+"/"+c.InternalVirtualLink)
	}
	want := []string{"CP1/VduCp/virtual_link_external/virtual_link/", "ExtCP/VnfExtCp/ext/external_virtual_link/internalVL2", "Unmapped/VnfExtCp///"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ext CPs\n got %v\nwant %v", got, want)
	}
}

func TestOtherStorages(t *testing.T) {
	st, ts := helloworld()
	df := flavourTopo(st, simpleFile)
	obj := node("Obj", ts.node(TypeVirtualObjectStorage), at(simpleFile, 220, 5))
	obj.Properties["virtual_object_storage_data"] = v(map[string]any{"max_size_of_storage": "1 TB"}, at(simpleFile, 222, 11))
	fil := node("Fil", ts.node(TypeVirtualFileStorage), at(simpleFile, 225, 5))
	fil.Properties["virtual_file_storage_data"] = v(map[string]any{"size_of_storage": "10 GiB", "file_system_protocol": "nfs"}, at(simpleFile, 227, 11))
	df.NodeTemplates["Obj"], df.NodeTemplates["Fil"] = obj, fil
	df.NodeOrder = append(df.NodeOrder, "Obj", "Fil")
	d, probs := Extract(st)
	wantNoErrors(t, probs)
	ss := d.Flavours[0].Storages
	if len(ss) != 3 || ss[1].Kind != StorageObject || ss[1].SizeBytes != 1_000_000_000_000 ||
		ss[2].Kind != StorageFile || ss[2].SizeBytes != 10<<30 || ss[2].FileSystemProtocol != "nfs" {
		t.Errorf("storages %+v %+v", ss[1], ss[2])
	}
}

// TestRobustness feeds Extract the broken shapes a failed processing run
// can leave behind; it must not panic.
func TestRobustness(t *testing.T) {
	st, _ := helloworld()
	df := flavourTopo(st, simpleFile)
	df.NodeTemplates["VDU1"].Type = nil
	df.NodeTemplates["VDU2"].Properties["vdu_profile"] = v("oops", tosca.Position{})
	df.NodeTemplates["VDU2"].Capabilities = map[string]*tosca.CapabilityAssignment{"virtual_compute": {Properties: map[string]*tosca.Value{
		"virtual_memory": v([]any{1}, tosca.Position{}), "virtual_cpu": nil, "virtual_local_storage": v(map[string]any{}, tosca.Position{}),
	}}}
	df.NodeTemplates["VirtualStorage"].Properties["sw_image_data"] = v(map[string]any{"checksum": []any{1}, "size": 3.5, "min_disk": map[string]any{}}, tosca.Position{})
	df.NodeTemplates["VirtualStorage"].Artifacts["nil"] = nil
	df.NodeTemplates["CP1"].Requirements = append(df.NodeTemplates["CP1"].Requirements, nil)
	df.NodeTemplates["Nil"] = nil
	df.NodeOrder = append(df.NodeOrder, "Nil", "Missing", "VDU2")
	df.Policies = append(df.Policies, nil, &tosca.Policy{Name: "untyped"}, &tosca.Policy{Name: "bad", Type: policyNamed(df, "instantiation_levels").Type,
		Properties: map[string]*tosca.Value{"levels": v([]any{}, tosca.Position{}), "default_level": v(int64(3), tosca.Position{})}})
	df.Substitution.Properties["flavour_id"] = v(map[string]any{"get_input": "x"}, tosca.Position{})
	df.Substitution.Requirements["empty"] = nil
	st.Topologies = append(st.Topologies, nil, &tosca.Topology{Substitution: &tosca.SubstitutionMappings{NodeType: "unknown.Type"}})
	st.Topologies[0].NodeTemplates["VNF"].Properties["vnfm_info"] = v(map[string]any{"a": 1}, tosca.Position{})
	st.Topologies[0].NodeTemplates["VNF"].Interfaces = map[string]*tosca.InterfaceDef{"Vnflcm": {Operations: map[string]*tosca.Operation{"x": nil}}, "nil": nil}
	d, _ := Extract(st)
	if d == nil {
		t.Fatal("nil VNFD")
	}
	_ = d.SoftwareImages()
	if _, err := json.Marshal(d); err != nil {
		t.Fatal(err)
	}
}
