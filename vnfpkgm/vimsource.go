package vnfpkgm

import (
	"net"
	"net/url"
	"strings"
)

// artifactURL is the absolute URL of an artifact of a package as a VIM
// reaches it, for drivers whose VIM fetches an image itself (KubeVim's
// DownloadImage): --public-url, or else the listening address when it
// names one host and port. Empty when neither can be reached from
// elsewhere (a wildcard or port 0 without --public-url): the driver then
// says it needs --public-url.
func (s *Server) artifactURL(pkgID, artifactPath string) string {
	root := ""
	if s.cfg.PublicURL != "" {
		root, _ = publicRoot(s.cfg.PublicURL) // checked by ParseConfig
	} else if host, port, err := net.SplitHostPort(s.cfg.Listen); err == nil && port != "0" && !unspecifiedHost(host) {
		root = "http://" + s.cfg.Listen
	}
	if root == "" {
		return ""
	}
	segs := strings.Split(artifactPath, "/")
	for i, seg := range segs {
		segs[i] = url.PathEscape(seg)
	}
	return root + BasePath + "/vnf_packages/" + url.PathEscape(pkgID) + "/artifacts/" + strings.Join(segs, "/")
}
