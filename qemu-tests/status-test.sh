#!/bin/sh
# `auto-vfio status` inside a guest, after the boot it judges: the real
# program with its libraries on the root disk, the guest's own sysfs, its
# /boot (kernel, config, the initramfs our hook built) and modules index.
#   good      the configured group is bound: status is healthy (exit 0)
#   mismatch  the entry asks for the wrong vendor:device, so nothing is
#             bound: status exits 1 and names the device and the problem
# Last line: "N passed, N failed"; exit status 1 if anything failed.
set -eu

QT_WORK=${QT_WORK:-$(cd "$(dirname -- "$0")" && pwd)/work/status}
QT_BUILD=${QT_BUILD:-build/qemu-status}
. "$(dirname -- "$0")/lib.sh"

MF_VGA=0000:05:00.0 # VGA 1234:1111 with ich9-intel-hda at .1 (lib.sh's layout)

# Copy a program and the shared libraries it loads into the root tree.
copy_with_libs() {
	prog=$1
	root=$2
	dest=$3
	mkdir -p "$root$(dirname "$dest")"
	cp "$prog" "$root$dest"
	ldd "$prog" | awk '/=> \// { print $3 } /^[ \t]*\/lib/ { print $1 }' | while read -r lib; do
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
}

qt_kernel
mkdir -p "$QT_WORK"
qt_install_project
qt_confdir "$QT_WORK/conf"
qt_mkinitramfs "$QT_WORK/initrd.img" "$QT_WORK/conf"

R=$QT_WORK/rootdir
qt_rootfs_skel "$R"
cp "$QT_DIR/guest-init" "$R/sbin/init"
chmod 0755 "$R/sbin/init"
copy_with_libs "$QT_DESTDIR/usr/sbin/auto-vfio" "$R" /usr/sbin/auto-vfio
mkdir -p "$R/usr/share/misc" "$R/boot" "$R/lib/modules/$QT_KVER"
cp /usr/share/misc/pci.ids "$R/usr/share/misc/"
# What status inspects of an installed kernel; the image is the one booted.
cp "$QT_KDIR/boot/config-$QT_KVER" "$R/boot/"
: >"$R/boot/vmlinuz-$QT_KVER"
cp "$QT_WORK/initrd.img" "$R/boot/initrd.img-$QT_KVER"
cp "$QT_KDIR/lib/modules/$QT_KVER"/modules.* "$R/lib/modules/$QT_KVER/"
mkdir -p "$R/lib/modules/$QT_KVER/kernel/drivers"
cp -a "$QT_KDIR/lib/modules/$QT_KVER/kernel/drivers/vfio" "$R/lib/modules/$QT_KVER/kernel/drivers/"
mkdir -p "$R/lib/modules/$QT_KVER/kernel/virt"
cp -a "$QT_KDIR/lib/modules/$QT_KVER/kernel/virt/lib" "$R/lib/modules/$QT_KVER/kernel/virt/"
# Debian 12 compresses the initramfs with zstd: status reads it through the tool.
copy_with_libs "$(command -v zstd)" "$R" /usr/bin/zstd
cat >"$R/etc/auto-vfio.conf" <<EOF2
version = 1
mode = static
iommu_params = intel_iommu=on
select = $MF_VGA@1234:1111
EOF2
cat >"$R/etc/qt-extra" <<'EOF2'
#!/bin/sh
PATH=/usr/sbin:/usr/bin:/sbin:/bin /usr/sbin/auto-vfio --no-color status
echo "QT-STATUS-RC $?"
EOF2
chmod 0755 "$R/etc/qt-extra"
qt_rootfs "$QT_WORK/root.img" "$R"

boot() {
	qt_boot "status-$1" "$QT_WORK/initrd.img" "$QT_WORK/root.img" "$2"
}
boot good "intel_iommu=on auto_vfio.bind=$MF_VGA@1234:1111" &
boot mismatch "intel_iommu=on auto_vfio.bind=$MF_VGA@1234:9999" &
wait

for s in good mismatch; do
	log=$QT_WORK/status-$s.log
	echo "guest status-$s: $(cat "$QT_WORK/status-$s.time") s"
	if grep -aq '^QT-EXTRA-END' "$log"; then
		qt_pass "$s: the guest ran auto-vfio status"
	else
		qt_fail "$s: the guest ran auto-vfio status"
		qt_tail "status-$s"
		continue
	fi
	rc=$(sed -n 's/^QT-STATUS-RC //p' "$log")
	drv=$(qt_driver "status-$s" "$MF_VGA")
	case $s in
	good)
		[ "$drv" = vfio-pci ] && qt_pass "good: $MF_VGA is on vfio-pci" ||
			qt_fail "good: $MF_VGA is on '$drv', not vfio-pci"
		if grep -aq '^ok  *initramfs .* carries the binder' "$log"; then
			qt_pass "good: status read the booted initramfs and found our files"
		else
			qt_fail "good: status did not confirm the initramfs"
		fi
		if [ "$rc" = 0 ]; then
			qt_pass "good: status says healthy (exit 0)"
		else
			qt_fail "good: status exit $rc"
			sed -n '/^QT-EXTRA-END/q; /QT-END/,$p' "$log" | sed 's/^/| /'
		fi
		;;
	mismatch)
		[ "$drv" != vfio-pci ] && qt_pass "mismatch: $MF_VGA kept its driver ($drv)" ||
			qt_fail "mismatch: $MF_VGA is on vfio-pci"
		if [ "$rc" = 1 ]; then
			qt_pass "mismatch: status reports a problem (exit 1)"
		else
			qt_fail "mismatch: status exit '$rc', expected 1"
		fi
		# the exact problem: the configured device is not on vfio-pci
		if sed -n '/^QT-END/,/^QT-EXTRA-END/p' "$log" | grep -a "$MF_VGA" | grep -aq "vfio-pci"; then
			qt_pass "mismatch: status names $MF_VGA and vfio-pci"
		else
			qt_fail "mismatch: status does not name $MF_VGA with vfio-pci"
			sed -n '/^QT-END/,/^QT-EXTRA-END/p' "$log" | sed 's/^/| /'
		fi
		;;
	esac
done
qt_summary
[ "$QT_FAILED" = 0 ]
