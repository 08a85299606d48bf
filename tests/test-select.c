// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The selection engine called directly: what a configuration passes through
 * on a small hand-made machine, strict and lenient, the entries and their
 * bind lists, the IOMMU parameters, and the model from the config alone.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "lib/testsuite.h"
#include "lib/testutil.h"
#include "machine.h"
#include "safety.h"
#include "select.h"

static void dev(const char *root, const char *addr, const char *ven, const char *did,
		const char *cls, int group)
{
	char *d = tu_fmt("%s/sys/bus/pci/devices/%s", root, addr);

	tu_write(tu_fmt("%s/vendor", d), tu_fmt("0x%s\n", ven));
	tu_write(tu_fmt("%s/device", d), tu_fmt("0x%s\n", did));
	tu_write(tu_fmt("%s/class", d), tu_fmt("0x%s\n", cls));
	tu_symlink(tu_fmt("../../../../kernel/iommu_groups/%d", group),
		   tu_fmt("%s/iommu_group", d));
	tu_symlink(tu_fmt("../../../../bus/pci/devices/%s", addr),
		   tu_fmt("%s/sys/kernel/iommu_groups/%d/devices/%s", root, group, addr));
}

/*
 * Group 2: a GPU with audio and USB behind its root port. Group 3: a chipset
 * group with the boot GPU and the SATA controller. Group 4: a lone GPU.
 * Groups 7 and 8: a GPU and its audio split apart.
 */
static const char *desktop(void)
{
	const char *r = tu_tmpdir();

	dev(r, "0000:00:01.1", "1022", "1483", "060400", 2);
	dev(r, "0000:01:00.0", "10de", "1e84", "030000", 2);
	dev(r, "0000:01:00.1", "10de", "10f8", "040300", 2);
	dev(r, "0000:01:00.2", "10de", "1ad8", "0c0330", 2);
	dev(r, "0000:02:00.0", "1022", "43ee", "0c0330", 3);
	dev(r, "0000:02:00.1", "1022", "43eb", "010601", 3);
	dev(r, "0000:03:00.0", "10de", "128b", "030000", 3);
	dev(r, "0000:03:00.1", "10de", "0e0f", "040300", 3);
	dev(r, "0000:05:00.0", "10de", "128b", "030000", 4);
	dev(r, "0000:0c:00.0", "1002", "73bf", "030000", 7);
	dev(r, "0000:0c:00.1", "1002", "ab28", "040300", 8);
	tu_write(tu_fmt("%s/sys/bus/pci/devices/0000:03:00.0/boot_vga", r), "1\n");
	return r;
}

struct logbuf {
	char text[8192];
	size_t len;
};

static void log_keep(void *data, int prio, const char *fmt, va_list ap)
{
	struct logbuf *b = data;

	(void)prio;
	if (b->len < sizeof(b->text) - 1)
		b->len += (size_t)vsnprintf(b->text + b->len, sizeof(b->text) - b->len, fmt, ap);
	if (b->len < sizeof(b->text) - 1)
		b->text[b->len++] = '\n';
	b->text[b->len < sizeof(b->text) ? b->len : sizeof(b->text) - 1] = '\0';
}

static struct av_machine *load(struct av_ctx *ctx, struct logbuf *log)
{
	struct av_machine *m = NULL;

	memset(log, 0, sizeof(*log));
	CHECK_INT(av_ctx_init(ctx, desktop()), 0);
	av_ctx_set_log(ctx, log_keep, log, AV_LOG_DEBUG);
	CHECK_INT(av_machine_load(ctx, NULL, &m), 0);
	CHECK_INT(av_analyze(ctx, m), 0);
	return m;
}

static void config(struct av_config *cfg, enum av_mode mode, const char *const *sel)
{
	av_config_init(cfg);
	cfg->mode = mode;
	for (; *sel; sel++)
		CHECK_INT(av_sel_parse(*sel, &cfg->select[cfg->nselect++]), 0);
}

static size_t dev_idx(const struct av_machine *m, const char *addr)
{
	struct av_pci_addr a;
	const struct av_dev *d;

	CHECK_INT(av_pci_addr_parse(addr, false, &a), 0);
	d = av_machine_find(m, &a);
	CHECK_MSG(d != NULL, "%s not found", addr);
	return (size_t)(d - m->devs);
}

static const char *bind_of(const struct av_machine *m, const struct av_entry *e)
{
	char *s = NULL;
	const char *copy;

	CHECK_INT(av_entry_bind_param(m, e, &s), 0);
	copy = tu_fmt("%s", s);
	free(s);
	return copy;
}

AV_TEST(select_units_entries_and_bind_lists)
{
	static const char *const sel[] = {"0000:0c:00.0@1002:73bf", "0000:01:00.0@10de:1e84",
					  "0000:05:00.0@10de:128b", NULL};
	struct av_ctx ctx;
	struct logbuf log;
	struct av_machine *m = load(&ctx, &log);
	struct av_config cfg;
	struct av_resolved r;
	struct av_entry e[8];
	size_t n;

	config(&cfg, AV_MODE_MULTIBOOT, sel);
	for (int mode = AV_SELECT_STRICT; mode <= AV_SELECT_LENIENT; mode++) {
		CHECK_INT(av_select(&ctx, m, &cfg, mode, &r), 0);
		/* the split audio comes along: four groups, three units */
		CHECK_INT(r.ngroups, 4);
		CHECK_INT(r.nunits, 3);
		CHECK_INT(r.unit[2], r.unit[3]);
		CHECK(r.unit[0] != r.unit[1] && r.unit[1] != r.unit[2]);
		CHECK_INT(r.rep[0], dev_idx(m, "0000:01:00.0"));
		CHECK_INT(r.rep[3], dev_idx(m, "0000:0c:00.1"));
		CHECK(!r.unsafe_forced);
	}
	CHECK_STR(log.text, "");

	n = av_entries(m, &r, e);
	CHECK_INT(n, 4);
	CHECK_STR(e[0].id, "host-0000:01:00.0");
	CHECK_STR(e[1].id, "host-0000:05:00.0");
	CHECK_STR(e[2].id, "host-0000:0c:00.0");
	CHECK_STR(e[3].id, "headless");
	CHECK_INT(e[3].keep, AV_NONE);
	CHECK_INT(e[2].nvga, 1);
	CHECK_INT(e[2].vga[0], dev_idx(m, "0000:0c:00.0"));
	CHECK_STR(bind_of(m, &e[2]),
		  "auto_vfio.bind=0000:01:00.0@10de:1e84,0000:05:00.0@10de:128b");
	CHECK_STR(bind_of(m, &e[0]), "auto_vfio.bind=0000:05:00.0@10de:128b,0000:0c:00.0@1002:73bf,"
				     "0000:0c:00.1@1002:ab28");
	CHECK_STR(bind_of(m, &e[3]), "auto_vfio.bind=0000:01:00.0@10de:1e84,0000:05:00.0@10de:128b,"
				     "0000:0c:00.0@1002:73bf,0000:0c:00.1@1002:ab28");
	/* the boot GPU stays with the host in every entry */
	for (size_t i = 0; i < n; i++)
		CHECK(!e[i].bootfb);
	av_machine_free(m);
}

AV_TEST(select_strict_fails_where_lenient_leaves_out)
{
	static const char *const stale[] = {"0000:01:00.0@10de:1e84", "0000:05:00.0@10de:9999",
					    NULL};
	static const char *const gone[] = {"0000:01:00.0@10de:1e84", "0000:09:00.0@10de:128b",
					   NULL};
	static const char *const unsafe[] = {"0000:01:00.0@10de:1e84", "0000:03:00.0@10de:128b",
					     NULL};
	struct av_ctx ctx;
	struct logbuf log;
	struct av_machine *m = load(&ctx, &log);
	struct av_config cfg;
	struct av_resolved r;

	config(&cfg, AV_MODE_MULTIBOOT, stale);
	CHECK_INT(av_select(&ctx, m, &cfg, AV_SELECT_STRICT, &r), -ESTALE);
	CHECK_INT(av_select(&ctx, m, &cfg, AV_SELECT_LENIENT, &r), 0);
	CHECK_INT(r.ngroups, 1);
	CHECK_CONTAINS(log.text, "not the selected 0000:05:00.0@10de:9999; left out");

	config(&cfg, AV_MODE_MULTIBOOT, gone);
	CHECK_INT(av_select(&ctx, m, &cfg, AV_SELECT_STRICT, &r), -ENODEV);
	CHECK_INT(av_select(&ctx, m, &cfg, AV_SELECT_LENIENT, &r), 0);
	CHECK_INT(r.ngroups, 1);
	CHECK_CONTAINS(log.text, "0000:09:00.0@10de:128b is not present; left out");

	/* the chipset group holds the SATA controller: unsafe unless overridden */
	config(&cfg, AV_MODE_MULTIBOOT, unsafe);
	CHECK(!m->groups[m->devs[dev_idx(m, "0000:03:00.0")].group_idx].safe);
	CHECK_INT(av_select(&ctx, m, &cfg, AV_SELECT_STRICT, &r), -EPERM);
	CHECK_INT(av_select(&ctx, m, &cfg, AV_SELECT_LENIENT, &r), 0);
	CHECK_INT(r.ngroups, 1);
	CHECK_CONTAINS(log.text, "only a force_unsafe line for it would change that");
	av_machine_free(m);
}

AV_TEST(select_override_passes_the_boot_gpu_with_the_framebuffer_parameter)
{
	static const char *const sel[] = {"0000:01:00.0@10de:1e84", "0000:03:00.0@10de:128b", NULL};
	struct av_ctx ctx;
	struct logbuf log;
	struct av_machine *m = load(&ctx, &log);
	struct av_config cfg;
	struct av_resolved r;
	struct av_entry e[4];

	config(&cfg, AV_MODE_MULTIBOOT, sel);
	CHECK_INT(av_sel_parse("0000:02:00.1@1022:43eb", &cfg.force_unsafe[cfg.nforce++]), 0);
	for (int mode = AV_SELECT_STRICT; mode <= AV_SELECT_LENIENT; mode++) {
		CHECK_INT(av_select(&ctx, m, &cfg, mode, &r), 0);
		CHECK_INT(r.ngroups, 2);
		CHECK_INT(av_entries(m, &r, e), 3);
		/* keeping the boot GPU: no parameter; passing it: the parameter */
		CHECK_STR(e[0].id, "host-0000:01:00.0");
		CHECK(e[0].bootfb);
		CHECK_STR(e[1].id, "host-0000:03:00.0");
		CHECK(!e[1].bootfb);
		CHECK(e[2].bootfb);
	}
	/* one selector in the group names it, whatever the representative */
	CHECK_INT(r.rep[1], dev_idx(m, "0000:03:00.0"));
	av_machine_free(m);
}

AV_TEST(select_no_gpu_makes_one_entry)
{
	static const char *const sel[] = {"0000:0c:00.1@1002:ab28", NULL};
	struct av_ctx ctx;
	struct logbuf log;
	struct av_machine *m = load(&ctx, &log);
	struct av_config cfg;
	struct av_resolved r;
	struct av_entry e[4];

	/* the audio function pulls its GPU in: a GPU unit after all */
	config(&cfg, AV_MODE_MULTIBOOT, sel);
	CHECK_INT(av_select(&ctx, m, &cfg, AV_SELECT_LENIENT, &r), 0);
	CHECK_INT(r.nunits, 1);
	CHECK_INT(av_entries(m, &r, e), 2);
	CHECK_STR(e[0].id, "host-0000:0c:00.0");
	CHECK_STR(bind_of(m, &e[0]), "");
	av_machine_free(m);
}

AV_TEST(select_entry_iommu_params)
{
	struct av_ctx ctx;
	struct logbuf log = {0};
	struct av_config cfg;
	char out[256];

	CHECK_INT(av_ctx_init(&ctx, tu_tmpdir()), 0);
	av_ctx_set_log(&ctx, log_keep, &log, AV_LOG_DEBUG);
	av_config_init(&cfg);
	snprintf(cfg.iommu_params, sizeof(cfg.iommu_params),
		 " amd_iommu=on iommu=pt\tintel_iommu=on intel_iommu=on");
	av_entry_iommu_params(&ctx, &cfg, "quiet iommu=pt", out, sizeof(out));
	CHECK_STR(out, "intel_iommu=on");
	CHECK_CONTAINS(log.text, "amd_iommu=on is not a valid value");
	av_entry_iommu_params(&ctx, &cfg, "", out, sizeof(out));
	CHECK_STR(out, "iommu=pt intel_iommu=on");
}

/* The last entries kept 01:00.0 for the host, and it was the boot GPU then. */
static bool was_host(void *data, const char *address, bool *boot_vga)
{
	(*(int *)data)++;
	*boot_vga = strcmp(address, "0000:01:00.0") == 0;
	return *boot_vga;
}

AV_TEST(select_config_machine_from_the_last_menu)
{
	static const char *const sel[] = {"0000:01:00.0@10de:1e84", "0000:01:00.1@10de:10f8",
					  "0000:05:00.0@10de:128b", NULL};
	int asked = 0;
	struct av_ctx ctx;
	struct av_config cfg;
	struct av_machine *m = NULL;
	struct av_resolved r;
	struct av_entry e[4];

	CHECK_INT(av_ctx_init(&ctx, tu_tmpdir()), 0);
	config(&cfg, AV_MODE_MULTIBOOT, sel);
	CHECK_INT(av_select_config_machine(&cfg, NULL, was_host, &asked, &m), 0);
	CHECK_INT(asked, 3);
	CHECK_INT(m->ndevs, 3);
	CHECK(m->devs[0].gpu);
	CHECK(!m->devs[2].gpu);
	CHECK_INT(m->devs[1].companion_of, 0);
	CHECK_INT(m->boot_vga, 0);
	CHECK_INT(av_select(&ctx, m, &cfg, AV_SELECT_LENIENT, &r), 0);
	/* the GPU's audio goes with it; 05:00.0 is no GPU the last menu kept */
	CHECK_INT(r.nunits, 2);
	CHECK_INT(av_entries(m, &r, e), 2);
	CHECK_STR(e[0].id, "host-0000:01:00.0");
	CHECK(!e[0].bootfb);
	CHECK_STR(bind_of(m, &e[0]), "auto_vfio.bind=0000:05:00.0@10de:128b");
	CHECK(e[1].bootfb);
	av_machine_free(m);
}
