// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The manifest and its transaction: restoring byte for byte, keeping what
 * others changed since, refusing damaged manifests and paths leaving the
 * root, and recovering from a fault or a kill at every disk step.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctx.h"
#include "fileops.h"
#include "lib/testsuite.h"
#include "lib/testutil.h"
#include "manifest.h"

/* One transaction writing @n files and committing; returns the first error. */
static int txn_write(struct av_ctx *ctx, struct av_fault *f, const char *const *paths,
		     const char *const *data, size_t n)
{
	struct av_txn *t;
	bool changed;
	int err;

	ctx->fault = f;
	err = av_txn_begin(ctx, 0, &t);

	for (size_t i = 0; i < n && !err; i++)
		err = av_txn_write(t, paths[i], data[i], strlen(data[i]), 0644, &changed);
	if (err < 0) {
		av_txn_rollback(t);
		return err;
	}
	return av_txn_commit(t);
}

/* uninstall: every file back, committed; the first error. */
static int txn_restore_all(struct av_ctx *ctx, struct av_fault *f)
{
	struct av_txn *t;
	int err, err2;

	ctx->fault = f;
	err = av_txn_begin(ctx, 0, &t);
	if (err < 0)
		return err;
	err = av_txn_restore_all(t, NULL, NULL);
	err2 = av_txn_commit(t);
	return err ? err : err2;
}

AV_TEST(manifest_write_and_restore_byte_for_byte)
{
	const char *r = tu_tmpdir();
	struct av_ctx ctx;
	struct av_manifest m;
	struct av_txn *t;
	const char orig[] = "options foo bar=1\n# no newline at end";
	char *p = tu_fmt("%s/etc/modprobe.d/foo.conf", r);
	bool changed;
	struct stat st;

	tu_ctx(&ctx, r);
	tu_write(p, orig);
	chmod(p, 0600);
	CHECK_INT(chown(p, 1000, 1001), 0);
	CHECK_INT(av_txn_begin(&ctx, 0, &t), 0);
	CHECK_INT(av_txn_manifest(t)->n, 0);
	CHECK_INT(av_txn_write(t, "/etc/modprobe.d/foo.conf", "A\n", 2, 0644, &changed), 0);
	CHECK(changed);
	CHECK_INT(av_txn_write(t, "/etc/modprobe.d/auto-vfio.conf", "B\n", 2, 0644, &changed), 0);
	CHECK(changed);
	/* same content again: nothing written */
	CHECK_INT(av_txn_write(t, "/etc/modprobe.d/foo.conf", "A\n", 2, 0644, &changed), 0);
	CHECK(!changed);
	/* a second write keeps the first original */
	CHECK_INT(av_txn_write(t, "/etc/modprobe.d/foo.conf", "C\n", 2, 0644, &changed), 0);
	CHECK_INT(av_txn_commit(t), 0);
	/* someone changes the mode and owner of the file in between */
	chmod(p, 0644);
	CHECK_INT(chown(p, 0, 0), 0);

	CHECK_INT(av_manifest_load(&ctx, &m), 0);
	CHECK_INT(av_manifest_files(&m), 2);
	av_manifest_release(&m);
	CHECK_INT(txn_restore_all(&ctx, NULL), 0);
	CHECK_STR(tu_read(p), orig);
	CHECK_INT(stat(p, &st), 0);
	CHECK_INT(st.st_mode & 07777, 0600);
	CHECK_INT(st.st_uid, 1000);
	CHECK_INT(st.st_gid, 1001);
	CHECK(!tu_exists(tu_fmt("%s/etc/modprobe.d/auto-vfio.conf", r)));
	CHECK(!tu_exists(tu_fmt("%s/var/lib/auto-vfio", r)));
}

AV_TEST(manifest_restore_keeps_later_edits)
{
	const char *r = tu_tmpdir();
	struct av_ctx ctx;
	const char *path[] = {"/etc/auto-vfio.conf"}, *data[] = {"mode = static\n"};
	char *keep = tu_fmt("%s/etc/auto-vfio.conf.auto-vfio-saved", r);

	tu_ctx(&ctx, r);
	/* an earlier copy of someone's is never overwritten: the next name is taken */
	tu_write(keep, "the admin's own copy\n");
	CHECK_INT(txn_write(&ctx, NULL, path, data, 1), 0);
	tu_write(tu_fmt("%s/etc/auto-vfio.conf", r), "edited by hand\n");
	CHECK_INT(txn_restore_all(&ctx, NULL), 0);
	CHECK(!tu_exists(tu_fmt("%s/etc/auto-vfio.conf", r)));
	CHECK_STR(tu_read(keep), "the admin's own copy\n");
	CHECK_STR(tu_read(tu_fmt("%s.1", keep)), "edited by hand\n");
}

/* The report of a restore, collected. */
static void collect(void *data, const char *path, const char *what)
{
	char **out = data;

	*out = tu_fmt("%s%s: %s\n", *out ? *out : "", path, what);
}

AV_TEST(manifest_keep_copy_is_named)
{
	const char *r = tu_tmpdir();
	struct av_ctx ctx;
	const char *path[] = {"/etc/x.conf"}, *data[] = {"x\n"};
	struct av_txn *t;
	char *said = NULL;

	tu_ctx(&ctx, r);
	tu_write(tu_fmt("%s/etc/x.conf.auto-vfio-saved", r), "older\n");
	CHECK_INT(txn_write(&ctx, NULL, path, data, 1), 0);
	tu_write(tu_fmt("%s/etc/x.conf", r), "mine\n");
	CHECK_INT(av_txn_begin(&ctx, 0, &t), 0);
	CHECK_INT(av_txn_restore_all(t, collect, &said), 0);
	CHECK_INT(av_txn_commit(t), 0);
	CHECK_CONTAINS(said, tu_fmt("kept as %s/etc/x.conf.auto-vfio-saved.1", r));
}

AV_TEST(manifest_every_fault_is_recoverable)
{
	/* Fail each disk step of a two-file setup in turn; whatever happened, restore wins. */
	for (unsigned at = 1; at <= 40; at++) {
		const char *base = tu_tmpdir();
		char *r = tu_fmt("%s/%u", base, at);
		const char *path[] = {"/etc/modules", "/etc/x.conf"}, *data[] = {"vfio\n", "x\n"};
		struct av_fault f = {.at = at, .err = EIO};
		struct av_ctx ctx;
		char *orig;
		int err;

		tu_write(tu_fmt("%s/etc/modules", r), "loop\n");
		tu_ctx(&ctx, r);
		orig = tu_tree_digest(r);
		err = txn_write(&ctx, &f, path, data, 2);
		if (err < 0) {
			/* failed: rolled back, nothing of it is left */
			CHECK_STR(tu_tree_digest(r), orig);
			continue;
		}
		CHECK_STR(tu_read(tu_fmt("%s/etc/modules", r)), "vfio\n");
		CHECK_INT(txn_restore_all(&ctx, NULL), 0);
		CHECK_STR(tu_tree_digest(r), orig);
		if (at > 30)
			break;
	}
}

AV_TEST(manifest_damaged_refused)
{
	static const char *const bad[] = {
	    "",
	    "file /etc/x created 0000000000000001 0000000000000000\nend\n",
	    "# auto-vfio\nversion 2\nfile /etc/x created 0000000000000001 0000000000000000\n",
	    "# auto-vfio\nversion 2\nfile /etc/x created 00000000000000",
	    "# auto-vfio\nversion 2\nfile relative created 1 0\nend\n",
	    "# auto-vfio\nversion 2\nfile /etc/../../x created 1 0\nend\n",
	    "# auto-vfio\nversion 2\nfile /etc/./x created 1 0\nend\n",
	    "# auto-vfio\nversion 2\nfile /etc//x created 1 0\nend\n",
	    "# auto-vfio\nversion 2\nfile /etc/x created -1 0\nend\n",
	    "# auto-vfio\nversion 9\nend\n",
	};
	const char *r = tu_tmpdir();
	struct av_ctx ctx;
	struct av_manifest m;

	tu_ctx(&ctx, r);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tu_write(tu_fmt("%s/var/lib/auto-vfio/manifest", r), bad[i]);
		CHECK_MSG(av_manifest_load(&ctx, &m) == -EBADMSG, "accepted: %s", bad[i]);
	}
	/* an older manifest (version 1, no end line) still loads */
	tu_write(tu_fmt("%s/var/lib/auto-vfio/manifest", r),
		 "# auto-vfio\nversion 1\ndir /etc/default/grub.d created\n"
		 "file /etc/default/grub.d/auto-vfio.cfg created 00000000000000ab\n"
		 "file /etc/modules saved 00000000000000cd 1 0644 0 0\n");
	CHECK_INT(av_manifest_load(&ctx, &m), 0);
	CHECK_INT(m.n, 3);
	CHECK_INT(m.e[2].saved, 1);
	CHECK(!m.e[2].has_orig);
	av_manifest_release(&m);
}

AV_TEST(manifest_paths_stay_in_the_root)
{
	const char *r = tu_tmpdir();
	char *root = tu_fmt("%s/root", r);
	struct av_ctx ctx;
	struct av_manifest m;
	struct av_txn *t;
	bool changed;

	tu_write(tu_fmt("%s/outside/victim", r), "precious\n");
	tu_mkdirs(tu_fmt("%s/etc", root));
	tu_symlink(tu_fmt("%s/outside", r), tu_fmt("%s/etc/escape", root));
	tu_ctx(&ctx, root);
	tu_write(tu_fmt("%s/var/lib/auto-vfio/manifest", root),
		 "# auto-vfio\nversion 2\n"
		 "file /etc/escape/victim created 0000000000000001 0000000000000000\nend\n");
	CHECK_INT(av_manifest_load(&ctx, &m), -EBADMSG);
	CHECK_INT(av_txn_begin(&ctx, 0, &t), -EBADMSG);
	/* salvage refuses the line too */
	CHECK_INT(av_manifest_salvage(&ctx, &m), 0);
	CHECK_INT(m.n, 0);
	CHECK_INT(m.refused, 1);
	av_manifest_release(&m);
	CHECK_STR(tu_read(tu_fmt("%s/outside/victim", r)), "precious\n");
	/* nor does a write go through it */
	tu_write(tu_fmt("%s/var/lib/auto-vfio/manifest", root), "# auto-vfio\nversion 2\nend\n");
	CHECK_INT(av_txn_begin(&ctx, 0, &t), 0);
	CHECK_INT(av_txn_write(t, "/etc/escape/victim", "x", 1, 0644, &changed), -EXDEV);
	CHECK_INT(av_txn_write(t, "/etc/../outside/victim", "x", 1, 0644, &changed), -EINVAL);
	av_txn_rollback(t);
	CHECK_STR(tu_read(tu_fmt("%s/outside/victim", r)), "precious\n");
}

/* A transaction killed at every disk step, in a child; then uninstall finishes. */
AV_TEST(manifest_killed_anywhere_then_restored)
{
	for (unsigned at = 1; at <= 60; at++) {
		char *r = tu_fmt("%s/%u", tu_tmpdir(), at);
		const char *path[] = {"/etc/modules", "/etc/new/x.conf"},
			   *data[] = {"vfio\n", "x\n"};
		struct av_fault f = {.at = at, .kill = true};
		struct av_ctx ctx;
		char *orig;
		int status;
		pid_t pid;

		tu_write(tu_fmt("%s/etc/modules", r), "loop\n");
		tu_mkdirs(tu_fmt("%s/var/lib", r));
		tu_ctx(&ctx, r);
		orig = tu_tree_digest(r);
		pid = fork();
		if (pid == 0) {
			/* setup, then uninstall: the fault counts across both */
			txn_write(&ctx, &f, path, data, 2);
			txn_restore_all(&ctx, &f);
			_exit(0);
		}
		CHECK(waitpid(pid, &status, 0) == pid);
		/* a new setup first (not the uninstall the killed run asked for), then uninstall */
		CHECK_INT(txn_write(&ctx, NULL, path, data, 2), 0);
		CHECK_INT(txn_restore_all(&ctx, NULL), 0);
		CHECK_MSG(strcmp(tu_tree_digest(r), orig) == 0, "not restored after a kill at %u",
			  at);
		if (WIFEXITED(status))
			break;
	}
}

/* A root composed of links at its top (etc -> a real /etc elsewhere) is used as it is. */
AV_TEST(manifest_composed_root_accepted)
{
	const char *r = tu_tmpdir();
	char *root = tu_fmt("%s/root", r), *etc = tu_fmt("%s/real-etc", r);
	const char *path[] = {"/etc/x.conf"}, *data[] = {"x\n"};
	struct av_manifest m;
	struct av_ctx ctx;

	tu_mkdirs(etc);
	tu_mkdirs(tu_fmt("%s/outside", r));
	tu_mkdirs(root);
	tu_symlink(etc, tu_fmt("%s/etc", root));
	tu_ctx(&ctx, root);
	CHECK_INT(txn_write(&ctx, NULL, path, data, 1), 0);
	CHECK_STR(tu_read(tu_fmt("%s/x.conf", etc)), "x\n");
	CHECK_INT(av_manifest_load(&ctx, &m), 0);
	av_manifest_release(&m);
	/* below the top, a link out is still refused */
	tu_symlink(tu_fmt("%s/outside", r), tu_fmt("%s/escape", etc));
	path[0] = "/etc/escape/y.conf";
	CHECK_INT(txn_write(&ctx, NULL, path, data, 1), -EXDEV);
	CHECK_INT(txn_restore_all(&ctx, NULL), 0);
	CHECK(!tu_exists(tu_fmt("%s/x.conf", etc)));
}
