// SPDX-License-Identifier: GPL-2.0-or-later
/* Kernel configurations from /boot/config-<release> and /proc/config.gz (written with zlib). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "ctx.h"
#include "kconfig.h"
#include "lib/testsuite.h"
#include "lib/testutil.h"

/* The relevant lines as Debian 12's config-6.1.0-18-amd64 has them. */
static const char debian_config[] = "#\n"
				    "# Automatically generated file; DO NOT EDIT.\n"
				    "# Linux/x86 6.1.76 Kernel Configuration\n"
				    "#\n"
				    "CONFIG_CC_VERSION_TEXT=\"gcc-12 (Debian 12.2.0-14) 12.2.0\"\n"
				    "CONFIG_AMD_IOMMU=y\n"
				    "CONFIG_AMD_IOMMU_V2=m\n"
				    "CONFIG_INTEL_IOMMU=y\n"
				    "# CONFIG_INTEL_IOMMU_DEFAULT_ON is not set\n"
				    "CONFIG_VFIO=m\n"
				    "CONFIG_VFIO_PCI_CORE=m\n"
				    "CONFIG_VFIO_PCI=m\n"
				    "CONFIG_VFIO_PCI_VGA=y\n"
				    "CONFIG_NR_CPUS=8192\n";

static void gz_write(const char *path, const char *text)
{
	gzFile gz;

	tu_write(path, "");
	gz = gzopen(path, "wb9");
	CHECK(gz != NULL);
	CHECK_INT(gzwrite(gz, text, (unsigned)strlen(text)), (int)strlen(text));
	CHECK_INT(gzclose(gz), Z_OK);
}

AV_TEST(kconfig_boot_config_values)
{
	const char *r = tu_tmpdir();
	struct av_kconfig k;
	struct av_ctx ctx;
	char val[64];

	tu_write(tu_fmt("%s/boot/config-6.1.0-18-amd64", r), debian_config);
	CHECK_INT(av_ctx_init(&ctx, r), 0);
	CHECK_INT(av_kconfig_load(&ctx, "6.1.0-18-amd64", &k), 0);
	CHECK_STR(k.source, "/boot/config-6.1.0-18-amd64");
	CHECK_INT(av_kconfig_get(&k, "CONFIG_VFIO_PCI", NULL, 0), AV_KCONFIG_MODULE);
	/* a prefix of another symbol is not that symbol */
	CHECK_INT(av_kconfig_get(&k, "VFIO_PCI_C", NULL, 0), AV_KCONFIG_ABSENT);
	CHECK_INT(av_kconfig_get(&k, "INTEL_IOMMU", NULL, 0), AV_KCONFIG_BUILTIN);
	CHECK_INT(av_kconfig_get(&k, "INTEL_IOMMU_DEFAULT_ON", NULL, 0), AV_KCONFIG_NO);
	CHECK_INT(av_kconfig_get(&k, "NR_CPUS", val, sizeof(val)), AV_KCONFIG_VALUE);
	CHECK_STR(val, "8192");
	CHECK_INT(av_kconfig_get(&k, "CONFIG_NOPE", NULL, 0), AV_KCONFIG_ABSENT);
	av_kconfig_release(&k);
	CHECK_INT(av_kconfig_load(&ctx, "6.1.0-99-amd64", &k), -ENOENT);
	CHECK_INT(av_kconfig_load(&ctx, "../../etc/passwd", &k), -EINVAL);
}

AV_TEST(kconfig_proc_config_gz_for_the_running_kernel)
{
	const char *r = tu_tmpdir();
	struct av_kconfig k;
	struct av_ctx ctx;
	char rel[AV_RELEASE_LEN];

	tu_write(tu_fmt("%s/proc/sys/kernel/osrelease", r), "6.1.0-18-amd64\n");
	gz_write(tu_fmt("%s/proc/config.gz", r), debian_config);
	CHECK_INT(av_ctx_init(&ctx, r), 0);
	CHECK_INT(av_kernel_release(&ctx, rel, sizeof(rel)), 0);
	CHECK_STR(rel, "6.1.0-18-amd64");
	CHECK_INT(av_kconfig_load(&ctx, "6.1.0-18-amd64", &k), 0);
	CHECK_STR(k.source, "/proc/config.gz");
	CHECK_INT(av_kconfig_get(&k, "VFIO", NULL, 0), AV_KCONFIG_MODULE);
	CHECK_INT(av_kconfig_get(&k, "AMD_IOMMU", NULL, 0), AV_KCONFIG_BUILTIN);
	av_kconfig_release(&k);
	/* it describes the running kernel only */
	CHECK_INT(av_kconfig_load(&ctx, "6.1.0-17-amd64", &k), -ENOENT);
	/* /boot/config-<release> wins */
	tu_write(tu_fmt("%s/boot/config-6.1.0-18-amd64", r), "CONFIG_VFIO=y\n");
	CHECK_INT(av_kconfig_load(&ctx, "6.1.0-18-amd64", &k), 0);
	CHECK_INT(av_kconfig_get(&k, "VFIO", NULL, 0), AV_KCONFIG_BUILTIN);
	av_kconfig_release(&k);
}

AV_TEST(kconfig_damaged_config_gz)
{
	const char *r = tu_tmpdir();
	struct av_kconfig k;
	struct av_ctx ctx;

	tu_write(tu_fmt("%s/proc/sys/kernel/osrelease", r), "6.1.0-18-amd64\n");
	static const char bad[] = "\037\213\010\000\000\000\000\000\000\003garbage";
	char *path = tu_fmt("%s/proc/config.gz", r), *whole;
	FILE *f;

	/* a gzip header and then garbage */
	tu_write(path, "");
	f = fopen(path, "w");
	CHECK(f && fwrite(bad, 1, sizeof(bad) - 1, f) == sizeof(bad) - 1 && fclose(f) == 0);
	CHECK_INT(av_ctx_init(&ctx, r), 0);
	CHECK_INT(av_kconfig_load(&ctx, "6.1.0-18-amd64", &k), -EINVAL);
	/* a real one cut short */
	gz_write(path, debian_config);
	whole = tu_read(path);
	CHECK(truncate(path, 40) == 0);
	CHECK(whole != NULL);
	CHECK_INT(av_kconfig_load(&ctx, "6.1.0-18-amd64", &k), -EINVAL);
}
