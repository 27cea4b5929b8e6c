package vnfpkgm

import (
	"strings"
	"testing"
)

// TestSignConfig: the signature flags and their VNFPKGM_* variables are
// read and checked at startup (a missing trust store stops the server).
func TestSignConfig(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	cfg, err := ParseConfig(nil, env())
	if err != nil || cfg.Sign.Signatures != "verify" || cfg.Sign.TrustStore != "" {
		t.Fatalf("defaults: %+v %v", cfg.Sign, err)
	}
	if _, err := ParseConfig(nil, env("VNFPKGM_TRUST_STORE", "/nonexistent/ca.pem")); err == nil || !strings.Contains(err.Error(), "trust store") {
		t.Fatalf("a missing trust store from the environment: %v", err)
	}
	if _, err := ParseConfig([]string{"--signatures", "sometimes"}, env()); err == nil {
		t.Fatal("--signatures sometimes accepted")
	}
	if _, err := ParseConfig([]string{"--crl-file", "x.crl"}, env()); err == nil || !strings.Contains(err.Error(), "trust-store") {
		t.Fatalf("a CRL without trust store: %v", err)
	}
	cfg, err = ParseConfig([]string{"--signatures", "required"}, env("VNFPKGM_SIGNATURES", "ignore"))
	if err != nil || cfg.Sign.Signatures != "required" {
		t.Fatalf("the flag must win over the environment: %+v %v", cfg.Sign, err)
	}
}
