/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * auto-vfio-grub's parts: the options and grub-mkconfig's settings
 * (auto-vfio-grub.c), the body of 10_linux's entries (linux-body.c) and the
 * menu around them (menu.c).
 */
#ifndef AV_GRUB_GEN_H
#define AV_GRUB_GEN_H

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>

#include "kernels.h"
#include "machine.h"
#include "select.h"

#define PROG "auto-vfio-grub"

struct opts {
	const char *root;
	const char *pci_ids;
	const char *boot_dir;	/* /boot as GRUB sees it on its filesystem */
	const char *prologue;	/* GRUB script that makes that filesystem $root */
	const char *linux_root; /* value of root= */
	const char *linux_gen;	/* the installed 10_linux, when grub-mkconfig runs it */
	const char *menu;	/* the grub.cfg being written, 10_linux's part in it */
	bool efi;		/* booted through EFI: 10_linux prefers .efi.signed */
	bool verbose;
};

/* grub-mkconfig's exported settings this generator honours. */
struct grubenv {
	const char *cmdline_linux, *cmdline_default;
	const char *distributor;
	const char *gfxpayload;
	const char *early; /* GRUB_EARLY_INITRD_LINUX_STOCK and _CUSTOM */
	const char *top_level;
	bool disable_submenu;
	bool savedefault;
	/* what the installed 10_linux was built with (Ubuntu's switches) */
	bool quick_boot, gfxpayload_dynamic, vt_handoff;
	bool gfxmode_defined; /* 10_linux runs and defines function gfxmode */
	bool top_level_known; /* 10_linux follows GRUB_TOP_LEVEL (GRUB 2.12) */
};

/* 10_linux's advanced entry for one kernel, from the grub.cfg being written. */
struct body {
	char *version;
	char *text; /* the lines inside the braces, entry indentation removed */
};

/* What the menu is rendered from. */
struct emitter {
	FILE *f;
	const struct av_ctx *ctx;
	const struct opts *o;
	const struct grubenv *env;
	const struct av_machine *m;
	const struct av_entry *entries; /* what the library selected, in menu order */
	size_t nentries;
	const char *params; /* the IOMMU parameters every entry adds */
	const char *os;
	const char *const *classes;
	const char *note;    /* a comment for the top of our part of grub.cfg, or NULL */
	struct body *bodies; /* 10_linux's entries, when its output is at hand */
	size_t nbodies;
	char boot[PATH_MAX]; /* GRUB path of /boot, no trailing slash; "" for a /boot fs */
};

/* A whole file by its own path (not under the root prefix); NULL when unreadable. */
char *grub_slurp(const char *path);

/* What the installed 10_linux (@path; NULL: unknown) was built with, into @env. */
void linux_read_gen(const char *path, struct grubenv *env);

/* 10_linux's advanced entries in @menu, in its order: a count or -ENOMEM. */
int linux_read_bodies(const char *menu, const char *gen, struct body **out);
void linux_bodies_free(struct body *b, size_t n);
const struct body *linux_body_of(const struct body *b, size_t n, const char *version);

/* The body 10_linux's linux_entry() writes for @k, malloc'd; NULL: out of memory. */
char *linux_computed_body(const struct emitter *e, const struct av_kernel *k);

/* Write @text line by line at @ind tabs; @extra goes at the end of the linux line. */
void linux_write_body(FILE *f, int ind, const char *text, const char *extra);

/* Put the kernels in the order 10_linux put them in. */
void menu_kernel_order(const struct emitter *e, struct av_kernel *k, size_t nk);

/* Our part of grub.cfg: every kernel's entries, older kernels in a submenu. 0 or -errno. */
int menu_emit(struct emitter *e, const struct av_kernel *k, size_t nk);

#endif
