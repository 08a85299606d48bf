/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What bls.c (writing entries) and bls-parse.c (reading them) share. Not for
 * use outside them: bls.h is the interface.
 */
#ifndef AV_BLS_INTERNAL_H
#define AV_BLS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "bls.h"
#include "fileops.h"

/* In our entries' names: <plain entry>-auto-vfio-host-... and ...-headless. */
#define AV_BLS_OURS "-auto-vfio-"

/* Is the word @w (@len bytes) of a command line a bind token? */
bool av_bls_is_bind_word(const char *w, size_t len);

/* The value of BLS key @key in @text (first occurrence), malloc'd; NULL when absent. */
char *av_bls_value(const char *text, const char *key);

/* Does the entry name @name (a *.conf) belong to auto-vfio? */
bool av_bls_ours(const char *name);

bool av_bls_has_suffix(const char *s, const char *suf);

/* "TOKEN-KVER" from "TOKEN-KVER.conf" or "TOKEN-KVER+LEFT[-DONE].conf". */
void av_bls_entry_base(const char *name, const char *kver, char *out, size_t size);

/*
 * The plain entry of @kver in @dir (real path; @token, when not NULL, starts
 * its name): its file name into @name, its content into @text. 0 or -errno.
 */
int av_bls_find_plain(const struct av_ctx *rc, const char *dir, const char *token, const char *kver,
		      char *name, size_t size, struct av_file *text);

/* @data of av_bls_was_host(): the entries directory (a real path). */
struct av_bls_was_host_data {
	const char *dir;
};

/* av_select_config_machine()'s question, answered from our earlier entries. */
bool av_bls_was_host(void *data, const char *address, bool *boot_vga);

#endif
