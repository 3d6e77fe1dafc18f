#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager and etcd from the Go module
# proxy and caches them outside the clone, keyed by version. Prints the
# directory holding the binaries (use it as KUBEBUILDER_ASSETS).
#
# The Kubernetes version follows k8s.io/api in go.mod (v0.Y.Z -> v1.Y.Z); the
# etcd version is the one Kubernetes' own go.mod pins. k8s.io/kubernetes is not
# meant to be used as a module: its go.mod replaces every k8s.io/<staging>
# module with a local path, so a throwaway module requires it and replaces each
# of those with its published v0.Y.Z instead.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
api_version="$(cd "$root" && go list -m -f '{{.Version}}' k8s.io/api)"
k8s_version="v1.${api_version#v0.}"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/governor"
goos="$(go env GOOS)"
goarch="$(go env GOARCH)"
out="$cache/k8s/${k8s_version}-${goos}-${goarch}"

if [[ -x "$out/kube-apiserver" && -x "$out/etcd" && -x "$out/kube-controller-manager" ]]; then
  echo "$out"
  exit 0
fi

log() { echo "build-control-plane: $*" >&2; }

# One build at a time: a second caller (another test run, another clone)
# waits for the first and then finds the binaries.
mkdir -p "$cache/k8s"
exec 9>"$cache/k8s/.build.lock"
if ! flock -n 9; then
  log "another build of the control plane is running; waiting for it"
  flock 9
fi
if [[ -x "$out/kube-apiserver" && -x "$out/etcd" && -x "$out/kube-controller-manager" ]]; then
  echo "$out"
  exit 0
fi
work="$(mktemp -d "${TMPDIR:-/tmp}/governor-control-plane.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"

# --- Kubernetes ------------------------------------------------------------
log "building kube-apiserver and kube-controller-manager $k8s_version (first time: 15-25 minutes on 2 cores)"
k8s_mod="$(go mod download -json "k8s.io/kubernetes@${k8s_version}" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
mkdir -p "$work/k8s"
{
  echo "module governor.dev/control-plane-build"
  echo
  echo "go $(sed -n 's/^go //p' "$k8s_mod")"
  echo
  grep '^godebug' "$k8s_mod" || true
  echo
  echo "require k8s.io/kubernetes ${k8s_version}"
  echo
  echo "replace ("
  # Every staging module Kubernetes requires as v0.0.0, at its published version.
  grep -E '^\s+k8s\.io/[a-z0-9-]+ v0\.0\.0$' "$k8s_mod" | awk -v v="$api_version" '{print "\t" $1 " => " $1 " " v}'
  echo ")"
} > "$work/k8s/go.mod"
(
  cd "$work/k8s"
  cat > tools.go <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
)
GO
  GOFLAGS=-mod=mod go mod tidy >&2
  ldflags="-s -w -X k8s.io/component-base/version.gitVersion=${k8s_version} -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$(echo "$k8s_version" | cut -d. -f2)"
  CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$out/kube-apiserver.tmp" k8s.io/kubernetes/cmd/kube-apiserver
  mv "$out/kube-apiserver.tmp" "$out/kube-apiserver"
  log "kube-apiserver done"
  CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$out/kube-controller-manager.tmp" k8s.io/kubernetes/cmd/kube-controller-manager
  mv "$out/kube-controller-manager.tmp" "$out/kube-controller-manager"
  log "kube-controller-manager done"
)

# --- etcd ------------------------------------------------------------------
etcd_version="$(grep -E 'go\.etcd\.io/etcd/server/v3 ' "$k8s_mod" | awk '{print $2}')"
log "building etcd $etcd_version"
mkdir -p "$work/etcd"
(
  cd "$work/etcd"
  cat > go.mod <<MOD
module governor.dev/etcd-build

go 1.26

require (
	go.etcd.io/etcd/server/v3 ${etcd_version}
	go.etcd.io/etcd/api/v3 ${etcd_version}
	go.etcd.io/etcd/client/pkg/v3 ${etcd_version}
	go.etcd.io/etcd/client/v3 ${etcd_version}
	go.etcd.io/etcd/pkg/v3 ${etcd_version}
)
MOD
  cat > tools.go <<'GO'
//go:build tools

package tools

import _ "go.etcd.io/etcd/server/v3"
GO
  GOFLAGS=-mod=mod go mod tidy >&2
  CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$out/etcd.tmp" go.etcd.io/etcd/server/v3
  mv "$out/etcd.tmp" "$out/etcd"
)
log "etcd done"
echo "$out"
