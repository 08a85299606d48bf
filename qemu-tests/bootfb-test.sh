#!/bin/sh
# The boot GPU to a VM on a UEFI machine. The guest boots with OVMF, whose
# GOP framebuffer on the first display becomes the kernel's firmware
# framebuffer (efifb on Debian's kernel) and that display the boot VGA
# device. The real GRUB backend writes the multi-boot entries for this
# machine (seen through a sysfs tree built from a plain first boot); each
# entry's kernel parameters are then booted, and the guest reports what the
# kernel says: driver links, /proc/iomem, framebuffers and consoles, and
# whether a VM could open the VFIO group and map BAR 0 (vfio-map.c).
#
#   plain                     no auto-vfio: the reference. The firmware
#                             framebuffer sits inside the boot GPU's BAR
#   host keeps the boot GPU   it keeps the firmware framebuffer and the
#                             console; the other GPU goes to VMs
#   host keeps the other GPU  the boot GPU on vfio-pci, no framebuffer
#                             range inside its BARs, the VM can map BAR 0;
#                             the console is on the kept GPU's own driver
#   headless                  both on vfio-pci, both mappable
#
# GRUB itself is not booted here (grub-test.sh boots every entry through
# GRUB): the kernel gets each entry's parameters directly from QEMU.
# The initramfs lacks the boot display's own DRM driver (bochs): on a real
# host that driver takes over from the firmware framebuffer, here its
# absence leaves the firmware framebuffer in view to be judged.
# Last line: "N passed, N failed"; exit status 1 if anything failed.
set -eu

here=$(cd "$(dirname -- "$0")" && pwd)
QT_WORK=${QT_WORK:-$here/work/bootfb}
QT_BUILD=${QT_BUILD:-build/qemu-bootfb}
QT_DESTDIR=${QT_DESTDIR:-$QT_WORK/destdir}
. "$here/lib.sh"

W=$QT_WORK
QT_UEFI=1
# 01:00.0 the standard VGA (1234:1111, class 0300), the display OVMF draws on;
# 02:00.0 a virtio VGA (1af4:1050, class 0300), the GPU the host can keep.
BOOT_GPU=0000:01:00.0
OTHER_GPU=0000:02:00.0
QT_DEVICES="-device pcie-root-port,id=rp1,bus=pcie.0,chassis=1,addr=0x2.0
-device VGA,bus=rp1,addr=0x0
-device pcie-root-port,id=rp2,bus=pcie.0,chassis=2,addr=0x3.0
-device virtio-vga,bus=rp2,addr=0x0"
# What an entry passing the boot GPU must carry (see README, Binding at boot).
FB_PARAM=initcall_blacklist=sysfb_init
mkdir -p "$W"

qt_kernel
qt_install_project
qt_confdir "$W/conf"
sed -i '/^bochs$/d; /^qxl$/d' "$W/conf/modules"
qt_mkinitramfs "$W/initrd.img" "$W/conf"

R=$W/rootdir
qt_rootfs_skel "$R"
cp "$QT_DIR/guest-init" "$R/sbin/init"
chmod 0755 "$R/sbin/init"
${CC:-cc} -static -O2 -o "$R/bin/vfio-map" "$QT_DIR/vfio-map.c"
cat >"$R/etc/qt-extra" <<'EOF2'
#!/bin/sh
# Who holds the display memory, where the console is, what a VM could map.
sed 's/^/QT-IOMEM /' /proc/iomem
for f in /sys/class/graphics/fb[0-9]*; do
	[ -e "$f" ] || continue
	echo "QT-FB ${f##*/} dev=$(basename "$(readlink -f "$f/device")") name=$(cat "$f/name")"
done
for f in /sys/class/vtconsole/vtcon*; do
	echo "QT-VTCON ${f##*/} bind=$(cat "$f/bind") $(cat "$f/name")"
done
for f in /sys/bus/platform/devices/*framebuffer*; do
	[ -e "$f" ] || continue
	drv=-
	[ -e "$f/driver" ] && drv=$(basename "$(readlink "$f/driver")")
	echo "QT-PLATFB ${f##*/} driver=$drv"
done
for d in /sys/bus/pci/devices/*; do
	[ "$(basename "$(readlink "$d/driver" 2>/dev/null)")" = vfio-pci ] || continue
	/bin/vfio-map "$(basename "$(readlink "$d/iommu_group")")" "${d##*/}"
done
dmesg | grep -a -E "can't reserve|efifb|sysfb|Console: " | sed 's/^/QT-FBLOG /'
EOF2
chmod 0755 "$R/etc/qt-extra"
qt_rootfs "$W/root.img" "$R"

# fb_in_bars NAME ADDR: the firmware framebuffer ranges in the guest's
# /proc/iomem that overlap a BAR of ADDR, one "name start-end" a line.
fb_in_bars() {
	bars=$(sed -n "s/^QT-IOMEM *\([0-9a-f]*\)-\([0-9a-f]*\) : $2\$/\1 \2/p" "$W/$1.log")
	sed -n 's/^QT-IOMEM *\([0-9a-f]*\)-\([0-9a-f]*\) : \(BOOTFB\|efifb\|simple-framebuffer[^ ]*\|simplefb\|vesafb\)$/\1 \2 \3/p' \
		"$W/$1.log" | while read -r s e n; do
		echo "$bars" | while read -r bs be; do
			[ -n "$bs" ] || continue
			if [ $((0x$s)) -le $((0x$be)) ] && [ $((0x$e)) -ge $((0x$bs)) ]; then
				echo "$n $s-$e"
			fi
		done
	done
}
mapped() { grep -aq "^QT-VFIOMAP $2 ok" "$W/$1.log"; }
booted() {
	if grep -aq '^QT-EXTRA-END' "$W/$1.log"; then
		qt_pass "$1: the guest booted under OVMF and reported"
		return 0
	fi
	qt_fail "$1: the guest booted under OVMF and reported"
	qt_tail "$1"
	return 1
}

# ---- plain boot: the reference, and the machine as the generator sees it
qt_boot_guest plain kernel "$W/initrd.img" "$W/root.img" "intel_iommu=on"
booted plain || { qt_summary; exit 1; }
if grep -aq "^QT-BOOTVGA $BOOT_GPU\$" "$W/plain.log"; then
	qt_pass "plain: $BOOT_GPU is the boot VGA device"
else
	qt_fail "plain: $BOOT_GPU is not the boot VGA device ($(grep -a '^QT-BOOTVGA' "$W/plain.log"))"
fi
fb=$(fb_in_bars plain "$BOOT_GPU")
if [ -n "$fb" ]; then
	qt_pass "plain: the firmware framebuffer is inside $BOOT_GPU's BARs ($fb)"
else
	qt_fail "plain: no firmware framebuffer inside $BOOT_GPU's BARs: nothing to test"
fi

# ---- the entries, as the real GRUB backend writes them for this machine
F=$W/fake
rm -rf "$F"
mkdir -p "$F/etc" "$F/boot"
qt_fake_sysfs "$W/plain.log" "$F"
: >"$F/boot/vmlinuz-$QT_KVER"
: >"$F/boot/initrd.img-$QT_KVER"
sel() { grep -a "^QT-DEV $1 " "$W/plain.log" | sed -n 's/^QT-DEV \([^ ]*\) .* id=\([^ ]*\) .*/\1@\2/p'; }
cat >"$F/etc/auto-vfio.conf" <<EOF2
version = 1
mode = multiboot
iommu_params = intel_iommu=on
select = $(sel "$BOOT_GPU")
select = $(sel "$OTHER_GPU")
EOF2
AUTO_VFIO_ROOT=$F GRUB_DISTRIBUTOR=Debian "$QT_DESTDIR/usr/sbin/auto-vfio-grub" \
	--pci-ids /usr/share/misc/pci.ids >"$W/menu.cfg" 2>"$W/menu.err" || true
if grub-script-check "$W/menu.cfg" && grep -q '^menuentry' "$W/menu.cfg"; then
	qt_pass "the GRUB backend writes entries for this machine"
else
	qt_fail "the GRUB backend writes entries for this machine"
	sed 's/^/| /' "$W/menu.err"
fi
# id <TAB> the kernel parameters after the image, root= and "ro"
awk '
	/menuentry .*--id .auto-vfio-/ { match($0, /--id .[^ ]*. \{$/); id = substr($0, RSTART + 6, RLENGTH - 9); next }
	/^[ \t]*linux\t/ && id != "" { sub(/^[ \t]*linux\t[^ ]*( root=[^ ]*)? ro +/, ""); print id "\t" $0; id = "" }
' "$W/menu.cfg" >"$W/entries"
args_of() { grep -a -- "-$1	" "$W/entries" | head -n 1 | cut -f2; }
KEEP_ARGS=$(args_of "host-$BOOT_GPU")
PASS_ARGS=$(args_of "host-$OTHER_GPU")
HEADLESS_ARGS=$(args_of headless)
has_param() { case " $1 " in *" $FB_PARAM "*) return 0 ;; esac; return 1; }
for e in keep pass headless; do
	case $e in
	keep) a=$KEEP_ARGS ;;
	pass) a=$PASS_ARGS ;;
	headless) a=$HEADLESS_ARGS ;;
	esac
	if [ -z "$a" ]; then
		qt_fail "$e: no such entry in the menu"
		continue
	fi
	if [ $e = keep ]; then
		has_param "$a" && qt_fail "$e: the entry carries $FB_PARAM: $a" ||
			qt_pass "$e: the entry keeps the firmware framebuffer (no $FB_PARAM)"
	else
		has_param "$a" && qt_pass "$e: the entry carries $FB_PARAM" ||
			qt_fail "$e: the entry lacks $FB_PARAM: $a"
	fi
done

# ---- boot each entry
qt_boot_guest keep kernel "$W/initrd.img" "$W/root.img" "$KEEP_ARGS" &
qt_boot_guest pass kernel "$W/initrd.img" "$W/root.img" "$PASS_ARGS" &
wait
qt_boot_guest headless kernel "$W/initrd.img" "$W/root.img" "$HEADLESS_ARGS"

# The boot GPU went to VMs: on vfio-pci, nothing of a framebuffer in its
# BARs, the group opens and BAR 0 maps, as QEMU would need.
check_passed() {
	qt_expect_driver "$1" "$2" vfio-pci "$1" "$2 is on vfio-pci"
	fb=$(fb_in_bars "$1" "$2")
	[ -z "$fb" ] && qt_pass "$1: no framebuffer range inside $2's BARs" ||
		qt_fail "$1: framebuffer inside $2's BARs: $fb"
	if mapped "$1" "$2"; then
		qt_pass "$1: a VM opens group $(qt_group "$1" "$2") and maps $2's BAR 0"
	else
		qt_fail "$1: $2 cannot be used by a VM: $(grep -a "^QT-VFIOMAP $2 " "$W/$1.log")"
		grep -a "can't reserve" "$W/$1.log" | sed 's/^/| /'
	fi
}

if booted keep; then
	d=$(qt_driver keep "$BOOT_GPU")
	[ "$d" != vfio-pci ] && qt_pass "keep: $BOOT_GPU stays with the host ($d)" ||
		qt_fail "keep: $BOOT_GPU is on vfio-pci"
	fb=$(fb_in_bars keep "$BOOT_GPU")
	[ -n "$fb" ] && qt_pass "keep: the firmware framebuffer stays on $BOOT_GPU ($fb)" ||
		qt_fail "keep: no firmware framebuffer on $BOOT_GPU"
	if grep -aq '^QT-FB fb[0-9]* dev=efi-framebuffer\.0 ' "$W/keep.log" &&
		grep -aq '^QT-VTCON vtcon[0-9]* bind=1 (M) frame buffer device' "$W/keep.log"; then
		qt_pass "keep: the console is on the firmware framebuffer"
	else
		qt_fail "keep: the console is not on the firmware framebuffer"
		grep -a -E '^QT-(FB|VTCON|PLATFB)' "$W/keep.log" | sed 's/^/| /'
	fi
	check_passed keep "$OTHER_GPU"
fi
if booted pass; then
	check_passed pass "$BOOT_GPU"
	# Debian 12's vfio-pci removes a firmware framebuffer itself when it
	# binds a VGA device (Linux 6.0 and later); the entry's parameter
	# keeps one from ever being set up on the boot GPU, on any kernel.
	if grep -aq '^QT-PLATFB' "$W/pass.log" || grep -aq '^QT-FBLOG .*efifb: framebuffer at' "$W/pass.log"; then
		qt_fail "pass: a firmware framebuffer was set up during boot"
		grep -a -E '^QT-(PLATFB|FBLOG)' "$W/pass.log" | sed 's/^/| /'
	else
		qt_pass "pass: no firmware framebuffer was set up during boot"
	fi
	d=$(qt_driver pass "$OTHER_GPU")
	if grep -aq "^QT-FB fb[0-9]* dev=$OTHER_GPU " "$W/pass.log" &&
		grep -aq '^QT-VTCON vtcon[0-9]* bind=1 (M) frame buffer device' "$W/pass.log"; then
		qt_pass "pass: the console is on the kept GPU $OTHER_GPU ($d)"
	else
		qt_fail "pass: no console on the kept GPU $OTHER_GPU ($d)"
		grep -a -E '^QT-(FB|VTCON)' "$W/pass.log" | sed 's/^/| /'
	fi
fi
if booted headless; then
	check_passed headless "$BOOT_GPU"
	check_passed headless "$OTHER_GPU"
fi
for n in plain keep pass headless; do
	echo "guest $n: $(cat "$W/$n.time" 2>/dev/null) s"
done
qt_summary
[ "$QT_FAILED" = 0 ]
