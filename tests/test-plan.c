// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * From a configuration to the files setup writes, called directly on a
 * fixture machine (011: an Alder Lake iGPU that boots, an RX 6700 XT whose
 * audio has a group of its own, an RX 550 already on vfio-pci): the GRUB
 * and modprobe drop-ins for each mode, IDs instead of addresses, the boot
 * GPU's framebuffer, and someone else's file of a drop-in's name.
 */
#include <errno.h>
#include <string.h>

#include "config.h"
#include "ctx.h"
#include "fileops.h"
#include "lib/testroot.h"
#include "lib/testsuite.h"
#include "lib/testutil.h"
#include "machine.h"
#include "manifest.h"
#include "plan.h"
#include "safety.h"

#define MACHINE "iommu/011-asus-z690-alderlake-rx6700xt-rx550.txt"

struct fixture {
	struct av_ctx ctx;
	struct av_machine *m;
};

static void load(struct fixture *f, const char *listing)
{
	tu_ctx(&f->ctx, tu_machine(listing, "debian-base", NULL));
	CHECK_INT(av_machine_load(&f->ctx, NULL, &f->m), 0);
	CHECK_INT(av_analyze(&f->ctx, f->m), 0);
}

/* The plan for the configuration file @text. */
static int plan(struct fixture *f, const char *text, bool static_ids, struct av_plan *p)
{
	struct av_config cfg;

	CHECK_INT(av_config_parse(&f->ctx, "test.conf", text, strlen(text), &cfg), 0);
	return av_plan_build(&f->ctx, f->m, &cfg, NULL, static_ids, p);
}

/* Setup's own three files come first, always in this order. */
static void check_own_files(const struct av_plan *p)
{
	CHECK_INT(p->n, AV_PLAN_OWN);
	CHECK_STR(p->f[0].path, AV_CONFIG_PATH);
	CHECK_STR(p->f[1].path, AV_GRUB_DROPIN);
	CHECK_STR(p->f[2].path, AV_MODPROBE_DROPIN);
	for (size_t i = 0; i < p->n; i++)
		CHECK_INT(p->f[i].mode, 0644);
}

AV_TEST(plan_static_binds_whole_groups_at_boot)
{
	struct fixture f;
	struct av_plan p;

	load(&f, MACHINE);
	CHECK_INT(plan(&f,
		       "version = 1\nmode = static\nselect = 0000:03:00.0@1002:73df\n"
		       "iommu_params = intel_iommu=on iommu=pt\ndefault = headless\n",
		       false, &p),
		  0);
	check_own_files(&p);
	CHECK_CONTAINS(p.f[0].data, "mode = static\n");
	/*
	 * The audio function has a group of its own: it goes with its GPU. The
	 * default entry is multi-boot's: static mode says nothing of it.
	 */
	CHECK_STR(p.f[1].data, AV_DROPIN_HEADER
		  "GRUB_CMDLINE_LINUX_DEFAULT=\"${GRUB_CMDLINE_LINUX_DEFAULT} "
		  "intel_iommu=on iommu=pt "
		  "auto_vfio.bind=0000:03:00.0@1002:73df,0000:03:00.1@1002:ab28\"\n");
	CHECK_STR(p.f[2].data, AV_DROPIN_HEADER
		  "# vfio-pci loads before the drivers that would claim the selected devices.\n"
		  "softdep amdgpu pre: vfio-pci\nsoftdep snd_hda_intel pre: vfio-pci\n");
	av_plan_release(&p);
	av_machine_free(f.m);
}

/* By ID: one word per vendor:device, nothing on the GRUB line names the devices. */
AV_TEST(plan_static_ids)
{
	struct fixture f;
	struct av_plan p;

	load(&f, MACHINE);
	CHECK_INT(
	    plan(&f, "version = 1\nmode = static\nselect = 0000:03:00.0@1002:73df\n", true, &p), 0);
	CHECK_STR(p.f[1].data, AV_DROPIN_HEADER "GRUB_CMDLINE_LINUX_DEFAULT=\""
						"${GRUB_CMDLINE_LINUX_DEFAULT}\"\n");
	CHECK_CONTAINS(p.f[2].data, "softdep amdgpu pre: vfio-pci\n");
	CHECK_CONTAINS(p.f[2].data, "\noptions vfio-pci ids=1002:73df,1002:ab28\n");
	av_plan_release(&p);
	av_machine_free(f.m);
}

/* Two identical GPUs, one kept: by ID vfio-pci would take both, so it is refused. */
AV_TEST(plan_static_ids_refused_when_the_host_keeps_the_same_id)
{
	struct fixture f;
	struct av_plan p;

	load(&f, "iommu/022-ryzen-2x-rx580.txt");
	CHECK_INT(
	    plan(&f, "version = 1\nmode = static\nselect = 0000:27:00.0@1002:67df\n", true, &p),
	    -EEXIST);
	CHECK_INT(p.n, 0);
	CHECK_CONTAINS(tu_log(), "--static-ids: 0000:27:00.0 [1002:67df] has the same ID as "
				 "0000:26:00.0, which the host keeps; bind by address instead");
	/* by address, the same selection is fine */
	CHECK_INT(
	    plan(&f, "version = 1\nmode = static\nselect = 0000:27:00.0@1002:67df\n", false, &p),
	    0);
	CHECK_CONTAINS(p.f[1].data, "auto_vfio.bind=0000:27:00.0@1002:67df");
	av_plan_release(&p);
	/* both to VMs: then each ID is said once */
	CHECK_INT(plan(&f,
		       "version = 1\nmode = static\nselect = 0000:26:00.0@1002:67df\n"
		       "select = 0000:27:00.0@1002:67df\n",
		       true, &p),
		  0);
	CHECK_CONTAINS(p.f[2].data, "\noptions vfio-pci ids=1002:67df,1002:aaf0\n");
	av_plan_release(&p);
	av_machine_free(f.m);
}

/* The boot GPU to a VM: the firmware framebuffer must stay off it. */
AV_TEST(plan_static_boot_gpu_drops_the_framebuffer)
{
	struct fixture f;
	struct av_plan p;

	load(&f, MACHINE);
	CHECK_INT(
	    plan(&f, "version = 1\nmode = static\nselect = 0000:00:02.0@8086:4680\n", false, &p),
	    0);
	CHECK_STR(p.f[1].data,
		  AV_DROPIN_HEADER "GRUB_CMDLINE_LINUX_DEFAULT=\""
				   "${GRUB_CMDLINE_LINUX_DEFAULT} "
				   "auto_vfio.bind=0000:00:02.0@8086:4680 " AV_BOOTFB_PARAM "\"\n");
	CHECK_CONTAINS(p.f[2].data, "softdep i915 pre: vfio-pci\n");
	av_plan_release(&p);
	/* by ID too */
	CHECK_INT(
	    plan(&f, "version = 1\nmode = static\nselect = 0000:00:02.0@8086:4680\n", true, &p), 0);
	CHECK_CONTAINS(p.f[1].data, " " AV_BOOTFB_PARAM "\"\n");
	av_plan_release(&p);
	av_machine_free(f.m);
}

/*
 * Multi-boot: the entries bind, the default line does not; GRUB's default
 * is an id without a kernel version. A GPU already on vfio-pci has no other
 * driver to order after it: no modprobe drop-in.
 */
AV_TEST(plan_multiboot_default_entry_and_no_softdep_to_say)
{
	struct fixture f;
	struct av_plan p;

	load(&f, MACHINE);
	CHECK_INT(plan(&f,
		       "version = 1\nmode = multiboot\nselect = 0000:04:00.0@1002:67ff\n"
		       "default = host-0000:00:02.0\n",
		       false, &p),
		  0);
	check_own_files(&p);
	CHECK_STR(p.f[1].data,
		  AV_DROPIN_HEADER "GRUB_CMDLINE_LINUX_DEFAULT=\"${GRUB_CMDLINE_LINUX_DEFAULT}\"\n"
				   "GRUB_DEFAULT=\"" AV_ENTRY_ID_PREFIX "host-0000:00:02.0\"\n");
	CHECK(p.f[2].data == NULL);
	av_plan_release(&p);
	av_machine_free(f.m);
}

/* Mode none: the configuration stays, both drop-ins should not exist. */
AV_TEST(plan_none_removes_the_drop_ins)
{
	struct fixture f;
	struct av_plan p;

	load(&f, MACHINE);
	CHECK_INT(plan(&f, "version = 1\nmode = none\n", false, &p), 0);
	check_own_files(&p);
	CHECK_CONTAINS(p.f[0].data, "mode = none\n");
	CHECK(p.f[1].data == NULL);
	CHECK(p.f[2].data == NULL);
	av_plan_release(&p);
	av_machine_free(f.m);
}

/* A selection that no longer fits the machine is no plan at all. */
AV_TEST(plan_stale_selection_fails_whole)
{
	struct fixture f;
	struct av_plan p;

	load(&f, MACHINE);
	CHECK_INT(
	    plan(&f, "version = 1\nmode = static\nselect = 0000:03:00.0@10de:1b81\n", false, &p),
	    -ESTALE);
	CHECK_INT(p.n, 0);
	CHECK_INT(
	    plan(&f, "version = 1\nmode = multiboot\nselect = 0000:7f:00.0@1002:73df\n", false, &p),
	    -ENODEV);
	CHECK_INT(p.n, 0);
	av_machine_free(f.m);
}

/* A file of a drop-in's name that auto-vfio did not write is never replaced. */
AV_TEST(plan_check_dropin_refuses_a_foreign_file)
{
	const char *r = tu_tmpdir();
	struct av_manifest_entry e = {.path = AV_GRUB_DROPIN};
	struct av_manifest none = {0}, ours = {.n = 1, .e = &e};
	struct av_file theirs = {.exists = true, .data = "GRUB_TIMEOUT=1\n"};
	struct av_file mine = {.exists = true, .data = AV_DROPIN_HEADER "GRUB_TIMEOUT=1\n"};
	struct av_file missing = {.exists = false};
	struct av_ctx ctx;

	tu_ctx(&ctx, r);
	CHECK_INT(av_plan_check_dropin(&ctx, &none, AV_GRUB_DROPIN, &theirs), -EEXIST);
	CHECK_CONTAINS(tu_log(), tu_fmt("%s" AV_GRUB_DROPIN " exists and was not written by "
					"auto-vfio",
					r));
	CHECK_INT(av_plan_check_dropin(&ctx, &none, AV_MODPROBE_DROPIN, &theirs), -EEXIST);
	/* with auto-vfio's header, listed in the manifest, missing: it may be written */
	CHECK_INT(av_plan_check_dropin(&ctx, &none, AV_GRUB_DROPIN, &mine), 0);
	CHECK_INT(av_plan_check_dropin(&ctx, &ours, AV_GRUB_DROPIN, &theirs), 0);
	CHECK_INT(av_plan_check_dropin(&ctx, &none, AV_GRUB_DROPIN, &missing), 0);
	/* a file auto-vfio edits rather than writes whole is not a drop-in */
	CHECK_INT(av_plan_check_dropin(&ctx, &none, "/etc/default/grub", &theirs), 0);
}
