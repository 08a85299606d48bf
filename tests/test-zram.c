// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * auto-vfio zram with the configuration files Debian 12 ships
 * (tests/data/zramswap, tests/data/zram-generator.conf; see tests/data/SOURCES)
 * and the tool chosen from a dpkg status file.
 */
#include <string.h>
#include <unistd.h>

#include "lib/testsuite.h"
#include "lib/testutil.h"

static const char dpkg_tools[] = "Package: zram-tools\n"
				 "Status: install ok installed\n"
				 "Priority: optional\n"
				 "Version: 0.3.3.1-1.1\n"
				 "\n"
				 "Package: systemd-zram-generator\n"
				 "Status: deinstall ok config-files\n"
				 "Version: 1.1.2-2+b2\n";
static const char dpkg_gen[] = "Package: zram-tools\n"
			       "Status: deinstall ok config-files\n"
			       "\n"
			       "Package: systemd-zram-generator\n"
			       "Status: install ok installed\n"
			       "Version: 1.1.2-2+b2\n";

static char *root(const char *dpkg)
{
	static unsigned seq;
	char *r = tu_fmt("%s/r%u", tu_tmpdir(), seq++);

	tu_write(tu_fmt("%s/var/lib/dpkg/status", r), dpkg);
	tu_write(tu_fmt("%s/etc/default/zramswap", r),
		 tu_read(tu_fmt("%s/tests/data/zramswap", tu_srcdir())));
	tu_write(tu_fmt("%s/etc/systemd/zram-generator.conf", r),
		 tu_read(tu_fmt("%s/tests/data/zram-generator.conf", tu_srcdir())));
	return r;
}

#define ZR(res, r, ...) TU_CLI(res, r, "zram", __VA_ARGS__)

AV_TEST(zram_tools_uncomments_defaults_and_uninstalls)
{
	char *r = root(dpkg_tools), *before = tu_tree_digest(r);
	char *orig = tu_read(tu_fmt("%s/etc/default/zramswap", r)), *conf;
	const char *un[] = {tu_prog("auto-vfio"), "--root", r, "uninstall", "--no-update", NULL};
	struct tu_result res;

	CHECK_INT(ZR(&res, r, "--dry-run", ), 0);
	CHECK_CONTAINS(res.out, "zram swap through zram-tools (/etc/default/zramswap)");
	CHECK_CONTAINS(res.out, "-#ALGO=lz4\n+ALGO=zstd\n");
	CHECK_STR(tu_tree_digest(r), before);
	tu_result_free(&res);

	CHECK_INT(ZR(&res, r, ), 0);
	CHECK_CONTAINS(res.out, "Skipped restarting zramswap.service");
	tu_result_free(&res);
	conf = tu_read(tu_fmt("%s/etc/default/zramswap", r));
	/* the two default lines uncommented in place, the rest as Debian ships it */
	{
		char *expect = strdup(orig), *p;

		p = strstr(expect, "#ALGO=lz4");
		CHECK(p != NULL);
		expect = tu_fmt("%.*sALGO=zstd%s", (int)(p - expect), expect, p + 9);
		p = strstr(expect, "#PERCENT=50");
		CHECK(p != NULL);
		expect = tu_fmt("%.*sPERCENT=25%s", (int)(p - expect), expect, p + 11);
		CHECK_STR(conf, expect);
	}
	CHECK_CONTAINS(conf, "# Compression algorithm selection\n");
	CHECK_CONTAINS(conf, "#SIZE=256\n");

	/* a size instead: PERCENT would override it, so it is commented out */
	CHECK_INT(ZR(&res, r, "--size", "2048", "--priority", "10", ), 0);
	tu_result_free(&res);
	conf = tu_read(tu_fmt("%s/etc/default/zramswap", r));
	CHECK_CONTAINS(conf, "\n#PERCENT=25\n");
	CHECK_CONTAINS(conf, "\nSIZE=2048\n");
	CHECK_CONTAINS(conf, "\nPRIORITY=10\n");
	CHECK_CONTAINS(conf, "\nALGO=zstd\n");
	CHECK_NOT_CONTAINS(conf, "#SIZE=256");

	tu_run(&res, un, NULL, NULL);
	CHECK_INT(res.status, 0);
	tu_result_free(&res);
	CHECK_STR(tu_read(tu_fmt("%s/etc/default/zramswap", r)), orig);
	CHECK_STR(tu_tree_digest(r), before);
}

AV_TEST(zram_tools_keeps_user_settings_and_off)
{
	char *r = root(dpkg_tools), *conf, *before;
	struct tu_result res;

	tu_write(tu_fmt("%s/etc/default/zramswap", r), "# mine\nALGO=lz4\nFOO=bar\n  PRIORITY=5\n");
	before = tu_tree_digest(r);
	CHECK_INT(ZR(&res, r, "--algo", "lzo-rle", "--percent", "40", ), 0);
	tu_result_free(&res);
	conf = tu_read(tu_fmt("%s/etc/default/zramswap", r));
	CHECK_STR(conf, "# mine\nALGO=lzo-rle\nFOO=bar\n  PRIORITY=5\nPERCENT=40\n");
	CHECK_INT(ZR(&res, r, "--off", ), 0);
	tu_result_free(&res);
	CHECK_STR(tu_tree_digest(r), before);
}

AV_TEST(zram_generator_section_keys)
{
	char *r = root(dpkg_gen), *orig, *conf;
	struct tu_result res;

	orig = tu_read(tu_fmt("%s/etc/systemd/zram-generator.conf", r));
	CHECK_INT(ZR(&res, r, "--percent", "30", "--algo", "zstd", ), 0);
	CHECK_CONTAINS(res.out, "through systemd-zram-generator");
	CHECK_CONTAINS(res.out, "Skipped restarting systemd-zram-setup@zram0.service");
	tu_result_free(&res);
	conf = tu_read(tu_fmt("%s/etc/systemd/zram-generator.conf", r));
	CHECK_STR(conf,
		  tu_fmt("%scompression-algorithm = zstd\nzram-size = ram * 30 / 100\n", orig));
	/* changed in place the next time */
	CHECK_INT(ZR(&res, r, "--size", "4096", ), 0);
	tu_result_free(&res);
	conf = tu_read(tu_fmt("%s/etc/systemd/zram-generator.conf", r));
	CHECK_STR(conf, tu_fmt("%scompression-algorithm = zstd\nzram-size = 4096\n", orig));
	/* no file and no section yet */
	CHECK(unlink(tu_fmt("%s/etc/systemd/zram-generator.conf", r)) == 0);
	tu_write(tu_fmt("%s/etc/systemd/zram-generator.conf", r), "[zram1]\nzram-size = 512\n");
	CHECK_INT(ZR(&res, r, "--size", "1024", ), 0);
	tu_result_free(&res);
	CHECK_STR(tu_read(tu_fmt("%s/etc/systemd/zram-generator.conf", r)),
		  "[zram1]\nzram-size = 512\n[zram0]\nzram-size = 1024\n");
}

AV_TEST(zram_needs_a_tool_and_good_values)
{
	char *r = root("Package: bash\nStatus: install ok installed\n"),
	     *before = tu_tree_digest(r);
	struct tu_result res;

	CHECK_INT(ZR(&res, r, ), 1);
	CHECK_CONTAINS(res.err, "apt-get install zram-tools");
	tu_result_free(&res);
	r = root(dpkg_tools);
	before = tu_tree_digest(r);
	CHECK_INT(ZR(&res, r, "--percent", "30", "--size", "100", ), 2);
	CHECK_CONTAINS(res.err, "not both");
	tu_result_free(&res);
	CHECK_INT(ZR(&res, r, "--algo", "zstd; rm -rf /", ), 2);
	CHECK_CONTAINS(res.err, "compression algorithm");
	tu_result_free(&res);
	CHECK_INT(ZR(&res, r, "--percent", "150", ), 2);
	tu_result_free(&res);
	CHECK_INT(ZR(&res, r, "--off", "--percent", "10", ), 2);
	tu_result_free(&res);
	CHECK_STR(tu_tree_digest(r), before);
}
