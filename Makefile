# jbuild — build, demo, tests and benchmark.
#
#   make demo       build bin/jbuild, wrap a sample Java image in an OCI layout (no daemon, no network)
#   make k8s-demo   the walkthrough on a real single-node Kubernetes (k3s, root): kubectl apply, autoscale 1..3
#                   under load, every pod's agent reporting (docs/kubernetes.md)
#   make test       install test packages if missing, go vet, go test (integration tests included)
#   make bench      jbuild wrap vs crane append+mutate on a loopback registry (prints a table)
#   make soak       1,000 wraps through a fault-injecting proxy (random faults, seeded); counts
#                   partial targets, which must be 0 (SOAKFLAGS, e.g. -n 200 -seed 7 -p 0.1)
#   make docs       regenerate the CLI reference docs/cli/jbuild*.md from the cobra commands
#                   (TestCLIReference fails when it is not current)
#   make fuzz       run every Go fuzz target for FUZZTIME each (default 30s), one after the other
#   make frontend-image FRONTEND_REF=<ref>
#                   build the BuildKit frontend image (linux/amd64+arm64, no Docker) and push it to <ref>
#   make jbuild-image JBUILD_IMAGE_REF=<ref>   (needs BUILDKIT_HOST)
#                   build jbuild's own image (static, non-root, linux/amd64+arm64) on BuildKit
#                   through LLB (internal/goimage) and push it to <ref>: the CI templates' step image
#
# Variables: GO, GOTESTFLAGS (e.g. -v, -short, -run X), GOTESTTIMEOUT, BENCHFLAGS (e.g. -n 3), TEST_DEBS.

GO          ?= go
BIN         ?= bin
VERSION     ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS     ?= -X main.version=$(VERSION)
GOTESTFLAGS ?=
BENCHFLAGS  ?=
SOAKFLAGS   ?=

# Debian packages the tests need. Add a package here when a test starts
# needing it; `make test-deps` installs the missing ones only.
#   docker-registry  the loopback registry integration tests start (internal/testing/testenv)
#   zip, unzip       agent archives (.zip downloads from the JENNIFER view server)
#   runc             the OCI runtime of the test buildkitd (internal/testing/testenv)
#   busybox-static   /bin/sh for test base images without a public registry
#   debootstrap      real runtime base images (JRE, Node.js, Python, PHP) for internal/testing/e2e,
#                    cached in ~/.cache/jbuild-test/images
#   php-dev          phpize: the PHP test agent extension of internal/testing/e2e (the host's PHP 8.2 = the image's)
#   openjdk-17-jdk-headless  javac and jar: the Java test agent and app of internal/testing/e2e
#   python3-pip      pip download of the real jennifer-python agent (internal/testing/e2e, cached)
#   docker.io        dockerd 20.10 and its containerd for the docker-daemon: and containerd:
#                    store tests (internal/testing/testenv starts its own under /tmp); its
#                    docker CLI runs buildx (built from its module by testenv, cached in
#                    ~/.cache/jbuild-test/bin-buildx) and the 20.10 `docker build`
#   jq               the Azure Pipelines template's build step reads the image digest with it
#                    (templates: TestCIBuildCommandsOnDockerEngine runs that step)
#   containerd, containernetworking-plugins, iptables, iproute2
#                    the test Kubernetes cluster (internal/testing/k8scluster, make k8s-demo):
#                    its own containerd with CNI bridge networking, kube-proxy's rules, the veth
# Commands the tests need, installed from Debian only when the command is missing
# (the machine may have them from elsewhere: Node.js's own packages bring npm):
#   mvn (maven)      fetches the OpenTelemetry Java agent (internal/testing/e2e, cached)
#   npm (npm)        installs the OpenTelemetry Node.js agent (internal/testing/e2e, cached)
TEST_CMDS ?= mvn:maven npm:npm
TEST_DEBS ?= docker-registry zip unzip runc busybox-static debootstrap php-dev openjdk-17-jdk-headless python3-pip docker.io jq \
             containerd containernetworking-plugins iptables iproute2

# apt-get needs root; use sudo when not root and sudo exists.
SUDO := $(shell [ "$$(id -u)" = 0 ] || command -v sudo 2>/dev/null)

.PHONY: all build demo test test-deps test-bins vet fmt bench soak clean frontend-image jbuild-image fuzz docs k8s-demo

all: build

build:
	@mkdir -p $(BIN)
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/jbuild ./cmd/jbuild

demo: build
	$(GO) run ./examples/demo

docs:
	$(GO) generate ./cmd/jbuild

# The first run builds k3s from its Go module (about 10 minutes on 2 cores,
# cached in ~/.cache/jbuild-test/bin-k8s) and the debootstrap Java bases.
k8s-demo: test-deps build
	$(GO) run ./examples/k8sdemo -jbuild $(BIN)/jbuild

# Idempotent: apt-get update runs only when a package is missing.
test-deps:
	@missing=""; \
	for p in $(TEST_DEBS); do \
	  dpkg-query -W -f='$${Status}' "$$p" 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	for c in $(TEST_CMDS); do \
	  command -v "$${c%%:*}" >/dev/null 2>&1 || missing="$$missing $${c#*:}"; \
	done; \
	if [ -z "$$missing" ]; then \
	  echo "test-deps: present: $(TEST_DEBS)"; \
	else \
	  echo "test-deps: installing:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

vet:
	$(GO) vet ./...

# Integration tests start their own registry, buildkitd and dockerds on loopback
# (internal/testing/testenv). On a cold machine the first run also builds buildkitd
# from the pinned module (a few minutes, cached in ~/.cache/jbuild-test/bin), the
# docker buildx plugin (about 5 minutes, ~/.cache/jbuild-test/bin-buildx) and a
# current dockerd from go.mod's github.com/docker/docker (~/.cache/jbuild-test/bin-dockerd),
# hence the generous timeout.
GOTESTTIMEOUT ?= 30m
test: test-deps vet test-bins
	$(GO) test -count=1 -timeout $(GOTESTTIMEOUT) $(GOTESTFLAGS) ./...

# The binaries the integration tier builds from Go modules (buildkitd, buildx,
# dockerd, k3s, metrics-server), built one after the other before the tests,
# cached in ~/.cache/jbuild-test: cold, most of half an hour on 2 cores, which
# must not count against a test package's timeout; warm, a version check.
test-bins:
	$(GO) run ./internal/testing/prebuild

# The `# syntax=` image of the jbuild frontend, assembled in memory (no
# daemon) by the project's own code (internal/goimage) and pushed with the
# credentials of ~/.docker/config.json. FRONTEND_PLATFORMS defaults to
# linux/amd64,linux/arm64.
FRONTEND_PLATFORMS ?= linux/amd64,linux/arm64
frontend-image:
	@test -n "$(FRONTEND_REF)" || { echo 'frontend-image: set FRONTEND_REF, e.g. make frontend-image FRONTEND_REF=registry.example.com/jbuild/frontend:1' >&2; exit 2; }
	$(GO) run ./internal/goimage/cmd/mkimage -image frontend -ref '$(FRONTEND_REF)' -platform '$(FRONTEND_PLATFORMS)' -version '$(VERSION)'

# Fuzz targets as PACKAGE:FuzzName. `make test` already runs their seed
# corpora (testdata/fuzz/FuzzName and the f.Add seeds) as normal tests; this
# target searches for new inputs. A crasher is written to the package's
# testdata/fuzz/FuzzName/: commit it with the fix so it stays a test.
FUZZTIME    ?= 30s
# Minimizing each new interesting input may take up to 60s by default, during
# which a worker reports no executions: with short runs that is most of the
# budget. A crasher is minimized for that long too, and written out either way.
FUZZMINIMIZETIME ?= 2s
FUZZTARGETS ?= ./internal/agent:FuzzZipReader ./internal/agent:FuzzTarReader \
               ./buildplan:FuzzParseProfile ./buildplan:FuzzMergeEnv ./buildplan:FuzzRenderConfig \
               ./internal/transport:FuzzParse
fuzz:
	@set -e; for t in $(FUZZTARGETS); do \
	  pkg=$${t%%:*}; name=$${t##*:}; \
	  echo "fuzz: $$name ($$pkg) for $(FUZZTIME)"; \
	  $(GO) test -run='^$$' -fuzz="^$$name\$$" -fuzztime=$(FUZZTIME) -fuzzminimizetime=$(FUZZMINIMIZETIME) $$pkg; \
	done

# jbuild's own image: cross-compiled here, assembled and pushed by the
# BuildKit daemon at BUILDKIT_HOST (tcp://..., unix://..., docker-container://...)
# with the credentials of ~/.docker/config.json.
JBUILD_IMAGE_PLATFORMS ?= linux/amd64,linux/arm64
jbuild-image:
	@test -n "$(BUILDKIT_HOST)" || { echo 'jbuild-image: set BUILDKIT_HOST to a BuildKit daemon, e.g. make jbuild-image BUILDKIT_HOST=tcp://buildkitd:1234 JBUILD_IMAGE_REF=registry.example.com/jbuild/jbuild:1' >&2; exit 2; }
	@test -n "$(JBUILD_IMAGE_REF)" || { echo 'jbuild-image: set JBUILD_IMAGE_REF, e.g. make jbuild-image JBUILD_IMAGE_REF=registry.example.com/jbuild/jbuild:1' >&2; exit 2; }
	$(GO) run ./internal/goimage/cmd/mkimage -image jbuild -addr '$(BUILDKIT_HOST)' -ref '$(JBUILD_IMAGE_REF)' -platform '$(JBUILD_IMAGE_PLATFORMS)' -version '$(VERSION)' $(JBUILD_IMAGE_FLAGS)

fmt:
	gofmt -s -w $$(git ls-files '*.go')

bench: build
	$(GO) run ./bench -jbuild $(BIN)/jbuild $(BENCHFLAGS)

# Exit status 1 if any wrap left a partial target or touched its source.
soak:
	$(GO) run ./bench/soak $(SOAKFLAGS)

clean:
	rm -rf $(BIN) _demo
