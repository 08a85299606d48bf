/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What PCI class codes mean to auto-vfio. @cls is the 16-bit class+subclass. */
#ifndef AV_PCICLASS_H
#define AV_PCICLASS_H

#include <stdbool.h>
#include <stdint.h>

/* 0300 VGA, 0302 3D controller (muxless laptop GPUs), 0380 other display. */
static inline bool av_class_is_gpu(uint16_t cls)
{
	return cls == 0x0300 || cls == 0x0302 || cls == 0x0380;
}

static inline bool av_class_is_vga(uint16_t cls)
{
	return cls == 0x0300;
}

/* Bridges (06xx) are never bound and never a reason by themselves. */
static inline bool av_class_is_bridge(uint16_t cls)
{
	return (cls >> 8) == 0x06;
}

/*
 * Devices the host platform itself needs: host bridges, ISA/LPC bridges,
 * SMBus, memory controllers, system peripherals (IOMMU, timers, PIC).
 */
static inline bool av_class_is_platform(uint16_t cls)
{
	return cls == 0x0600 || cls == 0x0601 || cls == 0x0c05 || (cls >> 8) == 0x05 ||
	       (cls >> 8) == 0x08;
}

/* Functions that ride along with a GPU in its slot: HDMI audio, USB-C, UCSI. */
static inline bool av_class_is_gpu_companion(uint16_t cls)
{
	return cls == 0x0403 || cls == 0x0401 || cls == 0x0c03 || cls == 0x0c80 || cls == 0x0c00;
}

#endif
