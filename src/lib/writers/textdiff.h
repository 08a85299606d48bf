/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unified diffs of small text files, for showing what setup would change. */
#ifndef AV_TEXTDIFF_H
#define AV_TEXTDIFF_H

/*
 * A unified diff (3 lines of context) from @a to @b (NULL: no file), or ""
 * when equal. malloc'd; NULL on no memory. Large files are shown whole.
 */
char *av_unified_diff(const char *path, const char *a, const char *b);

#endif
