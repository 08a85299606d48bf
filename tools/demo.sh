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
echo "=== the same as JSON (excerpt: one group of a GPU): auto-vfio --root TREE list --json"
"$build/auto-vfio" --root "$tmp/machine" list --json >"$tmp/list.json"
# A group's lines run from its {"id": line to its "safe": line.
awk '
	NR == 1 { print; next }
	/^  \{"id": / { block = $0; gpu = 0; next }
	block != "" { block = block "\n" $0 }
	/"gpu": true/ { gpu = 1 }
	/^   "safe": true/ && gpu && !done { print "  ..."; print block; print "  ...]}"; done = 1 }
	/^   "safe": / { block = "" }
' "$tmp/list.json"
echo "($(wc -l <"$tmp/list.json") lines in all)"

cat <<'NEXT'

=== next, on a real machine with the IOMMU on (as root, or with sudo)
  make install            # programs in /usr/local/sbin, hooks for initramfs-tools and GRUB
                          # or: make deb && apt install ./build/deb/auto-vfio_*.deb
  auto-vfio list          # your groups and what is unsafe to pass through
  auto-vfio setup --dry-run   # what setup would write, as a diff
  auto-vfio setup         # asks the mode and the groups, shows every change before writing
  auto-vfio uninstall     # puts every file back
See README.md and man/auto-vfio.8.
NEXT
