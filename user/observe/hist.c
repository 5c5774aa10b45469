// SPDX-License-Identifier: MIT
/* Percentiles and bcc-style rendering of the log-linear histograms the BPF side fills. */
#include <string.h>
#include <linux/types.h>
#include "workerwatch.h"
#include "observe/hist.h"

__u64 hist__bucket_low(unsigned int b)
{
	unsigned int log2, sub;

	if (b < WW_HIST_SUB)
		return b;
	log2 = b / WW_HIST_SUB + WW_HIST_SUB_BITS - 1;
	sub = b % WW_HIST_SUB;
	return (1ULL << log2) + ((__u64)sub << (log2 - WW_HIST_SUB_BITS));
}

__u64 hist__bucket_high(unsigned int b)
{
	if (b + 1 >= WW_HIST_BUCKETS)
		return 1ULL << WW_HIST_MAX_LOG2;
	return hist__bucket_low(b + 1);
}

__u64 hist__total(const __u64 *hist)
{
	__u64 n = 0;

	for (unsigned int b = 0; b < WW_HIST_BUCKETS; b++)
		n += hist[b];
	return n;
}

__u64 hist__quantile(const __u64 *hist, double q, __u64 max_seen)
{
	__u64 total = hist__total(hist), seen = 0, rank, v;

	if (!total)
		return 0;
	/* rank of the sample, 1-based, that the quantile falls on */
	rank = (__u64)(q * (double)total + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > total)
		rank = total;
	for (unsigned int b = 0; b < WW_HIST_BUCKETS; b++) {
		seen += hist[b];
		if (seen < rank)
			continue;
		/* The bucket's upper bound: never below the true value, at most 1/8 above. */
		v = b < WW_HIST_SUB ? b : hist__bucket_high(b) - 1;
		if (max_seen && v > max_seen)
			v = max_seen;
		return v;
	}
	return max_seen;
}

void hist__print_log2(FILE *out, const __u64 *hist, const char *unit, __u64 unit_ns)
{
	__u64 slots[64], max = 0;
	int first = -1, last = -1;
	char range[48];

	memset(slots, 0, sizeof(slots));
	for (unsigned int b = 0; b < WW_HIST_BUCKETS; b++) {
		__u64 v = hist__bucket_low(b) / unit_ns;
		int slot = 0;

		while (v > 0 && slot < 63) {	/* slot k holds [2^(k-1), 2^k) */
			v >>= 1;
			slot++;
		}
		slots[slot] += hist[b];
	}
	for (int i = 0; i < 64; i++) {
		if (!slots[i])
			continue;
		if (first < 0)
			first = i;
		last = i;
		if (slots[i] > max)
			max = slots[i];
	}
	if (first < 0) {
		fprintf(out, "     (no samples)\n");
		return;
	}
	fprintf(out, "%24s : count    distribution\n", unit);
	for (int i = first; i <= last; i++) {
		__u64 low = i ? 1ULL << (i - 1) : 0, high = (1ULL << i) - 1;
		int stars = (int)(slots[i] * 40 / max);

		snprintf(range, sizeof(range), "%llu -> %llu", (unsigned long long)low,
			 (unsigned long long)high);
		fprintf(out, "%24s : %-8llu |%-40.*s|\n", range, (unsigned long long)slots[i], stars,
			"****************************************");
	}
}
