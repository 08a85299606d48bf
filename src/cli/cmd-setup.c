// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * auto-vfio setup: choose the mode and the groups (asked, or from flags),
 * write the drop-ins through the manifest, run update-initramfs and
 * update-grub, and roll everything back when they fail.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libkmod.h>

#include "bls.h"
#include "bootchain.h"
#include "cli.h"
#include "config.h"
#include "detect.h"
#include "evdev.h"
#include "hugepages.h"
#include "fileops.h"
#include "kmodutil.h"
#include "manifest.h"
#include "pciclass.h"
#include "picker.h"
#include "plan.h"
#include "safety.h"
#include "textdiff.h"
#include "setup.h"
#include "zram.h"

static int parse_select(const char *list, struct av_pci_addr *addrs, size_t *n)
{
	char *copy = strdup(list), *save = NULL, *tok;
	int err = 0;

	if (!copy)
		return -ENOMEM;
	*n = 0;
	for (tok = strtok_r(copy, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		if (*n >= AV_MAX_SEL) {
			fprintf(stderr, "auto-vfio setup: --select: more than %d devices\n",
				AV_MAX_SEL);
			err = -E2BIG;
			break;
		}
		if (av_pci_addr_parse(tok, true, &addrs[*n]) < 0) {
			fprintf(stderr,
				"auto-vfio setup: --select: '%s' is not a PCI address "
				"(DDDD:BB:DD.F or BB:DD.F)\n",
				tok);
			err = -EINVAL;
			break;
		}
		(*n)++;
	}
	free(copy);
	return err;
}

/*
 * Say which boot chain this machine has; refuse, before any change, the
 * ones auto-vfio cannot write for. 0 or -EOPNOTSUPP (said why).
 */
static int check_boot_chain(struct setup *s)
{
	struct av_bootchain bc;
	const char *why = NULL;

	av_bootchain_detect(&s->cli->ctx, &bc);
	s->bc = bc;
	printf("Boot chain: initramfs by %s (%s), boot loader %s (%s).\n", av_gen_name(bc.gen),
	       bc.gen_why, av_loader_name(bc.loader), bc.loader_why);
	if (bc.gen == AV_GEN_UNKNOWN)
		why = "no initramfs generator found (initramfs-tools or dracut)";
	else if (bc.loader == AV_LOADER_UNKNOWN)
		why = "no boot loader found (GRUB, or systemd-boot through kernel-install)";
	else if (bc.loader == AV_LOADER_AMBIGUOUS)
		why = "GRUB and systemd-boot are both installed; say which one boots this machine "
		      "with " AV_BOOT_LOADER_ENV "=grub or " AV_BOOT_LOADER_ENV "=systemd-boot";
	if (!why)
		return 0;
	fprintf(stderr, "%s: %s: nothing was changed\n", s->cli->prog, why);
	return -EOPNOTSUPP;
}

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "Usage: auto-vfio setup [--multiboot | --static | --none] [--select ADDR[,ADDR...]]\n"
	    "                       [--static-ids] [--force-unsafe] [--disable-foreign]\n"
	    "                       [--default host-ADDR|headless|plain]\n"
	    "                       [--hugepages[=2M|1G]] [--hugepages-reserve GIB]\n"
	    "                       [--evdev] [--zram] [--no-extras]\n"
	    "                       [--yes] [--dry-run] [--no-update]\n");
}

static int parse_args(struct setup *s, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"multiboot", no_argument, NULL, 'm'},
	    {"static", no_argument, NULL, 's'},
	    {"none", no_argument, NULL, 'n'},
	    {"select", required_argument, NULL, 'S'},
	    {"default", required_argument, NULL, 'B'},
	    {"static-ids", no_argument, NULL, 'I'},
	    {"force-unsafe", no_argument, NULL, 'F'},
	    {"disable-foreign", no_argument, NULL, 'D'},
	    {"yes", no_argument, NULL, 'y'},
	    {"dry-run", no_argument, NULL, 'd'},
	    {"no-update", no_argument, NULL, 'U'},
	    {"hugepages", optional_argument, NULL, 'H'},
	    {"hugepages-reserve", required_argument, NULL, 'R'},
	    {"evdev", no_argument, NULL, 'E'},
	    {"zram", no_argument, NULL, 'Z'},
	    {"no-extras", no_argument, NULL, 'X'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "yh", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
		case 's':
		case 'n':
			if (s->mode_set) {
				fprintf(stderr,
					"auto-vfio setup: choose one of --multiboot, --static, "
					"--none\n");
				return AV_EXIT_USAGE;
			}
			s->mode_set = true;
			s->mode = c == 'm'   ? AV_MODE_MULTIBOOT
				  : c == 's' ? AV_MODE_STATIC
					     : AV_MODE_NONE;
			break;
		case 'S':
			s->select = optarg;
			break;
		case 'B': {
			static char def[AV_DEFAULT_LEN];

			if (av_config_default(optarg, def) < 0) {
				fprintf(stderr,
					"auto-vfio setup: --default takes host-ADDR, headless or "
					"plain, not '%s'\n",
					optarg);
				return AV_EXIT_USAGE;
			}
			s->boot_default = def;
			break;
		}
		case 'I':
			s->static_ids = true;
			break;
		case 'F':
			s->force_unsafe = true;
			break;
		case 'D':
			s->disable_foreign = true;
			break;
		case 'y':
			s->yes = true;
			break;
		case 'd':
			s->dry_run = true;
			break;
		case 'U':
			s->no_update = true;
			break;
		case 'H':
			s->extras_set = s->hugepages = true;
			s->hp_size = optarg;
			if (optarg && strcmp(optarg, "2M") != 0 && strcmp(optarg, "1G") != 0) {
				fprintf(stderr, "auto-vfio setup: --hugepages takes 2M or 1G\n");
				return AV_EXIT_USAGE;
			}
			break;
		case 'R': {
			if (av_cli_parse_num(optarg, 1UL << 20, &s->hp_reserve) < 0) {
				fprintf(stderr,
					"auto-vfio setup: --hugepages-reserve takes GiB, a whole "
					"number\n");
				return AV_EXIT_USAGE;
			}
			break;
		}
		case 'E':
			s->extras_set = s->evdev = true;
			break;
		case 'Z':
			s->extras_set = s->zram = true;
			break;
		case 'X':
			s->extras_set = true;
			break;
		case 'h':
			usage(stdout);
			return AV_EXIT_OK;
		default:
			usage(stderr);
			return AV_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "auto-vfio setup: unexpected argument '%s'\n", argv[optind]);
		return AV_EXIT_USAGE;
	}
	if (s->static_ids && s->mode_set && s->mode != AV_MODE_STATIC) {
		fprintf(stderr, "auto-vfio setup: --static-ids goes with --static\n");
		return AV_EXIT_USAGE;
	}
	if (s->boot_default && s->mode_set && s->mode != AV_MODE_MULTIBOOT) {
		fprintf(stderr, "auto-vfio setup: --default goes with --multiboot\n");
		return AV_EXIT_USAGE;
	}
	if (s->yes && !s->mode_set) {
		fprintf(stderr, "auto-vfio setup: --yes needs --multiboot, --static or --none\n");
		return AV_EXIT_USAGE;
	}
	if (s->yes && s->mode != AV_MODE_NONE && !s->select) {
		fprintf(stderr, "auto-vfio setup: --yes needs --select\n");
		return AV_EXIT_USAGE;
	}
	if (s->mode_set && s->mode == AV_MODE_NONE && s->select) {
		fprintf(stderr, "auto-vfio setup: --none takes no --select\n");
		return AV_EXIT_USAGE;
	}
	return -1;
}

int av_cmd_setup(struct av_cli *cli, int argc, char **argv)
{
	struct setup s = {.cli = cli, .mode = AV_MODE_MULTIBOOT, .hp_reserve = 4};
	struct av_pci_addr addrs[AV_MAX_SEL];
	struct av_resolved r;
	struct av_config cfg;
	struct av_plan plan = {0};
	struct kmod_ctx *kctx = NULL;
	char def[AV_DEFAULT_LEN] = "";
	size_t naddr = 0;
	int rc, err;

	rc = parse_args(&s, argc, argv);
	if (rc >= 0)
		return rc;
	if (s.select) {
		size_t dummy;

		if (parse_select(s.select, addrs, &dummy) < 0)
			return AV_EXIT_USAGE;
	}
	s.m = av_cli_load(cli);
	if (!s.m)
		return AV_EXIT_FAIL;
	rc = AV_EXIT_FAIL;
	err = av_manifest_load(&cli->ctx, &s.man);
	if (err == -EBADMSG) {
		fprintf(stderr,
			"%s: %s%s is damaged (see above): nothing was changed; see 'auto-vfio "
			"uninstall --salvage'\n",
			cli->prog, cli->ctx.root, AV_MANIFEST_PATH);
		rc = AV_EXIT_DAMAGED;
	}
	if (err < 0)
		goto out;
	err = av_config_load(&cli->ctx, &s.old_cfg);
	s.have_old_cfg = err == 0;
	if (err < 0 && err != -ENOENT)
		fprintf(stderr, "%s: the existing configuration is damaged; it will be replaced\n",
			cli->prog);
	if (s.have_old_cfg && !s.mode_set)
		s.mode = s.old_cfg.mode;

	if (check_boot_chain(&s) < 0)
		goto out;
	if (setup_handle_foreign(&s, &rc))
		goto out;
	if (s.have_old_cfg && s.man.n && !s.yes)
		printf("auto-vfio is set up here already (mode %s, %zu device%s selected): the "
		       "answers below replace that setup; 'auto-vfio uninstall' removes it "
		       "instead.\n",
		       av_mode_name(s.old_cfg.mode), s.old_cfg.nselect,
		       s.old_cfg.nselect == 1 ? "" : "s");
	if (!s.m->iommu) {
		fprintf(
		    stderr,
		    "%s: no IOMMU groups under %s/sys/kernel/iommu_groups: enable VT-d (Intel) or "
		    "AMD-Vi (AMD) in the firmware; on Intel also boot with intel_iommu=on. "
		    "Nothing was changed.\n",
		    cli->prog, cli->ctx.root);
		rc = AV_EXIT_NO_IOMMU;
		goto out;
	}
	if (!s.mode_set) {
		if (setup_ask_mode(&s, s.mode, &s.mode) < 0) {
			fprintf(stderr, "%s: no answer (end of input): nothing was changed\n",
				cli->prog);
			goto out;
		}
	}
	if (s.mode != AV_MODE_NONE) {
		if (s.select)
			parse_select(s.select, addrs, &naddr);
		else if (av_pick(cli, s.m, s.have_old_cfg ? &s.old_cfg : NULL, s.force_unsafe,
				 addrs, &naddr) < 0) {
			fprintf(stderr, "%s: no answer (end of input): nothing was changed\n",
				cli->prog);
			goto out;
		}
		if (naddr == 0) {
			fprintf(stderr, "%s: nothing selected: nothing was changed\n", cli->prog);
			goto out;
		}
		err = av_resolve(&cli->ctx, s.m, addrs, naddr, s.mode == AV_MODE_STATIC,
				 s.force_unsafe, &r);
		if (err < 0) {
			if (err == -EPERM)
				fprintf(stderr,
					"%s: refused; --force-unsafe overrides, at your own "
					"risk\n",
					cli->prog);
			rc = AV_EXIT_REFUSED;
			goto out;
		}
		if (r.unsafe_forced)
			fprintf(stderr,
				"%s: WARNING: passing unsafe groups through (--force-unsafe)\n",
				cli->prog);
		av_pick_preview(stdout, s.m, &r, s.mode);
	}
	if (s.boot_default && s.mode != AV_MODE_MULTIBOOT) {
		fprintf(stderr, "%s: --default goes with multi-boot mode\n", cli->prog);
		rc = AV_EXIT_USAGE;
		goto out;
	}
	if (s.mode == AV_MODE_MULTIBOOT) {
		/* given, asked, or kept from the last setup while its entry still exists */
		if (s.boot_default)
			snprintf(def, sizeof(def), "%s", s.boot_default);
		else if (s.have_old_cfg && setup_default_valid(s.m, &r, s.old_cfg.boot_default))
			snprintf(def, sizeof(def), "%s", s.old_cfg.boot_default);
		if (!setup_default_valid(s.m, &r, def)) {
			fprintf(
			    stderr,
			    "%s: --default %s: that GPU is not in the selection, so there is no "
			    "such entry\n",
			    cli->prog, def);
			rc = AV_EXIT_USAGE;
			goto out;
		}
		if (!s.yes && !s.boot_default && !(s.mode_set && s.select) &&
		    setup_ask_default(&s, &r, def) < 0) {
			fprintf(stderr, "%s: no answer (end of input): nothing was changed\n",
				cli->prog);
			goto out;
		}
	}
	/* asked only in an interactive run: flags for mode and devices make it declarative */
	if (!s.yes && !s.extras_set && !(s.mode_set && (s.select || s.mode == AV_MODE_NONE)) &&
	    setup_ask_extras(&s) < 0) {
		fprintf(stderr, "%s: no answer (end of input): nothing was changed\n", cli->prog);
		goto out;
	}
	av_config_init(&cfg);
	cfg.mode = s.mode;
	if (s.mode != AV_MODE_NONE)
		av_resolved_to_config(s.m, &r, s.force_unsafe, &cfg);
	if (s.mode == AV_MODE_MULTIBOOT)
		snprintf(cfg.boot_default, sizeof(cfg.boot_default), "%s", def);
	snprintf(cfg.iommu_params, sizeof(cfg.iommu_params), "%s", av_iommu_params(&cli->ctx));

	if (av_kmod_new(&cli->ctx, NULL, &kctx) < 0)
		kctx = NULL;
	err = av_plan_build(&cli->ctx, s.m, &cfg, kctx, s.static_ids, &plan);
	if (kctx)
		kmod_unref(kctx);
	if (err < 0) {
		rc = err == -EEXIST ? AV_EXIT_REFUSED : AV_EXIT_FAIL;
		goto out;
	}
	if (s.bc.loader == AV_LOADER_BLS)
		err = setup_plan_kernel_cmdline(&s, &cfg, &plan);
	if (!err && s.bc.loader == AV_LOADER_BLS)
		err = setup_plan_loader_default(&s, &cfg, &plan);
	if (!err)
		err = setup_plan_extras(&s, &plan);
	if (err < 0) {
		fprintf(stderr, "%s: the extras cannot be set up (%s): nothing was changed\n",
			cli->prog, strerror(-err));
		av_plan_release(&plan);
		goto out;
	}
	rc = setup_apply(&s, &plan);
	av_plan_release(&plan);
out:
	av_manifest_release(&s.man);
	av_machine_free(s.m);
	return rc;
}
