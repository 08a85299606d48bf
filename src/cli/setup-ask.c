// SPDX-License-Identifier: GPL-2.0-or-later
/* auto-vfio setup: the questions (mode, default entry, extras). */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libkmod.h>

#include "cli.h"
#include "config.h"
#include "detect.h"
#include "evdev.h"
#include "hugepages.h"
#include "fileops.h"
#include "kmodutil.h"
#include "manifest.h"
#include "pciclass.h"
#include "picker.h"
#include "plan.h"
#include "safety.h"
#include "textdiff.h"
#include "zram.h"
#include "macro.h"
#include "setup.h"

/* One answer from stdin. 1 yes, 0 no, -ENODATA at end of input. */
int setup_ask_yes_no(const char *question, bool def)
{
	char *line = NULL;
	size_t cap = 0;
	int rc;

	for (;;) {
		printf("%s [%s] ", question, def ? "Y/n" : "y/N");
		if (av_cli_answer(&line, &cap) < 0) {
			free(line);
			return -ENODATA;
		}
		if (!line[0]) {
			rc = def;
			break;
		}
		if (strcasecmp(line, "y") == 0 || strcasecmp(line, "yes") == 0) {
			rc = 1;
			break;
		}
		if (strcasecmp(line, "n") == 0 || strcasecmp(line, "no") == 0) {
			rc = 0;
			break;
		}
		printf("Please answer y or n.\n");
	}
	free(line);
	return rc;
}

/* The boot menu the entries appear in. */
static const char *loader_word(const struct setup *s)
{
	return s->bc.loader == AV_LOADER_BLS ? "systemd-boot" : "GRUB";
}

int setup_ask_mode(const struct setup *s, enum av_mode def, enum av_mode *out)
{
	static const char *const keys[] = {
	    [AV_MODE_NONE] = "n", [AV_MODE_MULTIBOOT] = "m", [AV_MODE_STATIC] = "s"};
	char *line = NULL;
	size_t cap = 0;

	printf("\nHow should the selected devices reach the VMs?\n"
	       "  m  Multi-boot (recommended): a %s entry per GPU the host keeps, the other\n"
	       "     GPUs go to VMs; plus one entry with every GPU passed through. The plain\n"
	       "     entries stay untouched.\n"
	       "  s  Static: one fixed selection at every boot.\n"
	       "  n  None: no passthrough.\n",
	       loader_word(s));
	for (;;) {
		printf("Mode [m/s/n, default %s]: ", keys[def]);
		if (av_cli_answer(&line, &cap) < 0) {
			free(line);
			return -ENODATA;
		}
		if (!line[0]) {
			*out = def;
			break;
		}
		if (strcmp(line, "m") == 0 || strcmp(line, "s") == 0 || strcmp(line, "n") == 0) {
			*out = line[0] == 'm'	? AV_MODE_MULTIBOOT
			       : line[0] == 's' ? AV_MODE_STATIC
						: AV_MODE_NONE;
			break;
		}
		printf("Please answer m, s or n.\n");
	}
	free(line);
	return 0;
}

/* The entries of the selection, or NULL when out of memory. */
static struct av_entry *entries_of(const struct av_machine *m, const struct av_resolved *r,
				   size_t *n)
{
	struct av_entry *e = calloc(r->nunits + 1, sizeof(*e));

	*n = e ? av_entries(m, r, e) : 0;
	return e;
}

/* Is @def (canonical) an entry this selection has? */
bool setup_default_valid(const struct av_machine *m, const struct av_resolved *r, const char *def)
{
	size_t n;
	_cleanup_free_ struct av_entry *e = entries_of(m, r, &n);
	bool valid = !def[0] || strcmp(def, "headless") == 0;

	for (size_t i = 0; i < n && !valid; i++)
		valid = strcmp(def, e[i].id) == 0;
	return valid;
}

/* Multi-boot: which entry GRUB boots when nobody chooses. */
int setup_ask_default(const struct setup *s, const struct av_resolved *r, char *def)
{
	size_t n;
	_cleanup_free_ struct av_entry *e = entries_of(s->m, r, &n);
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	int rc = 0;

	if (!e)
		return -ENOMEM;
	n--; /* the headless entry is the last, answer h */
	printf("\nWhich entry should %s boot by default?\n"
	       "  p  the distribution's plain entry (no passthrough)\n",
	       loader_word(s));
	for (size_t i = 0; i < n; i++) {
		printf("  %zu  host keeps ", i + 1);
		for (size_t k = 0; k < e[i].nvga; k++) {
			const struct av_dev *d = &s->m->devs[e[i].vga[k]];

			printf("%s%s %s at %s", k ? " and " : "", d->vendor_name, d->device_name,
			       d->address);
		}
		printf(", the rest to VMs\n");
	}
	printf("  h  headless: every selected GPU to VMs\n");
	for (;;) {
		char *end;
		unsigned long k;

		printf("Default [p/%sh, default %s]: ", n ? "1.../" : "", def[0] ? def : "p");
		rc = av_cli_answer(&line, &cap);
		if (rc < 0)
			break;
		k = strtoul(line, &end, 10);
		if (!line[0])
			break;
		if (strcmp(line, "p") == 0 || strcmp(line, "h") == 0) {
			snprintf(def, AV_DEFAULT_LEN, "%s", line[0] == 'h' ? "headless" : "");
			break;
		}
		if (line[0] >= '1' && line[0] <= '9' && !*end && k >= 1 && k <= n) {
			snprintf(def, AV_DEFAULT_LEN, "%s", e[k - 1].id);
			break;
		}
		printf("Please answer p, h or a number from the list.\n");
	}
	return rc;
}

/* The extras, each one question with a one-line why; everything defaults to no. */
int setup_ask_extras(struct setup *s)
{
	int rc;

	printf("\nRecommended extras for a VM host:\n");
	rc = setup_ask_yes_no(
	    "Static hugepages for guest memory (fewer TLB misses; memory is reserved "
	    "at boot, all but 4 GiB)?",
	    false);
	if (rc < 0)
		return rc;
	s->hugepages = rc;
	rc = setup_ask_yes_no("Evdev input: let libvirt guests take this keyboard and mouse "
			      "(Ctrl+Ctrl switches)?",
			      false);
	if (rc < 0)
		return rc;
	s->evdev = rc;
	rc = setup_ask_yes_no("Compressed swap in RAM (zram: a quarter of RAM, zstd)?", false);
	if (rc < 0)
		return rc;
	s->zram = rc;
	return 0;
}
