#!/usr/bin/env bash
# Builds Helm v4 from the Go module proxy and caches it outside the clone,
# keyed by version. Prints the path of the helm binary (use it as HELM).
#
# helm.sh/helm/v4 has no replace directives, so `go install pkg@version` works;
# it is run from a throwaway directory so that this repository's go.mod does
# not take part. The version is stamped with the same -X flags Helm's own
# Makefile uses, so `helm version` reports it.
set -euo pipefail

HELM_VERSION="${HELM_VERSION:-v4.3.1}"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/governor"
out="$cache/helm/${HELM_VERSION}"
bin="$out/helm"

if [[ -x "$bin" ]]; then
  echo "$bin"
  exit 0
fi

log() { echo "install-helm: $*" >&2; }
work="$(mktemp -d "${TMPDIR:-/tmp}/governor-helm.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"

log "building helm $HELM_VERSION (first time: a few minutes)"
ldflags="-s -w -X helm.sh/helm/v4/internal/version.version=${HELM_VERSION} -X helm.sh/helm/v4/internal/version.metadata= -X helm.sh/helm/v4/internal/version.gitTreeState=clean"
(
  cd "$work"
  # GOFLAGS from the caller (e.g. -mod=vendor) would not apply to a module
  # outside this repository.
  GOFLAGS= CGO_ENABLED=0 GOBIN="$work/bin" go install -trimpath -ldflags "$ldflags" "helm.sh/helm/v4/cmd/helm@${HELM_VERSION}" >&2
)
mv "$work/bin/helm" "$bin.tmp"
mv "$bin.tmp" "$bin"
log "helm done"
echo "$bin"
