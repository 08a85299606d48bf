// SPDX-License-Identifier: GPL-2.0-or-later
/* auto-vfio hugepages on fake roots: sizes, counts, dry run, --off, uninstall, bad input. */
#include <string.h>

#include "lib/testsuite.h"
#include "lib/testutil.h"

#define DROPIN "/etc/default/grub.d/auto-vfio-hugepages.cfg"
/* 31.3 GiB, as a 32 GiB machine reports it */
#define MEMINFO "MemTotal:       32823212 kB\nMemFree:        30000000 kB\n"
#define FLAGS_1G "flags\t\t: fpu vme de pse tsc msr pae mce cx8 pdpe1gb rdtscp lm\n"
#define FLAGS_2M "flags\t\t: fpu vme de pse tsc msr pae mce cx8 pse36 rdtscp lm\n"

static char *root(const char *flags, const char *meminfo)
{
	static unsigned seq;
	char *r = tu_fmt("%s/r%u", tu_tmpdir(), seq++);

	tu_write(tu_fmt("%s/proc/cpuinfo", r),
		 tu_fmt("processor\t: 0\nvendor_id\t: GenuineIntel\n%s\n", flags));
	tu_write(tu_fmt("%s/proc/meminfo", r), meminfo);
	tu_write(tu_fmt("%s/etc/default/grub", r),
		 "GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n");
	return r;
}

#define HP(res, r, ...) TU_CLI(res, r, "hugepages", __VA_ARGS__, )

AV_TEST(hugepages_1g_from_memory_then_uninstall)
{
	char *r = root(FLAGS_1G, MEMINFO), *before = tu_tree_digest(r), *d;
	const char *argv[] = {tu_prog("auto-vfio"), "--root", r, "uninstall", NULL};
	struct tu_result res;

	CHECK_INT(HP(&res, r, "--no-update"), 0);
	CHECK_CONTAINS(res.out, "27 hugepages of 1G (27.0 GiB) for VMs");
	tu_result_free(&res);
	d = tu_read(tu_fmt("%s" DROPIN, r));
	CHECK_CONTAINS(d, "Written by auto-vfio");
	CHECK_CONTAINS(d, "GRUB_CMDLINE_LINUX_DEFAULT=\"${GRUB_CMDLINE_LINUX_DEFAULT} "
			  "default_hugepagesz=1G hugepagesz=1G hugepages=27\"\n");
	CHECK_STR(tu_read(tu_fmt("%s/etc/default/grub", r)),
		  "GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n");
	/* the same again changes nothing */
	CHECK_INT(HP(&res, r, "--no-update"), 0);
	CHECK_CONTAINS(res.out, "nothing to change");
	tu_result_free(&res);
	/* a bigger host reserve: fewer pages */
	CHECK_INT(HP(&res, r, "--reserve", "8"), 0);
	CHECK_CONTAINS(tu_read(tu_fmt("%s" DROPIN, r)), "hugepages=23\"");
	CHECK_CONTAINS(res.out, "Skipped 'update-grub'");
	tu_result_free(&res);
	tu_run(&res, argv, NULL, NULL);
	CHECK_INT(res.status, 0);
	tu_result_free(&res);
	CHECK(!tu_exists(tu_fmt("%s" DROPIN, r)));
	CHECK_STR(tu_tree_digest(r), before);
}

AV_TEST(hugepages_2m_count_dry_run_and_off)
{
	char *r = root(FLAGS_2M, MEMINFO), *before = tu_tree_digest(r);
	struct tu_result res;

	/* without pdpe1gb the default is 2M */
	CHECK_INT(HP(&res, r, "--count", "4096", "--dry-run"), 0);
	CHECK_CONTAINS(res.out, "+++ b" DROPIN);
	CHECK_CONTAINS(res.out, "+GRUB_CMDLINE_LINUX_DEFAULT=\"${GRUB_CMDLINE_LINUX_DEFAULT} "
				"default_hugepagesz=2M hugepagesz=2M hugepages=4096\"");
	CHECK_CONTAINS(res.out, "Dry run: nothing was changed.");
	CHECK_STR(tu_tree_digest(r), before);
	tu_result_free(&res);
	CHECK_INT(HP(&res, r, "--count", "4096", "--no-update"), 0);
	CHECK(tu_exists(tu_fmt("%s" DROPIN, r)));
	tu_result_free(&res);
	CHECK_INT(HP(&res, r, "--off", "--dry-run"), 0);
	CHECK_CONTAINS(res.out, "-GRUB_CMDLINE_LINUX_DEFAULT");
	CHECK(tu_exists(tu_fmt("%s" DROPIN, r)));
	tu_result_free(&res);
	CHECK_INT(HP(&res, r, "--off", "--no-update"), 0);
	CHECK_CONTAINS(res.out, "no longer reserved");
	CHECK(!tu_exists(tu_fmt("%s" DROPIN, r)));
	CHECK_STR(tu_tree_digest(r), before);
	tu_result_free(&res);
	CHECK_INT(HP(&res, r, "--off"), 0);
	CHECK_CONTAINS(res.out, "nothing to undo");
	tu_result_free(&res);
}

AV_TEST(hugepages_user_file_of_that_name_comes_back)
{
	char *r = root(FLAGS_1G, MEMINFO);
	struct tu_result res;

	tu_write(tu_fmt("%s" DROPIN, r), "# mine\n");
	CHECK_INT(HP(&res, r, "--count", "2", "--no-update"), 0);
	CHECK_CONTAINS(tu_read(tu_fmt("%s" DROPIN, r)), "hugepages=2\"");
	tu_result_free(&res);
	CHECK_INT(HP(&res, r, "--off", "--no-update"), 0);
	CHECK_STR(tu_read(tu_fmt("%s" DROPIN, r)), "# mine\n");
	tu_result_free(&res);
}

AV_TEST(hugepages_bad_input_is_refused)
{
	char *r = root(FLAGS_2M, MEMINFO), *before = tu_tree_digest(r), *g;
	struct tu_result res;

	CHECK_INT(HP(&res, r, "--size", "1G"), 1);
	CHECK_CONTAINS(res.err, "cannot map 1G pages (no pdpe1gb flag in");
	tu_result_free(&res);
	CHECK_INT(HP(&res, r, "--reserve", "40"), 1);
	CHECK_CONTAINS(res.err,
		       "the host reserve (40 GiB) is not smaller than the memory (31.3 GiB)");
	tu_result_free(&res);
	CHECK_INT(HP(&res, r, "--count", "20000"), 1);
	CHECK_CONTAINS(res.err, "20000 pages of 2M need 39.1 GiB");
	tu_result_free(&res);
	CHECK_INT(HP(&res, r, "--size", "4K"), 1);
	CHECK_CONTAINS(res.err, "use 2M or 1G");
	tu_result_free(&res);
	CHECK_INT(HP(&res, r, "--count", "-3"), 2);
	tu_result_free(&res);
	CHECK_INT(HP(&res, r, "--off", "--count", "3"), 2);
	tu_result_free(&res);
	CHECK_STR(tu_tree_digest(r), before);

	g = root(FLAGS_2M, "MemTotal:       lots kB\n");
	CHECK_INT(HP(&res, g, "--count", "1"), 1);
	CHECK_CONTAINS(res.err, "/proc/meminfo: no readable 'MemTotal: N kB' line");
	tu_result_free(&res);
	g = root(FLAGS_2M, "MemFree: 1 kB\n");
	CHECK_INT(HP(&res, g, "--no-update"), 1);
	CHECK_CONTAINS(res.err, "MemTotal");
	tu_result_free(&res);
	CHECK(!tu_exists(tu_fmt("%s" DROPIN, g)));
}
