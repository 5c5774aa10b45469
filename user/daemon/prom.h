/* SPDX-License-Identifier: MIT */
/* Builds the Prometheus text exposition (format 0.0.4) served at /metrics. */
#ifndef PROM_H
#define PROM_H

#include <linux/types.h>

/*
 * A buffer of text under construction. Not thread-safe: one thread builds
 * one buffer. Every function returns 0 or a negative errno; a call that
 * fails with -EINVAL writes nothing, so the text stays valid. After -ENOMEM
 * the buffer is broken and prom__take() returns NULL.
 */
struct prom_buf;

struct prom_buf *prom__new(void);
void prom__free(struct prom_buf *b);

/*
 * Starts the family name: "# HELP" and "# TYPE" lines, once per name (a
 * second call with the same type is a no-op). type is "counter", "gauge"
 * or "histogram". As Prometheus asks, counters end in _total and nothing
 * else does; help must be non-empty. All samples of a family follow its
 * prom__family() call before the next family starts.
 */
int prom__family(struct prom_buf *b, const char *name, const char *type, const char *help);

/*
 * One sample of the current counter or gauge family: name must be that
 * family's. labels is k, v, k, v, ..., NULL (or NULL for none); values are
 * escaped, names must be valid and not start with "__". Integral values
 * print without an exponent; +Inf, -Inf and NaN as the format spells them.
 */
int prom__sample(struct prom_buf *b, const char *name, const char *const *labels, double value);

/*
 * The current histogram family's samples: name_bucket{le="bound"} for each
 * of the n finite, increasing upper_bounds with its cumulative count, then
 * le="+Inf" (count), name_sum and name_count. labels as for prom__sample,
 * without "le".
 */
int prom__histogram(struct prom_buf *b, const char *name, const char *const *labels,
		    const double *upper_bounds, const __u64 *cumulative_counts, int n,
		    double sum, __u64 count);

/* The text so far, malloc'd for the caller; b is left empty for reuse. NULL after -ENOMEM. */
char *prom__take(struct prom_buf *b);

#endif
