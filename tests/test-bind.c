// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The early binder, run as the real program on fake sysfs trees. Nothing in
 * a fake tree moves the driver links the way the kernel would, so the tests
 * look at what the binder wrote and what it reported.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <libkmod.h>

#include "ctx.h"
#include "kmodutil.h"
#include "lib/testsuite.h"
#include "lib/testutil.h"
#include "vfiobind.h"

#define NO_OVERRIDE "(null)\n"

/* A machine with the PCI bus's control files and vfio-pci registered. */
static const char *machine(void)
{
	const char *root = tu_fmt("%s/m", tu_tmpdir());

	tu_write(tu_fmt("%s/sys/bus/pci/drivers_probe", root), "");
	tu_write(tu_fmt("%s/sys/bus/pci/drivers/vfio-pci/bind", root), "");
	tu_write(tu_fmt("%s/sys/bus/pci/drivers/vfio-pci/unbind", root), "");
	tu_write(tu_fmt("%s/dev/kmsg", root), "");
	return root;
}

static void driver(const char *root, const char *name)
{
	char *d = tu_fmt("%s/sys/bus/pci/drivers/%s", root, name);

	if (!tu_exists(tu_fmt("%s/unbind", d))) {
		tu_write(tu_fmt("%s/bind", d), "");
		tu_write(tu_fmt("%s/unbind", d), "");
	}
}

/* One function the way the kernel lays it out, with relative links. */
static void dev(const char *root, const char *addr, const char *ids, const char *cls, int group,
		const char *drv)
{
	char *d = tu_fmt("%s/sys/bus/pci/devices/%s", root, addr);
	char ven[5], did[5];

	memcpy(ven, ids, 4);
	ven[4] = '\0';
	memcpy(did, ids + 5, 4);
	did[4] = '\0';
	tu_write(tu_fmt("%s/vendor", d), tu_fmt("0x%s\n", ven));
	tu_write(tu_fmt("%s/device", d), tu_fmt("0x%s\n", did));
	tu_write(tu_fmt("%s/class", d), tu_fmt("0x%s\n", cls));
	tu_write(tu_fmt("%s/driver_override", d), NO_OVERRIDE);
	if (group >= 0) {
		tu_symlink(tu_fmt("../../../../kernel/iommu_groups/%d", group),
			   tu_fmt("%s/iommu_group", d));
		tu_symlink(tu_fmt("../../../../bus/pci/devices/%s", addr),
			   tu_fmt("%s/sys/kernel/iommu_groups/%d/devices/%s", root, group, addr));
	}
	if (drv) {
		driver(root, drv);
		tu_symlink(tu_fmt("../../drivers/%s", drv), tu_fmt("%s/driver", d));
	}
}

static char *attr(const char *root, const char *rel)
{
	char *s = tu_read(tu_fmt("%s/%s", root, rel));

	CHECK_MSG(s, "%s/%s missing", root, rel);
	return s;
}

static char * override(const char *root, const char *addr)
{
	return attr(root, tu_fmt("sys/bus/pci/devices/%s/driver_override", addr));
}

static char *unbind(const char *root, const char *drv)
{
	return attr(root, tu_fmt("sys/bus/pci/drivers/%s/unbind", drv));
}

/* Run the binder on @root with @cmdline (NULL: the tree's proc/cmdline). Exit 0 always. */
static void run_bind(struct tu_result *r, const char *root, const char *cmdline)
{
	char *prog = tu_prog("auto-vfio-bind");
	const char *argv[] = {prog, "--root", root, "--cmdline", cmdline, NULL};

	if (!cmdline)
		argv[3] = NULL;
	tu_run(r, argv, NULL, NULL);
	CHECK_MSG(r->status == 0, "auto-vfio-bind exited %d\nstdout:\n%s\nstderr:\n%s", r->status,
		  r->out, r->err);
}

static char *kmsg(const char *root)
{
	return attr(root, "dev/kmsg");
}

/* A GPU with HDMI audio behind a root port that shares its group, and an unrelated NIC. */
static const char *gpu_machine(void)
{
	const char *root = machine();

	dev(root, "0000:00:01.0", "8086:1901", "060400", 1, "pcieport");
	dev(root, "0000:01:00.0", "10de:1b81", "030000", 1, "nouveau");
	dev(root, "0000:01:00.1", "10de:10f0", "040300", 1, "snd_hda_intel");
	dev(root, "0000:02:00.0", "8086:1533", "020000", 2, "igb");
	return root;
}

AV_TEST(bind_group_endpoints_written_bridge_left_alone)
{
	const char *root = gpu_machine();
	struct tu_result r;

	tu_write(tu_fmt("%s/proc/cmdline", root),
		 "BOOT_IMAGE=/vmlinuz ro quiet auto_vfio.bind=0000:01:00.0@10de:1b81\n");
	run_bind(&r, root, NULL);

	CHECK_STR(override(root, "0000:01:00.0"), "vfio-pci");
	CHECK_STR(override(root, "0000:01:00.1"), "vfio-pci");
	CHECK_STR(unbind(root, "nouveau"), "0000:01:00.0");
	CHECK_STR(unbind(root, "snd_hda_intel"), "0000:01:00.1");
	/* drivers_probe is written once per endpoint; the file keeps the last. */
	CHECK_STR(attr(root, "sys/bus/pci/drivers_probe"), "0000:01:00.1");

	/* The bridge and the other group: untouched. */
	CHECK_STR(override(root, "0000:00:01.0"), NO_OVERRIDE);
	CHECK_STR(unbind(root, "pcieport"), "");
	CHECK_STR(override(root, "0000:02:00.0"), NO_OVERRIDE);
	CHECK_STR(unbind(root, "igb"), "");

	/* One line for the group, naming both endpoints and the bridge. */
	char *log = kmsg(root);
	CHECK_CONTAINS(log, "auto-vfio: group 1:");
	CHECK_CONTAINS(log, "0000:01:00.0");
	CHECK_CONTAINS(log, "0000:01:00.1");
	CHECK_CONTAINS(log, "bridges left alone: 0000:00:01.0");
	/* Nothing made the fake driver links move, and the binder says so. */
	CHECK_CONTAINS(log, "still on nouveau");
	CHECK_INT(strchr(log, '\n') - log + 1, (long)strlen(log));
	CHECK_STR(r.err, "");
}

AV_TEST(bind_already_on_vfio_is_idempotent)
{
	const char *root = machine();
	struct tu_result r;

	dev(root, "0000:01:00.0", "10de:1b81", "030000", 1, "vfio-pci");
	dev(root, "0000:01:00.1", "10de:10f0", "040300", 1, "vfio-pci");
	tu_write(tu_fmt("%s/sys/bus/pci/devices/0000:01:00.0/driver_override", root), "vfio-pci\n");
	tu_write(tu_fmt("%s/sys/bus/pci/devices/0000:01:00.1/driver_override", root), "vfio-pci\n");

	for (int pass = 0; pass < 2; pass++) {
		run_bind(&r, root, "auto_vfio.bind=0000:01:00.0@10de:1b81");
		tu_result_free(&r);
	}
	CHECK_STR(attr(root, "sys/bus/pci/drivers_probe"), "");
	CHECK_STR(unbind(root, "vfio-pci"), "");
	CHECK_STR(override(root, "0000:01:00.0"), "vfio-pci\n");
	char *log = kmsg(root);
	CHECK_CONTAINS(log, "group 1: already on vfio-pci: 0000:01:00.0, 0000:01:00.1\n");
	CHECK_NOT_CONTAINS(log, "still on");
}

AV_TEST(bind_on_vfio_without_override_sets_it_only)
{
	const char *root = machine();
	struct tu_result r;

	/* Bound by hand earlier: pin it with the override, but do not unbind or probe. */
	dev(root, "0000:03:00.0", "1002:67df", "030000", 4, "vfio-pci");
	run_bind(&r, root, "auto_vfio.bind=0000:03:00.0@1002:67df");
	CHECK_STR(override(root, "0000:03:00.0"), "vfio-pci");
	CHECK_STR(unbind(root, "vfio-pci"), "");
	CHECK_STR(attr(root, "sys/bus/pci/drivers_probe"), "");
	CHECK_CONTAINS(kmsg(root), "group 4: bound to vfio-pci: 0000:03:00.0\n");
}

AV_TEST(bind_driverless_endpoint_probed_not_unbound)
{
	const char *root = machine();
	struct tu_result r;

	dev(root, "0000:05:00.0", "1b21:1242", "0c0330", 7, NULL);
	run_bind(&r, root, "auto_vfio.bind=0000:05:00.0@1b21:1242");
	CHECK_STR(override(root, "0000:05:00.0"), "vfio-pci");
	CHECK_STR(attr(root, "sys/bus/pci/drivers_probe"), "0000:05:00.0");
	CHECK_CONTAINS(kmsg(root), "group 7: NOT fully bound: 0000:05:00.0 (still on no driver)");
}

AV_TEST(bind_id_mismatch_touches_nothing_of_that_group)
{
	const char *root = gpu_machine();
	struct tu_result r;

	/* A card was swapped: the GPU's group stays with the host, the NIC's group goes on. */
	run_bind(&r, root,
		 "auto_vfio.bind=0000:01:00.0@10de:1b80 auto_vfio.bind=0000:02:00.0@8086:1533");
	CHECK_STR(override(root, "0000:01:00.0"), NO_OVERRIDE);
	CHECK_STR(override(root, "0000:01:00.1"), NO_OVERRIDE);
	CHECK_STR(unbind(root, "nouveau"), "");
	CHECK_STR(unbind(root, "snd_hda_intel"), "");
	CHECK_STR(override(root, "0000:02:00.0"), "vfio-pci");
	CHECK_STR(unbind(root, "igb"), "0000:02:00.0");
	CHECK_STR(attr(root, "sys/bus/pci/drivers_probe"), "0000:02:00.0");

	char *log = kmsg(root);
	CHECK_CONTAINS(log, "0000:01:00.0@10de:1b80: skipped: the device there is 10de:1b81");
	CHECK_CONTAINS(log, "group 2: ");
}

AV_TEST(bind_mismatch_vetoes_other_selector_in_group)
{
	const char *root = gpu_machine();
	struct tu_result r;

	/* The audio function still matches, but its GPU does not: the group is left whole. */
	run_bind(&r, root, "auto_vfio.bind=0000:01:00.1@10de:10f0,0000:01:00.0@10de:1b80");
	CHECK_STR(override(root, "0000:01:00.0"), NO_OVERRIDE);
	CHECK_STR(override(root, "0000:01:00.1"), NO_OVERRIDE);
	CHECK_STR(unbind(root, "snd_hda_intel"), "");
	CHECK_STR(attr(root, "sys/bus/pci/drivers_probe"), "");
	CHECK_CONTAINS(kmsg(root), "group 1: skipped");
}

AV_TEST(bind_two_selectors_one_group_bound_once)
{
	const char *root = gpu_machine();
	struct tu_result r;

	run_bind(&r, root, "auto_vfio.bind=0000:01:00.0@10de:1b81,0000:01:00.1@10DE:10F0");
	char *log = kmsg(root);
	char *first = strstr(log, "group 1:");

	CHECK(first);
	CHECK(!strstr(first + 1, "group 1:"));
	CHECK_STR(override(root, "0000:01:00.1"), "vfio-pci");
}

AV_TEST(bind_no_iommu_group_touches_nothing)
{
	const char *root = machine();
	struct tu_result r;

	/* IOMMU off: no groups, and an unbound device would stay driverless. */
	dev(root, "0000:01:00.0", "10de:1b81", "030000", -1, "nouveau");
	run_bind(&r, root, "auto_vfio.bind=0000:01:00.0@10de:1b81");
	CHECK_STR(override(root, "0000:01:00.0"), NO_OVERRIDE);
	CHECK_STR(unbind(root, "nouveau"), "");
	CHECK_STR(attr(root, "sys/bus/pci/drivers_probe"), "");
	CHECK_CONTAINS(kmsg(root), "0000:01:00.0@10de:1b81: skipped: no IOMMU group");
}

AV_TEST(bind_missing_device_reported)
{
	const char *root = gpu_machine();
	struct tu_result r;

	run_bind(&r, root, "auto_vfio.bind=0000:09:00.0@10de:1b81");
	CHECK_CONTAINS(kmsg(root),
		       "0000:09:00.0@10de:1b81: skipped: no PCI device at that address");
	CHECK_STR(attr(root, "sys/bus/pci/drivers_probe"), "");
}

AV_TEST(bind_off_binds_nothing)
{
	const char *root = gpu_machine();
	struct tu_result r;

	run_bind(&r, root, "auto_vfio.bind=0000:01:00.0@10de:1b81 auto_vfio=off");
	CHECK_STR(override(root, "0000:01:00.0"), NO_OVERRIDE);
	CHECK_STR(unbind(root, "nouveau"), "");
	CHECK_STR(attr(root, "sys/bus/pci/drivers_probe"), "");
	CHECK_CONTAINS(kmsg(root), "auto_vfio=off");
}

AV_TEST(bind_nothing_requested_is_silent)
{
	const char *root = gpu_machine();
	struct tu_result r;

	tu_write(tu_fmt("%s/proc/cmdline", root), "BOOT_IMAGE=/vmlinuz ro quiet\n");
	run_bind(&r, root, NULL);
	CHECK_STR(kmsg(root), "");
	CHECK_STR(r.err, "");
	CHECK_STR(attr(root, "sys/bus/pci/drivers_probe"), "");
}

AV_TEST(bind_malformed_reported_rest_bound)
{
	const char *root = gpu_machine();
	struct tu_result r;

	run_bind(&r, root, "auto_vfio.bind=0000:02:00.0@8086:1533,0000:01:00.0=10de:1b81");
	char *log = kmsg(root);
	CHECK_CONTAINS(log, "malformed selector \"0000:01:00.0=10de:1b81\"");
	CHECK_STR(override(root, "0000:02:00.0"), "vfio-pci");
	CHECK_STR(override(root, "0000:01:00.0"), NO_OVERRIDE);
}

AV_TEST(bind_unreadable_member_stops_group)
{
	const char *root = gpu_machine();
	struct tu_result r;

	/* A member whose class cannot be read: the whole group is left alone. */
	unlink(tu_fmt("%s/sys/bus/pci/devices/0000:01:00.1/class", root));
	run_bind(&r, root, "auto_vfio.bind=0000:01:00.0@10de:1b81");
	CHECK_STR(override(root, "0000:01:00.0"), NO_OVERRIDE);
	CHECK_STR(unbind(root, "nouveau"), "");
	CHECK_CONTAINS(kmsg(root), "group 1: not bound:");
	CHECK_CONTAINS(kmsg(root), "nothing touched");
}

AV_TEST(bind_failed_override_means_no_unbind)
{
	const char *root = gpu_machine();
	struct tu_result r;

	/* An old kernel without driver_override: unbinding would only hand the device back. */
	unlink(tu_fmt("%s/sys/bus/pci/devices/0000:01:00.1/driver_override", root));
	run_bind(&r, root, "auto_vfio.bind=0000:01:00.0@10de:1b81");
	CHECK_STR(unbind(root, "snd_hda_intel"), "");
	CHECK_CONTAINS(kmsg(root), "0000:01:00.1 (driver_override failed");
	CHECK_CONTAINS(kmsg(root), "NOT fully bound");
}

AV_TEST(bind_no_vfio_driver_in_fake_root_touches_nothing)
{
	const char *root = gpu_machine();
	struct tu_result r;

	/* vfio-pci not registered, and a fake root never loads modules into this kernel. */
	unlink(tu_fmt("%s/sys/bus/pci/drivers/vfio-pci/bind", root));
	unlink(tu_fmt("%s/sys/bus/pci/drivers/vfio-pci/unbind", root));
	CHECK(rmdir(tu_fmt("%s/sys/bus/pci/drivers/vfio-pci", root)) == 0);
	run_bind(&r, root, "auto_vfio.bind=0000:01:00.0@10de:1b81");
	CHECK_STR(override(root, "0000:01:00.0"), NO_OVERRIDE);
	CHECK_STR(unbind(root, "nouveau"), "");
	CHECK_CONTAINS(kmsg(root), "group 1: skipped: vfio-pci unavailable");
	CHECK_CONTAINS(kmsg(root), "is vfio-pci in the initramfs? (update-initramfs -u)");
	/* inside a dracut initramfs the hint names dracut */
	tu_mkdirs(tu_fmt("%s/usr/lib/dracut/hooks", root));
	run_bind(&r, root, "auto_vfio.bind=0000:01:00.0@10de:1b81");
	CHECK_CONTAINS(kmsg(root),
		       "is vfio-pci in the initramfs? (dracut --regenerate-all --force)");
}

AV_TEST(bind_no_kmsg_falls_back_to_stderr)
{
	const char *root = gpu_machine();
	struct tu_result r;

	unlink(tu_fmt("%s/dev/kmsg", root));
	run_bind(&r, root, "auto_vfio.bind=0000:01:00.0@10de:1b81");
	CHECK_CONTAINS(r.err, "auto-vfio: group 1:");
	CHECK(!tu_exists(tu_fmt("%s/dev/kmsg", root)));
}

AV_TEST(bind_verbose_also_on_stderr)
{
	const char *root = gpu_machine();
	char *prog = tu_prog("auto-vfio-bind");
	const char *argv[] = {prog, "--verbose", "--root",
			      root, "--cmdline", "auto_vfio.bind=0000:02:00.0@8086:1533",
			      NULL};
	struct tu_result r;

	tu_run(&r, argv, NULL, NULL);
	CHECK_INT(r.status, 0);
	CHECK_CONTAINS(r.err, "auto-vfio: group 2:");
	CHECK_CONTAINS(kmsg(root), "auto-vfio: group 2:");
}

AV_TEST(bind_root_from_environment)
{
	const char *root = gpu_machine();
	char *prog = tu_prog("auto-vfio-bind");
	const char *argv[] = {prog, "--cmdline", "auto_vfio.bind=0000:02:00.0@8086:1533", NULL};
	const char *env[] = {tu_fmt("AUTO_VFIO_ROOT=%s", root), NULL};
	struct tu_result r;

	tu_run(&r, argv, env, NULL);
	CHECK_INT(r.status, 0);
	CHECK_STR(override(root, "0000:02:00.0"), "vfio-pci");
}

AV_TEST(bind_always_exits_zero)
{
	char *prog = tu_prog("auto-vfio-bind");
	const char *missing = tu_fmt("%s/no-such-root", tu_tmpdir());
	const char *empty = tu_fmt("%s/empty", tu_tmpdir());
	struct tu_result r;

	const char *a1[] = {prog, "--root", missing, NULL};
	tu_run(&r, a1, NULL, NULL);
	CHECK_INT(r.status, 0);
	CHECK_CONTAINS(r.err, "no-such-root");
	tu_result_free(&r);

	/* No proc/cmdline in the tree: reported with its path. */
	tu_mkdirs(empty);
	const char *a2[] = {prog, "--root", empty, "--bogus", NULL};
	tu_run(&r, a2, NULL, NULL);
	CHECK_INT(r.status, 0);
	CHECK_CONTAINS(r.err, "--bogus");
	CHECK_CONTAINS(r.err, "/proc/cmdline");
	tu_result_free(&r);

	/* Selectors for a machine with no sysfs at all. */
	const char *a3[] = {prog,
			    "--root",
			    empty,
			    "--cmdline",
			    "auto_vfio.bind=0000:01:00.0@10de:1b81,junk auto_vfio.bind=\"",
			    NULL};
	tu_run(&r, a3, NULL, NULL);
	CHECK_INT(r.status, 0);
	CHECK_CONTAINS(r.err, "no PCI device");
	tu_result_free(&r);
}

AV_TEST(bind_fixture_trees_with_absolute_links)
{
	const char *root = machine();
	struct tu_result r;
	char *d = tu_fmt("%s/sys/bus/pci/devices/0000:0a:00.0", root);

	/* Links absolute within the prefix, as some fixture builders make them. */
	tu_write(tu_fmt("%s/vendor", d), "0x1002\n");
	tu_write(tu_fmt("%s/device", d), "0x67df\n");
	tu_write(tu_fmt("%s/class", d), "0x030000\n");
	tu_write(tu_fmt("%s/driver_override", d), NO_OVERRIDE);
	driver(root, "amdgpu");
	tu_symlink(tu_fmt("%s/sys/bus/pci/drivers/amdgpu", root), tu_fmt("%s/driver", d));
	tu_symlink(tu_fmt("%s/sys/kernel/iommu_groups/12", root), tu_fmt("%s/iommu_group", d));
	tu_symlink(d, tu_fmt("%s/sys/kernel/iommu_groups/12/devices/0000:0a:00.0", root));
	run_bind(&r, root, "auto_vfio.bind=0000:0A:00.0@1002:67DF");
	CHECK_STR(override(root, "0000:0a:00.0"), "vfio-pci");
	CHECK_STR(unbind(root, "amdgpu"), "0000:0a:00.0");
	CHECK_CONTAINS(kmsg(root), "group 12:");
}

/* libkmod with a modules directory under the root: a built-in vfio-pci needs no loading. */
AV_TEST(bind_kmod_builtin_under_root)
{
	const char *root = tu_fmt("%s/k", tu_tmpdir());
	const char *rel = "6.1.0-99-amd64";
	char *moddir = tu_fmt("%s/lib/modules/%s", root, rel);
	const char *depmod_argv[] = {"/sbin/depmod", "-b", root, rel, NULL};
	struct kmod_ctx *kctx = NULL;
	struct tu_result r;
	struct av_ctx ctx;

	if (!tu_exists("/sbin/depmod"))
		av_test_skip("no /sbin/depmod");
	tu_write(tu_fmt("%s/modules.builtin", moddir), "kernel/drivers/vfio/pci/vfio-pci.ko\n");
	tu_write(tu_fmt("%s/modules.order", moddir), "");
	tu_run(&r, depmod_argv, NULL, NULL);
	CHECK_MSG(r.status == 0, "depmod: %s", r.err);
	CHECK(tu_exists(tu_fmt("%s/modules.builtin.bin", moddir)));

	CHECK_INT(av_ctx_init(&ctx, root), 0);
	CHECK_INT(av_kmod_new(&ctx, rel, &kctx), 0);
	CHECK_INT(av_kmod_ensure(&ctx, kctx, "vfio-pci"), 0);
	CHECK_INT(av_kmod_ensure(&ctx, kctx, "vfio_pci"), 0);
	/* Not built in, not loaded in this fake root: never inserted into the running kernel. */
	CHECK_INT(av_kmod_ensure(&ctx, kctx, "nouveau"), -EROFS);
	/* Loaded, as the fake root's sysfs says. */
	tu_write(tu_fmt("%s/sys/module/nouveau/initstate", root), "live\n");
	CHECK_INT(av_kmod_ensure(&ctx, kctx, "nouveau"), 0);
	kmod_unref(kctx);
}

/* Which module claims a modalias, from an index the real depmod built under the root. */
AV_TEST(bind_kmod_lookup_alias_under_root)
{
	static const char modinfo[] = "ahci.alias=pci:v*d*sv*sd*bc01sc06i01\0"
				      "ahci.license=GPL\0"
				      "snd_hda_intel.alias=pci:v00008086d00002668sv*sd*bc*sc*i*\0";
	const char *root = tu_fmt("%s/k", tu_tmpdir());
	const char *rel = "6.1.0-99-amd64";
	char *moddir = tu_fmt("%s/lib/modules/%s", root, rel);
	const char *depmod_argv[] = {"/sbin/depmod", "-b", root, rel, NULL};
	char names[2][AV_MODNAME_LEN];
	struct kmod_ctx *kctx = NULL;
	struct tu_result r;
	struct av_ctx ctx;
	FILE *f;

	if (!tu_exists("/sbin/depmod"))
		av_test_skip("no /sbin/depmod");
	tu_write(tu_fmt("%s/modules.builtin", moddir),
		 "kernel/drivers/ata/ahci.ko\nkernel/sound/pci/hda/snd-hda-intel.ko\n");
	tu_write(tu_fmt("%s/modules.order", moddir), "");
	f = fopen(tu_fmt("%s/modules.builtin.modinfo", moddir), "w");
	CHECK(f);
	CHECK(fwrite(modinfo, 1, sizeof(modinfo) - 1, f) == sizeof(modinfo) - 1);
	CHECK(fclose(f) == 0);
	tu_run(&r, depmod_argv, NULL, NULL);
	CHECK_MSG(r.status == 0, "depmod: %s", r.err);

	CHECK_INT(av_ctx_init(&ctx, root), 0);
	CHECK_INT(av_kmod_new(&ctx, rel, &kctx), 0);
	CHECK_INT(av_kmod_lookup_alias(&ctx, kctx,
				       "pci:v00008086d00002922sv00001AF4sd00001100bc01sc06i01",
				       names, 2),
		  1);
	CHECK_STR(names[0], "ahci");
	CHECK_INT(av_kmod_lookup_alias(&ctx, kctx,
				       "pci:v00008086d00002668sv00001AF4sd00001100bc04sc03i00",
				       names, 2),
		  1);
	CHECK_STR(names[0], "snd_hda_intel");
	CHECK_INT(av_kmod_lookup_alias(&ctx, kctx,
				       "pci:v000010DEd00001B81sv00001043sd00008599bc03sc00i00",
				       names, 2),
		  0);
	kmod_unref(kctx);
}

/* What the dynamic loader mapped during one run of the binder (LD_DEBUG=files). */
static char *libs_opened(const char *root, const char *cmdline, const char *tag)
{
	char *prog = tu_prog("auto-vfio-bind");
	char *dir = tu_fmt("%s/ld-%s", tu_tmpdir(), tag);
	const char *argv[] = {prog, "--root", root, "--cmdline", cmdline, NULL};
	const char *env[] = {"LD_DEBUG=files", tu_fmt("LD_DEBUG_OUTPUT=%s/log", dir), NULL};
	const char *cat[] = {"/bin/sh", "-c", tu_fmt("cat %s/log.*", dir), NULL};
	struct tu_result r;
	char *out;

	CHECK(mkdir(dir, 0755) == 0);
	tu_run(&r, argv, env, NULL);
	CHECK_INT(r.status, 0);
	tu_result_free(&r);
	tu_run(&r, cat, NULL, NULL);
	CHECK_INT(r.status, 0);
	CHECK_CONTAINS(r.out, "libc.so"); /* the log is there */
	out = tu_fmt("%s", r.out);
	tu_result_free(&r);
	return out;
}

/* vfio-pci registered (built in, or the second pass): no library beyond libc, no module lookup. */
AV_TEST(bind_opens_libkmod_only_to_load_vfio)
{
	const char *root = machine();
	const char *bare = tu_fmt("%s/bare", tu_tmpdir());
	const char *sel = "auto_vfio.bind=0000:01:00.0@10de:1b81";
	char *libs;

	dev(root, "0000:01:00.0", "10de:1b81", "030000", 1, NULL);
	libs = libs_opened(root, sel, "registered");
	CHECK_NOT_CONTAINS(libs, "libkmod");
	CHECK_NOT_CONTAINS(libs, "libcrypto");
	CHECK_STR(override(root, "0000:01:00.0"), "vfio-pci");

	/* Not registered: libkmod is opened to load it (a fake root never inserts). */
	tu_write(tu_fmt("%s/sys/bus/pci/drivers_probe", bare), "");
	tu_write(tu_fmt("%s/dev/kmsg", bare), "");
	dev(bare, "0000:01:00.0", "10de:1b81", "030000", 1, NULL);
	libs = libs_opened(bare, sel, "bare");
	CHECK_CONTAINS(libs, "libkmod.so.2");
	CHECK_CONTAINS(kmsg(bare), "vfio-pci unavailable");
	CHECK_STR(override(bare, "0000:01:00.0"), NO_OVERRIDE);
}

/* The initramfs hook asks the binder which libkmod it opens. */
AV_TEST(bind_prints_libkmod_path)
{
	const char *argv[] = {tu_prog("auto-vfio-bind"), "--print-libkmod", NULL};
	struct tu_result r;

	tu_run(&r, argv, NULL, NULL);
	CHECK_INT(r.status, 0);
	CHECK_CONTAINS(r.out, "/libkmod.so.2\n");
	r.out[strcspn(r.out, "\n")] = '\0';
	CHECK(tu_exists(r.out));
	tu_result_free(&r);
}

/*
 * The init-premount pass starts the binder only when it has work: its
 * 'check' verb answers with shell builtins whether every endpoint of the
 * named groups is on vfio-pci already.
 */
static int premount_check(const char *root, const char *cmdline)
{
	char *script = tu_fmt("%s/initramfs-tools/scripts/init-premount/auto-vfio", tu_srcdir());
	const char *argv[] = {"/bin/sh", script, "check", NULL};
	const char *env[] = {tu_fmt("AUTO_VFIO_ROOT=%s", root), NULL};
	struct tu_result r;
	int st;

	tu_write(tu_fmt("%s/proc/cmdline", root), cmdline);
	tu_run(&r, argv, env, NULL);
	st = r.status;
	CHECK_STR(r.out, "");
	tu_result_free(&r);
	return st;
}

AV_TEST(bind_premount_pass_skips_only_finished_groups)
{
	const char *root = machine();
	const char *sel = "ro auto_vfio.bind=0000:01:00.0@10de:1b81 quiet\n";

	dev(root, "0000:00:01.0", "8086:1901", "060400", 1, "pcieport");
	dev(root, "0000:01:00.0", "10de:1b81", "030000", 1, "vfio-pci");
	dev(root, "0000:01:00.1", "10de:10f0", "040300", 1, "snd_hda_intel");
	dev(root, "0000:02:00.0", "10de:1b81", "030000", 2, "nouveau");
	/* the audio function is still on its driver: the binder has work */
	CHECK_INT(premount_check(root, sel), 1);
	unlink(tu_fmt("%s/sys/bus/pci/devices/0000:01:00.1/driver", root));
	/* driverless is not done either (vfio-pci may have come late) */
	CHECK_INT(premount_check(root, sel), 1);
	tu_symlink("../../drivers/vfio-pci",
		   tu_fmt("%s/sys/bus/pci/devices/0000:01:00.1/driver", root));
	/* every endpoint on vfio-pci, the bridge on its own driver: nothing to do */
	CHECK_INT(premount_check(root, sel), 0);
	/* nothing asked, or binding off: nothing to do */
	CHECK_INT(premount_check(root, "ro quiet\n"), 0);
	CHECK_INT(premount_check(root, "auto_vfio=off auto_vfio.bind=0000:02:00.0@10de:1b81\n"), 0);
	/* after "--" the words are init's */
	CHECK_INT(premount_check(root, "auto_vfio.bind=0000:01:00.0@10de:1b81 -- auto_vfio=off "
				       "auto_vfio.bind=0000:02:00.0@10de:1b81\n"),
		  0);
	CHECK_INT(premount_check(root, "auto_vfio.bind=0000:02:00.0@10de:1b81 -- auto_vfio=off\n"),
		  1);
	/* work before the kill switch: the binder decides (and binds nothing) */
	CHECK_INT(premount_check(root, "auto_vfio.bind=0000:02:00.0@10de:1b81 auto_vfio=off\n"), 1);
	/* a second group not bound, an ID that no longer matches, a missing
	 * device, a malformed selector: the binder has something to say */
	CHECK_INT(premount_check(root, "auto_vfio.bind=0000:01:00.0@10de:1b81,"
				       "0000:02:00.0@10de:1b81\n"),
		  1);
	CHECK_INT(premount_check(root, "auto_vfio.bind=0000:01:00.0@10de:1b82\n"), 1);
	CHECK_INT(premount_check(root, "auto_vfio.bind=0000:05:00.0@10de:1b81\n"), 1);
	CHECK_INT(premount_check(root, "auto_vfio.bind=01:00.0@10de:1b81\n"), 1);
	CHECK_INT(premount_check(root, "auto-vfio.bind=0000:01:00.0@10de:1b81\n"), 0);
	/* a selector with glob characters is taken literally */
	CHECK_INT(premount_check(root, "auto_vfio.bind=0000:0*:00.0@10de:1b81\n"), 1);
}

/*
 * A pass that finished everything for the boot's command line leaves a
 * record (the PCI device count); a pass with anything left over leaves
 * none and removes an older one; a pass given --cmdline serves no boot and
 * leaves the record alone.
 */
AV_TEST(bind_complete_pass_leaves_record_partial_removes_it)
{
	const char *root = machine();
	const char *rec = tu_fmt("%s/run/auto-vfio/bound", root);
	const char *on_vfio = "ro auto_vfio.bind=0000:01:00.0@10de:1b81 quiet\n";
	struct tu_result r;

	tu_mkdirs(tu_fmt("%s/run", root));
	dev(root, "0000:00:01.0", "8086:1901", "060400", 1, "pcieport");
	dev(root, "0000:01:00.0", "10de:1b81", "030000", 1, "vfio-pci");
	dev(root, "0000:01:00.1", "10de:10f0", "040300", 1, "vfio-pci");
	dev(root, "0000:02:00.0", "10de:1b81", "030000", 2, "nouveau");

	tu_write(tu_fmt("%s/proc/cmdline", root), on_vfio);
	run_bind(&r, root, NULL);
	tu_result_free(&r);
	CHECK_STR(attr(root, "run/auto-vfio/bound"), "4\n");

	/* not the boot's command line: neither written nor removed */
	run_bind(&r, root, "auto_vfio.bind=0000:02:00.0@10de:1b81");
	tu_result_free(&r);
	CHECK(tu_exists(rec));
	unlink(rec);
	run_bind(&r, root, on_vfio);
	tu_result_free(&r);
	CHECK(!tu_exists(rec));

	/* the fake driver link of 02:00.0 never moves: not finished */
	tu_write(tu_fmt("%s/proc/cmdline", root), on_vfio);
	run_bind(&r, root, NULL);
	tu_result_free(&r);
	CHECK(tu_exists(rec));
	tu_write(tu_fmt("%s/proc/cmdline", root), "auto_vfio.bind=0000:02:00.0@10de:1b81\n");
	run_bind(&r, root, NULL);
	tu_result_free(&r);
	CHECK(!tu_exists(rec));

	/* a selector that fails its check, or a malformed one: not finished */
	tu_write(tu_fmt("%s/proc/cmdline", root),
		 "auto_vfio.bind=0000:01:00.0@10de:1b81,0000:07:00.0@10de:1b81\n");
	run_bind(&r, root, NULL);
	tu_result_free(&r);
	CHECK(!tu_exists(rec));
	tu_write(tu_fmt("%s/proc/cmdline", root),
		 "auto_vfio.bind=0000:01:00.0@10de:1b81,01:00.0\n");
	run_bind(&r, root, NULL);
	tu_result_free(&r);
	CHECK(!tu_exists(rec));

	/* binding off, or nothing asked: no record either */
	tu_write(tu_fmt("%s/proc/cmdline", root),
		 "auto_vfio=off auto_vfio.bind=0000:01:00.0@10de:1b81\n");
	run_bind(&r, root, NULL);
	tu_result_free(&r);
	CHECK(!tu_exists(rec));
}

/*
 * The init-premount pass trusts a record only while the number of PCI
 * devices is the same; anything else is checked in full.
 */
AV_TEST(bind_premount_pass_trusts_matching_record_only)
{
	const char *root = machine();
	const char *sel = "ro auto_vfio.bind=0000:01:00.0@10de:1b81 quiet\n";
	const char *rec = tu_fmt("%s/run/auto-vfio/bound", root);

	dev(root, "0000:01:00.0", "10de:1b81", "030000", 1, "vfio-pci");
	/* left on its driver: the full check would start the binder */
	dev(root, "0000:01:00.1", "10de:10f0", "040300", 1, "snd_hda_intel");
	CHECK_INT(premount_check(root, sel), 1);

	tu_write(rec, "2\n");
	CHECK_INT(premount_check(root, sel), 0);
	/* a device appeared since */
	dev(root, "0000:03:00.0", "8086:1533", "020000", 3, "igb");
	CHECK_INT(premount_check(root, sel), 1);
	tu_write(rec, "3\n");
	CHECK_INT(premount_check(root, sel), 0);
	/* a damaged record */
	tu_write(rec, "3x\n");
	CHECK_INT(premount_check(root, sel), 1);
	tu_write(rec, "");
	CHECK_INT(premount_check(root, sel), 1);
}
