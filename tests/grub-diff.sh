#!/bin/sh
# Differential test of the auto-vfio GRUB entries against 10_linux: the real
# grub-mkconfig runs the real 00_header and 10_linux of this system and our
# grub.d/42_auto-vfio, in a private mount namespace where a scratch /boot,
# /etc/default and /etc/grub.d are mounted over the real ones, and where
# grub-probe and grub-mkrelpath are stubs answering from the environment, so
# any disk layout can be described (LVM, LUKS, btrfs subvolume, separate
# /boot, EFI).
#
#   sh tests/grub-diff.sh BACKEND SCRATCH [SCENARIO...]
#
# For every scenario: 10_linux's own output must differ from the baseline's
# (the setting did something; scenarios marked "same" must leave it alone),
# then, in both ways the shim works (bodies copied from 10_linux's part of
# the grub.cfg being written, and bodies built when grub-mkconfig writes to a
# pipe), every auto-vfio entry is compared line by line with 10_linux's
# advanced entry for the same kernel: only the IOMMU parameters and one
# auto_vfio.bind= may differ. One line per scenario and way:
#   PASS name way    or    FAIL name way: reason
# Needs root (unshare -m). Exit status 0 when every scenario passed.
set -u

backend=$1
W=$2
shift 2
here=$(cd "$(dirname -- "$0")" && pwd)
shim=$here/../grub.d/42_auto-vfio
ALL="separate-boot lvm luks btrfs-subvol efi-signed microcode early-custom savedefault-true
savedefault-y ubuntu-switches gfxpayload-keep gfxpayload-text distributor disable-submenu
top-level cmdline-empty"
[ $# -gt 0 ] || set -- $ALL
KERNELS="6.1.0-9-amd64 6.1.0-18-amd64 6.1.0-10-amd64"
PARAMS="intel_iommu=on iommu=pt"

mkdir -p "$W"

# ---- the fake machine the backend sees (AUTO_VFIO_ROOT): two GPUs, a USB controller
fake=$W/machine
dev() {
	d=$fake/sys/bus/pci/devices/$1
	mkdir -p "$d" "$fake/sys/kernel/iommu_groups/$5/devices"
	echo "0x$2" >"$d/vendor"
	echo "0x$3" >"$d/device"
	echo "0x$4" >"$d/class"
	ln -sf "../../../../kernel/iommu_groups/$5" "$d/iommu_group"
	ln -sf "../../../../../bus/pci/devices/$1" "$fake/sys/kernel/iommu_groups/$5/devices/$1"
}
rm -rf "$fake"
dev 0000:00:00.0 8086 3e30 060000 0
dev 0000:00:02.0 8086 3e92 030000 1
dev 0000:01:00.0 10de 1b81 030000 2
dev 0000:01:00.1 10de 10f0 040300 2
dev 0000:05:00.0 1b21 2142 0c0330 3
mkdir -p "$fake/etc"
ln -s /boot "$fake/boot"
printf '%s\n' "version = 1" "mode = multiboot" "iommu_params = $PARAMS" \
	"select = 0000:00:02.0@8086:3e92" "select = 0000:01:00.0@10de:1b81" \
	"select = 0000:05:00.0@1b21:2142" >"$fake/etc/auto-vfio.conf"

# ---- stubs: answers come from STUB_* variables
mkdir -p "$W/stub"
cat >"$W/stub/grub-probe" <<'EOF'
#!/bin/sh
# grub-probe [--device DEV | PATH] --target=T
dev= target= path=
while [ $# -gt 0 ]; do
	case $1 in
	--device) dev=$2; shift ;;
	--target=*) target=${1#--target=} ;;
	-*) ;;
	*) path=$1 ;;
	esac
	shift
done
if [ -z "$dev" ]; then
	case $path in
	/boot | /boot/*) dev=$STUB_BOOT_DEV ;;
	*) dev=$STUB_ROOT_DEV ;;
	esac
	[ "$target" = device ] && { echo "$dev"; exit 0; }
fi
role=BOOT
[ "$dev" = "$STUB_ROOT_DEV" ] && role=ROOT
eval "v=\${STUB_${role}_$(echo "$target" | tr a-z- A-Z_)-unset}"
[ "$v" != unset ] || exit 1
[ -n "$v" ] || exit 0
case $target in
abstraction | partmap | cryptodisk_uuid) echo "$v" | tr ' ' '\n' ;; # one per line, as grub-probe
*) echo "$v" ;;
esac
EOF
cat >"$W/stub/grub-mkrelpath" <<'EOF'
#!/bin/sh
case $1 in
/) echo "$STUB_REL_ROOT" ;;
/boot) echo "$STUB_REL_BOOT" ;;
*) echo "$1" ;;
esac
EOF
chmod 0755 "$W/stub/grub-probe" "$W/stub/grub-mkrelpath"

# ---- one grub-mkconfig run in a private namespace; prints grub.cfg
# run NAME WAY: WAY is "file" (-o) or "pipe" (stdout)
run() {
	name=$1 way=$2
	s=$W/$name
	rm -rf "$s"
	mkdir -p "$s/boot/grub" "$s/default" "$s/grub.d" "$s/dev" "$s/fw/efi"
	for v in $KERNELS; do
		echo "kernel $v" >"$s/boot/vmlinuz-$v"
		echo "initrd $v" >"$s/boot/initrd.img-$v"
		echo "CONFIG_X=y" >"$s/boot/config-$v"
	done
	cp /etc/grub.d/00_header /etc/grub.d/10_linux "$s/grub.d/"
	cp "$shim" "$s/grub.d/42_auto-vfio"
	chmod 0755 "$s/grub.d/"*
	# the scenario's settings (a shell fragment, sourced by grub-mkconfig)
	{
		echo "GRUB_TIMEOUT=5"
		echo "GRUB_TERMINAL=console"
		echo "GRUB_DISTRIBUTOR=Debian"
		echo "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\""
		echo "GRUB_CMDLINE_LINUX=\"console=ttyS0\""
		echo "GRUB_DISABLE_OS_PROBER=true"
		scenario_settings "$name"
	} >"$s/default/grub"
	scenario_files "$name" "$s"
	(
		export STUB_ROOT_DEV=/dev/sda2 STUB_BOOT_DEV=/dev/sda2
		export STUB_ROOT_FS=ext2 STUB_ROOT_FS_UUID=1111-root STUB_ROOT_PARTUUID=
		export STUB_ROOT_PARTMAP=msdos STUB_ROOT_ABSTRACTION= STUB_ROOT_COMPATIBILITY_HINT=hd0,msdos2
		export STUB_ROOT_HINTS_STRING="--hint-bios=hd0,msdos2 --hint=hd0,msdos2"
		export STUB_BOOT_FS=ext2 STUB_BOOT_FS_UUID=1111-root STUB_BOOT_PARTUUID=
		export STUB_BOOT_PARTMAP=msdos STUB_BOOT_ABSTRACTION= STUB_BOOT_COMPATIBILITY_HINT=hd0,msdos2
		export STUB_BOOT_HINTS_STRING="--hint-bios=hd0,msdos2 --hint=hd0,msdos2"
		export STUB_REL_ROOT=/ STUB_REL_BOOT=/boot
		export EFI=0 UUID_LINK=1
		export AUTO_VFIO_ROOT="$fake" AUTO_VFIO_GRUB="$backend"
		scenario_env "$name"
		unshare -m sh -c '
			set -e
			s=$1 stub=$2 way=$3
			mount --make-rprivate /
			mount --bind "$s/boot" /boot
			mount --bind "$s/default" /etc/default
			mount --bind "$s/grub.d" /etc/grub.d
			mount --bind "$stub/grub-probe" /usr/sbin/grub-probe
			mount --bind "$stub/grub-mkrelpath" /usr/bin/grub-mkrelpath
			mount -t tmpfs tmpfs "$s/dev"
			for n in null zero urandom random; do cp -a "/dev/$n" "$s/dev/"; done
			mkdir -p "$s/dev/disk/by-uuid" "$s/dev/mapper"
			[ "$UUID_LINK" = 0 ] || ln -s ../../sda2 "$s/dev/disk/by-uuid/$STUB_ROOT_FS_UUID"
			for d in "$STUB_ROOT_DEV" "$STUB_BOOT_DEV"; do
				case $d in /dev/*) : >"$s$d" ;; esac
			done
			mount --bind "$s/dev" /dev
			if [ "$EFI" = 1 ]; then mount --bind "$s/fw" /sys/firmware; fi
			if [ "$way" = file ]; then
				grub-mkconfig -o /boot/grub/grub.cfg 2>"$s/err" && cat /boot/grub/grub.cfg
			else
				grub-mkconfig 2>"$s/err" | cat
			fi
		' sh "$s" "$W/stub" "$way"
	)
}

scenario_settings() {
	case $1 in
	savedefault-true) echo "GRUB_SAVEDEFAULT=true" ;;
	savedefault-y) echo "GRUB_SAVEDEFAULT=y" ;;
	gfxpayload-keep) echo "GRUB_GFXPAYLOAD_LINUX=keep" ;;
	gfxpayload-text) echo "GRUB_GFXPAYLOAD_LINUX=text" ;;
	distributor) echo "GRUB_DISTRIBUTOR=\"Linux-Mint Edition\"" ;;
	disable-submenu) echo "GRUB_DISABLE_SUBMENU=y" ;;
	top-level) echo "GRUB_TOP_LEVEL=/boot/vmlinuz-6.1.0-9-amd64" ;;
	cmdline-empty) printf '%s\n' "GRUB_CMDLINE_LINUX=" "GRUB_CMDLINE_LINUX_DEFAULT=" ;;
	early-custom) echo "GRUB_EARLY_INITRD_LINUX_CUSTOM=\"custom-early.img missing.img\"" ;;
	ubuntu-switches) echo "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet splash\"" ;;
	luks) echo "GRUB_ENABLE_CRYPTODISK=y" ;;
	esac
}

scenario_files() {
	s=$2
	case $1 in
	efi-signed)
		for v in $KERNELS; do echo signed >"$s/boot/vmlinuz-$v.efi.signed"; done ;;
	microcode)
		echo ucode >"$s/boot/intel-ucode.img"
		echo ucode >"$s/boot/amd-ucode.img" ;;
	early-custom) echo custom >"$s/boot/custom-early.img" ;;
	ubuntu-switches)
		# Ubuntu builds the same scripts with these switches on
		for f in 00_header 10_linux; do
			sed -i -e 's/^quick_boot="0"$/quick_boot="1"/' \
				-e 's/^gfxpayload_dynamic="0"$/gfxpayload_dynamic="1"/' \
				-e 's/^vt_handoff="0"$/vt_handoff="1"/' "$s/grub.d/$f"
		done ;;
	esac
}

scenario_env() {
	case $1 in
	separate-boot)
		STUB_BOOT_DEV=/dev/sda1 STUB_REL_BOOT= STUB_BOOT_FS_UUID=2222-boot
		STUB_BOOT_COMPATIBILITY_HINT=hd0,msdos1
		STUB_BOOT_HINTS_STRING="--hint-bios=hd0,msdos1 --hint=hd0,msdos1" ;;
	lvm)
		STUB_ROOT_DEV=/dev/mapper/vg-root STUB_BOOT_DEV=/dev/sda1 STUB_REL_BOOT=
		STUB_ROOT_ABSTRACTION=lvm STUB_ROOT_PARTMAP= STUB_ROOT_COMPATIBILITY_HINT=lvm/vg-root
		STUB_BOOT_FS_UUID=2222-boot STUB_BOOT_COMPATIBILITY_HINT=hd0,msdos1 ;;
	luks)
		STUB_ROOT_DEV=/dev/mapper/vg-root STUB_BOOT_DEV=/dev/mapper/vg-root
		STUB_ROOT_ABSTRACTION="cryptodisk luks lvm"
		export STUB_ROOT_CRYPTODISK_UUID=3333cafe
		STUB_ROOT_PARTMAP=msdos STUB_ROOT_COMPATIBILITY_HINT=lvm/vg-root
		STUB_ROOT_HINTS_STRING= ;;
	btrfs-subvol)
		STUB_ROOT_FS=btrfs STUB_BOOT_FS=btrfs STUB_REL_ROOT=/@ STUB_REL_BOOT=/@/boot ;;
	efi-signed) EFI=1 ;;
	esac
}

# ---- reading grub.cfg
# The entries of one generator's part: "@@ ID<TAB>VERSION" header lines, then the
# body's lines (leading tabs removed, blank lines dropped), then a lone "}".
entries() {
	awk -v gen="$1" '
		/^### BEGIN / { on = ($3 ~ ("/" gen "$")); next }
		/^### END / { on = 0; next }
		!on { next }
		depth == 0 && /^[\t]*menuentry / {
			line = $0
			id = line; sub(/.*(--id|\$menuentry_id_option) '\''/, "", id); sub(/'\''.*/, "", id)
			ver = line; sub(/^[^,]*, with Linux /, "", ver); sub(/[ '\''].*/, "", ver)
			cls = ""; rest = line
			while (match(rest, /--class [^ ]+/)) { cls = cls " " substr(rest, RSTART + 8, RLENGTH - 8); rest = substr(rest, RSTART + RLENGTH) }
			print "@@ " id "\t" ver "\t" cls; depth = 1; next
		}
		depth == 1 && /^[\t]*}$/ { print "}"; depth = 0; next }
		depth == 1 { l = $0; sub(/^[\t]+/, "", l); if (l != "") print l }
	' "$2"
}

# The part of grub.cfg 10_linux wrote.
section() { awk -v gen="$1" '/^### BEGIN / { on = ($3 ~ ("/" gen "$")) } on' "$2"; }

# compare CFG: our entries against 10_linux's advanced entries; prints problems
compare() {
	entries 10_linux "$1" | awk -F '\t' '
		/^@@ / { cur = ($1 ~ /-advanced-/) ? $2 : ""; if (cur != "") body[cur] = "classes" $3 "\n"; next }
		$0 == "}" { cur = ""; next }
		cur != "" { body[cur] = body[cur] $0 "\n" }
		END { for (v in body) { printf "%s\t", v; printf "%s", body[v]; print "\001" } }
	' >"$W/ref"
	entries 42_auto-vfio "$1" >"$W/ours"
	awk -F '\t' -v params="$PARAMS" -v kernels="$KERNELS" -v ref="$W/ref" '
		BEGIN {
			RS0 = RS
			RS = "\001\n"
			while ((getline rec < ref) > 0) {
				v = substr(rec, 1, index(rec, "\t") - 1)
				want[v] = substr(rec, index(rec, "\t") + 1)
			}
			RS = RS0
			np = split(params, P, " ")
		}
		/^@@ / { id = substr($1, 4); ver = $2; got = "classes" $3 "\n"; n++; seen[ver]++; next }
		$0 == "}" {
			if (!(ver in want)) { print id ": no 10_linux advanced entry for " ver; bad++; next }
			check(id, got, want[ver]); next
		}
		{ got = got $0 "\n" }
		function linuxfix(l,   t, k, i, j, keep, out, nb) {
			k = split(l, t, /[ \t]+/)
			out = ""; nb = 0
			for (i = 1; i <= k; i++) {
				keep = 1
				for (j = 1; j <= np; j++) if (t[i] == P[j]) keep = 0
				if (t[i] ~ /^auto_vfio\.bind=/) { keep = 0; nb++ }
				if (keep && t[i] != "") out = out " " t[i]
			}
			if (nb > 1) out = out " <two bind tokens>"
			return out
		}
		function check(id, g, w,   a, b, na, nb, i) {
			na = split(g, a, "\n"); nb = split(w, b, "\n")
			if (na != nb) { print id ": " na - 1 " lines, 10_linux has " nb - 1; print "--- ours\n" g "--- 10_linux\n" w; bad++; return }
			for (i = 1; i <= na; i++) {
				if (a[i] ~ /^linux\t/ && b[i] ~ /^linux\t/) {
					if (linuxfix(a[i]) != linuxfix(b[i])) { print id ": linux line: " a[i] " <> " b[i]; bad++ }
				} else if (a[i] != b[i]) { print id ": line " i ": \"" a[i] "\" <> \"" b[i] "\""; bad++ }
			}
		}
		END {
			if (n == 0) { print "no auto-vfio entries"; exit }
			k = split(kernels, K, " ")
			for (i = 1; i <= k; i++) if (seen[K[i]] != 3) { print K[i] ": " seen[K[i]] + 0 " entries, expected 3" }
		}
	' "$W/ours"
}

# ---- baseline, then each scenario
run baseline file >"$W/baseline.cfg" || { echo "FAIL baseline: grub-mkconfig: $(cat "$W/baseline/err")"; exit 1; }
section 10_linux "$W/baseline.cfg" >"$W/baseline.10_linux"
failed=0
for name in "$@"; do
	for way in file pipe; do
		cfg=$W/$name.$way.cfg
		if ! run "$name" "$way" >"$cfg" || [ ! -s "$cfg" ]; then
			echo "FAIL $name $way: grub-mkconfig: $(tr '\n' ' ' <"$W/$name/err")"
			failed=1
			continue
		fi
		section 10_linux "$cfg" >"$W/$name.10_linux"
		case $name in
		savedefault-y | top-level) same=1 ;;
		*) same=0 ;;
		esac
		if cmp -s "$W/baseline.10_linux" "$W/$name.10_linux"; then
			changed=0
		else
			changed=1
		fi
		if [ "$changed" = "$same" ]; then
			echo "FAIL $name $way: 10_linux's output $([ "$same" = 1 ] && echo changed || echo "did not change"): the scenario proves nothing"
			failed=1
			continue
		fi
		problems=$(compare "$cfg")
		# each way really taken
		if [ "$way" = file ] && ! grep -q "bodies from 10_linux" "$W/$name/err"; then
			problems="$problems
bodies were not copied from 10_linux's entries"
		elif [ "$way" = pipe ] && grep -q "bodies from 10_linux" "$W/$name/err"; then
			problems="$problems
bodies were copied, not built"
		fi
		if grep -q 'auto-vfio.*warning' "$W/$name/err"; then
			problems="$problems
$(grep 'auto-vfio.*warning' "$W/$name/err")"
		fi
		if [ -n "$problems" ]; then
			echo "FAIL $name $way: $(echo "$problems" | head -n 20)"
			failed=1
		else
			echo "PASS $name $way"
		fi
	done
done
exit "$failed"
