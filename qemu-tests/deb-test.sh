#!/bin/sh
# The Debian package: built with `make deb` (dpkg-buildpackage), checked by
# lintian, its contents and control files read, then installed, upgraded,
# removed and purged by the real dpkg in an empty root (dpkg --root with
# chrootless maintainer scripts, which get the root as $DPKG_ROOT), with and
# without an active setup; and its bash completion run. No guest boots here;
# setup-test.sh boots what this package installs.
#
#   sh qemu-tests/deb-test.sh
#
# Last line: "N passed, N failed"; exit status 1 if anything failed.
set -eu

here=$(cd "$(dirname -- "$0")" && pwd)
QT_WORK=${QT_WORK:-$here/work/deb-test}
. "$here/lib.sh"

W=$QT_WORK
rm -rf "$W"
mkdir -p "$W"

# check NAME COMMAND...: PASS when COMMAND succeeds.
check() {
	name=$1
	shift
	if "$@"; then qt_pass "$name"; else qt_fail "$name"; fi
}

qt_build_deb
deb=$QT_DEB
case $(basename "$deb") in
auto-vfio_*_amd64.deb) qt_pass "make deb builds $(basename "$deb")" ;;
*) qt_fail "make deb builds auto-vfio_VERSION_amd64.deb, not $(basename "$deb")" ;;
esac

# ---- lintian: no errors and no warnings (overridden ones come with a reason)
changes=$(ls "$QT_DEB_DIR"/auto-vfio_*_amd64.changes | head -n 1)
lintian --pedantic "$changes" >"$W/lintian.out" 2>&1 || true
sed 's/^/| /' "$W/lintian.out"
check "lintian reports no errors or warnings" sh -c '! grep -q "^[EW]: " "$1"' sh "$W/lintian.out"

# ---- contents
dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|' >"$W/files"
for f in /usr/sbin/auto-vfio /usr/sbin/auto-vfio-bind /usr/sbin/auto-vfio-grub /usr/sbin/auto-vfio-bls \
	/usr/share/initramfs-tools/hooks/auto-vfio \
	/usr/share/initramfs-tools/scripts/init-top/auto-vfio \
	/usr/share/initramfs-tools/scripts/init-premount/auto-vfio \
	/etc/grub.d/42_auto-vfio \
	/usr/lib/dracut/modules.d/90auto-vfio/module-setup.sh \
	/usr/lib/dracut/modules.d/90auto-vfio/auto-vfio-bind.sh \
	/usr/lib/dracut/modules.d/90auto-vfio/auto-vfio-late.sh \
	/usr/lib/kernel/install.d/95-auto-vfio.install /usr/share/man/man8/auto-vfio-bls.8.gz \
	/usr/share/man/man8/auto-vfio.8.gz /usr/share/man/man8/auto-vfio-bind.8.gz \
	/usr/share/man/man8/auto-vfio-grub.8.gz /usr/share/man/man8/auto-vfio-status.8.gz \
	/usr/share/man/man5/auto-vfio.conf.5.gz \
	/usr/share/bash-completion/completions/auto-vfio; do
	check "package has $f" grep -qx "$f" "$W/files"
done
check "package has nothing under /usr/local" sh -c '! grep -q "^/usr/local" "$1"' sh "$W/files"

dpkg-deb -x "$deb" "$W/x"
check "hook runs the binder from /usr/sbin" grep -q '^BINDER=/usr/sbin/auto-vfio-bind' \
	"$W/x/usr/share/initramfs-tools/hooks/auto-vfio"
check "dracut module runs the binder from /usr/sbin" grep -q '^AUTO_VFIO_BINDER=/usr/sbin/auto-vfio-bind' \
	"$W/x/usr/lib/dracut/modules.d/90auto-vfio/module-setup.sh"
check "grub.d shim runs the backend from /usr/sbin" grep -q '/usr/sbin/auto-vfio-grub' \
	"$W/x/etc/grub.d/42_auto-vfio"
check "no @SBINDIR@ left" sh -c '! grep -rq "@SBINDIR@" "$1"' sh "$W/x"

dpkg-deb -e "$deb" "$W/ctl"
check "grub.d shim is a conffile" grep -qx /etc/grub.d/42_auto-vfio "$W/ctl/conffiles"
check "initramfs refreshed through the update-initramfs trigger" \
	grep -qx 'activate-noawait update-initramfs' "$W/ctl/triggers"
check "maintainer scripts never call update-initramfs themselves" \
	sh -c '! grep -q "update-initramfs -" "$1"/postinst "$1"/prerm "$1"/postrm' sh "$W/ctl"
dpkg-deb -f "$deb" Depends >"$W/depends"
sed 's/^/| Depends: /' "$W/depends"
for p in libkmod2 libpci3 zlib1g libc6 initramfs-tools grub-common; do
	check "depends on $p" grep -Eq "(^|, )$p( |,|$)" "$W/depends"
done
check "dracut may build the images instead" grep -Eq "initramfs-tools \| dracut" "$W/depends"
check "systemd-boot may boot instead of GRUB" grep -Eq "grub-common \| systemd-boot" "$W/depends"

# ---- dpkg in an empty root
R=$W/root
mkdir -p "$R/var/lib/dpkg/info" "$R/var/lib/dpkg/updates" "$R/var/lib/dpkg/triggers" "$W/stub"
: >"$R/var/lib/dpkg/status"
: >"$R/var/lib/dpkg/available"
# update-grub must not touch this machine's GRUB: a stand-in that records
# each call (the scripts decide when to call it; update-grub is not tested).
# dracut and kernel-install likewise; STUB_FAIL=1 makes them fail.
for tool in update-grub dracut kernel-install; do
	printf '#!/bin/sh\necho "%s $*" >>"%s/calls"\n[ -z "${STUB_FAIL:-}" ]\n' "$tool" "$W" >"$W/stub/$tool"
	chmod 0755 "$W/stub/$tool"
done

# dpkg_ OUT ARGS...: the real dpkg on $R; stdout+stderr in $W/OUT.out.
dpkg_() {
	out=$1
	shift
	: >"$W/calls"
	PATH=$W/stub:$PATH dpkg --root="$R" --force-depends --force-script-chrootless "$@" \
		>"$W/$out.out" 2>&1
}
grub_calls() { grep -c '^update-grub' "$W/calls" || true; }
dracut_calls() { grep -c '^dracut' "$W/calls" || true; }
active_setup() {
	mkdir -p "$R/var/lib/auto-vfio/saved" "$R/etc/default/grub.d"
	printf 'mode = multiboot\nselect = 0000:01:00.0@1002:73a5\n' >"$R/etc/auto-vfio.conf"
	printf 'version 1\nfile /etc/default/grub saved 0 1 0644 0 0\n' >"$R/var/lib/auto-vfio/manifest"
	echo 'GRUB_DEFAULT=0' >"$R/var/lib/auto-vfio/saved/1"
}

dpkg_ install1 -i "$deb"
check "install into an empty root" [ -x "$R/usr/sbin/auto-vfio" ]
check "install without a setup runs no update-grub" [ "$(grub_calls)" = 0 ]
dpkg_ status -s auto-vfio
check "installed, conffile registered" sh -c 'grep -q "^Status: install ok installed" "$1" &&
	grep -q "^ /etc/grub.d/42_auto-vfio " "$1"' sh "$W/status.out"

dpkg_ remove1 -r auto-vfio
check "remove without a setup: no warning" sh -c '! grep -q "auto-vfio: warning" "$1"' sh "$W/remove1.out"
check "remove without a setup runs no update-grub" [ "$(grub_calls)" = 0 ]
check "remove keeps the conffile until purge" [ -e "$R/etc/grub.d/42_auto-vfio" ]
dpkg_ purge1 -P auto-vfio
check "purge without a setup removes the conffile" [ ! -e "$R/etc/grub.d/42_auto-vfio" ]

# A leftover state folder without a manifest goes on purge.
dpkg_ install2 -i "$deb"
mkdir -p "$R/var/lib/auto-vfio/saved"
dpkg_ purge2 -P auto-vfio
check "purge without a setup removes /var/lib/auto-vfio" [ ! -e "$R/var/lib/auto-vfio" ]

# With a setup active.
dpkg_ install3 -i "$deb"
active_setup
dpkg_ upgrade -i "$deb"
check "upgrade with a setup runs update-grub once" [ "$(grub_calls)" = 1 ]
check "upgrade with a setup: no warning" sh -c '! grep -q "auto-vfio: warning" "$1"' sh "$W/upgrade.out"
check "upgrade under initramfs-tools runs no dracut (the trigger rebuilds)" [ "$(dracut_calls)" = 0 ]

# Under dracut (its kernel hook installed) on systemd-boot: no trigger, so the
# scripts rebuild the images and kernel-install copies them beside the kernel.
kver=6.1.0-27-amd64
mkdir -p "$R/etc/kernel/postinst.d" "$R/boot/efi/loader/entries"
: >"$R/etc/kernel/postinst.d/dracut"
: >"$R/boot/vmlinuz-$kver"
: >"$R/boot/initrd.img-$kver"
dpkg_ upgrade-dracut -i "$deb"
sed 's/^/| /' "$W/calls"
check "upgrade under dracut with a setup rebuilds every image, then kernel-install copies them" \
	[ "$(cat "$W/calls")" = "dracut --regenerate-all --force
kernel-install add $kver /boot/vmlinuz-$kver /boot/initrd.img-$kver
update-grub " ]
STUB_FAIL=1 dpkg_ upgrade-dracut-fails -i "$deb"
check "a failing dracut warns and never fails the upgrade" \
	sh -c 'grep -q "auto-vfio: warning: .dracut --regenerate-all --force. failed" "$1" &&
		! grep -q "^dpkg: error" "$1"' sh "$W/upgrade-dracut-fails.out"
dpkg_ status-dracut -s auto-vfio
check "installed after the failing dracut" grep -q "^Status: install ok installed" "$W/status-dracut.out"
mv "$R/etc/auto-vfio.conf" "$W/auto-vfio.conf.off"
dpkg_ upgrade-dracut-unset -i "$deb"
check "upgrade under dracut without a setup rebuilds nothing" [ "$(dracut_calls)" = 0 ]
mv "$W/auto-vfio.conf.off" "$R/etc/auto-vfio.conf"
dpkg_ remove2 -r auto-vfio
sed 's/^/| /' "$W/remove2.out"
check "remove with a setup warns and names auto-vfio uninstall" \
	sh -c 'grep -q "auto-vfio: warning: auto-vfio is set up" "$1" && grep -q "auto-vfio uninstall" "$1"' \
	sh "$W/remove2.out"
check "remove with a setup runs update-grub once" [ "$(grub_calls)" = 1 ]
check "remove under dracut with a setup rebuilds the images without the binder" [ "$(dracut_calls)" = 1 ]
check "remove with a setup is still a removal" [ ! -e "$R/usr/sbin/auto-vfio" ]
check "remove keeps the manifest" [ -e "$R/var/lib/auto-vfio/manifest" ]
dpkg_ purge3 -P auto-vfio
sed 's/^/| /' "$W/purge3.out"
check "purge with a setup keeps the manifest and the saved originals" \
	test -e "$R/var/lib/auto-vfio/manifest" -a -e "$R/var/lib/auto-vfio/saved/1"
check "purge with a setup says so" grep -q "auto-vfio: warning: kept .*/var/lib/auto-vfio" "$W/purge3.out"
check "purge with a setup keeps /etc/auto-vfio.conf" [ -e "$R/etc/auto-vfio.conf" ]
dpkg_ status2 -s auto-vfio || true
check "purged" sh -c '! grep -q "^Status: .* installed" "$1"' sh "$W/status2.out"

# ---- bash completion, from the extracted package, on a fake machine
mkdir -p "$W/machine/sys/bus/pci/devices/0000:00:02.0" "$W/machine/sys/bus/pci/devices/0000:01:00.0" \
	"$W/machine/sys/bus/pci/devices/0000:01:00.1"
# comp WORD...: the completions of the last WORD, one a line.
comp() {
	bash -c '
		. /usr/share/bash-completion/bash_completion
		. "$0"
		COMP_WORDS=("$@")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE="$*"
		COMP_POINT=${#COMP_LINE}
		COMPREPLY=()
		compopt() { :; } # outside a real completion it only complains
		_auto_vfio
		printf "%s\n" "${COMPREPLY[@]}" | sort
	' "$W/x/usr/share/bash-completion/completions/auto-vfio" "$@"
}
prog=$W/x/usr/sbin/auto-vfio
check "completes commands" [ "$(comp "$prog" se)" = setup ]
check "completes every command" sh -c '[ "$(echo "$1" | wc -l)" -ge 8 ] && echo "$1" | grep -qx boot-next' \
	sh "$(comp "$prog" '')"
check "completes global flags" sh -c 'echo "$1" | grep -qx -- --root' sh "$(comp "$prog" --r)"
check "completes a command's flags" [ "$(comp "$prog" setup --sel)" = --select ]
check "completes PCI addresses of the machine" \
	[ "$(comp "$prog" --root "$W/machine" setup --select 0000:01 | tr '\n' ' ')" = "0000:01:00.0 0000:01:00.1 " ]
check "completes the next address of a list" \
	[ "$(comp "$prog" --root "$W/machine" setup --select 0000:01:00.0,0000:00 | tr '\n' ' ')" = "0000:01:00.0,0000:00:02.0 " ]
check "completes boot-next targets" sh -c 'echo "$1" | grep -qx headless && echo "$1" | grep -qx 0000:01:00.0' \
	sh "$(comp "$prog" --root "$W/machine" boot-next '')"

qt_summary
[ "$QT_FAILED" = 0 ]
