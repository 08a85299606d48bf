// SPDX-License-Identifier: GPL-2.0-or-later
/* Atomic file replacement and the fault injection every disk step goes through. */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctx.h"
#include "fileops.h"
#include "lib/testsuite.h"
#include "lib/testutil.h"

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
	CHECK_INT(av_file_replace(&ctx, "/etc/modules", "vfio\n", 5, 0644, -1, -1), 0);
	CHECK_STR(tu_read(p), "vfio\n");
	CHECK_INT(stat(p, &st), 0);
	CHECK_INT(st.st_mode & 07777, 0640);
	/* a new file gets the mode asked for, parents are made */
	CHECK_INT(av_file_replace(&ctx, "/etc/new/dir/f.conf", "x", 1, 0600, -1, -1), 0);
	CHECK_INT(stat(tu_fmt("%s/etc/new/dir/f.conf", r), &st), 0);
	CHECK_INT(st.st_mode & 07777, 0600);
	/* never through a symlink */
	tu_symlink("modules", tu_fmt("%s/etc/link.conf", r));
	CHECK_INT(av_file_replace(&ctx, "/etc/link.conf", "y", 1, 0644, -1, -1), -ELOOP);
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

		ctx.fault = &f;
		CHECK_INT(av_file_replace(&ctx, "/etc/default/grub", "NEW\n", 4, 0644, -1, -1),
			  -ENOSPC);
		CHECK_STR(tu_read(p), "GRUB_DEFAULT=0\n");
		CHECK_INT(count_entries(tu_fmt("%s/etc/default", r)), 1);
	}
	{
		/* failing after the rename: the new file is whole */
		struct av_fault f = {.at = 5, .err = EIO};

		ctx.fault = &f;
		CHECK_INT(av_file_replace(&ctx, "/etc/default/grub", "NEW\n", 4, 0644, -1, -1),
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
