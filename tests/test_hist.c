// SPDX-License-Identifier: MIT
/* Unit tests of the log-linear histogram: bucketing on both sides, bounds and quantiles. */
#include <stdlib.h>
#include <string.h>
#include "workerwatch.h"
#include "harness.h"
#include "observe/hist.h"

TEST(hist_bucket_bounds_contain_their_values)
{
	const __u64 samples[] = { 0, 1, 7, 8, 9, 15, 16, 17, 100, 1000, 4095, 4096, 123456789,
				  1000000000ULL, (1ULL << 38) - 1 };

	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		__u64 v = samples[i];
		__u32 b = ww_hist_bucket(v);

		ASSERT(b < WW_HIST_BUCKETS, "bucket %u of %llu out of range", b, (unsigned long long)v);
		CHECK(hist__bucket_low(b) <= v && v < hist__bucket_high(b),
		      "%llu not in bucket %u [%llu, %llu)", (unsigned long long)v, b,
		      (unsigned long long)hist__bucket_low(b), (unsigned long long)hist__bucket_high(b));
	}
	CHECK_EQ(ww_hist_bucket(1ULL << 40), WW_HIST_BUCKETS - 1U);
}

TEST(hist_buckets_are_contiguous_and_at_most_an_eighth_wide)
{
	for (unsigned int b = 0; b + 1 < WW_HIST_BUCKETS; b++) {
		__u64 low = hist__bucket_low(b), high = hist__bucket_high(b);

		ASSERT(high == hist__bucket_low(b + 1), "gap after bucket %u", b);
		if (low >= WW_HIST_SUB)
			ASSERT((high - low) * WW_HIST_SUB <= low, "bucket %u too wide: [%llu, %llu)", b,
			       (unsigned long long)low, (unsigned long long)high);
		ASSERT(ww_hist_bucket(low) == b && ww_hist_bucket(high - 1) == b,
		       "bucket %u does not map back", b);
	}
}

static bool within_an_eighth_above(__u64 got, __u64 truth)
{
	return got >= truth && got - truth <= truth / 8;
}

TEST(hist_quantiles_of_a_known_distribution)
{
	__u64 hist[WW_HIST_BUCKETS];

	memset(hist, 0, sizeof(hist));
	CHECK_EQ(hist__quantile(hist, 0.5, 0), 0);
	/* 900 samples at 1 us, 90 at 1 ms, 10 at 100 ms */
	hist[ww_hist_bucket(1000)] += 900;
	hist[ww_hist_bucket(1000000)] += 90;
	hist[ww_hist_bucket(100000000)] += 10;
	CHECK_EQ(hist__total(hist), 1000);
	/* never below the true value, at most an eighth above it */
	CHECK(within_an_eighth_above(hist__quantile(hist, 0.50, 0), 1000), "p50");
	CHECK(within_an_eighth_above(hist__quantile(hist, 0.90, 0), 1000), "p90");
	CHECK(within_an_eighth_above(hist__quantile(hist, 0.91, 0), 1000000), "p91");
	CHECK(within_an_eighth_above(hist__quantile(hist, 0.99, 0), 1000000), "p99");
	CHECK(within_an_eighth_above(hist__quantile(hist, 0.999, 0), 100000000), "p99.9");
	/* never above the largest value seen */
	CHECK_EQ(hist__quantile(hist, 1.0, 100000001), 100000001);
	CHECK(hist__quantile(hist, 1.0, 0) >= 100000000, "p100 below the top bucket");
}

TEST(hist_log2_rendering)
{
	__u64 hist[WW_HIST_BUCKETS];
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	memset(hist, 0, sizeof(hist));
	hist[ww_hist_bucket(5000)] = 3;	/* 5 us: the 4 -> 7 slot */
	hist[ww_hist_bucket(40000)] = 6;	/* 40 us: 32 -> 63 */
	hist__print_log2(f, hist, "usecs", 1000);
	fclose(f);
	CHECK(strstr(text, "4 -> 7 : 3 ") != NULL, "no 4 -> 7 line:\n%s", text);
	CHECK(strstr(text, "32 -> 63 : 6 ") != NULL, "no 32 -> 63 line:\n%s", text);
	CHECK(strstr(text, "|****************************************|") != NULL, "no full bar:\n%s", text);
	free(text);
}
