// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileops.h"
#include "hostfacts.h"
#include "hugepages.h"
#include "plan.h"

#define KIB_PER_GIB (1024ULL * 1024ULL)

bool av_hugepages_1g_capable(const struct av_ctx *ctx)
{
	struct av_host_cpu cpu;

	return av_host_cpu(ctx, &cpu) == 0 && cpu.pdpe1gb;
}

static int mem_total(const struct av_ctx *ctx, unsigned long long *kib)
{
	struct av_file f;
	char *p, *end;
	int err;

	err = av_file_read(ctx, "/proc/meminfo", &f);
	if (err < 0 || !f.exists) {
		av_err(ctx, "%s/proc/meminfo: %s", ctx->root, err < 0 ? strerror(-err) : "missing");
		return err < 0 ? err : -ENOENT;
	}
	p = strstr(f.data, "MemTotal:");
	err = -EINVAL;
	if (p && (p == f.data || p[-1] == '\n')) {
		p += 9;
		while (*p == ' ' || *p == '\t')
			p++;
		errno = 0;
		*kib = strtoull(p, &end, 10);
		while (*end == ' ' || *end == '\t')
			end++;
		if (!errno && end != p && *kib > 0 && strncmp(end, "kB", 2) == 0 &&
		    (end[2] == '\n' || end[2] == '\0'))
			err = 0;
	}
	if (err)
		av_err(ctx, "%s/proc/meminfo: no readable 'MemTotal: N kB' line", ctx->root);
	av_file_release(&f);
	return err;
}

int av_hugepages_plan(const struct av_ctx *ctx, const char *size, unsigned long count,
		      unsigned long reserve_gib, struct av_hugepages *out)
{
	bool can1g = av_hugepages_1g_capable(ctx);
	unsigned long long usable;
	int err;

	memset(out, 0, sizeof(*out));
	if (!size)
		out->page_kib = can1g ? 1048576 : 2048;
	else if (strcmp(size, "1G") == 0 || strcmp(size, "1g") == 0)
		out->page_kib = 1048576;
	else if (strcmp(size, "2M") == 0 || strcmp(size, "2m") == 0)
		out->page_kib = 2048;
	else {
		av_err(ctx, "hugepage size '%s': use 2M or 1G", size);
		return -EINVAL;
	}
	if (out->page_kib == 1048576 && !can1g) {
		av_err(ctx,
		       "this CPU cannot map 1G pages (no pdpe1gb flag in %s/proc/cpuinfo): use 2M",
		       ctx->root);
		return -EOPNOTSUPP;
	}
	err = mem_total(ctx, &out->mem_kib);
	if (err < 0)
		return err;
	out->reserve_kib = (unsigned long long)reserve_gib * KIB_PER_GIB;
	if (reserve_gib > (1UL << 20) || out->reserve_kib >= out->mem_kib) {
		av_err(ctx, "the host reserve (%lu GiB) is not smaller than the memory (%.1f GiB)",
		       reserve_gib, (double)out->mem_kib / KIB_PER_GIB);
		return -ENOSPC;
	}
	usable = out->mem_kib - out->reserve_kib;
	if (count) {
		if ((unsigned long long)count > usable / out->page_kib) {
			av_err(ctx,
			       "%lu pages of %s need %.1f GiB, but only %.1f GiB of %.1f GiB are "
			       "free after the host's %lu GiB",
			       count, av_hugepages_size_name(out->page_kib),
			       (double)count * out->page_kib / KIB_PER_GIB,
			       (double)usable / KIB_PER_GIB, (double)out->mem_kib / KIB_PER_GIB,
			       reserve_gib);
			return -ENOSPC;
		}
		out->count = count;
	} else {
		out->count = (unsigned long)(usable / out->page_kib);
	}
	if (out->count == 0) {
		av_err(ctx, "not one %s page fits beside the host's %lu GiB",
		       av_hugepages_size_name(out->page_kib), reserve_gib);
		return -ENOSPC;
	}
	return 0;
}

const char *av_hugepages_size_name(unsigned long page_kib)
{
	return page_kib == 1048576 ? "1G" : "2M";
}

char *av_hugepages_dropin(const struct av_hugepages *hp)
{
	const char *sz = av_hugepages_size_name(hp->page_kib);
	char *s;

	if (asprintf(&s,
		     AV_DROPIN_HEADER
		     "# Static hugepages for VMs: %lu x %s = %.1f GiB of %.1f GiB.\n"
		     "GRUB_CMDLINE_LINUX_DEFAULT=\"${GRUB_CMDLINE_LINUX_DEFAULT} "
		     "default_hugepagesz=%s hugepagesz=%s hugepages=%lu\"\n",
		     hp->count, sz, (double)hp->count * hp->page_kib / KIB_PER_GIB,
		     (double)hp->mem_kib / KIB_PER_GIB, sz, sz, hp->count) < 0)
		return NULL;
	return s;
}
