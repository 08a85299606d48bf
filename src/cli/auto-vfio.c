// SPDX-License-Identifier: GPL-2.0-or-later
/* auto-vfio: the admin tool. Global options, then a command. */
#include <errno.h>
#include <stdbool.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "safety.h"

#define AV_VERSION "0.1"

static const struct av_cmd commands[] = {
    {"list", "what can go to a VM and why not (--all: every IOMMU group)", av_cmd_list},
    {"setup", "choose devices for VMs and write the boot configuration", av_cmd_setup},
    {"uninstall", "restore every file auto-vfio changed", av_cmd_uninstall},
    {"boot-next", "list the auto-vfio GRUB entries, or pick one for the next boot",
     av_cmd_bootnext},
    {"status", "check that passthrough works as configured, with fixes", av_cmd_status},
    {"hugepages", "reserve static hugepages for VMs at boot", av_cmd_hugepages},
    {"evdev", "libvirt evdev input for the host's keyboards and mice", av_cmd_evdev},
    {"zram", "zram swap through the distribution's own tool", av_cmd_zram},
};

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"Usage: %s [OPTIONS] COMMAND [ARGS]\n"
		"\n"
		"Options:\n"
		"  --root DIR       act on the machine under DIR (default: $" AV_ROOT_ENV " or /)\n"
		"  --pci-ids FILE   device names from FILE (pci.ids, plain or .gz)\n"
		"  --numeric        no names, numeric IDs only\n"
		"  --no-color       never colour the output\n"
		"  -v, --verbose    say more\n"
		"  -h, --help       this help\n"
		"  -V, --version    version\n"
		"\n"
		"Commands:\n",
		prog);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-16s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nSee auto-vfio(8).\n");
}

static void log_stderr(void *data, int prio, const char *fmt, va_list ap)
{
	const struct av_cli *cli = data;

	fprintf(stderr, "%s: %s", cli->prog,
		prio <= AV_LOG_ERR ? "error: " : (prio == AV_LOG_WARNING ? "warning: " : ""));
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int av_cli_show_opts(struct av_cli *cli, const char *cmd, int argc, char **argv, bool *json)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"no-color", no_argument, NULL, 'C'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	*json = false;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			*json = true;
			break;
		case 'C':
			cli->color = false;
			break;
		case 'h':
			printf("Usage: %s %s [--json] [--no-color]\n", cli->prog, cmd);
			return AV_EXIT_OK;
		default:
			return AV_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s %s: unexpected argument '%s'\n", cli->prog, cmd, argv[optind]);
		return AV_EXIT_USAGE;
	}
	return -1;
}

int av_cli_parse_num(const char *s, unsigned long max, unsigned long *v)
{
	char *end;

	errno = 0;
	*v = strtoul(s, &end, 10);
	return errno || end == s || *end || s[0] == '-' || *v > max ? -EINVAL : 0;
}

const char *av_color(const struct av_cli *cli, const char *sgr)
{
	static _Thread_local char buf[16];

	if (!cli->color)
		return "";
	snprintf(buf, sizeof(buf), "\033[%sm", sgr);
	return buf;
}

int av_cli_answer(char **line, size_t *cap)
{
	fflush(stdout);
	if (getline(line, cap, stdin) < 0) {
		putchar('\n');
		return -ENODATA;
	}
	(*line)[strcspn(*line, "\r\n")] = '\0';
	return 0;
}

struct av_machine *av_cli_load(struct av_cli *cli)
{
	struct av_machine *m = NULL;
	int err = av_machine_load(&cli->ctx, &cli->load, &m);

	if (err < 0) {
		fprintf(stderr, "%s: cannot read the PCI devices under %s/sys/bus/pci: %s\n",
			cli->prog, cli->ctx.root, strerror(-err));
		return NULL;
	}
	err = av_analyze(&cli->ctx, m);
	if (err < 0) {
		fprintf(stderr, "%s: analysis failed: %s\n", cli->prog, strerror(-err));
		av_machine_free(m);
		return NULL;
	}
	return m;
}

/*
 * Global options may also follow the command ("auto-vfio list --root DIR"):
 * move them in front of it, where getopt looks, keeping everything else in
 * order. Nothing after "--" moves.
 */
static void hoist_global_options(int argc, char **argv)
{
	static const char *const with_arg[] = {"--root", "--pci-ids"};
	static const char *const flags[] = {"--numeric", "--no-color", "--verbose", "-v"};
	char **out = calloc((size_t)argc + 1, sizeof(*out)), **rest;
	int n = 1, nrest = 0, cmd = 0;

	rest = calloc((size_t)argc + 1, sizeof(*rest));
	if (!out || !rest) {
		free(out);
		free(rest);
		return;
	}
	out[0] = argv[0];
	for (int i = 1; i < argc; i++) {
		bool global = false, takes = false, dashdash = strcmp(argv[i], "--") == 0;

		if (!cmd && argv[i][0] != '-') {
			cmd = i;
			rest[nrest++] = argv[i];
			continue;
		}
		if (dashdash && cmd) {
			while (i < argc)
				rest[nrest++] = argv[i++];
			break;
		}
		for (size_t k = 0; k < 2; k++) {
			size_t len = strlen(with_arg[k]);

			if (strcmp(argv[i], with_arg[k]) == 0)
				global = takes = true;
			else if (strncmp(argv[i], with_arg[k], len) == 0 && argv[i][len] == '=')
				global = true;
		}
		for (size_t k = 0; k < 4; k++)
			global |= strcmp(argv[i], flags[k]) == 0;
		if (cmd && !global) {
			rest[nrest++] = argv[i];
			continue;
		}
		out[n++] = argv[i];
		if (takes && i + 1 < argc)
			out[n++] = argv[++i];
	}
	for (int i = 0; i < nrest; i++)
		out[n++] = rest[i];
	memcpy(argv, out, (size_t)argc * sizeof(*argv));
	free(out);
	free(rest);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"root", required_argument, NULL, 'r'}, {"pci-ids", required_argument, NULL, 'i'},
	    {"numeric", no_argument, NULL, 'n'},    {"no-color", no_argument, NULL, 'C'},
	    {"verbose", no_argument, NULL, 'v'},    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},    {NULL, 0, NULL, 0},
	};
	struct av_cli cli = {.prog = "auto-vfio"};
	const char *root = NULL;
	bool no_color = false;
	int c, err;

	hoist_global_options(argc, argv);
	/* Stop at the command: its options are its own. */
	while ((c = getopt_long(argc, argv, "+vhV", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			root = optarg;
			break;
		case 'i':
			cli.load.pci_ids = optarg;
			break;
		case 'n':
			cli.load.numeric = true;
			break;
		case 'C':
			no_color = true;
			break;
		case 'v':
			cli.verbose++;
			break;
		case 'h':
			usage(stdout, cli.prog);
			return AV_EXIT_OK;
		case 'V':
			printf("auto-vfio %s\n", AV_VERSION);
			return AV_EXIT_OK;
		default:
			usage(stderr, cli.prog);
			return AV_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr, cli.prog);
		return AV_EXIT_USAGE;
	}
	err = av_ctx_init(&cli.ctx, root);
	if (err < 0) {
		fprintf(stderr, "%s: root %s: %s\n", cli.prog,
			root ? root : (getenv(AV_ROOT_ENV) ? getenv(AV_ROOT_ENV) : "/"),
			strerror(-err));
		return AV_EXIT_USAGE;
	}
	if (getenv("AUTO_VFIO_FAULT") &&
	    av_fault_parse(getenv("AUTO_VFIO_FAULT"), &cli.fault) < 0) {
		fprintf(stderr, "%s: AUTO_VFIO_FAULT='%s' is not N[:ENOSPC|EIO|kill]\n", cli.prog,
			getenv("AUTO_VFIO_FAULT"));
		return AV_EXIT_USAGE;
	}
	cli.ctx.fault = &cli.fault;
	av_ctx_set_log(&cli.ctx, log_stderr, &cli,
		       cli.verbose > 1 ? AV_LOG_DEBUG
		       : cli.verbose   ? AV_LOG_INFO
				       : AV_LOG_WARNING);
	cli.color = !no_color && isatty(STDOUT_FILENO) && !getenv("NO_COLOR") &&
		    !(getenv("TERM") && strcmp(getenv("TERM"), "dumb") == 0);

	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[optind], commands[i].name) == 0) {
			optind++;
			return commands[i].run(&cli, argc - optind + 1, argv + optind - 1);
		}
	}
	fprintf(stderr, "%s: unknown command '%s'\n", cli.prog, argv[optind]);
	usage(stderr, cli.prog);
	return AV_EXIT_USAGE;
}
