// SPDX-License-Identifier: GPL-2.0-or-later
/* Unified diffs are checked by applying them with GNU patch. */
#include <stdlib.h>
#include <string.h>

#include "lib/testsuite.h"
#include "lib/testutil.h"
#include "textdiff.h"

static void roundtrip(const char *a, const char *b)
{
	const char *dir = tu_tmpdir();
	char *d = av_unified_diff("/etc/f.conf", a, b);
	char *fa = tu_fmt("%s/a", dir), *fd = tu_fmt("%s/d", dir), *fo = tu_fmt("%s/o", dir);
	struct tu_result res;

	CHECK(d != NULL);
	if (a && b && strcmp(a, b) == 0) {
		CHECK_STR(d, "");
		free(d);
		return;
	}
	CHECK_CONTAINS(d, "@@ -");
	tu_write(fa, a ? a : "");
	tu_write(fd, d);
	const char *argv[] = {"/usr/bin/patch", "-s", "-o", fo, fa, fd, NULL};

	tu_run(&res, argv, NULL, NULL);
	CHECK_MSG(res.status == 0, "patch failed: %s%s\n%s", res.out, res.err, d);
	CHECK_STR(tu_read(fo), b ? b : "");
	tu_result_free(&res);
	free(d);
}

AV_TEST(textdiff_applies_with_patch)
{
	roundtrip("a\nb\nc\n", "a\nb\nc\n");
	roundtrip("a\nb\nc\n", "a\nB\nc\n");
	roundtrip("", "new\nfile\n");
	roundtrip(NULL, "new\n");
	roundtrip("1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n16\n",
		  "0\n1\n2\n3\n4\n5\n6\n7\nX\n9\n10\n11\n12\n13\n14\n15\n16\n17\n");
	roundtrip("no newline at end", "no newline at end\n");
	roundtrip("keep\nlast", "keep\nlast\nmore");
	roundtrip("x\ny\nz\n", "");
}

AV_TEST(textdiff_headers)
{
	char *d =
	    av_unified_diff("/etc/modprobe.d/auto-vfio.conf", NULL, "softdep x pre: vfio-pci\n");

	CHECK_CONTAINS(d, "--- /dev/null\n+++ b/etc/modprobe.d/auto-vfio.conf\n@@ -0,0 +1,1 @@\n");
	free(d);
	d = av_unified_diff("/etc/x", "gone\n", NULL);
	CHECK_CONTAINS(d, "--- a/etc/x\n+++ /dev/null\n@@ -1,1 +0,0 @@\n-gone\n");
	free(d);
}
