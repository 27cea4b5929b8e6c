package vnfd

import (
	"strings"

	"github.com/vnfpkgm/vnfpkgm/tosca"
)

// levelRef is a policy that names instantiation levels.
type levelRef struct {
	policy *tosca.Policy
	levels []string
	pos    tosca.Position
}

// aspectRef is a use of a scaling aspect.
type aspectRef struct {
	what      string // for messages
	aspect    string
	level     int // scale_level (InstantiationLevels)
	hasLevel  bool
	deltas    []string
	pos       tosca.Position // of the aspect name
	deltasPos tosca.Position // of the deltas
}

// policies reads a flavour's policies and checks that they agree with
// each other and with the node templates they target.
func (x *extractor) policies(f *Flavour, t *tosca.Topology) {
	var levelsPolicy *tosca.Policy
	var levelRefs []levelRef
	var aspectRefs []aspectRef
	aspects := map[string]*ScalingAspect{}

	for _, p := range t.Policies {
		if p == nil {
			continue
		}
		switch {
		case p.Type.IsA(TypeInstantiationLevels):
			if levelsPolicy != nil {
				x.errorf(CodeDuplicatePolicy, p.Pos,
					"policy %s: the flavour already has the %s policy %s; a flavour has one", p.Name, TypeInstantiationLevels, levelsPolicy.Name)
				continue
			}
			levelsPolicy = p
			f.InstantiationLevelsPos = p.Pos
			lv := prop(p.Properties, "levels")
			lm := asMap(val(lv))
			for _, id := range sortedKeys(lm) {
				l := asMap(lm[id])
				il := &InstantiationLevel{ID: id, Description: str(field(l, "description"))}
				si := asMap(field(l, "scale_info"))
				for _, a := range sortedKeys(si) {
					sl, ok := asInt(field(asMap(si[a]), "scale_level"))
					if il.ScaleInfo == nil {
						il.ScaleInfo = map[string]int{}
					}
					il.ScaleInfo[a] = sl
					aspectRefs = append(aspectRefs, aspectRef{
						what: "level " + id + " of policy " + p.Name, aspect: a, level: sl, hasLevel: ok, pos: firstPos(pos(lv), p.Pos),
					})
				}
				f.InstantiationLevels = append(f.InstantiationLevels, il)
			}
			dl := prop(p.Properties, "default_level")
			if s := str(val(dl)); s != "" {
				f.DefaultLevel = s
				if !hasKey(lm, s) {
					x.errorf(CodeUnknownDefaultLevel, firstPos(pos(dl), p.Pos),
						"policy %s: default_level %s is not one of the levels (%s)", p.Name, s, strings.Join(sortedKeys(lm), ", "))
				}
			} else if len(f.InstantiationLevels) == 1 {
				f.DefaultLevel = f.InstantiationLevels[0].ID
			} else if len(f.InstantiationLevels) > 1 {
				x.warnf(CodeDefaultLevelMissing, p.Pos,
					"policy %s defines %d levels and no default_level", p.Name, len(f.InstantiationLevels))
			}

		case p.Type.IsA(TypeScalingAspects):
			am := asMap(val(prop(p.Properties, "aspects")))
			for _, id := range sortedKeys(am) {
				a := asMap(am[id])
				sa := &ScalingAspect{
					ID:          id,
					Name:        str(field(a, "name")),
					Description: str(field(a, "description")),
					StepDeltas:  asStrings(field(a, "step_deltas")),
					Policy:      p.Name,
					Pos:         p.Pos,
				}
				sa.MaxScaleLevel, _ = asInt(field(a, "max_scale_level"))
				if prev := aspects[id]; prev != nil {
					x.errorf(CodeDuplicateScalingAspect, firstPos(pos(prop(p.Properties, "aspects")), p.Pos),
						"policy %s: scaling aspect %s is already defined by policy %s", p.Name, id, prev.Policy)
					continue
				}
				aspects[id] = sa
				f.ScalingAspects = append(f.ScalingAspects, sa)
			}

		case p.Type.IsA(TypeVduInstantiationLevels):
			lv := prop(p.Properties, "levels")
			lm := asMap(val(lv))
			pl := &VduInstantiationLevels{
				Policy:  p.Name,
				Targets: x.checkTargets(p, t, TypeVduCompute, CodePolicyTargetNotVDU, "VDU"),
				Levels:  map[string]int{},
				Pos:     p.Pos,
			}
			for _, id := range sortedKeys(lm) {
				pl.Levels[id], _ = asInt(field(asMap(lm[id]), "number_of_instances"))
			}
			f.VduInstantiationLevels = append(f.VduInstantiationLevels, pl)
			levelRefs = append(levelRefs, levelRef{p, sortedKeys(lm), firstPos(pos(lv), p.Pos)})

		case p.Type.IsA(TypeVirtualLinkInstantiationLevels):
			lv := prop(p.Properties, "levels")
			lm := asMap(val(lv))
			pl := &VirtualLinkInstantiationLevels{
				Policy:  p.Name,
				Targets: x.checkTargets(p, t, TypeVnfVirtualLink, CodePolicyTargetNotVirtualLink, "virtual link"),
				Levels:  map[string]Bitrate{},
				Pos:     p.Pos,
			}
			for _, id := range sortedKeys(lm) {
				if b := bitrate(field(asMap(lm[id]), "bitrate_requirements")); b != nil {
					pl.Levels[id] = *b
				} else {
					pl.Levels[id] = Bitrate{}
				}
			}
			f.VirtualLinkInstantiationLevels = append(f.VirtualLinkInstantiationLevels, pl)
			levelRefs = append(levelRefs, levelRef{p, sortedKeys(lm), firstPos(pos(lv), p.Pos)})

		case p.Type.IsA(TypeVduInitialDelta):
			d := &VduInitialDelta{
				Policy:  p.Name,
				Targets: x.checkTargets(p, t, TypeVduCompute, CodePolicyTargetNotVDU, "VDU"),
				Pos:     p.Pos,
			}
			d.NumberOfInstances, _ = asInt(field(asMap(val(prop(p.Properties, "initial_delta"))), "number_of_instances"))
			f.VduInitialDeltas = append(f.VduInitialDeltas, d)

		case p.Type.IsA(TypeVduScalingAspectDeltas):
			av := prop(p.Properties, "aspect")
			dv := prop(p.Properties, "deltas")
			dm := asMap(val(dv))
			d := &VduScalingAspectDeltas{
				Policy:  p.Name,
				Targets: x.checkTargets(p, t, TypeVduCompute, CodePolicyTargetNotVDU, "VDU"),
				Aspect:  str(val(av)),
				Deltas:  map[string]int{},
				Pos:     p.Pos,
			}
			for _, id := range sortedKeys(dm) {
				d.Deltas[id], _ = asInt(field(asMap(dm[id]), "number_of_instances"))
			}
			f.VduScalingAspectDeltas = append(f.VduScalingAspectDeltas, d)
			if d.Aspect != "" {
				aspectRefs = append(aspectRefs, aspectRef{
					what: "policy " + p.Name, aspect: d.Aspect, deltas: sortedKeys(dm),
					pos: firstPos(pos(av), p.Pos), deltasPos: firstPos(pos(dv), pos(av), p.Pos),
				})
			}

		case p.Type.IsA(TypeVirtualLinkBitrateInitialDelta):
			x.checkTargets(p, t, TypeVnfVirtualLink, CodePolicyTargetNotVirtualLink, "virtual link")

		case p.Type.IsA(TypeVirtualLinkBitrateScalingAspectDeltas):
			x.checkTargets(p, t, TypeVnfVirtualLink, CodePolicyTargetNotVirtualLink, "virtual link")
			av := prop(p.Properties, "aspect")
			dv := prop(p.Properties, "deltas")
			if a := str(val(av)); a != "" {
				aspectRefs = append(aspectRefs, aspectRef{
					what: "policy " + p.Name, aspect: a, deltas: sortedKeys(asMap(val(dv))),
					pos: firstPos(pos(av), p.Pos), deltasPos: firstPos(pos(dv), pos(av), p.Pos),
				})
			}

		case p.Type.IsA(TypeAffinityRule):
			f.AffinityRules = append(f.AffinityRules, x.placement(p, t))
		case p.Type.IsA(TypeAntiAffinityRule):
			f.AntiAffinityRules = append(f.AntiAffinityRules, x.placement(p, t))
		}
	}

	// Levels named by Vdu/VirtualLink InstantiationLevels must be defined
	// by the flavour's InstantiationLevels policy (Tacker rejects both).
	defined := map[string]*InstantiationLevel{}
	for _, l := range f.InstantiationLevels {
		defined[l.ID] = l
	}
	for _, r := range levelRefs {
		if levelsPolicy == nil {
			x.errorf(CodeInstantiationLevelsMissing, r.pos,
				"policy %s names instantiation levels but the flavour has no %s policy", r.policy.Name, TypeInstantiationLevels)
			continue
		}
		var unknown []string
		for _, l := range r.levels {
			if defined[l] == nil {
				unknown = append(unknown, l)
			}
		}
		if len(unknown) > 0 {
			x.errorf(CodeUnknownInstantiationLevel, r.pos,
				"policy %s: level(s) %s not defined by policy %s (levels: %s)",
				r.policy.Name, strings.Join(unknown, ", "), levelsPolicy.Name, strings.Join(sortedKeys(defined), ", "))
		}
	}

	// VDU instances per level.
	for _, pl := range f.VduInstantiationLevels {
		for _, id := range sortedKeys(pl.Levels) {
			l := defined[id]
			if l == nil {
				continue
			}
			for _, vdu := range pl.Targets {
				if f.VDU(vdu) == nil {
					continue
				}
				if l.VduInstances == nil {
					l.VduInstances = map[string]int{}
				}
				l.VduInstances[vdu] = pl.Levels[id]
			}
		}
	}

	// Aspects named by levels and deltas must be defined, scale levels
	// within 0..max_scale_level. A delta the aspect's step_deltas do not
	// list is only a warning: Tacker's helloworld3 sample has one.
	for _, r := range aspectRefs {
		a := aspects[r.aspect]
		if a == nil {
			x.errorf(CodeUnknownScalingAspect, r.pos,
				"%s: scaling aspect %s is not defined by any %s policy", r.what, r.aspect, TypeScalingAspects)
			continue
		}
		if r.hasLevel && (r.level < 0 || r.level > a.MaxScaleLevel) {
			x.errorf(CodeScaleLevelRange, r.pos,
				"%s: scale_level %d of aspect %s is outside 0..%d (max_scale_level)", r.what, r.level, r.aspect, a.MaxScaleLevel)
		}
		var unknown []string
		for _, d := range r.deltas {
			if !contains(a.StepDeltas, d) {
				unknown = append(unknown, d)
			}
		}
		if len(unknown) > 0 {
			x.warnf(CodeUnknownScalingDelta, r.deltasPos,
				"%s: delta(s) %s are not among the step_deltas of aspect %s (%s)",
				r.what, strings.Join(unknown, ", "), r.aspect, strings.Join(a.StepDeltas, ", "))
		}
	}
}

func hasKey(m map[string]any, k string) bool {
	_, ok := m[k]
	return ok
}

func contains(l []string, s string) bool {
	for _, e := range l {
		if e == s {
			return true
		}
	}
	return false
}

// groupOf returns the topology's group with the given name.
func groupOf(t *tosca.Topology, name string) *tosca.Group {
	for _, g := range t.Groups {
		if g != nil && g.Name == name {
			return g
		}
	}
	return nil
}

// processorChecked reports whether tosca.Process has already judged a
// policy target, so that Extract does not report it twice: a name that is
// neither a node template nor a group of the topology
// (tosca-unknown-template), a template whose type is unknown, and a target
// outside the targets the policy type declares (tosca-invalid-target, at
// the target's own position). What remains for Extract is a policy type
// that declares no targets, or declares wider ones than SOL 001.
func processorChecked(pt *tosca.Type, t *tosca.Topology, name string) bool {
	var typ *tosca.Type
	if n := t.NodeTemplates[name]; n != nil {
		typ = n.Type
	} else if g := groupOf(t, name); g != nil {
		typ = g.Type
	} else {
		return true
	}
	if typ == nil {
		return true
	}
	if pt == nil || len(pt.Targets) == 0 {
		return false
	}
	for _, valid := range pt.Targets {
		if typ.IsA(valid) {
			return false
		}
	}
	return true
}

// checkTargets reports the targets of a policy that are not node
// templates of type want, and returns the targets.
func (x *extractor) checkTargets(p *tosca.Policy, t *tosca.Topology, want, code, what string) []string {
	if len(p.Targets) == 0 {
		x.warnf(CodePolicyNoTargets, p.Pos, "policy %s (%s) has no targets", p.Name, typeName(p.Type))
		return []string{}
	}
	for _, name := range p.Targets {
		if processorChecked(p.Type, t, name) {
			continue
		}
		n := t.NodeTemplates[name]
		switch {
		case n == nil:
			x.errorf(code, p.Pos, "policy %s (%s) targets the group %s; it applies to %s node templates only",
				p.Name, typeName(p.Type), name, want)
		case !n.Type.IsA(want):
			x.errorf(code, p.Pos, "policy %s (%s) targets %s, a %s, not a %s (%s)",
				p.Name, typeName(p.Type), name, typeName(n.Type), what, want)
		}
	}
	return append([]string(nil), p.Targets...)
}

func typeName(t *tosca.Type) string {
	if t == nil {
		return "unknown type"
	}
	return t.Name
}

// placement reads an AffinityRule or AntiAffinityRule: its targets are
// VDUs, virtual links or placement groups; Members lists the groups'
// members in their place.
func (x *extractor) placement(p *tosca.Policy, t *tosca.Topology) *PlacementRule {
	r := &PlacementRule{
		Policy:  p.Name,
		Scope:   str(val(prop(p.Properties, "scope"))),
		Targets: append([]string{}, p.Targets...),
		Members: []string{},
		Pos:     p.Pos,
	}
	seen := map[string]bool{}
	add := func(m string) {
		if !seen[m] {
			seen[m] = true
			r.Members = append(r.Members, m)
		}
	}
	for _, name := range p.Targets {
		checked := processorChecked(p.Type, t, name)
		if n := t.NodeTemplates[name]; n != nil {
			if !checked && !n.Type.IsA(TypeVduCompute) && !n.Type.IsA(TypeVnfVirtualLink) {
				x.errorf(CodePolicyTargetInvalid, p.Pos, "policy %s (%s) targets %s, a %s; placement rules apply to VDUs, virtual links and placement groups",
					p.Name, typeName(p.Type), name, typeName(n.Type))
			}
			add(name)
			continue
		}
		g := groupOf(t, name)
		if g == nil {
			continue // tosca.Process reports it (tosca-unknown-template)
		}
		if !checked && !g.Type.IsA(TypePlacementGroup) {
			x.errorf(CodePolicyTargetInvalid, p.Pos, "policy %s (%s) targets the group %s, a %s, not a %s",
				p.Name, typeName(p.Type), name, typeName(g.Type), TypePlacementGroup)
		}
		for _, m := range g.Members {
			add(m)
		}
	}
	if len(p.Targets) == 0 {
		x.warnf(CodePolicyNoTargets, p.Pos, "policy %s (%s) has no targets", p.Name, typeName(p.Type))
	}
	return r
}
