package main

// kubevimOptionsHelp documents the options of --type kubevim for
// `vim register --help` (TestVIMRegisterHelpDocumentsEveryOption checks
// it against the driver's declared options).
const kubevimOptionsHelp = `
Driver options of --type kubevim (KubeVim over gRPC: ETSI IFA 006 VI-VNFM
and KubeVim's admin image download; --endpoint is KubeVim's gRPC address
HOST:PORT; --credential token=TOKEN is a bearer token, sent over TLS only;
KubeVim downloads images from this server's artifact URLs or its OCI
endpoint /v2, so vnfpkgmd needs an address KubeVim can reach: --public-url,
or registry= below; KubeVim's API cannot delete images, so they stay in
KubeVim when their package is deleted):
  tls=true|false
      connect with TLS (required to send the token credential) (default false)
  ca_file=PATH
      PEM file of the CAs that sign KubeVim's certificate (default: the
      system's)
  server_name=NAME
      the name KubeVim's certificate must carry (default: the endpoint's host)
  call_timeout=DURATION
      bound of each gRPC call (default 30s)
  image_timeout=DURATION
      how long KubeVim may take to download an image (default 10m0s)
  compute_timeout=DURATION
      how long a compute may take to leave STARTING (default 5m0s)
  poll_interval=DURATION
      the polling period of those waits (default 1s)
  retries=N
      retries of an idempotent call (queries, terminate, flavour delete) that
      found KubeVim unavailable (default 3)
  image_source=http|registry
      where KubeVim downloads images from: http, the artifact URL (needs
      --public-url); registry, this server's OCI endpoint /v2 by digest (a
      containerDisk) (default http)
  registry=HOST[:PORT]
      with image_source=registry: the OCI endpoint as KubeVim reaches it
      (default: this server's own address)

Example:
  vnfpkgm vim register --type kubevim --name kv --endpoint kubevim.example:50051 \
      --option tls=true --option ca_file=/etc/vnfpkgm/kubevim-ca.pem --credential token=...
`

// planktonOptionsHelp documents the options of --type plankton, checked
// the same way.
const planktonOptionsHelp = `
Driver options of --type plankton (GRNET Synnefo's image service: images
only, uploaded to Pithos+ and registered with Plankton; raw images only,
as Plankton's diskdump; --endpoint is the Plankton image API, the URL
under which /images lives; --credential token=TOKEN is the Astakos token):
  pithos_endpoint=URL
      the Pithos+ object API, the URL under which /ACCOUNT/CONTAINER/OBJECT
      lives (required)
  account=UUID
      the Pithos+ account (the user's unique id) that holds the images
      (required)
  container=NAME
      the Pithos+ container images are uploaded to (created if missing)
      (default images)
  is_public=true|false
      register images as public (default false)
  call_timeout=DURATION
      bound of each request other than the upload (default 30s)
  upload_timeout=DURATION
      bound of the upload of one image (default 30m0s)
  retries=N
      retries of an idempotent request (GET, HEAD, DELETE, container PUT)
      that met a network error or a 502, 503 or 504 (default 3)

Example:
  vnfpkgm vim register --type plankton --name synnefo \
      --endpoint https://cyclades.example/image/v1.0 --credential token=... \
      --option pithos_endpoint=https://pithos.example/object-store/v1 --option account=UUID
`
