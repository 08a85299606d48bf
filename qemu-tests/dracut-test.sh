#!/bin/sh
# End-to-end test of the dracut module: the real dracut (Debian's dracut-core,
# unpacked into the cache, never installed: it would replace initramfs-tools)
# builds the initramfs for the real Debian kernel with the module 90auto-vfio
# as `make install` puts it, next to the DRM drivers it must beat; QEMU (TCG)
# boots it. The checks read the kernel's `driver` links as the guest reports
# them (qemu-tests/guest-init), never the binder's own messages.
#
#   sh qemu-tests/dracut-test.sh          prepare, boot all scenarios, check
#   QT_JOBS=2 QT_TIMEOUT=150              guests in parallel, seconds per guest
#
# Last line: "N passed, N failed"; exit status 1 if anything failed.
set -eu

QT_WORK=${QT_WORK:-$(cd "$(dirname -- "$0")" && pwd)/work/dracut}
. "$(dirname -- "$0")/lib.sh"

QT_JOBS=${QT_JOBS:-2}
QT_EARLY_PASS="pre-udev hook"
ALL="baseline twin multifn usb late"

# scenario NAME: S_DESC, S_INITRD (full|late), S_CMDLINE, S_VFIO and S_FREE,
# as qt_scenarios (lib.sh) runs and judges them.
scenario() {
	qt_scenario "$1" && return 0
	case $1 in
	multifn)
		S_DESC="multi-function GPU and the qxl card: two groups, one token each"
		S_CMDLINE="intel_iommu=on auto_vfio.bind=$QT_MF_VGA@1234:1111 auto_vfio.bind=$QT_QXL@1b36:0100"
		S_VFIO="$QT_MF_VGA $QT_MF_HDA $QT_QXL"
		;;
	*) qt_die "unknown scenario '$1'" ;;
	esac
}

# ---------------------------------------------------------------- prepare

# Debian's dracut-core, unpacked once into the cache.
dracut_unpack() {
	qt_debs dracut dracut-core
	QT_DRACUT=$QT_DEBS
	QT_DRACUT_VERSION=$(sed -n 's/^DRACUT_VERSION=//p' "$QT_DRACUT/usr/lib/dracut/dracut-version.sh")
}

# dracut_build OUT BASEDIR: the real dracut, from the unpacked tree BASEDIR
# (modules.d holds our module as installed), for the unpacked kernel. The
# module names the binder by its installed path: a private mount namespace
# shows the installed /usr/sbin over the host's, as qt_mkinitramfs does.
# Not hostonly, the shell init (no systemd in the image), the root disk and
# the GPU drivers forced in so that the race is real.
dracut_build() {
	unshare -m sh -eu -c '
		out=$1; base=$2; kdir=$3; kver=$4; destdir=$5; tmp=$6
		mount --make-rprivate /
		mount -t overlay overlay -o "lowerdir=$destdir/usr/sbin:/usr/sbin" /usr/sbin
		dracutbasedir=$base bash "$base/../../bin/dracut" --force --quiet \
			--no-hostonly --no-hostonly-cmdline --no-early-microcode \
			--modules "bash base rootfs-block kernel-modules auto-vfio" \
			--omit "systemd dash plymouth" \
			--add-drivers "ahci sd_mod ext4 bochs qxl virtio-gpu virtio-pci snd-hda-intel snd-hda-codec-generic xhci-pci uhci-hcd" \
			--kmoddir "$kdir/lib/modules/$kver" --tmpdir "$tmp" --compress zstd \
			--conf /dev/null --confdir "$tmp/none" \
			"$out" "$kver"
	' sh "$1" "$2" "$QT_KDIR" "$QT_KVER" "$QT_DESTDIR" "$QT_WORK/tmp" >&2
}

prepare() {
	qt_kernel
	dracut_unpack
	echo "kernel: $QT_KVER; dracut $QT_DRACUT_VERSION (unpacked in qemu-tests/cache, not installed)"
	mkdir -p "$QT_WORK/tmp" "$QT_WORK/tmp/none"
	qt_install_project
	mod=$QT_DESTDIR/usr/lib/dracut/modules.d/90auto-vfio
	[ -e "$mod/module-setup.sh" ] || qt_die "make install put no dracut module at $mod"

	# A private dracut tree per image: the packaged modules plus ours.
	for kind in full late; do
		rm -rf "$QT_WORK/dracut-$kind"
		mkdir -p "$QT_WORK/dracut-$kind/usr"
		cp -a "$QT_DRACUT/usr/lib" "$QT_DRACUT/usr/bin" "$QT_WORK/dracut-$kind/usr/"
		cp -a "$mod" "$QT_WORK/dracut-$kind/usr/lib/dracut/modules.d/"
	done
	# The control image: the same module without its pre-udev hook.
	sed -i '/inst_hook pre-udev/d' "$QT_WORK/dracut-late/usr/lib/dracut/modules.d/90auto-vfio/module-setup.sh"

	for kind in full late; do
		dracut_build "$QT_WORK/initrd-$kind.img" "$QT_WORK/dracut-$kind/usr/lib/dracut"
	done

	qt_guest_rootfs "$QT_WORK/root.img"
}

check_images() {
	full=$(sh "$QT_DRACUT/usr/bin/lsinitrd" "$QT_WORK/initrd-full.img" 2>/dev/null || true)
	if [ -z "$full" ]; then
		full=$(cd "$QT_WORK/tmp" && zstd -dc "$QT_WORK/initrd-full.img" | cpio -it 2>/dev/null)
	fi
	for f in sbin/auto-vfio-bind 'hooks/pre-udev/00-auto-vfio-bind.sh' \
		'hooks/pre-mount/00-auto-vfio-late.sh' vfio-pci.ko vfio_iommu_type1.ko \
		bochs.ko qxl.ko libkmod.so; do
		if echo "$full" | grep -q "$f"; then
			qt_pass "image: initrd-full has $f"
		else
			qt_fail "image: initrd-full lacks $f"
		fi
	done
	# auto-vfio status reads dracut images: point it at a root holding this one.
	r=$QT_WORK/statusroot
	rm -rf "$r"
	mkdir -p "$r/boot" "$r/etc/kernel/postinst.d" "$r/proc/sys/kernel" "$r/sys/bus/pci/devices" \
		"$r/usr/lib/dracut/modules.d/90auto-vfio"
	cp "$QT_WORK/initrd-full.img" "$r/boot/initrd.img-$QT_KVER"
	: >"$r/boot/vmlinuz-$QT_KVER"
	: >"$r/etc/kernel/postinst.d/dracut"
	: >"$r/usr/lib/dracut/modules.d/90auto-vfio/module-setup.sh"
	printf 'version = 1\nmode = static\nselect = %s@1234:1111\n' "$QT_TWIN_B" >"$r/etc/auto-vfio.conf"
	echo "$QT_KVER" >"$r/proc/sys/kernel/osrelease"
	"$QT_SRC/$QT_BUILD/auto-vfio" --root "$r" status >"$QT_WORK/status.out" 2>&1 || true
	if grep -q "initrd.img-$QT_KVER carries the binder, its boot script and vfio-pci" "$QT_WORK/status.out" &&
		grep -q "initramfs by dracut" "$QT_WORK/status.out"; then
		qt_pass "status: reads the dracut image and finds binder, hook and modules"
	else
		qt_fail "status on the dracut image:"
		sed 's/^/| /' "$QT_WORK/status.out"
	fi
	cp "$QT_WORK/initrd-late.img" "$r/boot/initrd.img-$QT_KVER"
	"$QT_SRC/$QT_BUILD/auto-vfio" --root "$r" status >"$QT_WORK/status-late.out" 2>&1 || true
	if grep -q "lacks the pre-udev hook" "$QT_WORK/status-late.out"; then
		qt_pass "status: the image without the pre-udev hook is a problem"
	else
		qt_fail "status on the image without the pre-udev hook:"
		sed 's/^/| /' "$QT_WORK/status-late.out"
	fi
}

# ---------------------------------------------------------------- checks

# scenario_checks N NAME: what scenario N proves beyond the common checks.
scenario_checks() {
	n=$1
	name=$2
	case $n in
	baseline)
		for pair in "$QT_TWIN_A bochs-drm" "$QT_TWIN_B bochs-drm" "$QT_QXL qxl" "$QT_MF_VGA bochs-drm" \
			"$QT_MF_HDA snd_hda_intel" "$QT_XHCI xhci_hcd"; do
			set -- $pair
			qt_expect_driver "$name" "$1" "$2" baseline "$1 is on $2 (the DRM drivers are in the image)"
		done
		;;
	twin)
		qt_expect_driver "$name" "$QT_TWIN_A" bochs-drm twin "identical $QT_TWIN_A keeps bochs-drm"
		;;
	late)
		if grep -aq "^QT-TOUCHED bochs-drm $QT_TWIN_B\$" "$QT_WORK/$name.log"; then
			qt_pass "late: without the pre-udev hook bochs-drm takes $QT_TWIN_B first (the race is real)"
		else
			qt_fail "late: bochs-drm never touched $QT_TWIN_B although nothing ran before udev"
		fi
		;;
	esac
}

# ---------------------------------------------------------------- main

QT_BOOTED="dracut's init mounted the root and handed over"
qt_scenarios dracut "$ALL" "$@"
