// SPDX-License-Identifier: GPL-2.0-or-later
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmdline.h"

/* Hex digits of exactly @n characters, either case. */
static int hex_exact(const char *s, size_t n, uint16_t *out)
{
	unsigned v = 0;

	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];

		if (!isxdigit(c))
			return -EINVAL;
		v = v * 16 + (unsigned)(isdigit(c) ? c - '0' : tolower(c) - 'a' + 10);
	}
	*out = (uint16_t)v;
	return 0;
}

int av_sel_parse(const char *s, struct av_sel *out)
{
	char addr[16];
	const char *at = strchr(s, '@');
	size_t alen;
	struct av_sel sel;

	if (!at)
		return -EINVAL;
	alen = (size_t)(at - s);
	if (alen >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	/* "BB:DD.F" means domain 0, as lspci prints it; people type that in GRUB's editor. */
	if (av_pci_addr_parse(addr, true, &sel.addr) < 0)
		return -EINVAL;
	at++;
	if (strlen(at) != 9 || at[4] != ':')
		return -EINVAL;
	if (hex_exact(at, 4, &sel.vendor) < 0 || hex_exact(at + 5, 4, &sel.device) < 0)
		return -EINVAL;
	*out = sel;
	return 0;
}

void av_sel_format(const struct av_sel *sel, char buf[AV_SEL_LEN])
{
	char addr[AV_ADDR_LEN];

	av_pci_addr_format(&sel->addr, addr);
	snprintf(buf, AV_SEL_LEN, "%s@%04x:%04x", addr, sel->vendor, sel->device);
}

/*
 * Copy the next word of *@s into @word, removing double quotes, which group
 * blanks into the word wherever they appear. Returns false at the end.
 */
static bool next_word(const char **s, char *word)
{
	const char *p = *s;
	bool quoted = false;

	while (*p && isspace((unsigned char)*p))
		p++;
	if (!*p)
		return false;
	for (; *p && (quoted || !isspace((unsigned char)*p)); p++) {
		if (*p == '"')
			quoted = !quoted;
		else
			*word++ = *p;
	}
	*word = '\0';
	*s = p;
	return true;
}

/* Parameter names compare with '-' and '_' alike, as the kernel's parameq() does. */
static bool param_eq(const char *a, size_t alen, const char *b)
{
	size_t i;

	for (i = 0; i < alen && b[i]; i++) {
		char x = a[i] == '-' ? '_' : a[i];
		char y = b[i] == '-' ? '_' : b[i];

		if (x != y)
			return false;
	}
	return i == alen && !b[i];
}

static bool sel_equal(const struct av_sel *a, const struct av_sel *b)
{
	return av_pci_addr_cmp(&a->addr, &b->addr) == 0 && a->vendor == b->vendor &&
	       a->device == b->device;
}

/* Returns -E2BIG once the table is full, else 0. */
static int add_selectors(const struct av_ctx *ctx, char *val, struct av_cmdline *out, bool *full)
{
	char *tok, *save = NULL;
	int ret = 0;

	for (tok = strtok_r(val, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		struct av_sel sel;
		bool dup = false;

		if (av_sel_parse(tok, &sel) < 0) {
			av_warn(ctx,
				"auto_vfio.bind: ignoring malformed selector \"%s\" "
				"(expected DDDD:BB:DD.F@VVVV:DDDD)",
				tok);
			out->nbad++;
			continue;
		}
		for (size_t i = 0; i < out->nsel && !dup; i++)
			dup = sel_equal(&out->sel[i], &sel);
		if (dup)
			continue;
		if (out->nsel == AV_MAX_SEL) {
			if (!*full)
				av_warn(ctx,
					"auto_vfio.bind: more than %d selectors, ignoring \"%s\" "
					"and the rest",
					AV_MAX_SEL, tok);
			*full = true;
			ret = -E2BIG;
			continue;
		}
		out->sel[out->nsel++] = sel;
	}
	return ret;
}

static bool value_is_off(const char *v)
{
	static const char *const offs[] = {"off", "0", "n", "no", "false"};

	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++)
		if (strcasecmp(v, offs[i]) == 0)
			return true;
	return false;
}

int av_cmdline_parse(const struct av_ctx *ctx, const char *cmdline, struct av_cmdline *out)
{
	const char *p = cmdline ? cmdline : "";
	bool init_args = false, full = false;
	char *word;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	word = malloc(strlen(p) + 1);
	if (!word)
		return -ENOMEM;
	while (next_word(&p, word)) {
		char *eq = strchr(word, '=');
		size_t nlen = eq ? (size_t)(eq - word) : strlen(word);
		char *val = eq ? eq + 1 : NULL;

		/* After "--" the words belong to init, not to the kernel. */
		if (strcmp(word, "--") == 0) {
			init_args = true;
			continue;
		}
		if (param_eq(word, nlen, "auto_vfio")) {
			/* The kill switch counts wherever it is: refusing to bind is the safe side.
			 */
			if (val && value_is_off(val))
				out->off = true;
			else
				av_warn(ctx,
					"auto_vfio: ignoring unknown value \"%s\" (only \"off\")",
					val ? val : "");
		} else if (param_eq(word, nlen, "auto_vfio.bind")) {
			int err;

			if (init_args) {
				av_warn(ctx, "auto_vfio.bind after \"--\" goes to init, ignored");
				continue;
			}
			if (!val || !*val)
				continue;
			err = add_selectors(ctx, val, out, &full);
			if (err < 0)
				ret = err;
		}
	}
	free(word);
	return ret;
}

bool av_cmdline_has_word(const char *line, const char *w, size_t wlen)
{
	for (const char *p = line; *p;) {
		size_t len;

		p += strspn(p, " \t\n");
		len = strcspn(p, " \t\n");
		if (len == wlen && strncmp(p, w, wlen) == 0)
			return true;
		p += len;
	}
	return false;
}
