// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "grubemit.h"
#include "utf8.h"

static int stream_status(FILE *f)
{
	return ferror(f) ? -EIO : 0;
}

size_t av_grub_sanitize(const char *in, char *out, size_t size)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t len = 0;
	bool blank = false;

	if (!size)
		return 0;
	while (*s) {
		size_t n = av_utf8_len(s), adv = n ? n : 1;
		const char *piece = (const char *)s;

		/* C0, DEL and C1 (U+0080..U+009F, e.g. CSI) are controls too */
		if ((n == 1 && (*s < 0x20 || *s == 0x7f || *s == ' ')) ||
		    (n == 2 && s[0] == 0xc2 && s[1] < 0xa0)) {
			blank = true;
			s += n;
			continue;
		}
		if (n == 0) {
			piece = "?";
			n = 1;
		}
		if (blank && len > 0) {
			if (len + 1 >= size)
				break;
			out[len++] = ' ';
		}
		blank = false;
		if (len + n >= size)
			break;
		memcpy(out + len, piece, n);
		len += n;
		s += adv;
	}
	out[len] = '\0';
	return len;
}

int av_grub_quote(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", f);
		else
			fputc(*s, f);
	}
	fputc('\'', f);
	return stream_status(f);
}

static bool bare_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       strchr("_.,:=/+@%-", c);
}

int av_grub_word(FILE *f, const char *s)
{
	bool bare = *s != '\0';

	for (const char *p = s; *p && bare; p++)
		bare = bare_char(*p);
	if (!bare)
		return av_grub_quote(f, s);
	fputs(s, f);
	return stream_status(f);
}

/* [a-z0-9_-] after lower-casing, '_' for anything else, up to the first blank. */
static void class_word(const char *in, bool dash, char *out, size_t size)
{
	size_t len = 0;

	if (!size)
		return;
	while (*in == ' ' || *in == '\t' || *in == '\n')
		in++;
	for (; *in && *in != ' ' && *in != '\t' && *in != '\n' && len + 1 < size; in++) {
		char c = *in;

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
			   (dash && c == '-')))
			c = '_';
		out[len++] = c;
	}
	out[len] = '\0';
}

void av_grub_class_name(const char *in, char *out, size_t size)
{
	/* 10_linux: tr 'A-Z' 'a-z' | cut -d' ' -f1 | LC_ALL=C sed 's,[^[:alnum:]_],_,g' */
	class_word(in, false, out, size);
}

static void indent_to(FILE *f, int indent)
{
	for (int i = 0; i < indent; i++)
		fputc('\t', f);
}

/* Sanitize then quote: the only way free text reaches the script. */
static int quote_text(FILE *f, const char *s)
{
	char buf[1024];

	av_grub_sanitize(s, buf, sizeof(buf));
	return av_grub_quote(f, buf);
}

int av_grub_menuentry_begin(FILE *f, int indent, const struct av_grub_entry *e)
{
	indent_to(f, indent);
	fputs("menuentry ", f);
	quote_text(f, e->title);
	for (const char *const *c = e->classes; c && *c; c++) {
		char name[64];

		class_word(*c, true, name, sizeof(name));
		if (name[0])
			fprintf(f, " --class %s", name);
	}
	fputs(" --id ", f);
	quote_text(f, e->id);
	fputs(" {\n", f);
	return stream_status(f);
}

int av_grub_submenu_begin(FILE *f, int indent, const char *title, const char *id)
{
	indent_to(f, indent);
	fputs("submenu ", f);
	quote_text(f, title);
	fputs(" --id ", f);
	quote_text(f, id);
	fputs(" {\n", f);
	return stream_status(f);
}

int av_grub_end(FILE *f, int indent)
{
	indent_to(f, indent);
	fputs("}\n", f);
	return stream_status(f);
}

int av_grub_block(FILE *f, int indent, const char *text)
{
	const char *p = text;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		size_t skip = 0;

		while (skip < len && (p[skip] == ' ' || p[skip] == '\t'))
			skip++;
		if (skip < len) {
			indent_to(f, indent);
			fwrite(p, 1, len, f);
			fputc('\n', f);
		}
		p += len + (nl ? 1 : 0);
	}
	return stream_status(f);
}

int av_grub_echo(FILE *f, int indent, const char *msg)
{
	indent_to(f, indent);
	fputs("echo\t", f);
	quote_text(f, msg);
	fputc('\n', f);
	return stream_status(f);
}
