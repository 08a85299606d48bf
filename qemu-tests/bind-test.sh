#!/bin/sh
# End-to-end test of early binding: the real Debian kernel boots in QEMU
# (TCG) with an initramfs made by the real mkinitramfs, carrying our hook,
# our init-top script and the binder, next to the DRM drivers it must beat.
# Each scenario is one boot with its own kernel command line; the checks read
# the kernel's `driver` links as the guest reports them, never the binder's
# own messages.
#
#   sh qemu-tests/bind-test.sh            prepare, boot all scenarios, check
#   QT_JOBS=2 QT_TIMEOUT=150              guests in parallel, seconds per guest
#   QT_ONLY="twin usb"                    boot only these scenarios (+ baseline)
#
# Last line: "N passed, N failed"; exit status 1 if anything failed.
set -eu

QT_WORK=${QT_WORK:-$(cd "$(dirname -- "$0")" && pwd)/work/bind}
. "$(dirname -- "$0")/lib.sh"

QT_JOBS=${QT_JOBS:-2}
QT_EARLY_PASS="init-top script"

# ---------------------------------------------------------------- scenarios

ALL="baseline twin multifn mismatch off malformed iommuoff nomods usb late"

# scenario NAME: S_DESC, S_INITRD (full|novfio|late), S_CMDLINE, S_VFIO and
# S_FREE, as qt_scenarios (lib.sh) runs and judges them.
scenario() {
	qt_scenario "$1" && return 0
	case $1 in
	multifn)
		S_DESC="multi-function GPU: display and audio function together"
		S_CMDLINE="intel_iommu=on auto_vfio.bind=$QT_MF_VGA@1234:1111"
		S_VFIO="$QT_MF_VGA $QT_MF_HDA"
		;;
	mismatch)
		S_DESC="right address, wrong vendor:device: nothing bound"
		S_CMDLINE="intel_iommu=on auto_vfio.bind=$QT_QXL@1234:1111"
		;;
	off)
		S_DESC="auto_vfio=off beside a valid bind: nothing bound"
		S_CMDLINE="intel_iommu=on auto_vfio=off auto_vfio.bind=$QT_TWIN_B@1234:1111"
		;;
	malformed)
		S_DESC="malformed tokens and an unknown address beside a valid one"
		S_CMDLINE="intel_iommu=on auto_vfio.bind=bogus,0000:09:00.0@1234:1111,$QT_QXL@1b36:0100 auto_vfio.bind=0:1:2@x auto_vfio.bind="
		S_VFIO="$QT_QXL"
		;;
	iommuoff)
		S_DESC="intel_iommu=off with a bind: nothing left driverless"
		S_CMDLINE="intel_iommu=off auto_vfio.bind=$QT_TWIN_B@1234:1111"
		;;
	nomods)
		S_DESC="initramfs without the vfio modules: boot goes on, driver kept"
		S_INITRD=novfio
		S_CMDLINE="intel_iommu=on auto_vfio.bind=$QT_TWIN_B@1234:1111"
		;;
	*)
		qt_die "unknown scenario '$1'"
		;;
	esac
}

# ---------------------------------------------------------------- prepare

prepare() {
	qt_kernel
	echo "kernel: $QT_KVER (unpacked in qemu-tests/cache, not installed)"
	mkdir -p "$QT_WORK"
	qt_install_project
	[ -x "$QT_DESTDIR/usr/sbin/auto-vfio-bind" ] ||
		qt_log "qemu-tests: warning: the build installed no auto-vfio-bind"

	# Full image: our hook adds the binder and the vfio modules.
	qt_confdir "$QT_WORK/conf-full"
	qt_mkinitramfs "$QT_WORK/initrd-full.img" "$QT_WORK/conf-full"

	# Same image, then the vfio modules taken out again after every other
	# hook ran (conf-dir hooks run after the packaged ones, depmod after all).
	qt_confdir "$QT_WORK/conf-novfio"
	cat >"$QT_WORK/conf-novfio/hooks/zz-drop-vfio" <<-'EOF'
		#!/bin/sh
		[ "${1:-}" = prereqs ] && exit 0
		find "${DESTDIR}" -name 'vfio*.ko*' -exec rm -f {} +
		exit 0
	EOF
	chmod 755 "$QT_WORK/conf-novfio/hooks/zz-drop-vfio"
	qt_mkinitramfs "$QT_WORK/initrd-novfio.img" "$QT_WORK/conf-novfio"

	# The same image without our init-top script (scripts are copied before
	# the hooks run, ORDER files are written after them).
	qt_confdir "$QT_WORK/conf-late"
	cat >"$QT_WORK/conf-late/hooks/zz-drop-init-top" <<-'EOF'
		#!/bin/sh
		[ "${1:-}" = prereqs ] && exit 0
		rm -f "${DESTDIR}/scripts/init-top/auto-vfio"
		exit 0
	EOF
	chmod 755 "$QT_WORK/conf-late/hooks/zz-drop-init-top"
	qt_mkinitramfs "$QT_WORK/initrd-late.img" "$QT_WORK/conf-late"

	qt_guest_rootfs "$QT_WORK/root.img"
}

# What the images hold decides what the boots can prove: check it first.
check_images() {
	full=$(lsinitramfs "$QT_WORK/initrd-full.img")
	novfio=$(lsinitramfs "$QT_WORK/initrd-novfio.img")
	for f in sbin/auto-vfio-bind scripts/init-top/auto-vfio vfio-pci.ko bochs.ko qxl.ko; do
		if echo "$full" | grep -q "$f"; then
			qt_pass "image: initrd-full has $f"
		else
			qt_fail "image: initrd-full lacks $f"
		fi
	done
	if echo "$novfio" | grep -q 'vfio.*\.ko'; then
		qt_fail "image: initrd-novfio still has vfio modules"
	else
		qt_pass "image: initrd-novfio has no vfio modules"
	fi
	# init-top order: ours must run before udev starts.
	order=$(unmkinitramfs_order)
	case "$order" in
	*auto-vfio*udev*) qt_pass "image: init-top runs auto-vfio before udev ($order)" ;;
	*) qt_fail "image: init-top order is '$order' (auto-vfio must come before udev)" ;;
	esac
}

# The init-top ORDER file mkinitramfs generated, as one line.
unmkinitramfs_order() {
	t=$(mktemp -d)
	unmkinitramfs "$QT_WORK/initrd-full.img" "$t" >/dev/null 2>&1 || true
	o=$(find "$t" -path '*scripts/init-top/ORDER' | head -n 1)
	if [ -n "$o" ]; then
		sed -n 's|^/scripts/init-top/\([^ ]*\).*|\1|p' "$o" | tr '\n' ' '
	fi
	rm -rf "$t"
}

# ---------------------------------------------------------------- checks

# record NAME yes|no: whether the init-top pass left its record in /run, and
# that it holds the number of PCI devices the guest has.
record() {
	rec=$(sed -n 's/^QT-RECORD //p' "$QT_WORK/$1.log" | tr -d '\r')
	ndev=$(grep -ac '^QT-DEV ' "$QT_WORK/$1.log")
	if [ "$2" = yes ] && [ "$rec" = "$ndev" ]; then
		qt_pass "$1: the init-top pass recorded its complete work ($ndev PCI devices)"
	elif [ "$2" = no ] && [ "$rec" = none ]; then
		qt_pass "$1: no record: the init-top pass had not bound everything"
	else
		qt_fail "$1: record '$rec' (expected $2; $ndev PCI devices)"
	fi
}

# scenario_checks N NAME: what scenario N proves beyond the common checks.
scenario_checks() {
	n=$1
	name=$2
	case $n in
	twin | multifn | usb) record "$name" yes ;;
	mismatch | malformed | off | iommuoff | nomods) record "$name" no ;;
	esac
	case $n in
	usb)
		d=$(qt_driver "$name" "$QT_PCIBR")
		if [ "$d" != vfio-pci ] && [ "$(qt_group "$name" "$QT_PCIBR")" = "$(qt_group "$name" "$QT_XHCI")" ]; then
			qt_pass "usb: bridge $QT_PCIBR shares the group and stays off vfio-pci (driver '$d')"
		else
			qt_fail "usb: bridge $QT_PCIBR on '$d' (group $(qt_group "$name" "$QT_PCIBR") vs $(qt_group "$name" "$QT_XHCI"))"
		fi
		;;
	twin)
		qt_expect_driver "$name" "$QT_TWIN_A" bochs-drm twin "identical $QT_TWIN_A keeps bochs-drm"
		;;
	iommuoff)
		if [ "$(qt_group "$name" "$QT_TWIN_B")" = - ]; then
			qt_pass "iommuoff: the guest really has no IOMMU groups"
		else
			qt_fail "iommuoff: $QT_TWIN_B has IOMMU group $(qt_group "$name" "$QT_TWIN_B") with intel_iommu=off"
		fi
		;;
	late)
		touched=$(grep -a "^QT-TOUCHED bochs-drm $QT_TWIN_B\$" "$QT_WORK/$name.log" || true)
		if [ -n "$touched" ]; then
			qt_pass "late: without the init-top pass bochs-drm takes $QT_TWIN_B first (the race is real)"
		else
			qt_fail "late: bochs-drm never touched $QT_TWIN_B although nothing ran before udev"
		fi
		d=$(qt_driver "$name" "$QT_TWIN_B")
		case $d in
		- | \?) qt_fail "late: $QT_TWIN_B left driverless ('$d') by the later pass" ;;
		*) qt_pass "late: $QT_TWIN_B ends on '$d', not driverless" ;;
		esac
		;;
	baseline)
		for pair in "$QT_TWIN_A bochs-drm" "$QT_TWIN_B bochs-drm" "$QT_QXL qxl" "$QT_VIRTIO virtio-pci" \
			"$QT_MF_VGA bochs-drm" "$QT_MF_HDA snd_hda_intel" "$QT_XHCI xhci_hcd"; do
			set -- $pair
			qt_expect_driver "$name" "$1" "$2" baseline "$1 is on $2 (the race is real)"
		done
		;;
	esac
}

# ---------------------------------------------------------------- main

list=$ALL
if [ -n "${QT_ONLY:-}" ]; then
	list="baseline"
	for n in $QT_ONLY; do [ "$n" = baseline ] || list="$list $n"; done
fi
QT_BOOTED="boot continued to the root file system"
QT_VFIO_NODES=1
qt_scenarios bind "$list" "$@"
