/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Strict UTF-8: what every text auto-vfio shows or emits is checked against. */
#ifndef AV_UTF8_H
#define AV_UTF8_H

#include <stddef.h>

/*
 * Length (1-4) of the valid UTF-8 sequence at @s, or 0 when it is not one:
 * overlong forms, UTF-16 surrogates and code points above U+10FFFF are not.
 * @s is NUL-terminated (a NUL ends a sequence early, so it is never read past).
 */
size_t av_utf8_len(const unsigned char *s);

#endif
