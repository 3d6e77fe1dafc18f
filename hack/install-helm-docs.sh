#!/usr/bin/env bash
# Builds helm-docs (the chart README generator) from the Go module proxy and
# caches it outside the clone, keyed by version, with the other tools. Prints
# the path of the binary.
#
# It is built from a throwaway directory so that this repository's go.mod does
# not take part.
set -euo pipefail

HELM_DOCS_VERSION="${HELM_DOCS_VERSION:-v1.14.2}"
tools="${XDG_CACHE_HOME:-$HOME/.cache}/governor/tools"
bin="$tools/helm-docs-${HELM_DOCS_VERSION}"

if [[ -x "$bin" ]]; then
  echo "$bin"
  exit 0
fi

log() { echo "install-helm-docs: $*" >&2; }
work="$(mktemp -d "${TMPDIR:-/tmp}/governor-helm-docs.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir -p "$tools"

log "building helm-docs $HELM_DOCS_VERSION (first time: about a minute)"
(
  cd "$work"
  # GOFLAGS from the caller (e.g. -mod=vendor) would not apply to a module
  # outside this repository.
  GOFLAGS= CGO_ENABLED=0 GOBIN="$work/bin" go install -trimpath -ldflags "-s -w" \
    "github.com/norwoodj/helm-docs/cmd/helm-docs@${HELM_DOCS_VERSION}" >&2
)
mv "$work/bin/helm-docs" "$bin.tmp"
mv "$bin.tmp" "$bin"
log "helm-docs done"
echo "$bin"
