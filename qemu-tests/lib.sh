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
#   qt_boot NAME INITRD ROOTIMG CMDLINE
#                       boot a guest with a timeout; serial log in $QT_WORK/NAME.log
#   qt_loop_disk IMG SIZE PART...
#                       a partitioned disk image (one sfdisk line per PART) on a
#                       loop device: QT_LOOP, partitions ${QT_LOOP}p1...
#   qt_grub_install BOOTDIR LOG
#                       BIOS GRUB on $QT_LOOP, its files under BOOTDIR
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

# qt_boot NAME INITRD ROOTIMG CMDLINE: boot once, power-off or timeout.
# Writes $QT_WORK/NAME.log (serial, \r stripped) and NAME.time (seconds).
qt_boot() {
	name=$1
	initrd=$2
	rootimg=$3
	cmdline=$4
	mkdir -p "$QT_WORK"
	log=$QT_WORK/$name.log
	# A private copy: two guests must not share a writable disk.
	disk=$QT_WORK/$name.root.img
	cp --sparse=always "$rootimg" "$disk"
	start=$(date +%s.%N)
	set +e
	# shellcheck disable=SC2046 # word splitting of the device list is wanted
	timeout --kill-after=5 "$QT_TIMEOUT" qemu-system-x86_64 $(qt_qemu_args) \
		-drive file="$disk",format=raw,if=none,id=root0,cache=unsafe \
		-device ide-hd,bus=ide.0,drive=root0 \
		-kernel "$QT_VMLINUZ" -initrd "$initrd" \
		-append "console=ttyS0 root=/dev/sda rw panic=-1 $cmdline" \
		-serial stdio </dev/null 2>"$QT_WORK/$name.qemu.err" |
		tr -d '\r' >"$log"
	set -e
	end=$(date +%s.%N)
	rm -f "$disk"
	awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f\n", e - s }' >"$QT_WORK/$name.time"
}

# ---------------------------------------------------------------- report

# The guest's report (see guest-init) is a block of "QT-..." lines.
#   QT-DEV <addr> driver=<name|-> id=<vvvv:dddd> class=<0xcccccc> group=<n|->
# A second VGA device (ati-vga) behind one more root port, for tests where
# the host keeps one of two VGA GPUs.
QT_EXTRA_VGA="-device pcie-root-port,id=rp8,bus=pcie.0,chassis=8,addr=0x8.0 -device ati-vga,bus=rp8,addr=0x0"

# qt_boot_guest NAME KIND ...: boot with lib.sh's hardware plus $QT_EXTRA.
#   KIND "kernel" INITRD ROOTIMG CMDLINE   direct kernel boot, no GRUB
#   KIND "disk" DISKIMG                    BIOS -> GRUB -> its default entry
# Disks are opened with snapshot=on: a guest never changes them. Serial log
# in $QT_WORK/NAME.log (CR stripped), wall time in $QT_WORK/NAME.time.
# With QT_UEFI=1 the firmware is OVMF (Debian's ovmf package) instead of
# SeaBIOS: the kernel then starts through its EFI stub with the GOP
# framebuffer of a display OVMF drives, as on a UEFI PC.
QT_OVMF_CODE=${QT_OVMF_CODE:-/usr/share/OVMF/OVMF_CODE.fd}
QT_OVMF_VARS=${QT_OVMF_VARS:-/usr/share/OVMF/OVMF_VARS.fd}
qt_boot_guest() {
	name=$1
	kind=$2
	shift 2
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
			-append "console=ttyS0 root=/dev/sda rw panic=-1 $3" \
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
