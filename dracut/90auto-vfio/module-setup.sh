#!/bin/bash
# auto-vfio dracut module: puts the early binder, its boot hooks and the vfio
# modules into the initramfs. The binder binds the IOMMU groups named by
# auto_vfio.bind= on the kernel command line to vfio-pci before udev starts,
# so no GPU driver in the initramfs gets a chance to claim them.

AUTO_VFIO_BINDER=@SBINDIR@/auto-vfio-bind

# Included by default (hostonly or not) whenever the binder is installed.
check() {
	[ -x "$AUTO_VFIO_BINDER" ] || return 1
	return 0
}

depends() {
	return 0
}

# Whatever hostonly says: the devices are bound before any of their drivers
# load, so nothing on the running host shows that vfio is needed. instmods
# skips names this kernel does not have (vfio_pci_core before 5.15) or builds
# in; vfio_virqfd is left out: it was folded into vfio in 6.2.
installkernel() {
	hostonly='' instmods vfio vfio_iommu_type1 vfio_pci_core vfio_pci
}

install() {
	local lib

	inst "$AUTO_VFIO_BINDER" /sbin/auto-vfio-bind
	# The binder opens libkmod only when it has to load vfio-pci, so the
	# library scan of its ELF file misses it: install it by name.
	if lib=$("$AUTO_VFIO_BINDER" --print-libkmod) && [ -e "$lib" ]; then
		inst_library "$lib"
	else
		dwarn "auto-vfio: libkmod not found; the binder cannot load vfio-pci at boot"
	fi
	# Before udev (dracut-pre-udev.service is Before=systemd-udevd), and a
	# second pass once udev has settled, for functions that appeared late.
	inst_hook pre-udev 00 "$moddir/auto-vfio-bind.sh"
	inst_hook pre-mount 00 "$moddir/auto-vfio-late.sh"
	if [ -f "${dracutsysrootdir-}/etc/modprobe.d/auto-vfio.conf" ]; then
		inst_simple /etc/modprobe.d/auto-vfio.conf
	fi
	return 0
}
