// Package kubevim is the VIM driver for KubeVim (github.com/kube-nfv/kube-vim):
// the ETSI GS NFV-IFA 006 VI-VNFM interface and KubeVim's admin image
// download API, over gRPC with the generated clients of the published
// module github.com/kube-nfv/kube-vim-api. It registers itself as the VIM
// type "kubevim".
//
// Images are not uploaded: KubeVim pulls them, from the source the option
// image_source names. With http (the default) AddImage asks the admin
// DownloadImage for an HTTP source, the image's artifact URL on this
// server (vim.ImageSpec.SourceURL), with the VNFD's checksum. With
// registry it asks for a REGISTRY source, the image on this server's OCI
// endpoint (/v2, vnfpkg/<vnfdId>/<softwareImageId>, a KubeVirt
// containerDisk) named by its manifest digest: the registry source has no
// checksum field, so the digest is what pins the bytes, and the VNFD's
// checksum goes with the image's metadata (key "checksum", ALGO:HEX).
// Either way validateChecksum is on, and the driver polls
// GetImageDownloadStatus until the download is over, then checks what
// KubeVim reports. KubeVim's API cannot delete images (no
// vim.CapDeleteImages). Flavours and compute are the VI-VNFM operations.
//
// Configuration (vim.Config): Endpoint is the gRPC address host:port;
// Credentials["token"] is a bearer token sent as the authorization
// metadata of every call (only over TLS); Options are listed in Options.
// Credentials are never logged nor put into error messages.
package kubevim

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/kube-nfv/kube-vim-api/pkg/apis/admin"
	"github.com/kube-nfv/kube-vim-api/pkg/apis/vivnfm"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/vnfpkgm/vnfpkgm/vim"
	"github.com/vnfpkgm/vnfpkgm/vim/internal/restclient"
)

// Type is the VIM type this package registers.
const Type = "kubevim"

// Defaults of the options.
const (
	defaultCallTimeout    = 30 * time.Second
	defaultImageTimeout   = 10 * time.Minute
	defaultComputeTimeout = 5 * time.Minute
	defaultPollInterval   = time.Second
	defaultRetries        = 3
)

// Options are the options of the kubevim VIM type.
var Options = []vim.Option{
	{Name: "tls", Value: "true|false", Default: "false", Help: "connect with TLS (required to send the token credential)"},
	{Name: "ca_file", Value: "PATH", Help: "PEM file of the CAs that sign KubeVim's certificate (default: the system's)"},
	{Name: "server_name", Value: "NAME", Help: "the name KubeVim's certificate must carry (default: the endpoint's host)"},
	{Name: "call_timeout", Value: "DURATION", Default: defaultCallTimeout.String(), Help: "bound of each gRPC call"},
	{Name: "image_timeout", Value: "DURATION", Default: defaultImageTimeout.String(), Help: "how long KubeVim may take to download an image"},
	{Name: "compute_timeout", Value: "DURATION", Default: defaultComputeTimeout.String(), Help: "how long a compute may take to leave STARTING"},
	{Name: "poll_interval", Value: "DURATION", Default: defaultPollInterval.String(), Help: "the polling period of those waits"},
	{Name: "retries", Value: "N", Default: strconv.Itoa(defaultRetries), Help: "retries of an idempotent call (queries, terminate, flavour delete) that found KubeVim unavailable"},
	{Name: "image_source", Value: "http|registry", Default: sourceHTTP, Help: "where KubeVim downloads images from: http, the artifact URL (needs --public-url); registry, this server's OCI endpoint /v2 by digest (a containerDisk)"},
	{Name: "registry", Value: "HOST[:PORT]", Help: "with image_source=registry: the OCI endpoint as KubeVim reaches it (default: this server's own address)"},
}

// Image sources (the option image_source).
const (
	sourceHTTP     = "http"
	sourceRegistry = "registry"
)

func init() {
	vim.RegisterType(Type, vim.Definition{
		Open: func(ctx context.Context, cfg vim.Config) (vim.Driver, error) {
			return Open(ctx, cfg)
		},
		Options: Options,
		Check:   Check,
	})
}

// settings are the parsed options.
type settings struct {
	tls            bool
	caFile         string
	serverName     string
	callTimeout    time.Duration
	imageTimeout   time.Duration
	computeTimeout time.Duration
	poll           time.Duration
	retries        int
	imageSource    string // sourceHTTP or sourceRegistry
	registryHost   string // the option registry, "" for the server's own
}

// parseSettings reads and checks the options and the endpoint; errors are
// *vim.OptionError naming the option at fault.
func parseSettings(cfg vim.Config) (settings, error) {
	st := settings{caFile: cfg.Options["ca_file"], serverName: cfg.Options["server_name"]}
	if _, _, err := net.SplitHostPort(cfg.Endpoint); err != nil || strings.Contains(cfg.Endpoint, "/") {
		return st, vim.OptionErrorf("endpoint", "%q is not a gRPC address host:port", cfg.Endpoint)
	}
	var err error
	if st.tls, err = vim.BoolOption(cfg.Options, "tls"); err != nil {
		return st, err
	}
	if !st.tls && (st.caFile != "" || st.serverName != "") {
		return st, vim.OptionErrorf("tls", "ca_file and server_name need tls=true")
	}
	if cfg.Credentials["token"] != "" && !st.tls {
		// A bearer token in clear text is readable by anyone on the path.
		return st, vim.OptionErrorf("tls", "the token credential is only sent over TLS: set tls=true")
	}
	durations := []struct {
		name string
		dst  *time.Duration
		def  time.Duration
	}{
		{"call_timeout", &st.callTimeout, defaultCallTimeout},
		{"image_timeout", &st.imageTimeout, defaultImageTimeout},
		{"compute_timeout", &st.computeTimeout, defaultComputeTimeout},
		{"poll_interval", &st.poll, defaultPollInterval},
	}
	for _, d := range durations {
		v, err := vim.DurationOption(cfg.Options, d.name, d.def)
		if err != nil {
			return st, err
		}
		*d.dst = v
	}
	if st.retries, err = vim.IntOption(cfg.Options, "retries", defaultRetries, 0, 10); err != nil {
		return st, err
	}
	switch v := strings.TrimSpace(cfg.Options["image_source"]); v {
	case "", sourceHTTP:
		st.imageSource = sourceHTTP
	case sourceRegistry:
		st.imageSource = sourceRegistry
	default:
		return st, vim.OptionErrorf("image_source", "%q is not http or registry", v)
	}
	if st.registryHost, err = restclient.RegistryHost(cfg.Options); err != nil {
		return st, err
	}
	if st.registryHost != "" && st.imageSource != sourceRegistry {
		return st, vim.OptionErrorf("registry", "is the OCI endpoint KubeVim pulls from: it needs image_source=registry")
	}
	return st, nil
}

// Check verifies a configuration before a VIM is registered, without
// contacting KubeVim: the endpoint, the option values, and that ca_file
// holds certificates.
func Check(ctx context.Context, cfg vim.Config) error {
	st, err := parseSettings(cfg)
	if err != nil {
		return err
	}
	if st.caFile != "" {
		if _, err := loadCAs(st.caFile); err != nil {
			return vim.OptionErrorf("ca_file", "%v", err)
		}
	}
	return nil
}

func loadCAs(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	return pool, nil
}

// Driver talks to one KubeVim. It is safe for concurrent use.
type Driver struct {
	conn  *grpc.ClientConn
	vi    vivnfm.ViVnfmClient
	admin admin.AdminClient
	st    settings
}

var _ vim.Driver = (*Driver)(nil)

// Open prepares the connection to KubeVim; gRPC connects lazily, so an
// unreachable KubeVim fails the first call (vim.ErrUnavailable).
func Open(ctx context.Context, cfg vim.Config) (*Driver, error) {
	st, err := parseSettings(cfg)
	if err != nil {
		return nil, err
	}
	opts := []grpc.DialOption{
		grpc.WithUserAgent("vnfpkgm"),
		grpc.WithChainUnaryInterceptor(retryIdempotent(st.retries, st.callTimeout)),
	}
	if st.tls {
		tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: st.serverName}
		if st.caFile != "" {
			if tc.RootCAs, err = loadCAs(st.caFile); err != nil {
				return nil, vim.OptionErrorf("ca_file", "%v", err)
			}
		}
		opts = append(opts, grpc.WithTransportCredentials(credentials.NewTLS(tc)))
	} else {
		opts = append(opts, grpc.WithTransportCredentials(insecure.NewCredentials()))
	}
	if dial := egressDialer(cfg.HTTPClient); dial != nil {
		opts = append(opts, grpc.WithContextDialer(dial))
	}
	if tok := cfg.Credentials["token"]; tok != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(bearer(tok)))
	}
	conn, err := grpc.NewClient(cfg.Endpoint, opts...)
	if err != nil {
		return nil, fmt.Errorf("%w: kubevim: endpoint %s: %v", vim.ErrInvalid, cfg.Endpoint, err)
	}
	return &Driver{conn: conn, vi: vivnfm.NewViVnfmClient(conn), admin: admin.NewAdminClient(conn), st: st}, nil
}

// egressDialer is the dialer of the server's HTTP client for VIMs, so
// that its egress policy (which addresses may be reached) covers KubeVim's
// gRPC connection too; nil when the client has none of its own.
func egressDialer(c *http.Client) func(context.Context, string) (net.Conn, error) {
	if c == nil {
		return nil
	}
	tr, ok := c.Transport.(*http.Transport)
	if !ok || tr.DialContext == nil {
		return nil
	}
	return func(ctx context.Context, addr string) (net.Conn, error) {
		return tr.DialContext(ctx, "tcp", addr)
	}
}

// bearer is a token sent as "authorization: Bearer TOKEN" on every call.
// Its String never shows the token.
type bearer string

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}

// RequireTransportSecurity makes gRPC refuse to send the token in clear.
func (b bearer) RequireTransportSecurity() bool { return true }
func (b bearer) String() string                 { return "bearer(redacted)" }

// Info implements vim.Driver: KubeVim provides images (by download, not
// upload), flavours, compute and the compute operations. It has no
// vim.CapDeleteImages: neither the VI-VNFM nor the admin API can delete
// an image, so DeleteImage is vim.ErrNotSupported and images stay. It
// keeps no console log reachable through the API.
func (d *Driver) Info(ctx context.Context) (vim.Info, error) {
	return vim.Info{Type: Type, Capabilities: []vim.Capability{
		vim.CapImages, vim.CapFlavors, vim.CapCompute,
		vim.CapStart, vim.CapStop, vim.CapPause, vim.CapResume, vim.CapReboot,
	}}, nil
}

// Close implements vim.Driver.
func (d *Driver) Close() error { return d.conn.Close() }

// idempotentMethods are the calls that may be repeated without changing
// the outcome: queries, and the deletions whose repetition finds the
// resource gone (which the driver treats as done).
var idempotentMethods = map[string]bool{
	vivnfm.ViVnfm_QueryImages_FullMethodName:                         true,
	vivnfm.ViVnfm_QueryImage_FullMethodName:                          true,
	vivnfm.ViVnfm_QueryVirtualisedComputeResource_FullMethodName:     true,
	vivnfm.ViVnfm_QueryComputeFlavour_FullMethodName:                 true,
	vivnfm.ViVnfm_TerminateVirtualisedComputeResource_FullMethodName: true,
	vivnfm.ViVnfm_DeleteComputeFlavour_FullMethodName:                true,
	admin.Admin_GetImageDownloadStatus_FullMethodName:                true,
}

// retryBackoff is the first pause between attempts; it doubles each time.
const retryBackoff = 200 * time.Millisecond

// retryIdempotent bounds every call by callTimeout and repeats an
// idempotent one that failed with Unavailable (KubeVim restarting, a
// connection refused) up to retries times. Others run once: a create that
// timed out may have been done, and repeating it would do it twice.
func retryIdempotent(retries int, callTimeout time.Duration) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		attempts := 1
		if idempotentMethods[method] {
			attempts += retries
		}
		pause := retryBackoff
		var err error
		for i := 0; i < attempts; i++ {
			if i > 0 {
				if serr := vim.Sleep(ctx, pause); serr != nil {
					return err
				}
				pause *= 2
			}
			cctx, cancel := context.WithTimeout(ctx, callTimeout)
			err = invoker(cctx, method, req, reply, cc, opts...)
			cancel()
			if status.Code(err) != codes.Unavailable {
				return err
			}
		}
		return err
	}
}

// mapErr turns a gRPC error into one wrapping the vim typed error its code
// stands for, with KubeVim's message.
func (d *Driver) mapErr(err error, what string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("kubevim: %s: %w", what, err)
	}
	s, ok := status.FromError(err)
	if !ok {
		return fmt.Errorf("kubevim: %s: %w: %v", what, vim.ErrUnavailable, err)
	}
	msg := s.Message()
	if s.Code() == codes.DeadlineExceeded {
		msg = fmt.Sprintf("no answer within %s (call_timeout): %s", d.st.callTimeout, msg)
	}
	return fmt.Errorf("kubevim: %s: %w: gRPC %s: %s", what, codeErr(s.Code()), s.Code(), msg)
}

// codeErr is the vim error a gRPC status code stands for.
func codeErr(c codes.Code) error {
	switch c {
	case codes.NotFound:
		return vim.ErrNotFound
	case codes.FailedPrecondition:
		return vim.ErrWrongState
	case codes.AlreadyExists, codes.Aborted:
		return vim.ErrConflict
	case codes.InvalidArgument, codes.OutOfRange:
		return vim.ErrInvalid
	case codes.Unauthenticated, codes.PermissionDenied:
		return vim.ErrAuth
	case codes.Unimplemented:
		return vim.ErrNotSupported
	}
	// Unavailable, DeadlineExceeded, ResourceExhausted, Internal, Unknown,
	// DataLoss: KubeVim failed to serve the request.
	return vim.ErrUnavailable
}

func isNotFound(err error) bool { return errors.Is(err, vim.ErrNotFound) }
