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
ALL="baseline twin multifn usb late"

TWIN_A=0000:01:00.0 # bochs-display 1234:1111
TWIN_B=0000:02:00.0 # bochs-display 1234:1111
QXL=0000:03:00.0    # qxl 1b36:0100
MF_VGA=0000:05:00.0 # VGA 1234:1111, function 0
MF_HDA=0000:05:00.1 # ich9-intel-hda, function 1
XHCI=0000:07:01.0   # qemu-xhci behind a pcie-pci-bridge

# scenario NAME: S_DESC, S_INITRD (full|late), S_CMDLINE, S_VFIO (must end on
# vfio-pci), S_FREE (checked by the scenario itself); every other device must
# keep its baseline driver.
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
		S_DESC="multi-function GPU and the qxl card: two groups, one token each"
		S_CMDLINE="intel_iommu=on auto_vfio.bind=$MF_VGA@1234:1111 auto_vfio.bind=$QXL@1b36:0100"
		S_VFIO="$MF_VGA $MF_HDA $QXL"
		;;
	usb)
		S_DESC="USB controller behind a pcie-pci-bridge; the bridge stays"
		S_CMDLINE="intel_iommu=on auto_vfio.bind=$XHCI@1b36:000d"
		S_VFIO="$XHCI"
		;;
	late)
		# Control: proves the "no other driver touched it" check can fail.
		S_DESC="control: pre-udev hook left out, so the DRM driver wins the race"
		S_INITRD=late
		S_CMDLINE="intel_iommu=on auto_vfio.bind=$TWIN_B@1234:1111"
		S_FREE="$TWIN_B"
		;;
	*) qt_die "unknown scenario '$1'" ;;
	esac
}

if [ "${1:-}" = "--boot" ]; then
	scenario "$2"
	qt_kernel >/dev/null
	qt_boot "dracut-$2" "$QT_WORK/initrd-$S_INITRD.img" "$QT_WORK/root.img" "$S_CMDLINE"
	exit 0
fi

# ---------------------------------------------------------------- prepare

# Debian's dracut-core, unpacked once into the cache.
dracut_unpack() {
	QT_DRACUT=$QT_CACHE/dracut
	if [ ! -e "$QT_DRACUT/.done" ]; then
		qt_log "qemu-tests: fetching dracut-core (once; cached in qemu-tests/cache)"
		rm -rf "$QT_DRACUT" "$QT_CACHE/dracut-deb"
		mkdir -p "$QT_CACHE/dracut-deb" "$QT_DRACUT"
		(cd "$QT_CACHE/dracut-deb" && apt-get download -q dracut-core >&2)
		dpkg -x "$QT_CACHE"/dracut-deb/dracut-core_*.deb "$QT_DRACUT"
		rm -rf "$QT_CACHE/dracut-deb"
		touch "$QT_DRACUT/.done"
	fi
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

	qt_rootfs_skel "$QT_WORK/rootdir"
	install -m 0755 "$QT_DIR/guest-init" "$QT_WORK/rootdir/sbin/init"
	qt_rootfs "$QT_WORK/root.img" "$QT_WORK/rootdir"
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
	printf 'version = 1\nmode = static\nselect = %s@1234:1111\n' "$TWIN_B" >"$r/etc/auto-vfio.conf"
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

in_list() {
	case " $2 " in *" $1 "*) return 0 ;; esac
	return 1
}

check_scenario() {
	n=$1
	name=dracut-$n
	scenario "$n"
	t=$(cat "$QT_WORK/$name.time" 2>/dev/null || echo "?")
	echo "== $n: $S_DESC"
	echo "   cmdline: $S_CMDLINE   initramfs: $S_INITRD   boot: ${t}s wall"
	failed_before=$QT_FAILED
	if ! qt_report_ok "$name"; then
		qt_fail "$n: guest never reached the root file system's init (timeout ${QT_TIMEOUT}s or panic)"
		qt_tail "$name"
		return 0
	fi
	qt_pass "$n: dracut's init mounted the root and handed over"
	for a in $S_VFIO; do
		d=$(qt_driver "$name" "$a")
		if [ "$d" = vfio-pci ]; then
			qt_pass "$n: $a is on vfio-pci"
		else
			qt_fail "$n: $a is on '$d', expected vfio-pci"
		fi
		others=$(grep -a "^QT-TOUCHED [^ ]* $a\$" "$QT_WORK/$name.log" | cut -d' ' -f2 |
			grep -v -x -e pci -e vfio-pci | tr '\n' ' ' || true)
		if [ -z "$others" ]; then
			qt_pass "$n: no other driver ever touched $a"
		else
			qt_fail "$n: $a was first taken by: $others"
		fi
	done
	changed=""
	for a in $(grep -a '^QT-DEV ' "$QT_WORK/dracut-baseline.log" | cut -d' ' -f2); do
		in_list "$a" "$S_VFIO $S_FREE" && continue
		want=$(qt_driver dracut-baseline "$a")
		got=$(qt_driver "$name" "$a")
		[ "$want" = "$got" ] || changed="$changed $a:$want->$got"
	done
	if [ -z "$changed" ]; then
		qt_pass "$n: every other device keeps its baseline driver"
	else
		qt_fail "$n: drivers changed:$changed"
	fi
	case $n in
	baseline)
		for pair in "$TWIN_A bochs-drm" "$TWIN_B bochs-drm" "$QXL qxl" "$MF_VGA bochs-drm" \
			"$MF_HDA snd_hda_intel" "$XHCI xhci_hcd"; do
			set -- $pair
			d=$(qt_driver "$name" "$1")
			if [ "$d" = "$2" ]; then
				qt_pass "baseline: $1 is on $2 (the DRM drivers are in the image)"
			else
				qt_fail "baseline: $1 is on '$d', expected $2"
			fi
		done
		;;
	twin)
		d=$(qt_driver "$name" "$TWIN_A")
		if [ "$d" = bochs-drm ]; then
			qt_pass "twin: identical $TWIN_A keeps bochs-drm"
		else
			qt_fail "twin: identical $TWIN_A is on '$d', expected bochs-drm"
		fi
		;;
	late)
		if grep -aq "^QT-TOUCHED bochs-drm $TWIN_B\$" "$QT_WORK/$name.log"; then
			qt_pass "late: without the pre-udev hook bochs-drm takes $TWIN_B first (the race is real)"
		else
			qt_fail "late: bochs-drm never touched $TWIN_B although nothing ran before udev"
		fi
		;;
	esac
	[ "$QT_FAILED" = "$failed_before" ] || qt_tail "$name"
	return 0
}

# ---------------------------------------------------------------- main

t0=$(date +%s)
prepare
t1=$(date +%s)
echo "prepared kernel, 2 dracut images and root disk in $((t1 - t0))s"
check_images

for n in $ALL; do rm -f "$QT_WORK/dracut-$n.log" "$QT_WORK/dracut-$n.time"; done
printf '%s\n' $ALL | xargs -P "$QT_JOBS" -n 1 sh "$0" --boot
t2=$(date +%s)
echo "booted $(echo $ALL | wc -w) guests, $QT_JOBS at a time, in $((t2 - t1))s"
for n in $ALL; do check_scenario "$n"; done
qt_summary
[ "$QT_FAILED" = 0 ]
