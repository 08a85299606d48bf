// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The manifest uninstall trusts: what the strict load takes, salvage takes
 * whole; no path it takes has '.' or '..' components.
 */
#include "fuzz.h"
#include "manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct av_manifest strict, salvage;
	struct av_ctx ctx;
	int err;

	fuzz_root(&ctx);
	fuzz_write(&ctx, AV_MANIFEST_PATH, data, size);
	err = av_manifest_load(&ctx, &strict);
	FUZZ_ASSERT(av_manifest_salvage(&ctx, &salvage) == 0);
	if (err == 0) {
		FUZZ_ASSERT(salvage.refused == 0 && salvage.n == strict.n);
		for (size_t i = 0; i < strict.n; i++) {
			const char *p = strict.e[i].path;

			FUZZ_ASSERT(p[0] == '/' && !strstr(p, "/../") && !strstr(p, "/./") &&
				    !strstr(p, "//"));
			FUZZ_ASSERT(strict.e[i].dir || strict.e[i].created || strict.e[i].saved);
		}
		av_manifest_release(&strict);
	}
	av_manifest_release(&salvage);
	return 0;
}
