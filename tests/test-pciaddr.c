// SPDX-License-Identifier: GPL-2.0-or-later
/* PCI addresses: the forms people and sysfs write, the canonical one, the order. */
#include <errno.h>
#include <string.h>

#include "lib/testsuite.h"
#include "pciaddr.h"

static const char *canon(const char *s, bool allow_short)
{
	static char buf[AV_ADDR_LEN];
	struct av_pci_addr a;

	if (av_pci_addr_parse(s, allow_short, &a) < 0)
		return "refused";
	av_pci_addr_format(&a, buf);
	return buf;
}

AV_TEST(pciaddr_forms_and_canonical_output)
{
	CHECK_STR(canon("0000:01:00.0", false), "0000:01:00.0");
	/* lspci prints the short form; sysfs and the kernel the long one */
	CHECK_STR(canon("0A:1f.7", true), "0000:0a:1f.7");
	CHECK_STR(canon("0a:1f.7", false), "refused");
	CHECK_STR(canon("FFFF:FF:1F.7", false), "ffff:ff:1f.7");
	CHECK_STR(canon("10000:01:00.0", false), "refused");
	/* a device number has five bits, a function three */
	CHECK_STR(canon("0000:01:20.0", false), "refused");
	CHECK_STR(canon("0000:01:00.8", false), "refused");
	/* the whole string, nothing around it */
	CHECK_STR(canon("0000:01:00.0 ", false), "refused");
	CHECK_STR(canon(" 000:01:00.0", false), "refused");
	CHECK_STR(canon("0000-01:00.0", false), "refused");
	CHECK_STR(canon("0000:01:00:0", false), "refused");
	CHECK_STR(canon("0000:0x:00.0", false), "refused");
	CHECK_STR(canon("", true), "refused");
}

AV_TEST(pciaddr_order_and_slots)
{
	static const char *const sorted[] = {"0000:00:1f.7", "0000:01:00.0", "0000:01:00.1",
					     "0000:01:01.0", "0000:ff:00.0", "0001:00:00.0"};
	struct av_pci_addr a, b;

	for (size_t i = 0; i + 1 < sizeof(sorted) / sizeof(sorted[0]); i++) {
		CHECK_INT(av_pci_addr_parse(sorted[i], false, &a), 0);
		CHECK_INT(av_pci_addr_parse(sorted[i + 1], false, &b), 0);
		CHECK_MSG(av_pci_addr_cmp(&a, &b) < 0, "%s before %s", sorted[i], sorted[i + 1]);
		CHECK_MSG(av_pci_addr_cmp(&b, &a) > 0, "%s after %s", sorted[i + 1], sorted[i]);
		CHECK_INT(av_pci_addr_cmp(&a, &a), 0);
	}
	/* the functions of one slot: a GPU and its audio */
	CHECK_INT(av_pci_addr_parse("0000:01:00.0", false, &a), 0);
	CHECK_INT(av_pci_addr_parse("0000:01:00.1", false, &b), 0);
	CHECK(av_pci_addr_same_slot(&a, &b));
	CHECK_INT(av_pci_addr_parse("0001:01:00.1", false, &b), 0);
	CHECK(!av_pci_addr_same_slot(&a, &b));
	CHECK_INT(av_pci_addr_parse("0000:01:01.0", false, &b), 0);
	CHECK(!av_pci_addr_same_slot(&a, &b));
}
