# Shared shell library for the auto-vfio QEMU tests and benchmarks.
# Source it (". qemu-tests/lib.sh") from POSIX sh with `set -eu`.
#
# What it provides:
#   qt_kernel           unpack the real Debian -amd64 kernel into the cache;
#                       sets QT_KVER, QT_KDIR, QT_VMLINUZ
#   qt_install_project  build and install auto-vfio into $QT_DESTDIR (PREFIX=/usr)
#   qt_build_deb        build the Debian package; its path in $QT_DEB
#   qt_mkinitramfs OUT CONFDIR
#                       run the real mkinitramfs for $QT_KVER, with the
#                       unpacked kernel and our installed files bind-mounted
#                       where mkinitramfs looks for them
#   qt_confdir DIR [MODULE...]
#                       write an initramfs-tools conf dir (MODULES=list)
#   qt_rootfs OUT.img DIR
#                       make an ext4 root image from a folder (busybox root)
#   qt_qemu_args        the guest hardware (fixed PCI layout, see below)
#   qt_guest_rootfs IMG the root image of a guest that reports (guest-init)
#   qt_boot_guest NAME KIND ...
#                       boot a guest (its kernel directly, or its disk) with a
#                       timeout; serial log in $QT_WORK/NAME.log
#   qt_boot NAME INITRD ROOTIMG CMDLINE
#                       qt_boot_guest NAME kernel INITRD ROOTIMG CMDLINE
#   qt_scenarios PREFIX LIST
#                       the main of an early-binding test: one boot per
#                       scenario, judged by driver links against a baseline
#   qt_expect_driver / qt_same_drivers
#                       checks of one device's driver, of all other devices'
#   qt_debs DIR PKG...  Debian packages unpacked once into the cache
#   qt_loop_disk IMG SIZE PART...
#                       a partitioned disk image (one sfdisk line per PART) on a
#                       loop device: QT_LOOP, partitions ${QT_LOOP}p1...
#   qt_grub_install BOOTDIR LOG
#                       BIOS GRUB on $QT_LOOP, its files under BOOTDIR
#   qt_own_mounts "$@"  run the test in a mount namespace of its own
#   qt_umount MNT       unmount, and wait until the file system is released
#   qt_release LOOP MNT...
#                       a disk test's cleanup: unmount what is left, detach
#   qt_probe INITRD     the first boot that reports the guest's hardware
#   qt_grub_entries CFG the auto-vfio entries of a grub.cfg
#   qt_pass / qt_fail / qt_summary
#                       counting checks; qt_summary prints "N passed, N failed"

# Where things live; everything is relative to this file.
# Callers live in qemu-tests/ or bench/ (or run from the top directory).
_qt_here=$(cd "$(dirname -- "$0")" && pwd)
for _qt_d in "$_qt_here" "$_qt_here/../qemu-tests" "$_qt_here/qemu-tests"; do
	if [ -f "$_qt_d/lib.sh" ] && [ -f "$_qt_d/guest-init" ]; then
		QT_DIR=$(cd "$_qt_d" && pwd)
		break
	fi
done
[ -n "${QT_DIR:-}" ] || { echo "qemu-tests: cannot find qemu-tests/lib.sh from $0" >&2; exit 1; }
QT_SRC=$(cd "$QT_DIR/.." && pwd)
QT_CACHE=${QT_CACHE:-$QT_DIR/cache}
QT_WORK=${QT_WORK:-$QT_DIR/work}
# Our own build directory so parallel `make` runs elsewhere do not collide.
QT_BUILD=${QT_BUILD:-build/qemu}
QT_DESTDIR=${QT_DESTDIR:-$QT_WORK/destdir}
QT_TIMEOUT=${QT_TIMEOUT:-150}
QT_PASSED=0
QT_FAILED=0

qt_log() { printf '%s\n' "$*" >&2; }
qt_die() { printf 'qemu-tests: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- checks

# qt_loop_disk IMG SIZE PART...: see the top of this file. The caller
# detaches $QT_LOOP (losetup -d) when done with it.
qt_loop_disk() {
	_qt_img=$1
	_qt_size=$2
	shift 2
	rm -f "$_qt_img"
	truncate -s "$_qt_size" "$_qt_img"
	printf '%s\n' "$@" | sfdisk -q "$_qt_img"
	QT_LOOP=$(losetup -f --show -P "$_qt_img")
	partx -a "$QT_LOOP" 2>/dev/null || true
	_qt_n=0
	for _qt_p in "$@"; do
		_qt_n=$((_qt_n + 1))
		[ -b "${QT_LOOP}p$_qt_n" ] && continue
		losetup -d "$QT_LOOP"
		qt_die "no partition device ${QT_LOOP}p$_qt_n"
	done
}

# qt_grub_install BOOTDIR LOG: see the top of this file.
qt_grub_install() {
	grub-install --target=i386-pc --boot-directory="$1" "$QT_LOOP" >"$2" 2>&1 ||
		{ cat "$2"; qt_die "grub-install failed"; }
}

# qt_umount MNT: unmount MNT and wait until its file system is released
# everywhere: a mount namespace made while it was mounted (an unshare -m
# anywhere on the machine) keeps it mounted, the file system live and its
# journal unreplayed, and a copy of the image behind it inconsistent. Waits
# up to QT_SETTLE seconds for the last mount to go and the superblock to be
# clean (no needs_recovery), else fails naming the processes that hold it.
qt_umount() {
	_qt_dev=$(findmnt -n -r -o MAJ:MIN --mountpoint "$1") || qt_die "nothing mounted on $1"
	_qt_src=$(findmnt -n -r -o SOURCE --mountpoint "$1")
	umount "$1"
	_qt_i=0
	while _qt_pins=$(grep -ls "^[0-9]* [0-9]* $_qt_dev " /proc/[0-9]*/mountinfo) ||
		dumpe2fs -h "$_qt_src" 2>/dev/null | grep -q '^Filesystem features:.*needs_recovery' ||
		! dumpe2fs -h "$_qt_src" 2>/dev/null | grep -q '^Filesystem state: *clean$'; do
		_qt_i=$((_qt_i + 1))
		if [ "$_qt_i" -gt "${QT_SETTLE:-300}" ]; then
			qt_die "$_qt_src ($1) is still in use after umount; mounted in the namespaces of: $(echo $_qt_pins | sed 's|/proc/||g; s|/mountinfo||g')"
		fi
		sleep 1
	done
}

# qt_own_mounts "$@": run the calling test again in a mount namespace of its
# own, first thing, so that no namespace made elsewhere on the machine can
# hold a copy of the disks it mounts (see qt_umount).
qt_own_mounts() {
	[ "${QT_OWN_MOUNTS:-}" = 1 ] && return 0
	export QT_OWN_MOUNTS=1
	exec unshare -m --propagation private sh "$0" "$@"
}

# qt_release LOOP MNT...: a disk test's cleanup on exit: unmount whichever
# MNT is still mounted (innermost first), detach LOOP (may be empty).
qt_release() {
	_qt_l=$1
	shift
	for _qt_m in "$@"; do
		mountpoint -q "$_qt_m" 2>/dev/null && umount "$_qt_m"
	done
	[ -n "$_qt_l" ] && losetup -d "$_qt_l" 2>/dev/null
	return 0
}

qt_pass() { QT_PASSED=$((QT_PASSED + 1)); printf 'PASS %s\n' "$*"; }
qt_fail() { QT_FAILED=$((QT_FAILED + 1)); printf 'FAIL %s\n' "$*"; }
qt_summary() { printf '%s passed, %s failed\n' "$QT_PASSED" "$QT_FAILED"; }

# ---------------------------------------------------------------- kernel

# The Debian kernel linux-image-amd64 points at today. The -cloud flavour has
# no DRM drivers, and the race against a GPU driver is the point of the tests.
qt_kernel_pkg() {
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n 1)
	if [ -z "$pkg" ]; then
		# apt knows nothing yet on a fresh machine.
		apt-get update -qq >&2 || true
		pkg=$(apt-cache depends linux-image-amd64 |
			sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n 1)
	fi
	[ -n "$pkg" ] || qt_die "cannot find the kernel package behind linux-image-amd64"
	echo "$pkg"
}

qt_kernel() {
	pkg=$(qt_kernel_pkg)
	QT_KVER=${pkg#linux-image-}
	QT_KDIR=$QT_CACHE/kernel-$QT_KVER
	QT_VMLINUZ=$QT_KDIR/boot/vmlinuz-$QT_KVER
	if [ ! -e "$QT_KDIR/.done" ]; then
		qt_log "qemu-tests: fetching $pkg (once; cached in qemu-tests/cache)"
		rm -rf "$QT_KDIR" "$QT_CACHE/deb"
		mkdir -p "$QT_CACHE/deb" "$QT_KDIR"
		# apt-get download writes into the current directory; never installs.
		(cd "$QT_CACHE/deb" && apt-get download -q "$pkg" >&2)
		dpkg -x "$QT_CACHE"/deb/"$pkg"_*.deb "$QT_KDIR"
		# Debian 12 ships modules under /lib (not merged /usr/lib) in the .deb;
		# accept both so depmod and mkinitramfs find them.
		if [ ! -d "$QT_KDIR/lib/modules/$QT_KVER" ] && [ -d "$QT_KDIR/usr/lib/modules/$QT_KVER" ]; then
			mkdir -p "$QT_KDIR/lib/modules"
			mv "$QT_KDIR/usr/lib/modules/$QT_KVER" "$QT_KDIR/lib/modules/"
		fi
		# The .deb has no modules.dep: the postinst normally makes it.
		depmod -b "$QT_KDIR" "$QT_KVER"
		rm -rf "$QT_CACHE/deb"
		touch "$QT_KDIR/.done"
	fi
	[ -r "$QT_VMLINUZ" ] || qt_die "no kernel image at $QT_VMLINUZ"
	export QT_KVER QT_KDIR QT_VMLINUZ
}

# ---------------------------------------------------------------- project

qt_install_project() {
	rm -rf "$QT_DESTDIR"
	mkdir -p "$QT_DESTDIR"
	# PREFIX here too: make does not rebuild objects when only flags change.
	make -s -C "$QT_SRC" BUILD="$QT_BUILD" PREFIX=/usr all >&2
	make -s -C "$QT_SRC" BUILD="$QT_BUILD" install DESTDIR="$QT_DESTDIR" PREFIX=/usr >&2
}

# qt_build_deb: build the Debian package (make deb) into $QT_DEB_DIR and set
# QT_DEB to its path.
QT_DEB_DIR=${QT_DEB_DIR:-$QT_DIR/work/deb}
qt_build_deb() {
	mkdir -p "$(dirname "$QT_DEB_DIR")"
	make -s -C "$QT_SRC" DEB_DIR="$QT_DEB_DIR" deb >"$QT_DEB_DIR.log" 2>&1 ||
		{ tail -n 30 "$QT_DEB_DIR.log" >&2; qt_die "make deb failed"; }
	QT_DEB=$(ls "$QT_DEB_DIR"/auto-vfio_*_amd64.deb 2>/dev/null | head -n 1)
	[ -n "$QT_DEB" ] || qt_die "make deb made no auto-vfio_*_amd64.deb in $QT_DEB_DIR"
}

# ---------------------------------------------------------------- initramfs

# qt_confdir DIR [MODULE...]: a conf dir for `mkinitramfs -d`. MODULES=list
# builds in seconds; the DRM and controller drivers are forced in so that the
# binder really races them (udev loads them by modalias in init-top).
qt_confdir() {
	d=$1
	shift
	rm -rf "$d"
	mkdir -p "$d/conf.d" "$d/hooks" "$d/scripts"
	cat >"$d/initramfs.conf" <<-EOF
		MODULES=list
		BUSYBOX=y
		KEYMAP=n
		COMPRESS=zstd
		DEVICE=
		NFSROOT=auto
		RUNSIZE=10%
		FSTYPE=ext4
	EOF
	{
		# root disk on q35's AHCI controller
		echo ahci
		echo sd_mod
		echo ext4
		# the GPU drivers and friends the binder has to beat
		echo bochs
		echo qxl
		echo virtio-gpu
		echo virtio-pci
		echo snd-hda-intel
		echo snd-hda-codec-generic
		echo xhci-pci
		echo uhci-hcd
		for m in "$@"; do echo "$m"; done
	} >"$d/modules"
}

# qt_mkinitramfs OUT CONFDIR: mkinitramfs hard-codes /lib/modules, /boot,
# /usr/share/initramfs-tools and the programs' paths, so run it in a private
# mount namespace where those show the unpacked kernel and our installed
# files (overlaid on the host's initramfs-tools, never touching the host).
qt_mkinitramfs() {
	out=$1
	conf=$2
	[ -n "${QT_KVER:-}" ] || qt_die "qt_mkinitramfs: call qt_kernel first"
	mkdir -p "$(dirname "$out")"
	unshare -m sh -eu -c '
		kdir=$1; kver=$2; destdir=$3; out=$4; conf=$5
		mount --make-rprivate /
		# /lib/modules may not exist on the host: then lay the kernel over
		# the whole library folder instead of binding onto a missing point.
		libdir=$(readlink -f /lib)
		if [ -d "$libdir/modules" ]; then
			mount --bind "$kdir/lib/modules" "$libdir/modules"
		else
			mount -t overlay overlay -o "lowerdir=$kdir/lib:$libdir" "$libdir"
		fi
		mount --bind "$kdir/boot" /boot
		# Our files on top of the host ones, read-only (two lower layers).
		for d in usr/share/initramfs-tools usr/sbin; do
			[ -d "$destdir/$d" ] || continue
			mount -t overlay overlay -o "lowerdir=$destdir/$d:/$d" "/$d"
		done
		mkinitramfs -d "$conf" -o "$out" "$kver"
	' sh "$QT_KDIR" "$QT_KVER" "$QT_DESTDIR" "$out" "$conf" >&2
}

# ---------------------------------------------------------------- root disk

# The root file system is a small ext4 image (mkfs.ext4 -d, no root needed)
# on q35's AHCI disk: initramfs-tools then does a real `local` boot, waits
# for the disk, mounts it and runs its /sbin/init (a busybox script that
# prints the report and powers off).
qt_rootfs_skel() {
	d=$1
	rm -rf "$d"
	mkdir -p "$d/bin" "$d/sbin" "$d/dev" "$d/proc" "$d/sys" "$d/run" "$d/tmp" "$d/etc" "$d/root"
	cp /bin/busybox "$d/bin/busybox"
	for a in sh ash cat ls grep sed readlink basename dirname echo printf mount umount \
		poweroff dmesg sleep head tail cut tr wc sort uname test mkdir rm cp ln find \
		awk modprobe insmod lsmod date; do
		ln -s busybox "$d/bin/$a"
	done
}

qt_rootfs() {
	img=$1
	dir=$2
	rm -f "$img"
	# 64 MiB is plenty for busybox plus a report; -d needs no loop device.
	mkfs.ext4 -q -F -L qtroot -d "$dir" "$img" 64M >/dev/null
}

# qt_guest_rootfs IMG: the root image of a guest that reports and powers off
# (guest-init as /sbin/init), built in $QT_WORK/rootdir.
qt_guest_rootfs() {
	qt_rootfs_skel "$QT_WORK/rootdir"
	install -m 0755 "$QT_DIR/guest-init" "$QT_WORK/rootdir/sbin/init"
	qt_rootfs "$1" "$QT_WORK/rootdir"
}

# ---------------------------------------------------------------- guest

# The guest's PCI layout. Root ports get bus numbers in slot order, so the
# guest addresses below are fixed:
#   00:02.0 root port -> 01:00.0 bochs-display  1234:1111
#   00:03.0 root port -> 02:00.0 bochs-display  1234:1111 (identical twin)
#   00:04.0 root port -> 03:00.0 qxl            1b36:0100
#   00:05.0 root port -> 04:00.0 virtio-gpu     1af4:1050
#   00:06.0 root port -> 05:00.0 VGA            1234:1111 (multi-function "GPU")
#                        05:00.1 ich9-intel-hda 8086:293e (its "HDMI audio")
#   00:07.0 root port -> 06:00.0 pcie-pci-bridge 1b36:000e
#                        07:01.0 qemu-xhci      1b36:000d (behind the bridge)
#   00:1f.2 AHCI (root disk), 00:1f.0 LPC, 00:1f.3 SMBus (q35 built-ins)
# A test may set QT_DEVICES to a device list of its own instead.
qt_qemu_args() {
	echo "-machine q35,kernel-irqchip=split -accel tcg -cpu max -m 768 -smp 1"
	echo "-nodefaults -no-user-config -display none -vga none -no-reboot"
	echo "-device intel-iommu,intremap=on"
	if [ -n "${QT_DEVICES:-}" ]; then
		echo "$QT_DEVICES"
		return
	fi
	echo "-device pcie-root-port,id=rp1,bus=pcie.0,chassis=1,addr=0x2.0"
	echo "-device bochs-display,bus=rp1,addr=0x0"
	echo "-device pcie-root-port,id=rp2,bus=pcie.0,chassis=2,addr=0x3.0"
	echo "-device bochs-display,bus=rp2,addr=0x0"
	echo "-device pcie-root-port,id=rp3,bus=pcie.0,chassis=3,addr=0x4.0"
	echo "-device qxl,bus=rp3,addr=0x0"
	echo "-device pcie-root-port,id=rp4,bus=pcie.0,chassis=4,addr=0x5.0"
	echo "-device virtio-gpu-pci,bus=rp4,addr=0x0"
	echo "-device pcie-root-port,id=rp5,bus=pcie.0,chassis=5,addr=0x6.0"
	echo "-device VGA,bus=rp5,addr=0x0.0,multifunction=on"
	echo "-device ich9-intel-hda,id=hda0,bus=rp5,addr=0x0.1"
	echo "-device hda-output,bus=hda0.0,audiodev=snd0 -audiodev none,id=snd0"
	echo "-device pcie-root-port,id=rp6,bus=pcie.0,chassis=6,addr=0x7.0"
	echo "-device pcie-pci-bridge,id=pbr,bus=rp6,addr=0x0"
	echo "-device qemu-xhci,bus=pbr,addr=0x1"
}

# qt_boot NAME INITRD ROOTIMG CMDLINE: boot the kernel directly, power-off
# or timeout (qt_boot_guest NAME kernel ...).
qt_boot() { qt_boot_guest "$1" kernel "$2" "$3" "$4"; }

# qt_probe INITRD: the first boot of a test whose generator needs the
# guest's hardware: root image $QT_WORK/probe.img, report in
# $QT_WORK/probe.log. The test ends here if the guest reports no IOMMU group.
qt_probe() {
	qt_guest_rootfs "$QT_WORK/probe.img"
	qt_boot_guest probe kernel "$1" "$QT_WORK/probe.img" "intel_iommu=on"
	if grep -aq '^QT-END' "$QT_WORK/probe.log" && grep -aq '^QT-DEV .* group=[0-9]' "$QT_WORK/probe.log"; then
		qt_pass "probe boot reports IOMMU groups"
		return 0
	fi
	qt_fail "probe boot reports IOMMU groups"
	qt_tail probe
	qt_summary
	exit 1
}

# qt_older_kver KVER: a version just below KVER, for a second "kernel" (the
# same image) that fills GRUB's submenu of older kernels.
qt_older_kver() {
	_qt_o=$(echo "$1" | awk -F- '{ $2 = $2 - 1; print }' OFS=-)
	[ "$_qt_o" != "$1" ] || _qt_o=1.0.0-1-amd64
	echo "$_qt_o"
}

# qt_grub_entries CFG: the auto-vfio entries of a grub.cfg, one a line in
# menu order: the id (with its submenu's, "submenu>entry") <TAB> the linux
# line's arguments.
qt_grub_entries() {
	awk '
		/^submenu / { match($0, /--id .[^ ]*. \{$/); sub_id = substr($0, RSTART + 6, RLENGTH - 9); next }
		/^}/ { sub_id = ""; next }
		/menuentry .*--id .auto-vfio-/ {
			match($0, /--id .[^ ]*. \{$/); id = substr($0, RSTART + 6, RLENGTH - 9)
			if (sub_id != "") id = sub_id ">" id
			next
		}
		/^[ \t]*linux\t/ && id != "" {
			sub(/^[ \t]*linux\t/, ""); print id "\t" $0; id = ""
		}
	' "$1"
}

# ---------------------------------------------------------------- report

# The guest's report (see guest-init) is a block of "QT-..." lines.
#   QT-DEV <addr> driver=<name|-> id=<vvvv:dddd> class=<0xcccccc> group=<n|->
# A second VGA device (ati-vga) behind one more root port, for tests where
# the host keeps one of two VGA GPUs.
QT_EXTRA_VGA="-device pcie-root-port,id=rp8,bus=pcie.0,chassis=8,addr=0x8.0 -device ati-vga,bus=rp8,addr=0x0"

# qt_boot_guest NAME KIND ...: boot with lib.sh's hardware plus $QT_EXTRA.
#   KIND "kernel" INITRD ROOTIMG CMDLINE   direct kernel boot, no boot loader
#   KIND "disk" DISKIMG                    the firmware boots the disk
# Disks are opened with snapshot=on: a guest never changes them. Serial log
# in $QT_WORK/NAME.log (CR stripped), wall time in $QT_WORK/NAME.time.
# A direct boot's /proc/cmdline is QT_KERNEL_ARGS, then CMDLINE: CMDLINE
# comes last, as a test may check. no_timer_check: under a starved TCG the
# kernel's check of the timer through the interrupt-remapped IO-APIC can
# miss its ticks and panic the guest.
# With QT_UEFI=1 the firmware is OVMF (Debian's ovmf package) instead of
# SeaBIOS: a direct boot then starts the kernel through its EFI stub with
# the GOP framebuffer of a display OVMF drives, as on a UEFI PC; a disk
# boots through its EFI system partition.
QT_KERNEL_ARGS="console=ttyS0 root=/dev/sda rw panic=-1 no_timer_check"
QT_OVMF_CODE=${QT_OVMF_CODE:-/usr/share/OVMF/OVMF_CODE.fd}
QT_OVMF_VARS=${QT_OVMF_VARS:-/usr/share/OVMF/OVMF_VARS.fd}
qt_boot_guest() {
	name=$1
	kind=$2
	shift 2
	mkdir -p "$QT_WORK"
	fw=
	if [ "${QT_UEFI:-0}" = 1 ]; then
		# each guest writes its own copy of the variable store
		cp "$QT_OVMF_VARS" "$QT_WORK/$name.vars"
		fw="-drive if=pflash,format=raw,readonly=on,file=$QT_OVMF_CODE"
		fw="$fw -drive if=pflash,format=raw,file=$QT_WORK/$name.vars"
	fi
	start=$(date +%s.%N)
	set +e
	if [ "$kind" = kernel ]; then
		# shellcheck disable=SC2046,SC2086 # word splitting of the device lists is wanted
		timeout --kill-after=5 "$QT_TIMEOUT" qemu-system-x86_64 $(qt_qemu_args) ${QT_EXTRA:-} $fw \
			-drive file="$2",format=raw,if=none,id=root0,snapshot=on \
			-device ide-hd,bus=ide.0,drive=root0 \
			-kernel "$QT_VMLINUZ" -initrd "$1" \
			-append "$QT_KERNEL_ARGS $3" \
			-serial stdio </dev/null 2>"$QT_WORK/$name.qemu.err" | tr -d '\r' >"$QT_WORK/$name.log"
	else
		# shellcheck disable=SC2046,SC2086
		timeout --kill-after=5 "$QT_TIMEOUT" qemu-system-x86_64 $(qt_qemu_args) ${QT_EXTRA:-} $fw \
			-drive file="$1",format=raw,if=none,id=root0,snapshot=on \
			-device ide-hd,bus=ide.0,drive=root0,bootindex=0 \
			-serial stdio </dev/null 2>"$QT_WORK/$name.qemu.err" | tr -d '\r' >"$QT_WORK/$name.log"
	fi
	set -e
	end=$(date +%s.%N)
	rm -f "$QT_WORK/$name.vars"
	awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f\n", e - s }' >"$QT_WORK/$name.time"
}

# qt_fake_sysfs LOG DIR: the guest's PCI devices and IOMMU groups, as its
# QT-DEV report in LOG has them, laid out as a sysfs tree under DIR for
# auto-vfio's root prefix (the build host's /sys is not the guest's).
qt_fake_sysfs() {
	mkdir -p "$2/sys/bus/pci/devices" "$2/sys/kernel/iommu_groups"
	grep -a '^QT-DEV ' "$1" | while read -r _ addr _ id cls grp; do
		d=$2/sys/bus/pci/devices/$addr
		mkdir -p "$d"
		echo "${id#id=}" | sed 's/^/0x/; s/:.*//' >"$d/vendor"
		echo "0x$(echo "${id#id=}" | cut -d: -f2)" >"$d/device"
		echo "${cls#class=}" >"$d/class"
		# the firmware's display, as vgaarb chose it (VGA devices only)
		case $cls in
		class=0x0300*)
			if grep -aq "^QT-BOOTVGA $addr\$" "$1"; then echo 1; else echo 0; fi >"$d/boot_vga"
			;;
		esac
		g=${grp#group=}
		[ "$g" = - ] && continue
		mkdir -p "$2/sys/kernel/iommu_groups/$g/devices"
		ln -s "../../../../kernel/iommu_groups/$g" "$d/iommu_group"
		ln -s "../../../../../bus/pci/devices/$addr" "$2/sys/kernel/iommu_groups/$g/devices/$addr"
	done
}

qt_report_ok() { grep -aq '^QT-END' "$QT_WORK/$1.log"; }

# qt_driver NAME ADDR: the kernel's driver link target for ADDR, "-" if none,
# "?" if the device was not reported.
qt_driver() {
	d=$(grep -a "^QT-DEV $2 " "$QT_WORK/$1.log" | head -n 1 | sed -n 's/.* driver=\([^ ]*\).*/\1/p')
	echo "${d:-?}"
}

qt_group() {
	g=$(grep -a "^QT-DEV $2 " "$QT_WORK/$1.log" | head -n 1 | sed -n 's/.* group=\([^ ]*\).*/\1/p')
	echo "${g:--}"
}

qt_tail() {
	echo "---- tail of $QT_WORK/$1.log ----"
	tail -n "${2:-40}" "$QT_WORK/$1.log" | sed 's/^/| /'
	if [ -s "$QT_WORK/$1.qemu.err" ]; then
		echo "---- qemu stderr ----"
		tail -n 10 "$QT_WORK/$1.qemu.err" | sed 's/^/| /'
	fi
	echo "----"
}

# qt_expect_driver NAME ADDR DRIVER LABEL TEXT: a check that ADDR ended on
# DRIVER in guest NAME; passes as "LABEL: TEXT".
qt_expect_driver() {
	_qt_d=$(qt_driver "$1" "$2")
	if [ "$_qt_d" = "$3" ]; then
		qt_pass "$4: $5"
	else
		qt_fail "$4: $2 is on '$_qt_d', expected $3"
	fi
}

qt_in_list() {
	case " $2 " in *" $1 "*) return 0 ;; esac
	return 1
}

# qt_same_drivers NAME REF SKIP LABEL TEXT: a check that every device of
# guest REF but those in SKIP has the same driver in guest NAME; passes as
# "LABEL: TEXT", fails naming each change.
qt_same_drivers() {
	_qt_changed=""
	for _qt_a in $(grep -a '^QT-DEV ' "$QT_WORK/$2.log" | cut -d' ' -f2); do
		qt_in_list "$_qt_a" "$3" && continue
		_qt_want=$(qt_driver "$2" "$_qt_a")
		_qt_got=$(qt_driver "$1" "$_qt_a")
		[ "$_qt_want" = "$_qt_got" ] || _qt_changed="$_qt_changed $_qt_a:$_qt_want->$_qt_got"
	done
	if [ -z "$_qt_changed" ]; then
		qt_pass "$4: $5"
		return 0
	fi
	qt_fail "$4: drivers changed:$_qt_changed"
	return 1
}

# qt_debs DIR PKG...: Debian packages unpacked once into $QT_CACHE/DIR
# (apt-get download and dpkg -x: never installed); sets QT_DEBS to it.
qt_debs() {
	QT_DEBS=$QT_CACHE/$1
	shift
	[ -e "$QT_DEBS/.done" ] && return 0
	qt_log "qemu-tests: fetching $* (once; cached in qemu-tests/cache)"
	rm -rf "$QT_DEBS" "$QT_DEBS.deb"
	mkdir -p "$QT_DEBS.deb" "$QT_DEBS"
	(cd "$QT_DEBS.deb" && apt-get download -q "$@" >&2)
	for _qt_f in "$QT_DEBS.deb"/*.deb; do dpkg -x "$_qt_f" "$QT_DEBS"; done
	rm -rf "$QT_DEBS.deb"
	touch "$QT_DEBS/.done"
}

# ---------------------------------------------------------------- scenarios

# Addresses of the default guest layout (qt_qemu_args).
QT_TWIN_A=0000:01:00.0 # bochs-display 1234:1111
QT_TWIN_B=0000:02:00.0 # bochs-display 1234:1111
QT_QXL=0000:03:00.0    # qxl 1b36:0100
QT_VIRTIO=0000:04:00.0 # virtio-gpu 1af4:1050
QT_MF_VGA=0000:05:00.0 # VGA 1234:1111, function 0
QT_MF_HDA=0000:05:00.1 # ich9-intel-hda, function 1 (the GPU's "HDMI audio")
QT_PCIBR=0000:06:00.0  # pcie-pci-bridge
QT_XHCI=0000:07:01.0   # qemu-xhci behind the bridge

# qt_scenario NAME: the scenarios every early-binding test boots (see
# qt_scenarios); false for any other NAME. $QT_EARLY_PASS names what the
# control "late" leaves out of the initramfs.
qt_scenario() {
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
		S_CMDLINE="intel_iommu=on auto_vfio.bind=$QT_TWIN_B@1234:1111"
		S_VFIO="$QT_TWIN_B"
		;;
	usb)
		S_DESC="USB controller behind a pcie-pci-bridge; the bridge stays"
		S_CMDLINE="intel_iommu=on auto_vfio.bind=$QT_XHCI@1b36:000d"
		S_VFIO="$QT_XHCI"
		;;
	late)
		# Control: proves the "no other driver touched it" checks can fail.
		S_DESC="control: $QT_EARLY_PASS left out, so the DRM driver wins the race"
		S_INITRD=late
		S_CMDLINE="intel_iommu=on auto_vfio.bind=$QT_TWIN_B@1234:1111"
		S_FREE="$QT_TWIN_B"
		;;
	*) return 1 ;;
	esac
}

# qt_scenarios PREFIX LIST [--boot NAME]: the main of a scenario test, where
# each scenario of LIST is one direct boot of $QT_WORK/root.img with its own
# initramfs and command line, judged by the kernel's driver links against the
# scenario "baseline" (which LIST holds). The test defines:
#   scenario NAME   sets S_DESC, S_INITRD (boots $QT_WORK/initrd-S_INITRD.img),
#                   S_CMDLINE, S_VFIO (the addresses that must end on
#                   vfio-pci, touched by no other driver) and S_FREE (those
#                   whose driver the scenario judges itself); every other
#                   device must keep its baseline driver
#   prepare         makes the images; check_images judges them
#   scenario_checks N NAME   the scenario's own checks of guest NAME
# and sets QT_BOOTED (the check that the boot reached the root file system's
# init) and, to check /dev/vfio's group nodes too, QT_VFIO_NODES=1. Guests
# run QT_JOBS at a time, each through "$0 --boot NAME".
qt_scenarios() {
	_qt_prefix=$1
	_qt_list=$2
	shift 2
	if [ "${1:-}" = "--boot" ]; then
		scenario "$2"
		qt_kernel >/dev/null
		qt_boot "$_qt_prefix-$2" "$QT_WORK/initrd-$S_INITRD.img" "$QT_WORK/root.img" "$S_CMDLINE"
		exit 0
	fi
	for _qt_n in $_qt_list; do scenario "$_qt_n"; done
	_qt_t0=$(date +%s)
	prepare
	_qt_t1=$(date +%s)
	echo "prepared kernel, initramfs images and root disk in $((_qt_t1 - _qt_t0))s"
	check_images
	for _qt_n in $_qt_list; do rm -f "$QT_WORK/$_qt_prefix-$_qt_n.log" "$QT_WORK/$_qt_prefix-$_qt_n.time"; done
	printf '%s\n' $_qt_list | xargs -P "${QT_JOBS:-2}" -n 1 sh "$0" --boot
	_qt_t2=$(date +%s)
	echo "booted $(echo $_qt_list | wc -w) guests, ${QT_JOBS:-2} at a time, in $((_qt_t2 - _qt_t1))s"
	echo "guest PCI devices (baseline boot, from sysfs):"
	grep -a '^QT-DEV ' "$QT_WORK/$_qt_prefix-baseline.log" | sed 's/^QT-DEV /   /' || true
	for _qt_n in $_qt_list; do qt_check_scenario "$_qt_prefix" "$_qt_n"; done
	qt_summary
	[ "$QT_FAILED" = 0 ]
}

# qt_check_scenario PREFIX N: the checks of scenario N (see qt_scenarios).
qt_check_scenario() {
	n=$2
	name=$1-$n
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
	qt_pass "$n: $QT_BOOTED"

	# The kernel's own view of the command line must be what we asked for.
	grep -aq "^QT-CMDLINE .*$S_CMDLINE\$" "$QT_WORK/$name.log" ||
		qt_fail "$n: /proc/cmdline does not end with the scenario's arguments"

	for a in $S_VFIO; do
		qt_expect_driver "$name" "$a" vfio-pci "$n" "$a is on vfio-pci"
		# Early means before any other driver: only the PCI core and
		# vfio-pci may ever have logged about this device.
		others=$(grep -a "^QT-TOUCHED [^ ]* $a\$" "$QT_WORK/$name.log" | cut -d' ' -f2 |
			grep -v -x -e pci -e vfio-pci | tr '\n' ' ' || true)
		if [ -z "$others" ]; then
			qt_pass "$n: no other driver ever touched $a"
		else
			qt_fail "$n: $a was first taken by: $others"
		fi
		[ "${QT_VFIO_NODES:-0}" = 1 ] || continue
		g=$(qt_group "$name" "$a")
		if grep -a '^QT-VFIO' "$QT_WORK/$name.log" | tr ' ' '\n' | grep -qx "$g"; then
			qt_pass "$n: /dev/vfio/$g exists for $a's group"
		else
			qt_fail "$n: /dev/vfio/$g missing for $a ($(grep -a '^QT-VFIO' "$QT_WORK/$name.log"))"
		fi
	done

	# Everything else exactly as in the baseline boot: no DRM driver lost, no
	# bridge touched, nothing driverless, nothing else on vfio-pci.
	qt_same_drivers "$name" "$1-baseline" "$S_VFIO $S_FREE" "$n" "every other device keeps its baseline driver" || true

	if [ "${QT_VFIO_NODES:-0}" = 1 ] && [ -z "$S_VFIO$S_FREE" ]; then
		groups=$(grep -a '^QT-VFIO' "$QT_WORK/$name.log" | tr ' ' '\n' | grep -x '[0-9][0-9]*' || true)
		if [ -z "$groups" ]; then
			qt_pass "$n: no /dev/vfio group node"
		else
			qt_fail "$n: unexpected /dev/vfio groups: $(echo $groups)"
		fi
	fi

	scenario_checks "$n" "$name"
	[ "$QT_FAILED" = "$failed_before" ] || qt_tail "$name"
	return 0
}
