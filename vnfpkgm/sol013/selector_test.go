package sol013

import (
	"encoding/json"
	"errors"
	"net/url"
	"reflect"
	"sort"
	"testing"
)

var defaultExclude = []string{"softwareImages", "additionalArtifacts", "userDefinedData", "checksum"}

func keys(m map[string]any) []string {
	var k []string
	for name := range m {
		k = append(k, name)
	}
	sort.Strings(k)
	return k
}

func mustQuery(t *testing.T, raw string) url.Values {
	t.Helper()
	q, err := ParseQuery(raw)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

var simpleTop = []string{"_links", "compatibleSpecificationVersions", "id", "onboardingState", "operationalState",
	"usageState", "vnfProductName", "vnfProvider", "vnfSoftwareVersion", "vnfdId", "vnfdVersion"}

func TestSelectorCombinations(t *testing.T) {
	all := []string{"_links", "additionalArtifacts", "checksum", "compatibleSpecificationVersions", "id",
		"onboardingState", "operationalState", "softwareImages", "usageState", "userDefinedData",
		"vnfProductName", "vnfProvider", "vnfSoftwareVersion", "vnfdId", "vnfdVersion"}
	// fields drops the unlisted complex attributes; compatibleSpecificationVersions is an array, so
	// it goes too (its lower bound is 1 in SOL 005, so a caller would name it mandatory).
	fieldsBase := []string{"_links", "id", "onboardingState", "operationalState", "usageState",
		"vnfProductName", "vnfProvider", "vnfSoftwareVersion", "vnfdId", "vnfdVersion"}
	cases := []struct {
		query string
		mode  SelectorMode
		want  []string // top-level keys after Apply
	}{
		{"", SelectExclude, simpleTop},
		{"exclude_default", SelectExclude, simpleTop},
		{"exclude_default=true", SelectExclude, simpleTop},
		{"all_fields", SelectAll, all},
		{"fields=softwareImages,checksum", SelectFields, append(append([]string{}, fieldsBase...), "checksum", "softwareImages")},
		{"fields=userDefinedData&exclude_default", SelectExclude, append(append([]string{}, simpleTop...), "userDefinedData")},
		{"exclude_fields=softwareImages,userDefinedData", SelectExclude, []string{"_links", "additionalArtifacts", "checksum",
			"compatibleSpecificationVersions", "id", "onboardingState", "operationalState", "usageState",
			"vnfProductName", "vnfProvider", "vnfSoftwareVersion", "vnfdId", "vnfdVersion"}},
		{"exclude_fields=vnfProvider", SelectExclude, []string{"_links", "additionalArtifacts", "checksum",
			"compatibleSpecificationVersions", "id", "onboardingState", "operationalState", "softwareImages", "usageState",
			"userDefinedData", "vnfProductName", "vnfSoftwareVersion", "vnfdId", "vnfdVersion"}},
	}
	for _, c := range cases {
		s, err := ParseSelector(mustQuery(t, c.query), defaultExclude)
		if err != nil {
			t.Errorf("%q: %v", c.query, err)
			continue
		}
		if s.Mode != c.mode {
			t.Errorf("%q: mode %v, want %v", c.query, s.Mode, c.mode)
		}
		res := decode(t, pkgJSON, false)
		got := keys(s.Apply(res))
		sort.Strings(c.want)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: keys %v\nwant %v", c.query, got, c.want)
		}
		if len(keys(res)) != len(all) {
			t.Errorf("%q: Apply modified its input", c.query)
		}
	}
}

func TestSelectorInvalid(t *testing.T) {
	for _, raw := range []string{
		"all_fields&fields=a",
		"all_fields&exclude_fields=a",
		"all_fields&exclude_default",
		"fields=a&exclude_fields=b",
		"exclude_fields=a&exclude_default",
		"fields=a&exclude_fields=b&exclude_default",
		"all_fields&fields=a&exclude_default",
		"fields=",
		"exclude_fields=",
		"fields=a,,b",
		"fields=a//b",
		"exclude_fields=id",
		"exclude_fields=_links/self",
	} {
		s, err := ParseSelector(mustQuery(t, raw), defaultExclude)
		var se *SelectorError
		if !errors.As(err, &se) {
			t.Errorf("%q: %v %v, want a *SelectorError", raw, s, err)
		}
	}
	if _, err := ParseSelector(mustQuery(t, "exclude_fields=checksum"), nil, "checksum"); err == nil {
		t.Error("excluding a caller's mandatory attribute accepted")
	}
}

func TestSelectorNested(t *testing.T) {
	res := decode(t, pkgJSON, false)

	// Nested exclude: element-wise in softwareImages; the rest of each image stays.
	s, err := ParseSelector(mustQuery(t, "exclude_fields=softwareImages/checksum,userDefinedData/nested"), defaultExclude)
	if err != nil {
		t.Fatal(err)
	}
	out := s.Apply(res)
	imgs := out["softwareImages"].([]any)
	if len(imgs) != 2 {
		t.Fatalf("images: %v", imgs)
	}
	for _, im := range imgs {
		m := im.(map[string]any)
		if _, ok := m["checksum"]; ok {
			t.Error("softwareImages/checksum not excluded")
		}
		if _, ok := m["name"]; !ok {
			t.Error("softwareImages/name lost")
		}
	}
	udd := out["userDefinedData"].(map[string]any)
	if _, ok := udd["nested"]; ok || udd["key"] != "value" {
		t.Errorf("userDefinedData = %v", udd)
	}
	// The input is intact.
	if _, ok := res["softwareImages"].([]any)[0].(map[string]any)["checksum"]; !ok {
		t.Error("Apply modified the input's nested map")
	}

	// Nested fields: softwareImages kept with its simple attributes and checksum only.
	s, err = ParseSelector(mustQuery(t, "fields=softwareImages/checksum,additionalArtifacts"), defaultExclude)
	if err != nil {
		t.Fatal(err)
	}
	out = s.Apply(res)
	for _, im := range out["softwareImages"].([]any) {
		m := im.(map[string]any)
		if _, ok := m["checksum"]; !ok {
			t.Error("fields: softwareImages/checksum dropped")
		}
		if m["name"] == nil || m["size"] == nil {
			t.Error("fields: simple attributes of images dropped")
		}
	}
	aa := out["additionalArtifacts"].([]any)[0].(map[string]any)
	if aa["metadata"] == nil || aa["checksum"] == nil {
		t.Error("fields: additionalArtifacts not kept whole")
	}
	for _, k := range []string{"userDefinedData", "checksum"} {
		if _, ok := out[k]; ok {
			t.Errorf("fields: %s kept", k)
		}
	}
	if out["_links"] == nil || out["id"] == nil {
		t.Error("fields: mandatory attributes dropped")
	}

	// A mandatory attribute named by the caller survives fields.
	s, _ = ParseSelector(mustQuery(t, "fields=softwareImages"), defaultExclude, "checksum", "compatibleSpecificationVersions")
	out = s.Apply(res)
	if out["checksum"] == nil || out["compatibleSpecificationVersions"] == nil {
		t.Errorf("caller's mandatory attributes dropped: %v", keys(out))
	}

	// fields with exclude_default: a nested path brings back its default-excluded parent.
	s, _ = ParseSelector(mustQuery(t, "fields=softwareImages/checksum&exclude_default"), defaultExclude)
	out = s.Apply(res)
	if out["softwareImages"] == nil || out["checksum"] != nil {
		t.Errorf("fields+exclude_default: %v", keys(out))
	}
}

func TestSelectorDefaultWithoutExcludeSet(t *testing.T) {
	s, err := ParseSelector(url.Values{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	res := decode(t, pkgJSON, false)
	if s.Mode != SelectAll || len(s.Apply(res)) != len(res) {
		t.Errorf("no parameter, no default set: mode %v", s.Mode)
	}
	var none *Selector
	if none.Apply(res) == nil {
		t.Error("nil selector")
	}
}

func TestSelectorValidate(t *testing.T) {
	s, _ := ParseSelector(mustQuery(t, "fields=softwareImages/checksum,userDefinedData/x/y"), defaultExclude)
	if err := s.Validate(testSchema); err != nil {
		t.Errorf("valid selector: %v", err)
	}
	s, _ = ParseSelector(mustQuery(t, "exclude_fields=softwareImages/chksum"), defaultExclude)
	err := s.Validate(testSchema)
	var se *SelectorError
	if !errors.As(err, &se) || se.Param != "exclude_fields" {
		t.Errorf("unknown attribute: %v", err)
	}
}

func TestSelectorOutputIsJSON(t *testing.T) {
	s, _ := ParseSelector(url.Values{}, defaultExclude)
	out := s.Apply(decode(t, pkgJSON, false))
	if _, err := json.Marshal(out); err != nil {
		t.Fatal(err)
	}
}

func TestSelectorGoTypedArrays(t *testing.T) {
	res := map[string]any{
		"id":    "1",
		"items": []map[string]any{{"a": 1, "b": map[string]any{"c": 2}}, {"a": 3}},
	}
	s, err := ParseSelector(mustQuery(t, "exclude_fields=items/b"), nil)
	if err != nil {
		t.Fatal(err)
	}
	items := s.Apply(res)["items"].([]map[string]any)
	if _, ok := items[0]["b"]; ok || items[0]["a"] != 1 || items[1]["a"] != 3 {
		t.Errorf("items = %v", items)
	}
	if _, ok := res["items"].([]map[string]any)[0]["b"]; !ok {
		t.Error("input modified")
	}
}
