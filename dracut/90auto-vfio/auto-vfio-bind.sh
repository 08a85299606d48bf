#!/bin/sh
# auto-vfio, dracut pre-udev hook: bind the groups named by auto_vfio.bind= to
# vfio-pci before udevd starts. dracut sources hooks into its init: no exit,
# and nothing here may fail the boot.

if [ -x /sbin/auto-vfio-bind ]; then
	/sbin/auto-vfio-bind || :
else
	# Only worth a word when this boot asked for binding.
	case " $(cat /proc/cmdline 2>/dev/null) " in
	*auto_vfio.bind=* | *auto-vfio.bind=*)
		auto_vfio_msg="auto-vfio: /sbin/auto-vfio-bind is missing from the initramfs; nothing bound (run dracut --regenerate-all --force)"
		echo "$auto_vfio_msg" >&2
		[ -w /dev/kmsg ] && echo "$auto_vfio_msg" >/dev/kmsg 2>/dev/null
		unset auto_vfio_msg
		;;
	esac
fi
:
