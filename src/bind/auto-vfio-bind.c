// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * auto-vfio-bind: the early binder. Runs in the initramfs before udev, reads
 * the kernel command line and binds the selected IOMMU groups to vfio-pci.
 * Whatever happens it exits 0 in bounded time: the boot must go on.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libkmod.h>

#include "cmdline.h"
#include "ctx.h"
#include "kmod-dl.h"
#include "kmodutil.h"
#include "record.h"
#include "sysfs.h"
#include "vfiobind.h"

#define PREFIX "auto-vfio: "
/* The kernel's own command line is at most a few KiB; this is generous. */
#define CMDLINE_MAX 65536
/* vfio-pci registers while init_module runs; this is only a safety net. */
#define DRIVER_WAIT_MS 2000
#define DRIVER_POLL_MS 20

struct out {
	int kmsg;     /* -1: none, lines go to stderr */
	bool verbose; /* also stderr */
};

/* One record per write(): /dev/kmsg takes each write as one message. */
static void emit(struct out *o, int prio, const char *fmt, va_list ap)
{
	char line[1024];
	int n, m;

	n = snprintf(line, sizeof(line), "<%d>" PREFIX, prio);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	if (m < 0)
		return;
	n += m;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	line[n] = '\0';
	if (o->kmsg >= 0 && write(o->kmsg, line, (size_t)n) == n) {
		if (o->verbose)
			fputs(strchr(line, '>') + 1, stderr);
		return;
	}
	fputs(strchr(line, '>') + 1, stderr);
}

static void log_cb(void *data, int prio, const char *fmt, va_list ap)
{
	emit(data, prio, fmt, ap);
}

__attribute__((format(printf, 3, 4))) static void say(struct out *o, int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(o, prio, fmt, ap);
	va_end(ap);
}

static void usage(void)
{
	fputs("usage: auto-vfio-bind [--root DIR] [--cmdline STRING] [--verbose]\n"
	      "       auto-vfio-bind --print-libkmod\n"
	      "Bind the IOMMU groups named by auto_vfio.bind= on the kernel command line to\n"
	      "vfio-pci. auto_vfio=off binds nothing. Always exits 0.\n"
	      "--print-libkmod prints the libkmod it opens to load vfio-pci (exit 1: none).\n",
	      stdout);
}

static bool driver_present(const struct av_ctx *ctx)
{
	char path[PATH_MAX];
	struct stat st;

	if (av_path(ctx, path, sizeof(path), "/sys/bus/pci/drivers/" AV_VFIO_DRIVER) < 0)
		return false;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/*
 * Load vfio-pci unless its driver is registered (built in, or an earlier
 * pass): only then is libkmod opened at all. Waits a bounded time for it.
 */
static int ensure_vfio(const struct av_ctx *ctx, struct out *o)
{
	struct timespec step = {0, DRIVER_POLL_MS * 1000000L};
	struct kmod_ctx *kctx = NULL;
	int err;

	if (driver_present(ctx))
		return 0;
	err = av_kmod_new(ctx, NULL, &kctx);
	if (err < 0) {
		say(o, AV_LOG_ERR, "cannot set up libkmod: %s", strerror(-err));
		return err;
	}
	err = av_kmod_ensure(ctx, kctx, "vfio_pci");
	kmod_unref(kctx);
	if (err < 0)
		return err;
	for (int waited = 0; !driver_present(ctx); waited += DRIVER_POLL_MS) {
		if (waited >= DRIVER_WAIT_MS)
			return -ETIMEDOUT;
		nanosleep(&step, NULL);
	}
	return 0;
}

static bool group_vetoed(const struct av_target *t, size_t n, int group)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].group == group && t[i].status != AV_TARGET_OK)
			return true;
	return false;
}

/* Returns true when every endpoint of every named group is on vfio-pci now. */
static bool run(const struct av_ctx *ctx, struct out *o, const char *cmdline)
{
	char hooks[PATH_MAX];
	/* a dracut initramfs has its hooks folder; initramfs-tools' has none */
	const char *vfio_help =
	    av_path(ctx, hooks, sizeof(hooks), "/usr/lib/dracut/hooks") == 0 &&
		    access(hooks, F_OK) == 0
		? "is vfio-pci in the initramfs? (dracut --regenerate-all --force)"
		: "is vfio-pci in the initramfs? (update-initramfs -u)";
	struct av_target targets[AV_MAX_SEL];
	int groups[AV_MAX_SEL];
	size_t ngroups = 0;
	bool complete = true;
	struct av_cmdline cl;
	struct av_bind_result *res;
	char line[900];
	int err;

	err = av_cmdline_parse(ctx, cmdline, &cl);
	if (err < 0 && err != -E2BIG) {
		say(o, AV_LOG_ERR, "cannot parse the kernel command line: %s", strerror(-err));
		return false;
	}
	if (err == -E2BIG || cl.nbad)
		complete = false;
	if (cl.off) {
		if (cl.nsel)
			say(o, AV_LOG_NOTICE, "auto_vfio=off: binding nothing this boot");
		return false;
	}
	if (cl.nsel == 0)
		return false;

	for (size_t i = 0; i < cl.nsel; i++) {
		av_vfio_resolve(ctx, &cl.sel[i], &targets[i]);
		if (targets[i].status != AV_TARGET_OK) {
			complete = false;
			av_target_format(&targets[i], line, sizeof(line));
			say(o, AV_LOG_ERR, "%s", line);
		}
	}
	/* Each group once, and only when no selector in it failed its check. */
	for (size_t i = 0; i < cl.nsel; i++) {
		bool seen = false;

		if (targets[i].status != AV_TARGET_OK)
			continue;
		for (size_t g = 0; g < ngroups && !seen; g++)
			seen = groups[g] == targets[i].group;
		if (seen)
			continue;
		if (group_vetoed(targets, cl.nsel, targets[i].group)) {
			say(o, AV_LOG_ERR,
			    "group %d: skipped: another selector in it failed its check; "
			    "nothing touched",
			    targets[i].group);
			continue;
		}
		groups[ngroups++] = targets[i].group;
	}
	if (ngroups == 0)
		return false;

	err = ensure_vfio(ctx, o);
	if (err < 0) {
		for (size_t g = 0; g < ngroups; g++)
			say(o, AV_LOG_ERR,
			    "group %d: skipped: vfio-pci unavailable (%s); %s; nothing touched",
			    groups[g], strerror(-err), vfio_help);
		return false;
	}
	res = malloc(sizeof(*res));
	if (!res) {
		say(o, AV_LOG_ERR, "out of memory; nothing bound");
		return false;
	}
	for (size_t g = 0; g < ngroups; g++) {
		err = av_vfio_bind_group(ctx, groups[g], res);
		if (err < 0)
			complete = false;
		av_bind_result_format(res, line, sizeof(line));
		say(o, err < 0 ? AV_LOG_ERR : AV_LOG_NOTICE, "%s", line);
	}
	free(res);
	return complete;
}

/*
 * Leave the record for the later passes only when this pass served the
 * boot's own command line, finished all of its work, and no PCI device came
 * or went while it ran.
 */
static void serve_boot(const struct av_ctx *ctx, struct out *o, const char *cmdline)
{
	int before = av_pci_count(ctx), after, err;

	av_bind_record_clear(ctx);
	if (!run(ctx, o, cmdline) || before < 0)
		return;
	after = av_pci_count(ctx);
	if (after != before)
		return;
	err = av_bind_record_write(ctx, after);
	if (err < 0 && err != -ENOENT)
		say(o, AV_LOG_WARNING, "cannot write %s: %s (the next pass checks again)",
		    AV_BIND_RECORD, strerror(-err));
}

int main(int argc, char **argv)
{
	struct out o = {.kmsg = -1};
	const char *root = NULL, *cmdline = NULL;
	char kmsg[PATH_MAX], *buf = NULL;
	struct av_ctx ctx;
	int err;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--root") == 0 && i + 1 < argc) {
			root = argv[++i];
		} else if (strncmp(argv[i], "--root=", 7) == 0) {
			root = argv[i] + 7;
		} else if (strcmp(argv[i], "--cmdline") == 0 && i + 1 < argc) {
			cmdline = argv[++i];
		} else if (strncmp(argv[i], "--cmdline=", 10) == 0) {
			cmdline = argv[i] + 10;
		} else if (strcmp(argv[i], "--verbose") == 0 || strcmp(argv[i], "-v") == 0) {
			o.verbose = true;
		} else if (strcmp(argv[i], "--print-libkmod") == 0) {
			const char *lib = av_kmod_dl_path();

			if (lib)
				printf("%s\n", lib);
			return lib ? 0 : 1;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage();
			return 0;
		} else {
			fprintf(stderr, PREFIX "ignoring unknown argument \"%s\"\n", argv[i]);
		}
	}

	err = av_ctx_init(&ctx, root);
	if (err < 0) {
		fprintf(stderr, PREFIX "root %s: %s; nothing bound\n",
			root		      ? root
			: getenv(AV_ROOT_ENV) ? getenv(AV_ROOT_ENV)
					      : "/",
			strerror(-err));
		return 0;
	}
	/* No O_CREAT: in a tree without dev/kmsg the lines go to stderr instead. */
	if (av_path(&ctx, kmsg, sizeof(kmsg), "/dev/kmsg") == 0)
		o.kmsg = open(kmsg, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY);
	av_ctx_set_log(&ctx, log_cb, &o, o.verbose ? AV_LOG_DEBUG : AV_LOG_WARNING);

	if (!cmdline) {
		buf = malloc(CMDLINE_MAX);
		if (!buf) {
			say(&o, AV_LOG_ERR, "out of memory; nothing bound");
			goto out;
		}
		err = av_read_attr(&ctx, buf, CMDLINE_MAX, "/proc/cmdline");
		if (err < 0) {
			say(&o, AV_LOG_ERR, "cannot read %s/proc/cmdline: %s; nothing bound",
			    ctx.root, strerror(-err));
			goto out;
		}
		serve_boot(&ctx, &o, buf);
	} else {
		run(&ctx, &o, cmdline);
	}
out:
	free(buf);
	if (o.kmsg >= 0)
		close(o.kmsg);
	return 0;
}
