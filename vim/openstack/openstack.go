// Package openstack is the VIM driver for OpenStack: software images in
// Glance (image API v2) and virtualised compute in Nova (compute API v2.1),
// through gophercloud v2. It registers itself as the VIM type "openstack".
//
// Configuration (vim.Config):
//
//   - Endpoint: the Keystone auth URL (e.g. https://keystone:5000/v3), with
//     Credentials username, password, project_name and domain_name
//     (optionally project_domain_name, user_domain_name) and Options region
//     and interface (public, internal, admin).
//   - Or Options["auth"] = "none": no Keystone; Options["image_endpoint"]
//     (Glance, with or without the trailing /v2) and/or
//     Options["compute_endpoint"] (Nova, the versioned URL such as
//     http://nova:8774/v2.1) are used directly. Either may be left out; the
//     driver then lacks that capability.
//   - Options["header.NAME"] = VALUE adds the header NAME to every request
//     (e.g. header.X-Roles = admin for a Glance running without Keystone).
//   - Options["image_timeout"], Options["compute_timeout"] (Go durations,
//     default 10m and 5m) bound the waits for an image to become active and
//     for a server to reach a stable state; Options["poll_interval"]
//     (default 1s) is the polling period.
//   - Options["hash_algorithms"]: comma-separated algorithms computed while
//     uploading, in addition to the VNFD's declared one (see AddImage).
//
// Virtual storage (vim.ComputeSpec.Storage) is asked of Nova in the
// server's block_device_mapping_v2: one volume (destination_type volume,
// so Cinder makes it) per storage, blank or from the storage's image,
// volume_size rounded up to GiB, boot_index -1, delete_on_termination
// true, so that Nova deletes the volumes with the server; the server's
// image is given as the first mapping, the local boot disk. A cloud
// without Cinder fails the server: the compute is ERROR (VIM_FAULT) with
// Nova's fault.
//
// Credentials are used for authentication only; they are never logged or
// put into error messages.
package openstack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	gopenstack "github.com/gophercloud/gophercloud/v2/openstack"

	"github.com/vnfpkgm/vnfpkgm/vim"
)

// Type is the VIM type this package registers.
const Type = "openstack"

// Options are the options of the openstack VIM type.
var Options = []vim.Option{
	{Name: "auth", Value: "keystone|none", Default: "keystone", Help: "keystone: authenticate at the endpoint (the Keystone v3 URL) with the credentials username, password, project_name, domain_name (or user_domain_name, project_domain_name); none: no Keystone, talk to image_endpoint and compute_endpoint directly"},
	{Name: "region", Value: "NAME", Help: "the region of the service catalogue (keystone)"},
	{Name: "interface", Value: "public|internal|admin", Default: "public", Help: "the endpoint interface of the service catalogue (keystone)"},
	{Name: "image_endpoint", Value: "URL", Help: "Glance, with or without /v2 (auth=none); without it the VIM has no image capability"},
	{Name: "compute_endpoint", Value: "URL", Help: "Nova's versioned URL such as http://nova:8774/v2.1 (auth=none); without it the VIM has no compute capability"},
	{Name: "header.", Value: "VALUE", Help: "header.NAME=VALUE adds the header NAME to every request, e.g. header.X-Roles=admin for a Glance without Keystone"},
	{Name: "image_timeout", Value: "DURATION", Default: defaultImageTimeout.String(), Help: "how long an image may take to become active"},
	{Name: "compute_timeout", Value: "DURATION", Default: defaultComputeTimeout.String(), Help: "how long a server may take to reach a stable state"},
	{Name: "poll_interval", Value: "DURATION", Default: defaultPollInterval.String(), Help: "the polling period of those waits"},
	{Name: "hash_algorithms", Value: "LIST", Default: strings.Join(defaultHashAlgorithms, ","), Help: "comma-separated algorithms computed while uploading an image, to check the hash Glance stores whatever its hashing_algorithm"},
}

func init() {
	vim.RegisterType(Type, vim.Definition{
		Open: func(ctx context.Context, cfg vim.Config) (vim.Driver, error) {
			return Open(ctx, cfg)
		},
		Options: Options,
		Check:   Check,
	})
}

// Check verifies a configuration before a VIM is registered, without
// contacting the cloud: the URLs parse as http(s) URLs with a host, the
// values are of their kind, header names are tokens.
func Check(ctx context.Context, cfg vim.Config) error {
	for _, name := range []string{"image_timeout", "compute_timeout", "poll_interval"} {
		if _, err := durationOption(cfg.Options, name, time.Second); err != nil {
			return err
		}
	}
	if s := strings.TrimSpace(cfg.Options["hash_algorithms"]); s != "" {
		if _, err := parseHashAlgorithms(s); err != nil {
			return vim.OptionErrorf("hash_algorithms", "%v", err)
		}
	}
	for k := range cfg.Options {
		if name, ok := strings.CutPrefix(k, "header."); ok && !isToken(name) {
			return vim.OptionErrorf(k, "%q is not a header name", name)
		}
	}
	switch av := cfg.Options["interface"]; av {
	case "", "public", "internal", "admin":
	default:
		return vim.OptionErrorf("interface", "%q is not public, internal or admin", av)
	}
	switch auth := strings.ToLower(strings.TrimSpace(cfg.Options["auth"])); auth {
	case "none", "noauth":
		for _, name := range []string{"image_endpoint", "compute_endpoint"} {
			if ep, ok := cfg.Options[name]; ok {
				if _, err := parseServiceURL(ep); err != nil {
					return vim.OptionErrorf(name, "%v", err)
				}
			}
		}
		if cfg.Options["image_endpoint"] == "" && cfg.Options["compute_endpoint"] == "" {
			return vim.OptionErrorf("auth", "auth=none needs image_endpoint and/or compute_endpoint")
		}
	case "", "keystone", "password":
		if cfg.Endpoint == "" {
			return vim.OptionErrorf("endpoint", "the Keystone auth URL is required unless auth=none")
		}
		if _, err := parseServiceURL(cfg.Endpoint); err != nil {
			return vim.OptionErrorf("endpoint", "%v", err)
		}
	default:
		return vim.OptionErrorf("auth", "%q is not keystone or none", auth)
	}
	return nil
}

// isToken reports whether s is an HTTP token (RFC 9110 clause 5.6.2), as
// a header name must be.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r > 0x7e || r <= ' ' || strings.ContainsRune("\"(),/:;<=>?@[\\]{}", r) {
			return false
		}
	}
	return true
}

// Defaults for the bounded waits.
const (
	defaultImageTimeout   = 10 * time.Minute
	defaultComputeTimeout = 5 * time.Minute
	defaultPollInterval   = time.Second
)

// Driver talks to one OpenStack cloud. It is safe for concurrent use.
type Driver struct {
	image   *gophercloud.ServiceClient // nil without an image service
	compute *gophercloud.ServiceClient // nil without a compute service

	imageTimeout   time.Duration
	computeTimeout time.Duration
	poll           time.Duration
	hashAlgs       []string
}

var _ vim.Driver = (*Driver)(nil)

// Open connects to the cloud cfg describes. With Keystone it authenticates
// at once, so that wrong credentials fail here (vim.ErrAuth).
func Open(ctx context.Context, cfg vim.Config) (*Driver, error) {
	d := &Driver{
		imageTimeout:   defaultImageTimeout,
		computeTimeout: defaultComputeTimeout,
		poll:           defaultPollInterval,
		hashAlgs:       defaultHashAlgorithms,
	}
	var err error
	if d.imageTimeout, err = durationOption(cfg.Options, "image_timeout", defaultImageTimeout); err != nil {
		return nil, err
	}
	if d.computeTimeout, err = durationOption(cfg.Options, "compute_timeout", defaultComputeTimeout); err != nil {
		return nil, err
	}
	if d.poll, err = durationOption(cfg.Options, "poll_interval", defaultPollInterval); err != nil {
		return nil, err
	}
	if s := strings.TrimSpace(cfg.Options["hash_algorithms"]); s != "" {
		if d.hashAlgs, err = parseHashAlgorithms(s); err != nil {
			return nil, err
		}
	}
	headers := map[string]string{}
	for k, v := range cfg.Options {
		if name, ok := strings.CutPrefix(k, "header."); ok && name != "" {
			headers[http.CanonicalHeaderKey(name)] = v
		}
	}

	switch auth := strings.ToLower(strings.TrimSpace(cfg.Options["auth"])); auth {
	case "none", "noauth":
		pc := &gophercloud.ProviderClient{}
		if cfg.HTTPClient != nil {
			pc.HTTPClient = *cfg.HTTPClient
		}
		pc.UserAgent.Prepend("vnfpkgm")
		if ep := cfg.Options["image_endpoint"]; ep != "" {
			base, err := serviceURL(ep)
			if err != nil {
				return nil, fmt.Errorf("openstack: image_endpoint: %w", err)
			}
			root := strings.TrimSuffix(strings.TrimSuffix(base, "/"), "/v2") + "/"
			d.image = &gophercloud.ServiceClient{ProviderClient: pc, Endpoint: root, ResourceBase: root + "v2/", Type: "image", MoreHeaders: headers}
		}
		if ep := cfg.Options["compute_endpoint"]; ep != "" {
			base, err := serviceURL(ep)
			if err != nil {
				return nil, fmt.Errorf("openstack: compute_endpoint: %w", err)
			}
			d.compute = &gophercloud.ServiceClient{ProviderClient: pc, Endpoint: base, Type: "compute", MoreHeaders: headers}
		}
		if d.image == nil && d.compute == nil {
			return nil, fmt.Errorf("%w: openstack: auth=none needs image_endpoint and/or compute_endpoint", vim.ErrInvalid)
		}
	case "", "keystone", "password":
		if cfg.Endpoint == "" {
			return nil, fmt.Errorf("%w: openstack: the Keystone auth URL (endpoint) is required unless auth=none", vim.ErrInvalid)
		}
		c := cfg.Credentials
		if c["username"] == "" || c["password"] == "" {
			return nil, fmt.Errorf("%w: openstack: credentials username and password are required", vim.ErrInvalid)
		}
		userDomain := firstNonEmpty(c["user_domain_name"], c["domain_name"])
		projectDomain := firstNonEmpty(c["project_domain_name"], c["domain_name"])
		opts := gophercloud.AuthOptions{
			IdentityEndpoint: cfg.Endpoint,
			Username:         c["username"],
			Password:         c["password"],
			DomainName:       userDomain,
			AllowReauth:      true,
		}
		if c["project_name"] != "" {
			opts.Scope = &gophercloud.AuthScope{ProjectName: c["project_name"], DomainName: projectDomain}
		}
		pc, err := gopenstack.NewClient(opts.IdentityEndpoint)
		if err != nil {
			return nil, fmt.Errorf("%w: openstack: endpoint: %v", vim.ErrInvalid, err)
		}
		if cfg.HTTPClient != nil {
			pc.HTTPClient = *cfg.HTTPClient
		}
		if err := gopenstack.Authenticate(ctx, pc, opts); err != nil {
			// The error never contains the password: gophercloud reports
			// the status code and Keystone's answer only.
			return nil, mapErr(err, "authenticating with Keystone")
		}
		pc.UserAgent.Prepend("vnfpkgm")
		eo := gophercloud.EndpointOpts{Region: cfg.Options["region"]}
		if av := cfg.Options["interface"]; av != "" {
			eo.Availability = gophercloud.Availability(av)
		}
		if sc, err := gopenstack.NewImageV2(pc, eo); err == nil {
			sc.MoreHeaders = headers
			d.image = sc
		}
		if sc, err := gopenstack.NewComputeV2(pc, eo); err == nil {
			sc.MoreHeaders = headers
			d.compute = sc
		}
		if d.image == nil && d.compute == nil {
			return nil, fmt.Errorf("%w: openstack: the service catalogue has neither an image nor a compute endpoint", vim.ErrNotSupported)
		}
	default:
		return nil, fmt.Errorf("%w: openstack: unknown auth %q (want none or keystone)", vim.ErrInvalid, auth)
	}
	return d, nil
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// serviceURL checks an endpoint and returns it with a trailing slash.
func serviceURL(s string) (string, error) {
	u, err := parseServiceURL(s)
	if err != nil {
		return "", fmt.Errorf("%w: %v", vim.ErrInvalid, err)
	}
	return strings.TrimSuffix(u.String(), "/") + "/", nil
}

// parseServiceURL parses an http(s) URL with a host.
func parseServiceURL(s string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return nil, err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%q is not an http(s) URL with a host", s)
	}
	return u, nil
}

func durationOption(opts map[string]string, key string, def time.Duration) (time.Duration, error) {
	s := strings.TrimSpace(opts[key])
	if s == "" {
		return def, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, vim.OptionErrorf(key, "%q is not a positive duration such as 30s or 5m", s)
	}
	return d, nil
}

// Info implements vim.Driver.
func (d *Driver) Info(ctx context.Context) (vim.Info, error) {
	info := vim.Info{Type: Type}
	if d.image != nil {
		info.Capabilities = append(info.Capabilities, vim.CapImages, vim.CapDeleteImages)
	}
	if d.compute != nil {
		// Storage: Cinder volumes that Nova makes from the server's
		// block_device_mapping_v2 (a cloud without Cinder fails the server).
		info.Capabilities = append(info.Capabilities, vim.CapFlavors, vim.CapCompute,
			vim.CapStart, vim.CapStop, vim.CapPause, vim.CapResume, vim.CapReboot,
			vim.CapStorage, vim.CapStorageImage)
	}
	return info, nil
}

// Close implements vim.Driver; the driver holds no resources.
func (d *Driver) Close() error { return nil }

func (d *Driver) imageClient() (*gophercloud.ServiceClient, error) {
	if d.image == nil {
		return nil, fmt.Errorf("%w: openstack: no image service configured", vim.ErrNotSupported)
	}
	return d.image, nil
}

func (d *Driver) computeClient() (*gophercloud.ServiceClient, error) {
	if d.compute == nil {
		return nil, fmt.Errorf("%w: openstack: no compute service configured", vim.ErrNotSupported)
	}
	return d.compute, nil
}

// mapErr turns a gophercloud or transport error into one wrapping the vim
// typed error its HTTP status or cause calls for.
func mapErr(err error, what string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("openstack: %s: %w", what, err)
	}
	var code gophercloud.ErrUnexpectedResponseCode
	if errors.As(err, &code) {
		return fmt.Errorf("openstack: %s: %w: HTTP %d: %s", what, statusErr(code.Actual), code.Actual, briefBody(code.Body))
	}
	var ue *url.Error
	var ne net.Error
	if errors.As(err, &ue) || errors.As(err, &ne) {
		return fmt.Errorf("openstack: %s: %w: %v", what, vim.ErrUnavailable, err)
	}
	return fmt.Errorf("openstack: %s: %w", what, err)
}

// statusErr is the vim error an HTTP status stands for.
func statusErr(status int) error {
	switch {
	case status == http.StatusNotFound:
		return vim.ErrNotFound
	case status == http.StatusConflict:
		return vim.ErrConflict
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return vim.ErrAuth
	case status == http.StatusRequestEntityTooLarge || status == http.StatusTooManyRequests || status >= 500:
		return vim.ErrUnavailable
	case status >= 400:
		return vim.ErrInvalid
	}
	return vim.ErrUnavailable
}

// briefBody keeps an error body short and on one line.
func briefBody(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}

func isNotFound(err error) bool { return gophercloud.ResponseCodeIs(err, http.StatusNotFound) }

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
