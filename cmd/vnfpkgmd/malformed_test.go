package main_test

// Malformed requests. net/http answers some of them itself, before any
// handler runs, with a text/plain body the server cannot change (its
// http.Server has no hook for them): a bad %-escape or a control byte in
// the request target, a malformed request line, method, version, header
// name or value, Host or Content-Length, a missing Host in HTTP/1.1, more
// than one Host, an unsupported Transfer-Encoding (501), an Expect other
// than 100-continue (417, empty body), headers over MaxHeaderBytes (431).
// Everything that gets past net/http reaches echo and is answered as
// ProblemDetails: this test holds it to that.

import (
	"strings"
	"testing"
)

func TestMalformedRequestsReachingTheServer(t *testing.T) {
	s := startServer(t, "")
	for _, c := range []struct {
		name, request string
		status        int
	}{
		{"bad escape in the query", "GET " + pkgs + "?filter=%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 400},
		{"NUL escaped in the path", "GET " + pkgs + "/%00 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 404},
		{"8-bit byte in the path", "GET " + pkgs + "/\xff HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 404},
		{"escaped slash in an id", "GET " + pkgs + "/a%2Fb HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 404},
		{"escaped fragment", "GET " + pkgs + "%23x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 404},
		{"bad chunked body", "POST " + pkgs + " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\nConnection: close\r\n\r\nzz\r\n", 400},
		{"bad media type", "POST " + pkgs + " HTTP/1.1\r\nHost: x\r\nContent-Type: text/html\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}", 415},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := rawRequest(t, s, c.request)
			pd := expectProblem(t, r, c.status)
			if inst, _ := pd["instance"].(string); !strings.HasPrefix(inst, pkgs) {
				t.Fatalf("instance %q", inst)
			}
		})
	}
}
