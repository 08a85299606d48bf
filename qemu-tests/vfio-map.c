// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfio-map GROUP ADDR: do what QEMU does before a VM can use a passed-through
 * device, inside a test guest: open the VFIO container and /dev/vfio/GROUP,
 * attach the group to a type-1 IOMMU, get the device fd of ADDR and mmap its
 * BAR 0. The mmap is where the kernel reserves the BAR (pci_request_selected_
 * regions): a firmware framebuffer still inside it fails it there, as
 * "vfio-pci ADDR: BAR 0: can't reserve" in the kernel log.
 *
 * Prints one line, "QT-VFIOMAP ADDR ok size=N" or "QT-VFIOMAP ADDR STEP
 * errno=N"; exit status 0 only when the BAR is mapped. Built static: the
 * guests' root has no shared libraries.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

static int fail(const char *addr, const char *step)
{
	printf("QT-VFIOMAP %s %s errno=%d\n", addr, step, errno);
	return 1;
}

int main(int argc, char **argv)
{
	struct vfio_group_status gs = {.argsz = sizeof(gs)};
	struct vfio_region_info ri = {.argsz = sizeof(ri), .index = VFIO_PCI_BAR0_REGION_INDEX};
	char path[64];
	int container, group, device;
	void *map;

	if (argc != 3) {
		fprintf(stderr, "usage: vfio-map GROUP ADDR\n");
		return 2;
	}
	snprintf(path, sizeof(path), "/dev/vfio/%s", argv[1]);
	container = open("/dev/vfio/vfio", O_RDWR);
	if (container < 0)
		return fail(argv[2], "open-container");
	group = open(path, O_RDWR);
	if (group < 0)
		return fail(argv[2], "open-group");
	if (ioctl(group, VFIO_GROUP_GET_STATUS, &gs) < 0)
		return fail(argv[2], "group-status");
	if (!(gs.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		errno = 0;
		return fail(argv[2], "group-not-viable");
	}
	if (ioctl(group, VFIO_GROUP_SET_CONTAINER, &container) < 0)
		return fail(argv[2], "set-container");
	if (ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) < 0 &&
	    ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU) < 0)
		return fail(argv[2], "set-iommu");
	device = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, argv[2]);
	if (device < 0)
		return fail(argv[2], "get-device-fd");
	if (ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &ri) < 0)
		return fail(argv[2], "region-info");
	if (!ri.size || !(ri.flags & VFIO_REGION_INFO_FLAG_MMAP)) {
		errno = 0;
		return fail(argv[2], "bar0-not-mappable");
	}
	map = mmap(NULL, ri.size, PROT_READ | PROT_WRITE, MAP_SHARED, device, (off_t)ri.offset);
	if (map == MAP_FAILED)
		return fail(argv[2], "mmap-bar0");
	printf("QT-VFIOMAP %s ok size=%llu\n", argv[2], (unsigned long long)ri.size);
	return 0;
}
