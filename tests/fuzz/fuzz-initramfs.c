// SPDX-License-Identifier: GPL-2.0-or-later
/* The initramfs reader (newc cpio, gzip through zlib); no decompressor is run. */
#include "fuzz.h"
#include "initramfs.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* zstd, xz, ... run as child processes: not here */
	setenv("PATH", "/nonexistent", 1);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct av_initramfs ir;
	struct av_ctx ctx;

	fuzz_root(&ctx);
	fuzz_write(&ctx, "/boot/initrd.img", data, size);
	if (av_initramfs_list(&ctx, "/boot/initrd.img", &ir) == 0) {
		for (size_t i = 0; i < ir.n; i++)
			FUZZ_ASSERT(ir.names[i] && ir.names[i][0] != '/');
		av_initramfs_find(&ir, "*vfio*");
		av_initramfs_release(&ir);
	}
	return 0;
}
