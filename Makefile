# vnfpkgm build, run, test and benchmark entry points.
GO      ?= go
BIN     := bin
# Benchmarks that build multi-gigabyte packages write them here (defaults to the OS temp dir).
BENCHDIR ?=
FUZZTIME ?= 30s
# The commit --version reports. The go command's own VCS stamp is missing
# in a linked git worktree (golang/go#58218), so the build passes it to the
# linker; outside git both are empty and the binaries fall back to the stamp.
GIT_COMMIT   := $(shell git rev-parse HEAD 2>/dev/null)
GIT_MODIFIED := $(shell if [ -n "$$(git status --porcelain 2>/dev/null)" ]; then echo true; else echo false; fi)
LDFLAGS      := -X github.com/vnfpkgm/vnfpkgm/internal/version.commit=$(GIT_COMMIT) -X github.com/vnfpkgm/vnfpkgm/internal/version.modified=$(GIT_MODIFIED)

.PHONY: all build run test bench fuzz vet fmt clean samples

all: build

# The CLI is built without cgo: a static binary starts without the dynamic
# loader and libc (a third less CPU for `vnfpkgm help`); it needs no C
# code (the server does, for SQLite).
build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/ ./cmd/vnfpkgmd
	CGO_ENABLED=0 $(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/ ./cmd/vnfpkgm

# Builds and starts the server with its embedded defaults.
run: build
	$(BIN)/vnfpkgmd

test:
	$(GO) vet ./...
	$(GO) test -count=1 ./...

bench:
	VNFPKGM_BENCHDIR=$(BENCHDIR) $(GO) test -run '^$$' -bench . -benchmem -timeout 60m ./...

# Runs every fuzz target for FUZZTIME each (make test already runs their seed corpora).
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

# Builds the sample VNF package (samples/build/sample-vnf.zip) and the image
# and kernel the vim/local tests boot, from Debian packages.
samples:
	bash samples/build.sh

vet:
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf $(BIN)
