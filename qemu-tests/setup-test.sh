#!/bin/sh
# End-to-end test of the user's whole loop: `auto-vfio setup` then
# `auto-vfio uninstall`, each running the REAL update-initramfs and the REAL
# update-grub, on a loop disk with GRUB (i386-pc) and a Debian-like /etc;
# then the real Debian kernel booted through GRUB with each generated entry,
# and the guest's driver links checked.
#
#   sh qemu-tests/setup-test.sh
#   QT_TIMEOUT=150                      seconds per guest
#
# auto-vfio is the Debian package (make deb), installed on the disk by the
# real dpkg. The programs run in a chroot on the disk, inside a private mount
# namespace where the host's /usr, /bin, /sbin and /lib cover the guest's
# busybox and the package's files, from the disk, cover the host's. auto-vfio reads the guest's hardware
# from /auto-vfio-root, a sysfs tree built from the report of a first boot,
# whose etc, boot and var point at the disk's own, so what it writes is the
# real configuration the disk boots with.
# Last line: "N passed, N failed"; exit status 1 if anything failed.
set -eu

here=$(cd "$(dirname -- "$0")" && pwd)
QT_WORK=${QT_WORK:-$here/work/setup}
QT_BUILD=${QT_BUILD:-build/qemu-setup}
# Where the chroot sees the disk's own /usr (its package files).
QT_DESTDIR=$QT_WORK/pkgview
. "$here/lib.sh"
# The disk is copied for each guest after an unmount (see qt_umount).
qt_own_mounts "$@"

W=$QT_WORK
QT_EXTRA=$QT_EXTRA_VGA
mkdir -p "$W"
loop=
mnt=$W/mnt

trap 'qt_release "$loop" "$mnt"' EXIT

# boot NAME KIND ...: qt_boot_guest with the second VGA device.
boot() { qt_boot_guest "$@"; }

boot_time() { echo "   boot time $1: $(cat "$W/$1.time" 2>/dev/null || echo '?')s"; }

mount_disk() {
	loop=$(losetup -f --show -P "$1")
	partx -a "$loop" 2>/dev/null || true
	part=${loop}p1
	[ -b "$part" ] || qt_die "no partition device $part"
	mkdir -p "$mnt"
	mount "$part" "$mnt"
}

umount_disk() {
	qt_umount "$mnt"
	losetup -d "$loop"
	loop=
}

# disk_for NAME [ENTRY]: a private copy of the disk for one guest; ENTRY is
# chosen for its next boot as grub-reboot does (none: GRUB_DEFAULT).
disk_for() {
	cp --sparse=always "$disk" "$W/$1.img"
	[ -n "${2:-}" ] || return 0
	mount_disk "$W/$1.img"
	grub-editenv "$mnt/boot/grub/grubenv" set "next_entry=$2"
	umount_disk
}

# in_chroot NAME COMMAND...: COMMAND in a chroot on the mounted disk; output
# in $W/NAME.out, exit status in CHROOT_RC. The host's programs cover the
# guest's busybox and ours cover the host's only inside the private mount
# namespace; /lib/modules shows the unpacked kernel under both versions.
in_chroot() {
	name=$1
	shift
	set +e
	unshare -m sh -eu -c '
		mnt=$1; loop=$2; part=$3; uuid=$4; destdir=$5; kdir=$6; kv=$7; oldkv=$8; w=$9
		shift 9
		mount --make-rprivate /
		# The package files dpkg put on the disk, before the host covers them.
		mkdir -p "$destdir/usr"
		mount --bind "$mnt/usr" "$destdir/usr"
		for d in usr bin sbin lib lib64; do
			[ -e "/$d" ] || continue
			mkdir -p "$mnt/$d"
			mount --bind "$(readlink -f "/$d")" "$mnt/$d"
		done
		for d in usr/sbin sbin; do
			mount -t overlay overlay -o "lowerdir=$destdir/usr/sbin:$mnt/$d" "$mnt/$d"
		done
		d=usr/share/initramfs-tools
		mount -t overlay overlay -o "lowerdir=$destdir/$d:$mnt/$d" "$mnt/$d"
		# The host may have no /lib/modules at all: lay the kernel (and an
		# empty folder for the older version) over the library folder.
		mkdir -p "$w/libextra/modules/$oldkv"
		mount -t overlay overlay -o "lowerdir=$w/libextra:$kdir/lib:$mnt/lib" "$mnt/lib"
		mount --bind "$kdir/lib/modules/$kv" "$mnt/lib/modules/$oldkv"
		mount -t proc proc "$mnt/proc"
		mount -t sysfs sysfs "$mnt/sys"
		mount -t tmpfs tmpfs "$mnt/dev"
		for n in /dev/null /dev/zero /dev/urandom /dev/random "$loop" "$part"; do
			cp -a "$n" "$mnt/dev/"
		done
		mkdir -p "$mnt/dev/disk/by-uuid"
		ln -s "../../$(basename "$part")" "$mnt/dev/disk/by-uuid/$uuid"
		mount -t tmpfs tmpfs "$mnt/tmp"
		# AUTO_VFIO_ROOT too: the update commands inherit the environment
		# of auto-vfio, not its --root, and the generator run by update-grub
		# must see the hardware of the guest, not the /sys of this host.
		chroot "$mnt" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
			AUTO_VFIO_ROOT=/auto-vfio-root \
			AUTO_VFIO_UPDATE_INITRAMFS="update-initramfs -u -k all" \
			AUTO_VFIO_UPDATE_GRUB=update-grub "$@"
	' sh "$mnt" "$loop" "$part" "$uuid" "$QT_DESTDIR" "$QT_KDIR" "$KV" "$OLDKV" "$W" "$@" \
		>"$W/$name.out" 2>&1
	CHROOT_RC=$?
	set -e
}

show() { sed 's/^/| /' "$1"; }

# digest [--mtime] PATH...: names, types, modes, link targets and contents of
# the disk's PATHs (relative to the disk's root); with --mtime also the
# files' modification times, so a rewrite with the same bytes shows.
digest() {
	fmt='%y %m %p -> %l\n'
	if [ "$1" = --mtime ]; then
		fmt='%y %m %p -> %l %Y\n'
		shift
	fi
	(
		cd "$mnt"
		for p in "$@"; do
			if [ ! -e "$p" ]; then
				echo "absent $p"
				continue
			fi
			find "$p" \( -type f -printf "$fmt" \) -o \( ! -type f -printf '%y %m %p -> %l\n' \) | sort
			find "$p" -type f -exec sha256sum {} + | sort -k 2
		done
	)
}

# has_entries CFG [GREP-OPTION]: CFG has an auto-vfio entry or binding (the
# generator's BEGIN/END comments are there whenever it is installed).
has_entries() {
	grep -E "${2:--q}" "(menuentry|submenu) .*--id '?auto-vfio|auto_vfio\.bind=" "$1"
}

qt_kernel
qt_build_deb
KV=$QT_KVER
# A second, older "kernel" (the same image): `update-initramfs -u -k all`
# must rebuild both, and update-grub puts it in the older-kernels submenu.
OLDKV=$(qt_older_kver "$KV")

# ---- first boot: the guest's own view of its PCI devices and IOMMU groups
# The first image is built without our files (an empty DESTDIR): only the
# rebuild that setup triggers can bring the binder in.
qt_confdir "$W/conf"
mkdir -p "$W/nothing"
QT_DESTDIR=$W/nothing qt_mkinitramfs "$W/initrd.img" "$W/conf"
if lsinitramfs "$W/initrd.img" | grep -q auto-vfio; then
	qt_die "the first initramfs already carries auto-vfio files"
fi
qt_probe "$W/initrd.img"
boot_time probe

# What the user selects: every VGA device and the xhci USB controller.
vgas=$(grep -a '^QT-DEV .* class=0x0300' "$W/probe.log" | awk '{ print $2 }')
xhci=$(grep -a '^QT-DEV .* class=0x0c0330' "$W/probe.log" | awk '{ print $2 }' | head -n 1)
nvga=$(echo "$vgas" | wc -w)
if [ "$nvga" -lt 2 ] || [ -z "$xhci" ]; then
	qt_die "probe: expected 2 VGA devices and an xhci controller"
fi
# shellcheck disable=SC2086 # one address per word
select=$(echo $vgas $xhci | tr ' ' ',')

# ---- the disk: one ext4 partition with the guest's root, /boot, GRUB and /etc
disk=$W/disk.img
qt_loop_disk "$disk" 192M 'start=2048, type=83, bootable'
loop=$QT_LOOP
part=${loop}p1
mkfs.ext4 -q -F -L setupall "$part"
uuid=$(blkid -s UUID -o value "$part")
losetup -d "$loop"
loop=
mount_disk "$disk"
cp -a "$W/rootdir/." "$mnt/"
mkdir -p "$mnt/boot" "$mnt/var/lib/initramfs-tools" "$mnt/var/tmp"
chmod 1777 "$mnt/var/tmp"
for v in "$KV" "$OLDKV"; do
	cp "$QT_VMLINUZ" "$mnt/boot/vmlinuz-$v"
	cp "$W/initrd.img" "$mnt/boot/initrd.img-$v"
	cp "$QT_KDIR/boot/config-$KV" "$mnt/boot/config-$v"
	# update-initramfs keeps the image's digest here on Debian.
	sha1sum "$mnt/boot/initrd.img-$v" | cut -d' ' -f1 >"$mnt/var/lib/initramfs-tools/$v"
done
QT_LOOP=$loop qt_grub_install "$mnt/boot" "$W/grub-install.log"

# /etc as on Debian: GRUB's generators (the host's plus ours), initramfs-tools'
# configuration with MODULES=list and the GPU drivers forced in (fast, and
# the binder really races them).
mkdir -p "$mnt/etc/default" "$mnt/etc/grub.d"
cp -a /etc/grub.d/. "$mnt/etc/grub.d/"
rm -f "$mnt/etc/grub.d/"*_auto-vfio
cat >"$mnt/etc/default/grub" <<'EOF'
GRUB_DEFAULT=0
GRUB_TIMEOUT=0
GRUB_DISTRIBUTOR=Debian
GRUB_CMDLINE_LINUX_DEFAULT="quiet"
GRUB_CMDLINE_LINUX="console=ttyS0 panic=-1"
GRUB_TERMINAL=console
GRUB_DISABLE_OS_PROBER=true
EOF
cp -a /etc/initramfs-tools "$mnt/etc/"
# initramfs-tools' udev hook copies udev.conf; modprobe.d is where setup
# puts its softdeps.
cp -a /etc/udev "$mnt/etc/"
mkdir -p "$mnt/etc/modprobe.d"
cp "$W/conf/initramfs.conf" "$W/conf/modules" "$mnt/etc/initramfs-tools/"
cp /etc/ld.so.cache "$mnt/etc/"

# The package, installed by dpkg into the disk's own database. Its
# dependencies are the host's, which the chroot sees; the maintainer scripts
# run outside the chroot with DPKG_ROOT set, as dpkg --root does.
mkdir -p "$mnt/var/lib/dpkg/info" "$mnt/var/lib/dpkg/updates" "$mnt/var/lib/dpkg/triggers"
: >"$mnt/var/lib/dpkg/status"
: >"$mnt/var/lib/dpkg/available"
if dpkg --root="$mnt" --force-depends --force-script-chrootless -i "$QT_DEB" >"$W/dpkg-install.out" 2>&1 &&
	dpkg --root="$mnt" -s auto-vfio 2>/dev/null | grep -q '^Status: install ok installed' &&
	[ -x "$mnt/usr/sbin/auto-vfio" ] && [ -x "$mnt/etc/grub.d/42_auto-vfio" ] &&
	[ -x "$mnt/usr/share/initramfs-tools/hooks/auto-vfio" ]; then
	qt_pass "dpkg installs $(basename "$QT_DEB") on the disk"
else
	qt_fail "dpkg installs $(basename "$QT_DEB") on the disk"
	show "$W/dpkg-install.out"
fi

# The guest's hardware as a sysfs tree; etc, boot and var are the disk's own.
fake=$mnt/auto-vfio-root
mkdir -p "$fake/proc"
ln -s /etc "$fake/etc"
ln -s /boot "$fake/boot"
ln -s /var "$fake/var"
printf 'processor\t: 0\nvendor_id\t: GenuineIntel\n' >"$fake/proc/cpuinfo"
qt_fake_sysfs "$W/probe.log" "$fake"

# A first update-grub, as on any installed system, so the "before" is real.
in_chroot update-grub-0 update-grub
if [ "$CHROOT_RC" = 0 ] && ! has_entries "$mnt/boot/grub/grub.cfg"; then
	qt_pass "update-grub before setup: no auto-vfio entry"
else
	qt_fail "update-grub before setup: no auto-vfio entry (status $CHROOT_RC)"
	show "$W/update-grub-0.out"
fi
digest etc var/lib/auto-vfio >"$W/digest-0"

# ---- setup
touch "$W/stamp-setup"
sleep 1
in_chroot setup-1 auto-vfio --root /auto-vfio-root setup --multiboot --select "$select" --yes
if [ "$CHROOT_RC" = 0 ]; then
	qt_pass "setup --multiboot --select $select exits 0"
else
	qt_fail "setup exits 0 (status $CHROOT_RC)"
	show "$W/setup-1.out"
fi
for f in etc/auto-vfio.conf etc/default/grub.d/auto-vfio.cfg var/lib/auto-vfio/manifest; do
	if [ -f "$mnt/$f" ]; then qt_pass "setup wrote /$f"; else qt_fail "setup wrote /$f"; fi
done
if grep -q '^GRUB_CMDLINE_LINUX_DEFAULT=.*intel_iommu=on' "$mnt/etc/default/grub.d/auto-vfio.cfg" 2>/dev/null; then
	qt_pass "grub.d drop-in adds intel_iommu=on"
else
	qt_fail "grub.d drop-in adds intel_iommu=on"
fi
for v in "$KV" "$OLDKV"; do
	img=$mnt/boot/initrd.img-$v
	lsinitramfs "$img" >"$W/lsinitramfs-$v" 2>/dev/null || true
	if [ -n "$(find "$img" -newer "$W/stamp-setup")" ] &&
		grep -Eq '^(usr/)?sbin/auto-vfio-bind$' "$W/lsinitramfs-$v" &&
		grep -q '^scripts/init-top/auto-vfio$' "$W/lsinitramfs-$v"; then
		qt_pass "initrd.img-$v rebuilt with the binder and its init-top script"
	else
		qt_fail "initrd.img-$v rebuilt with the binder and its init-top script"
		ls -l --time-style=+%T "$img" "$W/stamp-setup"
	fi
done
cfg=$W/grub-setup.cfg
cp "$mnt/boot/grub/grub.cfg" "$cfg"
qt_grub_entries "$cfg" >"$W/entries"
# the newest kernel's ids carry no version (auto-vfio-host-ADDR, auto-vfio-headless)
top=$(grep -c "^auto-vfio-\(host-[0-9a-f:.]*\|headless\)$(printf '\t')" "$W/entries" || true)
old=$(grep -c "^auto-vfio-older>auto-vfio-$OLDKV-" "$W/entries" || true)
if [ "$top" = $((nvga + 1)) ] && [ "$old" = $((nvga + 1)) ]; then
	qt_pass "grub.cfg: $top auto-vfio entries for $KV, $old for $OLDKV"
else
	qt_fail "grub.cfg: $top auto-vfio entries for $KV and $old for $OLDKV, expected $((nvga + 1)) each"
	cat "$W/entries"
	show "$W/setup-1.out"
fi
if grub-script-check "$cfg"; then
	qt_pass "grub.cfg passes grub-script-check"
else
	qt_fail "grub.cfg passes grub-script-check"
fi

# ---- the same setup again: nothing to do, nothing touched
digest --mtime etc boot var/lib/auto-vfio >"$W/digest-1"
in_chroot setup-2 auto-vfio --root /auto-vfio-root setup --multiboot --select "$select" --yes
if [ "$CHROOT_RC" = 0 ] && grep -q 'Nothing to change' "$W/setup-2.out"; then
	qt_pass "second setup exits 0 and says 'Nothing to change'"
else
	qt_fail "second setup exits 0 and says 'Nothing to change' (status $CHROOT_RC)"
	show "$W/setup-2.out"
fi
digest --mtime etc boot var/lib/auto-vfio >"$W/digest-2"
if cmp -s "$W/digest-1" "$W/digest-2"; then
	qt_pass "second setup changed no file in /etc, /boot, /var/lib/auto-vfio"
else
	qt_fail "second setup changed files:"
	diff "$W/digest-1" "$W/digest-2" | sed 's/^/| /' || true
fi
umount_disk

# ---- boot every top-level auto-vfio entry, and the plain default entry
# Expected drivers come from the probe report: the selected groups (with the
# GPUs' other functions on the same slot), minus the kept GPU's.
group_of() { qt_group probe "$1"; }
slotmates() {
	for a in "$@"; do
		grep -a "^QT-DEV ${a%.*}\." "$W/probe.log" | awk '{ print $2 }'
	done
}
groups_of() { for a in "$@"; do group_of "$a"; done | sort -u; }
# Endpoints (not bridges, class 06xx) of groups $@.
endpoints() {
	for g in "$@"; do
		grep -a "^QT-DEV .* group=$g\$" "$W/probe.log" | grep -av ' class=0x06' | awk '{ print $2 }'
	done
}
# shellcheck disable=SC2046,SC2086 # lists of addresses
selgroups=$(groups_of $(slotmates $vgas) "$xhci")
alldevs=$(grep -a '^QT-DEV ' "$W/probe.log" | awk '{ print $2 }')

# check_guest NAME ID KIND WORDS [KEEP]: KIND "entry" (an auto-vfio entry,
# KEEP the GPU the host keeps, none for headless) or "plain" (a distribution
# entry: no binding, nothing on vfio-pci). WORDS must be on the guest's
# /proc/cmdline, words starting with "!" must not.
check_guest() {
	name=$1
	id=$2
	kind=$3
	words=$4
	keep=${5:-}
	boot_time "$name"
	if ! qt_report_ok "$name"; then
		qt_fail "$id: guest reported (timeout ${QT_TIMEOUT}s or panic)"
		qt_tail "$name" 30
		return 0
	fi
	line=" $(grep -a '^QT-CMDLINE ' "$W/$name.log" | head -n 1 | sed 's/^QT-CMDLINE //') "
	bad=
	[ "$kind" = plain ] && words="$words !auto_vfio.bind="
	for t in $words; do
		case $t in
		!*) case $line in *" ${t#!}"*) bad="$bad unexpected:${t#!}" ;; esac ;;
		*) case $line in *" $t "*) ;; *) bad="$bad missing:$t" ;; esac ;;
		esac
	done
	if [ -z "$bad" ]; then
		qt_pass "$id: /proc/cmdline as expected ($(echo "$words" | tr ' ' '\n' | grep -c .) words checked)"
	else
		qt_fail "$id: /proc/cmdline:$bad (got '$line')"
	fi
	keepg=
	# shellcheck disable=SC2046 # a list of addresses
	[ -n "$keep" ] && keepg=$(groups_of $(slotmates "$keep"))
	vfio=
	if [ "$kind" = entry ]; then
		for g in $selgroups; do
			echo "$keepg" | grep -qx "$g" || vfio="$vfio $(endpoints "$g" | tr '\n' ' ')"
		done
	fi
	# shellcheck disable=SC2086,SC2116 # squeeze the spaces
	vfio=$(echo $vfio)
	bad=
	for a in $alldevs; do
		d=$(qt_driver "$name" "$a")
		case " $vfio " in
		*" $a "*) [ "$d" = vfio-pci ] || bad="$bad $a=$d(want vfio-pci)" ;;
		*) [ "$d" != vfio-pci ] || bad="$bad $a=vfio-pci" ;;
		esac
	done
	if [ -z "$bad" ]; then
		if [ -n "$keep" ]; then
			qt_pass "$id: kept GPU off vfio-pci, the other selected endpoints on it ($vfio)"
		elif [ "$kind" = entry ]; then
			qt_pass "$id: every selected endpoint on vfio-pci ($vfio)"
		else
			qt_pass "$id: no device on vfio-pci"
		fi
	else
		qt_fail "$id: drivers in the guest:$bad"
		grep -a '^QT-KMSG' "$W/$name.log" | sed 's/^/| /'
	fi
}

picks=$(grep "^auto-vfio-\(host-[0-9a-f:.]*\|headless\)$(printf '\t')" "$W/entries" | cut -f1)
n=0
set --
for id in $picks default; do
	n=$((n + 1))
	if [ "$id" = default ]; then disk_for "entry-$n"; else disk_for "entry-$n" "$id"; fi
	set -- "$@" "$n:$id"
done
# Two guests at a time: they cost about the same wall time as one.
boot_pair() {
	for p in "$@"; do
		n=${p%%:*}
		boot "entry-$n" disk "$W/entry-$n.img" &
	done
	wait
	for p in "$@"; do rm -f "$W/entry-${p%%:*}.img"; done
}
while [ $# -gt 0 ]; do
	if [ $# -ge 2 ]; then
		boot_pair "$1" "$2"
		shift 2
	else
		boot_pair "$1"
		shift
	fi
done
n=0
for id in $picks default; do
	n=$((n + 1))
	if [ "$id" = default ]; then
		# Plain entries carry the IOMMU parameters of the drop-in, no binding.
		check_guest "entry-$n" "after setup, default entry" plain "intel_iommu=on"
		continue
	fi
	args=$(grep -F "$(printf '%s\t' "$id")" "$W/entries" | head -n 1 | cut -f2)
	keep=
	case $id in *-host-*) keep=${id##*-host-} ;; esac
	words="intel_iommu=on $(echo "$args" | tr ' ' '\n' | grep '^auto_vfio\.bind=' | tr '\n' ' ')"
	check_guest "entry-$n" "$id" entry "$words" "$keep"
done

# ---- uninstall
mount_disk "$disk"
touch "$W/stamp-uninstall"
sleep 1
in_chroot uninstall auto-vfio --root /auto-vfio-root uninstall
if [ "$CHROOT_RC" = 0 ]; then
	qt_pass "uninstall exits 0"
else
	qt_fail "uninstall exits 0 (status $CHROOT_RC)"
	show "$W/uninstall.out"
fi
for f in etc/auto-vfio.conf etc/default/grub.d/auto-vfio.cfg var/lib/auto-vfio/manifest; do
	if [ -e "$mnt/$f" ] || [ -L "$mnt/$f" ]; then qt_fail "uninstall removed /$f"; else qt_pass "uninstall removed /$f"; fi
done
digest etc var/lib/auto-vfio >"$W/digest-3"
if cmp -s "$W/digest-0" "$W/digest-3"; then
	qt_pass "/etc and /var/lib/auto-vfio are as before setup"
else
	qt_fail "/etc and /var/lib/auto-vfio differ from before setup:"
	diff "$W/digest-0" "$W/digest-3" | sed 's/^/| /' || true
fi
cp "$mnt/boot/grub/grub.cfg" "$W/grub-uninstall.cfg"
if has_entries "$W/grub-uninstall.cfg"; then
	qt_fail "grub.cfg after uninstall has no auto-vfio entry"
	has_entries "$W/grub-uninstall.cfg" -n | head -n 5 | sed 's/^/| /'
else
	qt_pass "grub.cfg after uninstall has no auto-vfio entry"
fi
for v in "$KV" "$OLDKV"; do
	if [ -n "$(find "$mnt/boot/initrd.img-$v" -newer "$W/stamp-uninstall")" ]; then
		qt_pass "uninstall rebuilt initrd.img-$v"
	else
		qt_fail "uninstall rebuilt initrd.img-$v"
	fi
done
umount_disk

disk_for after-uninstall
boot after-uninstall disk "$W/after-uninstall.img"
rm -f "$W/after-uninstall.img"
check_guest after-uninstall "after uninstall, default entry" plain "!intel_iommu=on"

qt_summary
[ "$QT_FAILED" = 0 ]
