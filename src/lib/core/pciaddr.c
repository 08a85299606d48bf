// SPDX-License-Identifier: GPL-2.0-or-later
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pciaddr.h"

static int hexn(const char **s, unsigned digits, unsigned long *val)
{
	unsigned long v = 0;

	for (unsigned i = 0; i < digits; i++) {
		int c = (unsigned char)(*s)[i];

		if (!isxdigit(c))
			return -EINVAL;
		v = v * 16 + (unsigned long)(isdigit(c) ? c - '0' : tolower(c) - 'a' + 10);
	}
	*s += digits;
	*val = v;
	return 0;
}

int av_pci_addr_parse(const char *s, bool allow_short, struct av_pci_addr *out)
{
	unsigned long dom = 0, bus, dev, fn;
	size_t len = strlen(s);

	if (len == 12) {
		if (hexn(&s, 4, &dom) < 0 || *s++ != ':')
			return -EINVAL;
	} else if (len != 7 || !allow_short) {
		return -EINVAL;
	}
	if (hexn(&s, 2, &bus) < 0 || *s++ != ':')
		return -EINVAL;
	if (hexn(&s, 2, &dev) < 0 || *s++ != '.')
		return -EINVAL;
	if (*s < '0' || *s > '7' || s[1])
		return -EINVAL;
	fn = (unsigned long)(*s - '0');
	if (dev > 0x1f)
		return -EINVAL;
	out->domain = (uint16_t)dom;
	out->bus = (uint8_t)bus;
	out->dev = (uint8_t)dev;
	out->func = (uint8_t)fn;
	return 0;
}

void av_pci_addr_format(const struct av_pci_addr *a, char buf[AV_ADDR_LEN])
{
	snprintf(buf, AV_ADDR_LEN, "%04x:%02x:%02x.%u", a->domain, a->bus, a->dev, a->func & 7u);
}

bool av_pci_addr_same_slot(const struct av_pci_addr *a, const struct av_pci_addr *b)
{
	return a->domain == b->domain && a->bus == b->bus && a->dev == b->dev;
}

int av_pci_addr_cmp(const struct av_pci_addr *a, const struct av_pci_addr *b)
{
	unsigned long ka = ((unsigned long)a->domain << 16) | ((unsigned)a->bus << 8) |
			   ((unsigned)a->dev << 3) | a->func;
	unsigned long kb = ((unsigned long)b->domain << 16) | ((unsigned)b->bus << 8) |
			   ((unsigned)b->dev << 3) | b->func;

	return ka < kb ? -1 : ka > kb;
}
