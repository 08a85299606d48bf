// SPDX-License-Identifier: GPL-2.0-or-later
/* The model, the safety policy and `auto-vfio list` on small hand-made machines. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctx.h"
#include "lib/testroot.h"
#include "lib/testsuite.h"
#include "lib/testutil.h"
#include "machine.h"
#include "safety.h"

/* One device the way the kernel lays it out, with relative links. */
static void dev(const char *root, const char *addr, const char *ven, const char *did,
		const char *cls, int group, const char *driver)
{
	char *d = tu_fmt("%s/sys/bus/pci/devices/%s", root, addr);

	tu_write(tu_fmt("%s/vendor", d), tu_fmt("0x%s\n", ven));
	tu_write(tu_fmt("%s/device", d), tu_fmt("0x%s\n", did));
	tu_write(tu_fmt("%s/class", d), tu_fmt("0x%s\n", cls));
	if (group >= 0) {
		tu_symlink(tu_fmt("../../../../kernel/iommu_groups/%d", group),
			   tu_fmt("%s/iommu_group", d));
		tu_symlink(tu_fmt("../../../../bus/pci/devices/%s", addr),
			   tu_fmt("%s/sys/kernel/iommu_groups/%d/devices/%s", root, group, addr));
	}
	if (driver) {
		tu_mkdirs(tu_fmt("%s/sys/bus/pci/drivers/%s", root, driver));
		tu_symlink(tu_fmt("../../../../bus/pci/drivers/%s", driver),
			   tu_fmt("%s/driver", d));
	}
}

static struct av_machine *load(const char *root)
{
	struct av_machine *m = NULL;
	struct av_ctx ctx;

	CHECK_INT(av_ctx_init(&ctx, root), 0);
	CHECK_INT(av_machine_load(&ctx, NULL, &m), 0);
	CHECK(m != NULL);
	CHECK_INT(av_analyze(&ctx, m), 0);
	return m;
}

static const struct av_group *group_of(const struct av_machine *m, const char *addr)
{
	struct av_pci_addr a;
	const struct av_dev *d;

	CHECK_INT(av_pci_addr_parse(addr, false, &a), 0);
	d = av_machine_find(m, &a);
	CHECK_MSG(d != NULL, "%s not found", addr);
	CHECK(d->group_idx != AV_NONE);
	return &m->groups[d->group_idx];
}

static bool any_contains(char **v, size_t n, const char *needle)
{
	for (size_t i = 0; i < n; i++)
		if (strstr(v[i], needle))
			return true;
	return false;
}

/* A desktop: chipset group with a GPU, a clean GPU behind its root port, a Navi split. */
static const char *desktop(void)
{
	const char *r = tu_tmpdir();

	dev(r, "0000:00:00.0", "1022", "1480", "060000", 0, NULL);
	dev(r, "0000:00:14.0", "1022", "790b", "0c0500", 1, "piix4_smbus");
	dev(r, "0000:00:14.3", "1022", "790e", "060100", 1, NULL);
	dev(r, "0000:00:01.1", "1022", "1483", "060400", 2, "pcieport");
	dev(r, "0000:01:00.0", "10de", "1e84", "030000", 2, "nouveau");
	dev(r, "0000:01:00.1", "10de", "10f8", "040300", 2, "snd_hda_intel");
	dev(r, "0000:01:00.2", "10de", "1ad8", "0c0330", 2, "xhci_hcd");
	dev(r, "0000:02:00.0", "1022", "43ee", "0c0330", 3, "xhci_hcd");
	dev(r, "0000:02:00.1", "1022", "43eb", "010601", 3, "ahci");
	dev(r, "0000:03:00.0", "10de", "128b", "030000", 3, "nouveau");
	dev(r, "0000:03:00.1", "10de", "0e0f", "040300", 3, "snd_hda_intel");
	dev(r, "0000:05:00.0", "10de", "128b", "030000", 4, "nouveau");
	dev(r, "0000:0c:00.0", "1002", "73bf", "030000", 7, "amdgpu");
	dev(r, "0000:0c:00.1", "1002", "ab28", "040300", 8, "snd_hda_intel");
	tu_write(tu_fmt("%s/sys/bus/pci/devices/0000:03:00.0/boot_vga", r), "1\n");
	return r;
}

AV_TEST(machine_load_groups_and_drivers)
{
	struct av_machine *m = load(desktop());
	struct av_pci_addr a;
	const struct av_dev *d;

	CHECK(m->iommu);
	CHECK_INT(m->ndevs, 14);
	CHECK_INT(m->ngroups, 7);
	/* group numbers have gaps and come in order */
	CHECK_INT(m->groups[5].id, 7);
	CHECK_INT(m->groups[6].id, 8);
	av_pci_addr_parse("0000:01:00.1", false, &a);
	d = av_machine_find(m, &a);
	CHECK(d != NULL);
	CHECK_INT(d->cls, 0x0403);
	CHECK_INT(d->vendor, 0x10de);
	CHECK_INT(d->device, 0x10f8);
	CHECK_STR(d->driver, "snd_hda_intel");
	CHECK_INT(d->group, 2);
	av_pci_addr_parse("0000:00:00.0", false, &a);
	CHECK_STR(av_machine_find(m, &a)->driver, "");
	CHECK(m->boot_vga != AV_NONE);
	CHECK_STR(m->devs[m->boot_vga].address, "0000:03:00.0");
	av_machine_free(m);
}

AV_TEST(safety_platform_group_unsafe)
{
	struct av_machine *m = load(desktop());
	const struct av_group *g = group_of(m, "0000:00:14.0");

	CHECK(!g->safe);
	CHECK(any_contains(g->reasons, g->nreasons, "0000:00:14.0"));
	CHECK(any_contains(g->reasons, g->nreasons, "0000:00:14.3"));
	CHECK(!group_of(m, "0000:00:00.0")->safe);
	av_machine_free(m);
}

AV_TEST(safety_gpu_with_root_port_and_functions_safe)
{
	struct av_machine *m = load(desktop());
	const struct av_group *g = group_of(m, "0000:01:00.0");

	CHECK_MSG(g->safe, "reason: %s", g->nreasons ? g->reasons[0] : "");
	CHECK_INT(g->nreasons, 0);
	av_machine_free(m);
}

AV_TEST(safety_gpu_in_chipset_group_names_devices)
{
	struct av_machine *m = load(desktop());
	const struct av_group *g = group_of(m, "0000:03:00.0");

	CHECK(!g->safe);
	CHECK_INT(g->nreasons, 1);
	CHECK_CONTAINS(g->reasons[0], "0000:02:00.0");
	CHECK_CONTAINS(g->reasons[0], "0000:02:00.1");
	/* the GPU's own audio function is not unrelated */
	CHECK_NOT_CONTAINS(g->reasons[0], "0000:03:00.1");
	CHECK(any_contains(g->notes, g->nnotes, "boot VGA"));
	av_machine_free(m);
}

AV_TEST(safety_identical_gpus_and_split_companion)
{
	struct av_machine *m = load(desktop());
	struct av_pci_addr a;
	const struct av_dev *gpu, *audio;
	size_t groups[8];
	int n;

	av_pci_addr_parse("0000:05:00.0", false, &a);
	CHECK(av_machine_find(m, &a)->identical_id);
	av_pci_addr_parse("0000:01:00.0", false, &a);
	CHECK(!av_machine_find(m, &a)->identical_id);

	av_pci_addr_parse("0000:0c:00.0", false, &a);
	gpu = av_machine_find(m, &a);
	av_pci_addr_parse("0000:0c:00.1", false, &a);
	audio = av_machine_find(m, &a);
	CHECK(gpu && audio);
	CHECK_INT(audio->companion_of, gpu - m->devs);
	CHECK(group_of(m, "0000:0c:00.0")->safe);

	n = av_group_closure(m, gpu->group_idx, groups, 8);
	CHECK_INT(n, 2);
	CHECK_INT(groups[0], gpu->group_idx);
	CHECK_INT(groups[1], audio->group_idx);
	/* from the audio side the GPU comes along too */
	n = av_group_closure(m, audio->group_idx, groups, 8);
	CHECK_INT(n, 2);
	CHECK_INT(groups[1], gpu->group_idx);
	CHECK_INT(av_group_closure(m, gpu->group_idx, groups, 1), -E2BIG);
	av_machine_free(m);
}

AV_TEST(hostfacts_root_disk_controller_unsafe)
{
	const char *r = desktop();
	struct av_machine *m;
	const struct av_group *g;

	/* / on an LVM volume over a partition of a disk behind 0000:02:00.1 (AHCI) */
	tu_root_add(r, "lvm-root-on-ahci");
	m = load(r);
	g = group_of(m, "0000:02:00.1");
	CHECK(!g->safe);
	CHECK(any_contains(g->reasons, g->nreasons, "0000:02:00.1"));
	CHECK(any_contains(g->reasons, g->nreasons, "root or boot filesystem"));
	CHECK(!any_contains(m->notes, m->nnotes, "mountinfo"));
	av_machine_free(m);
}

AV_TEST(hostfacts_unknown_without_tables)
{
	struct av_machine *m = load(desktop());

	CHECK(any_contains(m->notes, m->nnotes, "mountinfo"));
	CHECK(any_contains(m->notes, m->nnotes, "route"));
	av_machine_free(m);
}

static void run_list(struct tu_result *res, const char *root, const char *extra)
{
	char *prog = tu_prog("auto-vfio");
	const char *argv[] = {prog, "--root", root, "list", extra, NULL};

	tu_run(res, argv, NULL, NULL);
}

AV_TEST(list_human_marks_unsafe_and_boot_vga)
{
	struct tu_result res;

	run_list(&res, desktop(), "--all");
	CHECK_INT(res.status, 0);
	CHECK_CONTAINS(res.out, "IOMMU group 3  [UNSAFE]");
	CHECK_CONTAINS(res.out, "IOMMU group 2  [ok]");
	CHECK_CONTAINS(res.out, "[boot VGA]");
	CHECK_CONTAINS(res.out, "[10de:128b]");
	CHECK_NOT_CONTAINS(res.out, "\033[");
	tu_result_free(&res);
}

AV_TEST(list_json_contract)
{
	struct tu_result res;

	run_list(&res, desktop(), "--json");
	CHECK_INT(res.status, 0);
	CHECK_CONTAINS(res.out, "{\"iommu\": true, \"groups\": [");
	CHECK_CONTAINS(res.out, "{\"id\": 3, \"devices\": [");
	CHECK_CONTAINS(res.out, "{\"address\": \"0000:03:00.0\", \"class\": \"0300\", \"vendor\": "
				"\"10de\", \"device\": \"128b\", \"driver\": \"nouveau\", "
				"\"boot_vga\": true, \"name\": ");
	CHECK_CONTAINS(res.out, "\"driver\": null");
	tu_result_free(&res);
}

AV_TEST(list_no_iommu_distinct_status)
{
	const char *r = tu_tmpdir();
	struct tu_result res;

	dev(r, "0000:00:02.0", "8086", "3e92", "030000", -1, "i915");
	run_list(&res, r, "--no-color");
	CHECK_INT(res.status, 3);
	CHECK_CONTAINS(res.out, "0000:00:02.0");
	CHECK_CONTAINS(res.out, "intel_iommu=on");
	CHECK_CONTAINS(res.err, "no IOMMU groups");
	tu_result_free(&res);
}

AV_TEST(list_bad_input_named_and_skipped)
{
	const char *r = desktop();
	struct tu_result res;

	tu_write(tu_fmt("%s/sys/bus/pci/devices/0000:05:00.0/class", r), "garbage\n");
	unlink(tu_fmt("%s/sys/bus/pci/devices/0000:02:00.0/vendor", r));
	/* a dangling driver link: the driver directory is gone */
	tu_symlink("../../../../bus/pci/drivers/gone",
		   tu_fmt("%s/sys/bus/pci/devices/0000:00:00.0/driver", r));
	run_list(&res, r, "--json");
	CHECK_INT(res.status, 0);
	CHECK_CONTAINS(res.err, "0000:05:00.0/class");
	CHECK_CONTAINS(res.err, "0000:02:00.0/vendor");
	CHECK_NOT_CONTAINS(res.out, "0000:05:00.0");
	CHECK_CONTAINS(res.out, "0000:02:00.1");
	tu_result_free(&res);
}

AV_TEST(list_missing_tree_fails_clearly)
{
	const char *r = tu_tmpdir();
	struct tu_result res;

	run_list(&res, r, "--json");
	CHECK_INT(res.status, 1);
	CHECK_CONTAINS(res.err, "/sys/bus/pci");
	CHECK_STR(res.out, "");
	tu_result_free(&res);
}

AV_TEST(list_hostile_names_escaped)
{
	const char *r = desktop();
	char *ids = tu_fmt("%s/hostile.ids", r);
	struct tu_result res;
	char *prog = tu_prog("auto-vfio");

	tu_write(ids, "10de  Evil \"Vendor\\\x01\n"
		      "\t128b  GT 710 \xff\xfe'$(reboot)`;{}\n");
	const char *argv[] = {prog, "--root", r, "--pci-ids", ids, "list", "--json", NULL};

	tu_run(&res, argv, NULL, NULL);
	CHECK_INT(res.status, 0);
	CHECK_CONTAINS(res.out, "\"vendor_name\": \"Evil \\\"Vendor\\\\\\u0001\"");
	/* invalid UTF-8 never reaches the JSON (libpci or the writer replaces it) */
	CHECK_NOT_CONTAINS(res.out, "\xff");
	CHECK_CONTAINS(res.out, "'$(reboot)`;{}\", \"vendor_name\"");
	tu_result_free(&res);

	const char *argv2[] = {prog,   "--root", r,   "--pci-ids", "/nonexistent/pci.ids",
			       "list", "--all",	 NULL};

	tu_run(&res, argv2, NULL, NULL);
	CHECK_INT(res.status, 0);
	CHECK_CONTAINS(res.err, "/nonexistent/pci.ids");
	CHECK_CONTAINS(res.out, "[10de:128b]");
	tu_result_free(&res);
}

AV_TEST(list_absolute_links_within_prefix)
{
	const char *r = tu_tmpdir();
	struct av_machine *m;

	tu_write(tu_fmt("%s/sys/bus/pci/devices/0000:01:00.0/vendor", r), "0x1002\n");
	tu_write(tu_fmt("%s/sys/bus/pci/devices/0000:01:00.0/device", r), "0x67df\n");
	tu_write(tu_fmt("%s/sys/bus/pci/devices/0000:01:00.0/class", r), "0x030000\n");
	tu_symlink(tu_fmt("%s/sys/kernel/iommu_groups/16", r),
		   tu_fmt("%s/sys/bus/pci/devices/0000:01:00.0/iommu_group", r));
	tu_symlink(tu_fmt("%s/sys/bus/pci/devices/0000:01:00.0", r),
		   tu_fmt("%s/sys/kernel/iommu_groups/16/devices/0000:01:00.0", r));
	tu_mkdirs(tu_fmt("%s/sys/bus/pci/drivers/amdgpu", r));
	tu_symlink(tu_fmt("%s/sys/bus/pci/drivers/amdgpu", r),
		   tu_fmt("%s/sys/bus/pci/devices/0000:01:00.0/driver", r));
	m = load(r);
	CHECK_INT(m->ngroups, 1);
	CHECK_INT(m->groups[0].id, 16);
	CHECK_STR(m->devs[0].driver, "amdgpu");
	CHECK_INT(m->devs[0].group, 16);
	av_machine_free(m);
}

AV_TEST(list_global_options_after_command)
{
	const char *r = desktop();
	char *prog = tu_prog("auto-vfio");
	const char *argv[] = {prog, "list", "--no-color", "--root", r, "--json", NULL};
	const char *argv2[] = {prog, "list", "--root=/nonexistent", NULL};
	struct tu_result res;

	tu_run(&res, argv, NULL, NULL);
	CHECK_INT(res.status, 0);
	CHECK_CONTAINS(res.out, "\"address\": \"0000:0c:00.1\"");
	tu_result_free(&res);
	tu_run(&res, argv2, NULL, NULL);
	CHECK_INT(res.status, 2);
	CHECK_CONTAINS(res.err, "/nonexistent");
	tu_result_free(&res);
}

AV_TEST(hostfacts_untraceable_root_noted)
{
	const char *r = desktop();
	struct av_machine *m;

	/* a ZFS root: no block device to follow */
	tu_write(tu_fmt("%s/proc/self/mountinfo", r),
		 "22 1 0:24 / / rw,relatime - zfs rpool/ROOT/debian rw\n");
	m = load(r);
	CHECK(any_contains(m->notes, m->nnotes, "not traced to a PCI disk controller"));
	CHECK(!any_contains(m->notes, m->nnotes, "mountinfo"));
	av_machine_free(m);
}

/* Names the kernel never writes: "+5" is no group, an upper-case address no second device. */
AV_TEST(machine_odd_sysfs_names_refused)
{
	const char *r = tu_tmpdir();
	struct av_machine *m;

	dev(r, "0000:0a:00.0", "10de", "1b81", "030000", 5, NULL);
	tu_symlink("../../../bus/pci/devices/0000:0a:00.0",
		   tu_fmt("%s/sys/bus/pci/devices/0000:0A:00.0", r));
	tu_mkdirs(tu_fmt("%s/sys/kernel/iommu_groups/+5/devices", r));
	tu_symlink("../../../../bus/pci/devices/0000:0a:00.0",
		   tu_fmt("%s/sys/kernel/iommu_groups/+5/devices/0000:0a:00.0", r));
	tu_mkdirs(tu_fmt("%s/sys/kernel/iommu_groups/ 5/devices", r));
	m = load(r);
	CHECK_INT(m->ndevs, 1);
	CHECK_INT(m->ngroups, 1);
	CHECK_INT(m->groups[0].id, 5);
	CHECK_INT(m->groups[0].ndevs, 1);
	av_machine_free(m);
}

/* Driver names reach the terminal clean; JSON stays strict UTF-8. */
AV_TEST(list_driver_names_sanitized_and_json_strict)
{
	const char *r = tu_tmpdir();
	char *prog = tu_prog("auto-vfio");
	const char *argv[] = {prog, "--root", r, "--no-color", "list", NULL};
	const char *aargv[] = {prog, "--root", r, "--no-color", "list", "--all", NULL};
	const char *jargv[] = {prog, "--root", r, "list", "--json", NULL};
	struct tu_result res;

	dev(r, "0000:01:00.0", "10de", "1b81", "030000", 1, "evil\x1b]0;owned\x07\xc2\x9b");
	dev(r, "0000:02:00.0", "10de", "1b81", "030000", 2,
	    "bad\xed\xa0\x80\xe0\x80\xaf\xf4\x90\x80\x80");
	/* the summary and the full view alike */
	tu_run(&res, argv, NULL, NULL);
	CHECK_INT(res.status, 0);
	CHECK_NOT_CONTAINS(res.out, "\x1b");
	CHECK_NOT_CONTAINS(res.out, "\x07");
	CHECK_NOT_CONTAINS(res.out, "\xc2\x9b");
	CHECK_CONTAINS(res.out, "evil ]0;owned\n");
	tu_result_free(&res);
	tu_run(&res, aargv, NULL, NULL);
	CHECK_INT(res.status, 0);
	CHECK_NOT_CONTAINS(res.out, "\x1b");
	CHECK_NOT_CONTAINS(res.out, "\x07");
	CHECK_NOT_CONTAINS(res.out, "\xc2\x9b");
	CHECK_CONTAINS(res.out, "driver: evil?]0;owned??");
	tu_result_free(&res);
	tu_run(&res, jargv, NULL, NULL);
	CHECK_INT(res.status, 0);
	CHECK_NOT_CONTAINS(res.out, "\xed\xa0\x80");
	CHECK_NOT_CONTAINS(res.out, "\xe0\x80\xaf");
	CHECK_NOT_CONTAINS(res.out, "\xf4\x90");
	CHECK_CONTAINS(res.out, "\"bad\xef\xbf\xbd");
	tu_result_free(&res);
}

/* A NUL byte in an attribute is named as such, not as a character-set error. */
AV_TEST(list_nul_in_attribute_named)
{
	const char *r = tu_tmpdir();
	char *prog = tu_prog("auto-vfio");
	const char *argv[] = {prog, "--root", r, "list", NULL};
	struct tu_result res;
	FILE *f;

	dev(r, "0000:01:00.0", "10de", "1b81", "030000", 1, NULL);
	dev(r, "0000:02:00.0", "10de", "1b81", "030000", 2, NULL);
	f = fopen(tu_fmt("%s/sys/bus/pci/devices/0000:02:00.0/vendor", r), "w");
	CHECK(f != NULL);
	fwrite("0x10\0de\n", 1, 8, f);
	fclose(f);
	tu_run(&res, argv, NULL, NULL);
	CHECK_INT(res.status, 0);
	CHECK_CONTAINS(res.err, "0000:02:00.0/vendor: holds a NUL byte; device left out");
	tu_result_free(&res);
}
