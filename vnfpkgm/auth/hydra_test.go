package auth

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vnfpkgm/vnfpkgm/internal/hydratest"
)

// refusedWith fails unless err is an *Error of status whose description
// contains want.
func refusedWith(t *testing.T, err error, status int, want string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Status != status || !strings.Contains(e.Description, want) {
		t.Fatalf("got %v, want a %d refusal saying %q", err, status, want)
	}
}

func TestJWTFromHydra(t *testing.T) {
	h := hydratest.Start(t, "jwt", time.Hour)
	id, secret := h.CreateClient(t, []string{"vnfpkgm:read", "vnfpkgm:write"}, "vnfpkgm")
	otherID, otherSecret := h.CreateClient(t, []string{"vnfpkgm:read"}, "elsewhere")
	doc, err := Discover(context.Background(), authClientForTest(), h.PublicURL)
	if err != nil {
		t.Fatal(err)
	}
	keys := &RemoteKeys{Issuer: doc.Issuer, Client: authClientForTest(), TTL: time.Hour}
	// fresh is a validator with an empty cache of verified tokens.
	fresh := func() *Validator { return &Validator{Issuer: doc.Issuer, Audience: "vnfpkgm", Keys: keys} }
	v := fresh()
	ctx := context.Background()

	token := h.Token(t, id, secret, []string{"vnfpkgm:read"}, "vnfpkgm")
	p, err := v.Validate(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Has("vnfpkgm:read") || p.Has("vnfpkgm:write") || p.Expiry.IsZero() {
		t.Fatalf("principal %+v: want exactly the scope asked for, and an expiry", p)
	}

	t.Run("wrong audience", func(t *testing.T) {
		_, err := v.Validate(ctx, h.Token(t, otherID, otherSecret, []string{"vnfpkgm:read"}, "elsewhere"))
		refusedWith(t, err, 401, "another audience")
	})
	t.Run("wrong issuer", func(t *testing.T) {
		w := fresh()
		w.Issuer = "https://idp.example.com"
		_, err := w.Validate(ctx, token)
		refusedWith(t, err, 401, "another issuer")
	})
	t.Run("expired", func(t *testing.T) {
		w := fresh()
		w.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
		_, err := w.Validate(ctx, token)
		refusedWith(t, err, 401, "expired")
	})
	t.Run("clock skew", func(t *testing.T) {
		// Seen from a clock 30 s behind the issuer's, the token is not
		// valid yet, unless that much skew is tolerated.
		w := fresh()
		w.Now = func() time.Time { return time.Now().Add(-30 * time.Second) }
		if _, err := w.Validate(ctx, token); err == nil {
			t.Fatal("a token from the future was accepted without tolerated skew")
		}
		w.Skew = time.Minute
		if _, err := w.Validate(ctx, token); err != nil {
			t.Fatalf("with a minute of skew: %v", err)
		}
	})
	t.Run("introspection only", func(t *testing.T) {
		// Without keys configured, a JWT goes to introspection like any token.
		w := &Validator{Introspector: &Introspector{URL: h.IntrospectionURL(), Client: authClientForTest(), Audience: "vnfpkgm"}}
		if p, err := w.Validate(ctx, token); err != nil || !p.Has("vnfpkgm:read") {
			t.Fatalf("%v %v", p, err)
		}
	})
	t.Run("tampered", func(t *testing.T) {
		head, _, _ := strings.Cut(token, ".")
		parts := strings.Split(token, ".")
		forged := head + "." + parts[1] + "." + strings.Repeat("A", len(parts[2]))
		_, err := v.Validate(ctx, forged)
		refusedWith(t, err, 401, "signature")
	})
	t.Run("alg none", func(t *testing.T) {
		parts := strings.Split(token, ".")
		_, err := v.Validate(ctx, "eyJhbGciOiJub25lIn0."+parts[1]+".")
		refusedWith(t, err, 401, "not accepted")
	})
	t.Run("key rotation", func(t *testing.T) {
		before := keys.Fetches()
		h.RotateKeys(t)
		rotated := h.Token(t, id, secret, []string{"vnfpkgm:write"}, "vnfpkgm")
		if hdr, _ := jwtHeader(rotated); hdr.Kid == mustHeader(t, token).Kid {
			t.Fatalf("hydra still signs with key %s after rotation", hdr.Kid)
		}
		p, err := v.Validate(ctx, rotated)
		if err != nil {
			t.Fatalf("token signed by the new key: %v", err)
		}
		if !p.Has("vnfpkgm:write") {
			t.Fatalf("scopes %v", p.Scopes)
		}
		if keys.Fetches() != before+1 {
			t.Fatalf("JWKS fetched %d times for the new key, want once", keys.Fetches()-before)
		}
	})
	t.Run("unknown kid refetches at most once per MinRefresh", func(t *testing.T) {
		keys.MinRefresh = time.Hour
		before := keys.Fetches()
		h.RotateKeys(t)
		_, err := v.Validate(ctx, h.Token(t, id, secret, []string{"vnfpkgm:read"}, "vnfpkgm"))
		refusedWith(t, err, 401, "does not publish")
		if keys.Fetches() != before {
			t.Fatal("the keys were fetched again within MinRefresh")
		}
	})
}

func mustHeader(t *testing.T, token string) joseHeader {
	h, ok := jwtHeader(token)
	if !ok {
		t.Fatalf("not a JWT: %.10s...", token)
	}
	return h
}

func TestIntrospectionWithHydra(t *testing.T) {
	h := hydratest.Start(t, "opaque", time.Hour)
	id, secret := h.CreateClient(t, []string{"vnfpkgm:read", "vnfpkgm:admin"}, "vnfpkgm")
	in := &Introspector{URL: h.IntrospectionURL(), Client: authClientForTest(), Audience: "vnfpkgm", NegativeTTL: time.Minute, MaxEntries: 100}
	v := &Validator{Introspector: in}
	ctx := context.Background()

	token := h.Token(t, id, secret, []string{"vnfpkgm:admin"}, "vnfpkgm")
	if _, isJWT := jwtHeader(token); isJWT {
		t.Fatal("hydra gave a JWT with the opaque strategy")
	}
	// Concurrent requests with one new token: one introspection.
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := v.Validate(ctx, token)
			if err == nil && !p.Has("vnfpkgm:admin") {
				err = errors.New("scope missing")
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := v.Validate(ctx, token); err != nil {
		t.Fatal(err)
	}
	if in.Calls() != 1 {
		t.Fatalf("%d introspection calls for one token, want 1", in.Calls())
	}

	t.Run("revoked", func(t *testing.T) {
		revoked := h.Token(t, id, secret, []string{"vnfpkgm:read"}, "vnfpkgm")
		h.Revoke(t, id, secret, revoked)
		_, err := v.Validate(ctx, revoked)
		refusedWith(t, err, 401, "not active")
	})
	t.Run("unknown token", func(t *testing.T) {
		_, err := v.Validate(ctx, "ory_at_made-up.token")
		refusedWith(t, err, 401, "not active")
	})
	t.Run("wrong audience", func(t *testing.T) {
		_, err := v.Validate(ctx, h.Token(t, id, secret, []string{"vnfpkgm:read"}, ""))
		refusedWith(t, err, 401, "another audience")
	})
	t.Run("expired answer is not reused", func(t *testing.T) {
		calls := in.Calls()
		in.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
		defer func() { in.Now = nil }()
		_, err := v.Validate(ctx, token)
		refusedWith(t, err, 401, "")
		if in.Calls() != calls+1 {
			t.Fatal("a cached answer was used past the token's expiry")
		}
	})
}
