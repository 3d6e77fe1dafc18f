#!/usr/bin/env bash
# Copies the generated CRDs (config/crd/bases, written by controller-gen) into
# the operator chart (charts/governor/files/crds), byte for byte, and removes
# copies whose CRD no longer exists. The chart's templates/crds.yaml adds the
# Helm labels and the keep policy at render time, so the copies stay plain.
# test/charts fails when the two directories differ. Run by `make manifests`.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="$root/config/crd/bases"
dst="$root/charts/governor/files/crds"

shopt -s nullglob
crds=("$src"/governor.dev_*.yaml)
if (( ${#crds[@]} == 0 )); then
  echo "sync-chart-crds: no CRDs in $src (run 'make manifests')" >&2
  exit 1
fi

mkdir -p "$dst"
for f in "$dst"/*.yaml; do
  [[ -e "$src/$(basename "$f")" ]] || rm -f "$f"
done
for f in "${crds[@]}"; do
  cmp -s "$f" "$dst/$(basename "$f")" || cp "$f" "$dst/$(basename "$f")"
done

# The group-admin admission policy, rendered by templates/admission-policy.yaml.
mkdir -p "$root/charts/governor/files/admission"
cmp -s "$root/config/admission/group-admins.yaml" "$root/charts/governor/files/admission/group-admins.yaml" ||
  cp "$root/config/admission/group-admins.yaml" "$root/charts/governor/files/admission/group-admins.yaml"
