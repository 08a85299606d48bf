#!/bin/sh
# Install what a target needs with apt-get, only when something is missing.
# Usage: deps.sh SET...   (build, check, deb, qemu, bench, fuzz)
#
# Each set is what its target needs and no more; none replaces a package the
# machine's boot depends on, except qemu and bench, whose guests need
# busybox-static (it replaces busybox) and initramfs-tools' mkinitramfs.
set -eu

# Building auto-vfio and listing devices (make, make demo).
build="gcc make libc6-dev pkg-config libpci-dev libkmod-dev zlib1g-dev pci.ids"
# The tests (make check): GNU patch checks the diffs, grub-common's
# grub-script-check and grub-mkconfig_lib the GRUB code, lspci and depmod the
# fake trees, cpio/zstd/xz the initramfs reader, systemd's kernel-install and
# 90-loaderentry the systemd-boot entries (on a Debian system it is there
# already; without systemd-sysv it does not become the init).
check="patch pciutils kmod grub-common cpio zstd xz-utils systemd"
# The Debian package (make deb); dpkg-buildpackage wants build-essential.
deb="build-essential dpkg-dev debhelper fakeroot"
# The QEMU tests (make qemu-check): the guests, their initramfs and disks;
# OVMF for the UEFI guests; busybox-static because the guests' root has no
# shared libraries; lintian checks the package they install, bash-completion
# runs its completion.
qemu="qemu-system-x86 qemu-utils ovmf busybox-static initramfs-tools kmod cpio grub-pc-bin grub-common grub2-common xorriso mtools fdisk e2fsprogs util-linux zstd lintian bash-completion"
bench="pciutils busybox-static"
fuzz="clang libclang-rt-dev" # libFuzzer and the sanitizers' runtimes

want=""
for set in "${@:-build}"; do
	case $set in
	build) want="$want $build" ;;
	check) want="$want $build $check" ;;
	deb) want="$want $build $deb" ;;
	qemu) want="$want $build $deb $qemu" ;;
	bench) want="$want $build $deb $qemu $bench" ;; # the binder and GRUB benchmarks boot guests, make disks
	fuzz) want="$want $build $fuzz" ;;
	*) echo "deps.sh: unknown set '$set' (build, check, deb, qemu, bench, fuzz)" >&2; exit 2 ;;
	esac
done

missing=""
for p in $want; do
	case " $missing " in *" $p "*) continue ;; esac
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
