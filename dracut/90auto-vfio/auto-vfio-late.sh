#!/bin/sh
# auto-vfio, dracut pre-mount hook: the second pass, after udev has settled.
# The pre-udev pass sets driver_override, so no other driver can take a
# device it saw; this pass is for functions that appeared later and groups
# left half-done because vfio-pci only became loadable later. The binder is
# idempotent. Sourced by dracut's init: no exit, never fail the boot.

if [ -x /sbin/auto-vfio-bind ]; then
	/sbin/auto-vfio-bind || :
fi
:
