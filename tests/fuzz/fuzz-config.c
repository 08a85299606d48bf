// SPDX-License-Identifier: GPL-2.0-or-later
/* /etc/auto-vfio.conf: what parses formats, and the format parses to the same. */
#include "config.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct av_config a, b;
	struct av_ctx ctx;
	char *s = fuzz_str(data, size), *fa = NULL, *fb = NULL;

	av_ctx_init(&ctx, "/");
	if (av_config_parse(&ctx, "fuzz", s, strlen(s), &a) == 0) {
		FUZZ_ASSERT(av_config_format(&a, &fa) == 0);
		FUZZ_ASSERT(av_config_parse(&ctx, "formatted", fa, strlen(fa), &b) == 0);
		FUZZ_ASSERT(av_config_format(&b, &fb) == 0);
		FUZZ_ASSERT(strcmp(fa, fb) == 0);
		FUZZ_ASSERT(a.mode == b.mode && a.nselect == b.nselect && a.nforce == b.nforce);
	}
	free(fa);
	free(fb);
	free(s);
	return 0;
}
