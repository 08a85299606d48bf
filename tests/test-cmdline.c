// SPDX-License-Identifier: GPL-2.0-or-later
/* The kernel command-line contract: word splitting, our parameters, bad input. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"
#include "lib/testsuite.h"

struct logbuf {
	char text[8192];
	size_t len;
	unsigned lines;
};

static void capture(void *data, int prio, const char *fmt, va_list ap)
{
	struct logbuf *lb = data;
	int n;

	(void)prio;
	n = vsnprintf(lb->text + lb->len, sizeof(lb->text) - lb->len, fmt, ap);
	if (n > 0 && lb->len + (size_t)n + 1 < sizeof(lb->text)) {
		lb->len += (size_t)n;
		lb->text[lb->len++] = '\n';
		lb->text[lb->len] = '\0';
	}
	lb->lines++;
}

static struct av_ctx *ctx_with_log(struct logbuf *lb)
{
	static struct av_ctx ctx;

	memset(lb, 0, sizeof(*lb));
	CHECK_INT(av_ctx_init(&ctx, "/"), 0);
	av_ctx_set_log(&ctx, capture, lb, AV_LOG_DEBUG);
	return &ctx;
}

static const char *fmt_sel(const struct av_cmdline *cl, size_t i)
{
	static char buf[8][AV_SEL_LEN];

	CHECK(i < cl->nsel);
	av_sel_format(&cl->sel[i], buf[i % 8]);
	return buf[i % 8];
}

AV_TEST(cmdline_sel_parse_and_format)
{
	struct av_sel s;
	char buf[AV_SEL_LEN];

	CHECK_INT(av_sel_parse("0000:01:00.0@10de:1b81", &s), 0);
	CHECK_INT(s.addr.bus, 1);
	CHECK_INT(s.vendor, 0x10de);
	CHECK_INT(s.device, 0x1b81);
	av_sel_format(&s, buf);
	CHECK_STR(buf, "0000:01:00.0@10de:1b81");

	/* Upper case in, lower case out. */
	CHECK_INT(av_sel_parse("000A:0B:1F.7@10DE:1B8A", &s), 0);
	av_sel_format(&s, buf);
	CHECK_STR(buf, "000a:0b:1f.7@10de:1b8a");

	/* lspci's short form means domain 0. */
	CHECK_INT(av_sel_parse("03:00.1@1002:aaf0", &s), 0);
	av_sel_format(&s, buf);
	CHECK_STR(buf, "0000:03:00.1@1002:aaf0");
}

AV_TEST(cmdline_sel_parse_rejects_malformed)
{
	static const char *const bad[] = {
	    "",
	    "0000:01:00.0",
	    "0000:01:00.0@",
	    "0000:01:00.0@10de",
	    "0000:01:00.0@10de:1b8",
	    "0000:01:00.0@10de:1b811",
	    "0000:01:00.0@10de-1b81",
	    "0000:01:00.8@10de:1b81",
	    "0000:01:20.0@10de:1b81",
	    "0000:01:00.0@10dg:1b81",
	    "0000:1:00.0@10de:1b81",
	    "0000:01:00.0@@10de:1b81",
	    "10de:1b81",
	    "0000:01:00.0@10de:1b81 ",
	    "@10de:1b81",
	};
	struct av_sel s;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_MSG(av_sel_parse(bad[i], &s) == -EINVAL, "accepted \"%s\"", bad[i]);
}

AV_TEST(cmdline_empty_and_unrelated)
{
	struct logbuf lb;
	struct av_ctx *ctx = ctx_with_log(&lb);
	struct av_cmdline cl;

	CHECK_INT(av_cmdline_parse(ctx, "", &cl), 0);
	CHECK_INT(cl.nsel, 0);
	CHECK(!cl.off);
	CHECK_INT(av_cmdline_parse(ctx, NULL, &cl), 0);
	CHECK_INT(cl.nsel, 0);
	CHECK_INT(av_cmdline_parse(ctx,
				   "BOOT_IMAGE=/vmlinuz-6.1.0-18-amd64 root=UUID=1234 ro quiet "
				   "intel_iommu=on xauto_vfio.bind=0000:01:00.0@10de:1b81 "
				   "auto_vfio.binder=0000:01:00.0@10de:1b81 vfio-pci.ids=10de:1b81",
				   &cl),
		  0);
	CHECK_INT(cl.nsel, 0);
	CHECK(!cl.off);
	CHECK_INT(cl.nbad, 0);
	CHECK_INT(lb.lines, 0);
}

AV_TEST(cmdline_accumulates_and_folds_duplicates)
{
	struct logbuf lb;
	struct av_ctx *ctx = ctx_with_log(&lb);
	struct av_cmdline cl;

	CHECK_INT(
	    av_cmdline_parse(ctx,
			     "ro auto_vfio.bind=0000:01:00.0@10de:1b81,0000:01:00.1@10de:10f0 "
			     "quiet\tauto_vfio.bind=0000:02:00.0@1002:67df "
			     "auto_vfio.bind=0000:01:00.0@10DE:1B81,0000:02:00.0@1002:67df",
			     &cl),
	    0);
	CHECK_INT(cl.nsel, 3);
	CHECK_STR(fmt_sel(&cl, 0), "0000:01:00.0@10de:1b81");
	CHECK_STR(fmt_sel(&cl, 1), "0000:01:00.1@10de:10f0");
	CHECK_STR(fmt_sel(&cl, 2), "0000:02:00.0@1002:67df");
	CHECK_INT(cl.nbad, 0);
	CHECK(!cl.off);
}

AV_TEST(cmdline_dash_and_underscore_alike)
{
	struct logbuf lb;
	struct av_ctx *ctx = ctx_with_log(&lb);
	struct av_cmdline cl;

	CHECK_INT(av_cmdline_parse(ctx,
				   "auto-vfio.bind=0000:01:00.0@10de:1b81 "
				   "auto_vfio.bind=0000:02:00.0@1002:67df",
				   &cl),
		  0);
	CHECK_INT(cl.nsel, 2);
	CHECK_INT(av_cmdline_parse(ctx, "auto-vfio=off", &cl), 0);
	CHECK(cl.off);
}

AV_TEST(cmdline_quotes)
{
	struct logbuf lb;
	struct av_ctx *ctx = ctx_with_log(&lb);
	struct av_cmdline cl;

	/* Quoted value, quoted whole word, quote mid-word: all the same parameter. */
	CHECK_INT(av_cmdline_parse(ctx,
				   "auto_vfio.bind=\"0000:01:00.0@10de:1b81\" "
				   "\"auto_vfio.bind=0000:02:00.0@1002:67df\" "
				   "auto_vfio.bind=0000:03:00.0@\"8086\":1533",
				   &cl),
		  0);
	CHECK_INT(cl.nsel, 3);
	CHECK_STR(fmt_sel(&cl, 2), "0000:03:00.0@8086:1533");

	/*
	 * Blanks inside quotes stay in one word: this is one unrelated parameter,
	 * not a bind request.
	 */
	CHECK_INT(
	    av_cmdline_parse(ctx, "foo=\"a auto_vfio.bind=0000:01:00.0@10de:1b81 b\" ro", &cl), 0);
	CHECK_INT(cl.nsel, 0);

	/* A quoted blank inside our value makes that selector malformed, not the line. */
	CHECK_INT(
	    av_cmdline_parse(
		ctx, "auto_vfio.bind=\"0000:01:00.0@10de:1b81 ,0000:02:00.0@1002:67df\"", &cl),
	    0);
	CHECK_INT(cl.nsel, 1);
	CHECK_STR(fmt_sel(&cl, 0), "0000:02:00.0@1002:67df");
	CHECK_INT(cl.nbad, 1);

	/* An unterminated quote runs to the end of the line and must not crash. */
	CHECK_INT(av_cmdline_parse(ctx, "ro \"auto_vfio.bind=0000:01:00.0@10de:1b81", &cl), 0);
	CHECK_INT(cl.nsel, 1);
}

AV_TEST(cmdline_off)
{
	struct logbuf lb;
	struct av_ctx *ctx = ctx_with_log(&lb);
	struct av_cmdline cl;

	CHECK_INT(av_cmdline_parse(ctx, "auto_vfio.bind=0000:01:00.0@10de:1b81 auto_vfio=off", &cl),
		  0);
	CHECK(cl.off);
	/* The kill switch wins wherever it stands, even against a later "on". */
	CHECK_INT(av_cmdline_parse(ctx, "auto_vfio=off auto_vfio=on", &cl), 0);
	CHECK(cl.off);
	CHECK_CONTAINS(lb.text, "\"on\"");
	CHECK_INT(av_cmdline_parse(ctx, "auto_vfio=OFF", &cl), 0);
	CHECK(cl.off);
	CHECK_INT(av_cmdline_parse(ctx, "auto_vfio=0", &cl), 0);
	CHECK(cl.off);
	CHECK_INT(av_cmdline_parse(ctx, "auto_vfio=offf", &cl), 0);
	CHECK(!cl.off);
	/* After "--" words belong to init, but the kill switch still counts. */
	CHECK_INT(av_cmdline_parse(ctx, "ro -- auto_vfio=off", &cl), 0);
	CHECK(cl.off);
}

AV_TEST(cmdline_after_double_dash_ignored)
{
	struct logbuf lb;
	struct av_ctx *ctx = ctx_with_log(&lb);
	struct av_cmdline cl;

	CHECK_INT(av_cmdline_parse(ctx,
				   "auto_vfio.bind=0000:01:00.0@10de:1b81 -- "
				   "auto_vfio.bind=0000:02:00.0@1002:67df",
				   &cl),
		  0);
	CHECK_INT(cl.nsel, 1);
	CHECK_STR(fmt_sel(&cl, 0), "0000:01:00.0@10de:1b81");
	CHECK_CONTAINS(lb.text, "--");
}

AV_TEST(cmdline_malformed_logged_and_skipped)
{
	struct logbuf lb;
	struct av_ctx *ctx = ctx_with_log(&lb);
	struct av_cmdline cl;

	CHECK_INT(
	    av_cmdline_parse(ctx,
			     "auto_vfio.bind=01:00.0,0000:01:00.0@10de:1b81,,garbage@x:y, "
			     "auto_vfio.bind= auto_vfio.bind auto_vfio.bind=0000:zz:00.0@10de:1b81",
			     &cl),
	    0);
	CHECK_INT(cl.nsel, 1);
	CHECK_STR(fmt_sel(&cl, 0), "0000:01:00.0@10de:1b81");
	CHECK_INT(cl.nbad, 3);
	CHECK_CONTAINS(lb.text, "\"01:00.0\"");
	CHECK_CONTAINS(lb.text, "\"garbage@x:y\"");
	CHECK_CONTAINS(lb.text, "\"0000:zz:00.0@10de:1b81\"");
	CHECK_INT(lb.lines, 3);
}

AV_TEST(cmdline_too_many)
{
	struct logbuf lb;
	struct av_ctx *ctx = ctx_with_log(&lb);
	struct av_cmdline cl;
	size_t cap = (AV_MAX_SEL + 10) * 40 + 64, len = 0;
	char *line = malloc(cap);

	CHECK(line);
	/* Two tokens so the limit is crossed across accumulation. */
	len += (size_t)snprintf(line + len, cap - len, "auto_vfio.bind=");
	for (int i = 0; i < AV_MAX_SEL / 2; i++)
		len += (size_t)snprintf(line + len, cap - len, "%s0000:%02x:00.0@10de:1b81",
					i ? "," : "", i);
	len += (size_t)snprintf(line + len, cap - len, " auto_vfio.bind=");
	for (int i = AV_MAX_SEL / 2; i < AV_MAX_SEL + 10; i++)
		len += (size_t)snprintf(line + len, cap - len, "%s0000:%02x:00.0@10de:1b81",
					i > AV_MAX_SEL / 2 ? "," : "", i);
	CHECK(len < cap);

	CHECK_INT(av_cmdline_parse(ctx, line, &cl), -E2BIG);
	CHECK_INT(cl.nsel, AV_MAX_SEL);
	CHECK_STR(fmt_sel(&cl, 0), "0000:00:00.0@10de:1b81");
	CHECK_INT(cl.sel[AV_MAX_SEL - 1].addr.bus, AV_MAX_SEL - 1);
	/* One warning, not one per dropped selector. */
	CHECK_INT(lb.lines, 1);
	CHECK_CONTAINS(lb.text, "more than");
	free(line);
}
