package vnfpkgm

import (
	"strings"
	"testing"
)

func TestAuthConfig(t *testing.T) {
	env := func(string) string { return "" }
	for _, c := range []struct {
		args []string
		err  string // "" : accepted
	}{
		{[]string{"--listen", "127.0.0.1:9890"}, ""},
		{[]string{"--listen", "localhost:9890"}, ""},
		{[]string{"--listen", "[::1]:9890"}, ""},
		{[]string{"--listen", "0.0.0.0:9890"}, "insecure-no-auth"},
		{[]string{"--listen", ":9890"}, "insecure-no-auth"},
		{[]string{"--listen", "10.1.2.3:9890"}, "insecure-no-auth"},
		{[]string{"--listen", "0.0.0.0:9890", "--insecure-no-auth"}, ""},
		{[]string{"--listen", "0.0.0.0:9890", "--auth-issuer", "https://idp.example.com"}, ""},
		{[]string{"--listen", "0.0.0.0:9890", "--clients-file", "c.yaml"}, ""},
		{[]string{"--insecure-no-auth", "--clients-file", "c.yaml"}, "contradicts"},
		{[]string{"--auth-jwks-url", "https://idp.example.com/jwks"}, "needs auth-issuer"},
		{[]string{"--auth-issuer", "idp.example.com"}, "absolute http or https URL"},
		{[]string{"--clients-file", "c", "--auth-issuer", "https://idp"}, "exclude each other"},
		{[]string{"--auth-introspection-url", "https://idp/i", "--auth-introspection-client-id", "rs"}, "go together"},
		{[]string{"--tls-cert", "c.pem"}, "go together"},
		{[]string{"--tls-cert", "c", "--tls-key", "k", "--tls-client-ca", "ca"}, "needs clients-file"},
		{[]string{"--tls-client-ca", "ca", "--clients-file", "c"}, "needs tls-cert"},
		{[]string{"--auth-scope-read", ""}, "must not be empty"},
	} {
		_, err := ParseConfig(c.args, env)
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%v: %v", c.args, err)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%v: got %v, want an error saying %q", c.args, err, c.err)
		}
	}
	cfg, err := ParseConfig(nil, func(k string) string {
		return map[string]string{"VNFPKGM_AUTH_ISSUER": "https://idp.example.com", "VNFPKGM_AUTH_SCOPE_ADMIN": "ops"}[k]
	})
	if err != nil || cfg.Auth.Issuer != "https://idp.example.com" || cfg.Auth.Scopes.Admin != "ops" || cfg.Auth.Scopes.Read != "vnfpkgm:read" {
		t.Fatalf("from the environment: %+v %v", cfg.Auth, err)
	}
}
