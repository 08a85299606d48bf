#!/bin/sh
# make demo: `auto-vfio list` on this machine, then on the bundled sample
# machine (samples/), which also works where the IOMMU is off or missing.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) build=$BUILD ;; *) build=$top/$BUILD ;; esac
sample=$top/samples/b550-rx550-rx6950xt.txt

make -C "$top" -s BUILD="$BUILD" "$BUILD/auto-vfio" "$BUILD/tests/fixture2sysfs" >/dev/null

echo "=== this machine: auto-vfio list"
# no IOMMU here is a finding, not a failure of the demo
"$build/auto-vfio" list || echo "(auto-vfio list exited with status $?)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/auto-vfio-demo.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
"$build/tests/fixture2sysfs" "$sample" "$tmp/machine"

echo
echo "=== sample machine ($(basename "$sample")): auto-vfio --root TREE list"
"$build/auto-vfio" --root "$tmp/machine" list
echo
echo "=== the same as JSON: auto-vfio --root TREE list --json"
"$build/auto-vfio" --root "$tmp/machine" list --json
