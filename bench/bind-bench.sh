#!/bin/sh
# Benchmark of the early binder, in a QEMU guest running the real Debian
# kernel (TCG: absolute numbers are slow, the ratio is what counts).
#
# 1. Time: auto-vfio-bind against the shell loop the widely copied
#    vfio-pci-override.sh style scripts use (driver_override, unbind,
#    drivers_probe per device), binding the same devices, measured with
#    CLOCK_MONOTONIC by a static timer (bench/mono-time.c). Between runs the
#    guest puts the devices back, so every run starts from the same state.
#    Two starting states:
#      driverless  as in init-top before udev (the case auto-vfio is for)
#      taken       each device owned by its host driver (bochs-drm, qxl, ...)
# 2. Size: the compressed initramfs with our hook, minus the same initramfs
#    with only the vfio modules added: what the hook costs beyond them.
#
# Targets: binder <= 1/10 of the shell time; hook adds <= 64 KiB.
# Prints numbers; does not fail on targets (only when it cannot measure).
set -eu

. "$(dirname -- "$0")/../qemu-tests/lib.sh"
# `make bench` installs only the bench set; the guest needs the qemu set.
sh "$QT_SRC/tools/deps.sh" qemu

QT_WORK=$QT_DIR/work/bench
QT_DESTDIR=$QT_WORK/destdir
ROUNDS=${BENCH_ROUNDS:-7}
mkdir -p "$QT_WORK"

qt_kernel
qt_install_project
[ -x "$QT_DESTDIR/usr/sbin/auto-vfio-bind" ] || qt_die "the build installed no auto-vfio-bind"

# ---------------------------------------------------------------- size

size_of() { stat -c %s "$1"; }

qt_confdir "$QT_WORK/conf-hook"
qt_mkinitramfs "$QT_WORK/initrd-hook.img" "$QT_WORK/conf-hook"
# Without our files: an empty DESTDIR hides nothing and adds nothing.
real_destdir=$QT_DESTDIR
QT_DESTDIR=$QT_WORK/empty
rm -rf "$QT_DESTDIR"
mkdir -p "$QT_DESTDIR"
qt_confdir "$QT_WORK/conf-plain"
qt_mkinitramfs "$QT_WORK/initrd-plain.img" "$QT_WORK/conf-plain"
# The same vfio modules our hook adds, through the ordinary modules list.
qt_confdir "$QT_WORK/conf-vfio" vfio vfio_iommu_type1 vfio_pci_core vfio_pci
qt_mkinitramfs "$QT_WORK/initrd-vfio.img" "$QT_WORK/conf-vfio"
QT_DESTDIR=$real_destdir

s_hook=$(size_of "$QT_WORK/initrd-hook.img")
s_plain=$(size_of "$QT_WORK/initrd-plain.img")
s_vfio=$(size_of "$QT_WORK/initrd-vfio.img")
added=$((s_hook - s_vfio))
echo "initramfs (zstd, MODULES=list + DRM drivers), kernel $QT_KVER:"
echo "  without auto-vfio:               $s_plain bytes"
echo "  with vfio modules only:          $s_vfio bytes (vfio modules: $((s_vfio - s_plain)) bytes)"
echo "  with the auto-vfio hook:         $s_hook bytes"
echo "  added by the hook beyond vfio:   $added bytes ($(awk -v a="$added" 'BEGIN { printf "%.1f", a / 1024 }') KiB; target <= 64 KiB)"
only_hook=$(lsinitramfs "$QT_WORK/initrd-hook.img" | sort >"$QT_WORK/hook.list"
	lsinitramfs "$QT_WORK/initrd-vfio.img" | sort >"$QT_WORK/vfio.list"
	comm -23 "$QT_WORK/hook.list" "$QT_WORK/vfio.list" | tr '\n' ' ')
echo "  files only in the hook image:    $only_hook"

# ---------------------------------------------------------------- time

# Devices the host drivers own in this guest (see qt_qemu_args), and the
# selectors naming the same devices for the binder (05:00.1 comes with its
# group). Not qxl: its interrupt handler oopses after an unbind in 6.1.
DEVS="0000:01:00.0 0000:02:00.0 0000:05:00.0 0000:05:00.1 0000:07:01.0"
SEL="0000:01:00.0@1234:1111,0000:02:00.0@1234:1111,0000:05:00.0@1234:1111,0000:07:01.0@1b36:000d"

root=$QT_WORK/rootdir
qt_rootfs_skel "$root"
install -m 0755 "$QT_DIR/guest-init" "$root/sbin/init"
gcc -static -O2 -std=c11 -Wall -Wextra -D_GNU_SOURCE -o "$root/bin/mono-time" "$QT_SRC/bench/mono-time.c"

# The binder and its shared libraries, at the paths ldd names.
install -D -m 0755 "$QT_DESTDIR/usr/sbin/auto-vfio-bind" "$root/sbin/auto-vfio-bind"
for lib in $(ldd "$QT_DESTDIR/usr/sbin/auto-vfio-bind" | grep -o '/[^ ]*'); do
	install -D -m 0755 "$lib" "$root$lib"
done
# An empty program linked like the binder: what the dynamic loader alone
# costs (libkmod pulls in libcrypto, libzstd, liblzma).
echo 'int main(void) { return 0; }' >"$QT_WORK/empty.c"
gcc -O2 -o "$root/bin/empty-kmod" "$QT_WORK/empty.c" -Wl,--no-as-needed -lkmod
gcc -O2 -static -o "$root/bin/empty-static" "$QT_WORK/empty.c"

# vfio modules, so both contenders find vfio-pci already loaded (loaded once
# before the first run: module loading is not what is compared).
kmods=$root/lib/modules/$QT_KVER
mkdir -p "$kmods/kernel"
(cd "$QT_KDIR/lib/modules/$QT_KVER" &&
	cp --parents -r kernel/drivers/vfio kernel/virt/lib modules.builtin modules.builtin.modinfo modules.order "$kmods/")
depmod -b "$root" "$QT_KVER"

# The shell contender, as the copied scripts do it, one device after another.
cat >"$root/bin/vfio-pci-override.sh" <<'EOF'
#!/bin/sh
for dev in "$@"; do
	d=/sys/bus/pci/devices/$dev
	echo vfio-pci >"$d/driver_override"
	if [ -e "$d/driver" ]; then
		echo "$dev" >"$d/driver/unbind"
	fi
	echo "$dev" >/sys/bus/pci/drivers_probe
done
EOF
chmod 0755 "$root/bin/vfio-pci-override.sh"

cat >"$root/etc/qt-extra" <<EOF
#!/bin/sh
# Runs after the guest's report: alternate binder and shell rounds.
DEVS="$DEVS"
SEL="$SEL"
ROUNDS=$ROUNDS
EOF
cat >>"$root/etc/qt-extra" <<'EOF'
modprobe vfio-pci || echo "QT-BENCH-ERROR modprobe vfio-pci failed"

# reset driverless|taken: back to the starting state.
reset() {
	for dev in $DEVS; do
		d=/sys/bus/pci/devices/$dev
		echo >"$d/driver_override"
		[ -e "$d/driver" ] && echo "$dev" >"$d/driver/unbind"
	done
	if [ "$1" = taken ]; then
		for dev in $DEVS; do echo "$dev" >/sys/bus/pci/drivers_probe; done
	fi
	sleep 1
}

verify() {
	for dev in $DEVS; do
		drv=$(readlink /sys/bus/pci/devices/$dev/driver)
		[ "${drv##*/}" = vfio-pci ] || echo "QT-BENCH-ERROR $1: $dev on '${drv##*/}'"
	done
}

# Where the binder's time goes: start-up alone (kill switch: parses the
# command line and exits) and a repeat pass over groups already on vfio-pci.
i=1
while [ "$i" -le "$ROUNDS" ]; do
	echo "QT-BENCH startup binder $(mono-time /sbin/auto-vfio-bind --cmdline auto_vfio=off 2>/dev/null)"
	echo "QT-BENCH startup shell $(mono-time /bin/sh -c : 2>/dev/null)"
	echo "QT-BENCH libs binder $(mono-time /bin/empty-kmod 2>/dev/null)"
	echo "QT-BENCH libs shell $(mono-time /bin/empty-static 2>/dev/null)"
	i=$((i + 1))
done

for state in driverless taken; do
	i=1
	while [ "$i" -le "$ROUNDS" ]; do
		reset "$state"
		echo "QT-BENCH $state binder $(mono-time /sbin/auto-vfio-bind --cmdline "auto_vfio.bind=$SEL" 2>/dev/null)"
		verify "binder $state"
		reset "$state"
		echo "QT-BENCH $state shell $(mono-time /bin/sh /bin/vfio-pci-override.sh $DEVS 2>/dev/null)"
		verify "shell $state"
		if [ "$state" = driverless ]; then
			echo "QT-BENCH repeat binder $(mono-time /sbin/auto-vfio-bind --cmdline "auto_vfio.bind=$SEL" 2>/dev/null)"
			echo "QT-BENCH repeat shell $(mono-time /bin/sh /bin/vfio-pci-override.sh $DEVS 2>/dev/null)"
		fi
		i=$((i + 1))
	done
done
EOF
chmod 0755 "$root/etc/qt-extra"
qt_rootfs "$QT_WORK/root.img" "$root"

# auto_vfio=off: the initramfs pass binds nothing, the host drivers take all.
QT_TIMEOUT=${BENCH_TIMEOUT:-400}
qt_boot bench "$QT_WORK/initrd-hook.img" "$QT_WORK/root.img" "intel_iommu=on auto_vfio=off"
log=$QT_WORK/bench.log
if ! grep -aq '^QT-EXTRA-END' "$log"; then
	qt_tail bench 60
	qt_die "the benchmark guest did not finish (log: $log)"
fi
if grep -aq '^QT-BENCH-ERROR' "$log"; then
	grep -a '^QT-BENCH-ERROR' "$log" | head -n 10
fi

# median STATE WHO: median nanoseconds over the rounds.
median() {
	grep -a "^QT-BENCH $1 $2 " "$log" | cut -d' ' -f4 | sort -n |
		awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print 0 }'
}

echo "bind time in the guest (QEMU TCG, kernel $QT_KVER), $(echo $DEVS | wc -w) devices, median of $ROUNDS rounds:"
echo "  driverless: as in init-top before udev; taken: host drivers own the devices first;"
echo "  startup: auto_vfio=off vs 'sh -c :'; repeat: everything already on vfio-pci;"
echo "  libs: an empty program linked with libkmod vs the same program static"
for state in driverless taken startup repeat libs; do
	b=$(median $state binder)
	s=$(median $state shell)
	awk -v st="$state" -v b="$b" -v s="$s" 'BEGIN {
		printf "  %-10s binder %8.2f ms   shell loop %8.2f ms   binder/shell %.3f (target <= 0.100)\n",
			st, b / 1e6, s / 1e6, (s > 0 ? b / s : 0)
	}'
done
