package sol013

import (
	"encoding/base64"
	"errors"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestMarkerRoundTrip(t *testing.T) {
	for _, p := range []Position{
		{},
		{SortKey: "2024-01-10T10:00:00Z", ID: "0b9a6a3e-6f0e-4b5e-9d41-0a1b2c3d4e5f"},
		{SortKey: strings.Repeat("k", 300), ID: "é/&?=;'"},
	} {
		m := EncodeMarker(p)
		if strings.ContainsAny(m, "+/=&?;%") {
			t.Errorf("marker %q is not URL-safe", m)
		}
		if url.QueryEscape(m) != m {
			t.Errorf("marker %q needs escaping", m)
		}
		got, err := DecodeMarker(m)
		if err != nil || got != p {
			t.Errorf("DecodeMarker(EncodeMarker(%+v)) = %+v, %v", p, got, err)
		}
	}
}

func TestMarkerTampering(t *testing.T) {
	m := EncodeMarker(Position{SortKey: "a", ID: "id-1"})
	raw, _ := base64.RawURLEncoding.DecodeString(m)
	bad := []string{
		"",
		"!!!",
		m[:len(m)-1],
		m + "A",
		strings.Repeat("A", MaxMarkerLen+1),
		base64.RawURLEncoding.EncodeToString(raw[:10]),
		NewMarkerCodec([]byte("another key")).Encode(Position{SortKey: "a", ID: "id-1"}),
	}
	// Flip every bit of every byte in turn.
	for i := range raw {
		for bit := 0; bit < 8; bit++ {
			c := append([]byte(nil), raw...)
			c[i] ^= 1 << bit
			bad = append(bad, base64.RawURLEncoding.EncodeToString(c))
		}
	}
	for _, s := range bad {
		p, err := DecodeMarker(s)
		if err == nil {
			t.Errorf("tampered marker %q decoded as %+v", s, p)
			continue
		}
		if !errors.Is(err, ErrInvalidMarker) {
			t.Errorf("error %v does not wrap ErrInvalidMarker", err)
		}
	}
	// A keyed codec round-trips and rejects the default codec's markers.
	c := NewMarkerCodec([]byte("secret"))
	if p, err := c.Decode(c.Encode(Position{ID: "x"})); err != nil || p.ID != "x" {
		t.Errorf("keyed round trip: %+v %v", p, err)
	}
	if _, err := c.Decode(m); err == nil {
		t.Error("keyed codec accepted a default-key marker")
	}
}

func TestNextLink(t *testing.T) {
	r := httptest.NewRequest("GET",
		"http://nfvo.example:9890/vnfpkgm/v1/vnf_packages?filter=(eq,vnfProvider,'Acme%2C%20Inc.')%3B(in,onboardingState,CREATED,ONBOARDED)&fields=softwareImages/checksum&exclude_default&nextpage_opaque_marker=OLD&vnfdId=a+b",
		nil)
	link := NextLink("http://nfvo.example:9890", r, "NEW-marker_1")
	if !strings.HasPrefix(link, "<http://nfvo.example:9890/vnfpkgm/v1/vnf_packages?") || !strings.HasSuffix(link, `>; rel="next"`) {
		t.Fatalf("Link = %s", link)
	}
	u, err := url.Parse(strings.TrimSuffix(strings.TrimPrefix(link, "<"), `>; rel="next"`))
	if err != nil {
		t.Fatal(err)
	}
	// The standard parser sees every parameter: ';' was encoded.
	q := u.Query()
	if got := q.Get("filter"); got != "(eq,vnfProvider,'Acme, Inc.');(in,onboardingState,CREATED,ONBOARDED)" {
		t.Errorf("filter = %q", got)
	}
	if q.Get("fields") != "softwareImages/checksum" || !q.Has("exclude_default") || q.Get("vnfdId") != "a b" {
		t.Errorf("query lost parameters: %v", q)
	}
	if m := q["nextpage_opaque_marker"]; len(m) != 1 || m[0] != "NEW-marker_1" {
		t.Errorf("markers = %v", m)
	}
	if strings.Contains(link, "OLD") {
		t.Error("old marker kept")
	}
	// The filter stays readable in the link.
	if !strings.Contains(link, "filter=(eq,vnfProvider,'Acme%2C%20Inc.')%3B(in,onboardingState,CREATED,ONBOARDED)") &&
		!strings.Contains(link, "filter=(eq,vnfProvider,'Acme,%20Inc.')%3B(in,onboardingState,CREATED,ONBOARDED)") {
		t.Errorf("filter not readable: %s", link)
	}
	// The filter re-parses from the link to the original.
	f, err := ParseFilter(q.Get("filter"))
	if err != nil || len(f.Terms) != 2 {
		t.Errorf("filter from link: %v %v", f, err)
	}

	// A raw ';' in the request query is kept as part of the value.
	r = httptest.NewRequest("GET", "/vnfpkgm/v1/vnf_packages?filter=(eq,a,b);(eq,c,d)", nil)
	r.Host = "evil.example" // never used: the root is the server's
	link = NextLink("https://h", r, "m")
	if link != `<https://h/vnfpkgm/v1/vnf_packages?filter=(eq,a,b)%3B(eq,c,d)&nextpage_opaque_marker=m>; rel="next"` {
		t.Errorf("Link = %s", link)
	}
	// No query.
	if got := NextURL("http://h/p", "", "m"); got != "http://h/p?nextpage_opaque_marker=m" {
		t.Errorf("NextURL = %s", got)
	}
	// An undecodable pair is kept as it came.
	if got := NextURL("http://h/p", "a=%zz&nextpage_opaque_marker=o", "m"); got != "http://h/p?a=%zz&nextpage_opaque_marker=m" {
		t.Errorf("NextURL = %s", got)
	}
}
