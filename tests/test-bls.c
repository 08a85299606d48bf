// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * systemd-boot: the plugin 95-auto-vfio.install run by the real
 * kernel-install (systemd's, with its real 90-loaderentry.install) in a
 * scratch BOOT_ROOT with layout=bls, on a fixture machine: the entries, their
 * bind tokens against the GRUB generator's (one selection engine), the plain
 * entry kept clean, remove, and the cases where the plugin must do nothing
 * and still exit 0. Then setup and uninstall on a systemd-boot machine.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bls.h"
#include "lib/testroot.h"
#include "lib/testsuite.h"
#include "lib/testutil.h"

#define MACHINE "iommu/011-asus-z690-alderlake-rx6700xt-rx550.txt"
#define LOADERENTRY "/usr/lib/kernel/install.d/90-loaderentry.install"
#define KVER "6.1.0-27-amd64"
#define KVER2 "6.1.0-28-amd64"
#define CONF_MULTI                                                                                 \
	"version = 1\nmode = multiboot\niommu_params = intel_iommu=on iommu=pt\n"                  \
	"select = 0000:03:00.0@1002:73df\nselect = 0000:03:00.1@1002:ab28\n"                       \
	"select = 0000:04:00.0@1002:67ff\n"

struct bls {
	char *root, *boot, *conf, *plugin, *kernel, *initrd;
};

static void need_kernel_install(void)
{
	if (!tu_exists("/usr/bin/kernel-install") || !tu_exists(LOADERENTRY))
		av_test_skip("no kernel-install with 90-loaderentry (systemd)");
}

static struct bls setup_bls(const char *config, const char *cmdline)
{
	static unsigned seq;
	struct bls b;
	char *d = tu_fmt("%s/b%u", tu_tmpdir(), seq++);
	char *sed;
	struct tu_result res;

	need_kernel_install();
	b.root = tu_machine(MACHINE, NULL);
	b.boot = tu_fmt("%s/boot", d);
	b.conf = tu_fmt("%s/conf", d);
	b.plugin = tu_fmt("%s/95-auto-vfio.install", d);
	b.kernel = tu_fmt("%s/vmlinuz", d);
	b.initrd = tu_fmt("%s/initrd.img", d);
	tu_mkdirs(d);
	tu_write(tu_fmt("%s/proc/cpuinfo", b.root), "processor\t: 0\nvendor_id\t: GenuineIntel\n");
	if (config)
		tu_write(tu_fmt("%s/etc/auto-vfio.conf", b.root), config);
	tu_mkdirs(tu_fmt("%s/loader/entries", b.boot));
	tu_mkdirs(tu_fmt("%s/tok", b.boot));
	tu_write(tu_fmt("%s/install.conf", b.conf), "layout=bls\n");
	tu_write(tu_fmt("%s/entry-token", b.conf), "tok\n");
	tu_write(tu_fmt("%s/cmdline", b.conf), cmdline);
	tu_write(b.kernel, "kernel");
	tu_write(b.initrd, "initrd");
	/* the plugin as make install writes it, pointing at this build's backend */
	sed = tu_fmt("sed 's|@SBINDIR@|%s|g' %s/kernel-install/95-auto-vfio.install > %s && "
		     "chmod 755 %s",
		     tu_build(), tu_srcdir(), b.plugin, b.plugin);
	{
		const char *sh[] = {"/bin/sh", "-c", sed, NULL};

		tu_run(&res, sh, NULL, NULL);
		CHECK_INT(res.status, 0);
		tu_result_free(&res);
	}
	return b;
}

static int kernel_install(const struct bls *b, struct tu_result *res, const char *cmd,
			  const char *kver)
{
	const char *add[] = {"/usr/bin/kernel-install", cmd, kver, b->kernel, b->initrd, NULL};
	const char *env[] = {tu_fmt("KERNEL_INSTALL_PLUGINS=%s %s", LOADERENTRY, b->plugin),
			     tu_fmt("KERNEL_INSTALL_CONF_ROOT=%s", b->conf),
			     tu_fmt("BOOT_ROOT=%s", b->boot),
			     "KERNEL_INSTALL_MACHINE_ID=0123456789abcdef0123456789abcdef",
			     tu_fmt("AUTO_VFIO_ROOT=%s", b->root),
			     "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
			     NULL};

	if (strcmp(cmd, "remove") == 0)
		add[3] = NULL;
	tu_run(res, add, env, NULL);
	return res->status;
}

static char *entry(const struct bls *b, const char *name)
{
	char *p = tu_fmt("%s/loader/entries/%s", b->boot, name);

	return tu_exists(p) ? tu_read(p) : NULL;
}

static int count_entries(const struct bls *b, const char *part)
{
	DIR *d = opendir(tu_fmt("%s/loader/entries", b->boot));
	struct dirent *de;
	int n = 0;

	CHECK(d);
	while ((de = readdir(d)))
		n += strstr(de->d_name, part) != NULL;
	closedir(d);
	return n;
}

/* The auto_vfio.bind= value on the entry's options line ("" when none). */
static char *bind_of(const char *text)
{
	const char *o = strstr(text, "\noptions");
	const char *b, *end;

	CHECK(o);
	end = strchr(o + 1, '\n');
	b = strstr(o, "auto_vfio.bind=");
	if (!b || (end && b > end))
		return "";
	return tu_fmt("%.*s", (int)strcspn(b + 15, " \n"), b + 15);
}

AV_TEST_T(bls_entries_per_kept_gpu_and_headless, 120)
{
	struct bls b = setup_bls(CONF_MULTI, "root=/dev/sda1 ro quiet\n");
	struct tu_result res;
	char *host3, *host4, *headless, *plain;

	CHECK_MSG(kernel_install(&b, &res, "add", KVER) == 0, "kernel-install: %s%s", res.out,
		  res.err);
	tu_result_free(&res);
	plain = entry(&b, "tok-" KVER ".conf");
	host3 = entry(&b, "tok-" KVER "-auto-vfio-host-0000-03-00.0.conf");
	host4 = entry(&b, "tok-" KVER "-auto-vfio-host-0000-04-00.0.conf");
	headless = entry(&b, "tok-" KVER "-auto-vfio-headless.conf");
	CHECK(plain && host3 && host4 && headless);
	/* two GPUs the host can keep, plus headless */
	CHECK_INT(count_entries(&b, "-auto-vfio-"), 3);
	CHECK_STR(bind_of(host3), "0000:04:00.0@1002:67ff");
	CHECK_STR(bind_of(host4), "0000:03:00.0@1002:73df,0000:03:00.1@1002:ab28");
	CHECK_STR(bind_of(headless),
		  "0000:03:00.0@1002:73df,0000:03:00.1@1002:ab28,0000:04:00.0@1002:67ff");
	CHECK_STR(bind_of(plain), "");
	/* the plain entry's options, then the IOMMU parameters, then the one token */
	CHECK_CONTAINS(host3, "\noptions    root=/dev/sda1 ro quiet intel_iommu=on iommu=pt "
			      "auto_vfio.bind=0000:04:00.0@1002:67ff\n");
	CHECK_CONTAINS(host3, "(auto-vfio: host keeps Advanced Micro Devices, Inc. [AMD/ATI] "
			      "Navi 22");
	CHECK_CONTAINS(headless, "(auto-vfio: headless host, every selected GPU to VMs)\n");
	/* linux and initrd lines copied from 90-loaderentry's entry */
	CHECK_CONTAINS(plain, tu_fmt("linux      %s/tok/" KVER "/linux\n", b.boot));
	CHECK_CONTAINS(host4, tu_fmt("linux      %s/tok/" KVER "/linux\n", b.boot));
	CHECK_CONTAINS(host4, tu_fmt("initrd     %s/tok/" KVER "/initrd.img\n", b.boot));
	CHECK_CONTAINS(host4, "version    " KVER "\n");
}

/* What an entry adds after its IOMMU parameters: the bind token and what goes with it. */
static char *bind_tail(const char *text)
{
	const char *b = strstr(text, "auto_vfio.bind=");

	CHECK(b);
	return tu_fmt("%.*s\n", (int)strcspn(b, "\n"), b);
}

/*
 * One engine: the GRUB generator's additions for this machine are the BLS
 * entries' additions, with the boot VGA elsewhere (the iGPU) and on a
 * selected GPU (then the entries passing it add initcall_blacklist=sysfb_init).
 */
AV_TEST_T(bls_entries_match_the_grub_entries, 120)
{
	const char *names[] = {"host-0000-03-00.0", "host-0000-04-00.0", "headless"};

	for (int round = 0; round < 2; round++) {
		struct bls b = setup_bls(CONF_MULTI, "root=/dev/sda1 ro\n");
		const char *grub[] = {tu_prog("auto-vfio-grub"), "--root", b.root, NULL};
		struct tu_result res;
		int bootfb = 0;

		if (round == 1) {
			tu_write(tu_fmt("%s/sys/bus/pci/devices/0000:00:02.0/boot_vga", b.root),
				 "0\n");
			tu_write(tu_fmt("%s/sys/bus/pci/devices/0000:03:00.0/boot_vga", b.root),
				 "1\n");
		}
		tu_write(tu_fmt("%s/boot/vmlinuz-" KVER, b.root), "kernel");
		tu_write(tu_fmt("%s/boot/initrd.img-" KVER, b.root), "initrd");
		tu_run(&res, grub, NULL, NULL);
		CHECK_INT(res.status, 0);
		CHECK_INT(kernel_install(&b, &(struct tu_result){0}, "add", KVER), 0);
		for (size_t i = 0; i < 3; i++) {
			char *e = entry(&b, tu_fmt("tok-" KVER "-auto-vfio-%s.conf", names[i]));

			CHECK(e);
			CHECK_CONTAINS(res.out, bind_tail(e));
			bootfb += strstr(e, "initcall_blacklist=sysfb_init") != NULL;
		}
		/* the round proves its setting: only the boot GPU's passing entries carry it */
		CHECK_INT(bootfb, round == 1 ? 2 : 0);
		tu_result_free(&res);
	}
}

/* kernel-install takes the options it is given, bind token or not: ours leaves none there. */
AV_TEST_T(bls_plain_entry_never_binds, 120)
{
	struct bls b =
	    setup_bls(CONF_MULTI, "root=/dev/sda1 ro auto_vfio.bind=0000:04:00.0@1002:67ff "
				  "quiet\n");
	struct tu_result res;
	char *plain;

	CHECK_INT(kernel_install(&b, &res, "add", KVER), 0);
	CHECK_CONTAINS(res.err, "auto_vfio.bind= taken out of the plain entry");
	tu_result_free(&res);
	plain = entry(&b, "tok-" KVER ".conf");
	CHECK(plain);
	CHECK_CONTAINS(plain, "\noptions    root=/dev/sda1 ro quiet");
	CHECK_NOT_CONTAINS(plain, "auto_vfio");
	/* and the entries do not carry it twice */
	CHECK_STR(bind_of(entry(&b, "tok-" KVER "-auto-vfio-host-0000-03-00.0.conf")),
		  "0000:04:00.0@1002:67ff");
	CHECK_INT(count_entries(&b, "auto_vfio.bind=0000:04:00.0@1002:67ff quiet"), 0);
}

AV_TEST_T(bls_remove_takes_ours_and_leaves_other_kernels, 120)
{
	struct bls b = setup_bls(CONF_MULTI, "root=/dev/sda1 ro\n");
	struct tu_result res;

	CHECK_INT(kernel_install(&b, &res, "add", KVER), 0);
	tu_result_free(&res);
	CHECK_INT(kernel_install(&b, &res, "add", KVER2), 0);
	tu_result_free(&res);
	CHECK_INT(count_entries(&b, "-auto-vfio-"), 6);
	CHECK_INT(kernel_install(&b, &res, "remove", KVER), 0);
	tu_result_free(&res);
	CHECK_INT(count_entries(&b, KVER "-auto-vfio-"), 0);
	CHECK_INT(count_entries(&b, KVER ".conf"), 0);
	CHECK_INT(count_entries(&b, KVER2 "-auto-vfio-"), 3);
	CHECK(entry(&b, "tok-" KVER2 ".conf"));
}

AV_TEST_T(bls_plugin_exits_0_whatever_happens, 120)
{
	struct bls none =
	    setup_bls(NULL, "root=/dev/sda1 ro auto_vfio.bind=0000:04:00.0@1002:67ff\n");
	struct bls broken =
	    setup_bls("version = 1\nmode = sideways\nselect = zz\n", "root=/dev/sda1\n");
	struct bls stat = setup_bls("version = 1\nmode = static\niommu_params = intel_iommu=on\n"
				    "select = 0000:04:00.0@1002:67ff\n",
				    "root=/dev/sda1 ro auto_vfio.bind=0000:04:00.0@1002:67ff\n");
	struct tu_result res;

	/* not configured: nothing at all, not even the plain entry's options touched */
	CHECK_INT(kernel_install(&none, &res, "add", KVER), 0);
	tu_result_free(&res);
	CHECK_INT(count_entries(&none, "-auto-vfio-"), 0);
	CHECK_CONTAINS(entry(&none, "tok-" KVER ".conf"), "auto_vfio.bind=0000:04:00.0@1002:67ff");

	/* a damaged configuration: a warning, the kernel installed, no entries of ours */
	CHECK_INT(kernel_install(&broken, &res, "add", KVER), 0);
	CHECK_CONTAINS(res.err, "auto-vfio-bls: warning:");
	tu_result_free(&res);
	CHECK(entry(&broken, "tok-" KVER ".conf"));
	CHECK_INT(count_entries(&broken, "-auto-vfio-"), 0);

	/* static mode: the plain entry binds, by design; old multi-boot entries go */
	tu_write(tu_fmt("%s/loader/entries/tok-" KVER "-auto-vfio-headless.conf", stat.boot),
		 "title old\n");
	CHECK_INT(kernel_install(&stat, &res, "add", KVER), 0);
	tu_result_free(&res);
	CHECK_INT(count_entries(&stat, "-auto-vfio-"), 0);
	CHECK_CONTAINS(entry(&stat, "tok-" KVER ".conf"), "auto_vfio.bind=0000:04:00.0@1002:67ff");

	/* a backend that crashes, or is gone, still lets the kernel install */
	tu_write(tu_fmt("%s/etc/auto-vfio.conf", none.root), CONF_MULTI);
	{
		char *p = tu_read(none.plugin), *s = strstr(p, "BACKEND=");

		CHECK(s);
		tu_write(none.plugin, tu_fmt("%.*sBACKEND=/bin/false\n%s", (int)(s - p), p,
					     strchr(s, '\n') + 1));
		chmod(none.plugin, 0755);
	}
	CHECK_INT(kernel_install(&none, &res, "add", KVER2), 0);
	CHECK_CONTAINS(res.err, "the kernel is installed without auto-vfio entries");
	tu_result_free(&res);
	CHECK(entry(&none, "tok-" KVER2 ".conf"));
}

/* setup on a systemd-boot machine writes /etc/kernel/cmdline; uninstall removes our entries. */
AV_TEST_T(bls_setup_and_uninstall, 120)
{
	struct bls b = setup_bls(NULL, "unused\n");
	const char *env[] = {"AUTO_VFIO_UPDATE_INITRAMFS=true",
			     tu_fmt("AUTO_VFIO_UPDATE_BLS=%s regenerate --root \"$AUTO_VFIO_ROOT\"",
				    tu_prog("auto-vfio-bls")),
			     NULL};
	char *entries = tu_fmt("%s/boot/efi/loader/entries", b.root);
	const char *setup[] = {
	    tu_prog("auto-vfio"), "--root",	     b.root,  "setup", "--multiboot",
	    "--select",		  "03:00.0,04:00.0", "--yes", NULL};
	const char *uninstall[] = {tu_prog("auto-vfio"), "--root", b.root, "uninstall", NULL};
	struct tu_result res;

	tu_write(
	    tu_fmt("%s/proc/cmdline", b.root),
	    "BOOT_IMAGE=/vmlinuz root=UUID=1234 ro quiet auto_vfio.bind=0000:04:00.0@1002:67ff "
	    "initcall_blacklist=sysfb_init\n");
	tu_write(tu_fmt("%s/etc/initramfs-tools/initramfs.conf", b.root), "MODULES=most\n");
	tu_write(tu_fmt("%s/tok-" KVER ".conf", entries),
		 "title      Debian GNU/Linux 12 (bookworm)\nversion    " KVER "\n"
		 "options    root=UUID=1234 ro quiet\nlinux      /tok/" KVER "/linux\n");
	tu_run(&res, setup, env, NULL);
	CHECK_MSG(res.status == 0, "setup: %s%s", res.out, res.err);
	CHECK_CONTAINS(res.out, "boot loader systemd-boot (BLS entries by kernel-install) "
				"(/boot/efi/loader/entries)");
	CHECK_CONTAINS(res.out, "+++ b/etc/kernel/cmdline");
	CHECK_CONTAINS(res.out, "Updating the systemd-boot entries:");
	CHECK_CONTAINS(res.out, "systemd-boot menu");
	tu_result_free(&res);
	/* the running command line without what an auto-vfio entry adds, plus the IOMMU */
	CHECK_STR(tu_read(tu_fmt("%s/etc/kernel/cmdline", b.root)),
		  "root=UUID=1234 ro quiet intel_iommu=on iommu=pt\n");
	CHECK(!tu_exists(tu_fmt("%s/etc/default/grub.d/auto-vfio.cfg", b.root)));
	CHECK(tu_exists(tu_fmt("%s/tok-" KVER "-auto-vfio-headless.conf", entries)));
	CHECK(tu_exists(tu_fmt("%s/tok-" KVER "-auto-vfio-host-0000-04-00.0.conf", entries)));

	/* status finds them, and a plain entry that binds */
	{
		const char *st[] = {tu_prog("auto-vfio"), "--root", b.root, "status", NULL};
		char *plain = tu_fmt("%s/tok-" KVER2 ".conf", entries);

		tu_run(&res, st, NULL, NULL);
		CHECK_CONTAINS(res.out,
			       "3 auto-vfio systemd-boot entries in /boot/efi/loader/entries");
		CHECK_NOT_CONTAINS(res.out, "pass devices through");
		tu_result_free(&res);
		tu_write(plain, "title x\nversion " KVER2 "\noptions root=UUID=1234 "
				"auto_vfio.bind=0000:04:00.0@1002:67ff\nlinux /l\n");
		tu_run(&res, st, NULL, NULL);
		CHECK_CONTAINS(res.out,
			       "1 plain systemd-boot entry in /boot/efi/loader/entries passes "
			       "devices through (auto_vfio.bind=)");
		tu_result_free(&res);
		unlink(plain);
	}

	/* boot-next lists ours and sets the one-shot entry through bootctl */
	{
		const char *list[] = {tu_prog("auto-vfio"), "--root", b.root, "boot-next", NULL};
		const char *pick[] = {tu_prog("auto-vfio"), "--root",  b.root,
				      "boot-next",	    "04:00.0", NULL};
		const char *echo[] = {"AUTO_VFIO_BOOTCTL=echo", NULL};

		tu_run(&res, list, NULL, NULL);
		CHECK_INT(res.status, 0);
		CHECK_CONTAINS(res.out,
			       "tok-" KVER "-auto-vfio-headless.conf\n    Debian GNU/Linux "
			       "12 (bookworm) (auto-vfio: headless host");
		tu_result_free(&res);
		tu_run(&res, pick, echo, NULL);
		CHECK_INT(res.status, 0);
		CHECK_CONTAINS(res.out,
			       "set-oneshot tok-" KVER "-auto-vfio-host-0000-04-00.0.conf\n");
		CHECK_CONTAINS(res.out,
			       "Next boot (once): tok-" KVER "-auto-vfio-host-0000-04-00.0.conf");
		tu_result_free(&res);
	}

	tu_run(&res, uninstall, env, NULL);
	CHECK_MSG(res.status == 0, "uninstall: %s%s", res.out, res.err);
	CHECK_CONTAINS(res.out, "Removed 3 auto-vfio entries");
	tu_result_free(&res);
	CHECK(!tu_exists(tu_fmt("%s/etc/kernel/cmdline", b.root)));
	CHECK(!tu_exists(tu_fmt("%s/tok-" KVER "-auto-vfio-headless.conf", entries)));
	CHECK(tu_exists(tu_fmt("%s/tok-" KVER ".conf", entries)));
}

/*
 * Device names are outside text: no control character (C0, DEL, C1 such as
 * CSI) of pci.ids reaches an entry's title, by the one rule of utf8.h.
 */
AV_TEST(bls_titles_carry_no_control_characters)
{
	const char *d = tu_fmt("%s/cc", tu_tmpdir());
	const char *root = tu_fmt("%s/root", d), *dir = tu_fmt("%s/entries", d);
	const char *ids = tu_fmt("%s/hostile.ids", d);
	const char *conv[] = {tu_prog("tests/fixture2sysfs"),
			      tu_fmt("%s/%s", tu_fixtures(), MACHINE), root, NULL};
	const char *kept[] = {"host-0000-03-00.0", "host-0000-04-00.0"};
	struct av_bls_result res = {0};
	struct tu_result r;
	struct av_ctx ctx;

	tu_mkdirs(dir);
	tu_run(&r, conv, NULL, NULL);
	CHECK_MSG(r.status == 0, "fixture2sysfs: %s", r.err);
	tu_result_free(&r);
	tu_write(tu_fmt("%s/proc/cpuinfo", root), "processor\t: 0\nvendor_id\t: GenuineIntel\n");
	tu_write(tu_fmt("%s/etc/auto-vfio.conf", root), CONF_MULTI);
	tu_write(tu_fmt("%s/tok-" KVER ".conf", dir),
		 "title      Debian\nversion    " KVER "\noptions    root=/dev/sda1 ro\n"
		 "linux      /tok/" KVER "/linux\n");
	tu_write(ids, "1002  AMD\x1b[2J\n"
		      "\t73df  Navi\xc2\x9b"
		      "2J 22\n"
		      "\t67ff  Baffin\x7f"
		      "11\n");
	CHECK_INT(av_ctx_init(&ctx, root), 0);
	CHECK_INT(av_bls_add(&ctx, dir, "tok", KVER, ids, &res), 0);
	CHECK_INT((int)res.written, 3);
	for (size_t i = 0; i < 2; i++) {
		char *e = tu_read(tu_fmt("%s/tok-" KVER "-auto-vfio-%s.conf", dir, kept[i]));

		/* the names from this pci.ids are there, their control characters are not */
		CHECK_CONTAINS(e, i ? "Baffin 11" : "Navi 2J 22");
		CHECK_NOT_CONTAINS(e, "\x1b");
		CHECK_NOT_CONTAINS(e, "\xc2\x9b");
		CHECK_NOT_CONTAINS(e, "\x7f");
	}
}
