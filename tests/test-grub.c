// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * auto-vfio-grub and grub.d/42_auto-vfio as real programs: over every shared
 * fixture machine, with hostile device names, and when things are missing.
 * Expected bind lists are computed here from the model and the safety
 * policy, then compared with what the emitted linux lines carry.
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmdline.h"
#include "ctx.h"
#include "lib/fakesys.h"
#include "lib/testsuite.h"
#include "lib/testutil.h"
#include "machine.h"
#include "pciclass.h"
#include "safety.h"

#define NEWEST "6.1.0-18-amd64"
static const char *const kernels[] = {"6.1.0-9-amd64", NEWEST, "6.1.0-10-amd64", NULL};

static const char *script_check(void)
{
	if (access("/usr/bin/grub-script-check", X_OK) == 0)
		return "/usr/bin/grub-script-check";
	av_test_skip("grub-script-check is not installed (grub-common)");
}

static int grub_check(const char *script)
{
	const char *path = tu_fmt("%s/check-%d.cfg", tu_tmpdir(), rand());
	const char *argv[] = {script_check(), path, NULL};
	struct tu_result r;
	int st;

	tu_write(path, script);
	tu_run(&r, argv, NULL, NULL);
	st = r.status;
	tu_result_free(&r);
	return st;
}

static void make_boot(const char *root, const char *const *vers)
{
	tu_mkdirs(tu_fmt("%s/boot", root));
	for (; *vers; vers++) {
		tu_write(tu_fmt("%s/boot/vmlinuz-%s", root, *vers), "kernel\n");
		tu_write(tu_fmt("%s/boot/initrd.img-%s", root, *vers), "initrd\n");
		tu_write(tu_fmt("%s/boot/config-%s", root, *vers), "CONFIG_X=y\n");
	}
}

static void run_grub(struct tu_result *r, const char *root, const char *pci_ids,
		     const char *const *env)
{
	char *prog = tu_prog("auto-vfio-grub");
	const char *argv[] = {prog,
			      "--root",
			      root,
			      "--boot-dir",
			      "/boot",
			      "--linux-root",
			      "UUID=f00d",
			      "--prologue",
			      "insmod ext2\nset root='hd0,msdos1'",
			      pci_ids ? "--pci-ids" : NULL,
			      pci_ids,
			      NULL};

	tu_run(r, argv, env, NULL);
}

/* ---- the selection, computed from the model ---- */

struct expect {
	struct av_machine *m;
	bool *allowed; /* per group: bound in some entry */
	size_t *comp;  /* per group: component number, or AV_NONE */
	size_t ncomp;
	bool *comp_vga;		 /* per component: holds a VGA device */
	char conf[8192];	 /* the config text */
	char unsafe[AV_SEL_LEN]; /* a selected device that must never be bound, or "" */
};

static bool has_endpoint(const struct av_machine *m, size_t g)
{
	for (size_t i = 0; i < m->groups[g].ndevs; i++)
		if (!av_class_is_bridge(m->devs[m->groups[g].devs[i]].cls))
			return true;
	return false;
}

static void sel_of(const struct av_dev *d, char buf[AV_SEL_LEN])
{
	struct av_sel s = {d->addr, d->vendor, d->device};

	av_sel_format(&s, buf);
}

/*
 * Select every VGA device, one safe non-GPU endpoint group and one unsafe
 * non-GPU endpoint; derive which groups each entry must bind.
 */
static void expect_build(struct expect *x, const char *root)
{
	struct av_ctx ctx;
	size_t sel[AV_MAX_SEL], nsel = 0, closure[64];
	size_t len;
	bool picked_safe = false;

	memset(x, 0, sizeof(*x));
	CHECK_INT(av_ctx_init(&ctx, root), 0);
	CHECK_INT(av_machine_load(&ctx, NULL, &x->m), 0);
	CHECK_INT(av_analyze(&ctx, x->m), 0);
	for (size_t i = 0; i < x->m->ndevs && nsel < AV_MAX_SEL; i++)
		if (av_class_is_vga(x->m->devs[i].cls) && x->m->devs[i].group_idx != AV_NONE)
			sel[nsel++] = i;
	for (size_t i = 0; i < x->m->ndevs && nsel + 1 < AV_MAX_SEL; i++) {
		const struct av_dev *d = &x->m->devs[i];

		if (d->gpu || d->companion_of != AV_NONE || av_class_is_bridge(d->cls) ||
		    d->group_idx == AV_NONE)
			continue;
		if (!picked_safe && x->m->groups[d->group_idx].safe) {
			sel[nsel++] = i;
			picked_safe = true;
		} else if (!x->unsafe[0] && !x->m->groups[d->group_idx].safe &&
			   !av_class_is_platform(d->cls)) {
			bool gpu_group = false;

			for (size_t k = 0; k < x->m->groups[d->group_idx].ndevs; k++)
				gpu_group |= x->m->devs[x->m->groups[d->group_idx].devs[k]].gpu;
			if (!gpu_group) {
				sel[nsel++] = i;
				sel_of(d, x->unsafe);
			}
		}
	}
	len = (size_t)snprintf(x->conf, sizeof(x->conf),
			       "# test\nversion = 1\nmode = multiboot\n"
			       "iommu_params = intel_iommu=on iommu=pt amd_iommu=on\n");
	for (size_t i = 0; i < nsel; i++) {
		char s[AV_SEL_LEN];

		sel_of(&x->m->devs[sel[i]], s);
		len += (size_t)snprintf(x->conf + len, sizeof(x->conf) - len, "select = %s\n", s);
	}

	x->allowed = calloc(x->m->ngroups + 1, sizeof(bool));
	x->comp = calloc(x->m->ngroups + 1, sizeof(size_t));
	x->comp_vga = calloc(x->m->ngroups + 1, sizeof(bool));
	for (size_t g = 0; g < x->m->ngroups; g++)
		x->comp[g] = AV_NONE;
	for (size_t i = 0; i < nsel; i++) {
		int n = av_group_closure(x->m, x->m->devs[sel[i]].group_idx, closure, 64);
		bool ok = n > 0;
		size_t c = x->ncomp;

		for (int k = 0; k < n; k++)
			ok &= x->m->groups[closure[k]].safe;
		if (!ok)
			continue;
		/* a new component that swallows every one it touches */
		for (int k = 0; k < n; k++) {
			size_t old = x->comp[closure[k]];

			if (old != AV_NONE && old != c)
				for (size_t g = 0; g < x->m->ngroups; g++)
					if (x->comp[g] == old)
						x->comp[g] = c;
			x->comp[closure[k]] = c;
			x->allowed[closure[k]] = true;
		}
		x->ncomp++;
	}
	for (size_t g = 0; g < x->m->ngroups; g++)
		for (size_t k = 0; k < x->m->groups[g].ndevs && x->comp[g] != AV_NONE; k++)
			if (av_class_is_vga(x->m->devs[x->m->groups[g].devs[k]].cls))
				x->comp_vga[x->comp[g]] = true;
}

static size_t vga_components(const struct expect *x)
{
	size_t n = 0;

	for (size_t c = 0; c < x->ncomp; c++) {
		bool live = false;

		for (size_t g = 0; g < x->m->ngroups; g++)
			live |= x->comp[g] == c;
		n += live && x->comp_vga[c];
	}
	return n;
}

/* ---- reading the output ---- */

struct entry {
	char id[256];
	char title[1024];
	char linux_line[4096];
	int depth;
};

/* The id is the last quoted word of a menuentry line; ids never hold quotes. */
static void parse_entries(const char *out, struct entry *e, size_t max, size_t *n)
{
	char *copy = strdup(out), *save = NULL;
	int depth = 0;

	*n = 0;
	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *s = l + strspn(l, "\t");

		if (strncmp(s, "submenu ", 8) == 0) {
			depth++;
		} else if (strncmp(s, "menuentry '", 11) == 0) {
			char *end = strrchr(s, '\''), *start;

			CHECK(*n < max);
			CHECK(end && end > s);
			*end = '\0';
			start = strrchr(s, '\'');
			CHECK(start);
			snprintf(e[*n].id, sizeof(e[*n].id), "%s", start + 1);
			snprintf(e[*n].title, sizeof(e[*n].title), "%s", s);
			e[*n].depth = depth;
			e[*n].linux_line[0] = '\0';
			(*n)++;
		} else if (strncmp(s, "linux\t", 6) == 0) {
			CHECK(*n > 0);
			snprintf(e[*n - 1].linux_line, sizeof(e[*n - 1].linux_line), "%s", s);
		} else if (strcmp(s, "}") == 0 && l[0] == '}' && depth > 0) {
			depth--;
		}
	}
	free(copy);
}

/* Groups named by the entry's auto_vfio.bind=; checks each selector's ID. */
static void bound_groups(const struct expect *x, const char *line, bool *bound)
{
	const char *p = strstr(line, "auto_vfio.bind=");
	char list[4096];

	memset(bound, 0, (x->m->ngroups + 1) * sizeof(bool));
	if (!p)
		return;
	CHECK_MSG(!strstr(p + 1, "auto_vfio.bind="), "two bind tokens: %s", line);
	sscanf(p + 15, "%4095s", list);
	for (char *save = NULL, *s = strtok_r(list, ",", &save); s;
	     s = strtok_r(NULL, ",", &save)) {
		struct av_sel sel;
		const struct av_dev *d;

		CHECK_MSG(av_sel_parse(s, &sel) == 0, "bad selector %s", s);
		d = av_machine_find(x->m, &sel.addr);
		CHECK_MSG(d != NULL, "selector %s names no device", s);
		CHECK_MSG(d->vendor == sel.vendor && d->device == sel.device, "wrong ID in %s", s);
		CHECK_MSG(!av_class_is_bridge(d->cls), "selector %s names a bridge", s);
		CHECK_MSG(!bound[d->group_idx], "group of %s named twice", s);
		bound[d->group_idx] = true;
	}
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* Run the generator over one fake machine and check every entry. */
static void check_machine(const char *name, const char *root)
{
	struct expect x;
	struct tu_result r;
	struct entry *e = calloc(256, sizeof(*e));
	bool *bound, passes_boot;
	size_t n, top = 0, nvga, nboot = 0;
	const char *env[] = {"GRUB_DISTRIBUTOR=Debian", "GRUB_CMDLINE_LINUX_DEFAULT=quiet",
			     "GRUB_CMDLINE_LINUX=console=ttyS0", NULL};

	make_boot(root, kernels);
	expect_build(&x, root);
	tu_write(tu_fmt("%s/etc/auto-vfio.conf", root), x.conf);
	run_grub(&r, root, NULL, env);
	CHECK_MSG(r.status == 0, "%s: exit %d: %s", name, r.status, r.err);
	bound = calloc(x.m->ngroups + 1, sizeof(bool));
	nvga = vga_components(&x);

	if (x.ncomp == 0) {
		CHECK_NOT_CONTAINS(r.out, "menuentry");
		CHECK_CONTAINS(r.err, "warning");
		goto out;
	}
	CHECK_MSG(grub_check(r.out) == 0, "%s: grub-script-check failed:\n%s", name, r.out);
	parse_entries(r.out, e, 256, &n);
	/* three kernels, the same entries for each */
	CHECK_MSG(n == 3 * (nvga + 1), "%s: %zu entries, expected 3 x %zu\n%s", name, n, nvga + 1,
		  r.out);
	for (size_t i = 0; i < n; i++) {
		const char *id = e[i].id;
		bool headless = strstr(id, "-headless") != NULL;

		CHECK_MSG(strncmp(id, "auto-vfio-", 10) == 0, "%s: id %s", name, id);
		CHECK_CONTAINS(e[i].linux_line, " root=UUID=f00d ro console=ttyS0 quiet ");
		CHECK_CONTAINS(e[i].linux_line, " intel_iommu=on iommu=pt");
		CHECK_NOT_CONTAINS(e[i].linux_line, "amd_iommu=on");
		if (x.unsafe[0])
			CHECK_NOT_CONTAINS(e[i].linux_line, x.unsafe);
		for (size_t j = 0; j < i; j++)
			CHECK_MSG(strcmp(e[j].id, id) != 0, "%s: id %s twice", name, id);
		/* the newest kernel's ids carry no version; older ones do, in the submenu */
		if (strstr(e[i].title, "with Linux " NEWEST " (")) {
			CHECK_MSG(strncmp(id, "auto-vfio-host-", 15) == 0 ||
				      strcmp(id, "auto-vfio-headless") == 0,
				  "%s: id %s", name, id);
			CHECK_INT(e[i].depth, 0);
			top++;
		} else {
			CHECK_MSG(strstr(id, "-amd64-") != NULL, "%s: id %s", name, id);
			CHECK_INT(e[i].depth, 1);
		}

		bound_groups(&x, e[i].linux_line, bound);
		size_t keep = AV_NONE;

		if (!headless) {
			const char *addr = strstr(id, "-host-");
			struct av_pci_addr a;
			const struct av_dev *d;

			CHECK_MSG(addr != NULL, "%s: id %s", name, id);
			CHECK_INT(av_pci_addr_parse(addr + 6, false, &a), 0);
			d = av_machine_find(x.m, &a);
			CHECK_MSG(d && av_class_is_vga(d->cls), "%s: %s keeps no VGA device", name,
				  id);
			CHECK(d->group_idx != AV_NONE);
			keep = x.comp[d->group_idx];
			CHECK_MSG(keep != AV_NONE, "%s: %s keeps a GPU that is never bound", name,
				  id);
			CHECK_CONTAINS(e[i].title, d->address);
		}
		for (size_t g = 0; g < x.m->ngroups; g++) {
			bool want = x.allowed[g] && has_endpoint(x.m, g) &&
				    (keep == AV_NONE || x.comp[g] != keep);

			CHECK_MSG(bound[g] == want, "%s: %s: group %d %s\n%s", name, id,
				  x.m->groups[g].id, want ? "not bound" : "bound", e[i].linux_line);
		}
		/* the firmware framebuffer goes exactly where the boot GPU goes to VMs */
		passes_boot = x.m->boot_vga != AV_NONE &&
			      x.m->devs[x.m->boot_vga].group_idx != AV_NONE &&
			      bound[x.m->devs[x.m->boot_vga].group_idx];
		nboot += passes_boot;
		CHECK_MSG(count(e[i].linux_line, " " AV_BOOTFB_PARAM) == (passes_boot ? 1 : 0),
			  "%s: %s: %s the boot VGA device:\n%s", name, id,
			  passes_boot ? "passes" : "keeps", e[i].linux_line);
		CHECK_NOT_CONTAINS(e[i].linux_line, "video=");
	}
	CHECK_INT(top, nvga + 1);
	CHECK(strstr(r.out, "--id 'auto-vfio-headless'"));
	/* every fixture selects its boot VGA: the headless entries pass it at least */
	if (x.m->boot_vga != AV_NONE && x.m->devs[x.m->boot_vga].group_idx != AV_NONE &&
	    x.allowed[x.m->devs[x.m->boot_vga].group_idx])
		CHECK_MSG(nboot >= 3, "%s: the boot VGA device is passed in %zu entries", name,
			  nboot);
out:
	free(bound);
	free(e);
	tu_result_free(&r);
	av_machine_free(x.m);
	free(x.allowed);
	free(x.comp);
	free(x.comp_vga);
}

static char *fixture_tool(void)
{
	char *tool = tu_fmt("%s/tests/fixture2sysfs", tu_build());

	if (access(tool, X_OK) != 0)
		av_test_skip("%s is not built", tool);
	return tool;
}

AV_TEST_T(grub_all_fixture_machines, 120)
{
	const char *dir = tu_fmt("%s/iommu", tu_fixtures());
	char *tool = fixture_tool();
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort), done = 0;

	CHECK_MSG(n > 0, "no fixtures in %s", dir);
	for (int i = 0; i < n; i++) {
		const char *f = names[i]->d_name;
		size_t len = strlen(f);

		if (len < 5 || strcmp(f + len - 4, ".txt") || strstr(f, ".drivers.txt"))
			continue;
		const char *root = tu_fmt("%s/m-%d", tu_tmpdir(), i);
		const char *argv[] = {tool, tu_fmt("%s/%s", dir, f), root, NULL};
		struct tu_result r;

		tu_run(&r, argv, NULL, NULL);
		CHECK_MSG(r.status == 0, "fixture2sysfs %s: %s", f, r.err);
		tu_result_free(&r);
		check_machine(f, root);
		done++;
	}
	CHECK_MSG(done >= 18, "only %d fixture machines", done);
}

/* ---- hand-made machines ---- */

static void dev(const char *root, const char *addr, unsigned ven, unsigned did, unsigned cls,
		int group)
{
	struct fakesys_dev d = {
	    .addr = addr, .vendor = ven, .device = did, .class = cls, .group = group};

	CHECK_INT(fakesys_add_device(root, &d, NULL), 0);
}

/* Two clean GPUs, an iGPU, a GPU in the chipset group, a USB controller. */
static const char *desktop(void)
{
	const char *r = tu_fmt("%s/desk", tu_tmpdir());

	dev(r, "0000:00:00.0", 0x8086, 0x3e30, 0x060000, 0);
	dev(r, "0000:00:02.0", 0x8086, 0x3e92, 0x030000, 1);
	dev(r, "0000:00:01.0", 0x8086, 0x1901, 0x060400, 2);
	dev(r, "0000:01:00.0", 0x10de, 0x1b81, 0x030000, 2);
	dev(r, "0000:01:00.1", 0x10de, 0x10f0, 0x040300, 2);
	dev(r, "0000:02:00.0", 0x1002, 0x73bf, 0x030000, 3);
	dev(r, "0000:02:00.1", 0x1002, 0xab28, 0x040300, 4);
	dev(r, "0000:00:1c.0", 0x8086, 0xa110, 0x060400, 5);
	dev(r, "0000:03:00.0", 0x10de, 0x128b, 0x030000, 5);
	dev(r, "0000:04:00.0", 0x8086, 0x15b8, 0x020000, 5);
	dev(r, "0000:05:00.0", 0x1b21, 0x2142, 0x0c0330, 6);
	make_boot(r, kernels);
	return r;
}

static void conf(const char *root, const char *text)
{
	tu_write(tu_fmt("%s/etc/auto-vfio.conf", root), text);
}

#define BASE_CONF "version = 1\nmode = multiboot\niommu_params = intel_iommu=on\n"

AV_TEST(grub_hostile_names_cannot_inject)
{
	const char *r = desktop();
	const char *ids = tu_fmt("%s/hostile.ids", tu_tmpdir());
	struct tu_result res;

	tu_write(ids, "10de  Evil' ; reboot ; echo '\x01\x1b[2J\n"
		      "\t1b81  GTX $(reboot) `halt` ${root} \\ } { ;\n"
		      "1002  Ven\xff\xfe"
		      "dor'\\''\n"
		      "\t73bf  Navi'}\nmenuentry 'pwned' {\n");
	conf(r, BASE_CONF "select = 0000:01:00.0@10de:1b81\nselect = 0000:02:00.0@1002:73bf\n");
	run_grub(&res, r, ids, NULL);
	CHECK_INT(res.status, 0);
	CHECK_MSG(grub_check(res.out) == 0, "grub-script-check failed:\n%s", res.out);
	CHECK_CONTAINS(res.out, "Evil'\\'' ; reboot ; echo '\\''");
	CHECK_CONTAINS(res.out, "GTX $(reboot) `halt` ${root} \\ } { ;");
	CHECK_NOT_CONTAINS(res.out, "\x01");
	CHECK_NOT_CONTAINS(res.out, "\x1b");
	CHECK_NOT_CONTAINS(res.out, "\xff");
	CHECK_NOT_CONTAINS(res.out, "'pwned'");
	/* the hostile text appears only inside menuentry titles */
	for (const char *p = res.out; (p = strstr(p, "reboot")); p++) {
		const char *bol = p;

		while (bol > res.out && bol[-1] != '\n')
			bol--;
		bol += strspn(bol, "\t");
		CHECK_MSG(strncmp(bol, "menuentry '", 11) == 0, "outside a title: %.80s", bol);
	}
	tu_result_free(&res);
}

AV_TEST(grub_unsafe_group_needs_override)
{
	const char *r = desktop();
	struct tu_result res;

	/* 03:00.0 shares group 5 with a NIC: unsafe */
	conf(r, BASE_CONF "select = 0000:01:00.0@10de:1b81\nselect = 0000:03:00.0@10de:128b\n");
	run_grub(&res, r, NULL, NULL);
	CHECK_INT(res.status, 0);
	CHECK_CONTAINS(res.err, "0000:03:00.0@10de:128b left out");
	CHECK_NOT_CONTAINS(res.out, "0000:03:00.0@");
	CHECK_NOT_CONTAINS(res.out, "0000:04:00.0@");
	CHECK_INT(count(res.out, "\tlinux\t"), 3 * 2);
	tu_result_free(&res);

	conf(r, BASE_CONF "select = 0000:01:00.0@10de:1b81\nselect = 0000:03:00.0@10de:128b\n"
			  "force_unsafe = 0000:03:00.0@10de:128b\n");
	run_grub(&res, r, NULL, NULL);
	CHECK_INT(res.status, 0);
	CHECK_NOT_CONTAINS(res.err, "left out");
	CHECK_CONTAINS(res.out, "--id 'auto-vfio-host-0000:03:00.0'");
	/* the override takes the whole group: the GPU, the NIC (one selector is enough) */
	CHECK_CONTAINS(res.out, "auto_vfio.bind=0000:01:00.0@10de:1b81,0000:03:00.0@10de:128b\n");
	CHECK_INT(count(res.out, "\tlinux\t"), 3 * 3);
	CHECK_INT(grub_check(res.out), 0);
	tu_result_free(&res);
}

AV_TEST(grub_split_companion_and_single_gpu)
{
	const char *r = desktop();
	struct tu_result res;

	/* one GPU plus a USB controller: host keeps it, or headless */
	conf(r, BASE_CONF "select = 0000:02:00.0@1002:73bf\nselect = 0000:05:00.0@1b21:2142\n");
	run_grub(&res, r, NULL, NULL);
	CHECK_INT(res.status, 0);
	CHECK_CONTAINS(res.out, "--id 'auto-vfio-host-0000:02:00.0' {");
	CHECK_CONTAINS(res.out, "ro   intel_iommu=on auto_vfio.bind=0000:05:00.0@1b21:2142\n");
	/* the HDMI audio in its own group comes along, with its own selector */
	CHECK_CONTAINS(res.out, "auto_vfio.bind=0000:02:00.0@1002:73bf,0000:02:00.1@1002:ab28,"
				"0000:05:00.0@1b21:2142\n");
	tu_result_free(&res);
}

AV_TEST(grub_kernel_order_matches_grub_mkconfig_lib)
{
	static const char *const vers[] = {
	    "5.10.0-28-amd64",	 "6.1.0-9-amd64",     "6.1.0-10-amd64", "6.1.0-18-amd64",
	    "6.1.0-18-rt-amd64", "6.5.0-0.rc4-amd64", "6.1.0-2-amd64",	NULL};
	const char *r = desktop();
	struct entry *e = calloc(64, sizeof(*e));
	struct tu_result res, sh;
	size_t n;
	char *ours = tu_fmt("%s", "");

	if (access("/usr/share/grub/grub-mkconfig_lib", R_OK) != 0)
		av_test_skip("no grub-mkconfig_lib");
	make_boot(r, vers);
	tu_write(tu_fmt("%s/boot/vmlinuz-6.1.0-7-amd64.dpkg-tmp", r), "x");
	tu_write(tu_fmt("%s/boot/initrd.img-6.1.0-7-amd64.dpkg-tmp", r), "x");
	conf(r, BASE_CONF "select = 0000:02:00.0@1002:73bf\n");
	run_grub(&res, r, NULL, NULL);
	CHECK_INT(res.status, 0);
	parse_entries(res.out, e, 64, &n);
	for (size_t i = 0; i < n; i++) {
		const char *v = strstr(e[i].title, "with Linux ");

		if (strstr(e[i].id, "headless") && v)
			ours = tu_fmt("%s%.*s\n", ours, (int)strcspn(v + 11, " "), v + 11);
	}

	/* the order 10_linux uses, by running grub-mkconfig_lib's own functions */
	const char *script =
	    ". /usr/share/grub/grub-mkconfig_lib\n"
	    "list=\n"
	    "for i in \"$1\"/boot/vmlinuz-*; do\n"
	    "  if grub_file_is_not_garbage \"$i\"; then list=\"$list $i\"; fi\n"
	    "done\n"
	    "while [ \"x$list\" != x ]; do\n"
	    "  linux=$(version_find_latest $list)\n"
	    "  basename \"$linux\" | sed -e 's,^[^0-9]*-,,g'\n"
	    "  list=$(echo $list | tr ' ' '\\n' | fgrep -vx \"$linux\" | tr '\\n' ' ')\n"
	    "done\n";
	const char *argv[] = {"/bin/sh", "-c", script, "sh", r, NULL};

	tu_run(&sh, argv, NULL, NULL);
	CHECK_INT(sh.status, 0);
	CHECK_STR(ours, sh.out);
	CHECK(strncmp(ours, "6.5.0-0.rc4-amd64\n", 5) != 0 || strstr(sh.out, "6.5.0") == sh.out);
	tu_result_free(&res);
	tu_result_free(&sh);
	free(e);
}

AV_TEST(grub_disable_submenu_and_environment)
{
	const char *r = desktop();
	const char *env[] = {"GRUB_DISABLE_SUBMENU=y",
			     "GRUB_DISTRIBUTOR=Debian",
			     "GRUB_CMDLINE_LINUX=intel_iommu=on",
			     "GRUB_CMDLINE_LINUX_DEFAULT=quiet splash",
			     "GRUB_SAVEDEFAULT=true",
			     NULL};
	struct tu_result res;

	conf(r, "version = 1\nmode = multiboot\niommu_params = intel_iommu=on iommu=pt\n"
		"select = 0000:02:00.0@1002:73bf\n");
	run_grub(&res, r, NULL, env);
	CHECK_INT(res.status, 0);
	CHECK_NOT_CONTAINS(res.out, "submenu");
	CHECK_NOT_CONTAINS(res.out, "\tmenuentry");
	CHECK_INT(count(res.out, "menuentry 'Debian GNU/Linux, with Linux "), 3 * 2);
	CHECK_CONTAINS(res.out, "--class debian --class gnu-linux --class gnu --class os");
	CHECK_CONTAINS(res.out, "\tsavedefault\n");
	/* the user's own intel_iommu=on is not repeated */
	CHECK_CONTAINS(res.out, " ro intel_iommu=on quiet splash iommu=pt auto_vfio.bind=");
	CHECK_INT(grub_check(res.out), 0);
	tu_result_free(&res);
}

static void expect_nothing(struct tu_result *res, const char *why)
{
	const char *p;

	CHECK_INT(res->status, 0);
	CHECK_NOT_CONTAINS(res->out, "menuentry");
	/* nothing, or GRUB comments only */
	for (p = res->out; *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : p + strlen(p))
		CHECK_MSG(*p == '#', "not a comment: %s", p);
	CHECK_CONTAINS(res->err, "warning");
	CHECK_CONTAINS(res->err, why);
}

AV_TEST(grub_missing_or_corrupt_config)
{
	const char *r = desktop();
	struct tu_result res;

	run_grub(&res, r, NULL, NULL);
	expect_nothing(&res, "auto-vfio.conf does not exist");
	tu_result_free(&res);

	conf(r, "version = 1\nmode = multiboot\nselect = 0000:02:00.0@1002:73bf;reboot\n");
	run_grub(&res, r, NULL, NULL);
	expect_nothing(&res, tu_fmt("%s/etc/auto-vfio.conf:3:", r));
	tu_result_free(&res);

	conf(r, "");
	run_grub(&res, r, NULL, NULL);
	expect_nothing(&res, "no 'version = 1' line");
	tu_result_free(&res);
}

AV_TEST(grub_not_multiboot_prints_nothing)
{
	const char *r = desktop();
	struct tu_result res;

	conf(r, "version = 1\nmode = static\nselect = 0000:02:00.0@1002:73bf\n");
	run_grub(&res, r, NULL, NULL);
	CHECK_INT(res.status, 0);
	CHECK_STR(res.out, "");
	CHECK_STR(res.err, "");
	tu_result_free(&res);
}

AV_TEST(grub_empty_boot_and_no_initrd)
{
	const char *r = desktop();
	struct tu_result res;

	conf(r, BASE_CONF "select = 0000:02:00.0@1002:73bf\n");
	for (const char *const *k = kernels; *k; k++) {
		unlink(tu_fmt("%s/boot/vmlinuz-%s", r, *k));
		unlink(tu_fmt("%s/boot/initrd.img-%s", r, *k));
	}
	run_grub(&res, r, NULL, NULL);
	expect_nothing(&res, "no kernel");
	tu_result_free(&res);

	/* a kernel without an initramfs cannot run the binder: no entries for it */
	tu_write(tu_fmt("%s/boot/vmlinuz-6.1.0-20-amd64", r), "k");
	run_grub(&res, r, NULL, NULL);
	expect_nothing(&res, "no initramfs");
	tu_result_free(&res);

	rmdir(tu_fmt("%s/boot", r));
	unlink(tu_fmt("%s/boot/vmlinuz-6.1.0-20-amd64", r));
	rmdir(tu_fmt("%s/boot", r));
	run_grub(&res, r, NULL, NULL);
	expect_nothing(&res, "/boot");
	tu_result_free(&res);
}

/* Without live IOMMU groups the config alone gives the same entries, and says so. */
AV_TEST(grub_no_iommu_entries_from_config)
{
	const char *r = tu_fmt("%s/noiommu", tu_tmpdir());
	struct tu_result res;

	/* IOMMU off: the devices are there, without groups */
	dev(r, "0000:00:02.0", 0x8086, 0x3e92, 0x030000, FAKESYS_NO_GROUP);
	dev(r, "0000:01:00.0", 0x10de, 0x1b81, 0x030000, FAKESYS_NO_GROUP);
	dev(r, "0000:01:00.1", 0x10de, 0x10f0, 0x040300, FAKESYS_NO_GROUP);
	dev(r, "0000:05:00.0", 0x1b21, 0x2142, 0x0c0330, FAKESYS_NO_GROUP);
	make_boot(r, kernels);
	conf(r, BASE_CONF "select = 0000:01:00.0@10de:1b81\nselect = 0000:01:00.1@10de:10f0\n"
			  "select = 0000:00:02.0@8086:3e92\nselect = 0000:05:00.0@1b21:2142\n");
	run_grub(&res, r, NULL, NULL);
	CHECK_INT(res.status, 0);
	CHECK_NOT_CONTAINS(res.err, "warning");
	CHECK_CONTAINS(res.out, "# auto-vfio: no live IOMMU groups (IOMMU off or not visible): "
				"entries built from /etc/auto-vfio.conf alone");
	/* the same ids and bind lists a live model would give */
	CHECK_CONTAINS(res.out, "--id 'auto-vfio-host-0000:00:02.0' {");
	CHECK_CONTAINS(res.out, "--id 'auto-vfio-host-0000:01:00.0' {");
	CHECK_CONTAINS(res.out, "--id 'auto-vfio-headless' {");
	/* the GPU's audio function goes with it, kept or bound */
	CHECK_CONTAINS(res.out, " intel_iommu=on auto_vfio.bind=0000:01:00.0@10de:1b81,"
				"0000:01:00.1@10de:10f0,0000:05:00.0@1b21:2142\n");
	CHECK_CONTAINS(res.out, " intel_iommu=on auto_vfio.bind=0000:00:02.0@8086:3e92,"
				"0000:05:00.0@1b21:2142\n");
	CHECK_CONTAINS(res.out, " intel_iommu=on auto_vfio.bind=0000:00:02.0@8086:3e92,"
				"0000:01:00.0@10de:1b81,0000:01:00.1@10de:10f0,"
				"0000:05:00.0@1b21:2142\n");
	CHECK_INT(count(res.out, "\tlinux\t"), 3 * 3);
	CHECK_INT(grub_check(res.out), 0);
	tu_result_free(&res);
}

AV_TEST(grub_chroot_without_sys_entries_from_config)
{
	const char *r = tu_fmt("%s/chroot", tu_tmpdir());
	struct tu_result res;

	make_boot(r, kernels);
	conf(r, BASE_CONF "select = 0000:01:00.0@10de:1b81\nselect = 0000:05:00.0@1b21:2142\n");
	run_grub(&res, r, NULL, NULL);
	CHECK_INT(res.status, 0);
	CHECK_CONTAINS(res.out, "# auto-vfio: no live IOMMU groups (no PCI devices under /sys)");
	/* classes unknown: every selected device goes to VMs */
	CHECK_CONTAINS(res.out, "--id 'auto-vfio-headless' {");
	CHECK_CONTAINS(res.out, " auto_vfio.bind=0000:01:00.0@10de:1b81,0000:05:00.0@1b21:2142\n");
	CHECK_INT(count(res.out, "\tlinux\t"), 3);
	CHECK_INT(grub_check(res.out), 0);
	tu_result_free(&res);

	/* the last grub.cfg kept 01:00.0 for the host: that entry and its id stay */
	tu_write(tu_fmt("%s/boot/grub/grub.cfg", r),
		 "menuentry 'x' --class os --id 'auto-vfio-host-0000:01:00.0' {\n}\n");
	run_grub(&res, r, NULL, NULL);
	CHECK_INT(res.status, 0);
	CHECK_CONTAINS(res.out, "--id 'auto-vfio-host-0000:01:00.0' {");
	CHECK_CONTAINS(res.out, " auto_vfio.bind=0000:05:00.0@1b21:2142\n");
	CHECK_INT(count(res.out, "\tlinux\t"), 6);
	CHECK_INT(grub_check(res.out), 0);
	tu_result_free(&res);
}

/* The top-level ids stay the same across a kernel upgrade; the old kernel moves down. */
AV_TEST(grub_ids_survive_kernel_upgrade)
{
	static const char *const before[] = {"6.1.0-17-amd64", NULL};
	static const char *const after[] = {"6.1.0-17-amd64", "6.1.0-18-amd64", NULL};
	const char *r = desktop();
	struct entry *e = calloc(64, sizeof(*e));
	struct tu_result res;
	char *top_before = tu_fmt("%s", ""), *top_after = tu_fmt("%s", "");
	size_t n;

	for (const char *const *k = kernels; *k; k++) {
		unlink(tu_fmt("%s/boot/vmlinuz-%s", r, *k));
		unlink(tu_fmt("%s/boot/initrd.img-%s", r, *k));
	}
	conf(r, BASE_CONF "select = 0000:01:00.0@10de:1b81\nselect = 0000:02:00.0@1002:73bf\n");
	make_boot(r, before);
	run_grub(&res, r, NULL, NULL);
	CHECK_INT(res.status, 0);
	parse_entries(res.out, e, 64, &n);
	CHECK_INT(n, 3);
	for (size_t i = 0; i < n; i++)
		top_before = tu_fmt("%s%s\n", top_before, e[i].id);
	CHECK_STR(top_before, "auto-vfio-host-0000:01:00.0\nauto-vfio-host-0000:02:00.0\n"
			      "auto-vfio-headless\n");
	tu_result_free(&res);

	make_boot(r, after);
	run_grub(&res, r, NULL, NULL);
	CHECK_INT(res.status, 0);
	parse_entries(res.out, e, 64, &n);
	CHECK_INT(n, 6);
	for (size_t i = 0; i < n; i++) {
		if (e[i].depth == 0) {
			top_after = tu_fmt("%s%s\n", top_after, e[i].id);
			CHECK_CONTAINS(e[i].title, "with Linux 6.1.0-18-amd64 (");
			CHECK_CONTAINS(e[i].linux_line, "/vmlinuz-6.1.0-18-amd64 ");
		} else {
			CHECK_MSG(strncmp(e[i].id, "auto-vfio-6.1.0-17-amd64-", 25) == 0, "%s",
				  e[i].id);
		}
	}
	CHECK_STR(top_after, top_before);
	CHECK_CONTAINS(res.out, "--id 'auto-vfio-older' {");
	CHECK_CONTAINS(res.out, "--id 'auto-vfio-6.1.0-17-amd64-host-0000:01:00.0' {");
	tu_result_free(&res);
	free(e);
}

AV_TEST(grub_hardware_changed)
{
	const char *r = desktop();
	struct tu_result res;

	conf(r, BASE_CONF "select = 0000:02:00.0@1002:73bf\nselect = 0000:01:00.0@10de:1b82\n"
			  "select = 0000:09:00.0@10de:1b81\n");
	run_grub(&res, r, NULL, NULL);
	CHECK_INT(res.status, 0);
	CHECK_CONTAINS(res.err, "0000:01:00.0 is now 10de:1b81");
	CHECK_CONTAINS(res.err, "0000:09:00.0@10de:1b81 is not present");
	CHECK_NOT_CONTAINS(res.out, "0000:01:00.0@");
	CHECK_CONTAINS(res.out, "-host-0000:02:00.0'");
	tu_result_free(&res);
}

/* The linux line of the entry whose id ends in @tail ("" when absent). */
static const char *linux_of(const char *out, const char *tail)
{
	struct entry *e = calloc(64, sizeof(*e));
	const char *line = "";
	size_t n;

	parse_entries(out, e, 64, &n);
	for (size_t i = 0; i < n; i++) {
		size_t il = strlen(e[i].id), tl = strlen(tail);

		if (e[i].depth == 0 && il >= tl && strcmp(e[i].id + il - tl, tail) == 0)
			line = tu_fmt("%s", e[i].linux_line);
	}
	free(e);
	return line;
}

/*
 * The boot iGPU and a discrete GPU: the firmware framebuffer goes only where
 * the boot GPU goes to VMs, never for the other GPU alone, and not at all
 * once the boot GPU fails its identity check.
 */
AV_TEST(grub_boot_gpu_drops_firmware_framebuffer)
{
	const char *r = tu_fmt("%s/bootfb", tu_tmpdir());
	const struct fakesys_dev devs[] = {
	    {.addr = "0000:00:00.0", .vendor = 0x8086, .device = 0x3e30, .class = 0x060000},
	    {.addr = "0000:00:02.0",
	     .vendor = 0x8086,
	     .device = 0x3e92,
	     .class = 0x030000,
	     .group = 1,
	     .boot_vga = true},
	    {.addr = "0000:02:00.0",
	     .vendor = 0x1002,
	     .device = 0x73bf,
	     .class = 0x030000,
	     .group = 3},
	    {.addr = "0000:02:00.1",
	     .vendor = 0x1002,
	     .device = 0xab28,
	     .class = 0x040300,
	     .group = 4},
	    {.addr = "0000:05:00.0",
	     .vendor = 0x1b21,
	     .device = 0x2142,
	     .class = 0x0c0330,
	     .group = 6},
	};
	struct tu_result res;

	for (size_t i = 0; i < sizeof(devs) / sizeof(devs[0]); i++)
		CHECK_INT(fakesys_add_device(r, &devs[i], NULL), 0);
	make_boot(r, kernels);
	conf(r, BASE_CONF "select = 0000:00:02.0@8086:3e92\nselect = 0000:02:00.0@1002:73bf\n"
			  "select = 0000:05:00.0@1b21:2142\n");
	run_grub(&res, r, NULL, NULL);
	CHECK_INT(res.status, 0);
	CHECK_NOT_CONTAINS(linux_of(res.out, "-host-0000:00:02.0"), "initcall_blacklist");
	CHECK_CONTAINS(linux_of(res.out, "-host-0000:00:02.0"), "0000:02:00.0@1002:73bf");
	CHECK_CONTAINS(linux_of(res.out, "-host-0000:02:00.0"),
		       " auto_vfio.bind=0000:00:02.0@8086:3e92,0000:05:00.0@1b21:2142 "
		       "initcall_blacklist=sysfb_init");
	CHECK_CONTAINS(linux_of(res.out, "-headless"), " initcall_blacklist=sysfb_init");
	CHECK_INT(count(res.out, "initcall_blacklist=sysfb_init"), 2 * 3);
	/* update-grub in a chroot without /sys: the last grub.cfg tells which GPU booted */
	tu_write(tu_fmt("%s/boot/grub/grub.cfg", r), res.out);
	tu_result_free(&res);
	CHECK_INT(rename(tu_fmt("%s/sys", r), tu_fmt("%s/sys.off", r)), 0);
	run_grub(&res, r, NULL, NULL);
	CHECK_INT(res.status, 0);
	CHECK_CONTAINS(res.out, "# auto-vfio: no live IOMMU groups");
	CHECK_NOT_CONTAINS(linux_of(res.out, "-host-0000:00:02.0"), "initcall_blacklist");
	CHECK_CONTAINS(linux_of(res.out, "-host-0000:02:00.0"), " initcall_blacklist=sysfb_init");
	CHECK_CONTAINS(linux_of(res.out, "-headless"), " initcall_blacklist=sysfb_init");
	CHECK_INT(count(res.out, "initcall_blacklist=sysfb_init"), 2 * 3);
	tu_result_free(&res);
	CHECK_INT(rename(tu_fmt("%s/sys.off", r), tu_fmt("%s/sys", r)), 0);
	unlink(tu_fmt("%s/boot/grub/grub.cfg", r));

	/* the boot iGPU is now another device: it stays with the host, console and all */
	conf(r, BASE_CONF "select = 0000:00:02.0@8086:ffff\nselect = 0000:02:00.0@1002:73bf\n");
	run_grub(&res, r, NULL, NULL);
	CHECK_INT(res.status, 0);
	CHECK_CONTAINS(res.err, "0000:00:02.0 is now 8086:3e92");
	CHECK_CONTAINS(linux_of(res.out, "-headless"), "auto_vfio.bind=0000:02:00.0@1002:73bf");
	CHECK_NOT_CONTAINS(res.out, "initcall_blacklist");
	tu_result_free(&res);
}

/* Bodies copied from 10_linux's part of the grub.cfg being written, in its order. */
AV_TEST(grub_bodies_copied_from_10_linux)
{
	const char *r = desktop();
	const char *menu = tu_fmt("%s/grub.cfg.new", tu_tmpdir());
	char *prog = tu_prog("auto-vfio-grub");
	const char *argv[] = {prog,	     "--root",	      r,   "--menu", menu,
			      "--linux-gen", "/gen/10_linux", NULL};
	struct entry *e = calloc(64, sizeof(*e));
	struct tu_result res;
	size_t n;

	conf(r, BASE_CONF "select = 0000:02:00.0@1002:73bf\n");
	tu_write(menu,
		 "### BEGIN /gen/00_header ###\nset default=0\n### END /gen/00_header ###\n\n"
		 "### BEGIN /gen/10_linux ###\n"
		 "menuentry 'Debian' $menuentry_id_option 'gnulinux-simple-u' {\n\tSIMPLE\n}\n"
		 "submenu 'Advanced' $menuentry_id_option 'gnulinux-advanced-u' {\n"
		 "\tmenuentry 'D, with Linux 6.1.0-9-amd64' $menuentry_id_option "
		 "'gnulinux-6.1.0-9-amd64-advanced-u' {\n"
		 "\t\trecordfail\n\t\tcryptomount -u c0ffee\n"
		 "\t\tlinux\t/vmlinuz-6.1.0-9-amd64 root=/dev/mapper/r ro  quiet\n"
		 "\t\tinitrd\t/ucode.img /initrd.img-6.1.0-9-amd64\n\t}\n"
		 "\tmenuentry 'D, with Linux 6.1.0-9-amd64 (recovery mode)' $menuentry_id_option "
		 "'gnulinux-6.1.0-9-amd64-recovery-u' {\n\t\tRECOVERY\n\t}\n"
		 "\tmenuentry 'D, with Linux 6.1.0-10-amd64' $menuentry_id_option "
		 "'gnulinux-6.1.0-10-amd64-advanced-u' {\n"
		 "\t\tlinux\t/vmlinuz-6.1.0-10-amd64 root=/dev/mapper/r ro  quiet\n"
		 "\t\tinitrd\t/initrd.img-6.1.0-10-amd64\n\t}\n"
		 "}\n### END /gen/10_linux ###\n");
	tu_run(&res, argv, NULL, NULL);
	CHECK_INT(res.status, 0);
	CHECK_CONTAINS(res.err, "10_linux wrote no entry for " NEWEST);
	CHECK_CONTAINS(res.err, "(bodies from 10_linux's entries)");
	CHECK_NOT_CONTAINS(res.out, "SIMPLE");
	CHECK_NOT_CONTAINS(res.out, "RECOVERY");
	parse_entries(res.out, e, 64, &n);
	CHECK_INT(n, 4);
	/* 10_linux's order: 6.1.0-9 is the one it put first */
	CHECK_STR(e[0].id, "auto-vfio-host-0000:02:00.0");
	CHECK_CONTAINS(e[0].title, "with Linux 6.1.0-9-amd64 (");
	CHECK_STR(e[0].linux_line,
		  "linux\t/vmlinuz-6.1.0-9-amd64 root=/dev/mapper/r ro  quiet intel_iommu=on");
	CHECK_STR(e[1].linux_line, "linux\t/vmlinuz-6.1.0-9-amd64 root=/dev/mapper/r ro  quiet "
				   "intel_iommu=on auto_vfio.bind=0000:02:00.0@1002:73bf,"
				   "0000:02:00.1@1002:ab28");
	CHECK_CONTAINS(res.out, "\trecordfail\n\tcryptomount -u c0ffee\n\tlinux\t");
	CHECK_CONTAINS(res.out, "\tinitrd\t/ucode.img /initrd.img-6.1.0-9-amd64\n}\n");
	CHECK_CONTAINS(e[2].title, "with Linux 6.1.0-10-amd64 (");
	CHECK_INT(e[2].depth, 1);
	CHECK_INT(grub_check(res.out), 0);
	tu_result_free(&res);
	free(e);
}

/* GRUB_TOP_LEVEL moves a kernel to the top only when the installed 10_linux does that. */
AV_TEST(grub_top_level_follows_10_linux)
{
	const char *r = desktop();
	const char *gen = tu_fmt("%s/10_linux", tu_tmpdir());
	const char *env[] = {"GRUB_TOP_LEVEL=/boot/vmlinuz-6.1.0-9-amd64", NULL};
	char *prog = tu_prog("auto-vfio-grub");
	const char *with[] = {prog, "--root", r, "--linux-gen", gen, NULL};
	const char *without[] = {prog, "--root", r, NULL};
	struct entry *e = calloc(64, sizeof(*e));
	struct tu_result res;
	size_t n;

	conf(r, BASE_CONF "select = 0000:02:00.0@1002:73bf\n");
	/* GRUB 2.12's 10_linux: reverse_sorted_list=$(grub_move_to_front "$GRUB_TOP_LEVEL" ...) */
	tu_write(gen,
		 "#! /bin/sh\nquick_boot=\"0\"\nif [ \"x$GRUB_TOP_LEVEL\" != x ]; then :; fi\n");
	tu_run(&res, with, env, NULL);
	CHECK_INT(res.status, 0);
	parse_entries(res.out, e, 64, &n);
	CHECK_INT(n, 6);
	CHECK_CONTAINS(e[0].title, "with Linux 6.1.0-9-amd64 (");
	CHECK_STR(e[0].id, "auto-vfio-host-0000:02:00.0");
	CHECK_STR(e[2].id, "auto-vfio-6.1.0-18-amd64-host-0000:02:00.0");
	tu_result_free(&res);
	/* Debian 12's 10_linux knows nothing of it: the newest kernel stays on top */
	tu_run(&res, without, env, NULL);
	CHECK_INT(res.status, 0);
	parse_entries(res.out, e, 64, &n);
	CHECK_CONTAINS(e[0].title, "with Linux " NEWEST " (");
	tu_result_free(&res);
	free(e);
}

/* ---- the shell shim ---- */

static void run_shim(struct tu_result *res, const char *root, const char *backend)
{
	char *shim = tu_fmt("%s/grub.d/42_auto-vfio", tu_srcdir());
	const char *argv[] = {"/bin/sh", shim, NULL};
	const char *env[] = {tu_fmt("AUTO_VFIO_ROOT=%s", root),
			     tu_fmt("AUTO_VFIO_GRUB=%s", backend),
			     "GRUB_DEVICE_BOOT=",
			     "GRUB_DEVICE=/dev/sda1",
			     "GRUB_DEVICE_UUID=",
			     NULL};

	tu_run(res, argv, env, NULL);
}

AV_TEST(grub_shim_quiet_unless_multiboot)
{
	const char *r = desktop();
	struct tu_result res;

	run_shim(&res, r, "/bin/false");
	CHECK_INT(res.status, 0);
	CHECK_STR(res.out, "");
	CHECK_STR(res.err, "");
	tu_result_free(&res);
	conf(r, "version = 1\nmode = static\n");
	run_shim(&res, r, "/bin/false");
	CHECK_INT(res.status, 0);
	CHECK_STR(res.out, "");
	CHECK_STR(res.err, "");
	tu_result_free(&res);
}

AV_TEST(grub_shim_survives_failing_backend)
{
	const char *r = desktop();
	const char *bad = tu_fmt("%s/bad-backend", tu_tmpdir());
	struct tu_result res;

	if (access("/usr/share/grub/grub-mkconfig_lib", R_OK) != 0)
		av_test_skip("no grub-mkconfig_lib");
	conf(r, BASE_CONF "select = 0000:02:00.0@1002:73bf\n");
	run_shim(&res, r, "/bin/false");
	CHECK_INT(res.status, 0);
	CHECK_STR(res.out, "");
	CHECK_CONTAINS(res.err, "warning");
	tu_result_free(&res);

	run_shim(&res, r, "/nonexistent/auto-vfio-grub");
	CHECK_INT(res.status, 0);
	CHECK_STR(res.out, "");
	CHECK_CONTAINS(res.err, "not installed");
	tu_result_free(&res);

	/* half an entry, then a crash: nothing of it reaches grub.cfg */
	tu_write(bad, "#!/bin/sh\necho \"menuentry 'x' {\"\nkill -SEGV $$\n");
	chmod(bad, 0755);
	run_shim(&res, r, bad);
	CHECK_INT(res.status, 0);
	CHECK_STR(res.out, "");
	tu_result_free(&res);

	/* a broken script with exit 0: grub-script-check in the shim stops it */
	tu_write(bad, "#!/bin/sh\necho \"menuentry 'x' {\"\n");
	run_shim(&res, r, bad);
	CHECK_INT(res.status, 0);
	CHECK_STR(res.out, "");
	CHECK_CONTAINS(res.err, "grub-script-check");
	tu_result_free(&res);
}

/* Nothing to emit: the comment goes to grub.cfg as it is, without a warning. */
AV_TEST(grub_shim_comment_only_output)
{
	const char *r = desktop();
	const char *b = tu_fmt("%s/comment-backend", tu_tmpdir());
	struct tu_result res;

	if (access("/usr/share/grub/grub-mkconfig_lib", R_OK) != 0)
		av_test_skip("no grub-mkconfig_lib");
	conf(r, BASE_CONF "select = 0000:09:00.0@10de:1b81\n");
	tu_write(b, "#!/bin/sh\necho '# auto-vfio: no entries (nothing selected is here)'\n");
	chmod(b, 0755);
	run_shim(&res, r, b);
	CHECK_INT(res.status, 0);
	CHECK_STR(res.out, "# auto-vfio: no entries (nothing selected is here)\n");
	CHECK_NOT_CONTAINS(res.err, "grub-script-check");
	tu_result_free(&res);

	/* the real backend, with a selection that is not on this machine */
	run_shim(&res, r, tu_prog("auto-vfio-grub"));
	CHECK_INT(res.status, 0);
	CHECK_CONTAINS(res.out,
		       "# auto-vfio: no entries (no selected device can be passed through)");
	CHECK_NOT_CONTAINS(res.out, "menuentry");
	CHECK_NOT_CONTAINS(res.err, "grub-script-check");
	tu_result_free(&res);
}

/*
 * The real grub-mkconfig with this system's 00_header and 10_linux over a
 * matrix of disk layouts and settings (tests/grub-diff.sh): every auto-vfio
 * entry's body equals 10_linux's advanced entry for that kernel, but for the
 * IOMMU parameters and one auto_vfio.bind=, both when the bodies are copied
 * from 10_linux's output and when they are built.
 */
AV_TEST_T(grub_entries_match_10_linux_on_every_layout, 600)
{
	static const char *const scenarios[] = {"separate-boot",
						"lvm",
						"luks",
						"btrfs-subvol",
						"efi-signed",
						"microcode",
						"early-custom",
						"savedefault-true",
						"savedefault-y",
						"ubuntu-switches",
						"gfxpayload-keep",
						"gfxpayload-text",
						"distributor",
						"disable-submenu",
						"top-level",
						"cmdline-empty",
						NULL};
	const char *argv[] = {"/bin/sh", tu_fmt("%s/tests/grub-diff.sh", tu_srcdir()),
			      tu_prog("auto-vfio-grub"), tu_fmt("%s/diff", tu_tmpdir()), NULL};
	struct tu_result res;
	int n = 0;

	if (geteuid() != 0)
		av_test_skip("needs root for unshare -m");
	if (access("/usr/sbin/grub-mkconfig", X_OK) != 0 ||
	    access("/etc/grub.d/10_linux", R_OK) != 0 || access("/usr/bin/unshare", X_OK) != 0)
		av_test_skip("needs grub-mkconfig and 10_linux (grub-common), unshare");
	tu_run(&res, argv, NULL, NULL);
	for (const char *const *sc = scenarios; *sc; sc++, n++) {
		CHECK_CONTAINS(res.out, tu_fmt("PASS %s file\n", *sc));
		CHECK_CONTAINS(res.out, tu_fmt("PASS %s pipe\n", *sc));
	}
	CHECK_MSG(res.status == 0, "%s%s", res.out, res.err);
	CHECK(n >= 12);
	tu_result_free(&res);
}

AV_TEST(grub_shim_runs_backend)
{
	const char *r = desktop();
	const char *argv[] = {"/usr/bin/grub-mkrelpath", "/boot", NULL};
	struct tu_result res;

	tu_run(&res, argv, NULL, NULL);
	if (res.status != 0)
		av_test_skip("grub-mkrelpath /boot does not work here");
	tu_result_free(&res);
	conf(r, BASE_CONF "select = 0000:02:00.0@1002:73bf\n");
	run_shim(&res, r, tu_prog("auto-vfio-grub"));
	CHECK_MSG(res.status == 0, "%s", res.err);
	CHECK_CONTAINS(res.out, "--id 'auto-vfio-host-0000:02:00.0' {");
	CHECK_CONTAINS(res.out, "/vmlinuz-" NEWEST " root=/dev/sda1 ro ");
	CHECK_INT(grub_check(res.out), 0);
	tu_result_free(&res);
}
