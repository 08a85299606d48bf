// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "textdiff.h"

#define CONTEXT 3
/* Past this many cells the quadratic table is not worth it: show whole files. */
#define MAX_CELLS (4u << 20)

struct lines {
	size_t n;
	const char **s;
	size_t *len;
	bool last_nl; /* the last line ends with a newline */
};

static int split(const char *text, struct lines *l)
{
	size_t cap = 16;

	memset(l, 0, sizeof(*l));
	l->last_nl = true;
	if (!text)
		return 0;
	l->s = malloc(cap * sizeof(*l->s));
	l->len = malloc(cap * sizeof(*l->len));
	if (!l->s || !l->len)
		return -1;
	for (const char *p = text; *p;) {
		size_t len = strcspn(p, "\n");

		if (l->n == cap) {
			cap *= 2;
			const char **ns = realloc(l->s, cap * sizeof(*ns));
			size_t *nl = ns ? realloc(l->len, cap * sizeof(*nl)) : NULL;

			if (ns)
				l->s = ns;
			if (!ns || !nl)
				return -1;
			l->len = nl;
		}
		l->s[l->n] = p;
		l->len[l->n++] = len;
		l->last_nl = p[len] == '\n';
		p += len + (p[len] == '\n');
	}
	return 0;
}

static bool same(const struct lines *a, size_t i, const struct lines *b, size_t j)
{
	return a->len[i] == b->len[j] && memcmp(a->s[i], b->s[j], a->len[i]) == 0;
}

/* One edit-script step: ' ' keep, '-' from a, '+' from b. */
struct op {
	char kind;
	size_t ai, bj;
};

static size_t script(const struct lines *a, const struct lines *b, struct op *ops)
{
	size_t n = a->n, m = b->n, k = 0, i = 0, j = 0;
	unsigned *t = NULL;

	if ((n + 1) * (m + 1) <= MAX_CELLS)
		t = calloc((n + 1) * (m + 1), sizeof(*t));
	if (t) {
		/* t[i][j]: longest common subsequence of a[i..] and b[j..] */
		for (size_t ii = n; ii-- > 0;)
			for (size_t jj = m; jj-- > 0;)
				t[ii * (m + 1) + jj] =
				    same(a, ii, b, jj) ? t[(ii + 1) * (m + 1) + jj + 1] + 1
				    : t[(ii + 1) * (m + 1) + jj] > t[ii * (m + 1) + jj + 1]
					? t[(ii + 1) * (m + 1) + jj]
					: t[ii * (m + 1) + jj + 1];
		while (i < n && j < m) {
			if (same(a, i, b, j)) {
				ops[k++] = (struct op){' ', i++, j++};
			} else if (t[(i + 1) * (m + 1) + j] >= t[i * (m + 1) + j + 1]) {
				ops[k++] = (struct op){'-', i++, j};
			} else {
				ops[k++] = (struct op){'+', i, j++};
			}
		}
		free(t);
	}
	while (i < n)
		ops[k++] = (struct op){'-', i++, j};
	while (j < m)
		ops[k++] = (struct op){'+', i, j++};
	return k;
}

static void put_line(FILE *f, char kind, const struct lines *l, size_t i)
{
	fputc(kind, f);
	fwrite(l->s[i], 1, l->len[i], f);
	fputc('\n', f);
	if (i == l->n - 1 && !l->last_nl)
		fputs("\\ No newline at end of file\n", f);
}

char *av_unified_diff(const char *path, const char *a, const char *b)
{
	struct lines la = {0}, lb = {0};
	struct op *ops = NULL;
	char *out = NULL;
	size_t outlen = 0, nops, i = 0;
	FILE *f = NULL;

	if (split(a, &la) < 0 || split(b, &lb) < 0)
		goto done;
	ops = malloc((la.n + lb.n + 1) * sizeof(*ops));
	f = open_memstream(&out, &outlen);
	if (!ops || !f)
		goto done;
	nops = script(&la, &lb, ops);
	/* The last lines differ only by their newline: say so as a change. */
	if (nops && la.n && lb.n && la.last_nl != lb.last_nl && ops[nops - 1].kind == ' ' &&
	    ops[nops - 1].ai == la.n - 1 && ops[nops - 1].bj == lb.n - 1) {
		ops[nops - 1].kind = '-';
		ops[nops++] = (struct op){'+', la.n, lb.n - 1};
	}
	while (i < nops) {
		size_t start, end, ka, kb, ca = 0, cb = 0;

		while (i < nops && ops[i].kind == ' ')
			i++;
		if (i == nops)
			break;
		start = i > CONTEXT ? i - CONTEXT : 0;
		/* extend the hunk while changes come within 2*CONTEXT of each other */
		end = i;
		for (size_t j = i; j < nops; j++) {
			if (ops[j].kind != ' ')
				end = j;
			else if (j - end > 2 * CONTEXT)
				break;
		}
		end = end + CONTEXT + 1 < nops ? end + CONTEXT + 1 : nops;
		for (size_t j = start; j < end; j++) {
			ca += ops[j].kind != '+';
			cb += ops[j].kind != '-';
		}
		/* an empty side is numbered by the line before it, as diff -u does */
		ka = ops[start].ai + (ca ? 1 : 0);
		kb = ops[start].bj + (cb ? 1 : 0);
		if (ftell(f) == 0)
			fprintf(f, "--- %s%s\n+++ %s%s\n", a ? "a" : "", a ? path : "/dev/null",
				b ? "b" : "", b ? path : "/dev/null");
		fprintf(f, "@@ -%zu,%zu +%zu,%zu @@\n", ka, ca, kb, cb);
		for (size_t j = start; j < end; j++) {
			if (ops[j].kind == '+')
				put_line(f, '+', &lb, ops[j].bj);
			else
				put_line(f, ops[j].kind, &la, ops[j].ai);
		}
		i = end;
	}
done:
	if (f && fclose(f) != 0) {
		free(out);
		out = NULL;
	}
	free(ops);
	free(la.s);
	free(la.len);
	free(lb.s);
	free(lb.len);
	return out;
}
