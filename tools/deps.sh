#!/bin/sh
# Install what a target needs with apt-get, only when something is missing.
# Usage: deps.sh build|qemu|bench|fuzz
set -eu

build="gcc make patch xz-utils pkg-config libpci-dev libkmod-dev zlib1g-dev pci.ids pciutils kmod grub-common busybox-static cpio initramfs-tools zstd"
qemu="qemu-system-x86 qemu-utils busybox-static initramfs-tools kmod cpio grub-pc-bin grub-common grub2-common xorriso mtools fdisk e2fsprogs util-linux zstd dpkg-dev libc6-dev"
bench="pciutils busybox-static"
fuzz="clang libclang-rt-dev" # libFuzzer and the sanitizers' runtimes

case "${1:-build}" in
build) want=$build ;;
qemu) want="$build $qemu" ;;
bench) want="$build $qemu $bench" ;; # the binder and GRUB benchmarks boot guests, make disks
fuzz) want="$build $fuzz" ;;
*) echo "deps.sh: unknown set '$1' (build, qemu, bench, fuzz)" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in
	*" installed") ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: missing packages:$missing" >&2
	echo "deps.sh: run as root, or: sudo apt-get install$missing" >&2
	exit 1
fi
echo "deps.sh: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# A stale or empty package list makes installs fail on a fresh machine.
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends $missing >&2
