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

# ---------------------------------------------------------------- scenarios

ALL="baseline twin multifn mismatch off malformed iommuoff nomods usb late"

# Addresses of the fixed guest layout (qt_qemu_args).
TWIN_A=0000:01:00.0 # bochs-display 1234:1111
TWIN_B=0000:02:00.0 # bochs-display 1234:1111
QXL=0000:03:00.0    # qxl 1b36:0100
VIRTIO=0000:04:00.0 # virtio-gpu 1af4:1050
MF_VGA=0000:05:00.0 # VGA 1234:1111, function 0
MF_HDA=0000:05:00.1 # ich9-intel-hda, function 1
PCIBR=0000:06:00.0  # pcie-pci-bridge
XHCI=0000:07:01.0   # qemu-xhci behind the bridge

# scenario NAME: sets S_DESC, S_INITRD (full|novfio|late), S_CMDLINE, S_VFIO
# (the addresses that must end on vfio-pci) and S_FREE (addresses whose final
# driver the scenario checks itself). Every other device must keep the driver
# it has in the baseline boot.
scenario() {
	S_INITRD=full
	S_VFIO=""
	S_FREE=""
	case $1 in
	baseline)
		S_DESC="no binding requested: every device keeps its driver"
		S_CMDLINE="intel_iommu=on"
		;;
	twin)
		S_DESC="one of two identical cards bound by address"
		S_CMDLINE="intel_iommu=on auto_vfio.bind=$TWIN_B@1234:1111"
		S_VFIO="$TWIN_B"
		;;
	multifn)
		S_DESC="multi-function GPU: display and audio function together"
		S_CMDLINE="intel_iommu=on auto_vfio.bind=$MF_VGA@1234:1111"
		S_VFIO="$MF_VGA $MF_HDA"
		;;
	mismatch)
		S_DESC="right address, wrong vendor:device: nothing bound"
		S_CMDLINE="intel_iommu=on auto_vfio.bind=$QXL@1234:1111"
		;;
	off)
		S_DESC="auto_vfio=off beside a valid bind: nothing bound"
		S_CMDLINE="intel_iommu=on auto_vfio=off auto_vfio.bind=$TWIN_B@1234:1111"
		;;
	malformed)
		S_DESC="malformed tokens and an unknown address beside a valid one"
		S_CMDLINE="intel_iommu=on auto_vfio.bind=bogus,0000:09:00.0@1234:1111,$QXL@1b36:0100 auto_vfio.bind=0:1:2@x auto_vfio.bind="
		S_VFIO="$QXL"
		;;
	iommuoff)
		S_DESC="intel_iommu=off with a bind: nothing left driverless"
		S_CMDLINE="intel_iommu=off auto_vfio.bind=$TWIN_B@1234:1111"
		;;
	nomods)
		S_DESC="initramfs without the vfio modules: boot goes on, driver kept"
		S_INITRD=novfio
		S_CMDLINE="intel_iommu=on auto_vfio.bind=$TWIN_B@1234:1111"
		;;
	usb)
		S_DESC="USB controller behind a pcie-pci-bridge; the bridge stays"
		S_CMDLINE="intel_iommu=on auto_vfio.bind=$XHCI@1b36:000d"
		S_VFIO="$XHCI"
		;;
	late)
		# Control: proves the "no other driver touched it" checks can fail.
		S_DESC="control: init-top script left out, so the DRM driver wins the race"
		S_INITRD=late
		S_CMDLINE="intel_iommu=on auto_vfio.bind=$TWIN_B@1234:1111"
		S_FREE="$TWIN_B"
		;;
	*)
		qt_die "unknown scenario '$1'"
		;;
	esac
}

# ---------------------------------------------------------------- one boot

# Run by xargs in a child: boot one scenario, keep its log.
if [ "${1:-}" = "--boot" ]; then
	scenario "$2"
	qt_kernel >/dev/null
	qt_boot "bind-$2" "$QT_WORK/initrd-$S_INITRD.img" "$QT_WORK/root.img" "$S_CMDLINE"
	exit 0
fi

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

	qt_rootfs_skel "$QT_WORK/rootdir"
	install -m 0755 "$QT_DIR/guest-init" "$QT_WORK/rootdir/sbin/init"
	qt_rootfs "$QT_WORK/root.img" "$QT_WORK/rootdir"
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

in_list() {
	case " $2 " in *" $1 "*) return 0 ;; esac
	return 1
}

check_scenario() {
	n=$1
	name=bind-$n
	scenario "$n"
	t=$(cat "$QT_WORK/$name.time" 2>/dev/null || echo "?")
	up=$(grep -a '^QT-UPTIME' "$QT_WORK/$name.log" | cut -d' ' -f2)
	echo "== $n: $S_DESC"
	echo "   cmdline: $S_CMDLINE   initramfs: $S_INITRD"
	echo "   boot: ${t}s wall, ${up:-?}s guest uptime at report"
	grep -a '^QT-KMSG' "$QT_WORK/$name.log" | sed 's/^QT-KMSG /   kmsg: /' | head -n 12 || true
	failed_before=$QT_FAILED

	if ! qt_report_ok "$name"; then
		qt_fail "$n: guest never reached the root file system's init (timeout ${QT_TIMEOUT}s or panic)"
		qt_tail "$name"
		return 0
	fi
	qt_pass "$n: boot continued to the root file system"

	# The kernel's own view of the command line must be what we asked for.
	if grep -aq "^QT-CMDLINE .*$S_CMDLINE\$" "$QT_WORK/$name.log"; then
		:
	else
		qt_fail "$n: /proc/cmdline does not end with the scenario's arguments"
	fi

	for a in $S_VFIO; do
		d=$(qt_driver "$name" "$a")
		if [ "$d" = vfio-pci ]; then
			qt_pass "$n: $a is on vfio-pci"
		else
			qt_fail "$n: $a is on '$d', expected vfio-pci"
		fi
		# Early means before any other driver: only the PCI core and
		# vfio-pci may ever have logged about this device.
		others=$(grep -a "^QT-TOUCHED [^ ]* $a\$" "$QT_WORK/$name.log" | cut -d' ' -f2 |
			grep -v -x -e pci -e vfio-pci | tr '\n' ' ' || true)
		if [ -z "$others" ]; then
			qt_pass "$n: no other driver ever touched $a"
		else
			qt_fail "$n: $a was first taken by: $others"
		fi
		g=$(qt_group "$name" "$a")
		if grep -a '^QT-VFIO' "$QT_WORK/$name.log" | tr ' ' '\n' | grep -qx "$g"; then
			qt_pass "$n: /dev/vfio/$g exists for $a's group"
		else
			qt_fail "$n: /dev/vfio/$g missing for $a ($(grep -a '^QT-VFIO' "$QT_WORK/$name.log"))"
		fi
	done

	# Everything else exactly as in the baseline boot: no DRM driver lost, no
	# bridge touched, nothing driverless, nothing else on vfio-pci.
	changed=""
	for a in $(grep -a '^QT-DEV ' "$QT_WORK/bind-baseline.log" | cut -d' ' -f2); do
		in_list "$a" "$S_VFIO $S_FREE" && continue
		want=$(qt_driver bind-baseline "$a")
		got=$(qt_driver "$name" "$a")
		[ "$want" = "$got" ] || changed="$changed $a:$want->$got"
	done
	if [ -z "$changed" ]; then
		qt_pass "$n: every other device keeps its baseline driver"
	else
		qt_fail "$n: drivers changed:$changed"
	fi

	if [ -z "$S_VFIO$S_FREE" ]; then
		groups=$(grep -a '^QT-VFIO' "$QT_WORK/$name.log" | tr ' ' '\n' | grep -x '[0-9][0-9]*' || true)
		if [ -z "$groups" ]; then
			qt_pass "$n: no /dev/vfio group node"
		else
			qt_fail "$n: unexpected /dev/vfio groups: $(echo $groups)"
		fi
	fi

	case $n in
	usb)
		d=$(qt_driver "$name" "$PCIBR")
		if [ "$d" != vfio-pci ] && [ "$(qt_group "$name" "$PCIBR")" = "$(qt_group "$name" "$XHCI")" ]; then
			qt_pass "usb: bridge $PCIBR shares the group and stays off vfio-pci (driver '$d')"
		else
			qt_fail "usb: bridge $PCIBR on '$d' (group $(qt_group "$name" "$PCIBR") vs $(qt_group "$name" "$XHCI"))"
		fi
		;;
	twin)
		d=$(qt_driver "$name" "$TWIN_A")
		if [ "$d" = bochs-drm ]; then
			qt_pass "twin: identical $TWIN_A keeps bochs-drm"
		else
			qt_fail "twin: identical $TWIN_A is on '$d', expected bochs-drm"
		fi
		;;
	iommuoff)
		if [ "$(qt_group "$name" "$TWIN_B")" = - ]; then
			qt_pass "iommuoff: the guest really has no IOMMU groups"
		else
			qt_fail "iommuoff: $TWIN_B has IOMMU group $(qt_group "$name" "$TWIN_B") with intel_iommu=off"
		fi
		;;
	late)
		touched=$(grep -a "^QT-TOUCHED bochs-drm $TWIN_B\$" "$QT_WORK/$name.log" || true)
		if [ -n "$touched" ]; then
			qt_pass "late: without the init-top pass bochs-drm takes $TWIN_B first (the race is real)"
		else
			qt_fail "late: bochs-drm never touched $TWIN_B although nothing ran before udev"
		fi
		d=$(qt_driver "$name" "$TWIN_B")
		case $d in
		- | \?) qt_fail "late: $TWIN_B left driverless ('$d') by the later pass" ;;
		*) qt_pass "late: $TWIN_B ends on '$d', not driverless" ;;
		esac
		;;
	baseline)
		for pair in "$TWIN_A bochs-drm" "$TWIN_B bochs-drm" "$QXL qxl" "$VIRTIO virtio-pci" \
			"$MF_VGA bochs-drm" "$MF_HDA snd_hda_intel" "$XHCI xhci_hcd"; do
			set -- $pair
			d=$(qt_driver "$name" "$1")
			if [ "$d" = "$2" ]; then
				qt_pass "baseline: $1 is on $2 (the race is real)"
			else
				qt_fail "baseline: $1 is on '$d', expected $2"
			fi
		done
		;;
	esac
	[ "$QT_FAILED" = "$failed_before" ] || qt_tail "$name"
	return 0
}

# ---------------------------------------------------------------- main

list=$ALL
if [ -n "${QT_ONLY:-}" ]; then
	list="baseline"
	for n in $QT_ONLY; do [ "$n" = baseline ] || list="$list $n"; done
fi
for n in $list; do scenario "$n"; done

t0=$(date +%s)
prepare
t1=$(date +%s)
echo "prepared kernel, 3 initramfs images and root disk in $((t1 - t0))s"
check_images

for n in $list; do rm -f "$QT_WORK/bind-$n.log" "$QT_WORK/bind-$n.time"; done
printf '%s\n' $list | xargs -P "$QT_JOBS" -n 1 sh "$0" --boot
t2=$(date +%s)
echo "booted $(echo $list | wc -w) guests, $QT_JOBS at a time, in $((t2 - t1))s"

echo "guest PCI devices (baseline boot, from sysfs):"
grep -a '^QT-DEV ' "$QT_WORK/bind-baseline.log" | sed 's/^QT-DEV /   /' || true

for n in $list; do check_scenario "$n"; done
qt_summary
[ "$QT_FAILED" = 0 ]
