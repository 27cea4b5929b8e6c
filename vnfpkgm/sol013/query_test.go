package sol013

import (
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

func TestParseQueryKeepsSemicolons(t *testing.T) {
	raw := "filter=(eq,vnfProvider,Acme);(eq,vnfdId,x)&fields=a,b/c&exclude_default&x=a+b%2Bc"
	q, err := ParseQuery(raw)
	if err != nil {
		t.Fatal(err)
	}
	want := url.Values{
		"filter":          {"(eq,vnfProvider,Acme);(eq,vnfdId,x)"},
		"fields":          {"a,b/c"},
		"exclude_default": {""},
		"x":               {"a b+c"},
	}
	if !reflect.DeepEqual(q, want) {
		t.Errorf("ParseQuery = %v, want %v", q, want)
	}
	// The standard library drops the filter: the reason ParseQuery exists.
	std, _ := url.ParseQuery(raw)
	if _, ok := std["filter"]; ok {
		t.Log("url.ParseQuery now keeps ';' pairs; ParseQuery may no longer be needed")
	}
	q, err = ParseQuery("a=%zz&b=1")
	if err == nil || q.Get("b") != "1" {
		t.Errorf("bad escape: %v %v", q, err)
	}
}

func TestLegacyFilter(t *testing.T) {
	q := url.Values{
		"vnfProvider":            {"Acme, Inc."},
		"vnfdId":                 {"d1"},
		"onboardingState":        {"CREATED", "ONBOARDED"},
		"filter":                 {"(eq,a,b)"},
		"all_fields":             {""},
		"fields":                 {"x"},
		"exclude_fields":         {"y"},
		"exclude_default":        {""},
		"nextpage_opaque_marker": {"m"},
	}
	f, err := LegacyFilter(q, testSchema.Known)
	if err != nil {
		t.Fatal(err)
	}
	want := "(in,onboardingState,CREATED,ONBOARDED);(eq,vnfProvider,'Acme, Inc.');(eq,vnfdId,d1)"
	if f.String() != want {
		t.Errorf("LegacyFilter = %s, want %s", f, want)
	}
	for _, tm := range f.Terms {
		if tm.Pos != 0 {
			t.Errorf("legacy term %s has position %d", tm.String(), tm.Pos)
		}
	}
	res := decode(t, pkgJSON, false)
	g, _ := LegacyFilter(url.Values{"vnfProvider": {"Acme, Inc."}, "softwareImages/name": {"ubuntu"}}, testSchema.Known)
	if !g.Match(res) {
		t.Errorf("%s does not match the package", g)
	}
	g, _ = LegacyFilter(url.Values{"vnfdId": {"other"}}, nil)
	if g.Match(res) {
		t.Errorf("%s matches the package", g)
	}

	if f, err := LegacyFilter(url.Values{"filter": {"(eq,a,b)"}, "all_fields": {""}}, nil); f != nil || err != nil {
		t.Errorf("only reserved parameters: %v %v", f, err)
	}
	_, err = LegacyFilter(url.Values{"bogus": {"1"}}, testSchema.Known)
	var fe *FilterError
	if !errors.As(err, &fe) || !strings.Contains(fe.Msg, `unknown query parameter "bogus"`) {
		t.Errorf("unknown parameter: %v", err)
	}
	if _, err := LegacyFilter(url.Values{"a b": {"1"}}, nil); err == nil {
		t.Error("malformed name accepted")
	}
}

func TestFilterFromQuery(t *testing.T) {
	q, _ := ParseQuery("filter=(eq,onboardingState,ONBOARDED)&filter=(cont,vnfProvider,Acme)&vnfdId=vnfd-1&exclude_default")
	f, err := FilterFromQuery(q, testSchema)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.String(); got != "(eq,onboardingState,ONBOARDED);(cont,vnfProvider,Acme);(eq,vnfdId,vnfd-1)" {
		t.Errorf("FilterFromQuery = %s", got)
	}
	if !f.Match(decode(t, pkgJSON, false)) {
		t.Error("no match")
	}
	if f, err := FilterFromQuery(url.Values{"all_fields": {""}}, testSchema); f != nil || err != nil {
		t.Errorf("no filter: %v %v", f, err)
	}
	for _, raw := range []string{
		"filter=(eq,onboardingState,onboarded)", // bad enum value
		"filter=(eq,nope,1)",                    // unknown attribute
		"filter=(eq,a,b",                        // syntax
		"softwareImages/size=big",               // legacy value of the wrong type
		"nope=1",                                // legacy unknown attribute
	} {
		q, _ := ParseQuery(raw)
		_, err := FilterFromQuery(q, testSchema)
		var fe *FilterError
		if !errors.As(err, &fe) {
			t.Errorf("%s: %v, want a *FilterError", raw, err)
		}
	}
}
