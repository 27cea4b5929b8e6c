// Package kubevimtest is a stand-in KubeVim for tests: a real gRPC server
// implementing the generated ViVnfmServer (ETSI GS NFV-IFA 006 VI-VNFM)
// and AdminServer interfaces of github.com/kube-nfv/kube-vim-api
// v0.0.5-alpha.15, following that module's protobuf definitions and the
// KubeVim API document of the seeds (shared/seeds/000_*, "Admin API
// Operations": DownloadImage from an HTTP source with a checksum and
// validateChecksum, or from a container registry; GetImageDownloadStatus).
//
// It is strict, as the real server is: missing required fields and fields
// the API does not define (anywhere in a request) are InvalidArgument,
// unknown identifiers NotFound, operations in the wrong state
// FailedPrecondition, a wrong or missing bearer token Unauthenticated. It keeps state, so a test can observe what a client
// did. DownloadImage really fetches the HTTP source in the background and
// validates its checksum (csar/digest) before the image is COMPLETED.
//
// A REGISTRY source is really pulled too (registry.go): the manifest,
// whose bytes must have the digest the reference pins and the one the
// registry's Docker-Content-Digest says, then the config and each layer
// against their digests, and the disk of the KubeVirt containerDisk, the
// one regular file under disk/, is hashed as it streams. The source must
// be exactly one kind: its type and the one matching message (http for
// HTTP, registry for REGISTRY); PVC and S3 need a cluster (Unimplemented),
// an unknown type is InvalidArgument.
//
// Query filters follow the SOL 013 grammar the REST binding uses, of
// which the stand-in knows the one form clients here send:
// (eq,<attr>/value,<id>) with attr one of softwareImageId, flavourId,
// computeId. An empty filter selects everything; any other is
// InvalidArgument.
//
// Compute operations (computeOperation): start, stop, pause, unpause,
// reboot, with the transitions of a KubeVirt VirtualMachine.
package kubevimtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/kube-nfv/kube-vim-api/pkg/apis"
	"github.com/kube-nfv/kube-vim-api/pkg/apis/admin"
	"github.com/kube-nfv/kube-vim-api/pkg/apis/vivnfm"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/vnfpkgm/vnfpkgm/csar/digest"
)

// Options configure a stand-in.
type Options struct {
	// TLS, when set, makes the server speak TLS with this configuration.
	TLS *tls.Config
	// Token, when set, is the bearer token every call must carry.
	Token string
}

// Server is a running stand-in KubeVim.
type Server struct {
	vivnfm.UnimplementedViVnfmServer
	admin.UnimplementedAdminServer

	// Addr is the host:port it listens on (127.0.0.1).
	Addr string

	opts Options
	srv  *grpc.Server
	http *http.Client
	wg   sync.WaitGroup // background downloads

	mu       sync.Mutex
	images   map[string]*Image
	flavours map[string]*vivnfm.VirtualComputeFlavour
	computes map[string]*vivnfm.VirtualCompute
	faults   map[string]*fault
	calls    map[string]int
	corrupt  bool
}

// Image is an image as the stand-in holds it.
type Image struct {
	Info      *vivnfm.SoftwareImageInformation
	Status    *admin.ImageDownloadStatus
	SourceURL string
	// Reference is the image of a REGISTRY source as asked, and
	// ManifestDigest the digest of the manifest pulled, DiskFile the
	// containerDisk's file in its layer (disk/<file>).
	Reference      string
	ManifestDigest string
	DiskFile       string
	// Fetched is the number of bytes read from the source (of a registry:
	// the disk file's) and Digest their hex digest in the requested
	// algorithm.
	Fetched int64
	Digest  string
}

// fault makes the next calls of a method fail or wait.
type fault struct {
	code  codes.Code
	times int
	delay time.Duration
}

// Start starts a stand-in on a free port of 127.0.0.1; it stops at the
// end of the test.
func Start(tb testing.TB, opts Options) *Server {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s := &Server{
		Addr: l.Addr().String(), opts: opts,
		http:   &http.Client{Timeout: time.Minute},
		images: map[string]*Image{}, flavours: map[string]*vivnfm.VirtualComputeFlavour{},
		computes: map[string]*vivnfm.VirtualCompute{}, faults: map[string]*fault{}, calls: map[string]int{},
	}
	sopts := []grpc.ServerOption{grpc.ChainUnaryInterceptor(s.intercept)}
	if opts.TLS != nil {
		sopts = append(sopts, grpc.Creds(credentials.NewTLS(opts.TLS)))
	}
	s.srv = grpc.NewServer(sopts...)
	vivnfm.RegisterViVnfmServer(s.srv, s)
	admin.RegisterAdminServer(s.srv, s)
	go s.srv.Serve(l)
	tb.Cleanup(s.Stop)
	return s
}

// Stop stops the server and waits for the background downloads.
func (s *Server) Stop() {
	s.srv.Stop()
	s.wg.Wait()
}

// Fail makes the next times calls of method (its short name, such as
// "DownloadImage") fail with code.
func (s *Server) Fail(method string, code codes.Code, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[method] = &fault{code: code, times: times}
}

// Delay makes every later call of method wait d (or its deadline) first.
func (s *Server) Delay(method string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[method] = &fault{delay: d}
}

// CorruptDownloads makes later downloads flip a bit of the first byte
// they receive, as a damaged transfer would: the checksum validation must
// then refuse the image.
func (s *Server) CorruptDownloads(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.corrupt = on
}

// Calls is how many calls of method arrived (faulty ones included).
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// Images returns a copy of the images held, by id.
func (s *Server) Images() map[string]Image {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]Image, len(s.images))
	for id, im := range s.images {
		out[id] = Image{Info: proto.Clone(im.Info).(*vivnfm.SoftwareImageInformation), Status: proto.Clone(im.Status).(*admin.ImageDownloadStatus),
			SourceURL: im.SourceURL, Reference: im.Reference, ManifestDigest: im.ManifestDigest, DiskFile: im.DiskFile,
			Fetched: im.Fetched, Digest: im.Digest}
	}
	return out
}

// Computes returns a copy of the compute resources held, by id.
func (s *Server) Computes() map[string]*vivnfm.VirtualCompute {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]*vivnfm.VirtualCompute, len(s.computes))
	for id, vc := range s.computes {
		out[id] = proto.Clone(vc).(*vivnfm.VirtualCompute)
	}
	return out
}

// Flavours returns a copy of the flavours held, by id.
func (s *Server) Flavours() map[string]*vivnfm.VirtualComputeFlavour {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]*vivnfm.VirtualComputeFlavour, len(s.flavours))
	for id, f := range s.flavours {
		out[id] = proto.Clone(f).(*vivnfm.VirtualComputeFlavour)
	}
	return out
}

// intercept counts calls, checks the token and applies the faults.
func (s *Server) intercept(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	method := info.FullMethod[strings.LastIndex(info.FullMethod, "/")+1:]
	s.mu.Lock()
	s.calls[method]++
	f := s.faults[method]
	var failWith codes.Code
	var delay time.Duration
	if f != nil {
		delay = f.delay
		if f.times > 0 {
			f.times--
			failWith = f.code
		}
	}
	s.mu.Unlock()
	if s.opts.Token != "" {
		md, _ := metadata.FromIncomingContext(ctx)
		if got := md.Get("authorization"); len(got) != 1 || got[0] != "Bearer "+s.opts.Token {
			return nil, status.Error(codes.Unauthenticated, "missing or wrong bearer token")
		}
	}
	if delay > 0 {
		select {
		case <-ctx.Done():
			return nil, status.FromContextError(ctx.Err()).Err()
		case <-time.After(delay):
		}
	}
	if failWith != codes.OK {
		return nil, status.Errorf(failWith, "injected failure of %s", method)
	}
	if m, ok := req.(proto.Message); ok {
		if path := unknownField(m.ProtoReflect(), method); path != "" {
			return nil, invalid("%s carries fields this API does not define", path)
		}
	}
	return handler(ctx, req)
}

// unknownField returns the path of the first message under m that holds
// fields its definition lacks (a client built from another version of
// the API), or "".
func unknownField(m protoreflect.Message, path string) string {
	if len(m.GetUnknown()) > 0 {
		return path
	}
	found := ""
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Message() == nil || fd.IsMap() && fd.MapValue().Message() == nil {
			return true
		}
		sub := path + "." + string(fd.Name())
		switch {
		case fd.IsList():
			for i := 0; i < v.List().Len() && found == ""; i++ {
				found = unknownField(v.List().Get(i).Message(), sub)
			}
		case fd.IsMap():
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				found = unknownField(mv.Message(), sub)
				return found == ""
			})
		default:
			found = unknownField(v.Message(), sub)
		}
		return found == ""
	})
	return found
}

func invalid(format string, args ...any) error {
	return status.Errorf(codes.InvalidArgument, format, args...)
}

// ---- admin ----

// DownloadImage implements admin.AdminServer: HTTP and REGISTRY sources
// (PVC and S3 need a cluster: Unimplemented), eager downloads only.
func (s *Server) DownloadImage(ctx context.Context, req *admin.DownloadImageRequest) (*admin.DownloadImageResponse, error) {
	md := req.GetMetadata()
	if md.GetName() == "" {
		return nil, invalid("metadata.name is required")
	}
	src := req.GetSource()
	if src == nil {
		return nil, invalid("source is required")
	}
	if err := oneSourceKind(src); err != nil {
		return nil, err
	}
	if req.GetOptions().GetLazyDownload() {
		return nil, status.Error(codes.Unimplemented, "lazyDownload is not served by this stand-in")
	}
	validate := req.GetOptions().GetValidateChecksum()
	var (
		want digest.Want
		pull *registryPull
		h    = src.GetHttp()
	)
	if src.GetType() == admin.ImageSourceType_REGISTRY {
		var err error
		if pull, err = parseRegistrySource(src.GetRegistry(), md, validate); err != nil {
			return nil, err
		}
	} else {
		u, err := url.Parse(h.GetUrl())
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, invalid("source.http.url %q is not an http(s) URL", h.GetUrl())
		}
		if validate {
			c := h.GetChecksum()
			if c.GetAlgorithm() == "" || c.GetValue() == "" {
				return nil, invalid("validateChecksum needs source.http.checksum with algorithm and value")
			}
			want = digest.Want{Algorithm: c.GetAlgorithm(), Expected: c.GetValue()}
			if err := digest.Validate(want); err != nil {
				return nil, invalid("source.http.checksum: %v", err)
			}
		}
	}
	id := uuid.NewString()
	im := &Image{
		SourceURL: h.GetUrl(),
		Info: &vivnfm.SoftwareImageInformation{
			SoftwareImageId: &apis.Identifier{Value: id}, Name: md.GetName(), Version: md.Version, Provider: md.Provider,
			ContainerFormat: proto.String(md.GetMetadata().GetFields()["containerFormat"]),
			DiskFormat:      proto.String(md.GetMetadata().GetFields()["diskFormat"]),
			CreatedAt:       timestamppb.Now(), Status: "downloading",
			Metadata: &apis.Metadata{Fields: md.GetMetadata().GetFields()},
		},
		Status: &admin.ImageDownloadStatus{ImageId: &apis.Identifier{Value: id}, State: admin.DownloadState_PENDING, StartedAt: timestamppb.Now()},
	}
	if pull != nil {
		im.Reference = pull.ref
	}
	s.mu.Lock()
	s.images[id] = im
	s.mu.Unlock()
	s.wg.Add(1)
	if pull != nil {
		go s.pull(id, pull)
	} else {
		go s.fetch(id, h.GetUrl(), want)
	}
	return &admin.DownloadImageResponse{ImageId: &apis.Identifier{Value: id}}, nil
}

// fetch downloads an image, hashing it, and records the outcome.
func (s *Server) fetch(id, src string, want digest.Want) {
	defer s.wg.Done()
	s.setState(id, admin.DownloadState_DOWNLOADING, "")
	resp, err := s.http.Get(src)
	if err != nil {
		s.setState(id, admin.DownloadState_FAILED, "fetching the source: "+err.Error())
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		s.setState(id, admin.DownloadState_FAILED, "fetching the source: HTTP "+resp.Status)
		return
	}
	algo := want.Algorithm
	if algo == "" {
		algo = "sha256"
	}
	var body io.Reader = resp.Body
	s.mu.Lock()
	if s.corrupt {
		body = &flipFirst{r: body}
	}
	s.mu.Unlock()
	res, n, err := digest.Sum(context.Background(), body, []digest.Want{{Algorithm: algo, Expected: want.Expected}})
	if err != nil {
		s.setState(id, admin.DownloadState_FAILED, "reading the source: "+err.Error())
		return
	}
	s.mu.Lock()
	im := s.images[id]
	im.Fetched, im.Digest = n, res[0].Hex
	im.Info.Size = resource.NewQuantity(n, resource.BinarySI)
	im.Info.Checksum = proto.String(strings.ToLower(strings.ReplaceAll(res[0].Algorithm.Name, "-", "")) + ":" + res[0].Hex)
	s.mu.Unlock()
	if want.Expected != "" && !res[0].Match {
		s.setState(id, admin.DownloadState_FAILED, fmt.Sprintf("checksum validation failed: %s expected %s, got %s", algo, strings.ToLower(want.Expected), res[0].Hex))
		return
	}
	s.setState(id, admin.DownloadState_COMPLETED, "")
}

// flipFirst flips the lowest bit of the first byte read through it.
type flipFirst struct {
	r    io.Reader
	done bool
}

func (f *flipFirst) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if n > 0 && !f.done {
		p[0] ^= 1
		f.done = true
	}
	return n, err
}

func (s *Server) setState(id string, st admin.DownloadState, errMsg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	im := s.images[id]
	im.Status.State = st
	im.Info.Status = map[admin.DownloadState]string{
		admin.DownloadState_DOWNLOADING: "downloading", admin.DownloadState_COMPLETED: "active", admin.DownloadState_FAILED: "failed",
	}[st]
	if errMsg != "" {
		im.Status.ErrorMessage = proto.String(errMsg)
	}
	if st == admin.DownloadState_COMPLETED || st == admin.DownloadState_FAILED {
		im.Status.CompletedAt = timestamppb.Now()
	}
	im.Info.UpdatedAt = timestamppb.Now()
}

// GetImageDownloadStatus implements admin.AdminServer.
func (s *Server) GetImageDownloadStatus(ctx context.Context, req *admin.GetImageDownloadStatusRequest) (*admin.GetImageDownloadStatusResponse, error) {
	id := req.GetImageId().GetValue()
	if id == "" {
		return nil, invalid("imageId is required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	im, ok := s.images[id]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "image %s not found", id)
	}
	return &admin.GetImageDownloadStatusResponse{Status: proto.Clone(im.Status).(*admin.ImageDownloadStatus)}, nil
}

// ---- VI-VNFM: images ----

// filterRe is the one filter form the stand-in knows.
var filterRe = regexp.MustCompile(`^\(eq,(softwareImageId|flavourId|computeId)/value,([^,()]+)\)$`)

// parseFilter returns the attribute and id a filter selects; both empty
// for an empty filter.
func parseFilter(f *apis.Filter, attr string) (string, error) {
	v := f.GetValue()
	if v == "" {
		return "", nil
	}
	m := filterRe.FindStringSubmatch(v)
	if m == nil || m[1] != attr {
		return "", invalid("filter %q is not (eq,%s/value,ID)", v, attr)
	}
	return m[2], nil
}

// QueryImages implements vivnfm.ViVnfmServer.
func (s *Server) QueryImages(ctx context.Context, req *vivnfm.QueryImagesRequest) (*vivnfm.QueryImagesResponse, error) {
	id, err := parseFilter(req.GetImageQueryFilter(), "softwareImageId")
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := &vivnfm.QueryImagesResponse{}
	for iid, im := range s.images {
		if id == "" || id == iid {
			out.SoftwareImagesInformation = append(out.SoftwareImagesInformation, proto.Clone(im.Info).(*vivnfm.SoftwareImageInformation))
		}
	}
	return out, nil
}

// QueryImage implements vivnfm.ViVnfmServer.
func (s *Server) QueryImage(ctx context.Context, req *vivnfm.QueryImageRequest) (*vivnfm.QueryImageResponse, error) {
	id := req.GetSoftwareImageId().GetValue()
	if id == "" {
		return nil, invalid("softwareImageId is required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	im, ok := s.images[id]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "image %s not found", id)
	}
	return &vivnfm.QueryImageResponse{SoftwareImageInformation: proto.Clone(im.Info).(*vivnfm.SoftwareImageInformation)}, nil
}

// ---- VI-VNFM: flavours ----

// CreateComputeFlavour implements vivnfm.ViVnfmServer: memory and vCPUs
// are required.
func (s *Server) CreateComputeFlavour(ctx context.Context, req *vivnfm.CreateComputeFlavourRequest) (*vivnfm.CreateComputeFlavourResponse, error) {
	f := req.GetFlavour()
	if f == nil {
		return nil, invalid("flavour is required")
	}
	if q := f.GetVirtualMemory().GetVirtualMemSize(); q == nil || q.Value() <= 0 {
		return nil, invalid("flavour.virtualMemory.virtualMemSize is required")
	}
	if f.GetVirtualCpu().GetNumVirtualCpu() == 0 {
		return nil, invalid("flavour.virtualCpu.numVirtualCpu is required")
	}
	for i, st := range f.GetStorageAttributes() {
		if st.GetTypeOfStorage() == "" || st.GetSizeOfStorage() == nil {
			return nil, invalid("flavour.storageAttributes[%d] needs typeOfStorage and sizeOfStorage", i)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := f.GetFlavourId().GetValue()
	if id == "" {
		id = uuid.NewString()
	} else if _, dup := s.flavours[id]; dup {
		return nil, status.Errorf(codes.AlreadyExists, "flavour %s exists", id)
	}
	stored := proto.Clone(f).(*vivnfm.VirtualComputeFlavour)
	stored.FlavourId = &apis.Identifier{Value: id}
	s.flavours[id] = stored
	return &vivnfm.CreateComputeFlavourResponse{FlavourId: &apis.Identifier{Value: id}}, nil
}

// QueryComputeFlavour implements vivnfm.ViVnfmServer.
func (s *Server) QueryComputeFlavour(ctx context.Context, req *vivnfm.QueryComputeFlavourRequest) (*vivnfm.QueryComputeFlavourResponse, error) {
	id, err := parseFilter(req.GetQueryComputeFlavourFilter(), "flavourId")
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := &vivnfm.QueryComputeFlavourResponse{}
	for fid, f := range s.flavours {
		if id == "" || id == fid {
			out.Flavours = append(out.Flavours, proto.Clone(f).(*vivnfm.VirtualComputeFlavour))
		}
	}
	return out, nil
}

// DeleteComputeFlavour implements vivnfm.ViVnfmServer: a flavour compute
// uses cannot go.
func (s *Server) DeleteComputeFlavour(ctx context.Context, req *vivnfm.DeleteComputeFlavourRequest) (*vivnfm.DeleteComputeFlavourResponse, error) {
	id := req.GetComputeFlavourId().GetValue()
	if id == "" {
		return nil, invalid("computeFlavourId is required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.flavours[id]; !ok {
		return nil, status.Errorf(codes.NotFound, "flavour %s not found", id)
	}
	for cid, vc := range s.computes {
		if vc.GetFlavourId().GetValue() == id {
			return nil, status.Errorf(codes.FailedPrecondition, "flavour %s is used by compute %s", id, cid)
		}
	}
	delete(s.flavours, id)
	return &vivnfm.DeleteComputeFlavourResponse{}, nil
}

// ---- VI-VNFM: compute ----

// AllocateVirtualisedComputeResource implements vivnfm.ViVnfmServer: the
// flavour must exist and the image be downloaded. The compute is STARTING
// and RUNNING from the next query on.
func (s *Server) AllocateVirtualisedComputeResource(ctx context.Context, req *vivnfm.AllocateComputeRequest) (*vivnfm.AllocateComputeResponse, error) {
	if req.GetComputeName() == "" {
		return nil, invalid("computeName is required")
	}
	fid, iid := req.GetComputeFlavourId().GetValue(), req.GetVcImageId().GetValue()
	if fid == "" {
		return nil, invalid("computeFlavourId is required")
	}
	if iid == "" {
		return nil, invalid("vcImageId is required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.flavours[fid]; !ok {
		return nil, status.Errorf(codes.NotFound, "flavour %s not found", fid)
	}
	im, ok := s.images[iid]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "image %s not found", iid)
	}
	if im.Status.State != admin.DownloadState_COMPLETED {
		return nil, status.Errorf(codes.FailedPrecondition, "image %s is %s, not COMPLETED", iid, im.Status.State)
	}
	for cid, vc := range s.computes {
		if vc.GetComputeName() == req.GetComputeName() {
			return nil, status.Errorf(codes.AlreadyExists, "compute named %s exists: %s", req.GetComputeName(), cid)
		}
	}
	id := uuid.NewString()
	vc := &vivnfm.VirtualCompute{
		ComputeId: &apis.Identifier{Value: id}, ComputeName: proto.String(req.GetComputeName()),
		FlavourId: &apis.Identifier{Value: fid}, VcImageId: &apis.Identifier{Value: iid},
		OperationalState: apis.OperationalState_DISABLED, RunningState: apis.ComputeRunningState_STARTING,
		Metadata: &apis.Metadata{Fields: req.GetMetaData().GetFields()},
	}
	s.computes[id] = vc
	return &vivnfm.AllocateComputeResponse{ComputeData: proto.Clone(vc).(*vivnfm.VirtualCompute)}, nil
}

// QueryVirtualisedComputeResource implements vivnfm.ViVnfmServer.
func (s *Server) QueryVirtualisedComputeResource(ctx context.Context, req *vivnfm.QueryComputeRequest) (*vivnfm.QueryComputeResponse, error) {
	id, err := parseFilter(req.GetQueryComputeFilter(), "computeId")
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := &vivnfm.QueryComputeResponse{}
	for cid, vc := range s.computes {
		if id != "" && id != cid {
			continue
		}
		if vc.RunningState == apis.ComputeRunningState_STARTING {
			setRunning(vc, apis.ComputeRunningState_RUNNING)
		}
		out.QueryResult = append(out.QueryResult, proto.Clone(vc).(*vivnfm.VirtualCompute))
	}
	return out, nil
}

func setRunning(vc *vivnfm.VirtualCompute, st apis.ComputeRunningState) {
	vc.RunningState = st
	vc.OperationalState = apis.OperationalState_DISABLED
	if st == apis.ComputeRunningState_RUNNING {
		vc.OperationalState = apis.OperationalState_ENABLED
	}
}

// transitions: for each operation, the states it may start from and the
// state it leads to.
var transitions = map[string]struct {
	from []apis.ComputeRunningState
	to   apis.ComputeRunningState
}{
	"start":   {[]apis.ComputeRunningState{apis.ComputeRunningState_STOPPED}, apis.ComputeRunningState_RUNNING},
	"stop":    {[]apis.ComputeRunningState{apis.ComputeRunningState_RUNNING, apis.ComputeRunningState_PAUSED}, apis.ComputeRunningState_STOPPED},
	"pause":   {[]apis.ComputeRunningState{apis.ComputeRunningState_RUNNING}, apis.ComputeRunningState_PAUSED},
	"unpause": {[]apis.ComputeRunningState{apis.ComputeRunningState_PAUSED}, apis.ComputeRunningState_RUNNING},
	"reboot":  {[]apis.ComputeRunningState{apis.ComputeRunningState_RUNNING}, apis.ComputeRunningState_RUNNING},
}

// OperateVirtualisedComputeResource implements vivnfm.ViVnfmServer.
func (s *Server) OperateVirtualisedComputeResource(ctx context.Context, req *vivnfm.OperateComputeRequest) (*vivnfm.OperateComputeResponse, error) {
	id := req.GetComputeId().GetValue()
	if id == "" {
		return nil, invalid("computeId is required")
	}
	tr, ok := transitions[req.GetComputeOperation()]
	if !ok {
		return nil, invalid("computeOperation %q is not one of start, stop, pause, unpause, reboot", req.GetComputeOperation())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	vc, ok := s.computes[id]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "compute %s not found", id)
	}
	allowed := false
	for _, f := range tr.from {
		allowed = allowed || vc.RunningState == f
	}
	if !allowed {
		return nil, status.Errorf(codes.FailedPrecondition, "compute %s is %s: cannot %s", id, vc.RunningState, req.GetComputeOperation())
	}
	setRunning(vc, tr.to)
	return &vivnfm.OperateComputeResponse{ComputeData: proto.Clone(vc).(*vivnfm.VirtualCompute)}, nil
}

// TerminateVirtualisedComputeResource implements vivnfm.ViVnfmServer.
func (s *Server) TerminateVirtualisedComputeResource(ctx context.Context, req *vivnfm.TerminateComputeRequest) (*vivnfm.TerminateComputeResponse, error) {
	id := req.GetComputeId().GetValue()
	if id == "" {
		return nil, invalid("computeId is required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.computes[id]; !ok {
		return nil, status.Errorf(codes.NotFound, "compute %s not found", id)
	}
	delete(s.computes, id)
	return &vivnfm.TerminateComputeResponse{ComputeId: &apis.Identifier{Value: id}}, nil
}

// ---- TLS for tests ----

// SelfSignedTLS returns a server TLS configuration with a fresh
// self-signed certificate for 127.0.0.1, and that certificate in PEM for
// the client's CA file.
func SelfSignedTLS(tb testing.TB) (*tls.Config, []byte) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kubevim-standin"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, IsCA: true, BasicConstraintsValid: true,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	cert := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
