package main

// kubevimOptionsHelp documents the options of --type kubevim for
// `vim register --help` (TestVIMRegisterHelpDocumentsEveryOption checks
// it against the driver's declared options).
const kubevimOptionsHelp = `
Driver options of --type kubevim (KubeVim over gRPC: ETSI IFA 006 VI-VNFM
and KubeVim's admin image download; --endpoint is KubeVim's gRPC address
HOST:PORT; --credential token=TOKEN is a bearer token, sent over TLS only;
KubeVim downloads images from this server's artifact URLs, so vnfpkgmd
needs a --public-url KubeVim can reach):
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

Example:
  vnfpkgm vim register --type kubevim --name kv --endpoint kubevim.example:50051 \
      --option tls=true --option ca_file=/etc/vnfpkgm/kubevim-ca.pem --credential token=...
`
