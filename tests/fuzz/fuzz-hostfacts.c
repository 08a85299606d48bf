// SPDX-License-Identifier: GPL-2.0-or-later
/* /proc/self/mountinfo and /proc/net/route: the input is both, split at its first NUL. */
#include "fuzz.h"
#include "hostfacts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t first = nul ? (size_t)(nul - data) : size;
	struct av_pci_addr out[8];
	struct av_ctx ctx;
	char ifname[64];
	int n;

	fuzz_root(&ctx);
	fuzz_write(&ctx, "/proc/self/mountinfo", data, first);
	fuzz_write(&ctx, "/proc/net/route", nul ? nul + 1 : data, nul ? size - first - 1 : 0);
	n = av_host_disk_devices(&ctx, out, 8);
	FUZZ_ASSERT(n <= 8);
	n = av_host_route_devices(&ctx, out, 8, ifname, sizeof(ifname));
	FUZZ_ASSERT(n <= 8);
	FUZZ_ASSERT(memchr(ifname, '\0', sizeof(ifname)) != NULL);
	return 0;
}
