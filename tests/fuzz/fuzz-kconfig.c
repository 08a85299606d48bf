// SPDX-License-Identifier: GPL-2.0-or-later
/* A kernel's config file. */
#include "fuzz.h"
#include "kconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const syms[] = {"VFIO_PCI", "CONFIG_VFIO", "INTEL_IOMMU_DEFAULT_ON", ""};
	struct av_kconfig k;

	if (av_kconfig_from_text((const char *)data, size, "fuzz", &k) < 0)
		return 0;
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		char val[64];
		enum av_kconfig_val v = av_kconfig_get(&k, syms[i], val, sizeof(val));

		FUZZ_ASSERT(av_kconfig_val_name(v) != NULL);
		if (v == AV_KCONFIG_VALUE)
			FUZZ_ASSERT(memchr(val, '\0', sizeof(val)) != NULL);
	}
	av_kconfig_release(&k);
	return 0;
}
