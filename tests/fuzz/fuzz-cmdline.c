// SPDX-License-Identifier: GPL-2.0-or-later
/* The kernel command line the binder obeys; every selector formats and parses back. */
#include "cmdline.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct av_ctx ctx;
	struct av_cmdline c;
	char *s = fuzz_str(data, size);

	av_ctx_init(&ctx, "/");
	if (av_cmdline_parse(&ctx, s, &c) >= 0 || c.nsel == AV_MAX_SEL) {
		FUZZ_ASSERT(c.nsel <= AV_MAX_SEL);
		for (size_t i = 0; i < c.nsel; i++) {
			char buf[AV_SEL_LEN];
			struct av_sel back;

			av_sel_format(&c.sel[i], buf);
			FUZZ_ASSERT(av_sel_parse(buf, &back) == 0);
			FUZZ_ASSERT(av_pci_addr_cmp(&back.addr, &c.sel[i].addr) == 0 &&
				    back.vendor == c.sel[i].vendor &&
				    back.device == c.sel[i].device);
		}
	}
	free(s);
	return 0;
}
