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

#define _cleanup_free_ __attribute__((cleanup(av_freep)))

#endif
