/* SPDX-License-Identifier: MIT */
/* A tiny test harness: self-registering tests, assertions, and helpers to run the real binaries. */
#ifndef HARNESS_H
#define HARNESS_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>

struct cJSON;

enum test_kind { TEST_UNIT, TEST_KERNEL };

struct test {
	const char *name;
	enum test_kind kind;
	void (*fn)(void);
	struct test *next;
};

void harness__register(struct test *t);

/* Unit tests need nothing; kernel tests need root and the built binaries. */
#define TEST_(kind_, name_)							\
	static void test_##name_(void);						\
	static struct test test_desc_##name_ = { #name_, kind_, test_##name_, NULL };	\
	__attribute__((constructor)) static void register_##name_(void)	\
	{ harness__register(&test_desc_##name_); }				\
	static void test_##name_(void)
#define TEST(name)		TEST_(TEST_UNIT, name)
#define KERNEL_TEST(name)	TEST_(TEST_KERNEL, name)

/* Built with ASan and UBSan (make check-asan): the code under test is several times slower and bigger. */
bool harness__sanitized(void);
/* Timeouts, never assertions, are multiplied by this: 1, or 3 in a sanitized build. */
int harness__slowdown(void);
/*
 * Marks the current test skipped with the reason (printf-style) printed beside it; the test
 * returns next. Only for a tool that is truly absent or a sanitized build, never for a failure.
 */
void harness__skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* For what the sanitizers themselves distort (say what): the test is skipped in make check-asan only. */
#define SKIP_IF_SANITIZED(why) do { if (harness__sanitized()) { harness__skip("%s", why); return; } } while (0)

/* Registers fn to run after each test, passed or failed (what a failed test may leave behind). */
void harness__on_test_end(void (*fn)(void));

/* Records a failure of the current test; returns cond. */
bool harness__check(bool cond, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define CHECK(cond, ...) harness__check((cond), __FILE__, __LINE__, __VA_ARGS__)
#define ASSERT(cond, ...) do { if (!CHECK(cond, __VA_ARGS__)) return; } while (0)
/*
 * Each argument is evaluated once. Floating-point arguments (harness__num)
 * convert through harness__u64_of(): a cast of a negative or huge double to an
 * unsigned type is undefined, and -1 is what a missing field reads as.
 */
#define HARNESS_U64(x) _Generic((x), float: harness__u64_of, double: harness__u64_of,	\
				long double: harness__u64_of, default: harness__u64_id)(x)
#define CHECK_EQ(a, b) ({							\
	unsigned long long a_ = HARNESS_U64(a), b_ = HARNESS_U64(b);		\
	CHECK(a_ == b_, "%s == %s: %llu != %llu", #a, #b, a_, b_);		\
})
#define CHECK_STR(a, b) CHECK((a) && !strcmp((a), (b)), "%s: '%s' != '%s'", #a, (a) ? (a) : "(null)", (b))
/* |got - want| <= pct% of want */
#define CHECK_NEAR(got, want, pct) CHECK(harness__near((double)(got), (double)(want), (pct)),	\
			"%s = %.0f not within %.1f%% of %s = %.0f (off by %.2f%%)", #got,	\
			(double)(got), (double)(pct), #want, (double)(want),			\
			harness__off_pct((double)(got), (double)(want)))

bool harness__near(double got, double want, double pct);
/* A double as CHECK_EQ compares it: negative values as their two's complement (-1 is ULLONG_MAX). */
unsigned long long harness__u64_of(double v);
static inline unsigned long long harness__u64_id(unsigned long long v) { return v; }
double harness__off_pct(double got, double want);

/* Directory of the built binaries (--bin), and a fresh temp dir for the current test. */
const char *harness__bin(void);
const char *harness__tmpdir(void);
/* Path of a file in the test's temp dir (static buffer rotation of 8). */
const char *harness__tmp(const char *name);

struct cmd_result {
	int status;		/* wait(2) status */
	int exit_code;		/* -1 if killed by a signal */
	char *out;		/* captured stdout, NUL-terminated */
	char *err;		/* captured stderr */
};

/* Runs argv (NULL-terminated), capturing output, killed after timeout_s. */
int harness__run(char *const argv[], int timeout_s, struct cmd_result *r);
void harness__free_result(struct cmd_result *r);
/* Starts argv in the background with stdout/stderr to files; returns its pid. */
int harness__spawn(char *const argv[], const char *out_path);
/* Waits for pid with a timeout; returns its wait status or -1 (then it is killed). */
int harness__wait(int pid, int timeout_s);

/* Reads and parses a JSON file; NULL (and a recorded failure) when it cannot. */
struct cJSON *harness__read_json(const char *path);
/* Parses the last line of text that is a JSON object. */
struct cJSON *harness__parse_last_json_line(const char *text);
/* The number at a dotted path ("cpu.on_cpu_ns"); records a failure and returns -1 if absent. */
double harness__num(const struct cJSON *root, const char *path);
const char *harness__str(const struct cJSON *root, const char *path);
const struct cJSON *harness__get(const struct cJSON *root, const char *path);
/* Waits until a file exists and is non-empty, up to timeout_ms. */
bool harness__wait_file(const char *path, int timeout_ms);
long harness__read_long(const char *path);

#endif
