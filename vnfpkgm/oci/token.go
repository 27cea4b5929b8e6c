package oci

import (
	"errors"
	"net/http"
	"strings"
)

// The registry token authentication of Docker's distribution (the
// "token" and "scope" documents of distribution/distribution, which
// docker, containerd, containers/image and crane follow): a registry
// refuses an unauthenticated request with
//
//	WWW-Authenticate: Bearer realm="<token endpoint>",service="<name>",scope="<resource scope>"
//
// and the client asks the token endpoint for a token holding that scope.
// This file holds the registry's side of it that does not depend on how
// tokens are checked: the scope a request needs, the challenge, and the
// grammar of the scopes a client asks for.

// Actions of a repository scope.
const (
	ActionPull = "pull"
	ActionPush = "push"
)

// CatalogScope is the scope of GET /v2/_catalog.
const CatalogScope = "registry:catalog:*"

// ScopeOf returns the resource scope a request on path (under /v2) needs:
// "repository:<name>:pull" where a repository is addressed, CatalogScope
// for /v2/_catalog, "" for the base /v2/ and for paths naming no valid
// repository. Every action of this registry is a read: pushes are refused
// whatever the token, so the challenge never asks for more than pull.
func ScopeOf(path string) string {
	rest, ok := strings.CutPrefix(path, "/v2/")
	if !ok || rest == "" {
		return ""
	}
	if rest == "_catalog" {
		return CatalogScope
	}
	// The name is what precedes the last of the spec's path markers: a
	// name may itself have a component called "blobs" or "tags".
	end := -1
	for _, marker := range []string{"/manifests/", "/blobs/", "/tags/", "/referrers/"} {
		if i := strings.LastIndex(rest, marker); i > end {
			end = i
		}
	}
	if end <= 0 || !validName(rest[:end]) {
		return ""
	}
	return "repository:" + rest[:end] + ":" + ActionPull
}

// Challenge is the WWW-Authenticate value of a refused request: realm the
// token endpoint's URL, service the name the token endpoint expects back,
// scope as ScopeOf (omitted when ""), and an RFC 6750 error code when the
// request carried a token that was refused ("" for none).
func Challenge(realm, service, scope, errorCode string) string {
	params := []string{`realm="` + quotable(realm) + `"`, `service="` + quotable(service) + `"`}
	if scope != "" {
		params = append(params, `scope="`+quotable(scope)+`"`)
	}
	if errorCode != "" {
		params = append(params, `error="`+quotable(errorCode)+`"`)
	}
	return "Bearer " + strings.Join(params, ",")
}

// quotable drops what a quoted-string cannot hold as it is. The values
// come from the configuration and from ScopeOf (checked names), so this
// only guards against a surprise.
func quotable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return -1
		}
		return r
	}, s)
}

// Scope is one resource scope a client asks for:
// type[(class)]:name:action[,action...].
type Scope struct {
	Type    string // "repository", "registry", ...; with its class if any
	Name    string
	Actions []string
}

func (s Scope) String() string {
	return s.Type + ":" + s.Name + ":" + strings.Join(s.Actions, ",")
}

// ErrScopeSyntax is a scope that is not type:name:actions.
var ErrScopeSyntax = errors.New("a scope is type:name:action[,action...]")

// ParseScopes reads the scope parameters of a token request: each may
// hold several scopes separated by spaces (the OAuth 2.0 form), and a
// name may hold a registry host with a port (so the type ends at the
// first colon and the actions start after the last).
func ParseScopes(values []string) ([]Scope, error) {
	var out []Scope
	for _, v := range values {
		for _, f := range strings.Fields(v) {
			i, j := strings.IndexByte(f, ':'), strings.LastIndexByte(f, ':')
			if i <= 0 || j <= i+1 || j == len(f)-1 {
				return nil, ErrScopeSyntax
			}
			var actions []string
			for _, a := range strings.Split(f[j+1:], ",") {
				if a == "" {
					return nil, ErrScopeSyntax
				}
				actions = append(actions, a)
			}
			out = append(out, Scope{Type: f[:i], Name: f[i+1 : j], Actions: actions})
		}
	}
	return out, nil
}

// Grant returns what of the scopes asked for a client with read access to
// this registry gets: pull (also when asked as "*") on repositories with
// a valid name, and the catalog. Every other action (push, delete), type
// or malformed name gets nothing: the registry is read-only. Scopes left
// with no action are dropped.
func Grant(asked []Scope) []Scope {
	var out []Scope
	for _, s := range asked {
		switch {
		case s.Type == "repository" && validName(s.Name):
			for _, a := range s.Actions {
				if a == ActionPull || a == "*" {
					out = append(out, Scope{Type: s.Type, Name: s.Name, Actions: []string{ActionPull}})
					break
				}
			}
		case s.String() == CatalogScope:
			out = append(out, s)
		}
	}
	return out
}

// WriteError answers with an error of the distribution spec's format,
// {"errors":[{"code","message","detail"}]} (detail omitted when nil), and
// the header that says this is a registry/2.0 API.
func WriteError(w http.ResponseWriter, status int, code, message string, detail any) {
	w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	encodeError(w, status, code, message, detail)
}
