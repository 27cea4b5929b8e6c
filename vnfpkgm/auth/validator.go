package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

// Validator turns a bearer token into a Principal: JWTs are verified with
// Keys (and must name Issuer and Audience), other tokens go to the
// Introspector when there is one.
type Validator struct {
	Issuer   string
	Audience string // empty: the aud claim is not checked
	Skew     time.Duration
	Keys     KeySource // nil: JWTs are not accepted (introspection only)
	// Introspector checks opaque tokens; nil: they are refused.
	Introspector *Introspector
	Now          func() time.Time
	// CacheSize bounds the verified JWTs kept (default 10000).
	CacheSize int

	initOnce sync.Once
	verified *answerCache
}

// maxVerifiedAge bounds how long a verified JWT is trusted without being
// verified again, so that a key the issuer withdrew stops being honoured
// soon even for tokens that expire late.
const maxVerifiedAge = 5 * time.Minute

// maxTokenLength refuses absurd tokens before any parsing.
const maxTokenLength = 16 << 10

// Validate checks token and returns whom it stands for.
func (v *Validator) Validate(ctx context.Context, token string) (*Principal, error) {
	if len(token) > maxTokenLength {
		return nil, invalidToken("the token is longer than %d bytes", maxTokenLength)
	}
	v.initOnce.Do(func() { v.verified = newAnswerCache(v.CacheSize) })
	key := keyOf(token)
	if hit, ok := v.verified.get(key, v.now()); ok {
		return hit.answer()
	}
	if hdr, ok := jwtHeader(token); ok && v.Keys != nil {
		return v.verifyAndKeep(ctx, key, token, hdr)
	}
	// An opaque token, or a JWT where only introspection is configured
	// (Keycloak and others answer for their JWTs there too).
	if v.Introspector == nil {
		return nil, invalidToken("the token is not a JWT signed by the configured issuer, and no introspection endpoint is configured")
	}
	return v.Introspector.Validate(ctx, token)
}

// IsJWT reports whether token has the form of a JWT (a JWS compact
// serialization whose header names an algorithm), as opposed to an
// opaque token or a password. It says nothing of its validity.
func IsJWT(token string) bool {
	_, ok := jwtHeader(token)
	return ok
}

type joseHeader struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
}

// jwtHeader reports whether token looks like a JWS compact serialization
// (three base64url parts whose first is a JSON header with alg), and
// returns that header. Anything else is treated as an opaque token.
func jwtHeader(token string) (joseHeader, bool) {
	var h joseHeader
	if strings.Count(token, ".") != 2 {
		return h, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(token[:strings.IndexByte(token, '.')])
	if err != nil || json.Unmarshal(raw, &h) != nil || h.Alg == "" {
		return h, false
	}
	return h, true
}

// asymmetric lists the algorithms accepted: public-key signatures only, so
// that "none" and HMAC with a public key as the secret are never tried.
var asymmetric = map[string]bool{
	"RS256": true, "RS384": true, "RS512": true, "PS256": true, "PS384": true, "PS512": true,
	"ES256": true, "ES384": true, "ES512": true, "EdDSA": true, "Ed25519": true,
}

func (v *Validator) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

// verifyAndKeep verifies a JWT and then trusts it until it expires (at
// most maxVerifiedAge): a signature check costs tens to hundreds of
// microseconds, a look-up in the cache one hash.
func (v *Validator) verifyAndKeep(ctx context.Context, key tokenKey, token string, hdr joseHeader) (*Principal, error) {
	now := v.now()
	p, err := v.validateJWT(ctx, token, hdr)
	if err != nil {
		return nil, err
	}
	until := now.Add(maxVerifiedAge)
	if p.Expiry.Before(until) {
		until = p.Expiry
	}
	v.verified.put(key, verdict{principal: p, until: until}, now)
	return p, nil
}

func (v *Validator) validateJWT(ctx context.Context, token string, hdr joseHeader) (*Principal, error) {
	if !asymmetric[hdr.Alg] {
		return nil, invalidToken("signature algorithm %q is not accepted", hdr.Alg)
	}
	set, err := v.Keys.Keys(ctx)
	if err != nil {
		return nil, &Error{Status: 503, Description: "the issuer's keys cannot be fetched: " + err.Error()}
	}
	if _, found := set.LookupKeyID(hdr.Kid); !found {
		// The issuer may have rotated its keys since they were fetched.
		if set, err = v.Keys.Refresh(ctx); err != nil {
			return nil, &Error{Status: 503, Description: "the issuer's keys cannot be fetched: " + err.Error()}
		}
		if _, found := set.LookupKeyID(hdr.Kid); !found {
			return nil, invalidToken("the token is signed with a key the issuer does not publish")
		}
	}
	opts := []jwt.ParseOption{
		jwt.WithKeySet(set, jws.WithInferAlgorithmFromKey(true)),
		jwt.WithValidate(true),
		jwt.WithAcceptableSkew(v.Skew),
		jwt.WithClock(jwt.ClockFunc(v.now)),
		jwt.WithIssuer(v.Issuer),
		jwt.WithRequiredClaim("exp"),
	}
	if v.Audience != "" {
		opts = append(opts, jwt.WithAudience(v.Audience))
	}
	tok, err := jwt.ParseString(token, opts...)
	if err != nil {
		return nil, jwtError(err)
	}
	return principalOf(tok), nil
}

// jwtError says why a JWT was refused without repeating any of it.
func jwtError(err error) *Error {
	switch {
	case errors.Is(err, jwt.TokenExpiredError()):
		return invalidToken("the token has expired")
	case errors.Is(err, jwt.TokenNotYetValidError()):
		return invalidToken("the token is not valid yet")
	case errors.Is(err, jwt.InvalidIssuerError()):
		return invalidToken("the token was issued by another issuer")
	case errors.Is(err, jwt.InvalidAudienceError()):
		return invalidToken("the token is meant for another audience")
	case errors.Is(err, jwt.MissingRequiredClaimError()):
		return invalidToken("the token lacks a required claim (exp)")
	case errors.Is(err, jwt.InvalidIssuedAtError()):
		return invalidToken("the token was issued in the future")
	case errors.Is(err, jws.VerifyError()), errors.Is(err, jwt.ValidateError()):
		return invalidToken("the token's signature or claims do not verify")
	}
	return invalidToken("the token cannot be verified")
}

// principalOf reads the claims of an access token: scope as RFC 9068 and
// RFC 8693 define it (a space-separated string), or scp (an array, or a
// string) as Hydra, Okta and Azure AD write it.
func principalOf(tok jwt.Token) *Principal {
	p := &Principal{Scopes: map[string]bool{}}
	p.Subject, _ = tok.Subject()
	p.Expiry, _ = tok.Expiration()
	var s string
	if tok.Get("client_id", &s) == nil {
		p.ClientID = s
	}
	if tok.Get("scope", &s) == nil {
		p.Scopes = ScopeSet(s)
	}
	var scp any
	if tok.Get("scp", &scp) == nil {
		for sc := range claimScopes(scp) {
			p.Scopes[sc] = true
		}
	}
	return p
}

// claimScopes reads a scp claim: an array of strings or a space-separated
// string. Anything else grants nothing.
func claimScopes(v any) map[string]bool {
	switch v := v.(type) {
	case string:
		return ScopeSet(v)
	case []any:
		set := map[string]bool{}
		for _, e := range v {
			if s, ok := e.(string); ok && s != "" {
				set[s] = true
			}
		}
		return set
	case []string:
		set := map[string]bool{}
		for _, s := range v {
			set[s] = true
		}
		return set
	}
	return nil
}
