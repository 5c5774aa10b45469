// SPDX-License-Identifier: MIT
/* Builds the Prometheus text exposition (format 0.0.4) served at /metrics. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "daemon/prom.h"

enum prom_type { PROM_COUNTER, PROM_GAUGE, PROM_HISTOGRAM };

static const char *const type_names[] = { "counter", "gauge", "histogram" };

struct prom_family {
	char *name;
	enum prom_type type;
};

struct prom_buf {
	char *text;
	size_t len, cap;
	struct prom_family *families;
	int nfamilies, cap_families;
	int current;		/* index of the family samples go to, -1 before the first */
	bool broken;		/* an allocation failed: the text is incomplete */
};

struct prom_buf *prom__new(void)
{
	struct prom_buf *b = calloc(1, sizeof(*b));

	if (b)
		b->current = -1;
	return b;
}

static void forget_families(struct prom_buf *b)
{
	for (int i = 0; i < b->nfamilies; i++)
		free(b->families[i].name);
	b->nfamilies = 0;
	b->current = -1;
}

void prom__free(struct prom_buf *b)
{
	if (!b)
		return;
	forget_families(b);
	free(b->families);
	free(b->text);
	free(b);
}

static int reserve(struct prom_buf *b, size_t more)
{
	size_t cap = b->cap ? b->cap : 4096;
	char *nt;

	if (b->broken)
		return -ENOMEM;
	if (b->len + more + 1 <= b->cap)
		return 0;
	while (cap < b->len + more + 1)
		cap *= 2;
	nt = realloc(b->text, cap);
	if (!nt) {
		b->broken = true;
		return -ENOMEM;
	}
	b->text = nt;
	b->cap = cap;
	return 0;
}

static int put(struct prom_buf *b, const char *s, size_t n)
{
	if (reserve(b, n))
		return -ENOMEM;
	memcpy(b->text + b->len, s, n);
	b->len += n;
	b->text[b->len] = 0;
	return 0;
}

static int puts_(struct prom_buf *b, const char *s)
{
	return put(b, s, strlen(s));
}

/* Copies s, backslash-escaping the characters in special ('\n' becomes "\n"). */
static int put_escaped(struct prom_buf *b, const char *s, const char *special)
{
	int err = 0;

	while (*s && !err) {
		size_t plain = strcspn(s, special);

		err = put(b, s, plain);
		s += plain;
		if (*s && !err) {
			err = put(b, *s == '\n' ? "\\n" : *s == '"' ? "\\\"" : "\\\\", 2);
			s++;
		}
	}
	return err;
}

static bool valid_metric_name(const char *s)
{
	if (!s || !(*s == '_' || *s == ':' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_:") == strlen(s);
}

static bool valid_label_name(const char *s)
{
	if (!s || !(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
		return false;
	/* names starting with __ are reserved for Prometheus itself */
	if (s[0] == '_' && s[1] == '_')
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == strlen(s);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

/* Valid names, no value missing, no name twice, and "le" only where histograms put it. */
static bool valid_labels(const char *const *labels)
{
	if (!labels)
		return true;
	for (int i = 0; labels[i]; i += 2) {
		if (!valid_label_name(labels[i]) || !labels[i + 1] || !strcmp(labels[i], "le"))
			return false;
		for (int j = 0; j < i; j += 2)
			if (!strcmp(labels[i], labels[j]))
				return false;
	}
	return true;
}

/* Shortest text that reads back as v; integers without exponent or fraction. */
static void format_value(double v, char *buf, size_t size)
{
	if (isnan(v))
		snprintf(buf, size, "NaN");
	else if (isinf(v))
		snprintf(buf, size, v > 0 ? "+Inf" : "-Inf");
	else if (v == 0)
		snprintf(buf, size, "0");
	else if (v == trunc(v) && fabs(v) < 1e19)
		snprintf(buf, size, "%.0f", v);
	else {
		snprintf(buf, size, "%.15g", v);
		if (strtod(buf, NULL) != v)
			snprintf(buf, size, "%.17g", v);
	}
}

int prom__family(struct prom_buf *b, const char *name, const char *type, const char *help)
{
	struct prom_family *f;
	enum prom_type t;
	int err = 0;

	if (!valid_metric_name(name) || !type || !help || !*help)
		return -EINVAL;
	if (!strcmp(type, "counter"))
		t = PROM_COUNTER;
	else if (!strcmp(type, "gauge"))
		t = PROM_GAUGE;
	else if (!strcmp(type, "histogram"))
		t = PROM_HISTOGRAM;
	else
		return -EINVAL;
	/* promtool's lint: _total marks counters, and the histogram suffixes are taken */
	if ((t == PROM_COUNTER) != ends_with(name, "_total"))
		return -EINVAL;
	if (ends_with(name, "_bucket") || ends_with(name, "_sum") || ends_with(name, "_count"))
		return -EINVAL;
	for (int i = 0; i < b->nfamilies; i++) {
		if (strcmp(b->families[i].name, name))
			continue;
		/* only the family in progress may be named again: samples must stay together */
		return i == b->current && b->families[i].type == t ? 0 : -EINVAL;
	}
	if (b->broken)
		return -ENOMEM;
	if (b->nfamilies == b->cap_families) {
		int cap = b->cap_families ? b->cap_families * 2 : 16;

		f = realloc(b->families, cap * sizeof(*f));
		if (!f) {
			b->broken = true;
			return -ENOMEM;
		}
		b->families = f;
		b->cap_families = cap;
	}
	f = &b->families[b->nfamilies];
	f->name = strdup(name);
	if (!f->name) {
		b->broken = true;
		return -ENOMEM;
	}
	f->type = t;
	b->current = b->nfamilies++;

	err = err ?: puts_(b, "# HELP ");
	err = err ?: puts_(b, name);
	err = err ?: put(b, " ", 1);
	err = err ?: put_escaped(b, help, "\\\n");
	err = err ?: puts_(b, "\n# TYPE ");
	err = err ?: puts_(b, name);
	err = err ?: put(b, " ", 1);
	err = err ?: puts_(b, type_names[t]);
	err = err ?: put(b, "\n", 1);
	return err;
}

/* name{k="v",...,le="bound"} value\n; le may be NULL. */
static int put_sample(struct prom_buf *b, const char *name, const char *suffix, const char *const *labels,
		      const char *le, const char *value)
{
	bool any = (labels && labels[0]) || le;
	int err = 0;

	err = err ?: puts_(b, name);
	err = err ?: puts_(b, suffix);
	if (any)
		err = err ?: put(b, "{", 1);
	for (int i = 0; labels && labels[i]; i += 2) {
		err = err ?: puts_(b, i ? "," : "");
		err = err ?: puts_(b, labels[i]);
		err = err ?: put(b, "=\"", 2);
		err = err ?: put_escaped(b, labels[i + 1], "\\\"\n");
		err = err ?: put(b, "\"", 1);
	}
	if (le) {
		err = err ?: puts_(b, labels && labels[0] ? ",le=\"" : "le=\"");
		err = err ?: puts_(b, le);
		err = err ?: put(b, "\"", 1);
	}
	if (any)
		err = err ?: put(b, "}", 1);
	err = err ?: put(b, " ", 1);
	err = err ?: puts_(b, value);
	err = err ?: put(b, "\n", 1);
	return err;
}

static bool is_current(const struct prom_buf *b, const char *name, bool histogram)
{
	const struct prom_family *f;

	if (b->current < 0 || !name)
		return false;
	f = &b->families[b->current];
	return !strcmp(f->name, name) && (f->type == PROM_HISTOGRAM) == histogram;
}

int prom__sample(struct prom_buf *b, const char *name, const char *const *labels, double value)
{
	char v[32];

	if (!is_current(b, name, false) || !valid_labels(labels))
		return -EINVAL;
	format_value(value, v, sizeof(v));
	return put_sample(b, name, "", labels, NULL, v);
}

int prom__histogram(struct prom_buf *b, const char *name, const char *const *labels,
		    const double *upper_bounds, const __u64 *cumulative_counts, int n,
		    double sum, __u64 count)
{
	char v[32], le[32];
	int err = 0;

	if (!is_current(b, name, true) || !valid_labels(labels) || n < 0 ||
	    (n && (!upper_bounds || !cumulative_counts)))
		return -EINVAL;
	for (int i = 0; i < n; i++) {
		if (!isfinite(upper_bounds[i]) || (i && upper_bounds[i] <= upper_bounds[i - 1]))
			return -EINVAL;
		if ((i && cumulative_counts[i] < cumulative_counts[i - 1]) || cumulative_counts[i] > count)
			return -EINVAL;
	}
	for (int i = 0; i < n && !err; i++) {
		format_value(upper_bounds[i], le, sizeof(le));
		snprintf(v, sizeof(v), "%llu", (unsigned long long)cumulative_counts[i]);
		err = put_sample(b, name, "_bucket", labels, le, v);
	}
	snprintf(v, sizeof(v), "%llu", (unsigned long long)count);
	err = err ?: put_sample(b, name, "_bucket", labels, "+Inf", v);
	format_value(sum, le, sizeof(le));
	err = err ?: put_sample(b, name, "_sum", labels, NULL, le);
	err = err ?: put_sample(b, name, "_count", labels, NULL, v);
	return err;
}

char *prom__take(struct prom_buf *b)
{
	char *text = b->text;

	if (b->broken) {
		free(text);
		text = NULL;
		errno = ENOMEM;
	} else if (!text) {
		text = strdup("");
	}
	b->text = NULL;
	b->len = b->cap = 0;
	b->broken = false;
	forget_families(b);
	return text;
}
