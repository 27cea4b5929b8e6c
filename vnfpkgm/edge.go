package vnfpkgm

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
)

// validateEdge checks the settings of the HTTP edge: the public URL and
// the limits on userDefinedData and ranges.
func (c Config) validateEdge() error {
	if c.PublicURL != "" {
		if _, err := publicRoot(c.PublicURL); err != nil {
			return err
		}
	}
	switch {
	case c.MaxUserDataSize < 2 || c.MaxUserDataSize > maxJSONBody:
		// 2 is "{}"; more than a request body may carry could never be sent.
		return fmt.Errorf("max-user-data-size must be between 2 and %d bytes, not %d", maxJSONBody, c.MaxUserDataSize)
	case c.MaxRanges < 1:
		return fmt.Errorf("max-ranges must be at least 1, not %d", c.MaxRanges)
	}
	return nil
}

// publicRoot checks a --public-url and returns it without a trailing
// slash: the apiRoot of SOL 013 that links and Location start with.
func publicRoot(raw string) (string, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "", fmt.Errorf("public-url %q: %v", raw, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("public-url %q must be an http or https URL", raw)
	case u.Host == "":
		return "", fmt.Errorf("public-url %q has no host", raw)
	case u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		return "", fmt.Errorf("public-url %q must have no user, query or fragment", raw)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// apiRootKey is the echo context key under which setAPIRoot puts the
// apiRoot of the request.
const apiRootKey = "vnfpkgm.apiRoot"

// setAPIRoot gives every request the apiRoot its links and Location start
// with: --public-url, or else the address the server listens on. Never the
// request's Host header or absolute URL: they are the client's to choose,
// and a link built from them points wherever the client (or whoever
// forged the request) said.
func (s *Server) setAPIRoot() echo.MiddlewareFunc {
	fixed := ""
	if s.cfg.PublicURL != "" {
		fixed, _ = publicRoot(s.cfg.PublicURL) // checked by ParseConfig
	} else if host, port, err := net.SplitHostPort(s.cfg.Listen); err == nil && port != "0" && !unspecifiedHost(host) {
		fixed = s.cfg.Auth.scheme() + "://" + s.cfg.Listen
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			root := fixed
			if root == "" {
				root = localRoot(c.Request(), s.cfg.Listen)
			}
			c.Set(apiRootKey, root)
			return next(c)
		}
	}
}

// unspecifiedHost reports whether a listen host stands for every address
// ("", 0.0.0.0, ::): no client can reach the server there.
func unspecifiedHost(host string) bool {
	if host == "" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsUnspecified()
}

// localRoot is http:// and the local address of the connection the
// request came on: the listening address when it is a wildcard or port 0.
func localRoot(r *http.Request, listen string) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		return scheme + "://" + a.String()
	}
	return scheme + "://" + listen
}

// apiRoot is the scheme, authority and prefix of the API's links, as
// setAPIRoot chose them for the request.
func apiRoot(c echo.Context) string {
	root, _ := c.Get(apiRootKey).(string)
	return root
}

// errBadETagList is a malformed If-Match header.
var errBadETagList = errors.New("not a list of entity tags")

// etagListMatches evaluates an If-Match header (RFC 9110 13.1.1) against
// the current strong entity tag of a resource: "*" matches any, a list
// matches when one of its tags equals etag by the strong comparison
// (13.1.1 asks for it: a weak tag W/"..." never matches).
func etagListMatches(header, etag string) (bool, error) {
	return etagListHas(header, etag, false)
}

// etagListMatchesWeakly evaluates an If-None-Match header (RFC 9110
// 13.1.2), which compares weakly: W/"r3" names the same representation
// as "r3" there, since a cache may have kept either.
func etagListMatchesWeakly(header, etag string) (bool, error) {
	return etagListHas(header, etag, true)
}

func etagListHas(header, etag string, weakComparison bool) (bool, error) {
	s := header
	matched := false
	for {
		s = strings.TrimLeft(s, " \t,")
		if s == "" {
			return matched, nil
		}
		if s[0] == '*' {
			matched = true
			s = s[1:]
		} else {
			tag, rest, weak, ok := scanETag(s)
			if !ok {
				return false, errBadETagList
			}
			matched = matched || ((weakComparison || !weak) && tag == etag)
			s = rest
		}
		if s = strings.TrimLeft(s, " \t"); s != "" && s[0] != ',' {
			return false, errBadETagList
		}
	}
}

// scanETag reads one entity-tag (RFC 9110 8.8.3: [W/] DQUOTE *etagc
// DQUOTE) at the start of s.
func scanETag(s string) (tag, rest string, weak, ok bool) {
	if strings.HasPrefix(s, "W/") {
		weak, s = true, s[2:]
	}
	if len(s) < 2 || s[0] != '"' {
		return "", "", false, false
	}
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			return s[:i+1], s[i+1:], weak, true
		case c == 0x21 || (c >= 0x23 && c <= 0x7e) || c >= 0x80:
		default:
			return "", "", false, false
		}
	}
	return "", "", false, false
}
