// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The real IOMMU listings of real machines (fixtures/iommu), turned into fake
 * sysfs trees by the converter and read by the model, the policy and
 * `auto-vfio list`. The listings are parsed here a second time, with regular
 * expressions instead of the converter's hand parser, so that one bug cannot
 * hide itself. Verdicts per machine are written from reading the listings.
 */
#include <dirent.h>
#include <errno.h>
#include <regex.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctx.h"
#include "lib/testsuite.h"
#include "lib/testutil.h"
#include "machine.h"
#include "pciclass.h"
#include "safety.h"

#define FX_MAX_DEVS 256

struct fx_dev {
	char addr[AV_ADDR_LEN];
	unsigned cls, progif, vendor, device, rev;
	int group;
	char driver[64];
};

struct fx {
	char name[128];
	size_t n;
	struct fx_dev devs[FX_MAX_DEVS];
};

/* ---- the second parser ---- */

static unsigned hex(const char *s, const regmatch_t *m)
{
	char buf[16] = "";

	if (m->rm_so < 0)
		return 0;
	memcpy(buf, s + m->rm_so, (size_t)(m->rm_eo - m->rm_so));
	return (unsigned)strtoul(buf, NULL, 16);
}

static void fx_add(struct fx *fx, const char *s, int group, int line)
{
	static const char dev_re[] =
	    "^[[:space:]]*(([0-9a-f]{4}):)?([0-9a-f]{2}):([0-9a-f]{2})\\.([0-7]) .* "
	    "\\[([0-9a-f]{4})\\]: .*\\[([0-9a-f]{4}):([0-9a-f]{4})\\]"
	    "( \\(rev ([0-9a-f]{2})\\))?( \\(prog-if ([0-9a-f]{2}).*\\))?[[:space:]]*$";
	regmatch_t m[13];
	regex_t re;
	struct fx_dev *d;

	CHECK_INT(regcomp(&re, dev_re, REG_EXTENDED | REG_ICASE), 0);
	CHECK_MSG(regexec(&re, s, 13, m, 0) == 0, "%s:%d: not a device line: %s", fx->name, line,
		  s);
	CHECK(fx->n < FX_MAX_DEVS);
	d = &fx->devs[fx->n++];
	snprintf(d->addr, sizeof(d->addr), "%04x:%02x:%02x.%x", hex(s, &m[2]), hex(s, &m[3]),
		 hex(s, &m[4]), hex(s, &m[5]));
	d->cls = hex(s, &m[6]);
	d->vendor = hex(s, &m[7]);
	d->device = hex(s, &m[8]);
	d->rev = hex(s, &m[10]);
	d->progif = hex(s, &m[12]);
	d->group = group;
	regfree(&re);
}

static struct fx_dev *fx_find(struct fx *fx, const char *addr)
{
	for (size_t i = 0; i < fx->n; i++)
		if (!strcmp(fx->devs[i].addr, addr))
			return &fx->devs[i];
	return NULL;
}

static void fx_parse(struct fx *fx, const char *path)
{
	char *text = tu_read(path), *line;
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	char *drivers;
	regmatch_t m[3];
	regex_t hdr;
	int group = -1, lineno = 0;

	CHECK_MSG(text != NULL, "cannot read %s", path);
	memset(fx, 0, sizeof(*fx));
	snprintf(fx->name, sizeof(fx->name), "%.*s", (int)(strlen(base) - 4), base);
	CHECK_INT(
	    regcomp(&hdr, "^IOMMU group ([0-9]+):?[[:space:]]*(.*)$", REG_EXTENDED | REG_ICASE), 0);
	/* strsep keeps empty lines, so line numbers stay true */
	for (char *p = text; (line = strsep(&p, "\n"));) {
		lineno++;
		if (!line[strspn(line, " \t\r")] || line[strspn(line, " \t")] == '#')
			continue;
		if (regexec(&hdr, line, 3, m, 0) == 0) {
			group = atoi(line + m[1].rm_so);
			if (m[2].rm_eo > m[2].rm_so)
				fx_add(fx, line + m[2].rm_so, group, lineno);
			continue;
		}
		CHECK_MSG(group >= 0, "%s:%d: device before a group", fx->name, lineno);
		fx_add(fx, line, group, lineno);
	}
	regfree(&hdr);

	drivers = tu_read(tu_fmt("%.*s.drivers.txt", (int)(strlen(path) - 4), path));
	for (char *p = drivers; p && (line = strsep(&p, "\n"));) {
		char a[16], drv[64];
		struct fx_dev *d;

		if (sscanf(line, "%15s %63s", a, drv) != 2)
			continue;
		d = fx_find(fx, tu_fmt("0000:%s", a));
		CHECK_MSG(d != NULL, "%s.drivers.txt: %s not in the listing", fx->name, a);
		if (!d->driver[0]) /* a device has one driver: the first line counts */
			snprintf(d->driver, sizeof(d->driver), "%s", drv);
	}
}

static bool is_gpu(unsigned cls)
{
	return cls == 0x0300 || cls == 0x0302 || cls == 0x0380;
}

static bool is_bridge(unsigned cls)
{
	return (cls >> 8) == 0x06 && cls != 0x0600 && cls != 0x0601;
}

static bool is_platform(unsigned cls)
{
	return cls == 0x0600 || cls == 0x0601 || cls == 0x0c05 || (cls >> 8) == 0x05 ||
	       (cls >> 8) == 0x08;
}

static bool same_slot(const char *a, const char *b)
{
	return !strncmp(a, b, 10); /* "dddd:bb:dd" */
}

/* The converter's documented rule: first VGA on bus 00, else first VGA. */
static const char *fx_boot_vga(const struct fx *fx)
{
	const char *pick = NULL, *first = NULL;

	for (size_t i = 0; i < fx->n; i++) {
		const char *a = fx->devs[i].addr;

		if (fx->devs[i].cls != 0x0300)
			continue;
		if (!first || strcmp(a, first) < 0)
			first = a;
		if (!strncmp(a, "0000:00:", 8) && (!pick || strcmp(a, pick) < 0))
			pick = a;
	}
	return pick ? pick : first;
}

/* ---- the listings and the machines ---- */

static char **listings(size_t *count)
{
	const char *dir = tu_fmt("%s/iommu", tu_fixtures());
	struct dirent **ents;
	char **v;
	int n = scandir(dir, &ents, NULL, alphasort);
	size_t k = 0;

	CHECK_MSG(n >= 0, "cannot list %s", dir);
	v = calloc((size_t)n + 1, sizeof(*v));
	CHECK(v != NULL);
	for (int i = 0; i < n; i++) {
		const char *e = ents[i]->d_name;
		size_t len = strlen(e);

		if (len > 4 && !strcmp(e + len - 4, ".txt") &&
		    !(len > 12 && !strcmp(e + len - 12, ".drivers.txt")))
			v[k++] = tu_fmt("%s/%s", dir, e);
		free(ents[i]);
	}
	free(ents);
	CHECK_MSG(k >= 18, "only %zu listings in %s", k, dir);
	*count = k;
	return v;
}

static const char *convert(const char *listing, const char *name)
{
	static int serial; /* one machine may be loaded more than once per test */
	const char *out = tu_fmt("%s/%s.%d", tu_tmpdir(), name, serial++);
	const char *argv[] = {tu_prog("tests/fixture2sysfs"), listing, out, NULL};
	struct tu_result r;

	tu_run(&r, argv, NULL, NULL);
	CHECK_MSG(r.status == 0, "converting %s: exit %d: %s", listing, r.status, r.err);
	tu_result_free(&r);
	return out;
}

struct mach {
	struct fx fx;
	const char *tree;
	struct av_machine *m;
};

static void load(struct mach *mc, const char *listing)
{
	struct av_ctx ctx;

	fx_parse(&mc->fx, listing);
	mc->tree = convert(listing, mc->fx.name);
	CHECK_INT(av_ctx_init(&ctx, mc->tree), 0);
	mc->m = NULL;
	CHECK_INT(av_machine_load(&ctx, NULL, &mc->m), 0);
	CHECK(mc->m != NULL);
	CHECK_INT(av_analyze(&ctx, mc->m), 0);
}

/* The machine whose listing name starts with @prefix ("002"). */
static struct mach *machine(const char *prefix)
{
	struct mach *mc = calloc(1, sizeof(*mc));
	size_t n;
	char **v = listings(&n);

	CHECK(mc != NULL);
	for (size_t i = 0; i < n; i++) {
		if (!strncmp(strrchr(v[i], '/') + 1, prefix, strlen(prefix))) {
			load(mc, v[i]);
			return mc;
		}
	}
	CHECK_MSG(false, "no listing %s*", prefix);
	return NULL;
}

static const struct av_dev *dev(const struct mach *mc, const char *addr)
{
	struct av_pci_addr a;
	const struct av_dev *d;

	CHECK_INT(av_pci_addr_parse(addr, true, &a), 0);
	d = av_machine_find(mc->m, &a);
	CHECK_MSG(d != NULL, "%s: %s not found", mc->fx.name, addr);
	return d;
}

static size_t idx(const struct mach *mc, const char *addr)
{
	return (size_t)(dev(mc, addr) - mc->m->devs);
}

static const struct av_group *grp(const struct mach *mc, int id)
{
	const struct av_group *g = av_machine_group(mc->m, id);

	CHECK_MSG(g != NULL, "%s: no group %d", mc->fx.name, id);
	return g;
}

static size_t gidx(const struct mach *mc, int id)
{
	return (size_t)(grp(mc, id) - mc->m->groups);
}

static bool reasons_contain(const struct av_group *g, const char *needle)
{
	for (size_t i = 0; i < g->nreasons; i++)
		if (strstr(g->reasons[i], needle))
			return true;
	return false;
}

static bool notes_contain(const struct av_group *g, const char *needle)
{
	for (size_t i = 0; i < g->nnotes; i++)
		if (strstr(g->notes[i], needle))
			return true;
	return false;
}

static void check_safe(const struct mach *mc, int id)
{
	const struct av_group *g = grp(mc, id);

	CHECK_MSG(g->safe && g->nreasons == 0, "%s: group %d judged unsafe: %s", mc->fx.name, id,
		  g->nreasons ? g->reasons[0] : "(no reason)");
}

static void check_unsafe(const struct mach *mc, int id, const char *const *named)
{
	const struct av_group *g = grp(mc, id);

	CHECK_MSG(!g->safe && g->nreasons > 0, "%s: group %d judged safe", mc->fx.name, id);
	for (; named && *named; named++)
		CHECK_MSG(reasons_contain(g, *named), "%s: group %d: no reason names %s",
			  mc->fx.name, id, *named);
}

/* av_group_closure() as group ids: the group itself first, then the others sorted. */
static char *closure_ids(const struct mach *mc, int id)
{
	size_t out[64];
	int n = av_group_closure(mc->m, gidx(mc, id), out, 64);
	char *s = tu_fmt("%s", "");

	CHECK_MSG(n > 0, "%s: closure of group %d: %d", mc->fx.name, id, n);
	CHECK_INT(out[0], gidx(mc, id));
	for (int i = 1; i < n; i++)
		for (int j = i + 1; j < n; j++)
			if (mc->m->groups[out[j]].id < mc->m->groups[out[i]].id) {
				size_t t = out[i];

				out[i] = out[j];
				out[j] = t;
			}
	for (int i = 0; i < n; i++)
		s = tu_fmt("%s%s%d", s, i ? " " : "", mc->m->groups[out[i]].id);
	return s;
}

/* ---- every listing: the model sees exactly what the listing says ---- */

static void check_model(struct mach *mc)
{
	const struct fx *fx = &mc->fx;
	const struct av_machine *m = mc->m;
	const char *boot = fx_boot_vga(fx);
	size_t ngroups = 0;

	CHECK_MSG(m->iommu, "%s: no IOMMU", fx->name);
	CHECK_MSG(m->ndevs == fx->n, "%s: %zu devices, listing has %zu", fx->name, m->ndevs, fx->n);
	for (size_t i = 0; i < fx->n; i++) {
		bool seen = false;

		for (size_t j = 0; j < i; j++)
			seen |= fx->devs[j].group == fx->devs[i].group;
		ngroups += !seen;
	}
	CHECK_MSG(m->ngroups == ngroups, "%s: %zu groups, listing has %zu", fx->name, m->ngroups,
		  ngroups);

	for (size_t i = 0; i < fx->n; i++) {
		const struct fx_dev *e = &fx->devs[i];
		const struct av_dev *d = dev(mc, e->addr);
		const struct av_group *g;
		size_t members = 0;
		bool in_group = false;

		CHECK_STR(d->address, e->addr);
		CHECK_MSG(d->vendor == e->vendor && d->device == e->device,
			  "%s: %s is %04x:%04x, listing says %04x:%04x", fx->name, e->addr,
			  d->vendor, d->device, e->vendor, e->device);
		CHECK_MSG(d->cls == e->cls, "%s: %s class %04x, listing says %04x", fx->name,
			  e->addr, d->cls, e->cls);
		CHECK_INT(d->class, e->cls << 8 | e->progif);
		CHECK_MSG(d->revision == (int)e->rev, "%s: %s rev %d, listing says %u", fx->name,
			  e->addr, d->revision, e->rev);
		CHECK_MSG(!strcmp(d->driver, e->driver), "%s: %s driver \"%s\", expected \"%s\"",
			  fx->name, e->addr, d->driver, e->driver);
		CHECK_MSG(d->group == e->group, "%s: %s in group %d, listing says %d", fx->name,
			  e->addr, d->group, e->group);
		CHECK(d->group_idx != AV_NONE && d->group_idx < m->ngroups);
		g = &m->groups[d->group_idx];
		CHECK_INT(g->id, e->group);
		for (size_t j = 0; j < g->ndevs; j++)
			in_group |= g->devs[j] == (size_t)(d - m->devs);
		CHECK_MSG(in_group, "%s: group %d does not hold %s", fx->name, g->id, e->addr);
		for (size_t j = 0; j < fx->n; j++)
			members += fx->devs[j].group == e->group;
		CHECK_MSG(g->ndevs == members, "%s: group %d has %zu devices, listing has %zu",
			  fx->name, g->id, g->ndevs, members);
		CHECK_MSG(d->boot_vga == (boot && !strcmp(boot, e->addr)), "%s: %s boot_vga %d",
			  fx->name, e->addr, d->boot_vga);
		CHECK_MSG(d->gpu == is_gpu(e->cls), "%s: %s gpu %d", fx->name, e->addr, d->gpu);
	}
	for (size_t i = 1; i < m->ngroups; i++)
		CHECK_MSG(m->groups[i - 1].id < m->groups[i].id, "%s: groups out of order",
			  fx->name);
	for (size_t i = 1; i < m->ndevs; i++)
		CHECK_MSG(strcmp(m->devs[i - 1].address, m->devs[i].address) < 0,
			  "%s: devices out of order", fx->name);
	if (boot)
		CHECK_MSG(m->boot_vga != AV_NONE && !strcmp(m->devs[m->boot_vga].address, boot),
			  "%s: boot VGA should be %s", fx->name, boot);
	/* a fake tree has no mount or route table: said, not failed */
	CHECK_MSG(m->nnotes > 0, "%s: unknown host facts not noted", fx->name);
}

static void for_each_machine(void (*fn)(struct mach *))
{
	size_t n;
	char **v = listings(&n);

	for (size_t i = 0; i < n; i++) {
		struct mach mc;

		load(&mc, v[i]);
		fn(&mc);
		av_machine_free(mc.m);
	}
}

AV_TEST_T(fixture_all_listings_load, 120)
{
	for_each_machine(check_model);
}

/* The policy's rules (DESIGN.md section 5), checked group by group on every machine. */
static void check_policy(struct mach *mc)
{
	const struct fx *fx = &mc->fx;

	for (size_t gi = 0; gi < mc->m->ngroups; gi++) {
		const struct av_group *g = &mc->m->groups[gi];
		bool platform = false, bridges_only = true, gpu = false;
		char *unrelated[FX_MAX_DEVS];
		size_t nun = 0;

		for (size_t i = 0; i < fx->n; i++) {
			const struct fx_dev *e = &fx->devs[i];
			bool in_gpu_slot = false;

			if (e->group != g->id)
				continue;
			platform |= is_platform(e->cls);
			bridges_only &= is_bridge(e->cls);
			gpu |= is_gpu(e->cls);
			for (size_t j = 0; j < fx->n; j++)
				in_gpu_slot |= fx->devs[j].group == g->id &&
					       is_gpu(fx->devs[j].cls) &&
					       same_slot(fx->devs[j].addr, e->addr);
			if (!in_gpu_slot && !is_bridge(e->cls) && !is_platform(e->cls))
				unrelated[nun++] = (char *)e->addr;
			if (is_platform(e->cls))
				CHECK_MSG(reasons_contain(g, e->addr),
					  "%s: group %d: platform device %s not named", fx->name,
					  g->id, e->addr);
		}
		if (platform)
			CHECK_MSG(!g->safe, "%s: group %d holds a platform device", fx->name,
				  g->id);
		if (bridges_only)
			CHECK_MSG(g->safe && g->nreasons == 0,
				  "%s: group %d holds only bridges: %s", fx->name, g->id,
				  g->nreasons ? g->reasons[0] : "");
		if (gpu && nun > 0) {
			CHECK_MSG(!g->safe, "%s: group %d: GPU with unrelated devices", fx->name,
				  g->id);
			for (size_t k = 0; k < nun; k++)
				CHECK_MSG(reasons_contain(g, unrelated[k]),
					  "%s: group %d: unrelated %s not named", fx->name, g->id,
					  unrelated[k]);
		}
		if (gpu && nun == 0 && !platform)
			CHECK_MSG(g->safe, "%s: group %d: GPU with its own functions: %s", fx->name,
				  g->id, g->nreasons ? g->reasons[0] : "");
		CHECK_MSG(g->safe == (g->nreasons == 0), "%s: group %d: safe and reasons disagree",
			  fx->name, g->id);
	}
}

AV_TEST_T(fixture_policy_every_group, 120)
{
	for_each_machine(check_policy);
}

/* Companions, identical IDs and closures, from slots and IDs in the listing. */
static void check_gpu_relations(struct mach *mc)
{
	const struct fx *fx = &mc->fx;

	for (size_t i = 0; i < fx->n; i++) {
		const struct fx_dev *e = &fx->devs[i];
		const struct av_dev *d = dev(mc, e->addr);
		size_t want = AV_NONE;
		bool identical = false;

		for (size_t j = 0; j < fx->n; j++) {
			const struct fx_dev *o = &fx->devs[j];

			if (j == i || !is_gpu(o->cls))
				continue;
			if (!is_gpu(e->cls) && !is_bridge(e->cls) && e->vendor == o->vendor &&
			    same_slot(o->addr, e->addr))
				want = idx(mc, o->addr);
			if (is_gpu(e->cls) && o->vendor == e->vendor && o->device == e->device)
				identical = true;
		}
		CHECK_MSG(d->companion_of == want, "%s: %s companion_of %s, expected %s", fx->name,
			  e->addr,
			  d->companion_of == AV_NONE ? "none"
						     : mc->m->devs[d->companion_of].address,
			  want == AV_NONE ? "none" : mc->m->devs[want].address);
		CHECK_MSG(d->identical_id == identical, "%s: %s identical_id %d", fx->name, e->addr,
			  d->identical_id);

		/* a GPU's closure holds the groups of all its slot's functions */
		if (is_gpu(e->cls)) {
			size_t out[64];
			int n = av_group_closure(mc->m, d->group_idx, out, 64);

			CHECK_MSG(n > 0, "%s: closure of %s: %d", fx->name, e->addr, n);
			for (size_t j = 0; j < fx->n; j++) {
				bool found = false;

				/* the card's own functions: same slot, same vendor */
				if (!same_slot(fx->devs[j].addr, e->addr) ||
				    fx->devs[j].vendor != e->vendor)
					continue;
				for (int k = 0; k < n; k++)
					found |= mc->m->groups[out[k]].id == fx->devs[j].group;
				CHECK_MSG(found, "%s: closure of %s lacks group %d of %s", fx->name,
					  e->addr, fx->devs[j].group, fx->devs[j].addr);
			}
		}
	}
}

AV_TEST_T(fixture_gpu_companions_identical_closure, 120)
{
	for_each_machine(check_gpu_relations);
}

/* ---- machine by machine, from reading the listings ---- */

AV_TEST(fixture_002_gt710_in_chipset_group)
{
	struct mach *mc = machine("002");
	const char *const named[] = {"0000:02:00.0", "0000:02:00.1", "0000:2a:00.0", NULL};
	const struct av_group *g = grp(mc, 13);

	/* GT 710 shares group 13 with the chipset's USB, SATA and the RTL8125 */
	check_unsafe(mc, 13, named);
	CHECK_INT(g->ndevs, 8);
	/* its own HDMI audio and the bridges are not what makes it unsafe */
	CHECK(!reasons_contain(g, "0000:04:00.1"));
	CHECK(!reasons_contain(g, "0000:03:00.0"));
	CHECK(!reasons_contain(g, "0000:03:09.0"));
	CHECK_INT(dev(mc, "04:00.1")->companion_of, idx(mc, "04:00.0"));
	/* no bus-00 VGA device on this board: the GT 710 comes first */
	CHECK(dev(mc, "04:00.0")->boot_vga);
	CHECK_STR(closure_ids(mc, 13), "13");
	av_machine_free(mc->m);
}

AV_TEST(fixture_002_rtx2070_group_safe)
{
	struct mach *mc = machine("002");
	const size_t gpu = idx(mc, "2b:00.0");

	/* GPU + HDMI audio + USB 3.1 + USB-C UCSI, all one slot, one group */
	check_safe(mc, 14);
	CHECK_INT(grp(mc, 14)->ndevs, 4);
	CHECK_INT(dev(mc, "2b:00.1")->companion_of, gpu);
	CHECK_INT(dev(mc, "2b:00.2")->companion_of, gpu);
	CHECK_INT(dev(mc, "2b:00.3")->companion_of, gpu);
	CHECK(!dev(mc, "2b:00.0")->identical_id);
	CHECK_STR(closure_ids(mc, 14), "14");
	/* platform groups: SMBus + LPC, the data fabric host bridges, a dummy host bridge */
	check_unsafe(mc, 11, (const char *const[]){"0000:00:14.0", "0000:00:14.3", NULL});
	check_unsafe(mc, 12, (const char *const[]){"0000:00:18.0", "0000:00:18.7", NULL});
	check_unsafe(mc, 0, (const char *const[]){"0000:00:01.0", NULL});
	/* lone GPP bridges */
	check_safe(mc, 1);
	check_safe(mc, 10);
	av_machine_free(mc->m);
}

AV_TEST(fixture_003_022_identical_gpus)
{
	struct mach *mc = machine("003");

	/* two GT 710 (10de:128b) in groups 22 and 25, each with its audio */
	CHECK(dev(mc, "04:00.0")->identical_id);
	CHECK(dev(mc, "0a:00.0")->identical_id);
	CHECK(!dev(mc, "04:00.1")->identical_id);
	check_safe(mc, 22);
	check_safe(mc, 25);
	CHECK_INT(dev(mc, "0a:00.1")->companion_of, idx(mc, "0a:00.0"));
	av_machine_free(mc->m);

	/* two RX 580 (1002:67df) in groups 16 and 17 */
	mc = machine("022");
	CHECK(dev(mc, "26:00.0")->identical_id);
	CHECK(dev(mc, "27:00.0")->identical_id);
	check_safe(mc, 16);
	check_safe(mc, 17);
	/* the chipset group lumps USB, SATA, seven ports and the I211: no GPU, no platform */
	check_safe(mc, 15);
	av_machine_free(mc->m);

	/* 1080 Ti and GT 710: both NVIDIA, different IDs */
	mc = machine("004");
	CHECK(!dev(mc, "0b:00.0")->identical_id);
	CHECK(!dev(mc, "0c:00.0")->identical_id);
	check_safe(mc, 30);
	check_safe(mc, 31);
	av_machine_free(mc->m);
}

/* VGA and HDMI audio in separate groups behind the card's own switch. */
static void check_split(const char *machine_prefix, int gpu_group, int audio_group, const char *gpu,
			const char *audio)
{
	struct mach *mc = machine(machine_prefix);
	char *both = tu_fmt("%d %d", gpu_group, audio_group);
	char *back = tu_fmt("%d %d", audio_group, gpu_group);

	CHECK_INT(dev(mc, gpu)->group, gpu_group);
	CHECK_INT(dev(mc, audio)->group, audio_group);
	CHECK_INT(dev(mc, audio)->companion_of, idx(mc, gpu));
	CHECK_STR(closure_ids(mc, gpu_group), both);
	CHECK_STR(closure_ids(mc, audio_group), back);
	check_safe(mc, gpu_group);
	check_safe(mc, audio_group);
	{
		size_t out[1];

		CHECK_INT(av_group_closure(mc->m, gidx(mc, gpu_group), out, 1), -E2BIG);
	}
	av_machine_free(mc->m);
}

AV_TEST(fixture_009_010_011_split_audio)
{
	struct mach *mc;

	check_split("009", 18, 19, "08:00.0", "08:00.1");
	check_split("010", 18, 19, "08:00.0", "08:00.1");
	check_split("011", 21, 22, "03:00.0", "03:00.1");

	/* 009/010: the RX 550 sits in chipset group 15 with USB, SATA and the RTL8125 */
	mc = machine("009");
	check_unsafe(mc, 15,
		     (const char *const[]){"0000:02:00.0", "0000:02:00.1", "0000:05:00.0", NULL});
	CHECK(!reasons_contain(grp(mc, 15), "0000:04:00.1"));
	/* the Navi switch ports alone */
	check_safe(mc, 16);
	check_safe(mc, 17);
	av_machine_free(mc->m);
	mc = machine("010");
	check_unsafe(mc, 15,
		     (const char *const[]){"0000:02:00.0", "0000:02:00.1", "0000:05:00.0", NULL});
	av_machine_free(mc->m);
}

AV_TEST(fixture_011_drivers_and_igpu)
{
	struct mach *mc = machine("011");

	CHECK_STR(dev(mc, "00:02.0")->driver, "i915");
	CHECK_STR(dev(mc, "03:00.0")->driver, "amdgpu");
	CHECK_STR(dev(mc, "04:00.0")->driver, "vfio-pci");
	CHECK_STR(dev(mc, "04:00.1")->driver, "vfio-pci");
	/* the UHD 770 on bus 00 is the boot VGA; the RX 550 group is clean */
	CHECK(dev(mc, "00:02.0")->boot_vga);
	CHECK_INT(mc->m->boot_vga, idx(mc, "00:02.0"));
	check_safe(mc, 3);
	check_safe(mc, 23);
	check_unsafe(mc, 18, (const char *const[]){"0000:00:1f.0", "0000:00:1f.4", NULL});
	/* Thunderbolt bridges alone */
	for (int g = 29; g <= 33; g++)
		check_safe(mc, g);
	av_machine_free(mc->m);
}

AV_TEST(fixture_gpu_behind_root_port_safe)
{
	/* machine, GPU group, root port, GPU, audio (or NULL) */
	static const struct {
		const char *m;
		int group;
		const char *port, *gpu, *audio;
	} cases[] = {
	    {"001", 1, "00:01.0", "01:00.0", "01:00.1"},
	    {"005", 2, "00:01.0", "01:00.0", "01:00.1"},
	    {"018", 1, "00:01.0", "01:00.0", "01:00.1"},
	    {"019", 1, "00:01.0", "01:00.0", NULL},
	    {"015", 1, "00:01.0", "01:00.0", NULL},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mach *mc = machine(cases[i].m);

		check_safe(mc, cases[i].group);
		CHECK_INT(dev(mc, cases[i].port)->group, cases[i].group);
		CHECK_INT(dev(mc, cases[i].gpu)->group, cases[i].group);
		CHECK_INT(dev(mc, cases[i].port)->companion_of, AV_NONE);
		if (cases[i].audio)
			CHECK_INT(dev(mc, cases[i].audio)->companion_of, idx(mc, cases[i].gpu));
		/* the iGPU at 00:02.0 boots; the dGPU is free for a VM */
		CHECK(dev(mc, "00:02.0")->boot_vga);
		CHECK(!dev(mc, cases[i].gpu)->boot_vga);
		CHECK_STR(closure_ids(mc, cases[i].group), tu_fmt("%d", cases[i].group));
		av_machine_free(mc->m);
	}
}

AV_TEST(fixture_platform_groups_unsafe)
{
	struct mach *mc = machine("001");

	/* LPC + PMC (0580) + HD audio + SMBus */
	check_unsafe(mc, 10,
		     (const char *const[]){"0000:00:1f.0", "0000:00:1f.2", "0000:00:1f.4", NULL});
	check_unsafe(mc, 0, (const char *const[]){"0000:00:00.0", NULL});
	/* USB + thermal (1180): neither platform nor GPU */
	check_safe(mc, 3);
	check_safe(mc, 6);
	av_machine_free(mc->m);

	/* Atom C3000: RCEC (0807), SMBus host (0880), error registers (host bridge) */
	mc = machine("007");
	check_unsafe(mc, 2, (const char *const[]){"0000:00:05.0", NULL});
	check_unsafe(mc, 6, (const char *const[]){"0000:00:12.0", NULL});
	check_unsafe(mc, 1, (const char *const[]){"0000:00:04.0", NULL});
	/* the BMC's VGA behind its own AST1150 bridge */
	check_safe(mc, 15);
	CHECK(dev(mc, "04:00.0")->boot_vga);
	av_machine_free(mc->m);

	/* Cannon Lake: USB with the shared SRAM (0500) */
	mc = machine("008");
	check_unsafe(mc, 4, (const char *const[]){"0000:00:14.2", NULL});
	check_unsafe(mc, 2, (const char *const[]){"0000:00:08.0", NULL});
	CHECK(!reasons_contain(grp(mc, 4), "0000:00:14.0"));
	/* the NIC in the CPU slot shares group 1 with its root port: fine */
	check_safe(mc, 1);
	check_safe(mc, 17);
	av_machine_free(mc->m);

	mc = machine("019");
	check_unsafe(mc, 12, (const char *const[]){"0000:00:1f.0", "0000:00:1f.3", NULL});
	/* the Ricoh card reader is a system peripheral (0880) */
	check_unsafe(mc, 13, (const char *const[]){"0000:02:00.0", NULL});
	av_machine_free(mc->m);
}

AV_TEST(fixture_006_bmc_vga_with_coprocessor)
{
	struct mach *mc = machine("006");

	/*
	 * Matrox VGA and the Emulex iRMC co-processor: one BMC chip, two vendors.
	 * The co-processor is the BMC's host interface, not part of a graphics card.
	 */
	CHECK_INT(dev(mc, "02:00.1")->companion_of, AV_NONE);
	/* ...but it is no chipset-slot stranger either: the group is safe, with a note */
	check_safe(mc, 10);
	CHECK(notes_contain(grp(mc, 10), "0000:02:00.1"));
	CHECK(dev(mc, "02:00.0")->boot_vga);
	/* drivers file: the first of two lines for 00:14.0 counts */
	CHECK_STR(dev(mc, "00:14.0")->driver, "xhci_hcd");
	CHECK_STR(dev(mc, "00:17.0")->driver, "vfio-pci");
	CHECK_STR(dev(mc, "02:00.0")->driver, "mgag200");
	CHECK_STR(dev(mc, "00:14.2")->driver, "");
	/* NVMe behind the CPU root port: no GPU, no platform device */
	check_safe(mc, 1);
	av_machine_free(mc->m);
}

AV_TEST(fixture_024_acs_override)
{
	struct mach *mc = machine("024");

	/* every function alone, the APU's six functions in groups 15..20 */
	CHECK_INT(mc->m->ngroups, 22);
	for (int g = 11; g <= 21; g++)
		CHECK_INT(grp(mc, g)->ndevs, 1);
	CHECK(dev(mc, "05:00.0")->boot_vga);
	/* the iGPU takes its own HDMI audio, not the SoC's PSP, USB and audio (AMD, not ATI) */
	CHECK_STR(closure_ids(mc, 15), "15 16");
	CHECK_STR(closure_ids(mc, 16), "16 15");
	CHECK_STR(closure_ids(mc, 17), "17");
	for (int g = 15; g <= 20; g++)
		check_safe(mc, g);
	CHECK_INT(dev(mc, "05:00.1")->companion_of, idx(mc, "05:00.0"));
	CHECK_INT(dev(mc, "05:00.6")->companion_of, AV_NONE);
	CHECK_INT(dev(mc, "05:00.2")->companion_of, AV_NONE);
	/* two identical NVMe drives are not GPUs */
	CHECK(!dev(mc, "01:00.0")->identical_id);
	check_unsafe(mc, 9, (const char *const[]){"0000:00:14.0", "0000:00:14.3", NULL});
	check_unsafe(mc, 10, NULL);
	check_safe(mc, 7);
	av_machine_free(mc->m);
}

AV_TEST(fixture_026_igpu_with_bridges)
{
	struct mach *mc = machine("026");
	const struct av_group *g = grp(mc, 5);

	/* the Renoir iGPU and all its functions share group 5 with 00:08.0/00:08.1 */
	CHECK_INT(g->ndevs, 9);
	check_unsafe(mc, 5, (const char *const[]){"0000:00:08.0", NULL});
	/* the slot's functions are not chipset strangers; the host bridge is what matters */
	CHECK(!reasons_contain(g, "0000:0c:00.1"));
	CHECK(!reasons_contain(g, "0000:0c:00.3"));
	CHECK(!reasons_contain(g, "0000:0c:00.6"));
	CHECK_INT(dev(mc, "0c:00.1")->companion_of, idx(mc, "0c:00.0"));
	CHECK_INT(dev(mc, "0c:00.5")->companion_of, AV_NONE);
	CHECK_INT(dev(mc, "00:08.1")->companion_of, AV_NONE);
	CHECK_STR(closure_ids(mc, 5), "5");
	/* 82599ES ports alone; the chipset group has no GPU and no platform device */
	check_safe(mc, 8);
	check_safe(mc, 9);
	check_safe(mc, 10);
	av_machine_free(mc->m);
}

/* ---- `auto-vfio list` on converted machines ---- */

enum jt { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jv {
	enum jt t;
	bool b;
	double num;
	char *s;
	size_t n;
	struct jv *items;
	char **keys;
};

static void jspace(const char **p)
{
	while (**p == ' ' || **p == '\n' || **p == '\t' || **p == '\r')
		(*p)++;
}

static char *jstring(const char **p)
{
	char *out = malloc(strlen(*p) + 1);
	size_t n = 0;

	CHECK(out != NULL);
	CHECK_MSG(**p == '"', "JSON: string expected at: %.40s", *p);
	for ((*p)++; **p != '"'; (*p)++) {
		CHECK_MSG(**p && (unsigned char)**p >= 0x20, "JSON: bad string");
		if (**p != '\\') {
			out[n++] = **p;
			continue;
		}
		(*p)++;
		CHECK_MSG(strchr("\"\\/bfnrtu", **p) && **p, "JSON: bad escape");
		if (**p == 'u') {
			for (int i = 1; i <= 4; i++)
				CHECK_MSG(strchr("0123456789abcdefABCDEF", (*p)[i]) && (*p)[i],
					  "JSON: bad \\u");
			*p += 4;
			out[n++] = '?';
		} else {
			out[n++] = **p == 'n' ? '\n' : **p == 't' ? '\t' : **p;
		}
	}
	(*p)++;
	out[n] = '\0';
	return out;
}

static void jparse(const char **p, struct jv *v)
{
	memset(v, 0, sizeof(*v));
	jspace(p);
	if (**p == '{' || **p == '[') {
		bool obj = **p == '{';
		char close = obj ? '}' : ']';

		v->t = obj ? J_OBJ : J_ARR;
		(*p)++;
		jspace(p);
		while (**p != close) {
			v->items = realloc(v->items, (v->n + 1) * sizeof(*v->items));
			v->keys = realloc(v->keys, (v->n + 1) * sizeof(*v->keys));
			CHECK(v->items && v->keys);
			v->keys[v->n] = NULL;
			if (obj) {
				jspace(p);
				v->keys[v->n] = jstring(p);
				jspace(p);
				CHECK_MSG(**p == ':', "JSON: ':' expected at: %.40s", *p);
				(*p)++;
			}
			jparse(p, &v->items[v->n++]);
			jspace(p);
			if (**p == ',') {
				(*p)++;
				jspace(p);
				CHECK_MSG(**p != close, "JSON: trailing comma");
			} else {
				CHECK_MSG(**p == close, "JSON: ',' or '%c' expected at: %.40s",
					  close, *p);
			}
		}
		(*p)++;
	} else if (**p == '"') {
		v->t = J_STR;
		v->s = jstring(p);
	} else if (!strncmp(*p, "true", 4) || !strncmp(*p, "false", 5)) {
		v->t = J_BOOL;
		v->b = **p == 't';
		*p += v->b ? 4 : 5;
	} else if (!strncmp(*p, "null", 4)) {
		v->t = J_NULL;
		*p += 4;
	} else {
		char *end;

		v->t = J_NUM;
		v->num = strtod(*p, &end);
		CHECK_MSG(end != *p, "JSON: value expected at: %.40s", *p);
		*p = end;
	}
}

static const struct jv *jget(const struct jv *o, const char *key, enum jt t)
{
	CHECK_INT(o->t, J_OBJ);
	for (size_t i = 0; i < o->n; i++) {
		if (!strcmp(o->keys[i], key)) {
			CHECK_MSG(o->items[i].t == t, "JSON: \"%s\" has type %d, expected %d", key,
				  o->items[i].t, t);
			return &o->items[i];
		}
	}
	CHECK_MSG(false, "JSON: no \"%s\"", key);
	return NULL;
}

static bool hex_digits(const char *s, size_t n)
{
	return strlen(s) == n && strspn(s, "0123456789abcdef") == n;
}

static struct tu_result list(const struct mach *mc, const char *a1, const char *a2)
{
	const char *argv[] = {tu_prog("auto-vfio"), "--root", mc->tree, "list", a1, a2, NULL};
	struct tu_result r;

	tu_run(&r, argv, NULL, NULL);
	CHECK_MSG(r.status == 0, "list exit %d: %s", r.status, r.err);
	return r;
}

static void check_json(struct mach *mc, int unsafe_gpu_group)
{
	struct tu_result r = list(mc, "--json", NULL);
	const char *p = r.out;
	const struct jv *groups;
	size_t seen = 0;
	regex_t re;
	struct jv root;

	jparse(&p, &root);
	jspace(&p);
	CHECK_MSG(*p == '\0', "JSON: trailing text: %.40s", p);
	CHECK(jget(&root, "iommu", J_BOOL)->b);
	groups = jget(&root, "groups", J_ARR);
	CHECK_INT(groups->n, mc->m->ngroups);
	CHECK_INT(regcomp(&re, "^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\\.[0-7]$", REG_EXTENDED), 0);
	for (size_t gi = 0; gi < groups->n; gi++) {
		const struct jv *g = &groups->items[gi];
		int id = (int)jget(g, "id", J_NUM)->num;
		const struct jv *devs = jget(g, "devices", J_ARR);
		const struct jv *reasons = jget(g, "reasons", J_ARR);
		bool safe = jget(g, "safe", J_BOOL)->b;

		CHECK(av_machine_group(mc->m, id) != NULL);
		CHECK_MSG(safe == (reasons->n == 0), "group %d: safe %d with %zu reasons", id, safe,
			  reasons->n);
		for (size_t k = 0; k < reasons->n; k++)
			CHECK_INT(reasons->items[k].t, J_STR);
		if (id == unsafe_gpu_group)
			CHECK_MSG(!safe, "group %d should be unsafe in JSON", id);
		for (size_t i = 0; i < devs->n; i++) {
			const struct jv *d = &devs->items[i];
			const char *addr = jget(d, "address", J_STR)->s;
			const struct fx_dev *e = fx_find(&mc->fx, addr);
			const struct jv *drv;

			CHECK_MSG(regexec(&re, addr, 0, NULL, 0) == 0, "address %s", addr);
			CHECK_MSG(e != NULL, "JSON lists %s, the listing does not", addr);
			CHECK_INT(e->group, id);
			CHECK(hex_digits(jget(d, "class", J_STR)->s, 4));
			CHECK_STR(jget(d, "class", J_STR)->s, tu_fmt("%04x", e->cls));
			CHECK_STR(jget(d, "vendor", J_STR)->s, tu_fmt("%04x", e->vendor));
			CHECK_STR(jget(d, "device", J_STR)->s, tu_fmt("%04x", e->device));
			jget(d, "boot_vga", J_BOOL);
			jget(d, "name", J_STR);
			drv = NULL;
			for (size_t k = 0; k < d->n; k++)
				if (!strcmp(d->keys[k], "driver"))
					drv = &d->items[k];
			CHECK_MSG(drv != NULL, "%s: no \"driver\"", addr);
			if (e->driver[0])
				CHECK_MSG(drv->t == J_STR && !strcmp(drv->s, e->driver),
					  "%s: driver should be %s", addr, e->driver);
			else
				CHECK_MSG(drv->t == J_NULL, "%s: driver should be null", addr);
			seen++;
		}
	}
	CHECK_INT(seen, mc->fx.n);
	regfree(&re);
	tu_result_free(&r);
}

AV_TEST(fixture_list_json)
{
	struct mach *mc = machine("002");

	check_json(mc, 13);
	av_machine_free(mc->m);
	mc = machine("009");
	check_json(mc, 15);
	av_machine_free(mc->m);
	mc = machine("011");
	check_json(mc, -1);
	av_machine_free(mc->m);
	mc = machine("024");
	check_json(mc, -1);
	av_machine_free(mc->m);
}

AV_TEST(fixture_list_human)
{
	struct mach *mc = machine("002");
	struct tu_result r = list(mc, "--no-color", "--all");
	const struct av_group *g = grp(mc, 13);

	CHECK_NOT_CONTAINS(r.out, "\033[");
	/* every unsafe group shows up with its reasons, as the library words them */
	for (size_t gi = 0; gi < mc->m->ngroups; gi++) {
		const struct av_group *gg = &mc->m->groups[gi];

		CHECK_CONTAINS(r.out, tu_fmt("group %d", gg->id));
		for (size_t k = 0; k < gg->nreasons; k++)
			CHECK_CONTAINS(r.out, gg->reasons[k]);
	}
	CHECK_CONTAINS(r.out, "0000:2a:00.0");
	CHECK_CONTAINS(r.out, "0000:04:00.0");
	CHECK(g->nreasons > 0);
	tu_result_free(&r);
	av_machine_free(mc->m);
}

static const char *short_addr(const struct av_dev *d)
{
	return strncmp(d->address, "0000:", 5) == 0 ? d->address + 5 : d->address;
}

static bool platform_only(const struct av_machine *m, const struct av_group *g)
{
	for (size_t i = 0; i < g->ndevs; i++) {
		uint16_t cls = m->devs[g->devs[i]].cls;

		if (!av_class_is_bridge(cls) && !av_class_is_platform(cls))
			return false;
	}
	return true;
}

/*
 * The default listing answers first: every GPU under a verdict, every unsafe
 * group that holds more than platform devices with its reason under "Cannot",
 * the groups of only bridges and platform devices folded into one line, the
 * boot VGA device named; no per-group view.
 */
static void check_summary(struct mach *mc)
{
	const struct av_machine *m = mc->m;
	struct tu_result r = list(mc, "--no-color", NULL);
	const char *cannot = strstr(r.out, "Cannot go to a VM");
	const char *stay = strstr(r.out, "Stay with the host:");
	char *fold, *eol;

	CHECK_MSG(cannot && stay && strstr(r.out, "Can go to a VM") == r.out, "%s:\n%s",
		  mc->fx.name, r.out);
	CHECK_NOT_CONTAINS(r.out, "IOMMU group ");
	eol = strstr(stay, " (only");
	if (!eol)
		eol = strchr(stay, '\n');
	fold = tu_fmt("%.*s,", (int)(eol - stay), stay);
	for (size_t gi = 0; gi < m->ngroups; gi++) {
		const struct av_group *g = &m->groups[gi];
		if (platform_only(m, g)) {
			CHECK_MSG(strstr(fold, tu_fmt(" %d,", g->id)),
				  "%s: group %d not folded: %s", mc->fx.name, g->id, fold);
			continue;
		}
		CHECK_MSG(!strstr(fold, tu_fmt(" %d,", g->id)), "%s: group %d folded", mc->fx.name,
			  g->id);
		/* every function of the group is on a line, the first or the "+" one */
		for (size_t k = 0; k < g->ndevs; k++) {
			const struct av_dev *d = &m->devs[g->devs[k]];
			const char *at = strstr(r.out, tu_fmt(" %s ", short_addr(d)));

			CHECK_MSG(av_class_is_bridge(d->cls) || (at && at < stay),
				  "%s: %s not in the summary", mc->fx.name, d->address);
		}
		if (!g->safe) {
			const char *why = strstr(cannot, g->reasons[0]);

			CHECK_MSG(why && why < stay, "%s: group %d: its reason not under Cannot",
				  mc->fx.name, g->id);
		}
	}
	for (size_t i = 0; i < m->ndevs; i++) {
		const char *at;

		if (!m->devs[i].gpu || m->devs[i].group_idx == AV_NONE)
			continue;
		at = strstr(r.out, tu_fmt("  %s  ", short_addr(&m->devs[i])));
		CHECK_MSG(at && at < stay, "%s: GPU %s not in the summary", mc->fx.name,
			  m->devs[i].address);
	}
	if (m->boot_vga != AV_NONE)
		CHECK_CONTAINS(r.out, tu_fmt("(boot VGA) is %s ", m->devs[m->boot_vga].address));
	tu_result_free(&r);
}

AV_TEST_T(fixture_list_summary_every_machine, 120)
{
	for_each_machine(check_summary);
}

/* The 43-device Alder Lake machine on one screen. */
AV_TEST(fixture_list_summary_011)
{
	struct mach *mc = machine("011");
	struct tu_result r = list(mc, "--no-color", NULL);
	size_t lines = 0;

	for (const char *p = r.out; (p = strchr(p, '\n')); p++)
		lines++;
	CHECK_MSG(lines <= 40, "%zu lines:\n%s", lines, r.out);
	CHECK_CONTAINS(r.out, "Stay with the host: groups 0, 1, 2, 4, 11, 12, 13, 14, 15, 16, 17, "
			      "19, 20, 29, 30, 31, 32, 33 (only bridges and platform devices)\n");
	/* GPUs first, the card's audio right under it */
	CHECK_CONTAINS(r.out, "Can go to a VM (each line with its whole IOMMU group):\n GPUs\n");
	CHECK_CONTAINS(r.out, "  03:00.0  AMD Radeon RX 6700/6700 XT/6750 XT        amdgpu\n"
			      "        + 03:00.1 Audio device\n");
	CHECK_CONTAINS(r.out, "  00:02.0  Intel AlderLake-S GT1                     i915  "
			      "[boot VGA]\n");
	CHECK_CONTAINS(r.out, "The firmware's console (boot VGA) is 0000:00:02.0 ");
	CHECK_CONTAINS(r.out, "43 devices in 36 IOMMU groups: 15 can go to a VM, 2 cannot, 18 "
			      "stay with the host");
	tu_result_free(&r);
	av_machine_free(mc->m);
}
