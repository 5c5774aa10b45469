// SPDX-License-Identifier: MIT
/* A tiny test harness: self-registering tests, assertions, and helpers to run the real binaries. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "harness.h"

static struct test *tests, **tests_tail = &tests;
static int current_failures;
static char skip_reason[256];	/* set by harness__skip: the current test did not run */
static const char *bin_dir = "build";
static char tmp_dir[256];

void harness__register(struct test *t)
{
	*tests_tail = t;
	tests_tail = &t->next;
}

bool harness__check(bool cond, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	if (cond)
		return true;
	current_failures++;
	fprintf(stderr, "    %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return false;
}

bool harness__sanitized(void)
{
#if defined(__SANITIZE_ADDRESS__)
	return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
	return true;
#else
	return false;
#endif
#else
	return false;
#endif
}

int harness__slowdown(void)
{
	return harness__sanitized() ? 3 : 1;
}

void harness__skip(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(skip_reason, sizeof(skip_reason), fmt, ap);
	va_end(ap);
}

bool harness__near(double got, double want, double pct)
{
	return fabs(got - want) <= fabs(want) * pct / 100.0;
}

unsigned long long harness__u64_of(double v)
{
	if (isnan(v))
		return ~0ULL;
	if (v < 0)
		return v > -9.2e18 ? (unsigned long long)(long long)v : 1ULL << 63;
	return v < 18446744073709551616.0 ? (unsigned long long)v : ~0ULL;
}

double harness__off_pct(double got, double want)
{
	return want ? (got - want) * 100.0 / want : 0;
}

const char *harness__bin(void)
{
	return bin_dir;
}

const char *harness__tmpdir(void)
{
	return tmp_dir;
}

const char *harness__tmp(const char *name)
{
	static char bufs[8][512];
	static int next;
	char *b = bufs[next++ % 8];

	snprintf(b, sizeof(bufs[0]), "%s/%s", tmp_dir, name);
	return b;
}

static char *slurp_fd(int fd)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	ssize_t n;

	if (!buf)
		return NULL;
	lseek(fd, 0, SEEK_SET);
	while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += n;
		if (cap - len < 2) {
			char *nb = realloc(buf, cap * 2);

			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
	}
	buf[len] = 0;
	return buf;
}

int harness__wait(int pid, int timeout_s)
{
	struct timespec tick = { .tv_nsec = 10 * 1000000 };
	int status;

	timeout_s *= harness__slowdown();
	for (int i = 0; i < timeout_s * 100; i++) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return status;
		if (r < 0)
			return -1;
		nanosleep(&tick, NULL);
	}
	fprintf(stderr, "    pid %d still running after %d s: killed\n", pid, timeout_s);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

int harness__spawn(char *const argv[], const char *out_path)
{
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open(out_path ? out_path : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

int harness__run(char *const argv[], int timeout_s, struct cmd_result *r)
{
	char out_path[512], err_path[512];
	int out_fd, err_fd;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	snprintf(out_path, sizeof(out_path), "%s/.stdout", tmp_dir);
	snprintf(err_path, sizeof(err_path), "%s/.stderr", tmp_dir);
	out_fd = open(out_path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	err_fd = open(err_path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (out_fd < 0 || err_fd < 0)
		return -errno;
	pid = fork();
	if (pid == 0) {
		dup2(out_fd, 1);
		dup2(err_fd, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	r->status = harness__wait(pid, timeout_s);
	r->exit_code = WIFEXITED(r->status) ? WEXITSTATUS(r->status) : -1;
	r->out = slurp_fd(out_fd);
	r->err = slurp_fd(err_fd);
	close(out_fd);
	close(err_fd);
	return 0;
}

void harness__free_result(struct cmd_result *r)
{
	free(r->out);
	free(r->err);
}

struct cJSON *harness__read_json(const char *path)
{
	int fd = open(path, O_RDONLY);
	cJSON *root = NULL;
	char *text;

	if (!CHECK(fd >= 0, "cannot open %s: %s", path, strerror(errno)))
		return NULL;
	text = slurp_fd(fd);
	close(fd);
	if (text)
		root = cJSON_Parse(text);
	CHECK(root != NULL, "%s is not valid JSON", path);
	free(text);
	return root;
}

struct cJSON *harness__parse_last_json_line(const char *text)
{
	const char *line = NULL;

	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (*p == '{')
			line = p;
	if (!CHECK(line != NULL, "no JSON line in output: %s", text ? text : "(null)"))
		return NULL;
	return cJSON_Parse(line);
}

const struct cJSON *harness__get(const struct cJSON *root, const char *path)
{
	char buf[256], *save = NULL;
	const cJSON *node = root;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *key = strtok_r(buf, ".", &save); key && node; key = strtok_r(NULL, ".", &save))
		node = cJSON_GetObjectItemCaseSensitive(node, key);
	return node;
}

double harness__num(const struct cJSON *root, const char *path)
{
	const cJSON *node = harness__get(root, path);

	if (!CHECK(cJSON_IsNumber(node), "JSON has no number at %s", path))
		return -1;
	return node->valuedouble;
}

const char *harness__str(const struct cJSON *root, const char *path)
{
	const cJSON *node = harness__get(root, path);

	if (!CHECK(cJSON_IsString(node), "JSON has no string at %s", path))
		return NULL;
	return node->valuestring;
}

bool harness__wait_file(const char *path, int timeout_ms)
{
	struct timespec tick = { .tv_nsec = 5 * 1000000 };
	struct stat st;

	for (int i = 0; i < timeout_ms / 5; i++) {
		if (!stat(path, &st) && st.st_size > 0)
			return true;
		nanosleep(&tick, NULL);
	}
	return false;
}

long harness__read_long(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static void rm_tree(const char *dir)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		fprintf(stderr, "    cannot remove %s\n", dir);
}

static void (*cleanups[8])(void);
static int nr_cleanups;

void harness__on_test_end(void (*fn)(void))
{
	if (nr_cleanups < 8)
		cleanups[nr_cleanups++] = fn;
}

static double wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A test's time when it is long enough to matter to the suite's, which must stay well under 30 minutes. */
static const char *took(double start)
{
	static char buf[32];
	double s = wall_s() - start;

	if (s < 5)
		return "";
	snprintf(buf, sizeof(buf), "  [%.0f s]", s);
	return buf;
}

int main(int argc, char **argv)
{
	double suite_start, test_start;
	int passed = 0, failed = 0, skipped = 0;
	const char *filter = NULL;
	bool root = geteuid() == 0, unit = true, kernel = true;

	/* ww_test [--bin DIR] [--unit | --kernel] [SUBSTRING] */
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--bin") && i + 1 < argc)
			bin_dir = argv[++i];
		else if (!strcmp(argv[i], "--unit"))
			kernel = false;
		else if (!strcmp(argv[i], "--kernel"))
			unit = false;
		else
			filter = argv[i];
	}
	signal(SIGPIPE, SIG_IGN);
	suite_start = wall_s();
	for (struct test *t = tests; t; t = t->next) {
		if (filter && !strstr(t->name, filter))
			continue;
		if (!(t->kind == TEST_KERNEL ? kernel : unit))
			continue;
		if (t->kind == TEST_KERNEL && !root) {
			printf("skip %s (needs root)\n", t->name);
			skipped++;
			continue;
		}
		snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/ww_test.%d.XXXXXX", getpid());
		if (!mkdtemp(tmp_dir)) {
			perror("mkdtemp");
			return 1;
		}
		current_failures = 0;
		skip_reason[0] = 0;
		fflush(stdout);
		test_start = wall_s();
		t->fn();
		for (int i = 0; i < nr_cleanups; i++)
			cleanups[i]();
		if (skip_reason[0] && !current_failures) {
			printf("skip %s (%s)%s\n", t->name, skip_reason, took(test_start));
			skipped++;
			rm_tree(tmp_dir);
		} else if (current_failures) {
			printf("FAIL %s (files kept in %s)%s\n", t->name, tmp_dir, took(test_start));
			failed++;
		} else {
			printf("ok   %s%s\n", t->name, took(test_start));
			passed++;
			rm_tree(tmp_dir);
		}
		fflush(stdout);
	}
	printf("%d passed, %d failed, %d skipped in %.0f s\n", passed, failed, skipped, wall_s() - suite_start);
	return failed ? 1 : 0;
}
