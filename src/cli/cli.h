/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The auto-vfio command-line tool: shared state of one invocation. */
#ifndef AV_CLI_H
#define AV_CLI_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "ctx.h"
#include "fileops.h"
#include "machine.h"

/* Exit statuses, documented in auto-vfio(8). */
enum {
	AV_EXIT_OK = 0,
	AV_EXIT_FAIL = 1,     /* could not do the job: see the message */
	AV_EXIT_USAGE = 2,    /* bad command line */
	AV_EXIT_NO_IOMMU = 3, /* no IOMMU groups: nothing can be passed through */
	AV_EXIT_REFUSED = 4,  /* selection refused: unknown, unsafe, or stale devices */
	AV_EXIT_FOREIGN = 5,  /* a VFIO setup auto-vfio did not make is in the way */
	AV_EXIT_ROLLBACK = 6, /* update-initramfs or update-grub failed: rolled back */
	AV_EXIT_DAMAGED = 7,  /* the manifest is damaged: nothing changed (uninstall --salvage) */
};

struct av_cli;

enum av_update {
	AV_UPDATE_INITRAMFS,
	AV_UPDATE_GRUB,
};

/*
 * Run the initramfs generator's update (update-initramfs or dracut, as
 * detected) or update-grub, or the test override. 0 or -EIO.
 */
int av_cli_update(struct av_cli *cli, enum av_update which);
/* The command av_cli_update() runs for @which on this machine. */
const char *av_cli_update_cmd(const struct av_cli *cli, enum av_update which);

struct av_cli {
	struct av_ctx ctx;
	struct av_load_opts load;
	bool color;
	int verbose;
	const char *prog;
	/* $AUTO_VFIO_FAULT: the disk step that fails, for tests of every write */
	struct av_fault fault;
};

/*
 * Options of a command that only shows: [--json] [--no-color]. Returns -1
 * to go on (with *json set), or the exit status to return.
 */
int av_cli_show_opts(struct av_cli *cli, const char *cmd, int argc, char **argv, bool *json);

struct av_cmd {
	const char *name;
	const char *summary;
	int (*run)(struct av_cli *cli, int argc, char **argv);
};

int av_cmd_list(struct av_cli *cli, int argc, char **argv);
int av_cmd_setup(struct av_cli *cli, int argc, char **argv);
int av_cmd_uninstall(struct av_cli *cli, int argc, char **argv);
int av_cmd_bootnext(struct av_cli *cli, int argc, char **argv);
/* boot-next on systemd-boot: list (@what NULL) or bootctl set-oneshot. An exit status. */
int av_bootnext_bls(struct av_cli *cli, const char *what);
int av_cmd_status(struct av_cli *cli, int argc, char **argv);
int av_cmd_evdev(struct av_cli *cli, int argc, char **argv);
int av_cmd_hugepages(struct av_cli *cli, int argc, char **argv);
int av_cmd_zram(struct av_cli *cli, int argc, char **argv);

/*
 * Write @data to @path through the manifest (NULL: give back what was there
 * before auto-vfio); with @dry_run only show the diff. Prints what happens.
 * 0 or -errno; *changed tells whether the file changed.
 */
int av_cli_write_file(struct av_cli *cli, const char *path, const char *data, mode_t mode,
		      bool dry_run, bool *changed);

/*
 * Restart systemd @unit when it is active, on the real root only (a prefixed
 * root is not the running system: says so and returns 0). 0 or -EIO.
 */
int av_cli_restart_service(struct av_cli *cli, const char *unit);

/* Run @argv[0] (from PATH) and wait: 0 when it exited 0, else -1. */
int av_cli_run(const char *const *argv);

/* av_restore_report callback that prints "  ROOT/PATH: what"; @data is the struct av_cli. */
void av_cli_report_restore(void *data, const char *path, const char *what);

/* Load and analyse the machine, printing errors; NULL on failure. */
struct av_machine *av_cli_load(struct av_cli *cli);

/* The human listing of `auto-vfio list`. */
void av_cli_print_groups(FILE *f, const struct av_cli *cli, const struct av_machine *m);

/* A whole decimal number no larger than @max (no sign, no blanks). 0 or -EINVAL. */
int av_cli_parse_num(const char *s, unsigned long max, unsigned long *v);

/*
 * The answer to a question just printed: one line of stdin into *@line
 * (getline's buffer), without its line end. -ENODATA at the end of input.
 */
int av_cli_answer(char **line, size_t *cap);

/* Terminal colours, empty strings when colour is off. */
const char *av_color(const struct av_cli *cli, const char *sgr);
#define AV_RED "1;31"
#define AV_GREEN "32"
#define AV_YELLOW "33"
#define AV_BOLD "1"
#define AV_RESET "0"

/* JSON string, quoted and escaped (RFC 8259). */
void av_json_str(FILE *f, const char *s);

#endif
