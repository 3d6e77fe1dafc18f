#!/usr/bin/env bash
# Builds promtool (Prometheus' rule checker and unit tester) from the Go
# module proxy and caches it outside the clone, keyed by version, with the
# other tools. Prints the path of the binary (use it as PROMTOOL).
#
# Prometheus v3.x is published to the module proxy as v0.3xx.y
# (v0.316.0 is Prometheus 3.16.0). The module has no replace directives, so
# `go install pkg@version` works; it is run from a throwaway directory so that
# this repository's go.mod does not take part. It is built with
# remove_all_sd, Prometheus' own build tag that leaves out the service
# discovery plugins (cloud SDKs): checking and unit-testing rules needs none,
# and the build is several times smaller.
set -euo pipefail

PROMTOOL_VERSION="${PROMTOOL_VERSION:-v0.316.0}"
tools="${XDG_CACHE_HOME:-$HOME/.cache}/governor/tools"
bin="$tools/promtool-${PROMTOOL_VERSION}"

if [[ -x "$bin" ]]; then
  echo "$bin"
  exit 0
fi

log() { echo "install-promtool: $*" >&2; }
work="$(mktemp -d "${TMPDIR:-/tmp}/governor-promtool.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir -p "$tools"

log "building promtool $PROMTOOL_VERSION (first time: a few minutes)"
(
  cd "$work"
  # GOFLAGS from the caller (e.g. -mod=vendor) would not apply to a module
  # outside this repository.
  GOFLAGS= CGO_ENABLED=0 GOBIN="$work/bin" go install -trimpath -tags remove_all_sd -ldflags "-s -w" \
    "github.com/prometheus/prometheus/cmd/promtool@${PROMTOOL_VERSION}" >&2
)
mv "$work/bin/promtool" "$bin.tmp"
mv "$bin.tmp" "$bin"
log "promtool done"
echo "$bin"
