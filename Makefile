# Governor: build, generate, test and run.
#
# Tools and the control plane are built from the Go module proxy and cached
# outside the clone, keyed by version, so a fresh clone reuses them.

SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c

CACHE_DIR ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/governor
TOOLS_DIR := $(CACHE_DIR)/tools

CONTROLLER_TOOLS_VERSION ?= v0.23.0
CONTROLLER_GEN := $(TOOLS_DIR)/controller-gen-$(CONTROLLER_TOOLS_VERSION)
GOLANGCI_LINT_VERSION ?= v2.15.0
GOLANGCI_LINT := $(TOOLS_DIR)/golangci-lint-$(GOLANGCI_LINT_VERSION)

GO_TEST_FLAGS ?= -count=1
BENCH_FLAGS ?= -benchtime=3x -count=1

.PHONY: all
all: build

##@ Development

.PHONY: help
help: ## Show the targets.
	@awk 'BEGIN {FS = ":.*##"} /^[a-zA-Z_-]+:.*?##/ { printf "  %-16s %s\n", $$1, $$2 } /^##@/ { printf "\n%s\n", substr($$0, 5) }' $(MAKEFILE_LIST)

.PHONY: generate
generate: $(CONTROLLER_GEN) ## Generate deepcopy code for the API types.
	$(CONTROLLER_GEN) object paths=./api/...

.PHONY: manifests
manifests: $(CONTROLLER_GEN) ## Generate CRDs and the operator's RBAC from markers.
	$(CONTROLLER_GEN) crd rbac:roleName=governor-manager paths=./api/... paths=./internal/... \
		output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac
	hack/sync-chart-crds.sh

.PHONY: chart-docs
chart-docs: ## Generate both charts' README.md from their values.yaml comments (helm-docs).
	"$$(hack/install-helm-docs.sh)" --chart-search-root charts --chart-to-generate charts/governor,charts/instances \
		--sort-values-order file --skip-version-footer --log-level warning

.PHONY: fmt
fmt: ## go fmt.
	go fmt ./...

.PHONY: vet
vet: ## go vet.
	go vet ./...

.PHONY: lint
lint: $(GOLANGCI_LINT) ## Run golangci-lint (.golangci.yml).
	$(GOLANGCI_LINT) run ./...

.PHONY: verify
verify: generate manifests chart-docs ## Fail when generated files (code, CRDs, chart README) are stale or code is unformatted.
	@stale="$$(git status --porcelain -- api config charts)"; \
	if [[ -n "$$stale" ]]; then \
		echo "generated files are stale; run 'make generate manifests chart-docs' and commit:"; echo "$$stale"; \
		git --no-pager diff --stat -- api config charts; exit 1; fi
	@unformatted="$$(gofmt -l $$(git ls-files '*.go'))"; \
	if [[ -n "$$unformatted" ]]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi

.PHONY: build
build: ## Build bin/governor and bin/kubectl-governor (the kubectl plugin: the access CLI alone).
	go build -o bin/governor ./cmd/governor
	rm -f bin/kubectl-governor && go build -o bin/kubectl-governor ./cmd/kubectl-governor

.PHONY: dev
dev: build control-plane ## Run a local control plane with the operator in it.
	KUBEBUILDER_ASSETS="$$(hack/build-control-plane.sh)" bin/governor dev $(DEV_ARGS)

##@ Test

.PHONY: control-plane
control-plane: ## Build kube-apiserver, etcd and kube-controller-manager (cached; first time ~20 min).
	hack/build-control-plane.sh

.PHONY: helm
helm: ## Build Helm v4 (cached).
	hack/install-helm.sh

.PHONY: promtool
promtool: ## Build Prometheus' promtool (cached), for the alerts' unit tests.
	hack/install-promtool.sh

.PHONY: test
test: verify vet lint ## Run every test against a real API server (builds the control plane if missing).
	assets="$$(hack/build-control-plane.sh)"; helm="$$(hack/install-helm.sh)"; promtool="$$(hack/install-promtool.sh)"; \
	KUBEBUILDER_ASSETS="$$assets" HELM="$$helm" PROMTOOL="$$promtool" go test $(GO_TEST_FLAGS) ./...

# FUZZTIME is how long `make fuzz` runs each fuzz target (`make test` runs
# their seed corpora only).
FUZZTIME ?= 30s

.PHONY: fuzz
fuzz: ## Run every fuzz target (manifests, check input, emails, folder paths, git refs...) for FUZZTIME each.
	@set -e; for dir in $$(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do \
		for target in $$(grep -h '^func Fuzz' $$dir/*_test.go | sed 's/^func \(Fuzz[A-Za-z0-9_]*\).*/\1/'); do \
			echo "== $$dir $$target ($(FUZZTIME))"; \
			go test $$dir -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME); \
		done; \
	done

.PHONY: bench
bench: ## Run the engine benchmarks: Governor beside OPA, SpiceDB and Casbin (about 5 minutes).
	go test -run '^$$' -bench . $(BENCH_FLAGS) ./internal/access/...
	cd bench && go test -run '^$$' -bench . $(BENCH_FLAGS) -timeout 30m ./...

.PHONY: scale
scale: ## Load the large Space into a real API server and report the figures (several minutes).
	assets="$$(hack/build-control-plane.sh)"; \
	KUBEBUILDER_ASSETS="$$assets" SCALE_REPORT=$(CURDIR)/scale-report.txt go test -tags scale -count=1 -timeout 90m -v -run TestScale ./test/scale/

.PHONY: bench-platform
bench-platform: ## Sync the medium and large Spaces into an emulated instance: requests, time, memory.
	go test -run '^$$' -bench BenchmarkPlatformSync -benchtime=1x -timeout 60m ./internal/platform/syncer/

.PHONY: bench-api
bench-api: ## Drive the decision API over loopback against the large Space; throughput and p50/p99.
	assets="$$(hack/build-control-plane.sh)"; \
	KUBEBUILDER_ASSETS="$$assets" go test -count=1 -run '^$$' -bench BenchmarkAPI -benchtime=1x -timeout 30m ./internal/decisionapi/

FUZZTIME ?= 30s

.PHONY: fuzz-api
fuzz-api: ## Fuzz the decision API's request bodies, revision tokens and paging ($(FUZZTIME) each; go test runs the seeds).
	go test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./internal/revision/
	go test -run '^$$' -fuzz '^FuzzRequestBodies$$' -fuzztime $(FUZZTIME) ./internal/decisionapi/
	go test -run '^$$' -fuzz '^FuzzRevisionAndPaging$$' -fuzztime $(FUZZTIME) ./internal/decisionapi/

$(GOLANGCI_LINT):
	mkdir -p $(TOOLS_DIR)
	tmp="$$(mktemp -d)"; GOBIN="$$tmp" go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION); \
	mv "$$tmp/golangci-lint" $@; rm -rf "$$tmp"

$(CONTROLLER_GEN):
	mkdir -p $(TOOLS_DIR)
	tmp="$$(mktemp -d)"; GOBIN="$$tmp" go install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_TOOLS_VERSION); \
	mv "$$tmp/controller-gen" $@; rm -rf "$$tmp"
