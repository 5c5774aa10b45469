/* SPDX-License-Identifier: MIT */
/* Percentiles and bcc-style rendering of the log-linear histograms the BPF side fills. */
#ifndef HIST_H
#define HIST_H

#include <stdio.h>
#include <linux/types.h>

/* Smallest and one-past-largest value bucket b holds. */
__u64 hist__bucket_low(unsigned int b);
__u64 hist__bucket_high(unsigned int b);

/*
 * The q-quantile (0 < q <= 1) of a WW_HIST_BUCKETS histogram: the largest
 * value of the bucket holding it, so it never understates and overstates by
 * at most 1/8; clamped to max_seen when known (non-zero). 0 when empty.
 */
__u64 hist__quantile(const __u64 *hist, double q, __u64 max_seen);

__u64 hist__total(const __u64 *hist);

/* Prints the histogram folded into powers of two, as bcc's tools do, in the given unit. */
void hist__print_log2(FILE *out, const __u64 *hist, const char *unit, __u64 unit_ns);

#endif
