#!/bin/sh
# End-to-end test of the systemd-boot chain: the real kernel-install
# (systemd's, with its 90-loaderentry.install) and our plugin as `make
# install` puts it write the BLS entries of the guest machine into an EFI
# system partition holding Debian's systemd-boot; OVMF (Debian's ovmf) boots
# the disk under QEMU (TCG) and systemd-boot boots each entry in turn (the
# default of loader.conf, timeout 0). The initramfs is the real
# mkinitramfs's with our hook. The checks read the kernel's `driver` links as
# the guest reports them (qemu-tests/guest-init). Last, `auto-vfio setup
# --default` writes loader.conf's default for a machine with two kernels, and
# systemd-boot boots the newest kernel's entry it names.
#
#   sh qemu-tests/sdboot-test.sh       QT_JOBS=2 QT_TIMEOUT=240
#
# Last line: "N passed, N failed"; exit status 1 if anything failed.
set -eu

QT_WORK=${QT_WORK:-$(cd "$(dirname -- "$0")" && pwd)/work/sdboot}
QT_TIMEOUT=${QT_TIMEOUT:-240}
. "$(dirname -- "$0")/lib.sh"

QT_JOBS=${QT_JOBS:-2}
TOKEN=autovfiotest

# ---------------------------------------------------------------- pieces

# Debian's systemd-boot, unpacked once into the cache; OVMF's 4 MiB build,
# from Debian's ovmf (tools/deps.sh).
firmware_unpack() {
	qt_debs sdboot systemd-boot-efi
	QT_UEFI=1
	QT_OVMF_CODE=/usr/share/OVMF/OVMF_CODE_4M.fd
	QT_OVMF_VARS=/usr/share/OVMF/OVMF_VARS_4M.fd
	QT_SDBOOT=$QT_DEBS/usr/lib/systemd/boot/efi/systemd-bootx64.efi
	for f in "$QT_OVMF_CODE" "$QT_OVMF_VARS" "$QT_SDBOOT"; do
		[ -r "$f" ] || qt_die "missing $f"
	done
}

# kernel_install MACHINE-ROOT [KVER EXTRA]: the real kernel-install adds the
# kernel (as KVER, into the ESP there is, with EXTRA on the command line;
# without them, as itself into a new ESP) with 90-loaderentry and our
# installed plugin into $QT_WORK/esp. The ESP is a
# mount point of its own there (a tmpfs in a private mount namespace), so the
# entries' paths are relative to the ESP as on a real machine; /usr/sbin
# shows the installed auto-vfio-bls, as the plugin expects it.
kernel_install() {
	[ $# -gt 1 ] || rm -rf "$QT_WORK/esp"
	mkdir -p "$QT_WORK/esp" "$QT_WORK/conf"
	echo "layout=bls" >"$QT_WORK/conf/install.conf"
	echo "$TOKEN" >"$QT_WORK/conf/entry-token"
	# Under OVMF the firmware's framebuffer becomes a sysfb device that each DRM
	# driver unregisters when it takes over; Debian's 6.1 kernel oopses in
	# device_del when two of them race there (bochs-drm twice). Without the
	# sysfb device the DRM drivers still load and claim their cards.
	echo "console=ttyS0 root=/dev/sda2 rw panic=-1 intel_iommu=on initcall_blacklist=sysfb_init${3:+ $3}" \
		>"$QT_WORK/conf/cmdline"
	unshare -m sh -eu -c '
		work=$1; destdir=$2; root=$3; kver=$4; vmlinuz=$5; initrd=$6; token=$7
		mount --make-rprivate /
		mount -t overlay overlay -o "lowerdir=$destdir/usr/sbin:/usr/sbin" /usr/sbin
		mkdir -p "$work/esp.stage"
		mount -t tmpfs tmpfs "$work/esp.stage"
		mkdir -p "$work/esp.stage/loader/entries" "$work/esp.stage/$token"
		KERNEL_INSTALL_PLUGINS="/usr/lib/kernel/install.d/90-loaderentry.install $destdir/usr/lib/kernel/install.d/95-auto-vfio.install" \
		KERNEL_INSTALL_CONF_ROOT=$work/conf BOOT_ROOT=$work/esp.stage \
		KERNEL_INSTALL_MACHINE_ID=0123456789abcdef0123456789abcdef \
		AUTO_VFIO_ROOT=$root \
			kernel-install add "$kver" "$vmlinuz" "$initrd"
		cp -a "$work/esp.stage/." "$work/esp/"
		umount "$work/esp.stage"
	' sh "$QT_WORK" "$QT_DESTDIR" "$1" "${2:-$QT_KVER}" "$QT_VMLINUZ" "$QT_WORK/initrd.img" "$TOKEN" >&2
	rmdir "$QT_WORK/esp.stage" 2>/dev/null || true
}

# disk NAME ENTRY-ID [LOADER-CONF]: a GPT disk, ESP (systemd-boot, the
# entries, the kernel) with loader.conf booting ENTRY-ID at once (or the file
# LOADER-CONF), then the ext4 root.
disk() {
	esp=$QT_WORK/$1.esp.img
	img=$QT_WORK/$1.disk.img
	rm -f "$esp" "$img"
	truncate -s 96M "$esp"
	mformat -i "$esp" -F ::
	mmd -i "$esp" ::/EFI ::/EFI/BOOT ::/EFI/systemd
	mcopy -i "$esp" "$QT_SDBOOT" ::/EFI/BOOT/BOOTX64.EFI
	mcopy -i "$esp" "$QT_SDBOOT" ::/EFI/systemd/systemd-bootx64.efi
	mcopy -i "$esp" -s "$QT_WORK/esp/loader" "$QT_WORK/esp/$TOKEN" ::/
	if [ -n "${3:-}" ]; then
		cp "$3" "$QT_WORK/$1.loader.conf"
	else
		printf 'timeout 0\ndefault %s\n' "$2" >"$QT_WORK/$1.loader.conf"
	fi
	mcopy -i "$esp" -o "$QT_WORK/$1.loader.conf" ::/loader/loader.conf
	truncate -s 200M "$img"
	printf 'label: gpt\nstart=2048, size=196608, type=uefi\nstart=198656, type=linux\n' |
		sfdisk -q "$img"
	dd if="$esp" of="$img" bs=512 seek=2048 conv=notrunc status=none
	dd if="$QT_WORK/root.img" of="$img" bs=512 seek=198656 conv=notrunc status=none
	rm -f "$esp"
}

if [ "${1:-}" = "--boot" ]; then
	qt_kernel >/dev/null
	firmware_unpack
	# OVMF -> systemd-boot -> the loader.conf default
	qt_boot_guest "$2" disk "$QT_WORK/$2.disk.img"
	exit 0
fi

# ---------------------------------------------------------------- checks

# check NAME ENTRY VFIO...: the entry booted (its options on /proc/cmdline),
# VFIO on vfio-pci, every other device on its plain-boot driver.
check() {
	name=$1
	id=$2
	shift 2
	vfio=$*
	t=$(cat "$QT_WORK/$name.time" 2>/dev/null || echo "?")
	echo "== $name: $id (${t}s wall)"
	if [ ! -e "$QT_WORK/esp/loader/entries/$id" ]; then
		qt_fail "$name: no entry $id to boot"
		return 0
	fi
	if ! qt_report_ok "$name"; then
		qt_fail "$name: guest never reached the root file system's init"
		qt_tail "$name"
		return 0
	fi
	opts=$(sed -n 's/^options *//p' "$QT_WORK/esp/loader/entries/$id")
	if grep -aq "^QT-CMDLINE .*$opts" "$QT_WORK/$name.log"; then
		qt_pass "$name: systemd-boot booted $id (its options are the kernel's command line)"
	else
		qt_fail "$name: /proc/cmdline is not $id's options ($opts)"
		grep -a '^QT-CMDLINE' "$QT_WORK/$name.log" | sed 's/^/| /'
	fi
	for a in $vfio; do
		qt_expect_driver "$name" "$a" vfio-pci "$name" "$a is on vfio-pci"
	done
	qt_same_drivers "$name" plain "$vfio" "$name" "every other device keeps its plain-boot driver" ||
		qt_tail "$name"
}

# ---------------------------------------------------------------- main

t0=$(date +%s)
qt_kernel
firmware_unpack
echo "kernel: $QT_KVER; systemd-boot from Debian (unpacked in qemu-tests/cache), OVMF from Debian"
mkdir -p "$QT_WORK"
qt_install_project
[ -e "$QT_DESTDIR/usr/lib/kernel/install.d/95-auto-vfio.install" ] ||
	qt_die "make install put no kernel-install plugin"
qt_confdir "$QT_WORK/conf-initramfs"
qt_mkinitramfs "$QT_WORK/initrd.img" "$QT_WORK/conf-initramfs"
qt_guest_rootfs "$QT_WORK/root.img"

# 1. Not configured: kernel-install writes the plain entry only; boot it.
rm -rf "$QT_WORK/machine"
mkdir -p "$QT_WORK/machine"
kernel_install "$QT_WORK/machine"
plain=$TOKEN-$QT_KVER.conf
n=$(ls "$QT_WORK/esp/loader/entries" | wc -l)
if [ "$n" = 1 ] && [ -e "$QT_WORK/esp/loader/entries/$plain" ]; then
	qt_pass "unconfigured: kernel-install wrote only the plain entry $plain"
else
	qt_fail "unconfigured: entries are $(ls "$QT_WORK/esp/loader/entries")"
fi
disk plain "$plain"
sh "$0" --boot plain
check plain "$plain"

# 2. The guest machine as its plain boot reported it, multi-boot with the qxl
# card and the multi-function GPU selected: kernel-install again. The VGA
# function can stay with the host (an entry keeping it); the qxl card is a
# display controller without VGA (class 0380), so like any non-VGA group it
# goes to VMs in every entry, as in the GRUB menu.
qt_fake_sysfs "$QT_WORK/plain.log" "$QT_WORK/machine"
printf 'processor\t: 0\nvendor_id\t: GenuineIntel\n' >"$QT_WORK/machine/cpuinfo.tmp"
mkdir -p "$QT_WORK/machine/proc" "$QT_WORK/machine/etc"
mv "$QT_WORK/machine/cpuinfo.tmp" "$QT_WORK/machine/proc/cpuinfo"
cat >"$QT_WORK/machine/etc/auto-vfio.conf" <<EOF
version = 1
mode = multiboot
iommu_params = intel_iommu=on iommu=pt
select = $QT_QXL@1b36:0100
select = $QT_MF_VGA@1234:1111
select = $QT_MF_HDA@8086:293e
EOF
kernel_install "$QT_WORK/machine"
ls "$QT_WORK/esp/loader/entries" | sed 's/^/   entry: /'
host_vga=$TOKEN-$QT_KVER-auto-vfio-host-0000-05-00.0.conf
headless=$TOKEN-$QT_KVER-auto-vfio-headless.conf
n=$(ls "$QT_WORK/esp/loader/entries" | grep -c -- '-auto-vfio-' || true)
if [ "$n" = 2 ] && [ -e "$QT_WORK/esp/loader/entries/$host_vga" ] &&
	[ -e "$QT_WORK/esp/loader/entries/$headless" ]; then
	qt_pass "multi-boot: the entry keeping the VGA GPU and the headless one beside the plain entry"
else
	qt_fail "multi-boot: auto-vfio entries are $(ls "$QT_WORK/esp/loader/entries")"
fi
if grep -q auto_vfio "$QT_WORK/esp/loader/entries/$plain"; then
	qt_fail "the plain entry carries auto_vfio parameters"
else
	qt_pass "the plain entry carries no auto_vfio parameter"
fi
disk host-vga "$host_vga"
disk headless "$headless"
t1=$(date +%s)
printf '%s\n' host-vga headless | xargs -P "$QT_JOBS" -n 1 sh "$0" --boot
t2=$(date +%s)
echo "booted 3 guests through OVMF and systemd-boot in $((t2 - t0))s ($((t2 - t1))s for the last 2, $QT_JOBS at a time)"
check host-vga "$host_vga" "$QT_QXL"
check headless "$headless" "$QT_QXL" "$QT_MF_VGA" "$QT_MF_HDA"
qt_expect_driver headless "$QT_TWIN_B" bochs-drm headless "the unselected $QT_TWIN_B keeps bochs-drm"

# 3. A kernel upgrade, then `auto-vfio setup --default host-ADDR` on the
# machine with this ESP as /boot/efi: loader.conf's default is a glob without
# the kernel version, so systemd-boot boots the newest kernel's entry (marked
# by qt.kernel=newer on its command line; the same kernel image stands in for
# the newer one) for the GPU the host keeps.
NEWER=6.1.0-999-amd64
kernel_install "$QT_WORK/machine" "$NEWER" qt.kernel=newer
m=$QT_WORK/machine
rm -rf "$m/boot" "$m/var/lib/auto-vfio"
mkdir -p "$m/boot/efi/loader" "$m/etc/initramfs-tools"
cp -a "$QT_WORK/esp/loader/entries" "$m/boot/efi/loader/"
printf 'timeout 0\n' >"$m/boot/efi/loader/loader.conf"
: >"$m/etc/initramfs-tools/initramfs.conf"
if "$QT_DESTDIR/usr/sbin/auto-vfio" --root "$m" setup --multiboot --select "$QT_QXL,$QT_MF_VGA" \
	--default "host-$QT_MF_VGA" --yes >"$QT_WORK/setup-default.out" 2>&1; then
	qt_pass "setup --default host-$QT_MF_VGA on systemd-boot"
else
	qt_fail "setup --default host-$QT_MF_VGA on systemd-boot"
fi
sed 's/^/| /' "$m/boot/efi/loader/loader.conf"
newest=$TOKEN-$NEWER-auto-vfio-host-0000-05-00.0.conf
older=$TOKEN-$QT_KVER-auto-vfio-host-0000-05-00.0.conf
if [ -e "$QT_WORK/esp/loader/entries/$newest" ] && [ -e "$QT_WORK/esp/loader/entries/$older" ] &&
	grep -qx 'default \*-auto-vfio-host-0000-05-00.0.conf' "$m/boot/efi/loader/loader.conf"; then
	qt_pass "loader.conf's default is a glob matching both kernels' entries"
else
	qt_fail "loader.conf's default: $(grep default "$m/boot/efi/loader/loader.conf")"
fi
disk default "(loader.conf)" "$m/boot/efi/loader/loader.conf"
sh "$0" --boot default
check default "$newest" "$QT_QXL"
if grep -aq '^QT-CMDLINE .*qt.kernel=newer' "$QT_WORK/default.log"; then
	qt_pass "default: the newest kernel's entry booted, not $older"
else
	qt_fail "default: not the newest kernel's entry"
fi

qt_summary
[ "$QT_FAILED" = 0 ]
