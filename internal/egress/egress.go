// Package egress decides which network addresses the server may connect
// to when a client names the address (upload_from_uri today; VIM
// endpoints and notification callbacks are the same risk). Without it a
// client can make the server fetch from its own loopback API, from the
// cloud metadata service that hands out credentials, or probe the
// internal network.
//
// The check runs in the net.Dialer's Control hook, on the IP address
// actually being connected to: every DNS answer and every redirect hop
// is covered, and a name that resolves to a denied address after it was
// checked (DNS rebinding) cannot slip through.
//
// Rules are prefixes, allowed or denied; the longest prefix containing
// the address decides, as in a routing table. At equal length a
// configured rule beats a built-in one, and a deny beats an allow. The
// built-in rules deny link-local addresses, the metadata services of the
// major clouds, unspecified, multicast and broadcast addresses; any other
// address is allowed unless configured otherwise. Loopback and private
// ranges are allowed by default because the server's own users fetch
// from machines on their network (and its tests from 127.0.0.1); an
// operator whose server faces untrusted clients denies them with
// --egress-deny loopback,private.
package egress

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"syscall"
	"time"
)

// ErrDenied is what a connection to a denied address fails with (wrapped
// in a *DeniedError, itself wrapped by net and net/http).
var ErrDenied = errors.New("egress: the address is denied by the egress policy")

// DeniedError names the address refused. It is for the server's log:
// messages sent to clients should not repeat it.
type DeniedError struct {
	Addr netip.AddrPort
	Rule string // the deciding rule, e.g. "deny 169.254.0.0/16 (built-in)"
}

func (e *DeniedError) Error() string { return fmt.Sprintf("egress: %s denied by %s", e.Addr, e.Rule) }
func (e *DeniedError) Unwrap() error { return ErrDenied }

// sets are the names ParseList accepts besides CIDRs.
var sets = map[string][]string{
	"loopback":   {"127.0.0.0/8", "::1/128"},
	"private":    {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7"},
	"link-local": {"169.254.0.0/16", "fe80::/10"},
	// AWS, GCP and Azure (169.254.169.254), AWS over IPv6, Alibaba Cloud,
	// AWS ECS task metadata, Oracle Cloud's second address.
	"metadata": {"169.254.169.254/32", "fd00:ec2::254/128", "100.100.100.200/32", "169.254.170.2/32", "192.0.0.192/32"},
}

// builtInDeny is denied unless a configured rule at least as specific allows it.
var builtInDeny = mustPrefixes(append(append([]string{
	"0.0.0.0/8", "::/128", // "this host": connects to loopback on Linux
	"224.0.0.0/4", "ff00::/8", // multicast
	"255.255.255.255/32", // broadcast
}, sets["link-local"]...), sets["metadata"]...))

func mustPrefixes(cidrs []string) []netip.Prefix {
	out := make([]netip.Prefix, len(cidrs))
	for i, c := range cidrs {
		out[i] = netip.MustParsePrefix(c)
	}
	return out
}

// ParseList parses a comma-separated list of CIDRs, bare addresses and set
// names (loopback, private, link-local, metadata). Empty is no rule.
func ParseList(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		switch {
		case item == "":
			continue
		case sets[strings.ToLower(item)] != nil:
			out = append(out, mustPrefixes(sets[strings.ToLower(item)])...)
		case strings.Contains(item, "/"):
			p, err := netip.ParsePrefix(item)
			if err != nil {
				return nil, fmt.Errorf("%q is neither a CIDR nor one of loopback, private, link-local, metadata: %v", item, err)
			}
			out = append(out, p.Masked())
		default:
			a, err := netip.ParseAddr(item)
			if err != nil {
				return nil, fmt.Errorf("%q is neither an address, a CIDR nor one of loopback, private, link-local, metadata", item)
			}
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
		}
	}
	return out, nil
}

// Policy is a set of rules. The zero value has only the built-in rules.
// It is safe for concurrent use once built.
type Policy struct {
	allow, deny []netip.Prefix
	// self are the addresses the server itself listens on: connections to
	// them are denied whatever the rules (a client would reach the
	// server's own API with the server's identity).
	self []netip.AddrPort
}

// New returns a policy with the configured allow and deny prefixes on top
// of the built-in rules.
func New(allow, deny []netip.Prefix) *Policy {
	return &Policy{allow: slices.Clone(allow), deny: slices.Clone(deny)}
}

// DenySelf adds the address the server listens on (host:port as given to
// net.Listen) to the addresses never connected to. An unspecified host
// (":9890", "0.0.0.0:9890", "[::]:9890") stands for every local address:
// loopback and those of the host's interfaces at the time of the call.
func (p *Policy) DenySelf(listen string) error {
	host, portStr, err := net.SplitHostPort(listen)
	if err != nil {
		return err
	}
	port, err := net.LookupPort("tcp", portStr)
	if err != nil {
		return err
	}
	addrs := []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.IPv6Loopback()}
	a, err := netip.ParseAddr(host)
	if host == "" || (err == nil && a.IsUnspecified()) {
		ifaddrs, _ := net.InterfaceAddrs() // none listed: loopback only
		for _, ia := range ifaddrs {
			if pfx, perr := netip.ParsePrefix(ia.String()); perr == nil {
				addrs = append(addrs, pfx.Addr())
			}
		}
	} else if err == nil {
		addrs = append(addrs, a)
	}
	for _, a := range addrs {
		p.self = append(p.self, netip.AddrPortFrom(a.Unmap(), uint16(port)))
	}
	return nil
}

// Check returns nil if a connection to ap is allowed, else a *DeniedError.
func (p *Policy) Check(ap netip.AddrPort) error {
	addr := ap.Addr().Unmap()
	ap = netip.AddrPortFrom(addr, ap.Port())
	for _, s := range p.self {
		if s == ap || (addr.IsLoopback() && s.Addr().IsLoopback() && s.Port() == ap.Port()) {
			return &DeniedError{Addr: ap, Rule: "the server's own address"}
		}
	}
	// The deciding rule is the greatest by (prefix length, configured over
	// built-in, deny over allow).
	type rank struct{ bits, configured, deny int }
	var best rank
	rule, found := "", false
	consider := func(list []netip.Prefix, r rank, source string) {
		for _, pfx := range list {
			if !pfx.Contains(addr) {
				continue
			}
			r.bits = pfx.Bits()
			if !found || r.bits > best.bits || (r.bits == best.bits && (r.configured > best.configured ||
				(r.configured == best.configured && r.deny > best.deny))) {
				verb := map[int]string{0: "allow", 1: "deny"}[r.deny]
				best, rule, found = r, fmt.Sprintf("%s %s (%s)", verb, pfx, source), true
			}
		}
	}
	consider(p.deny, rank{configured: 1, deny: 1}, "configured")
	consider(p.allow, rank{configured: 1}, "configured")
	consider(builtInDeny, rank{deny: 1}, "built-in")
	if found && best.deny == 1 {
		return &DeniedError{Addr: ap, Rule: rule}
	}
	return nil
}

// Control is a net.Dialer Control hook enforcing the policy on the
// address being connected to.
func (p *Policy) Control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("egress: %s address %q: %w", network, address, ErrDenied)
	}
	return p.Check(ap)
}

// Dialer returns a dialer that enforces the policy, with the given
// connect timeout (0: none but the context's).
func (p *Policy) Dialer(connectTimeout time.Duration) *net.Dialer {
	return &net.Dialer{Timeout: connectTimeout, KeepAlive: 30 * time.Second, Control: p.Control}
}

// Transport returns an HTTP transport whose every connection, redirect
// hops included, goes through the policy: no proxy (a proxy would make
// the connection the policy sees the proxy's, not the origin's), the
// given connect timeout, and TLS handshake and response headers bounded
// by headerTimeout (0: unbounded).
func (p *Policy) Transport(connectTimeout, headerTimeout time.Duration) *http.Transport {
	d := p.Dialer(connectTimeout)
	return &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		},
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          16,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   headerTimeout,
		ResponseHeaderTimeout: headerTimeout,
		ExpectContinueTimeout: time.Second,
	}
}
