// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * auto-vfio-bls: the BLS entries of multi-boot mode for systemd-boot, run by
 * the kernel-install plugin 95-auto-vfio.install (add, remove) and by
 * auto-vfio setup and uninstall (regenerate, remove-all). The entries come
 * from the same selection engine as the GRUB menu (select.h).
 *
 * A failing kernel-install plugin aborts the kernel's installation: whatever
 * is wrong, this program warns on stderr and exits 0 (2 on misuse only).
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bls.h"

#define PROG "auto-vfio-bls"

static void log_stderr(void *data, int prio, const char *fmt, va_list ap)
{
	(void)data;
	fprintf(stderr, "%s: %s", PROG,
		prio <= AV_LOG_ERR ? "error: " : (prio == AV_LOG_WARNING ? "warning: " : ""));
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: " PROG " add KVER [OPTIONS]\n"
		"       " PROG " remove KVER [OPTIONS]\n"
		"       " PROG " regenerate [OPTIONS]\n"
		"       " PROG " remove-all [OPTIONS]\n"
		"Write or remove auto-vfio's systemd-boot (BLS) entries beside the ones\n"
		"kernel-install writes (run by /usr/lib/kernel/install.d/95-auto-vfio.install).\n"
		"\n"
		"  --root DIR         the machine under DIR (default: $" AV_ROOT_ENV " or /)\n"
		"  --boot-root DIR    kernel-install's $BOOT_ROOT (default: the first of\n"
		"                     /efi, /boot/efi, /boot under the root with loader/entries)\n"
		"  --entry-token TOK  kernel-install's entry token (names start with it)\n"
		"  --pci-ids FILE     device names from FILE\n"
		"  -v, --verbose      say more\n"
		"  -h, --help         this help\n");
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
	    {"root", required_argument, NULL, 'r'},
	    {"boot-root", required_argument, NULL, 'b'},
	    {"entry-token", required_argument, NULL, 't'},
	    {"pci-ids", required_argument, NULL, 'i'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *root = NULL, *boot_root = NULL, *token = NULL, *pci_ids = NULL, *cmd,
		   *kver = NULL;
	struct av_bls_result res = {0};
	char dir[2 * PATH_MAX], rel[PATH_MAX];
	struct av_ctx ctx;
	bool verbose = false;
	int c, err;

	while ((c = getopt_long(argc, argv, "vh", lopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			root = optarg;
			break;
		case 'b':
			boot_root = optarg;
			break;
		case 't':
			token = optarg[0] ? optarg : NULL;
			break;
		case 'i':
			pci_ids = optarg;
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	cmd = argv[optind++];
	if (strcmp(cmd, "add") == 0 || strcmp(cmd, "remove") == 0) {
		if (optind >= argc) {
			usage(stderr);
			return 2;
		}
		kver = argv[optind++];
	} else if (strcmp(cmd, "regenerate") != 0 && strcmp(cmd, "remove-all") != 0) {
		/* kernel-install may grow commands: not ours to fail on */
		return 0;
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	err = av_ctx_init(&ctx, root);
	if (err < 0) {
		fprintf(stderr, PROG ": warning: root %s: %s; no auto-vfio entries\n",
			root ? root : "", strerror(-err));
		return 0;
	}
	av_ctx_set_log(&ctx, log_stderr, NULL, verbose ? AV_LOG_INFO : AV_LOG_WARNING);
	if (boot_root) {
		snprintf(dir, sizeof(dir), "%s/loader/entries", boot_root);
	} else if (av_bls_entries_dir(&ctx, rel, sizeof(rel)) == 0) {
		snprintf(dir, sizeof(dir), "%s%s", ctx.root, rel);
	} else {
		fprintf(stderr,
			PROG ": warning: no loader/entries under %s/efi, %s/boot/efi or "
			     "%s/boot; nothing to do\n",
			ctx.root, ctx.root, ctx.root);
		return 0;
	}
	if (strcmp(cmd, "add") == 0)
		err = av_bls_add(&ctx, dir, token, kver, pci_ids, &res);
	else if (strcmp(cmd, "remove") == 0)
		err = av_bls_remove(&ctx, dir, token, kver, &res);
	else if (strcmp(cmd, "regenerate") == 0)
		err = av_bls_regenerate(&ctx, dir, pci_ids, &res);
	else
		err = av_bls_remove(&ctx, dir, NULL, NULL, &res);
	if (err == -ENOMEM) {
		fprintf(stderr, PROG ": out of memory\n");
		return 0;
	}
	if (err < 0 && err != -ENOENT)
		fprintf(stderr, PROG ": warning: %s: %s\n", dir, strerror(-err));
	if (res.written || res.removed || res.cleaned || verbose)
		fprintf(stderr, "auto-vfio: %u BLS entr%s written, %u removed%s in %s\n",
			res.written, res.written == 1 ? "y" : "ies", res.removed,
			res.cleaned ? ", auto_vfio.bind= taken out of the plain entry" : "", dir);
	return 0;
}
