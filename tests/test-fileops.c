// SPDX-License-Identifier: GPL-2.0-or-later
/* Atomic file replacement, the manifest, and restoring byte for byte. */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctx.h"
#include "fileops.h"
#include "lib/testsuite.h"
#include "lib/testutil.h"
#include "manifest.h"

static struct av_ctx ctx_at(const char *root)
{
	struct av_ctx ctx;

	CHECK_INT(av_ctx_init(&ctx, root), 0);
	return ctx;
}

static size_t count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' || (de->d_name[1] && de->d_name[1] != '.'))
			n++;
	closedir(d);
	return n;
}

AV_TEST(fileops_replace_keeps_mode_and_refuses_links)
{
	const char *r = tu_tmpdir();
	struct av_ctx ctx = ctx_at(r);
	char *p = tu_fmt("%s/etc/modules", r);
	struct stat st;

	tu_write(p, "loop\n");
	chmod(p, 0640);
	CHECK_INT(av_file_replace(&ctx, NULL, "/etc/modules", "vfio\n", 5, 0644, -1, -1), 0);
	CHECK_STR(tu_read(p), "vfio\n");
	CHECK_INT(stat(p, &st), 0);
	CHECK_INT(st.st_mode & 07777, 0640);
	/* a new file gets the mode asked for, parents are made */
	CHECK_INT(av_file_replace(&ctx, NULL, "/etc/new/dir/f.conf", "x", 1, 0600, -1, -1), 0);
	CHECK_INT(stat(tu_fmt("%s/etc/new/dir/f.conf", r), &st), 0);
	CHECK_INT(st.st_mode & 07777, 0600);
	/* never through a symlink */
	tu_symlink("modules", tu_fmt("%s/etc/link.conf", r));
	CHECK_INT(av_file_replace(&ctx, NULL, "/etc/link.conf", "y", 1, 0644, -1, -1), -ELOOP);
	CHECK_STR(tu_read(p), "vfio\n");
	CHECK_INT(count_entries(tu_fmt("%s/etc", r)), 3);
}

AV_TEST(fileops_faults_leave_old_file_whole)
{
	const char *r = tu_tmpdir();
	struct av_ctx ctx = ctx_at(r);
	char *p = tu_fmt("%s/etc/default/grub", r);

	tu_write(p, "GRUB_DEFAULT=0\n");
	/* five disk steps in one replacement; each failure leaves the old file and no temp */
	for (unsigned at = 1; at <= 4; at++) {
		struct av_fault f = {.at = at, .err = ENOSPC};

		CHECK_INT(av_file_replace(&ctx, &f, "/etc/default/grub", "NEW\n", 4, 0644, -1, -1),
			  -ENOSPC);
		CHECK_STR(tu_read(p), "GRUB_DEFAULT=0\n");
		CHECK_INT(count_entries(tu_fmt("%s/etc/default", r)), 1);
	}
	{
		/* failing after the rename: the new file is whole */
		struct av_fault f = {.at = 5, .err = EIO};

		CHECK_INT(av_file_replace(&ctx, &f, "/etc/default/grub", "NEW\n", 4, 0644, -1, -1),
			  -EIO);
		CHECK_STR(tu_read(p), "NEW\n");
	}
}

AV_TEST(fileops_fault_spec)
{
	struct av_fault f;

	CHECK_INT(av_fault_parse("3", &f), 0);
	CHECK_INT(f.at, 3);
	CHECK_INT(f.err, EIO);
	CHECK_INT(av_fault_parse("2:ENOSPC", &f), 0);
	CHECK_INT(f.err, ENOSPC);
	CHECK_INT(av_fault_parse("7:kill", &f), 0);
	CHECK(f.kill);
	CHECK_INT(av_fault_parse("0", &f), -EINVAL);
	CHECK_INT(av_fault_parse("x", &f), -EINVAL);
	CHECK_INT(av_fault_parse("1:EWHAT", &f), -EINVAL);
}

AV_TEST(manifest_write_and_restore_byte_for_byte)
{
	const char *r = tu_tmpdir();
	struct av_ctx ctx = ctx_at(r);
	struct av_manifest m, m2;
	const char orig[] = "options foo bar=1\n# no newline at end";
	char *p = tu_fmt("%s/etc/modprobe.d/foo.conf", r);
	bool changed;
	struct stat st;

	tu_write(p, orig);
	chmod(p, 0600);
	CHECK_INT(av_manifest_load(&ctx, &m), 0);
	CHECK_INT(m.n, 0);
	CHECK_INT(
	    av_manifest_write(&ctx, NULL, &m, "/etc/modprobe.d/foo.conf", "A\n", 2, 0644, &changed),
	    0);
	CHECK(changed);
	CHECK_INT(av_manifest_write(&ctx, NULL, &m, "/etc/modprobe.d/auto-vfio.conf", "B\n", 2,
				    0644, &changed),
		  0);
	CHECK(changed);
	/* same content again: nothing written */
	CHECK_INT(
	    av_manifest_write(&ctx, NULL, &m, "/etc/modprobe.d/foo.conf", "A\n", 2, 0644, &changed),
	    0);
	CHECK(!changed);
	/* a second write keeps the first original */
	CHECK_INT(
	    av_manifest_write(&ctx, NULL, &m, "/etc/modprobe.d/foo.conf", "C\n", 2, 0644, &changed),
	    0);
	av_manifest_release(&m);

	CHECK_INT(av_manifest_load(&ctx, &m2), 0);
	size_t files = 0;

	for (size_t i = 0; i < m2.n; i++)
		files += !m2.e[i].dir;
	CHECK_INT(files, 2);
	CHECK_INT(av_manifest_restore(&ctx, NULL, &m2, NULL, NULL), 0);
	CHECK_STR(tu_read(p), orig);
	CHECK_INT(stat(p, &st), 0);
	CHECK_INT(st.st_mode & 07777, 0600);
	CHECK(!tu_exists(tu_fmt("%s/etc/modprobe.d/auto-vfio.conf", r)));
	CHECK(!tu_exists(tu_fmt("%s/var/lib/auto-vfio/manifest", r)));
	CHECK_INT(count_entries(tu_fmt("%s/var/lib/auto-vfio/saved", r)), 0);
	av_manifest_release(&m2);
}

AV_TEST(manifest_restore_keeps_later_edits)
{
	const char *r = tu_tmpdir();
	struct av_ctx ctx = ctx_at(r);
	struct av_manifest m;
	bool changed;

	CHECK_INT(av_manifest_load(&ctx, &m), 0);
	CHECK_INT(av_manifest_write(&ctx, NULL, &m, "/etc/auto-vfio.conf", "mode = static\n", 14,
				    0644, &changed),
		  0);
	tu_write(tu_fmt("%s/etc/auto-vfio.conf", r), "edited by hand\n");
	CHECK_INT(av_manifest_restore(&ctx, NULL, &m, NULL, NULL), 0);
	CHECK(!tu_exists(tu_fmt("%s/etc/auto-vfio.conf", r)));
	CHECK_STR(tu_read(tu_fmt("%s/etc/auto-vfio.conf.auto-vfio-saved", r)), "edited by hand\n");
	av_manifest_release(&m);
}

AV_TEST(manifest_every_fault_is_recoverable)
{
	/* Fail each disk step of a two-file setup in turn; whatever happened, restore wins. */
	for (unsigned at = 1; at <= 30; at++) {
		const char *base = tu_tmpdir();
		char *r = tu_fmt("%s/%u", base, at);
		struct av_ctx ctx;
		struct av_manifest m;
		struct av_fault f = {.at = at, .err = EIO};
		bool changed;
		int err;

		tu_write(tu_fmt("%s/etc/modules", r), "loop\n");
		ctx = ctx_at(r);
		CHECK_INT(av_manifest_load(&ctx, &m), 0);
		err = av_manifest_write(&ctx, &f, &m, "/etc/modules", "vfio\n", 5, 0644, &changed);
		if (!err)
			err = av_manifest_write(&ctx, &f, &m, "/etc/x.conf", "x\n", 2, 0644,
						&changed);
		/* every file is old or new, never torn */
		char *mod = tu_read(tu_fmt("%s/etc/modules", r));

		CHECK(mod && (strcmp(mod, "loop\n") == 0 || strcmp(mod, "vfio\n") == 0));
		av_manifest_release(&m);
		CHECK_INT(av_manifest_load(&ctx, &m), 0);
		CHECK_INT(av_manifest_restore(&ctx, NULL, &m, NULL, NULL), 0);
		CHECK_STR(tu_read(tu_fmt("%s/etc/modules", r)), "loop\n");
		CHECK(!tu_exists(tu_fmt("%s/etc/x.conf", r)));
		av_manifest_release(&m);
		if (!err && at > 20)
			break;
	}
}

AV_TEST(manifest_corrupt_named)
{
	const char *r = tu_tmpdir();
	struct av_ctx ctx = ctx_at(r);
	struct av_manifest m;

	tu_write(tu_fmt("%s/var/lib/auto-vfio/manifest", r),
		 "version 1\nfile relative created 1\n");
	CHECK_INT(av_manifest_load(&ctx, &m), -EINVAL);
}

AV_TEST(manifest_fault_leaves_no_spurious_copies)
{
	for (unsigned at = 1; at <= 12; at++) {
		char *r = tu_fmt("%s/%u", tu_tmpdir(), at);
		struct av_fault f = {.at = at, .err = EIO};
		struct av_manifest m;
		struct av_ctx ctx;
		bool changed;

		tu_write(tu_fmt("%s/etc/modules", r), "loop\n");
		ctx = ctx_at(r);
		CHECK_INT(av_manifest_load(&ctx, &m), 0);
		av_manifest_write(&ctx, &f, &m, "/etc/modules", "vfio\n", 5, 0644, &changed);
		av_manifest_release(&m);
		CHECK_INT(av_manifest_load(&ctx, &m), 0);
		CHECK_INT(av_manifest_restore(&ctx, NULL, &m, NULL, NULL), 0);
		CHECK_STR(tu_read(tu_fmt("%s/etc/modules", r)), "loop\n");
		CHECK(!tu_exists(tu_fmt("%s/etc/modules.auto-vfio-saved", r)));
		av_manifest_release(&m);
	}
}
