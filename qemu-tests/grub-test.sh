#!/bin/sh
# End-to-end test of the multi-boot GRUB entries: real grub-mkconfig with
# /etc/grub.d/42_auto-vfio installed by `make install`, on a loop disk with
# GRUB installed (i386-pc) and /boot a partition of its own (the layout of
# Debian's encrypted-LVM install, where GRUB's paths have no /boot), then the
# real Debian kernel booted through GRUB, choosing each generated entry in
# turn with grubenv's next_entry (what grub-reboot does), and the guest's
# /proc/cmdline checked against the entry. (LVM itself is covered by the
# differential test in tests/grub-diff.sh: the guest's initramfs has no LVM.)
#
#   sh qemu-tests/grub-test.sh
#
# The guest hardware is lib.sh's layout plus an ati-vga behind one more root
# port, so two VGA devices can each be the one the host keeps. The generator
# sees that hardware through a sysfs tree built from the guest's own report
# of a first boot (AUTO_VFIO_ROOT), since the build host's /sys is not it.
# Last line: "N passed, N failed"; exit status 1 if anything failed.
set -eu

here=$(cd "$(dirname -- "$0")" && pwd)
QT_WORK=${QT_WORK:-$here/work/grub}
QT_BUILD=${QT_BUILD:-build/qemu-grub}
QT_DESTDIR=${QT_DESTDIR:-$QT_WORK/destdir}
. "$here/lib.sh"
qt_own_mounts "$@" # each entry's disk is copied after an unmount (qt_umount)

W=$QT_WORK
QT_EXTRA=$QT_EXTRA_VGA
mkdir -p "$W"
loop=
mnt=$W/mnt

trap 'qt_release "$loop" "$mnt/boot" "$mnt"' EXIT

# boot NAME KIND ...: qt_boot_guest with the second VGA device.
boot() { qt_boot_guest "$@"; }

qt_kernel
qt_install_project
KV=$QT_KVER
OLDKV=$(qt_older_kver "$KV")

# ---- first boot: the guest's own view of its PCI devices and IOMMU groups
qt_confdir "$W/conf"
qt_mkinitramfs "$W/initrd.img" "$W/conf"
qt_probe "$W/initrd.img"

# ---- the disk: /boot (partition 1, with GRUB) and / (partition 2), both ext4
disk=$W/disk.img
qt_loop_disk "$disk" 200M 'start=2048, size=120M, type=83, bootable' 'type=83'
loop=$QT_LOOP
bootpart=${loop}p1
part=${loop}p2
mkfs.ext4 -q -F -L gruboot "$bootpart"
mkfs.ext4 -q -F -L gruball "$part"
uuid=$(blkid -s UUID -o value "$part")
bootuuid=$(blkid -s UUID -o value "$bootpart")
mkdir -p "$mnt"
mount "$part" "$mnt"
cp -a "$W/rootdir/." "$mnt/"
mkdir -p "$mnt/boot"
mount "$bootpart" "$mnt/boot"
for v in "$KV" "$OLDKV"; do
	cp "$QT_VMLINUZ" "$mnt/boot/vmlinuz-$v"
	cp "$W/initrd.img" "$mnt/boot/initrd.img-$v"
	cp "$QT_KDIR/boot/config-$KV" "$mnt/boot/config-$v"
done
qt_grub_install "$mnt/boot" "$W/grub-install.log"

# The guest's hardware as a sysfs tree for the generator.
fake=$mnt/auto-vfio-root
mkdir -p "$fake/etc"
ln -s ../boot "$fake/boot"
qt_fake_sysfs "$W/probe.log" "$fake"

# Select every VGA device, a plain display controller and the USB controller.
vgas=$(grep -a '^QT-DEV .* class=0x0300' "$W/probe.log" | awk '{ print $2 }')
sel() { grep -a "^QT-DEV $1 " "$W/probe.log" | sed -n 's/^QT-DEV \([^ ]*\) .* id=\([^ ]*\) .*/\1@\2/p'; }
others="0000:01:00.0 $(grep -a '^QT-DEV .* class=0x0c03' "$W/probe.log" | awk '{ print $2 }' | head -n 1)"
{
	echo "version = 1"
	echo "mode = multiboot"
	echo "iommu_params = intel_iommu=on"
	for a in $vgas $others; do echo "select = $(sel "$a")"; done
} >"$fake/etc/auto-vfio.conf"
cp "$fake/etc/auto-vfio.conf" "$W/auto-vfio.conf"

# /etc of the disk: GRUB's generators (the host's plus ours, installed by make install).
mkdir -p "$mnt/etc/default" "$mnt/etc/grub.d"
cp -a /etc/grub.d/. "$mnt/etc/grub.d/"
cp "$QT_DESTDIR/etc/grub.d/42_auto-vfio" "$mnt/etc/grub.d/"
cat >"$mnt/etc/default/grub" <<'EOF2'
GRUB_DEFAULT=0
GRUB_TIMEOUT=0
GRUB_DISTRIBUTOR=Debian
GRUB_CMDLINE_LINUX_DEFAULT="quiet"
GRUB_CMDLINE_LINUX="console=ttyS0 panic=-1"
GRUB_TERMINAL=console
GRUB_DISABLE_OS_PROBER=true
EOF2
cp /etc/ld.so.cache "$mnt/etc/"

# grub-mkconfig in a chroot on the disk, so grub-probe finds / and /boot on
# the loop partition. The host's programs are mounted over the guest's
# busybox only inside this private mount namespace.
set +e
unshare -m sh -eu -c '
	mnt=$1; loop=$2; part=$3; uuid=$4; destdir=$5; bootpart=$6; bootuuid=$7
	mount --make-rprivate /
	for d in usr bin sbin lib lib64; do
		[ -e "/$d" ] || continue
		mkdir -p "$mnt/$d"
		mount --bind "$(readlink -f "/$d")" "$mnt/$d"
	done
	mount -t overlay overlay -o "lowerdir=$destdir/usr/sbin:/usr/sbin" "$mnt/usr/sbin"
	mount -t proc proc "$mnt/proc"
	mount -t sysfs sysfs "$mnt/sys"
	mount -t tmpfs tmpfs "$mnt/dev"
	for n in /dev/null /dev/zero /dev/urandom /dev/random "$loop" "$part" "$bootpart"; do
		cp -a "$n" "$mnt/dev/"
	done
	mkdir -p "$mnt/dev/disk/by-uuid"
	ln -s "../../$(basename "$part")" "$mnt/dev/disk/by-uuid/$uuid"
	ln -s "../../$(basename "$bootpart")" "$mnt/dev/disk/by-uuid/$bootuuid"
	mount -t tmpfs tmpfs "$mnt/tmp"
	chroot "$mnt" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		AUTO_VFIO_ROOT=/auto-vfio-root grub-mkconfig -o /boot/grub/grub.cfg
' sh "$mnt" "$loop" "$part" "$uuid" "$QT_DESTDIR" "$bootpart" "$bootuuid" \
	>"$W/grub-mkconfig.out" 2>"$W/grub-mkconfig.err"
rc=$?
set -e
cfg=$W/grub.cfg
cp "$mnt/boot/grub/grub.cfg" "$cfg" 2>/dev/null || : >"$cfg"
if [ "$rc" = 0 ] && [ -s "$cfg" ]; then
	qt_pass "grub-mkconfig with 42_auto-vfio exits 0"
else
	qt_fail "grub-mkconfig with 42_auto-vfio exits 0 (status $rc)"
	sed 's/^/| /' "$W/grub-mkconfig.err"
fi
if grub-script-check "$cfg"; then
	qt_pass "grub.cfg passes grub-script-check"
else
	qt_fail "grub.cfg passes grub-script-check"
fi
if grep -q "auto-vfio-grub: warning" "$W/grub-mkconfig.err"; then
	qt_fail "no warnings from auto-vfio-grub"
	sed 's/^/| /' "$W/grub-mkconfig.err"
else
	qt_pass "no warnings from auto-vfio-grub"
fi

# The entries: id and linux arguments, in menu order, with the submenu path.
qt_grub_entries "$cfg" >"$W/entries"
nvga=$(echo "$vgas" | wc -w)
# the newest kernel's ids carry no version (they survive upgrades); older ones do
top=$(grep -c "^auto-vfio-\(host-[0-9a-f:.]*\|headless\)$(printf '\t')" "$W/entries" || true)
old=$(grep -c "^auto-vfio-older>auto-vfio-$OLDKV-" "$W/entries" || true)
if [ "$top" = $((nvga + 1)) ] && [ "$old" = $((nvga + 1)) ]; then
	qt_pass "$top entries for $KV and $old for $OLDKV ($nvga VGA devices + headless)"
else
	qt_fail "entries: $top for $KV, $old for $OLDKV, expected $((nvga + 1)) each"
	cat "$W/entries"
fi
# /boot is its own filesystem: GRUB's paths have no /boot, as in 10_linux's entries.
if grep -q "$(printf '\t')/vmlinuz-$KV root=UUID=$uuid ro " "$W/entries" &&
	! grep -q "/boot/vmlinuz" "$W/entries"; then
	qt_pass "entries use /vmlinuz-$KV on the separate /boot, root=UUID of /"
else
	qt_fail "entries on the separate /boot"
	cat "$W/entries"
fi
# Plain distribution entries are still there, unchanged in number.
if [ "$(grep -c "menuentry 'Debian GNU/Linux, with Linux $KV'" "$cfg")" = 1 ]; then
	qt_pass "10_linux entries still present"
else
	qt_fail "10_linux entries still present"
fi

# Expected bind list of an entry, from the probe report: every selected
# group except the kept GPU's; one selector per group.
expect_groups() {
	keep=$1
	keepg=-
	[ -n "$keep" ] && keepg=$(qt_group probe "$keep")
	for a in $vgas $others; do
		g=$(qt_group probe "$a")
		[ "$g" = "$keepg" ] || echo "$g"
	done | sort -u | tr '\n' ' '
}
bound_groups() {
	echo "$1" | tr ' ' '\n' | sed -n 's/^auto_vfio.bind=//p' | tr ',' '\n' |
		sed 's/@.*//' | while read -r a; do qt_group probe "$a"; done | sort -u | tr '\n' ' '
}

qt_umount "$mnt/boot"
qt_umount "$mnt"
losetup -d "$loop"
loop=

# ---- boot every generated entry, the older kernel's in the submenu too
n=0
picks=$(cut -f1 "$W/entries")
for id in $picks; do
	n=$((n + 1))
	args=$(grep -F "$(printf '%s\t' "$id")" "$W/entries" | head -n 1 | cut -f2)
	keep=
	case $id in *-host-*) keep=${id##*-host-} ;; esac
	want=$(expect_groups "$keep")
	got=$(bound_groups "$args")
	if [ "$want" = "$got" ]; then
		qt_pass "$id binds groups $got"
	else
		qt_fail "$id binds groups '$got', expected '$want'"
	fi
	# choose the entry as grub-reboot does
	img=$W/boot-$n.img
	cp --sparse=always "$disk" "$img"
	loop=$(losetup -f --show -P "$img")
	partx -a "$loop" 2>/dev/null || true
	mount "${loop}p2" "$mnt"
	rm -rf "$mnt/auto-vfio-root"
	qt_umount "$mnt"
	mount "${loop}p1" "$mnt"
	grub-editenv "$mnt/grub/grubenv" set "next_entry=$id"
	qt_umount "$mnt"
	losetup -d "$loop"
	loop=
	boot "entry-$n" disk "$img"
	rm -f "$img"
	line=$(grep -a '^QT-CMDLINE ' "$W/entry-$n.log" | head -n 1 | sed 's/^QT-CMDLINE //')
	image=${args%% *}
	rest=${args#* }
	case "$line" in
	"BOOT_IMAGE=$image $rest")
		qt_pass "$id: guest /proc/cmdline carries the entry's parameters"
		;;
	*)
		qt_fail "$id: guest /proc/cmdline is '$line', expected 'BOOT_IMAGE=$image $rest'"
		qt_tail "entry-$n" 30
		;;
	esac
	# When the binder is installed, the kept GPU stays off vfio-pci and the rest is on it.
	if grep -aq '^QT-KMSG' "$W/entry-$n.log"; then
		bad=
		for a in $vgas $others; do
			d=$(qt_driver "entry-$n" "$a")
			if [ -n "$keep" ] && [ "$(qt_group probe "$a")" = "$(qt_group probe "$keep")" ]; then
				[ "$d" != vfio-pci ] || bad="$bad $a=$d"
			else
				[ "$d" = vfio-pci ] || bad="$bad $a=$d"
			fi
		done
		if [ -z "$bad" ]; then
			qt_pass "$id: drivers in the guest follow the entry"
		else
			qt_fail "$id: drivers in the guest:$bad"
		fi
	fi
done

qt_summary
[ "$QT_FAILED" = 0 ]
