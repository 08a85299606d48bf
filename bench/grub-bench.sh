#!/bin/sh
# What 42_auto-vfio adds to update-grub: real grub-mkconfig in a chroot on a
# loop disk (so grub-probe works), /boot with 3 kernels, a machine with 4
# GPUs (all selected, plus a USB controller). Timed, median of N runs:
#   header       00_header alone (the fixed cost every run pays)
#   10_linux     00_header + 10_linux
#   auto-vfio    00_header + 42_auto-vfio
#   full         every generator of the host (10_linux, 20_linux_xen, 30_*, 40/41_custom)
#   full+ours    the same plus 42_auto-vfio
# Runs are interleaved across the sets. Prints numbers and the ratios; never
# fails on a target (ours: <= 10% of update-grub, measured as the generator's
# own time inside the full update-grub run, where it copies 10_linux's bodies).
set -eu

here=$(cd "$(dirname -- "$0")" && pwd)
src=$(cd "$here/.." && pwd)
N=${N:-7}
W=$(mktemp -d /tmp/auto-vfio-grub-bench.XXXXXX)
loop=
mnt=$W/mnt

cleanup() {
	mountpoint -q "$mnt" 2>/dev/null && umount "$mnt"
	[ -n "$loop" ] && losetup -d "$loop" 2>/dev/null
	rm -rf "$W"
	return 0
}
trap cleanup EXIT
. "$here/../qemu-tests/lib.sh"

make -s -C "$src" BUILD=build/bench-grub PREFIX=/usr all >&2
make -s -C "$src" BUILD=build/bench-grub PREFIX=/usr install DESTDIR="$W/destdir" >&2

qt_loop_disk "$W/disk.img" 64M 'start=2048, type=83'
loop=$QT_LOOP
part=${loop}p1
mkfs.ext4 -q -F "$part"
uuid=$(blkid -s UUID -o value "$part")
mkdir -p "$mnt"
mount "$part" "$mnt"
mkdir -p "$mnt/boot/grub" "$mnt/etc/default" "$mnt/proc" "$mnt/sys" "$mnt/dev" "$mnt/tmp" \
	"$mnt/sets"
for v in 6.1.0-10-amd64 6.1.0-17-amd64 6.1.0-18-amd64; do
	head -c 65536 /dev/urandom >"$mnt/boot/vmlinuz-$v"
	head -c 65536 /dev/urandom >"$mnt/boot/initrd.img-$v"
	echo "CONFIG_X=y" >"$mnt/boot/config-$v"
done
cat >"$mnt/etc/default/grub" <<'EOF2'
GRUB_DEFAULT=0
GRUB_TIMEOUT=5
GRUB_DISTRIBUTOR=Debian
GRUB_CMDLINE_LINUX_DEFAULT="quiet"
GRUB_CMDLINE_LINUX=""
GRUB_DISABLE_OS_PROBER=true
EOF2
cp /etc/ld.so.cache "$mnt/etc/"

# The machine: 4 GPUs with their audio functions, each behind its own root port.
fake=$mnt/auto-vfio-root
dev() {
	d=$fake/sys/bus/pci/devices/$1
	mkdir -p "$d" "$fake/sys/kernel/iommu_groups/$5/devices"
	echo "0x$2" >"$d/vendor"
	echo "0x$3" >"$d/device"
	echo "0x$4" >"$d/class"
	ln -s "../../../../kernel/iommu_groups/$5" "$d/iommu_group"
	ln -s "../../../../../bus/pci/devices/$1" "$fake/sys/kernel/iommu_groups/$5/devices/$1"
}
dev 0000:00:00.0 8086 3e30 060000 0
dev 0000:00:02.0 8086 3e92 030000 1
i=2
for b in 01 02 03; do
	dev "0000:00:1$b.0" 8086 1901 060400 $i
	dev "0000:$b:00.0" 10de 1b81 030000 $i
	dev "0000:$b:00.1" 10de 10f0 040300 $i
	i=$((i + 1))
done
dev 0000:05:00.0 1b21 2142 0c0330 9
mkdir -p "$fake/etc"
ln -s ../boot "$fake/boot"
{
	echo "version = 1"
	echo "mode = multiboot"
	echo "iommu_params = intel_iommu=on iommu=pt"
	for s in 0000:00:02.0@8086:3e92 0000:01:00.0@10de:1b81 0000:02:00.0@10de:1b81 \
		0000:03:00.0@10de:1b81 0000:05:00.0@1b21:2142; do
		echo "select = $s"
	done
} >"$fake/etc/auto-vfio.conf"

# Generator sets, each a grub.d of its own.
ours=$W/destdir/etc/grub.d/42_auto-vfio
for s in header linux ours full fullours; do mkdir -p "$mnt/sets/$s"; done
cp /etc/grub.d/00_header "$mnt/sets/header/"
cp /etc/grub.d/00_header /etc/grub.d/10_linux "$mnt/sets/linux/"
cp /etc/grub.d/00_header "$ours" "$mnt/sets/ours/"
cp -a /etc/grub.d/. "$mnt/sets/full/"
cp -a /etc/grub.d/. "$mnt/sets/fullours/"
# In the full set ours runs under a stopwatch: its own time, not a difference
# of two noisy totals. The real script is a dot file grub-mkconfig skips, in
# the same folder (it finds 10_linux there).
cp "$ours" "$mnt/sets/fullours/.42_auto-vfio"
cat >"$mnt/sets/fullours/42_auto-vfio" <<'EOF2'
#!/bin/sh
t0=$(date +%s%N)
"${0%/*}/.42_auto-vfio"
t1=$(date +%s%N)
echo "$(( (t1 - t0) / 1000 ))" >>/tmp/ours-times
EOF2
chmod 0755 "$mnt"/sets/*/* "$mnt/sets/fullours/.42_auto-vfio"

unshare -m sh -eu -c '
	mnt=$1; loop=$2; part=$3; uuid=$4; destdir=$5; n=$6
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
	for d in /dev/null /dev/zero /dev/urandom /dev/random "$loop" "$part"; do
		cp -a "$d" "$mnt/dev/"
	done
	mkdir -p "$mnt/dev/disk/by-uuid" "$mnt/etc/grub.d"
	ln -s "../../$(basename "$part")" "$mnt/dev/disk/by-uuid/$uuid"
	mount -t tmpfs tmpfs "$mnt/tmp"
	: >"$mnt/tmp/ours-times"
	# interleaved, so that load from elsewhere falls on every set alike
	for i in $(seq "$n"); do
		for s in header linux ours full fullours; do
			mount --bind "$mnt/sets/$s" "$mnt/etc/grub.d"
			t0=$(date +%s%N)
			chroot "$mnt" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
				AUTO_VFIO_ROOT=/auto-vfio-root grub-mkconfig -o /tmp/grub.cfg 2>"$mnt/tmp/err"
			t1=$(date +%s%N)
			echo "$s $(( (t1 - t0) / 1000 ))"
			if [ "$s" = fullours ] && [ "$i" = 1 ]; then
				grep -c "^menuentry .*--id .auto-vfio-" "$mnt/tmp/grub.cfg" | sed "s/^/entries /"
				grep -q "bodies from 10_linux" "$mnt/tmp/err" && echo "bodies copied" || echo "bodies built"
			fi
			umount "$mnt/etc/grub.d"
		done
	done
	sed "s/^/self /" "$mnt/tmp/ours-times"
' sh "$mnt" "$loop" "$part" "$uuid" "$W/destdir" "$N" >"$W/times"

med() { awk -v s="$1" '$1 == s { print $2 }' "$W/times" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
h=$(med header)
l=$(med linux)
o=$(med ours)
f=$(med full)
fo=$(med fullours)
self=$(med self)
echo "grub-mkconfig, median of $N runs (3 kernels, 4 GPUs + 1 USB selected):"
echo "  00_header only           $((h / 1000)) ms"
echo "  + 10_linux               $((l / 1000)) ms   (10_linux: $(((l - h) / 1000)) ms)"
echo "  + 42_auto-vfio           $((o / 1000)) ms   (42_auto-vfio: $(((o - h) / 1000)) ms)"
echo "  update-grub, all host generators   $((f / 1000)) ms"
echo "  update-grub, plus 42_auto-vfio      $((fo / 1000)) ms   (42_auto-vfio itself: $((self / 1000)) ms)"
echo "  top-level auto-vfio entries (newest kernel): $(awk '$1 == "entries" { print $2 }' "$W/times")"
echo "  entry bodies (full set): $(awk '$1 == "bodies" { print $2 }' "$W/times") from 10_linux's entries"
awk -v h="$h" -v l="$l" -v o="$o" -v f="$f" -v fo="$fo" -v self="$self" 'BEGIN {
	printf "ratio 42_auto-vfio / 10_linux (bodies built, alone with 00_header): %.2f\n", (o - h) / (l - h)
	printf "difference of the update-grub medians: %+.1f%% (noisy on a busy machine)\n", 100 * (fo - f) / f
	printf "update-grub overhead of 42_auto-vfio: %.1f%% (its own time / update-grub with it; target <= 10%%)\n", 100 * self / fo
}'
