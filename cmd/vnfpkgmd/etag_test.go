package main_test

// The edge of the individual package resource (issue 15 items 3, 14, 19):
// ETag and If-Match, links that do not follow the client's Host, the
// userDefinedData limit, the 409 messages.

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
)

const mergePatch = "application/merge-patch+json"

func TestETagAndIfMatch(t *testing.T) {
	s := startServer(t, "")
	r := s.do("POST", pkgs, strings.NewReader(`{"userDefinedData":{"a":1}}`), "Content-Type", "application/json")
	expectStatus(t, r, 201)
	var info map[string]any
	r.json(t, &info)
	id := info["id"].(string)
	created := r.header.Get("ETag")
	if !strings.HasPrefix(created, `"`) || !strings.HasSuffix(created, `"`) {
		t.Fatalf("201 ETag %q, want a strong entity tag", created)
	}
	get := s.do("GET", pkgs+"/"+id, nil)
	if get.header.Get("ETag") != created {
		t.Fatalf("GET ETag %q, the 201 said %q", get.header.Get("ETag"), created)
	}
	if h := s.do("HEAD", pkgs+"/"+id, nil); h.header.Get("ETag") != created {
		t.Fatalf("HEAD ETag %q", h.header.Get("ETag"))
	}
	patch := func(ifMatch, body string) response {
		t.Helper()
		return s.do("PATCH", pkgs+"/"+id, strings.NewReader(body), "Content-Type", mergePatch, "If-Match", ifMatch)
	}

	// A wrong tag, a weak one (If-Match compares strongly), a list without it: 412, nothing changed.
	for _, bad := range []string{`"stale"`, "W/" + created, `"x", "y"`} {
		pd := expectProblem(t, patch(bad, `{"userDefinedData":{"b":2}}`), 412)
		if !strings.Contains(fmt.Sprint(pd["detail"]), "If-Match") {
			t.Fatalf("412 detail %v", pd["detail"])
		}
	}
	if ud := s.info(t, id)["userDefinedData"].(map[string]any); ud["b"] != nil {
		t.Fatalf("a failed If-Match changed the package: %v", ud)
	}
	expectProblem(t, patch(`no-quotes`, `{"userDefinedData":{"b":2}}`), 400)

	// The current tag in a list: applied, with the new ETag.
	r = patch(`"other", `+created, `{"userDefinedData":{"b":2}}`)
	expectStatus(t, r, 200)
	next := r.header.Get("ETag")
	if next == "" || next == created {
		t.Fatalf("PATCH ETag %q (before %q)", next, created)
	}
	if got := s.do("GET", pkgs+"/"+id, nil).header.Get("ETag"); got != next {
		t.Fatalf("GET after PATCH: ETag %q, the PATCH said %q", got, next)
	}
	// The old tag no longer holds; * does.
	expectProblem(t, patch(created, `{"userDefinedData":{"c":3}}`), 412)
	expectStatus(t, patch("*", `{"userDefinedData":{"c":3}}`), 200)
	// A package that does not exist is a 404 whatever the condition.
	expectProblem(t, s.do("PATCH", pkgs+"/no-such-package", strings.NewReader(`{"userDefinedData":{"c":3}}`), "Content-Type", mergePatch, "If-Match", `"r1"`), 404)

	// DELETE honours If-Match too.
	current := s.do("GET", pkgs+"/"+id, nil).header.Get("ETag")
	expectProblem(t, s.do("DELETE", pkgs+"/"+id, nil, "If-Match", created), 412)
	expectStatus(t, s.do("DELETE", pkgs+"/"+id, nil, "If-Match", current), 204)
}

// rawRequest sends request (an HTTP/1.1 message) on a new connection and
// returns the response.
func rawRequest(t *testing.T, s *server, request string) response {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(request)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	_, _ = bufio.NewReader(resp.Body).WriteTo(&b)
	return response{resp.StatusCode, resp.Header, []byte(b.String())}
}

func TestLinksIgnoreTheClientsHost(t *testing.T) {
	body := `{"userDefinedData":{}}`
	post := func(target, host string) string {
		return fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", target, host, len(body), body)
	}
	check := func(t *testing.T, s *server, root string) {
		t.Helper()
		for _, req := range []string{
			post(pkgs, "evil.example"),                       // a forged Host
			post("http://evil.example"+pkgs, "evil.example"), // an absolute URL
		} {
			r := rawRequest(t, s, req)
			expectStatus(t, r, 201)
			var info map[string]any
			r.json(t, &info)
			self := root + pkgs + "/" + info["id"].(string)
			links := info["_links"].(map[string]any)
			if loc := r.header.Get("Location"); loc != self || links["self"].(map[string]any)["href"] != self ||
				links["packageContent"].(map[string]any)["href"] != self+"/package_content" {
				t.Fatalf("Location %q, _links %v: want them under %s", loc, links, root)
			}
		}
		r := rawRequest(t, s, "GET /vnfpkgm/v1/api_versions HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n")
		var v map[string]any
		r.json(t, &v)
		if v["uriPrefix"] != root+"/vnfpkgm/v1" {
			t.Fatalf("uriPrefix %v, want under %s", v["uriPrefix"], root)
		}
		// --list-page-bytes 1: a page per package, so the list has a next link.
		r = rawRequest(t, s, "GET "+pkgs+"?filter=(neq,onboardingState,ERROR) HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n")
		expectStatus(t, r, 200)
		if link := r.header.Get("Link"); !strings.HasPrefix(link, "<"+root+pkgs+"?") {
			t.Fatalf("Link %q, want under %s", link, root)
		}
	}
	t.Run("listen address", func(t *testing.T) {
		s := startServer(t, "", "--list-page-bytes", "1")
		check(t, s, s.base)
	})
	t.Run("public URL", func(t *testing.T) {
		s := startServer(t, "", "--public-url", "https://pkgs.example.net/nfv/", "--list-page-bytes", "1")
		check(t, s, "https://pkgs.example.net/nfv")
	})
}

func TestUserDefinedDataLimit(t *testing.T) {
	s := startServer(t, "", "--max-user-data-size", "100")
	big := `{"k":"` + strings.Repeat("x", 100) + `"}`
	pd := expectProblem(t, s.do("POST", pkgs, strings.NewReader(`{"userDefinedData":`+big+`}`), "Content-Type", "application/json"), 413)
	if d := fmt.Sprint(pd["detail"]); !strings.Contains(d, "100 bytes") || !strings.Contains(d, "userDefinedData") {
		t.Fatalf("413 detail %q does not name the limit", d)
	}
	id := s.createWith(t, `{"a":"`+strings.Repeat("y", 50)+`"}`)
	// Each patch is small; the merged result is not.
	pd = expectProblem(t, s.do("PATCH", pkgs+"/"+id, strings.NewReader(`{"userDefinedData":{"b":"`+strings.Repeat("z", 50)+`"}}`), "Content-Type", mergePatch), 413)
	if !strings.Contains(fmt.Sprint(pd["detail"]), "100 bytes") {
		t.Fatalf("413 detail %v", pd["detail"])
	}
	if ud := s.info(t, id)["userDefinedData"].(map[string]any); ud["b"] != nil {
		t.Fatalf("a refused PATCH changed userDefinedData: %v", ud)
	}
	// Replacing the big value keeps it under the limit.
	expectStatus(t, s.do("PATCH", pkgs+"/"+id, strings.NewReader(`{"userDefinedData":{"a":null,"b":"`+strings.Repeat("z", 50)+`"}}`), "Content-Type", mergePatch), 200)
}

func TestConflictMessages(t *testing.T) {
	s := startServer(t, "")
	id := s.createWith(t, `{}`)
	patch := func(state string) map[string]any {
		return expectProblem(t, s.do("PATCH", pkgs+"/"+id, strings.NewReader(`{"operationalState":"`+state+`"}`), "Content-Type", mergePatch), 409)
	}
	if d := fmt.Sprint(patch("ENABLED")["detail"]); !strings.Contains(d, "is CREATED, not ONBOARDED") {
		t.Fatalf("enabling a CREATED package: %q", d)
	}
	pkg := testPkg{vnfdID: newVnfdID(151)}.build(t)
	id, _ = s.onboardBytes(t, pkg.zip, `{}`)
	if d := fmt.Sprint(patch("ENABLED")["detail"]); !strings.Contains(d, "is already ENABLED") {
		t.Fatalf("enabling an ENABLED package: %q", d)
	}
	upload := s.do("PUT", pkgs+"/"+id+"/package_content", strings.NewReader(string(pkg.zip)), "Content-Type", "application/zip")
	if d := fmt.Sprint(expectProblem(t, upload, 409)["detail"]); !strings.Contains(d, "is ONBOARDED; this needs its onboardingState to be CREATED") {
		t.Fatalf("uploading to an ONBOARDED package: %q", d)
	}
	if d := fmt.Sprint(expectProblem(t, s.do("DELETE", pkgs+"/"+id, nil), 409)["detail"]); !strings.Contains(d, "is ENABLED: disable it") {
		t.Fatalf("deleting an ENABLED package: %q", d)
	}
	expectStatus(t, s.do("PATCH", pkgs+"/"+id, strings.NewReader(`{"operationalState":"DISABLED"}`), "Content-Type", mergePatch), 200)
	if d := fmt.Sprint(patch("DISABLED")["detail"]); !strings.Contains(d, "is already DISABLED") {
		t.Fatalf("disabling a DISABLED package: %q", d)
	}
}

// TestIfNoneMatchOnPackageInfo: a client that kept a VnfPkgInfo revalidates
// it with If-None-Match and gets 304 until the package changes (weak
// comparison, lists and "*"), then the new representation.
func TestIfNoneMatchOnPackageInfo(t *testing.T) {
	s := startServer(t, "")
	r := s.do("POST", pkgs, strings.NewReader(`{"userDefinedData":{"a":1}}`), "Content-Type", "application/json")
	expectStatus(t, r, 201)
	var info map[string]any
	r.json(t, &info)
	id := info["id"].(string)
	etag := r.header.Get("ETag")
	for _, inm := range []string{etag, "W/" + etag, `"other", ` + etag, "*"} {
		for _, method := range []string{"GET", "HEAD"} {
			got := s.do(method, pkgs+"/"+id, nil, "If-None-Match", inm)
			expectStatus(t, got, 304)
			if got.header.Get("ETag") != etag || len(got.body) != 0 {
				t.Fatalf("%s If-None-Match %s: 304 with ETag %q and %d body bytes", method, inm, got.header.Get("ETag"), len(got.body))
			}
		}
	}
	expectStatus(t, s.do("GET", pkgs+"/"+id, nil, "If-None-Match", `"r999"`), 200)
	expectProblem(t, s.do("GET", pkgs+"/"+id, nil, "If-None-Match", "no-quotes"), 400)

	patched := s.do("PATCH", pkgs+"/"+id, strings.NewReader(`{"userDefinedData":{"b":2}}`), "Content-Type", mergePatch)
	expectStatus(t, patched, 200)
	fresh := s.do("GET", pkgs+"/"+id, nil, "If-None-Match", etag)
	expectStatus(t, fresh, 200)
	if fresh.header.Get("ETag") == etag || !strings.Contains(string(fresh.body), `"b":2`) {
		t.Fatalf("after PATCH, If-None-Match of the old tag got ETag %q body %s", fresh.header.Get("ETag"), fresh.body)
	}
}
