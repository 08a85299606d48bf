// SPDX-License-Identifier: GPL-2.0-or-later
/* /etc/auto-vfio.conf: strict parsing with path:line errors, and the formatter. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "lib/testsuite.h"
#include "lib/testutil.h"

/* Everything the library logs, one message per line. */
static char logbuf[8192];

static void log_collect(void *data, int prio, const char *fmt, va_list ap)
{
	size_t len = strlen(logbuf);

	(void)data;
	(void)prio;
	vsnprintf(logbuf + len, sizeof(logbuf) - len, fmt, ap);
	len = strlen(logbuf);
	if (len + 1 < sizeof(logbuf))
		strcat(logbuf, "\n");
}

static void ctx_for(struct av_ctx *ctx, const char *root)
{
	CHECK_INT(av_ctx_init(ctx, root), 0);
	av_ctx_set_log(ctx, log_collect, NULL, AV_LOG_DEBUG);
	logbuf[0] = '\0';
}

static int parse(const char *text, struct av_config *cfg)
{
	struct av_ctx ctx;

	ctx_for(&ctx, "/");
	return av_config_parse(&ctx, "/etc/auto-vfio.conf", text, strlen(text), cfg);
}

static void sel_is(const struct av_sel *s, const char *want)
{
	char buf[AV_SEL_LEN];

	av_sel_format(s, buf);
	CHECK_STR(buf, want);
}

AV_TEST(config_parse_all_keys)
{
	struct av_config cfg;

	CHECK_INT(parse("# written by auto-vfio\n"
			"\n"
			"version = 1\n"
			"  mode=multiboot  \n"
			"iommu_params = intel_iommu=on iommu=pt\n"
			"select = 0000:01:00.0@10de:1b81\n"
			"\t# a comment with = in it\n"
			"select =\t0000:0b:00.0@10DE:128B\n"
			"force_unsafe = 0000:0b:00.0@10de:128b",
			&cfg),
		  0);
	CHECK_STR(logbuf, "");
	CHECK_INT(cfg.version, 1);
	CHECK_INT(cfg.mode, AV_MODE_MULTIBOOT);
	CHECK_STR(cfg.iommu_params, "intel_iommu=on iommu=pt");
	CHECK_INT(cfg.nselect, 2);
	sel_is(&cfg.select[0], "0000:01:00.0@10de:1b81");
	sel_is(&cfg.select[1], "0000:0b:00.0@10de:128b");
	CHECK_INT(cfg.nforce, 1);
	CHECK(av_config_forced(&cfg, &cfg.select[1]));
	CHECK(!av_config_forced(&cfg, &cfg.select[0]));
}

AV_TEST(config_modes)
{
	struct av_config cfg;

	CHECK_INT(parse("version = 1\nmode = static\n", &cfg), 0);
	CHECK_INT(cfg.mode, AV_MODE_STATIC);
	CHECK_INT(parse("version = 1\nmode = none\n", &cfg), 0);
	CHECK_INT(cfg.mode, AV_MODE_NONE);
	CHECK_INT(cfg.nselect, 0);
	CHECK_STR(cfg.iommu_params, "");
	CHECK_STR(av_mode_name(AV_MODE_MULTIBOOT), "multiboot");
}

/* Each bad line is reported as path:line with what is wrong, and the parse fails. */
AV_TEST(config_errors_name_path_and_line)
{
	static const struct {
		const char *text, *where, *what;
	} cases[] = {
	    {"version = 1\nmode = multiboot\nselect = 01:00.0\n", ":3:", "not a device"},
	    {"version = 1\nmode = multiboot\nselect = 0000:01:00.0@10de:1b8\n",
	     ":3:", "not a device"},
	    {"version = 1\nmode = dual\n", ":2:", "not one of"},
	    {"version = 2\nmode = none\n", ":1:", "unsupported version"},
	    {"version = 1\nversion = 1\nmode = none\n", ":2:", "first at line 1"},
	    {"version = 1\nmode = none\nselct = 0000:01:00.0@10de:1b81\n", ":3:", "unknown key"},
	    {"version = 1\nmode = none\njust some words\n", ":3:", "expected 'key = value'"},
	    {"version = 1\nmode = none\niommu_params = intel_iommu=on; reboot\n",
	     ":3:", "iommu_params"},
	    {"version = 1\nmode = none\niommu_params = a'b\n", ":3:", "iommu_params"},
	    {"version = 1\nmode = none\nselect = 0000:01:00.0@10de:1b81\n"
	     "select = 0000:01:00.0@10de:1b81\n",
	     ":4:", "listed twice"},
	    {"version = 1\r\nmode = none\n", ":1:", "control character"},
	    {"mode = none\n", ": ", "no 'version = 1' line"},
	    {"version = 1\n", ": ", "no 'mode = ...' line"},
	};
	struct av_config cfg;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK_MSG(parse(cases[i].text, &cfg) == -EINVAL, "case %zu parsed", i);
		CHECK_CONTAINS(logbuf, tu_fmt("/etc/auto-vfio.conf%s", cases[i].where));
		CHECK_CONTAINS(logbuf, cases[i].what);
	}
}

AV_TEST(config_every_error_reported)
{
	struct av_config cfg;

	CHECK_INT(parse("version = 1\nmode = bad\nfoo = 1\n", &cfg), -EINVAL);
	CHECK_CONTAINS(logbuf, "auto-vfio.conf:2:");
	CHECK_CONTAINS(logbuf, "auto-vfio.conf:3:");
}

AV_TEST(config_nul_byte_rejected)
{
	static const char text[] = "version = 1\nmode = none\nselect = 0000:01:00.0\0@10de:1b81\n";
	struct av_config cfg;
	struct av_ctx ctx;

	ctx_for(&ctx, "/");
	CHECK_INT(av_config_parse(&ctx, "/x.conf", text, sizeof(text) - 1, &cfg), -EINVAL);
	CHECK_CONTAINS(logbuf, "/x.conf:3: NUL byte");
}

AV_TEST(config_too_many_selectors)
{
	char *text = tu_fmt("version = 1\nmode = none\n");
	struct av_config cfg;

	for (int i = 0; i <= AV_MAX_SEL; i++)
		text = tu_fmt("%sselect = 0000:%02x:00.0@10de:1b81\n", text, i + 1);
	CHECK_INT(parse(text, &cfg), -EINVAL);
	CHECK_CONTAINS(logbuf, tu_fmt(":%d: select: more than", AV_MAX_SEL + 3));
}

AV_TEST(config_format_round_trip)
{
	struct av_config cfg, back;
	char *text, *again;

	av_config_init(&cfg);
	cfg.mode = AV_MODE_MULTIBOOT;
	strcpy(cfg.iommu_params, "intel_iommu=on iommu=pt");
	CHECK_INT(av_sel_parse("0000:01:00.0@10de:1b81", &cfg.select[cfg.nselect++]), 0);
	CHECK_INT(av_sel_parse("0001:0b:1f.7@1002:73bf", &cfg.select[cfg.nselect++]), 0);
	CHECK_INT(av_sel_parse("0000:03:00.0@10de:128b", &cfg.force_unsafe[cfg.nforce++]), 0);
	CHECK_INT(av_config_format(&cfg, &text), 0);
	CHECK_CONTAINS(text, "mode = multiboot\n");
	CHECK_CONTAINS(text, "select = 0001:0b:1f.7@1002:73bf\n");
	CHECK_CONTAINS(text, "force_unsafe = 0000:03:00.0@10de:128b\n");
	CHECK_INT(parse(text, &back), 0);
	CHECK_INT(back.mode, cfg.mode);
	CHECK_STR(back.iommu_params, cfg.iommu_params);
	CHECK_INT(back.nselect, 2);
	CHECK_INT(back.nforce, 1);
	CHECK(memcmp(back.select, cfg.select, 2 * sizeof(cfg.select[0])) == 0);
	CHECK(memcmp(back.force_unsafe, cfg.force_unsafe, sizeof(cfg.force_unsafe[0])) == 0);
	CHECK_INT(av_config_format(&back, &again), 0);
	CHECK_STR(again, text);
	free(text);
	free(again);

	/* what the parser would refuse is never written */
	strcpy(cfg.iommu_params, "quiet\nmode = none");
	CHECK_INT(av_config_format(&cfg, &text), -EINVAL);
	CHECK(text == NULL);
}

AV_TEST(config_load_under_root)
{
	const char *r = tu_tmpdir();
	struct av_config cfg;
	struct av_ctx ctx;

	ctx_for(&ctx, r);
	CHECK_INT(av_config_load(&ctx, &cfg), -ENOENT);
	CHECK_STR(logbuf, "");
	tu_write(tu_fmt("%s/etc/auto-vfio.conf", r), "version = 1\nmode = static\n");
	CHECK_INT(av_config_load(&ctx, &cfg), 0);
	CHECK_INT(cfg.mode, AV_MODE_STATIC);
	tu_write(tu_fmt("%s/etc/auto-vfio.conf", r), "version = 1\nmode = static\nx\n");
	CHECK_INT(av_config_load(&ctx, &cfg), -EINVAL);
	/* the message names the real file, root prefix included */
	CHECK_CONTAINS(logbuf, tu_fmt("%s/etc/auto-vfio.conf:3:", r));
}

AV_TEST(config_default_entry)
{
	struct av_config cfg;
	char *text;

	CHECK_INT(parse("version = 1\nmode = multiboot\ndefault = host-03:00.0\n", &cfg), 0);
	CHECK_STR(cfg.boot_default, "host-0000:03:00.0");
	CHECK_INT(av_config_format(&cfg, &text), 0);
	CHECK_CONTAINS(text, "default = host-0000:03:00.0\n");
	free(text);
	CHECK_INT(parse("version = 1\nmode = multiboot\ndefault = headless\n", &cfg), 0);
	CHECK_STR(cfg.boot_default, "headless");
	CHECK_INT(parse("version = 1\nmode = multiboot\ndefault = plain\n", &cfg), 0);
	CHECK_STR(cfg.boot_default, "");
	CHECK_INT(
	    parse("version = 1\nmode = multiboot\ndefault = host-0000:03:00.0;reboot\n", &cfg),
	    -EINVAL);
	CHECK_CONTAINS(logbuf, "/etc/auto-vfio.conf:3: default:");
	CHECK_INT(
	    parse("version = 1\nmode = multiboot\ndefault = headless\ndefault = headless\n", &cfg),
	    -EINVAL);
}

AV_TEST(config_default_and_entry_ids)
{
	char out[AV_DEFAULT_LEN];

	CHECK_INT(av_config_default("plain", out), 0);
	CHECK_STR(out, "");
	CHECK_INT(av_config_default("host-03:00.0", out), 0);
	CHECK_STR(out, "host-0000:03:00.0");
	CHECK_INT(av_config_default("host-", out), -EINVAL);
	CHECK_INT(av_config_entry_id("headless", out), 0);
	CHECK_STR(out, "headless");
	CHECK_INT(av_config_entry_id("0000:0C:00.0", out), 0);
	CHECK_STR(out, "host-0000:0c:00.0");
	CHECK_INT(av_config_entry_id("plain", out), -EINVAL);
	CHECK_INT(av_config_entry_id("host-0000:03:00.0", out), -EINVAL);
}
