/* SPDX-License-Identifier: GPL-2.0-or-later */
/* PCI addresses ("0000:01:00.0") and the address@vendor:device selector. */
#ifndef AV_PCIADDR_H
#define AV_PCIADDR_H

#include <stdbool.h>
#include <stdint.h>

/* "dddd:bb:dd.f" plus NUL */
#define AV_ADDR_LEN 13

struct av_pci_addr {
	uint16_t domain;
	uint8_t bus, dev, func;
};

/*
 * Parse "DDDD:BB:DD.F" or, when @allow_short, "BB:DD.F" (domain 0).
 * Hex digits of either case; the whole string must match. 0 or -EINVAL.
 */
int av_pci_addr_parse(const char *s, bool allow_short, struct av_pci_addr *out);
/* Canonical, lower-case, with domain. @buf holds AV_ADDR_LEN bytes. */
void av_pci_addr_format(const struct av_pci_addr *a, char buf[AV_ADDR_LEN]);
/* Same slot (domain, bus, device), any function. */
bool av_pci_addr_same_slot(const struct av_pci_addr *a, const struct av_pci_addr *b);
int av_pci_addr_cmp(const struct av_pci_addr *a, const struct av_pci_addr *b);

#endif
