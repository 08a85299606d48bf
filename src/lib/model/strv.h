/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Growing arrays of malloc'd strings: the reasons and notes of the model. */
#ifndef AV_STRV_H
#define AV_STRV_H

#include <stddef.h>

/* Append a printf-formatted string to a NULL-free string array. 0 or -ENOMEM. */
__attribute__((format(printf, 3, 4))) int av_strv_addf(char ***v, size_t *n, const char *fmt, ...);
void av_strv_free(char **v, size_t n);

#endif
