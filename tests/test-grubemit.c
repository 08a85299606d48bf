// SPDX-License-Identifier: GPL-2.0-or-later
/* GRUB script emission: quoting as grub_quote does, sanitizing, entry blocks. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "grubemit.h"
#include "lib/testsuite.h"
#include "lib/testutil.h"

static const char *const hostile[] = {
    "it's",
    "'",
    "''\\'",
    "$(reboot)",
    "`reboot`",
    "a; reboot",
    "} menuentry 'x' { reboot",
    "${root}\\n\\",
    "line\nbreak",
    "\x1b[2Jesc",
    "tab\there",
    "bad \xff\xfe utf8 \xc0\xaf",
    "Radeon\xe2\x84\xa2 ok",
    "",
};

static char *emit(void (*fn)(FILE *, const void *), const void *arg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	CHECK(f != NULL);
	fn(f, arg);
	CHECK_INT(fclose(f), 0);
	return buf;
}

static void quote_fn(FILE *f, const void *arg)
{
	CHECK_INT(av_grub_quote(f, arg), 0);
}

static const char *script_check(void)
{
	static const char *const cands[] = {"/usr/bin/grub-script-check", "/bin/grub-script-check"};

	for (size_t i = 0; i < sizeof(cands) / sizeof(cands[0]); i++)
		if (access(cands[i], X_OK) == 0)
			return cands[i];
	av_test_skip("grub-script-check is not installed (grub-common)");
}

/* Run grub-script-check on @script; returns its exit status. */
static int grub_check(const char *script)
{
	const char *path = tu_fmt("%s/check.cfg", tu_tmpdir());
	const char *argv[] = {script_check(), path, NULL};
	struct tu_result r;
	int st;

	tu_write(path, script);
	tu_run(&r, argv, NULL, NULL);
	st = r.status;
	tu_result_free(&r);
	return st;
}

AV_TEST(grubemit_quote_like_grub_quote)
{
	CHECK_STR(emit(quote_fn, "it's"), "'it'\\''s'");
	CHECK_STR(emit(quote_fn, ""), "''");
	CHECK_STR(emit(quote_fn, "$x `y` \\z"), "'$x `y` \\z'");
}

/*
 * GRUB and POSIX sh read single quotes the same way: sh must give back
 * exactly the input for every hostile string, and no command runs.
 */
AV_TEST(grubemit_quote_round_trips_through_sh)
{
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		char *q = emit(quote_fn, hostile[i]);
		const char *argv[] = {"/bin/sh", "-c", tu_fmt("printf %%s %s", q), NULL};
		struct tu_result r;

		tu_run(&r, argv, NULL, NULL);
		CHECK_INT(r.status, 0);
		CHECK_STR(r.out, hostile[i]);
		tu_result_free(&r);
		free(q);
	}
}

AV_TEST(grubemit_sanitize_controls_and_utf8)
{
	char buf[64];

	CHECK_INT(av_grub_sanitize("line\nbreak\x1b[2J", buf, sizeof(buf)), 14);
	CHECK_STR(buf, "line break [2J");
	av_grub_sanitize("  front   and\t\tback  ", buf, sizeof(buf));
	CHECK_STR(buf, "front and back");
	av_grub_sanitize("bad \xff\xfe x \xc0\xaf \xed\xa0\x80", buf, sizeof(buf));
	CHECK_STR(buf, "bad ?? x ?? ???");
	av_grub_sanitize("Radeon\xe2\x84\xa2 \xf0\x9f\x8e\xae", buf, sizeof(buf));
	CHECK_STR(buf, "Radeon\xe2\x84\xa2 \xf0\x9f\x8e\xae");
	/* truncation never splits a character */
	av_grub_sanitize("ab\xe2\x84\xa2", buf, 5);
	CHECK_STR(buf, "ab");
	av_grub_sanitize("x\x7f", buf, sizeof(buf));
	CHECK_STR(buf, "x");
	/* C1 controls (CSI) are controls too; U+00A0 on is text */
	av_grub_sanitize("a\xc2\x9b"
			 "2Jb\xc2\xa0",
			 buf, sizeof(buf));
	CHECK_STR(buf, "a 2Jb\xc2\xa0");
}

static void word_fn(FILE *f, const void *arg)
{
	CHECK_INT(av_grub_word(f, arg), 0);
}

AV_TEST(grubemit_word_bare_or_quoted)
{
	CHECK_STR(emit(word_fn, "/boot/vmlinuz-6.1.0-18-amd64"), "/boot/vmlinuz-6.1.0-18-amd64");
	CHECK_STR(emit(word_fn, "/@/boot/x"), "/@/boot/x");
	CHECK_STR(emit(word_fn, "/my boot/x"), "'/my boot/x'");
	CHECK_STR(emit(word_fn, "/b$x"), "'/b$x'");
	CHECK_STR(emit(word_fn, ""), "''");
}

AV_TEST(grubemit_class_name)
{
	char buf[32];

	av_grub_class_name("Debian", buf, sizeof(buf));
	CHECK_STR(buf, "debian");
	av_grub_class_name(" Linux Mint", buf, sizeof(buf));
	CHECK_STR(buf, "linux");
	av_grub_class_name("a$b'c", buf, sizeof(buf));
	CHECK_STR(buf, "a_b_c");
	/* as 10_linux: sed 's,[^[:alnum:]_],_,g' also takes the dash */
	av_grub_class_name("Linux-Mint", buf, sizeof(buf));
	CHECK_STR(buf, "linux_mint");
}

struct entry_arg {
	const char *title, *id;
};

static void entry_fn(FILE *f, const void *arg)
{
	const struct entry_arg *a = arg;
	static const char *const classes[] = {"Debian", "gnu-linux", "bad class'", NULL};

	CHECK_INT(av_grub_submenu_begin(f, 0, a->title, "sub"), 0);
	CHECK_INT(av_grub_menuentry_begin(f, 1, &(struct av_grub_entry){a->title, a->id, classes}),
		  0);
	CHECK_INT(av_grub_block(f, 2, "insmod ext2\n\n  set root='hd0,msdos1'"), 0);
	CHECK_INT(av_grub_echo(f, 2, a->title), 0);
	CHECK_INT(av_grub_end(f, 1), 0);
	CHECK_INT(av_grub_end(f, 0), 0);
}

static bool lines_are_ours(const char *s)
{
	static const char *const starts[] = {"submenu '", "menuentry '", "insmod ",
					     "set ",	  "echo\t'",	 "}"};

	for (const char *p = s; *p;) {
		const char *l = p + strspn(p, "\t ");
		bool ok = false;

		for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]); i++)
			ok |= strncmp(l, starts[i], strlen(starts[i])) == 0;
		if (!ok)
			return false;
		p = strchr(p, '\n');
		if (!p)
			break;
		p++;
	}
	return true;
}

/* Hostile text in titles, ids and messages stays a quoted word: the script parses. */
AV_TEST(grubemit_hostile_entries_pass_script_check)
{
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		struct entry_arg a = {hostile[i], hostile[i]};
		char *s = emit(entry_fn, &a);

		CHECK_MSG(grub_check(s) == 0, "grub-script-check failed on:\n%s", s);
		/* one line per statement: nothing broke out onto a line of its own */
		CHECK_MSG(lines_are_ours(s), "unexpected line in:\n%s", s);
		free(s);
	}
	{
		struct entry_arg a = {"t", "i"};
		char *s = emit(entry_fn, &a);

		CHECK_STR(s,
			  "submenu 't' --id 'sub' {\n"
			  "\tmenuentry 't' --class debian --class gnu-linux --class bad --id 'i' "
			  "{\n"
			  "\t\tinsmod ext2\n"
			  "\t\t  set root='hd0,msdos1'\n"
			  "\t\techo\t't'\n"
			  "\t}\n"
			  "}\n");
		free(s);
	}
}

/* The checker is real: a broken block is caught (so the test above means something). */
AV_TEST(grubemit_script_check_catches_breakage)
{
	CHECK(grub_check("menuentry 'a' {\n\techo 'x\n}\n") != 0);
	CHECK(grub_check("menuentry 'a' {\n\techo x\n}\n") == 0);
}
