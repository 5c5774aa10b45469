// SPDX-License-Identifier: MIT
/* Unit tests of the event log: line format, size and daily rotation, gzip, retention, crash leftovers. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include <cjson/cJSON.h>
#include "harness.h"
#include "daemon/eventlog.h"

#define NS 1000000000ULL
#define MAX_NAMES 256

/* CHECK_EQ evaluates its arguments twice: never hand it a write. */
#define WRITE_OK(l, kind, json) write_ok((l), (kind), (json), __LINE__)

static void write_ok(struct eventlog *l, const char *kind, const char *json, int line)
{
	int err = eventlog__write(l, kind, json);

	harness__check(err == 0, __FILE__, line, "write %s %s: %s", kind, json ? json : "(null)",
		       strerror(-err));
}

struct fake_clock {
	__u64 ns;
};

static __u64 fake_now(void *ctx)
{
	return ((struct fake_clock *)ctx)->ns;
}

static __u64 at(int year, int mon, int mday, int hour, int min, int sec, int ms)
{
	struct tm tm = { .tm_year = year - 1900, .tm_mon = mon - 1, .tm_mday = mday,
			 .tm_hour = hour, .tm_min = min, .tm_sec = sec };

	return (__u64)timegm(&tm) * NS + (__u64)ms * 1000000;
}

/* The whole file as a NUL-terminated string (NULL if it cannot be read); *len its size. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *text = NULL, buf[65536];
	size_t n, size = 0;
	FILE *m;

	if (!f)
		return NULL;
	m = open_memstream(&text, &size);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, m);
	fclose(f);
	fclose(m);
	if (len)
		*len = size;
	return text;
}

/* A .gz file decompressed with zlib; NULL (and a recorded failure) when it is not valid. */
static char *gunzip(const char *path, size_t *len)
{
	gzFile gz = gzopen(path, "rb");
	char *text = NULL, buf[65536];
	size_t size = 0;
	FILE *m;
	int n, rc;

	if (!CHECK(gz != NULL, "cannot gzopen %s", path))
		return NULL;
	m = open_memstream(&text, &size);
	while ((n = gzread(gz, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, n, m);
	fclose(m);
	rc = gzclose(gz);
	if (!CHECK(n == 0 && rc == Z_OK, "%s is not a valid gzip file", path)) {
		free(text);
		return NULL;
	}
	*len = size;
	return text;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!CHECK(f != NULL, "cannot create %s", path))
		return;
	fputs(text, f);
	fclose(f);
}

/* Permission bits of path, -1 when it cannot be stat'ed. */
static int mode_of(const char *path)
{
	struct stat st;

	return stat(path, &st) ? -1 : (int)(st.st_mode & 07777);
}

static bool exists(const char *path)
{
	struct stat st;

	return !lstat(path, &st);
}

struct names {
	int n;
	char v[MAX_NAMES][96];
};

/* N of events-YYYYMMDD-HHMMSS[-N].jsonl.gz, 0 without the suffix. */
static long rotation_suffix(const char *name)
{
	return name[22] == '-' ? strtol(name + 23, NULL, 10) : 0;
}

/* Rotation order: by the stamp, then by the -N suffix (a plain sort puts -1 before none, -10 before -2). */
static int by_rotation(const void *a, const void *b)
{
	const char *x = a, *y = b;
	int c = strncmp(x, y, 22);
	long nx = rotation_suffix(x), ny = rotation_suffix(y);

	return c ? c : (nx > ny) - (nx < ny);
}

/* The rotated .gz files of dir, in rotation order; every other entry but the live file in *others. */
static struct names *list_rotated(const char *dir, struct names *others)
{
	struct names *r = calloc(1, sizeof(*r));
	DIR *d = opendir(dir);
	struct dirent *de;

	if (others)
		others->n = 0;
	if (!CHECK(d != NULL, "cannot list %s", dir))
		return r;
	while ((de = readdir(d))) {
		const char *name = de->d_name;
		size_t len = strlen(name);
		bool gz = !strncmp(name, "events-", 7) && len > 9 && !strcmp(name + len - 9, ".jsonl.gz");

		if (!strcmp(name, ".") || !strcmp(name, "..") || !strcmp(name, "events.jsonl"))
			continue;
		if (gz && r->n < MAX_NAMES)
			snprintf(r->v[r->n++], sizeof(r->v[0]), "%s", name);
		else if (!gz && others && others->n < MAX_NAMES)
			snprintf(others->v[others->n++], sizeof(others->v[0]), "%s", name);
	}
	closedir(d);
	qsort(r->v, r->n, sizeof(r->v[0]), by_rotation);
	return r;
}

/* All lines logged to dir: the rotated files in rotation order, then the live file. */
static char *all_lines(const char *dir, size_t *len, int *nr_rotated)
{
	struct names *rot = list_rotated(dir, NULL);
	char *text = NULL, path[512];
	size_t size = 0;
	FILE *m = open_memstream(&text, &size);

	for (int i = 0; i < rot->n; i++) {
		size_t n;
		char *part;

		snprintf(path, sizeof(path), "%s/%s", dir, rot->v[i]);
		part = gunzip(path, &n);
		if (part)
			fwrite(part, 1, n, m);
		free(part);
	}
	snprintf(path, sizeof(path), "%s/events.jsonl", dir);
	{
		size_t n = 0;
		char *live = slurp(path, &n);

		if (CHECK(live != NULL, "cannot read %s", path))
			fwrite(live, 1, n, m);
		free(live);
	}
	fclose(m);
	if (nr_rotated)
		*nr_rotated = rot->n;
	free(rot);
	*len = size;
	return text;
}

static int count_lines(const char *text)
{
	int n = 0;

	for (; text && *text; text++)
		n += *text == '\n';
	return n;
}

/* The n-th line (from 0) parsed; NULL (and a recorded failure) when absent or not JSON. */
static cJSON *parse_line(const char *text, int n)
{
	const char *p = text, *nl;
	cJSON *root;

	for (int i = 0; i < n && p; i++)
		p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL;
	if (!CHECK(p && *p, "no line %d", n))
		return NULL;
	nl = strchr(p, '\n');
	root = cJSON_ParseWithLength(p, nl ? (size_t)(nl - p) : strlen(p));
	CHECK(root != NULL, "line %d is not JSON: %.*s", n, nl ? (int)(nl - p) : (int)strlen(p), p);
	return root;
}

/* ts and event are the first two members, ts in RFC 3339 UTC with milliseconds. */
static bool check_head(const cJSON *line, const char *kind, const char *ts)
{
	const cJSON *first = line ? line->child : NULL, *second = first ? first->next : NULL;
	int y, mo, d, h, mi, s, ms, n = 0;

	if (!CHECK(first && first->string && !strcmp(first->string, "ts") && cJSON_IsString(first),
		   "first member is not ts") ||
	    !CHECK(second && second->string && !strcmp(second->string, "event"),
		   "second member is not event"))
		return false;
	CHECK(sscanf(first->valuestring, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ%n", &y, &mo, &d, &h, &mi, &s,
		     &ms, &n) == 7 && n == 24 && strlen(first->valuestring) == 24,
	      "ts '%s' is not RFC 3339 UTC with ms", first->valuestring);
	if (ts)
		CHECK_STR(first->valuestring, ts);
	return CHECK_STR(second->valuestring, kind);
}

/* Whether one of our descriptors on path has O_CLOEXEC and O_APPEND set. */
static bool fd_flags_of(const char *path, bool *cloexec, bool *append)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	bool found = false;

	while (d && (de = readdir(d)) && !found) {
		char link[600], target[600], info[600];
		unsigned long flags;
		ssize_t n;
		FILE *f;

		snprintf(link, sizeof(link), "/proc/self/fd/%s", de->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = 0;
		if (strcmp(target, path))
			continue;
		snprintf(info, sizeof(info), "/proc/self/fdinfo/%s", de->d_name);
		f = fopen(info, "r");
		while (f && fgets(target, sizeof(target), f))
			if (sscanf(target, "flags: %lo", &flags) == 1) {
				*cloexec = flags & O_CLOEXEC;
				*append = flags & O_APPEND;
				found = true;
			}
		if (f)
			fclose(f);
	}
	if (d)
		closedir(d);
	return found;
}

TEST(eventlog_lines_are_json_with_ts_and_event_first)
{
	const char *dir = harness__tmp("log/a/b"), *live = harness__tmp("log/a/b/events.jsonl");
	struct eventlog_opts o = { .dir = dir };
	struct eventlog *l = eventlog__open(&o);
	bool cloexec = false, append = false;
	time_t before = time(NULL), after;
	cJSON *line;
	char *text;
	int mode;

	ASSERT(l, "cannot open the event log: %s", strerror(errno));
	WRITE_OK(l, "STARTED", "{\"execution\":12,\"session\":\"s\",\"agent\":\"a\",\"pid\":42}");
	WRITE_OK(l, "COMPLETED",
				 "  { \"execution\" : 12 , \"exit_code\":0, \"nested\": {\"a\":[1,2.5e3,-0.1,"
				 "true,false,null,\"x\\\"y\\n\\u00e9\"]}, \"utf8\":\"h\xc3\xa9llo \xe2\x9c\x93\" }\t");
	WRITE_OK(l, "FAILED", "{}");
	WRITE_OK(l, "ALERT", NULL);
	CHECK(fd_flags_of(live, &cloexec, &append), "no descriptor open on %s", live);
	CHECK(cloexec && append, "live file open without O_CLOEXEC (%d) or O_APPEND (%d)", cloexec, append);
	CHECK(eventlog__flush(l) == 0, "flush failed");
	eventlog__close(l);
	after = time(NULL);

	text = slurp(live, NULL);
	ASSERT(text, "cannot read %s", live);
	CHECK_EQ(count_lines(text), 4);
	/* greppable: the kind is spelled out near the start of the raw line */
	CHECK(!strncmp(text, "{\"ts\":\"", 7) &&
	      !strncmp(text + 31, "\",\"event\":\"STARTED\",\"execution\":12,", 35),
	      "raw line does not start {\"ts\":...,\"event\":\"STARTED\": %s", text);

	line = parse_line(text, 0);
	if (check_head(line, "STARTED", NULL)) {
		struct tm tm = {};
		time_t t;

		strptime(line->child->valuestring, "%Y-%m-%dT%H:%M:%S", &tm);
		t = timegm(&tm);
		/* time() reads the coarse clock, up to a tick behind CLOCK_REALTIME */
		CHECK(t >= before && t <= after + 1, "ts %s is not now", line->child->valuestring);
		CHECK_EQ(cJSON_GetArraySize(line), 6);
		CHECK_EQ(harness__num(line, "execution"), 12);
		CHECK_STR(harness__str(line, "session"), "s");
		CHECK_STR(harness__str(line, "agent"), "a");
		CHECK_EQ(harness__num(line, "pid"), 42);
	}
	cJSON_Delete(line);

	line = parse_line(text, 1);
	if (check_head(line, "COMPLETED", NULL)) {
		const cJSON *a = harness__get(line, "nested.a");

		CHECK_EQ(cJSON_GetArraySize(line), 6);
		CHECK_EQ(harness__num(line, "exit_code"), 0);
		CHECK_EQ(cJSON_GetArraySize(a), 7);
		CHECK(cJSON_GetArrayItem(a, 1) && cJSON_GetArrayItem(a, 1)->valuedouble == 2500, "2.5e3 lost");
		CHECK(cJSON_IsString(cJSON_GetArrayItem(a, 6)) &&
		      !strcmp(cJSON_GetArrayItem(a, 6)->valuestring, "x\"y\n\xc3\xa9"), "escapes lost");
		CHECK_STR(harness__str(line, "utf8"), "h\xc3\xa9llo \xe2\x9c\x93");
	}
	cJSON_Delete(line);

	/* no fields: nothing but ts and event, and no dangling comma */
	line = parse_line(text, 2);
	if (check_head(line, "FAILED", NULL))
		CHECK_EQ(cJSON_GetArraySize(line), 2);
	cJSON_Delete(line);
	line = parse_line(text, 3);
	if (check_head(line, "ALERT", NULL))
		CHECK_EQ(cJSON_GetArraySize(line), 2);
	cJSON_Delete(line);
	free(text);

	mode = mode_of(live);
	CHECK(mode >= 0 && !(mode & 0137) && (mode & 0600) == 0600, "live file mode %o, want 0640 (less umask)",
	      mode);
	mode = mode_of(dir);
	CHECK(mode >= 0 && !(mode & 0027) && (mode & 0700) == 0700, "dir mode %o, want 0750 (less umask)", mode);
	mode = mode_of(harness__tmp("log/a"));
	CHECK(mode >= 0 && !(mode & 0027), "parent mode %o, want 0750 (less umask)", mode);
}

TEST(eventlog_size_rotation_keeps_every_line_once_in_order)
{
	static const char *const kinds[] = { "STARTED", "COMPLETED", "FAILED", "FORK", "EXEC", "EXIT",
					     "SIGNAL", "OOM", "SLOW_SYSCALL", "ALERT" };
	/* a frozen clock: every rotation in the same second, so the -N suffixes climb past 9 */
	struct fake_clock clock = { at(2026, 11, 21, 6, 20, 1, 0) };
	const __u64 max_bytes = 64 * 1024;
	struct eventlog_opts o = { .dir = harness__tmpdir(), .max_bytes = max_bytes,
				   .now_fn = fake_now, .now_ctx = &clock };
	struct eventlog *l = eventlog__open(&o);
	char pad[256], json[512], *want = NULL, *got;
	size_t want_len = 0, got_len;
	struct names others, *rot;
	int nr_rotated = 0;
	FILE *m;

	ASSERT(l, "cannot open the event log: %s", strerror(errno));
	memset(pad, 'x', sizeof(pad));
	m = open_memstream(&want, &want_len);
	for (int i = 0; i < 5000; i++) {
		const char *kind = kinds[i % 10];
		int n = i * 37 % 200;

		snprintf(json, sizeof(json), "{\"seq\":%d,\"pad\":\"%.*s\"}", i, n, pad);
		fprintf(m, "{\"ts\":\"2026-11-21T06:20:01.000Z\",\"event\":\"%s\",\"seq\":%d,\"pad\":\"%.*s\"}\n",
			kind, i, n, pad);
		if (eventlog__write(l, kind, json)) {
			CHECK(false, "write %d failed", i);
			break;
		}
	}
	fclose(m);
	CHECK(eventlog__flush(l) == 0, "flush failed");
	eventlog__close(l);

	got = all_lines(harness__tmpdir(), &got_len, &nr_rotated);
	CHECK(nr_rotated >= (int)(want_len / max_bytes), "only %d rotated files for %zu bytes", nr_rotated,
	      want_len);
	CHECK_EQ(got_len, want_len);
	if (got && want && memcmp(got, want, got_len < want_len ? got_len : want_len)) {
		size_t i = 0;

		while (got[i] == want[i])
			i++;
		CHECK(false, "logged lines differ at byte %zu: got '%.60s', want '%.60s'", i, got + i, want + i);
	}
	free(got);
	free(want);

	/* each rotated file at most max_bytes of whole lines, and not rotated early */
	rot = list_rotated(harness__tmpdir(), &others);
	CHECK_EQ(others.n, 0);
	for (int i = 0; i < others.n; i++)
		CHECK(false, "unexpected file %s (an uncompressed or temporary leftover?)", others.v[i]);
	for (int i = 0; i < rot->n; i++) {
		int mode = mode_of(harness__tmp(rot->v[i]));
		size_t n = 0;
		char *part = gunzip(harness__tmp(rot->v[i]), &n);

		CHECK_EQ(rotation_suffix(rot->v[i]), i);
		CHECK(mode >= 0 && !(mode & 0137), "%s mode %o, want 0640 (less umask)", rot->v[i], mode);
		CHECK(n <= max_bytes && n > max_bytes - 512 && part && part[n - 1] == '\n',
		      "%s holds %zu bytes", rot->v[i], n);
		free(part);
	}
	CHECK(rot->n > 10 && !strcmp(rot->v[0], "events-20261121-062001.jsonl.gz") &&
	      !strcmp(rot->v[10], "events-20261121-062001-10.jsonl.gz"), "unexpected rotated names");
	free(rot);
}

TEST(eventlog_rotates_daily)
{
	struct fake_clock clock = { at(2026, 11, 21, 23, 59, 58, 0) };
	struct eventlog_opts o = { .dir = harness__tmpdir(), .now_fn = fake_now, .now_ctx = &clock };
	const char *day1 = harness__tmp("events-20261122-000001.jsonl.gz");
	const char *day2 = harness__tmp("events-20261123-000000.jsonl.gz");
	struct eventlog *l = eventlog__open(&o);
	struct names *rot;
	size_t len = 0;
	cJSON *line;
	char *text;

	ASSERT(l, "cannot open the event log: %s", strerror(errno));
	WRITE_OK(l, "STARTED", "{\"n\":1}");
	clock.ns += 1500000000ULL;
	WRITE_OK(l, "EXEC", "{\"n\":2}");
	CHECK(!exists(day1), "rotated before midnight");
	clock.ns = at(2026, 11, 22, 0, 0, 1, 250);
	WRITE_OK(l, "COMPLETED", "{\"n\":3}");
	clock.ns += 10 * 3600 * NS;
	WRITE_OK(l, "EXIT", "{\"n\":4}");
	eventlog__close(l);

	text = gunzip(day1, &len);
	CHECK_STR(text, "{\"ts\":\"2026-11-21T23:59:58.000Z\",\"event\":\"STARTED\",\"n\":1}\n"
			"{\"ts\":\"2026-11-21T23:59:59.500Z\",\"event\":\"EXEC\",\"n\":2}\n");
	free(text);
	text = slurp(harness__tmp("events.jsonl"), NULL);
	CHECK_STR(text, "{\"ts\":\"2026-11-22T00:00:01.250Z\",\"event\":\"COMPLETED\",\"n\":3}\n"
			"{\"ts\":\"2026-11-22T10:00:01.250Z\",\"event\":\"EXIT\",\"n\":4}\n");
	free(text);
	rot = list_rotated(harness__tmpdir(), NULL);
	CHECK_EQ(rot->n, 1);
	free(rot);

	/* a restart the same day appends; a restart the next day rotates what the file holds */
	clock.ns = at(2026, 11, 22, 12, 0, 0, 0);
	l = eventlog__open(&o);
	ASSERT(l, "cannot reopen the event log: %s", strerror(errno));
	WRITE_OK(l, "FORK", "{\"n\":5}");
	eventlog__close(l);
	rot = list_rotated(harness__tmpdir(), NULL);
	CHECK_EQ(rot->n, 1);
	free(rot);
	clock.ns = at(2026, 11, 23, 0, 0, 0, 0);
	l = eventlog__open(&o);
	ASSERT(l, "cannot reopen the event log: %s", strerror(errno));
	WRITE_OK(l, "SIGNAL", "{\"n\":6}");
	eventlog__close(l);
	text = gunzip(day2, &len);
	CHECK_EQ(count_lines(text), 3);
	line = parse_line(text, 2);
	if (check_head(line, "FORK", "2026-11-22T12:00:00.000Z"))
		CHECK_EQ(harness__num(line, "n"), 5);
	cJSON_Delete(line);
	free(text);
	text = slurp(harness__tmp("events.jsonl"), NULL);
	CHECK_STR(text, "{\"ts\":\"2026-11-23T00:00:00.000Z\",\"event\":\"SIGNAL\",\"n\":6}\n");
	free(text);
}

TEST(eventlog_retention_deletes_only_expired_rotated_files)
{
	static const char *const expired[] = {
		"events-20260101-000000.jsonl.gz",
		"events-20261022-062000-3.jsonl.gz",	/* 30 days and 1 s */
		"events-20200101-000000.jsonl",		/* uncompressed leftover: compressed, then expired */
	};
	static const char *const kept[] = {
		"events-20261022-062001.jsonl.gz",	/* exactly 30 days */
		"events-20261120-000000.jsonl.gz",
		"events-20261122-000000.jsonl.gz",	/* in the future */
	};
	static const char *const unrelated[] = {
		"notes.txt", "other-20200101-000000.jsonl.gz", "events-20200101-000000.jsonl.gz.bak",
		"events-2020010-000000.jsonl.gz", "events-20201301-000000.jsonl.gz",
		"events-20200230-000000.jsonl.gz", "events-20200101-000000-0.jsonl.gz",
		"events-20200101-000000-x.jsonl.gz", "events-20200101-000000.log.gz",
		"EVENTS-20200101-000000.jsonl.gz", "events-20200101-000000.jsonl.gz~",
	};
	struct fake_clock clock = { at(2026, 11, 21, 6, 20, 1, 0) };
	struct eventlog_opts o = { .dir = harness__tmpdir(), .now_fn = fake_now, .now_ctx = &clock };
	struct eventlog *l;
	struct names *rot;

	for (size_t i = 0; i < sizeof(expired) / sizeof(expired[0]); i++)
		write_file(harness__tmp(expired[i]), "x\n");
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
		write_file(harness__tmp(kept[i]), "x\n");
	for (size_t i = 0; i < sizeof(unrelated) / sizeof(unrelated[0]); i++)
		write_file(harness__tmp(unrelated[i]), "x\n");
	/* ours by name but not regular files */
	CHECK(!mkdir(harness__tmp("events-20200101-000001.jsonl.gz"), 0755), "mkdir");
	CHECK(!symlink("notes.txt", harness__tmp("events-20200101-000002.jsonl.gz")), "symlink");

	l = eventlog__open(&o);
	ASSERT(l, "cannot open the event log: %s", strerror(errno));
	for (size_t i = 0; i < sizeof(expired) / sizeof(expired[0]); i++)
		CHECK(!exists(harness__tmp(expired[i])), "%s not deleted", expired[i]);
	CHECK(!exists(harness__tmp("events-20200101-000000.jsonl.gz")), "expired leftover kept compressed");
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
		CHECK(exists(harness__tmp(kept[i])), "%s deleted", kept[i]);
	WRITE_OK(l, "STARTED", "{\"n\":1}");
	eventlog__close(l);

	/* a shorter retention, applied at the next rotation */
	o.retention_days = 2;
	l = eventlog__open(&o);
	ASSERT(l, "cannot reopen the event log: %s", strerror(errno));
	CHECK(exists(harness__tmp("events-20261120-000000.jsonl.gz")), "1.3 days old deleted at open");
	clock.ns = at(2026, 11, 24, 6, 20, 1, 0);
	WRITE_OK(l, "COMPLETED", "{\"n\":2}");
	eventlog__close(l);
	rot = list_rotated(harness__tmpdir(), NULL);
	/* left: the one just rotated, and the look-alikes that are not ours */
	for (int i = 0; i < rot->n; i++) {
		bool ok = !strcmp(rot->v[i], "events-20261124-062001.jsonl.gz");

		for (size_t j = 0; j < sizeof(unrelated) / sizeof(unrelated[0]); j++)
			ok |= !strcmp(rot->v[i], unrelated[j]);
		ok |= !strcmp(rot->v[i], "events-20200101-000001.jsonl.gz") ||
		      !strcmp(rot->v[i], "events-20200101-000002.jsonl.gz");
		CHECK(ok, "%s not deleted after rotation", rot->v[i]);
	}
	free(rot);
	CHECK(exists(harness__tmp("events-20261124-062001.jsonl.gz")), "no rotated file");
	for (size_t i = 0; i < sizeof(unrelated) / sizeof(unrelated[0]); i++) {
		char *text = slurp(harness__tmp(unrelated[i]), NULL);

		CHECK(text && !strcmp(text, "x\n"), "%s touched", unrelated[i]);
		free(text);
	}
	CHECK(exists(harness__tmp("events-20200101-000001.jsonl.gz")), "directory deleted");
	CHECK(exists(harness__tmp("events-20200101-000002.jsonl.gz")), "symlink deleted");
	CHECK(exists(harness__tmp("notes.txt")), "symlink target deleted");
}

TEST(eventlog_rejects_invalid_input_and_writes_nothing)
{
	static const char *const bad_json[] = {
		"", "   ", "[]", "1", "\"s\"", "null", "{", "}", "{}}", "{} {}", "{}x", "{\"a\":1}\n",
		"{\"a\":\n1}", "\n{\"a\":1}", "{\"a\":\"x\ny\"}", "{\"a\":1}\r", "{\"a\":1,}", "{,}",
		"{'a':1}", "{a:1}", "{\"a\" 1}", "{\"a\":}", "{\"a\":01}", "{\"a\":1.}", "{\"a\":.5}",
		"{\"a\":1e}", "{\"a\":-}", "{\"a\":+1}", "{\"a\":tru}", "{\"a\":nul}", "{\"a\":True}",
		"{\"a\":\"\\x\"}", "{\"a\":\"\\u12\"}", "{\"a\":\"\x01\"}", "{\"a\":\"tab\there\"}",
		"{\"a\":\"\xff\"}", "{\"a\":\"\xc3\x28\"}", "{\"a\":\"\xc3\"}", "{\"a\":\"\xc0\xaf\"}", "{\"a\":\"\xed\xa0\x80\"}", "{\"a\":\"\xe2\x9c\"}",
		"{\"a\":[1,2}", "{\"a\":[1,]}", "{\"a\":{\"b\":1}", "{\"a\":1 \"b\":2}", "{\"a\":\"unterminated}",
		"{\"ts\":\"2020-01-01T00:00:00.000Z\"}", "{\"x\":1,\"event\":\"X\"}", "{\"\\u0074s\":1}",
		"{\"ev\\u0065nt\":1}",
	};
	static const char *const bad_kinds[] = { "", "started", "Started", "BAD KIND", "X\n", "1X", "_X",
						 "A-B", "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345" };
	static const char *const good_json[] = {
		" {} ", "{\"a\":\"\\n\\r\\t\\\\\\/\\b\\f\\u00E9\"}", "{\"tsx\":1,\"events\":2,\"nested\":{\"ts\":1}}",
		"{\"a\":-0.5e+10,\"b\":0,\"c\":[],\"d\":{},\"e\":[[],{}]}", "{\"a\":\"\xf0\x9f\x98\x80\"}",
	};
	const char *live = harness__tmp("events.jsonl");
	struct eventlog_opts o = { .dir = harness__tmpdir(), .max_bytes = 1 };
	struct eventlog *l = eventlog__open(&o);
	char *deep = malloc(20010), *text;
	struct names *rot;
	struct stat st;
	long long size;

	ASSERT(l && deep, "cannot open the event log: %s", strerror(errno));
	for (size_t i = 0; i < sizeof(bad_json) / sizeof(bad_json[0]); i++)
		CHECK(eventlog__write(l, "STARTED", bad_json[i]) == -EINVAL, "accepted bad JSON '%s'",
		      bad_json[i]);
	for (size_t i = 0; i < sizeof(bad_kinds) / sizeof(bad_kinds[0]); i++)
		CHECK(eventlog__write(l, bad_kinds[i], "{}") == -EINVAL, "accepted bad kind '%s'", bad_kinds[i]);
	CHECK(eventlog__write(l, NULL, "{}") == -EINVAL, "accepted");
	CHECK(eventlog__write(NULL, "STARTED", "{}") == -EINVAL, "accepted");
	/* far too deep to validate on the stack: refused, not a crash */
	memset(deep, 0, 20010);
	deep[0] = '{';
	memcpy(deep + 1, "\"a\":", 4);
	memset(deep + 5, '[', 10000);
	memset(deep + 10005, ']', 10000);
	deep[20005] = '}';
	CHECK(eventlog__write(l, "STARTED", deep) == -EINVAL, "accepted");
	size = stat(live, &st) ? -1 : st.st_size;
	CHECK(size == 0, "bad input wrote %lld bytes", size);

	/* depth within bounds is fine */
	memset(deep, 0, 20010);
	deep[0] = '{';
	memcpy(deep + 1, "\"a\":", 4);
	memset(deep + 5, '[', 100);
	memset(deep + 105, ']', 100);
	deep[205] = '}';
	WRITE_OK(l, "STARTED", deep);
	for (size_t i = 0; i < sizeof(good_json) / sizeof(good_json[0]); i++)
		CHECK(eventlog__write(l, "ALERT", good_json[i]) == 0, "refused good JSON '%s'", good_json[i]);
	WRITE_OK(l, "A_1", "{}");
	WRITE_OK(l, "ABCDEFGHIJKLMNOPQRSTUVWXYZ01234", "{}");
	free(deep);
	eventlog__close(l);
	eventlog__close(NULL);
	CHECK(eventlog__flush(NULL) == -EINVAL, "flush(NULL) accepted");

	/* max_bytes 1: every line alone in its file, and each one valid JSON */
	rot = list_rotated(harness__tmpdir(), NULL);
	CHECK_EQ(rot->n, 7);
	free(rot);
	{
		size_t len;
		int rotated;

		text = all_lines(harness__tmpdir(), &len, &rotated);
		CHECK_EQ(count_lines(text), 8);
		for (int i = 0; i < 8; i++)
			cJSON_Delete(parse_line(text, i));
		free(text);
	}
}

static const char *capture_begin(int *saved)
{
	const char *path = harness__tmp("stderr.txt");
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	fflush(stderr);
	*saved = dup(2);
	dup2(fd, 2);
	close(fd);
	return path;
}

static char *capture_end(int saved, const char *path)
{
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	return slurp(path, NULL);
}

/* Opens dir expecting failure with want_errno and a one-line message starting with want_msg. */
static void check_open_fails(const char *dir, int want_errno, const char *want_msg)
{
	struct eventlog_opts o = { .dir = dir };
	struct eventlog *l;
	const char *path;
	int saved, err;
	char *msg;

	path = capture_begin(&saved);
	l = eventlog__open(&o);
	err = errno;
	msg = capture_end(saved, path);
	CHECK(l == NULL, "opened %s", dir);
	eventlog__close(l);
	CHECK(err == want_errno, "errno %d (%s), want %d", err, strerror(err), want_errno);
	CHECK(msg && !strncmp(msg, want_msg, strlen(want_msg)) && strchr(msg, '\n') == msg + strlen(msg) - 1,
	      "message '%s', want one line starting '%s'", msg ? msg : "(none)", want_msg);
	free(msg);
}

TEST(eventlog_open_fails_clearly)
{
	char msg[512];

	check_open_fails("/proc/ww-eventlog-test/logs", ENOENT,
			 "workerwatch: cannot create event log directory /proc/ww-eventlog-test: "
			 "No such file or directory");
	write_file(harness__tmp("file"), "x");
	snprintf(msg, sizeof(msg), "workerwatch: cannot create event log directory %s: Not a directory",
		 harness__tmp("file/logs"));
	check_open_fails(harness__tmp("file/logs"), ENOTDIR, msg);
	snprintf(msg, sizeof(msg), "workerwatch: cannot open event log directory %s: Not a directory",
		 harness__tmp("file"));
	check_open_fails(harness__tmp("file"), ENOTDIR, msg);
	CHECK(!mkdir(harness__tmp("d"), 0755) && !mkdir(harness__tmp("d/events.jsonl"), 0755), "mkdir");
	snprintf(msg, sizeof(msg), "workerwatch: cannot open event log %s/events.jsonl: Is a directory",
		 harness__tmp("d"));
	check_open_fails(harness__tmp("d"), EISDIR, msg);
	check_open_fails("", EINVAL, "workerwatch: event log: no directory given");
}

TEST(eventlog_finishes_crash_leftovers_at_open)
{
	const char *partial = "{\"ts\":\"2026-11-21T06:00:00.000Z\",\"event\":\"STARTED\",\"n\":0}\n"
			      "{\"ts\":\"2026-11-21T06:00:01.000Z\",\"event\":\"EXI";
	struct fake_clock clock = { at(2026, 11, 21, 6, 30, 0, 0) };
	struct eventlog_opts o = { .dir = harness__tmpdir(), .now_fn = fake_now, .now_ctx = &clock };
	char *big = NULL, *got, *text;
	struct names others, *rot;
	struct eventlog *l;
	size_t big_len = 0, len;
	FILE *m = open_memstream(&big, &big_len);
	gzFile gz;
	cJSON *line;

	/* crashed before compressing: a 700 kB rotated file, bigger than any copy buffer */
	for (int i = 0; i < 10000; i++)
		fprintf(m, "{\"ts\":\"2026-11-21T05:00:00.000Z\",\"event\":\"EXEC\",\"seq\":%d}\n", i);
	fclose(m);
	write_file(harness__tmp("events-20261121-050000.jsonl"), big);
	/* crashed while compressing */
	write_file(harness__tmp("events-20261121-050000.jsonl.gz.tmp"), "garbage");
	/* crashed after compressing, before removing the original */
	write_file(harness__tmp("events-20261121-040000.jsonl"), "{\"n\":1}\n");
	gz = gzopen(harness__tmp("events-20261121-040000.jsonl.gz"), "wb6");
	ASSERT(gz, "gzopen");
	gzputs(gz, "{\"n\":1}\n");
	gzclose(gz);
	/* crashed mid-line in the live file */
	write_file(harness__tmp("events.jsonl"), partial);

	l = eventlog__open(&o);
	ASSERT(l, "cannot open the event log: %s", strerror(errno));
	WRITE_OK(l, "COMPLETED", "{\"n\":2}");
	eventlog__close(l);

	rot = list_rotated(harness__tmpdir(), &others);
	CHECK_EQ(rot->n, 2);
	CHECK_EQ(others.n, 0);
	for (int i = 0; i < others.n; i++)
		CHECK(false, "leftover %s", others.v[i]);
	free(rot);
	got = gunzip(harness__tmp("events-20261121-050000.jsonl.gz"), &len);
	CHECK(got && len == big_len && !memcmp(got, big, len), "leftover compressed to %zu bytes, want %zu",
	      len, big_len);
	free(got);
	free(big);
	got = gunzip(harness__tmp("events-20261121-040000.jsonl.gz"), &len);
	CHECK_STR(got, "{\"n\":1}\n");
	free(got);

	/* the torn line is ended, so the next one parses */
	text = slurp(harness__tmp("events.jsonl"), NULL);
	CHECK_EQ(count_lines(text), 3);
	CHECK(text && !strncmp(text, partial, strlen(partial)) && text[strlen(partial)] == '\n',
	      "torn line not terminated: %s", text);
	line = parse_line(text, 2);
	if (check_head(line, "COMPLETED", "2026-11-21T06:30:00.000Z"))
		CHECK_EQ(harness__num(line, "n"), 2);
	cJSON_Delete(line);
	free(text);
}

#define WRITERS 4
#define PER_WRITER 2500

struct writer {
	struct eventlog *log;
	int id;
	int failed;
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	char json[128];

	for (int i = 0; i < PER_WRITER; i++) {
		snprintf(json, sizeof(json), "{\"writer\":%d,\"seq\":%d,\"pad\":\"%.*s\"}", w->id, i,
			 i % 40, "........................................");
		if (eventlog__write(w->log, i % 2 ? "EXIT" : "FORK", json))
			w->failed++;
	}
	return NULL;
}

TEST(eventlog_concurrent_writers_never_interleave)
{
	struct eventlog_opts o = { .dir = harness__tmpdir(), .max_bytes = 32 * 1024 };
	struct eventlog *l = eventlog__open(&o);
	struct writer w[WRITERS];
	pthread_t th[WRITERS];
	int next[WRITERS] = {}, nr_rotated = 0, bad = 0;
	char *text, *p, prev_ts[32] = "";
	size_t len;

	ASSERT(l, "cannot open the event log: %s", strerror(errno));
	for (int i = 0; i < WRITERS; i++) {
		w[i] = (struct writer){ .log = l, .id = i };
		pthread_create(&th[i], NULL, writer_main, &w[i]);
	}
	for (int i = 0; i < WRITERS; i++) {
		pthread_join(th[i], NULL);
		CHECK_EQ(w[i].failed, 0);
	}
	eventlog__close(l);

	text = all_lines(harness__tmpdir(), &len, &nr_rotated);
	ASSERT(text, "no lines");
	CHECK(nr_rotated > 10, "only %d rotations", nr_rotated);
	CHECK_EQ(count_lines(text), WRITERS * PER_WRITER);
	/* each writer's lines whole, once each, in its order; timestamps never go back */
	for (p = text; *p && bad < 5; p = strchr(p, '\n') + 1) {
		char *nl = strchr(p, '\n');
		cJSON *line = cJSON_ParseWithLength(p, nl - p);
		const cJSON *id = cJSON_GetObjectItem(line, "writer"), *seq = cJSON_GetObjectItem(line, "seq");
		const cJSON *ts = cJSON_GetObjectItem(line, "ts");

		if (!CHECK(cJSON_IsNumber(id) && cJSON_IsNumber(seq) && cJSON_IsString(ts) &&
			   id->valueint >= 0 && id->valueint < WRITERS, "bad line %.*s", (int)(nl - p), p)) {
			bad++;
		} else if (!CHECK(seq->valueint == next[id->valueint]++ && strcmp(ts->valuestring, prev_ts) >= 0,
				  "line out of order: %.*s", (int)(nl - p), p)) {
			bad++;
		} else {
			snprintf(prev_ts, sizeof(prev_ts), "%s", ts->valuestring);
		}
		cJSON_Delete(line);
	}
	for (int i = 0; i < WRITERS; i++)
		CHECK_EQ(next[i], PER_WRITER);
	free(text);
}
