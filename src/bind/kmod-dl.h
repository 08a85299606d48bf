/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The binder opens libkmod at run time, and only when it must load a module:
 * kmod-dl.c provides the libkmod functions the kmod helpers call.
 */
#ifndef AV_KMOD_DL_H
#define AV_KMOD_DL_H

/* The library's ABI name, as a program linked with -lkmod would record it. */
#define AV_LIBKMOD_SONAME "libkmod.so.2"

/* Where the dynamic loader finds libkmod (for the initramfs hook); NULL when it cannot. */
const char *av_kmod_dl_path(void);

#endif
