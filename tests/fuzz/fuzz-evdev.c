// SPDX-License-Identifier: GPL-2.0-or-later
/* libvirt's qemu.conf: applying the evdev inputs twice adds nothing the second time. */
#include "evdev.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct av_input v[] = {
	    {.kind = AV_INPUT_KEYBOARD, .path = AV_INPUT_BY_ID "/usb-Kbd-event-kbd"},
	    {.kind = AV_INPUT_MOUSE, .path = AV_INPUT_BY_ID "/usb-Mouse-event-mouse"},
	};
	struct av_inputs in = {.n = 2, .v = v};
	struct av_ctx ctx;
	char *s = fuzz_str(data, size), *once = NULL, *twice = NULL;

	av_ctx_init(&ctx, "/");
	if (av_evdev_qemu_conf(&ctx, "qemu.conf", s, &in, &once) == 0 && once) {
		FUZZ_ASSERT(strstr(once, v[0].path) && strstr(once, v[1].path));
		FUZZ_ASSERT(av_evdev_qemu_conf(&ctx, "qemu.conf", once, &in, &twice) == 0);
		FUZZ_ASSERT(twice == NULL);
	}
	free(once);
	free(twice);
	free(s);
	return 0;
}
