/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Writing GRUB script. Text that is not ours (device names from pci.ids,
 * kernel versions, the distributor's name) only ever appears inside
 * single quotes, quoted exactly as grub-mkconfig_lib's grub_quote does
 * ('  ->  '\''), with control characters and broken UTF-8 replaced first so
 * a title is one printable line. Nothing such text holds can end the quote.
 *
 * Writers return 0 or -EIO when the stream failed.
 */
#ifndef AV_GRUBEMIT_H
#define AV_GRUBEMIT_H

#include <stddef.h>
#include <stdio.h>

/*
 * Copy @in to @out (@size bytes) for display: control characters become a
 * blank, bytes that are not valid UTF-8 become '?', blank runs collapse.
 * Truncates on a character boundary. Returns the length written.
 */
size_t av_grub_sanitize(const char *in, char *out, size_t size);

/* Write @s as one single-quoted GRUB word, as grub_quote does. */
int av_grub_quote(FILE *f, const char *s);

/*
 * Write @s bare when it consists only of characters GRUB gives no meaning
 * ([A-Za-z0-9_.,:=/+@%-]), quoted otherwise. For paths and plain arguments.
 */
int av_grub_word(FILE *f, const char *s);

/*
 * The class 10_linux derives from GRUB_DISTRIBUTOR: first word, lower case,
 * every byte outside [a-z0-9_] made '_'.
 */
void av_grub_class_name(const char *in, char *out, size_t size);

struct av_grub_entry {
	const char *title;	    /* any text; sanitized and quoted */
	const char *id;		    /* any text; sanitized and quoted */
	const char *const *classes; /* NULL-terminated, may be NULL; made class names */
};

/* "menuentry 'title' --class c ... --id 'id' {" at @indent tabs. */
int av_grub_menuentry_begin(FILE *f, int indent, const struct av_grub_entry *e);
/* "submenu 'title' --id 'id' {" at @indent tabs. */
int av_grub_submenu_begin(FILE *f, int indent, const char *title, const char *id);
/* "}" at @indent tabs. */
int av_grub_end(FILE *f, int indent);

/*
 * Write the lines of @text (trusted GRUB script, e.g. the device access
 * prologue grub-mkconfig_lib prints) each indented by @indent tabs; blank
 * lines are dropped, a missing final newline is added.
 */
int av_grub_block(FILE *f, int indent, const char *text);

/* echo 'msg' at @indent tabs, the message sanitized and quoted. */
int av_grub_echo(FILE *f, int indent, const char *msg);

#endif
