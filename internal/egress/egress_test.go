package egress

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func mustList(t *testing.T, s string) []netip.Prefix {
	t.Helper()
	l, err := ParseList(s)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestCheck(t *testing.T) {
	def := New(nil, nil)
	strict := New(mustList(t, "10.1.2.0/24, 169.254.10.0/24"), mustList(t, "loopback,private"))
	for _, c := range []struct {
		p     *Policy
		addr  string
		allow bool
	}{
		{def, "127.0.0.1:80", true},
		{def, "10.0.0.1:80", true},
		{def, "93.184.216.34:443", true},
		{def, "169.254.169.254:80", false},
		{def, "[fd00:ec2::254]:80", false},
		{def, "100.100.100.200:80", false},
		{def, "169.254.1.1:80", false},
		{def, "[fe80::1]:80", false},
		{def, "[::ffff:169.254.169.254]:80", false}, // IPv4-mapped
		{def, "0.0.0.0:80", false},
		{def, "[::]:80", false},
		{def, "224.0.0.1:80", false},
		{strict, "127.0.0.1:80", false},
		{strict, "[::1]:80", false},
		{strict, "[::ffff:127.0.0.1]:80", false},
		{strict, "192.168.1.1:80", false},
		{strict, "10.1.2.3:80", true},                                               // a longer allow beats the deny of 10/8
		{strict, "10.1.3.3:80", false},                                              // outside the allowed /24
		{strict, "169.254.10.5:80", true},                                           // a configured, more specific allow beats the built-in
		{strict, "169.254.169.254:80", false},                                       // the metadata /32 is more specific still
		{strict, "93.184.216.34:443", true},                                         // the rest stays allowed
		{New(mustList(t, "metadata"), nil), "169.254.169.254:80", true},             // explicitly allowed at equal length
		{New(mustList(t, "private"), mustList(t, "private")), "10.0.0.1:80", false}, // deny beats allow at equal length
	} {
		err := c.p.Check(netip.MustParseAddrPort(c.addr))
		if (err == nil) != c.allow {
			t.Errorf("%s: error %v, want allowed=%v", c.addr, err, c.allow)
		}
		if err != nil && !errors.Is(err, ErrDenied) {
			t.Errorf("%s: %v is not ErrDenied", c.addr, err)
		}
	}
}

func TestParseListErrors(t *testing.T) {
	for _, s := range []string{"localhost", "10.0.0.0/33", "private,nonsense"} {
		if _, err := ParseList(s); err == nil {
			t.Errorf("%q: want an error", s)
		}
	}
}

func TestDenySelf(t *testing.T) {
	p := New(nil, nil)
	if err := p.DenySelf(":9890"); err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"127.0.0.1:9890", "127.0.0.2:9890", "[::1]:9890"} {
		if p.Check(netip.MustParseAddrPort(a)) == nil {
			t.Errorf("%s is the server itself: want denied", a)
		}
	}
	if err := p.Check(netip.MustParseAddrPort("127.0.0.1:9891")); err != nil {
		t.Errorf("another port of loopback: %v", err)
	}
}

// TestTransportChecksEveryHop: a redirect to a denied address is refused
// at the connection, after the first hop was allowed.
func TestTransportChecksEveryHop(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "secret") }))
	defer target.Close()
	_, port, _ := net.SplitHostPort(target.Listener.Addr().String())
	// The first hop is on 127.0.0.1, the target's address is denied by
	// port-specific self rule (as if it were the server's own API).
	first := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://localhost:"+port+"/", http.StatusFound)
	}))
	defer first.Close()
	p := New(nil, nil)
	if err := p.DenySelf("127.0.0.1:" + port); err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Transport: p.Transport(0, 0)}
	resp, err := c.Get(first.URL)
	if err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		t.Fatalf("the redirect to a denied address was followed: %s", b)
	}
	if !errors.Is(err, ErrDenied) {
		t.Fatalf("error %v, want ErrDenied", err)
	}
	if !strings.Contains(err.Error(), "own address") {
		t.Fatalf("error %v should name the deciding rule", err)
	}
}
