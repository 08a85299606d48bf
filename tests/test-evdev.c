// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * auto-vfio evdev on fake roots, with the qemu.conf Debian 12 ships
 * (tests/data/qemu.conf, see tests/data/SOURCES): the XML, the commented-out
 * default turned into an active list, an active list extended without
 * duplicates, the rest of the file kept, uninstall giving it back.
 */
#include <string.h>
#include <unistd.h>

#include "lib/testsuite.h"
#include "lib/testutil.h"

#define KBD "/dev/input/by-id/usb-Logitech_USB_Keyboard-event-kbd"
#define KBD2 "/dev/input/by-id/usb-Logitech_USB_Keyboard-if01-event-kbd"
#define MOUSE "/dev/input/by-id/usb-Logitech_G203_Mouse-event-mouse"

static char *root(void)
{
	static unsigned seq;
	char *r = tu_fmt("%s/r%u", tu_tmpdir(), seq++);
	char *conf = tu_read(tu_fmt("%s/tests/data/qemu.conf", tu_srcdir()));

	CHECK(conf != NULL);
	tu_write(tu_fmt("%s/etc/libvirt/qemu.conf", r), conf);
	tu_mkdirs(tu_fmt("%s/dev/input", r));
	tu_symlink("../event3", tu_fmt("%s" KBD, r));
	tu_symlink("../event4", tu_fmt("%s" KBD2, r));
	tu_symlink("../event5", tu_fmt("%s" MOUSE, r));
	/* neither keyboard nor mouse */
	tu_symlink("../event6",
		   tu_fmt("%s/dev/input/by-id/usb-Logitech_G203_Mouse-if01-event-joystick", r));
	tu_symlink("../mouse0", tu_fmt("%s/dev/input/by-id/usb-Logitech_G203_Mouse-mouse", r));
	return r;
}

static int run(struct tu_result *res, const char *r, const char *const *args)
{
	const char *argv[16] = {tu_prog("auto-vfio"), "--root", r, "evdev"};
	size_t n = 4;

	for (; *args && n < 15; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	tu_run(res, argv, NULL, NULL);
	return res->status;
}
#define EV(res, r, ...) run(res, r, (const char *const[]){__VA_ARGS__ NULL})

/* The number of times @needle occurs in @hay. */
static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

AV_TEST(evdev_prints_libvirt_xml)
{
	char *r = root(), *before = tu_tree_digest(r);
	struct tu_result res;

	CHECK_INT(EV(&res, r, ), 0);
	CHECK_CONTAINS(res.out, "<input type='evdev'>\n  <source dev='" KBD
				"' grab='all' repeat='on' grabToggle='ctrl-ctrl'/>\n</input>\n");
	CHECK_CONTAINS(res.out, "<source dev='" KBD2 "' grab='all'");
	CHECK_CONTAINS(res.out, "<input type='evdev'>\n  <source dev='" MOUSE "'/>\n</input>\n");
	CHECK_NOT_CONTAINS(res.out, "joystick");
	CHECK_NOT_CONTAINS(res.out, "Mouse-mouse");
	CHECK_STR(tu_tree_digest(r), before);
	tu_result_free(&res);
}

AV_TEST(evdev_apply_on_debian_default_then_uninstall)
{
	char *r = root(), *orig = tu_read(tu_fmt("%s/etc/libvirt/qemu.conf", r)), *conf, *p;
	char *before = tu_tree_digest(r);
	const char *un[] = {tu_prog("auto-vfio"), "--root", r, "uninstall", "--no-update", NULL};
	struct tu_result res;

	CHECK_INT(EV(&res, r, "--dry-run", ), 0);
	CHECK_CONTAINS(res.out, "+cgroup_device_acl = [");
	CHECK_STR(tu_tree_digest(r), before);
	tu_result_free(&res);

	CHECK_INT(EV(&res, r, "--apply", ), 0);
	CHECK_CONTAINS(res.out, "Skipped restarting libvirtd");
	tu_result_free(&res);
	conf = tu_read(tu_fmt("%s/etc/libvirt/qemu.conf", r));
	/* the commented default stays, the active list follows it */
	p = strstr(conf,
		   "#cgroup_device_acl = [\n#    \"/dev/null\", \"/dev/full\", \"/dev/zero\",\n"
		   "#    \"/dev/random\", \"/dev/urandom\",\n#    \"/dev/ptmx\", \"/dev/kvm\"\n"
		   "#]\n");
	CHECK(p != NULL);
	CHECK_CONTAINS(p, "#]\n# Added by auto-vfio: libvirt's default list plus the evdev "
			  "inputs.\ncgroup_device_acl = [\n    \"/dev/null\",\n    \"/dev/full\",\n"
			  "    \"/dev/zero\",\n    \"/dev/random\",\n    \"/dev/urandom\",\n"
			  "    \"/dev/ptmx\",\n    \"/dev/kvm\",\n    \"" KBD "\",\n    \"" KBD2
			  "\",\n    \"" MOUSE "\"\n]\n#\n# RDMA migration requires");
	/* everything else byte for byte: without the added block it is the original */
	{
		char *start = strstr(conf, "# Added by auto-vfio"), *end;

		CHECK(start != NULL);
		end = strstr(start, "\n]\n");
		CHECK(end != NULL);
		CHECK_STR(tu_fmt("%.*s%s", (int)(start - conf), conf, end + 3), orig);
	}
	CHECK_INT(count(conf, "\ncgroup_device_acl"), 1);

	/* applied again: nothing missing, nothing written */
	CHECK_INT(EV(&res, r, "--apply", ), 0);
	CHECK_CONTAINS(res.out, "already lets QEMU open every one of them");
	tu_result_free(&res);

	tu_run(&res, un, NULL, NULL);
	CHECK_INT(res.status, 0);
	tu_result_free(&res);
	CHECK_STR(tu_read(tu_fmt("%s/etc/libvirt/qemu.conf", r)), orig);
	CHECK_STR(tu_tree_digest(r), before);
}

AV_TEST(evdev_active_list_gains_only_what_is_missing)
{
	char *r = root(), *conf;
	struct tu_result res;

	tu_write(
	    tu_fmt("%s/etc/libvirt/qemu.conf", r),
	    "# mine\nuser = \"root\"\ncgroup_device_acl = [\n    \"/dev/null\", \"/dev/kvm\",\n"
	    "    # my keyboard\n    \"" KBD "\"\n]\nsecurity_driver = \"none\"\n");
	CHECK_INT(EV(&res, r, "--apply", "--no-restart", ), 0);
	tu_result_free(&res);
	conf = tu_read(tu_fmt("%s/etc/libvirt/qemu.conf", r));
	CHECK_STR(conf, "# mine\nuser = \"root\"\ncgroup_device_acl = [\n    \"/dev/null\", "
			"\"/dev/kvm\",\n    # my keyboard\n    \"" KBD "\",\n    \"" KBD2
			"\",\n    \"" MOUSE "\"\n]\nsecurity_driver = \"none\"\n");
	CHECK_INT(count(conf, KBD "\""), 1);

	/* an empty list, and a file with no setting at all */
	tu_write(tu_fmt("%s/etc/libvirt/qemu.conf", r), "cgroup_device_acl = []\n");
	CHECK_INT(EV(&res, r, "--apply", ), 0);
	tu_result_free(&res);
	CHECK_STR(tu_read(tu_fmt("%s/etc/libvirt/qemu.conf", r)),
		  "cgroup_device_acl = [\n    \"" KBD "\",\n    \"" KBD2 "\",\n    \"" MOUSE
		  "\"\n]\n");
	tu_write(tu_fmt("%s/etc/libvirt/qemu.conf", r), "user = \"root\"");
	CHECK_INT(EV(&res, r, "--apply", ), 0);
	tu_result_free(&res);
	conf = tu_read(tu_fmt("%s/etc/libvirt/qemu.conf", r));
	CHECK_CONTAINS(conf, "user = \"root\"\n# Added by auto-vfio");
	CHECK_CONTAINS(conf, "    \"/dev/kvm\",\n    \"" KBD "\"");
}

AV_TEST(evdev_errors_name_the_path)
{
	char *r = root(), *before;
	struct tu_result res;

	tu_write(tu_fmt("%s/etc/libvirt/qemu.conf", r),
		 "# x\ncgroup_device_acl = [ \"/dev/null\", \"/dev/kvm\n");
	before = tu_tree_digest(r);
	CHECK_INT(EV(&res, r, "--apply", ), 1);
	CHECK_CONTAINS(res.err,
		       "/etc/libvirt/qemu.conf:2: cannot parse the cgroup_device_acl list");
	CHECK_STR(tu_tree_digest(r), before);
	tu_result_free(&res);
	CHECK(unlink(tu_fmt("%s/etc/libvirt/qemu.conf", r)) == 0);
	CHECK_INT(EV(&res, r, "--apply", ), 1);
	CHECK_CONTAINS(res.err, "is libvirt installed?");
	tu_result_free(&res);
	r = tu_fmt("%s/empty", tu_tmpdir());
	tu_mkdirs(r);
	CHECK_INT(EV(&res, r, ), 1);
	CHECK_CONTAINS(res.err, "no keyboard or mouse under");
	tu_result_free(&res);
}

/* Two settings on one line, as libvirt allows: the list there is the one extended. */
AV_TEST(evdev_apply_finds_a_setting_after_a_semicolon)
{
	char *r = root(), *conf = tu_fmt("%s/etc/libvirt/qemu.conf", r), *after;
	struct tu_result res;

	tu_write(conf, "# mine\nuser = \"root\"; cgroup_device_acl = [ \"/dev/null\", "
		       "\"/dev/kvm\" ]\n#x = \"a; cgroup_device_acl = [\"\n");
	CHECK_INT(EV(&res, r, "--apply", ), 0);
	tu_result_free(&res);
	after = tu_read(conf);
	CHECK_INT(count(after, "cgroup_device_acl"), 2);
	CHECK_CONTAINS(after, "user = \"root\"; cgroup_device_acl = [ \"/dev/null\", "
			      "\"/dev/kvm\",\n    \"" KBD "\"");
	/* applied twice: nothing added */
	CHECK_INT(EV(&res, r, "--apply", ), 0);
	tu_result_free(&res);
	CHECK_STR(tu_read(conf), after);
}
