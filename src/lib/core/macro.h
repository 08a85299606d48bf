/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Scope-bound release, as kmod and systemd have it: the variable is freed when it goes out of
 * scope. */
#ifndef AV_MACRO_H
#define AV_MACRO_H

#include <stdlib.h>

static inline void av_freep(void *p)
{
	free(*(void **)p);
}

/* @f gets a pointer to the variable: a release function such as av_file_release() fits as is. */
#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(av_freep)

#endif
