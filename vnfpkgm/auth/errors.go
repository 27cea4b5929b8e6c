// Package auth protects the API with OAuth 2.0 bearer tokens (SOL 013
// clause 8, RFC 6750): JWT access tokens checked against the issuer's
// keys (OIDC discovery or a JWKS URL), opaque tokens through RFC 7662
// introspection, and scopes required by route.
package auth

import (
	"fmt"
	"net/http"
	"strings"
)

// RFC 6750 §3.1 error codes.
const (
	CodeInvalidRequest    = "invalid_request"
	CodeInvalidToken      = "invalid_token"
	CodeInsufficientScope = "insufficient_scope"
)

// Error is why a request was refused: the HTTP status, the RFC 6750 error
// code of its WWW-Authenticate challenge (none when the request carried no
// credentials at all) and a description safe to show the client (it never
// repeats the token).
type Error struct {
	Status      int
	Code        string
	Description string
	// Scope is the scope the request lacked (insufficient_scope).
	Scope string
}

func (e *Error) Error() string {
	if e.Code == "" {
		return e.Description
	}
	return e.Code + ": " + e.Description
}

// Challenge is the WWW-Authenticate value of the refusal (RFC 6750 §3).
func (e *Error) Challenge(realm string) string {
	params := []string{fmt.Sprintf("realm=%q", realm)}
	if e.Code != "" {
		params = append(params, fmt.Sprintf("error=%q", e.Code))
		// The description goes in a quoted-string: keep it to the
		// characters RFC 6750 allows there.
		params = append(params, fmt.Sprintf("error_description=%q", challengeSafe(e.Description)))
	}
	if e.Scope != "" {
		params = append(params, fmt.Sprintf("scope=%q", e.Scope))
	}
	return "Bearer " + strings.Join(params, ", ")
}

// challengeSafe keeps the characters RFC 6750 allows in error_description
// (%x20-21 / %x23-5B / %x5D-7E): no quote, no backslash, no control.
func challengeSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return ' '
		}
		return r
	}, s)
}

func invalidToken(format string, args ...any) *Error {
	return &Error{Status: http.StatusUnauthorized, Code: CodeInvalidToken, Description: fmt.Sprintf(format, args...)}
}

func invalidRequest(format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Description: fmt.Sprintf(format, args...)}
}
