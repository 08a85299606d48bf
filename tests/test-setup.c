// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * auto-vfio setup and uninstall on a real fixture machine with a realistic
 * Debian /etc: dry runs, idempotence, exact uninstall, foreign setups,
 * faults at every disk step, failing updates, bad input, the interactive flow.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "lib/testroot.h"
#include "lib/testsuite.h"
#include "lib/testutil.h"

#define MACHINE "iommu/011-asus-z690-alderlake-rx6700xt-rx550.txt"

/*
 * The fixture machine with Debian's /etc as people leave it (comments, odd
 * spacing, no final newline, a symlink): tests/data/roots/debian-etc.
 */
static char *machine(void)
{
	return tu_machine(MACHINE, "debian-base", "debian-etc", NULL);
}

static char *digest(const char *r)
{
	/* what setup may touch; sys/ and proc/ are the machine */
	char *a = tu_tree_digest(tu_fmt("%s/etc", r));
	char *b = tu_tree_digest(tu_fmt("%s/var", r));
	char *c = tu_tree_digest(tu_fmt("%s/usr", r));

	return tu_fmt("%s--\n%s--\n%s", a, b, c);
}

#define RUN(res, r, env, ...) TU_CLI_ENV(res, r, env, __VA_ARGS__)
#define SETUP(res, r, ...) RUN(res, r, NULL, "setup", __VA_ARGS__)

AV_TEST(setup_dry_run_changes_nothing)
{
	char *r = machine(), *before = digest(r);
	struct tu_result res;

	CHECK_INT(SETUP(&res, r, "--static", "--select", "03:00.0,04:00.0", "--dry-run"), 0);
	CHECK_CONTAINS(res.out, "+++ b/etc/default/grub.d/auto-vfio.cfg");
	CHECK_CONTAINS(res.out, "Dry run: nothing was changed.");
	CHECK_STR(digest(r), before);
	tu_result_free(&res);
}

AV_TEST(setup_static_writes_expected_files)
{
	char *r = machine();
	struct tu_result res;
	char *grub, *mod, *conf;

	CHECK_INT(SETUP(&res, r, "--static", "--select", "0000:03:00.0,04:00.0", "--yes"), 0);
	grub = tu_read(tu_fmt("%s/etc/default/grub.d/auto-vfio.cfg", r));
	/* the Navi audio sits in its own group: it comes with its GPU */
	CHECK_CONTAINS(grub, "GRUB_CMDLINE_LINUX_DEFAULT=\"${GRUB_CMDLINE_LINUX_DEFAULT} "
			     "intel_iommu=on iommu=pt auto_vfio.bind=0000:03:00.0@1002:73df,"
			     "0000:03:00.1@1002:ab28,0000:04:00.0@1002:67ff\"\n");
	CHECK_CONTAINS(grub, "Written by auto-vfio");
	CHECK_NOT_CONTAINS(grub, "amd_iommu");
	mod = tu_read(tu_fmt("%s/etc/modprobe.d/auto-vfio.conf", r));
	CHECK_CONTAINS(mod, "softdep amdgpu pre: vfio-pci\n");
	CHECK_CONTAINS(mod, "softdep snd_hda_intel pre: vfio-pci\n");
	CHECK_NOT_CONTAINS(mod, "softdep vfio");
	conf = tu_read(tu_fmt("%s/etc/auto-vfio.conf", r));
	CHECK_CONTAINS(conf, "mode = static");
	CHECK_CONTAINS(conf, "select = 0000:03:00.0@1002:73df");
	CHECK_CONTAINS(conf, "select = 0000:04:00.0@1002:67ff");
	/* user files untouched */
	CHECK_CONTAINS(tu_read(tu_fmt("%s/etc/default/grub", r)), "#GRUB_TERMINAL=console");
	CHECK(tu_exists(tu_fmt("%s/var/lib/auto-vfio/manifest", r)));
	/* not the running system: the updates are not run, and it says so */
	CHECK_CONTAINS(res.out, "Skipped 'update-grub'");
	tu_result_free(&res);
}

/*
 * The boot GPU (this machine's iGPU) to VMs: the firmware framebuffer must
 * not be set up on it, so the drop-in carries the one parameter; a selection
 * that leaves the boot GPU to the host leaves the command line as it was.
 */
AV_TEST(setup_static_boot_gpu_drops_firmware_framebuffer)
{
	char *r = machine();
	struct tu_result res;
	char *grub;

	CHECK_INT(SETUP(&res, r, "--static", "--select", "00:02.0", "--yes"), 0);
	grub = tu_read(tu_fmt("%s/etc/default/grub.d/auto-vfio.cfg", r));
	CHECK_CONTAINS(grub, "auto_vfio.bind=0000:00:02.0@8086:4680 "
			     "initcall_blacklist=sysfb_init\"\n");
	/* once */
	CHECK(!strstr(strstr(grub, "initcall_blacklist=") + 1, "initcall_blacklist="));
	CHECK_NOT_CONTAINS(grub, "video=");
	tu_result_free(&res);
	CHECK_INT(SETUP(&res, r, "--static", "--select", "03:00.0", "--yes"), 0);
	grub = tu_read(tu_fmt("%s/etc/default/grub.d/auto-vfio.cfg", r));
	CHECK_CONTAINS(grub, "auto_vfio.bind=0000:03:00.0@1002:73df,0000:03:00.1@1002:ab28\"\n");
	CHECK_NOT_CONTAINS(grub, "initcall_blacklist");
	tu_result_free(&res);
}

AV_TEST(setup_twice_then_uninstall_exact)
{
	char *r = machine(), *orig = digest(r), *after1;
	struct tu_result res;

	CHECK_INT(SETUP(&res, r, "--multiboot", "--select", "03:00.0", "--yes"), 0);
	tu_result_free(&res);
	after1 = digest(r);
	CHECK(strcmp(after1, orig) != 0);
	CHECK_INT(SETUP(&res, r, "--multiboot", "--select", "03:00.0", "--yes"), 0);
	CHECK_CONTAINS(res.out, "Nothing to change");
	CHECK_STR(digest(r), after1);
	tu_result_free(&res);
	/* asked again, it says what is there and how to remove it instead */
	CHECK_INT(SETUP(&res, r, "--static", "--select", "03:00.0", "--dry-run"), 0);
	CHECK_CONTAINS(res.out, "auto-vfio is set up here already (mode multiboot, 2 devices");
	CHECK_CONTAINS(res.out, "'auto-vfio uninstall' removes it");
	CHECK_STR(digest(r), after1);
	tu_result_free(&res);
	/* switching mode changes the files through the same manifest */
	CHECK_INT(SETUP(&res, r, "--static", "--select", "03:00.0", "--yes"), 0);
	tu_result_free(&res);
	CHECK_INT(RUN(&res, r, NULL, "uninstall"), 0);
	CHECK_CONTAINS(res.out, "removed");
	CHECK_STR(digest(r), orig);
	tu_result_free(&res);
	CHECK_INT(RUN(&res, r, NULL, "uninstall"), 0);
	CHECK_CONTAINS(res.out, "nothing to uninstall");
	tu_result_free(&res);
}

/* --default: GRUB_DEFAULT through our drop-in, kept by a re-run, undone by uninstall. */
AV_TEST(setup_default_entry)
{
	char *r = machine(), *orig = digest(r),
	     *dropin = tu_fmt("%s/etc/default/grub.d/auto-vfio.cfg", r);
	struct tu_result res;

	CHECK_INT(SETUP(&res, r, "--multiboot", "--select", "03:00.0,04:00.0", "--default",
			"host-03:00.0", "--yes"),
		  0);
	CHECK_CONTAINS(tu_read(dropin), "GRUB_DEFAULT=\"auto-vfio-host-0000:03:00.0\"\n");
	CHECK_CONTAINS(tu_read(tu_fmt("%s/etc/auto-vfio.conf", r)),
		       "default = host-0000:03:00.0\n");
	tu_result_free(&res);
	/* a re-run without --default keeps it while that entry exists */
	CHECK_INT(SETUP(&res, r, "--multiboot", "--select", "03:00.0,04:00.0", "--yes"), 0);
	CHECK_CONTAINS(tu_read(dropin), "GRUB_DEFAULT=\"auto-vfio-host-0000:03:00.0\"\n");
	tu_result_free(&res);
	CHECK_INT(SETUP(&res, r, "--multiboot", "--select", "03:00.0,04:00.0", "--default",
			"headless", "--yes"),
		  0);
	CHECK_CONTAINS(tu_read(dropin), "GRUB_DEFAULT=\"auto-vfio-headless\"\n");
	tu_result_free(&res);
	/* no such entry, a bad word, the wrong mode: refused, nothing changed */
	CHECK_INT(SETUP(&res, r, "--multiboot", "--select", "03:00.0", "--default", "host-04:00.0",
			"--yes"),
		  2);
	CHECK_CONTAINS(res.err, "not in the selection");
	tu_result_free(&res);
	CHECK_INT(SETUP(&res, r, "--multiboot", "--select", "03:00.0", "--default", "sometimes"),
		  2);
	CHECK_CONTAINS(res.err, "--default takes host-ADDR, headless or plain");
	tu_result_free(&res);
	CHECK_INT(SETUP(&res, r, "--static", "--select", "03:00.0", "--default", "headless"), 2);
	tu_result_free(&res);
	CHECK_CONTAINS(tu_read(dropin), "GRUB_DEFAULT=\"auto-vfio-headless\"\n");
	/* plain: the distribution's default again */
	CHECK_INT(SETUP(&res, r, "--multiboot", "--select", "03:00.0,04:00.0", "--default", "plain",
			"--yes"),
		  0);
	CHECK_NOT_CONTAINS(tu_read(dropin), "GRUB_DEFAULT");
	tu_result_free(&res);
	CHECK_INT(SETUP(&res, r, "--multiboot", "--select", "03:00.0,04:00.0", "--default",
			"host-0000:04:00.0", "--yes"),
		  0);
	tu_result_free(&res);
	CHECK_INT(RUN(&res, r, NULL, "uninstall"), 0);
	CHECK(!tu_exists(dropin));
	CHECK_STR(digest(r), orig);
	tu_result_free(&res);
}

/* A systemd-boot machine: its ESP at /boot/efi with loader.conf, no GRUB. */
static char *sdboot_machine(void)
{
	char *r = machine();

	CHECK(unlink(tu_fmt("%s/etc/default/grub", r)) == 0);
	tu_mkdirs(tu_fmt("%s/boot/efi/loader/entries", r));
	tu_write(tu_fmt("%s/boot/efi/loader/loader.conf", r),
		 "timeout 3\ndefault debian-*\n#console-mode keep\n");
	return r;
}

#define LOADER_MARK                                                                                \
	"# auto-vfio: the default entry (setup --default); 'auto-vfio uninstall' restores this "   \
	"file\n"

/*
 * On systemd-boot the default is loader.conf's `default`: a glob without the
 * kernel version, so the newest kernel's entry is the default after every
 * upgrade; plain and uninstall give the file back byte for byte.
 */
AV_TEST(setup_default_entry_systemd_boot)
{
	char *r = sdboot_machine(), *orig = digest(r),
	     *conf = tu_fmt("%s/boot/efi/loader/loader.conf", r), *conf_orig = tu_read(conf);
	struct tu_result res;

	CHECK_INT(SETUP(&res, r, "--multiboot", "--select", "03:00.0,04:00.0", "--default",
			"host-03:00.0", "--yes"),
		  0);
	CHECK_CONTAINS(res.out, "+++ b/boot/efi/loader/loader.conf");
	CHECK_STR(tu_read(conf),
		  "timeout 3\n" LOADER_MARK
		  "default *-auto-vfio-host-0000-03-00.0.conf\n#console-mode keep\n");
	tu_result_free(&res);
	CHECK_INT(SETUP(&res, r, "--multiboot", "--select", "03:00.0,04:00.0", "--yes"), 0);
	CHECK_CONTAINS(res.out, "Nothing to change");
	tu_result_free(&res);
	/* the EFI variable would win over loader.conf: said */
	tu_write(tu_fmt("%s/sys/firmware/efi/efivars/"
			"LoaderEntryDefault-4a67b082-0a4c-41cf-b6c7-440b29bb8c4f",
			r),
		 "\a\0\0\0x\0");
	CHECK_INT(SETUP(&res, r, "--multiboot", "--select", "03:00.0,04:00.0", "--default",
			"headless", "--yes"),
		  0);
	CHECK_CONTAINS(res.out, "LoaderEntryDefault ('bootctl set-default', 'd' in the menu) "
				"overrides loader.conf's default");
	CHECK_STR(tu_read(conf), "timeout 3\n" LOADER_MARK
				 "default *-auto-vfio-headless.conf\n#console-mode keep\n");
	tu_result_free(&res);
	CHECK_INT(SETUP(&res, r, "--multiboot", "--select", "03:00.0,04:00.0", "--default", "plain",
			"--yes"),
		  0);
	CHECK_STR(tu_read(conf), conf_orig);
	tu_result_free(&res);
	CHECK_INT(SETUP(&res, r, "--multiboot", "--select", "03:00.0,04:00.0", "--default",
			"host-0000:04:00.0", "--yes"),
		  0);
	CHECK_CONTAINS(tu_read(conf), "\ndefault *-auto-vfio-host-0000-04-00.0.conf\n");
	tu_result_free(&res);
	CHECK_INT(RUN(&res, r, NULL, "uninstall"), 0);
	CHECK_STR(tu_read(conf), conf_orig);
	CHECK_STR(digest(r), orig);
	tu_result_free(&res);

	/* no loader.conf yet: one is written beside the entries, and uninstall removes it */
	CHECK(unlink(conf) == 0);
	CHECK_INT(SETUP(&res, r, "--multiboot", "--select", "03:00.0,04:00.0", "--default",
			"headless", "--yes"),
		  0);
	CHECK_STR(tu_read(conf), LOADER_MARK "default *-auto-vfio-headless.conf\n");
	tu_result_free(&res);
	CHECK_INT(RUN(&res, r, NULL, "uninstall"), 0);
	CHECK(!tu_exists(conf));
	tu_result_free(&res);
}

AV_TEST(setup_none_removes_drop_ins)
{
	char *r = machine();
	struct tu_result res;

	CHECK_INT(SETUP(&res, r, "--static", "--select", "03:00.0", "--yes"), 0);
	tu_result_free(&res);
	CHECK_INT(SETUP(&res, r, "--none", "--yes"), 0);
	CHECK(!tu_exists(tu_fmt("%s/etc/default/grub.d/auto-vfio.cfg", r)));
	CHECK(!tu_exists(tu_fmt("%s/etc/modprobe.d/auto-vfio.conf", r)));
	CHECK_CONTAINS(tu_read(tu_fmt("%s/etc/auto-vfio.conf", r)), "mode = none");
	tu_result_free(&res);
}

AV_TEST(setup_foreign_setup_disabled_and_restored)
{
	char *r = machine(), *orig;
	struct tu_result res;
	char *grub, *mods;

	tu_write(tu_fmt("%s/etc/default/grub", r),
		 "GRUB_DEFAULT=0\n"
		 "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet  intel_iommu=on "
		 "vfio-pci.ids=1002:67ff,1002:aae0\"\n"
		 "GRUB_CMDLINE_LINUX=\"\"");
	tu_write(tu_fmt("%s/etc/initramfs-tools/modules", r),
		 "# modules\nvfio\nvfio_iommu_type1\nvfio_pci ids=1002:67ff\n");
	tu_write(tu_fmt("%s/etc/modprobe.d/vfio.conf", r),
		 "options vfio-pci ids=1002:67ff,1002:aae0\nsoftdep amdgpu pre: vfio-pci\n"
		 "blacklist pcspkr\n");
	orig = digest(r);

	CHECK_INT(SETUP(&res, r, "--static", "--select", "03:00.0", "--yes"), 5);
	CHECK_CONTAINS(res.out, "/etc/default/grub:2: vfio-pci.ids=1002:67ff,1002:aae0");
	CHECK_CONTAINS(res.out, "/etc/modprobe.d/vfio.conf:1: options vfio-pci");
	CHECK_CONTAINS(res.out, "0000:04:00.0 is on vfio-pci now");
	CHECK_STR(digest(r), orig);
	tu_result_free(&res);

	CHECK_INT(SETUP(&res, r, "--static", "--select", "03:00.0", "--yes", "--disable-foreign"),
		  0);
	CHECK_CONTAINS(res.out, "Reboot now");
	grub = tu_read(tu_fmt("%s/etc/default/grub", r));
	CHECK_CONTAINS(grub, "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet  intel_iommu=on\"\n");
	CHECK_CONTAINS(grub, "# auto-vfio-disabled: GRUB_CMDLINE_LINUX_DEFAULT=");
	CHECK_CONTAINS(grub, "GRUB_CMDLINE_LINUX=\"\"");
	mods = tu_read(tu_fmt("%s/etc/initramfs-tools/modules", r));
	CHECK_CONTAINS(mods, "#auto-vfio-disabled: vfio\n#auto-vfio-disabled: vfio_iommu_type1\n");
	CHECK_CONTAINS(tu_read(tu_fmt("%s/etc/modprobe.d/vfio.conf", r)), "\nblacklist pcspkr\n");
	/* no drop-in yet: the reboot comes first */
	CHECK(!tu_exists(tu_fmt("%s/etc/default/grub.d/auto-vfio.cfg", r)));
	tu_result_free(&res);

	/* after the reboot nothing is in the way; the vfio-pci devices are ours to judge now */
	CHECK_INT(SETUP(&res, r, "--static", "--select", "03:00.0", "--yes"), 0);
	CHECK(tu_exists(tu_fmt("%s/etc/default/grub.d/auto-vfio.cfg", r)));
	tu_result_free(&res);
	CHECK_INT(RUN(&res, r, NULL, "uninstall"), 0);
	CHECK_STR(digest(r), orig);
	tu_result_free(&res);
}

AV_TEST_T(setup_faults_at_every_step, 300)
{
	/* every disk step of a setup fails in turn, or the process dies there */
	for (unsigned at = 1;; at++) {
		for (int kill = 0; kill < 2; kill++) {
			char *r = machine(), *orig = digest(r);
			char *fault = tu_fmt("AUTO_VFIO_FAULT=%u:%s", at, kill ? "kill" : "ENOSPC");
			const char *env[] = {fault, NULL};
			struct tu_result res;
			int st;

			st = RUN(&res, r, env, "setup", "--static", "--select", "03:00.0", "--yes");
			tu_result_free(&res);
			if (st == 0 && !kill) {
				/* past the last step: the whole setup went through */
				CHECK(at > 4);
				return;
			}
			CHECK_MSG(st != 0, "fault %s did not fail setup", fault);
			/* a failure is rolled back whole: no orphan copy, no manifest, no directory
			 */
			if (!kill)
				CHECK_MSG(strcmp(digest(r), orig) == 0, "%s left:\n%s", fault,
					  digest(r));
			/* old or new, never torn: the drop-in is either absent or whole */
			char *g = tu_read(tu_fmt("%s/etc/default/grub.d/auto-vfio.cfg", r));

			CHECK(!g || strstr(g, "auto_vfio.bind=0000:03:00.0@1002:73df,"
					      "0000:03:00.1@1002:ab28\"\n"));
			CHECK_INT(RUN(&res, r, NULL, "uninstall"), 0);
			tu_result_free(&res);
			CHECK_MSG(strcmp(digest(r), orig) == 0, "not restored after %s", fault);
		}
		CHECK(at < 60);
	}
}

AV_TEST(setup_failed_update_rolls_back)
{
	char *r = machine(), *orig = digest(r), *after;
	const char *fail_grub[] = {
	    "AUTO_VFIO_UPDATE_INITRAMFS=echo building images",
	    "AUTO_VFIO_UPDATE_GRUB=echo grub-probe: error: disk not found >&2; "
	    "exit 1",
	    NULL};
	const char *ok[] = {"AUTO_VFIO_UPDATE_INITRAMFS=true", "AUTO_VFIO_UPDATE_GRUB=true", NULL};
	struct tu_result res;

	CHECK_INT(RUN(&res, r, fail_grub, "setup", "--static", "--select", "03:00.0", "--yes"), 6);
	CHECK_CONTAINS(res.err, "grub-probe: error: disk not found");
	CHECK_CONTAINS(res.err, "back as it was");
	/* the images were built from the new files: built again after the rollback */
	CHECK_INT(strstr(strstr(res.out, "Updating the initramfs") + 1, "Updating the initramfs") !=
		      NULL,
		  1);
	CHECK_STR(digest(r), orig);
	tu_result_free(&res);

	/* a second setup over an existing one rolls back to that one, not to nothing */
	CHECK_INT(RUN(&res, r, ok, "setup", "--static", "--select", "03:00.0", "--yes"), 0);
	tu_result_free(&res);
	after = digest(r);
	CHECK_INT(
	    RUN(&res, r, fail_grub, "setup", "--static", "--select", "03:00.0,04:00.0", "--yes"),
	    6);
	tu_result_free(&res);
	CHECK_STR(digest(r), after);
	CHECK_INT(RUN(&res, r, ok, "uninstall"), 0);
	CHECK_STR(digest(r), orig);
	tu_result_free(&res);
}

AV_TEST(setup_bad_input_clear_errors)
{
	char *r = machine(), *orig = digest(r);
	struct tu_result res;

	CHECK_INT(SETUP(&res, r, "--static", "--select", "0000:7f:00.0", "--yes"), 4);
	CHECK_CONTAINS(res.err, "0000:7f:00.0: no such PCI device");
	tu_result_free(&res);
	/* the USB controller shares group 7 with a memory controller */
	CHECK_INT(SETUP(&res, r, "--static", "--select", "00:14.0", "--yes"), 4);
	CHECK_CONTAINS(res.err, "IOMMU group 7 is unsafe");
	CHECK_CONTAINS(res.err, "--force-unsafe");
	tu_result_free(&res);
	CHECK_INT(SETUP(&res, r, "--static", "--select", "3:0.0", "--yes"), 2);
	CHECK_CONTAINS(res.err, "'3:0.0' is not a PCI address");
	tu_result_free(&res);
	CHECK_INT(SETUP(&res, r, "--static", "--yes"), 2);
	CHECK_CONTAINS(res.err, "--yes needs --select");
	tu_result_free(&res);
	CHECK_INT(SETUP(&res, r, "--static", "--multiboot"), 2);
	tu_result_free(&res);
	CHECK_INT(SETUP(&res, r, "--frobnicate"), 2);
	tu_result_free(&res);
	/* the host keeps the other RX 550 function's twin? no: --static-ids refuses shared IDs */
	CHECK_STR(digest(r), orig);
}

AV_TEST(setup_forced_unsafe_is_recorded)
{
	char *r = machine();
	struct tu_result res;

	CHECK_INT(SETUP(&res, r, "--static", "--select", "00:14.0", "--force-unsafe", "--yes"), 0);
	CHECK_CONTAINS(res.err, "WARNING");
	CHECK_CONTAINS(tu_read(tu_fmt("%s/etc/auto-vfio.conf", r)),
		       "force_unsafe = 0000:00:14.0@8086:7ae0");
	tu_result_free(&res);
}

AV_TEST(setup_damaged_config_replaced)
{
	char *r = machine();
	struct tu_result res;

	tu_write(tu_fmt("%s/etc/auto-vfio.conf", r), "mode = sideways\nselect = nonsense\n");
	CHECK_INT(SETUP(&res, r, "--multiboot", "--select", "03:00.0", "--yes"), 0);
	CHECK_CONTAINS(res.err, "auto-vfio.conf:1");
	CHECK_CONTAINS(tu_read(tu_fmt("%s/etc/auto-vfio.conf", r)), "mode = multiboot");
	tu_result_free(&res);
	/* the damaged file was someone's: uninstall brings it back */
	CHECK_INT(RUN(&res, r, NULL, "uninstall"), 0);
	CHECK_STR(tu_read(tu_fmt("%s/etc/auto-vfio.conf", r)),
		  "mode = sideways\nselect = nonsense\n");
	tu_result_free(&res);
}

AV_TEST(setup_no_iommu_refused)
{
	char *r = machine();
	struct tu_result res;
	char *cmd = tu_fmt("rm -rf '%s/sys/kernel/iommu_groups'", r);

	CHECK_INT(system(cmd), 0);
	CHECK_INT(SETUP(&res, r, "--static", "--select", "03:00.0", "--yes"), 3);
	CHECK_CONTAINS(res.err, "no IOMMU groups");
	CHECK(!tu_exists(tu_fmt("%s/etc/auto-vfio.conf", r)));
	tu_result_free(&res);
}

/* Answers a prompt, given all output so far; NULL sends end of input. */
typedef const char *(*answer_fn)(const char *out, void *data);

/* Drive setup (with option @extra, may be NULL) through a pty, answering each prompt through
 * @answer. */
static int pty_session_opt(const char *r, const char *extra, answer_fn answer, void *data,
			   char **out)
{
	char *prog = tu_prog("auto-vfio");
	size_t len = 0;
	FILE *mem = open_memstream(out, &len);
	int fd, status;
	pid_t pid;

	pid = forkpty(&fd, NULL, NULL, NULL);
	CHECK(pid >= 0);
	if (pid == 0) {
		execl(prog, prog, "--root", r, "--no-color", "setup", extra, (char *)NULL);
		_exit(127);
	}
	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		char buf[4096];
		ssize_t n;

		if (poll(&p, 1, 20000) <= 0)
			break;
		n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		fwrite(buf, 1, (size_t)n, mem);
		fflush(mem);
		/* a prompt ends the output with "] " or ": " and waits: a read that
		 * merely stops there (a busy machine splits lines) is followed by
		 * more output */
		if (len >= 2 &&
		    (memcmp(*out + len - 2, "] ", 2) == 0 ||
		     memcmp(*out + len - 2, ": ", 2) == 0) &&
		    poll(&p, 1, 300) == 0) {
			const char *a = answer(*out, data);

			if (!a) {
				char eof = 4; /* ^D at the start of a line: end of input */

				CHECK(write(fd, &eof, 1) == 1);
			} else {
				CHECK(write(fd, a, strlen(a)) == (ssize_t)strlen(a));
				CHECK(write(fd, "\n", 1) == 1);
			}
		}
	}
	fclose(mem);
	close(fd);
	CHECK(waitpid(pid, &status, 0) == pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static int pty_session(const char *r, answer_fn answer, void *data, char **out)
{
	return pty_session_opt(r, NULL, answer, data, out);
}

static bool ends_with(const char *s, const char *tail)
{
	size_t a = strlen(s), b = strlen(tail);

	return a >= b && strcmp(s + a - b, tail) == 0;
}

static const char *take_defaults(const char *out, void *data)
{
	(void)out;
	(void)data;
	return "";
}

AV_TEST_T(setup_interactive_defaults_select_nothing, 120)
{
	char *r = machine(), *out = NULL;

	/* Enter everywhere: multi-boot, and nothing picked. */
	CHECK_INT(pty_session(r, take_defaults, NULL, &out), 1);
	CHECK_CONTAINS(out, "Multi-boot (recommended)");
	CHECK_CONTAINS(out, "Numbers or ranges (e.g. 1 3-4), Enter for none, ? for the full "
			    "listing: ");
	CHECK_CONTAINS(out, "nothing selected");
	CHECK_CONTAINS(out, "- unsafe: not selectable (--force-unsafe overrides");
	CHECK(!tu_exists(tu_fmt("%s/etc/auto-vfio.conf", r)));
	free(out);
}

/* The questions name the boot menu the entries go to. */
AV_TEST_T(setup_interactive_names_the_loader, 120)
{
	char *r = sdboot_machine(), *out = NULL;

	CHECK_INT(pty_session(r, take_defaults, NULL, &out), 1);
	CHECK_CONTAINS(out,
		       "Multi-boot (recommended): a systemd-boot entry per GPU the host keeps");
	CHECK_NOT_CONTAINS(out, "GRUB");
	free(out);
	r = machine();
	CHECK_INT(pty_session(r, take_defaults, NULL, &out), 1);
	CHECK_CONTAINS(out, "Multi-boot (recommended): a GRUB entry per GPU the host keeps");
	free(out);
}

static const char *picker_prompt = "Enter for none, ? for the full listing: ";

/* The number the table gives the line of @addr ("03:00.0"), as a string. */
static const char *number_of(const char *out, const char *addr)
{
	const char *at = strstr(out, tu_fmt("  %s  ", addr)), *p;

	CHECK_MSG(at != NULL, "no line for %s", addr);
	for (p = at; p > out && p[-1] != '\n'; p--)
		;
	p += strspn(p, " *");
	CHECK_MSG(p < at && *p >= '1' && *p <= '9', "line of %s has no number", addr);
	return tu_fmt("%d", atoi(p));
}

/* Multi-boot; one silly answer; the line of the RX 6700 XT; apply. */
static const char *pick_navi(const char *out, void *data)
{
	bool *fooled = data;

	if (ends_with(out, "Mode [m/s/n, default m]: "))
		return "m";
	if (ends_with(out, "Apply these changes? [y/N] "))
		return "y";
	if (ends_with(out, "Default [p/1.../h, default p]: "))
		return "1";
	if (ends_with(out, picker_prompt)) {
		if (!*fooled) {
			*fooled = true;
			return "maybe";
		}
		return number_of(out, "03:00.0");
	}
	return "n";
}

AV_TEST_T(setup_interactive_selects_gpu_and_confirms, 120)
{
	char *r = machine(), *out = NULL, *conf;
	bool fooled = false;
	int st = pty_session(r, pick_navi, &fooled, &out);

	CHECK_MSG(st == 0, "exit status %d:\n%s", st, out);
	CHECK_CONTAINS(out, "'maybe' is not a number or a range like 3-4.");
	/* the GPU and its audio function are one line */
	CHECK_CONTAINS(out, "  03:00.0  AMD Radeon RX 6700/6700 XT/6750 XT        amdgpu\r\n"
			    "        + 03:00.1 Audio device\r\n");
	CHECK_CONTAINS(out, "Apply these changes? [y/N]");
	conf = tu_read(tu_fmt("%s/etc/auto-vfio.conf", r));
	CHECK_CONTAINS(conf, "mode = multiboot");
	CHECK_CONTAINS(conf, "select = 0000:03:00.0@1002:73df");
	CHECK_CONTAINS(conf, "select = 0000:03:00.1@1002:ab28");
	CHECK_NOT_CONTAINS(conf, "0000:00:02.0");
	/* the default entry asked for: the host keeps the RX 6700 XT */
	CHECK_CONTAINS(out, "1  host keeps ");
	CHECK_CONTAINS(conf, "default = host-0000:03:00.0\n");
	CHECK_CONTAINS(tu_read(tu_fmt("%s/etc/default/grub.d/auto-vfio.cfg", r)),
		       "GRUB_DEFAULT=\"auto-vfio-host-0000:03:00.0\"\n");
	free(out);
}

/*
 * The table of the Alder Lake machine: GPUs first with the boot VGA marked,
 * then USB, network, storage, others; unsafe groups with their reason and
 * no number; groups of only bridges and platform devices left out.
 */
AV_TEST_T(setup_picker_table_fixture_011, 120)
{
	char *r = machine(), *out = NULL, *orig = digest(r);
	const char *gpus, *usb, *nic, *sto, *oth;

	CHECK_INT(pty_session(r, take_defaults, NULL, &out), 1);
	gpus = strstr(out, "\r\nGPUs\r\n");
	usb = strstr(out, "\r\nUSB controllers\r\n");
	nic = strstr(out, "\r\nNetwork controllers\r\n");
	sto = strstr(out, "\r\nStorage controllers\r\n");
	oth = strstr(out, "\r\nOther devices\r\n");
	CHECK_MSG(gpus && usb && nic && sto && oth && gpus < usb && usb < nic && nic < sto &&
		      sto < oth,
		  "sections out of order:\n%s", out);
	CHECK_CONTAINS(out, "GPUs\r\n   1  00:02.0  Intel AlderLake-S GT1                     i915 "
			    " [boot VGA]\r\n   2  03:00.0  AMD Radeon RX 6700/6700 XT/6750 XT");
	CHECK_CONTAINS(out, "   3  04:00.0  AMD Radeon RX 550 640SP                   vfio-pci\r\n"
			    "        + 04:00.1 Audio device\r\n");
	CHECK_CONTAINS(out, "   -  00:14.0  Intel ");
	CHECK_CONTAINS(out, "        unsafe: holds platform device the host needs: 0000:00:14.2 "
			    "RAM memory\r\n");
	CHECK_CONTAINS(out, "   -  00:1f.3  ");
	CHECK_CONTAINS(out, "Not shown: 18 IOMMU groups of only bridges and platform devices");
	CHECK_NOT_CONTAINS(out, "00:00.0");
	CHECK_NOT_CONTAINS(out, "  01:00.0  ");
	CHECK_CONTAINS(out, "  15  00:16.0  ");
	CHECK_NOT_CONTAINS(out, "  16  ");
	CHECK_STR(digest(r), orig);
	free(out);
}

struct script {
	const char *const *answers; /* to the picker's prompts, in turn */
	size_t next;
	const char *apply; /* to "Apply these changes?" */
};

static const char *scripted(const char *out, void *data)
{
	struct script *sc = data;

	if (ends_with(out, "Mode [m/s/n, default m]: "))
		return "m";
	if (ends_with(out, "Apply these changes? [y/N] "))
		return sc->apply;
	if (ends_with(out, picker_prompt))
		return sc->answers[sc->next] ? sc->answers[sc->next++] : NULL;
	return "";
}

/* Bad input is re-asked with its reason; '?' shows every group; ranges pick; a preview per entry.
 */
AV_TEST_T(setup_picker_input_and_preview, 120)
{
	static const char *const answers[] = {"x1", "0", "4-2", "16", "?", "2-3 5", NULL};
	struct script sc = {answers, 0, "n"};
	char *r = machine(), *out = NULL, *orig = digest(r);

	CHECK_INT(pty_session(r, scripted, &sc, &out), 1);
	CHECK_CONTAINS(out, "'x1' is not a number or a range like 3-4.\r\n");
	CHECK_CONTAINS(out, "0 is not in the table: choose from 1 to 15.\r\n");
	CHECK_CONTAINS(out, "4-2: a range goes from the lower number to the higher.\r\n");
	CHECK_CONTAINS(out, "16 is not in the table: choose from 1 to 15.\r\n");
	CHECK_CONTAINS(out, "IOMMU group 0  [UNSAFE]\r\n"); /* the full listing */
	CHECK_CONTAINS(out,
		       "The boot entries (multi-boot):\r\n"
		       "  host keeps Radeon RX 6700/6700 XT/6750 XT (03:00.0), AlderLake-S GT1 "
		       "(00:02.0); VMs get Radeon RX 550 640SP (04:00.0) + its audio, USB "
		       "41:00.0\r\n"
		       "  host keeps Radeon RX 550 640SP (04:00.0), AlderLake-S GT1 (00:02.0); "
		       "VMs get Radeon RX 6700/6700 XT/6750 XT (03:00.0) + its audio, USB "
		       "41:00.0\r\n"
		       "  headless: host keeps AlderLake-S GT1 (00:02.0); VMs get Radeon RX "
		       "6700/6700 XT/6750 XT (03:00.0) + its audio, Radeon RX 550 640SP "
		       "(04:00.0) + its audio, USB 41:00.0\r\n");
	CHECK_CONTAINS(out, "Cancelled: nothing was changed.");
	CHECK_STR(digest(r), orig);
	free(out);
}

/* Static: the one selection; --force-unsafe numbers the unsafe lines too. */
AV_TEST_T(setup_picker_static_preview_force_unsafe, 120)
{
	static const char *const answers[] = {"2", NULL};
	struct script sc = {answers, 0, "n"};
	char *r = machine(), *out = NULL;

	tu_write(tu_fmt("%s/etc/auto-vfio.conf", r), "version = 1\nmode = static\n"
						     "select = 0000:0d:00.0@8086:1137\n");
	CHECK_INT(pty_session_opt(r, "--force-unsafe", scripted, &sc, &out), 1);
	CHECK_CONTAINS(out, "   4  00:14.0  Intel ");
	CHECK_CONTAINS(out, "*  5  0d:00.0  Intel Thunderbolt 4 NHI");
	CHECK_CONTAINS(out, "* selected now\r\n");
	CHECK_CONTAINS(out, "WARNING: --force-unsafe");
	CHECK_CONTAINS(out, "Every boot (static): host keeps AlderLake-S GT1 (00:02.0), Radeon RX "
			    "550 640SP (04:00.0); VMs get Radeon RX 6700/6700 XT/6750 XT (03:00.0) "
			    "+ its audio\r\n");
	free(out);
}

static const char *static_then_eof(const char *out, void *data)
{
	(void)data;
	return ends_with(out, "Mode [m/s/n, default m]: ") ? "s" : NULL;
}

AV_TEST_T(setup_interactive_eof_changes_nothing, 120)
{
	char *r = machine(), *orig = digest(r), *out = NULL;

	CHECK_INT(pty_session(r, static_then_eof, NULL, &out), 1);
	CHECK_CONTAINS(out, "end of input");
	CHECK_STR(digest(r), orig);
	free(out);
}

/* The recommended extras in one setup: their files go through the same manifest. */
AV_TEST(setup_extras_written_and_undone)
{
	char *r = machine(), *orig, *hp, *qemu, *zram;
	struct tu_result res;

	tu_write(tu_fmt("%s/proc/meminfo", r), "MemTotal:       32768000 kB\n");
	tu_write(tu_fmt("%s/etc/libvirt/qemu.conf", r),
		 tu_read(tu_fmt("%s/tests/data/qemu.conf", tu_srcdir())));
	tu_write(tu_fmt("%s/etc/default/zramswap", r),
		 tu_read(tu_fmt("%s/tests/data/zramswap", tu_srcdir())));
	tu_write(tu_fmt("%s/var/lib/dpkg/status", r),
		 "Package: zram-tools\nStatus: install ok installed\nVersion: 0.3.3.1-1.1\n");
	tu_mkdirs(tu_fmt("%s/dev/input", r));
	tu_symlink("../event3", tu_fmt("%s/dev/input/by-id/usb-Cherry_Keyboard-event-kbd", r));
	orig = digest(r);

	CHECK_INT(SETUP(&res, r, "--multiboot", "--select", "03:00.0", "--hugepages=2M", "--evdev",
			"--zram", "--yes"),
		  0);
	/* (32768000 kB - 4 GiB) / 2 MiB */
	hp = tu_read(tu_fmt("%s/etc/default/grub.d/auto-vfio-hugepages.cfg", r));
	CHECK_CONTAINS(hp, "default_hugepagesz=2M hugepagesz=2M hugepages=13952");
	qemu = tu_read(tu_fmt("%s/etc/libvirt/qemu.conf", r));
	CHECK_CONTAINS(qemu, "\"/dev/input/by-id/usb-Cherry_Keyboard-event-kbd\"");
	CHECK_CONTAINS(res.out, "<input type='evdev'>");
	zram = tu_read(tu_fmt("%s/etc/default/zramswap", r));
	CHECK_CONTAINS(zram, "\nALGO=zstd\n");
	CHECK_CONTAINS(zram, "\nPERCENT=25\n");
	CHECK_CONTAINS(res.out, "Skipped restarting");
	tu_result_free(&res);

	/* the same answers again: nothing changes */
	CHECK_INT(SETUP(&res, r, "--multiboot", "--select", "03:00.0", "--hugepages=2M", "--evdev",
			"--zram", "--yes"),
		  0);
	CHECK_CONTAINS(res.out, "Nothing to change");
	tu_result_free(&res);
	CHECK_INT(RUN(&res, r, NULL, "uninstall"), 0);
	CHECK_STR(digest(r), orig);
	tu_result_free(&res);
}

AV_TEST(setup_extras_bad_flags)
{
	char *r = machine();
	struct tu_result res;

	CHECK_INT(SETUP(&res, r, "--static", "--select", "03:00.0", "--hugepages=3M", "--yes"), 2);
	CHECK_CONTAINS(res.err, "--hugepages takes 2M or 1G");
	tu_result_free(&res);
	/* no pdpe1gb in this machine's cpuinfo */
	tu_write(tu_fmt("%s/proc/meminfo", r), "MemTotal:       32768000 kB\n");
	CHECK_INT(SETUP(&res, r, "--static", "--select", "03:00.0", "--hugepages=1G", "--yes"), 1);
	CHECK_CONTAINS(res.err, "pdpe1gb");
	CHECK(!tu_exists(tu_fmt("%s/etc/auto-vfio.conf", r)));
	tu_result_free(&res);
}

/* update-grub runs with AUTO_VFIO_ROOT set to the root; no entries made is an error. */
AV_TEST(setup_multiboot_checks_the_entries)
{
	char *r = machine();
	const char *none[] = {"AUTO_VFIO_UPDATE_INITRAMFS=true",
			      "AUTO_VFIO_UPDATE_GRUB=mkdir -p \"$AUTO_VFIO_ROOT/boot/grub\" && "
			      "echo \"42_auto-vfio: warning: no IOMMU groups; no auto-vfio boot "
			      "entries\" >&2 && echo \"menuentry 'Debian' --id 'gnulinux' {\" "
			      "> \"$AUTO_VFIO_ROOT/boot/grub/grub.cfg\"",
			      NULL};
	const char *some[] = {
	    "AUTO_VFIO_UPDATE_INITRAMFS=true",
	    "AUTO_VFIO_UPDATE_GRUB=echo \"menuentry 'x' --id 'auto-vfio-6.1-headless' {\" "
	    "> \"$AUTO_VFIO_ROOT/boot/grub/grub.cfg\"",
	    NULL};
	struct tu_result res;

	CHECK_INT(RUN(&res, r, none, "setup", "--multiboot", "--select", "03:00.0", "--yes"), 1);
	/* the generator's own warning is shown, and what to do */
	CHECK_CONTAINS(res.out, "42_auto-vfio: warning: no IOMMU groups");
	CHECK_CONTAINS(res.err, "update-grub made no auto-vfio entries");
	CHECK(tu_exists(tu_fmt("%s/etc/auto-vfio.conf", r)));
	tu_result_free(&res);
	CHECK_INT(
	    RUN(&res, r, some, "setup", "--multiboot", "--select", "03:00.0,04:00.0", "--yes"), 0);
	CHECK_CONTAINS(res.out, "Done.");
	tu_result_free(&res);
}

/* A machine whose files carry owners and modes of their own, with the extras' files. */
static char *machine_with_extras(void)
{
	char *r = machine();
	char *qemu = tu_fmt("%s/etc/libvirt/qemu.conf", r);

	tu_write(tu_fmt("%s/proc/meminfo", r), "MemTotal:       32768000 kB\n");
	tu_write(qemu, tu_read(tu_fmt("%s/tests/data/qemu.conf", tu_srcdir())));
	CHECK_INT(chown(qemu, 64055, 108), 0);
	CHECK_INT(chmod(qemu, 0600), 0);
	tu_write(tu_fmt("%s/etc/default/zramswap", r),
		 tu_read(tu_fmt("%s/tests/data/zramswap", tu_srcdir())));
	tu_write(tu_fmt("%s/var/lib/dpkg/status", r),
		 "Package: zram-tools\nStatus: install ok installed\nVersion: 0.3.3.1-1.1\n");
	tu_mkdirs(tu_fmt("%s/dev/input", r));
	tu_symlink("../event3", tu_fmt("%s/dev/input/by-id/usb-Cherry_Keyboard-event-kbd", r));
	return r;
}

#define SETUP_ALL                                                                                  \
	"setup", "--static", "--select", "03:00.0", "--hugepages=2M", "--evdev", "--zram", "--yes"

/*
 * Kill setup at every disk step, then uninstall; kill uninstall at every
 * step, then uninstall again; kill a second setup over a first one. Every
 * time the last uninstall exits 0 and the tree is the one before the first
 * setup, byte for byte, modes and owners included.
 */
AV_TEST_T(setup_uninstall_kill_sweep, 900)
{
	unsigned kills[4] = {0};

	for (int phase = 0; phase < 4; phase++) {
		for (unsigned at = 1;; at++) {
			char *r = machine_with_extras(), *orig = digest(r);
			char *fault = tu_fmt("AUTO_VFIO_FAULT=%u:kill", at);
			const char *env[] = {fault, NULL};
			struct tu_result res;
			bool killed;
			int st;

			if (phase == 0) {
				st = RUN(&res, r, env, SETUP_ALL);
			} else if (phase == 1) {
				CHECK_INT(RUN(&res, r, NULL, SETUP_ALL), 0);
				tu_result_free(&res);
				st = RUN(&res, r, env, "uninstall");
			} else if (phase == 2) {
				CHECK_INT(RUN(&res, r, NULL, SETUP_ALL), 0);
				tu_result_free(&res);
				st = RUN(&res, r, env, "setup", "--multiboot", "--select",
					 "03:00.0,04:00.0", "--hugepages=2M", "--yes");
			} else {
				/* a host-tuning command on its own, then its own undo */
				CHECK_INT(
				    RUN(&res, r, NULL, "hugepages", "--size", "2M", "--no-update"),
				    0);
				tu_result_free(&res);
				st = RUN(&res, r, env, "evdev", "--apply", "--no-restart");
			}
			tu_result_free(&res);
			CHECK_MSG(st == 0 || st == 128 + SIGKILL, "phase %d, %s: status %d", phase,
				  fault, st);
			killed = st != 0;
			st = RUN(&res, r, NULL, "uninstall");
			CHECK_MSG(st == 0, "phase %d, after %s: uninstall exits %d: %s", phase,
				  fault, st, res.err);
			tu_result_free(&res);
			CHECK_MSG(strcmp(digest(r), orig) == 0,
				  "phase %d: not restored after %s:\n%s\nexpected\n%s", phase,
				  fault, digest(r), orig);
			if (!killed)
				break; /* past the last step */
			kills[phase]++;
			CHECK(at < 200);
		}
	}
	printf("kill sweep: setup %u, uninstall %u, setup over setup %u, evdev %u kill points\n",
	       kills[0], kills[1], kills[2], kills[3]);
}

/* setup, an edit, uninstall, twice: the first kept copy stays, the second gets a new name. */
AV_TEST(uninstall_never_overwrites_a_kept_copy)
{
	char *r = machine(), *conf = tu_fmt("%s/etc/auto-vfio.conf", r);
	struct tu_result res;

	for (int round = 0; round < 2; round++) {
		CHECK_INT(SETUP(&res, r, "--static", "--select", "03:00.0", "--yes"), 0);
		tu_result_free(&res);
		tu_write(conf, round ? "second edit\n" : "first edit\n");
		CHECK_INT(RUN(&res, r, NULL, "uninstall"), 0);
		/* files, not the directories made for them */
		CHECK_CONTAINS(res.out, "Restoring 3 files:");
		CHECK_CONTAINS(res.out, round ? "/etc/auto-vfio.conf.auto-vfio-saved.1\n"
					      : "/etc/auto-vfio.conf.auto-vfio-saved\n");
		tu_result_free(&res);
	}
	CHECK_STR(tu_read(tu_fmt("%s.auto-vfio-saved", conf)), "first edit\n");
	CHECK_STR(tu_read(tu_fmt("%s.auto-vfio-saved.1", conf)), "second edit\n");
}

/* A crafted manifest cannot reach outside the root, by '..' or by a symlinked directory. */
AV_TEST(uninstall_refuses_paths_leaving_the_root)
{
	char *r = machine(), *outside = tu_fmt("%s/outside", tu_tmpdir());
	char *man = tu_fmt("%s/var/lib/auto-vfio/manifest", r);
	struct tu_result res;

	tu_write(tu_fmt("%s/victim", outside), "precious\n");
	tu_symlink(outside, tu_fmt("%s/etc/elsewhere", r));
	tu_write(man, "# auto-vfio\nversion 2\n"
		      "file /etc/../../outside/victim created 0000000000000001 0000000000000000\n"
		      "end\n");
	CHECK_INT(RUN(&res, r, NULL, "uninstall"), 7);
	CHECK_CONTAINS(res.err, "manifest:3:");
	CHECK_CONTAINS(res.err, "'..'");
	tu_result_free(&res);
	tu_write(man, "# auto-vfio\nversion 2\n"
		      "file /etc/elsewhere/victim created 0000000000000001 0000000000000000\n"
		      "end\n");
	CHECK_INT(RUN(&res, r, NULL, "uninstall"), 7);
	CHECK_CONTAINS(res.err, "manifest:3:");
	CHECK_CONTAINS(res.err, "/etc/elsewhere is a symlink that leaves");
	tu_result_free(&res);
	CHECK_STR(tu_read(tu_fmt("%s/victim", outside)), "precious\n");
}

/* Damaged manifests: refused with exit 7; --salvage restores what is intact. */
AV_TEST(uninstall_damaged_manifest_refused_then_salvaged)
{
	char *r = machine(), *orig = digest(r);
	char *man = tu_fmt("%s/var/lib/auto-vfio/manifest", r), *good, *cut;
	struct tu_result res;

	CHECK_INT(SETUP(&res, r, "--static", "--select", "03:00.0", "--yes"), 0);
	tu_result_free(&res);
	good = tu_read(man);
	/* empty, header-less, cut short: each refused, nothing changes */
	tu_write(man, "");
	CHECK_INT(RUN(&res, r, NULL, "uninstall"), 7);
	CHECK_CONTAINS(res.err, "manifest:0: is empty");
	CHECK_CONTAINS(res.err, "--salvage");
	tu_result_free(&res);
	tu_write(man, strstr(good, "version 2\n") + strlen("version 2\n"));
	CHECK_INT(RUN(&res, r, NULL, "uninstall"), 7);
	CHECK_CONTAINS(res.err, "before the header");
	tu_result_free(&res);
	cut = tu_fmt("%s", good);
	cut[strlen(cut) - strlen("end\n") - 10] = '\0';
	tu_write(man, cut);
	CHECK_INT(RUN(&res, r, NULL, "uninstall"), 7);
	CHECK_CONTAINS(res.err, "cut short");
	tu_result_free(&res);
	CHECK(tu_exists(tu_fmt("%s/etc/auto-vfio.conf", r)));
	/* setup refuses too */
	CHECK_INT(SETUP(&res, r, "--static", "--select", "03:00.0", "--yes"), 7);
	tu_result_free(&res);

	/* header-less but whole: salvage restores every entry */
	tu_write(man, strstr(good, "version 2\n") + strlen("version 2\n"));
	CHECK_INT(RUN(&res, r, NULL, "uninstall", "--salvage"), 0);
	CHECK_STR(digest(r), orig);
	tu_result_free(&res);

	/* cut short: the intact entries come back, the cut one is named and kept for reading */
	CHECK_INT(SETUP(&res, r, "--static", "--select", "03:00.0", "--yes"), 0);
	tu_result_free(&res);
	tu_write(man, cut);
	CHECK_INT(RUN(&res, r, NULL, "uninstall", "--salvage"), 1);
	CHECK_CONTAINS(res.err, "cut short");
	CHECK_CONTAINS(res.err, "manifest.damaged");
	CHECK_STR(tu_read(tu_fmt("%s/var/lib/auto-vfio/manifest.damaged", r)), cut);
	CHECK(!tu_exists(man));
	CHECK(!tu_exists(tu_fmt("%s/etc/auto-vfio.conf", r)));
	tu_result_free(&res);
}

/* Disabling a foreign setup is one transaction: a failure at any step leaves every file. */
AV_TEST_T(setup_disable_foreign_all_or_nothing, 300)
{
	unsigned failed = 0;

	for (unsigned at = 1; at < 100; at++) {
		char *r = machine(), *orig;
		char *fault = tu_fmt("AUTO_VFIO_FAULT=%u:ENOSPC", at);
		const char *env[] = {fault, NULL};
		struct tu_result res;
		int st;

		tu_write(tu_fmt("%s/etc/default/grub", r),
			 "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet vfio-pci.ids=1002:67ff\"\n");
		tu_write(tu_fmt("%s/etc/modprobe.d/vfio.conf", r),
			 "options vfio-pci ids=1002:67ff\n");
		tu_write(tu_fmt("%s/etc/initramfs-tools/modules", r), "vfio_pci\n");
		orig = digest(r);
		st = RUN(&res, r, env, "setup", "--static", "--select", "03:00.0", "--yes",
			 "--disable-foreign");
		tu_result_free(&res);
		if (st == 0)
			break;
		CHECK_INT(st, 1);
		CHECK_MSG(strcmp(digest(r), orig) == 0, "%s left a part done", fault);
		failed++;
	}
	/* three files, each with a record, a copy and the file itself */
	CHECK(failed > 9);
}

/* A user's own file under auto-vfio's drop-in name is never replaced. */
AV_TEST(setup_refuses_foreign_dropin)
{
	char *r = machine(), *orig;
	struct tu_result res;

	tu_write(tu_fmt("%s/etc/default/grub.d/auto-vfio.cfg", r),
		 "GRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT mitigations=off\"\n");
	orig = digest(r);
	CHECK_INT(SETUP(&res, r, "--static", "--select", "03:00.0", "--yes"), 5);
	CHECK_CONTAINS(res.err, "/etc/default/grub.d/auto-vfio.cfg exists and was not written by "
				"auto-vfio");
	CHECK_CONTAINS(res.err, "Move its settings");
	CHECK_STR(digest(r), orig);
	tu_result_free(&res);
}

/* A symlinked target is refused with a message that says why. */
AV_TEST(setup_symlinked_target_named)
{
	char *r = machine();
	struct tu_result res;

	tu_write(tu_fmt("%s/etc/elsewhere.conf", r), "x\n");
	tu_symlink("../elsewhere.conf", tu_fmt("%s/etc/modprobe.d/auto-vfio.conf", r));
	CHECK_INT(SETUP(&res, r, "--static", "--select", "03:00.0", "--yes"), 1);
	CHECK_CONTAINS(res.err, "/etc/modprobe.d/auto-vfio.conf is a symbolic link: auto-vfio "
				"does not write through links");
	tu_result_free(&res);
}
