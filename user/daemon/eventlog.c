// SPDX-License-Identifier: MIT
/* The daemon's event log: JSON Lines in DIR/events.jsonl, rotated by size and day, gzipped, expired. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include <cjson/cJSON.h>
#include "lib/log.h"
#include "daemon/eventlog.h"

#define LIVE_NAME	"events.jsonl"
#define NS_PER_SEC	1000000000ULL
#define SECS_PER_DAY	86400
#define KIND_MAX	31
/* Deeper caller JSON is rejected rather than risk the validator's stack. */
#define JSON_MAX_DEPTH	256
#define COPY_BUF	(64 * 1024)
/* "events-YYYYMMDD-HHMMSS" "-N" ".jsonl.gz.tmp" */
#define ROTATED_NAME_LEN 64

struct eventlog {
	pthread_mutex_t lock;
	char *dir;
	int dirfd;
	int fd;			/* the live file, O_APPEND */
	__u64 size;		/* of the live file */
	__s64 day;		/* UTC day (since the epoch) the live file's lines belong to */
	__u64 max_bytes;
	int retention_days;
	__u64 (*now_fn)(void *ctx);
	void *now_ctx;
	char *buf;		/* the line being written */
	size_t cap;
	/* the last rotation's stamp and -N suffix, to skip names already taken */
	time_t last_rot_secs;
	unsigned int last_rot_n;
	bool rotate_failing;	/* logged once until a rotation succeeds */
	char *host_member;	/* "host":"NAME" (JSON-escaped) after the event's kind, NULL: none */
};

static __u64 now_ns(const struct eventlog *l)
{
	struct timespec ts;

	if (l->now_fn)
		return l->now_fn(l->now_ctx);
	clock_gettime(CLOCK_REALTIME, &ts);
	return (__u64)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

static __s64 day_of_secs(__s64 secs)
{
	return secs >= 0 ? secs / SECS_PER_DAY : -((-secs + SECS_PER_DAY - 1) / SECS_PER_DAY);
}

/* --- validation of the caller's input ------------------------------------------------ */

static bool kind_ok(const char *kind)
{
	size_t n;

	if (!kind || kind[0] < 'A' || kind[0] > 'Z')
		return false;
	for (n = 0; kind[n]; n++) {
		char c = kind[n];

		if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
			return false;
	}
	return n <= KIND_MAX;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int hex_val(char c)
{
	return is_digit(c) ? c - '0' : (c | 0x20) - 'a' + 10;
}

static void skip_ws(const char **pp)
{
	while (**pp == ' ' || **pp == '\t' || **pp == '\n' || **pp == '\r')
		(*pp)++;
}

/* Length of the well-formed UTF-8 sequence at s (s[0] >= 0x80), 0 if there is none. */
static int utf8_len(const unsigned char *s)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;

	if (c >= 0xc2 && c <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		/* no overlong forms, no UTF-16 surrogates */
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
		return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 ? 3 : 0;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		/* no overlong forms, nothing above U+10FFFF */
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
		return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 &&
		       (s[3] & 0xc0) == 0x80 ? 4 : 0;
	}
	return 0;
}

/* Scans a string at *pp ('"'); its raw contents are [*start, *start + *len). */
static bool scan_string(const char **pp, const char **start, size_t *len)
{
	const char *p = *pp + 1;

	*start = p;
	for (;;) {
		unsigned char c = *p;

		if (c == '"')
			break;
		if (c < 0x20)	/* control characters and the end of the text */
			return false;
		if (c == '\\') {
			p++;
			if (*p == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!is_hex(p[i]))
						return false;
				p += 5;
			} else if (*p && strchr("\"\\/bfnrt", *p)) {
				p++;
			} else {
				return false;
			}
		} else if (c >= 0x80) {
			int n = utf8_len((const unsigned char *)p);

			if (!n)
				return false;
			p += n;
		} else {
			p++;
		}
	}
	*len = p - *start;
	*pp = p + 1;
	return true;
}

/* Whether the raw (still escaped) string contents decode to the ASCII text want. */
static bool string_is(const char *s, size_t len, const char *want)
{
	const char *end = s + len;

	while (s < end) {
		int c = (unsigned char)*s++;

		if (c == '\\') {
			c = *s++;
			if (c == 'u') {
				c = 0;
				for (int i = 0; i < 4; i++)
					c = c * 16 + hex_val(*s++);
			} else {
				const char *esc = strchr("\"\"\\\\//b\bf\fn\nr\rt\t", c);

				c = esc ? esc[1] : c;
			}
		}
		if (!*want || c != (unsigned char)*want++)
			return false;
	}
	return !*want;
}

static bool scan_number(const char **pp)
{
	const char *p = *pp;

	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (is_digit(*p))
			p++;
	else
		return false;
	if (*p == '.') {
		if (!is_digit(*++p))
			return false;
		while (is_digit(*p))
			p++;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!is_digit(*p))
			return false;
		while (is_digit(*p))
			p++;
	}
	*pp = p;
	return true;
}

static bool scan_value(const char **pp, int depth);

/* Scans an object at *pp ('{'); at the top level the reserved keys are refused. */
static bool scan_object(const char **pp, int depth, bool top)
{
	const char *p = *pp + 1, *key;
	size_t key_len;

	skip_ws(&p);
	if (*p == '}') {
		*pp = p + 1;
		return true;
	}
	for (;;) {
		skip_ws(&p);
		if (*p != '"' || !scan_string(&p, &key, &key_len))
			return false;
		if (top && (string_is(key, key_len, "ts") || string_is(key, key_len, "event")))
			return false;
		skip_ws(&p);
		if (*p++ != ':')
			return false;
		skip_ws(&p);
		if (!scan_value(&p, depth + 1))
			return false;
		skip_ws(&p);
		if (*p == '}') {
			*pp = p + 1;
			return true;
		}
		if (*p++ != ',')
			return false;
	}
}

static bool scan_array(const char **pp, int depth)
{
	const char *p = *pp + 1;

	skip_ws(&p);
	if (*p == ']') {
		*pp = p + 1;
		return true;
	}
	for (;;) {
		skip_ws(&p);
		if (!scan_value(&p, depth + 1))
			return false;
		skip_ws(&p);
		if (*p == ']') {
			*pp = p + 1;
			return true;
		}
		if (*p++ != ',')
			return false;
	}
}

static bool scan_literal(const char **pp, const char *word)
{
	size_t n = strlen(word);

	if (strncmp(*pp, word, n))
		return false;
	*pp += n;
	return true;
}

static bool scan_value(const char **pp, int depth)
{
	const char *start, *p = *pp;
	size_t len;
	bool ok;

	if (depth > JSON_MAX_DEPTH)
		return false;
	switch (*p) {
	case '{':
		ok = scan_object(&p, depth, false);
		break;
	case '[':
		ok = scan_array(&p, depth);
		break;
	case '"':
		ok = scan_string(&p, &start, &len);
		break;
	case 't':
		ok = scan_literal(&p, "true");
		break;
	case 'f':
		ok = scan_literal(&p, "false");
		break;
	case 'n':
		ok = scan_literal(&p, "null");
		break;
	default:
		ok = scan_number(&p);
		break;
	}
	if (ok)
		*pp = p;
	return ok;
}

/*
 * Checks that text is exactly one JSON object on one line and finds its
 * members between the outer braces, surrounding blanks trimmed.
 */
static int object_members(const char *text, const char **members, size_t *len)
{
	const char *p = text, *open, *end;

	if (strpbrk(text, "\n\r"))
		return -EINVAL;
	skip_ws(&p);
	open = p;
	if (*p != '{' || !scan_object(&p, 1, true))
		return -EINVAL;
	end = p - 1;	/* the closing brace */
	skip_ws(&p);
	if (*p)
		return -EINVAL;
	p = open + 1;
	skip_ws(&p);
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	*members = p;
	*len = end - p;
	return 0;
}

/* --- rotated file names --------------------------------------------------------------- */

enum rotated_kind { ROTATED_PLAIN, ROTATED_GZ };

static bool digits(const char *p, int n, int *val)
{
	*val = 0;
	for (int i = 0; i < n; i++) {
		if (!is_digit(p[i]))
			return false;
		*val = *val * 10 + (p[i] - '0');
	}
	return true;
}

/*
 * Whether name is one of ours, events-YYYYMMDD-HHMMSS[-N].jsonl[.gz] with a
 * real date and time; *secs is that time.
 */
static bool parse_rotated(const char *name, time_t *secs, enum rotated_kind *kind)
{
	int year, mon, mday, hour, min, sec;
	const char *p = name + 7;
	struct tm tm = {}, back;
	time_t t;

	if (strncmp(name, "events-", 7) ||
	    !digits(p, 4, &year) || !digits(p + 4, 2, &mon) || !digits(p + 6, 2, &mday) ||
	    p[8] != '-' ||
	    !digits(p + 9, 2, &hour) || !digits(p + 11, 2, &min) || !digits(p + 13, 2, &sec))
		return false;
	p += 15;
	if (*p == '-') {
		int n = 0;

		if (*++p < '1' || *p > '9')
			return false;
		while (is_digit(*p) && n++ < 9)
			p++;
	}
	if (!strcmp(p, ".jsonl"))
		*kind = ROTATED_PLAIN;
	else if (!strcmp(p, ".jsonl.gz"))
		*kind = ROTATED_GZ;
	else
		return false;
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = mday;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	t = timegm(&tm);
	/* timegm normalises 2026-13-40 (in tm too); a real date survives the round trip */
	if (t == (time_t)-1 || !gmtime_r(&t, &back) || back.tm_year != year - 1900 ||
	    back.tm_mon != mon - 1 || back.tm_mday != mday || back.tm_hour != hour ||
	    back.tm_min != min || back.tm_sec != sec)
		return false;
	*secs = t;
	return true;
}

static bool is_regular_at(int dirfd, const char *name)
{
	struct stat st;

	return !fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) && S_ISREG(st.st_mode);
}

static bool exists_at(int dirfd, const char *name)
{
	struct stat st;

	return !fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) || errno != ENOENT;
}

/* --- compression and retention ---------------------------------------------------------- */

static int gz_err(gzFile gz, int fallback)
{
	int zerr = Z_OK;

	gzerror(gz, &zerr);
	return zerr == Z_ERRNO && errno ? -errno : fallback;
}

/*
 * Compresses the rotated file name into name.gz: written to name.gz.tmp,
 * synced, renamed, and only then is name removed, so a crash at any point
 * leaves the lines in name or name.gz (and a rerun redoes the whole thing).
 */
static int compress_rotated(struct eventlog *l, const char *name)
{
	char tmp[ROTATED_NAME_LEN + 8], gz_name[ROTATED_NAME_LEN + 8];
	int src = -1, out = -1, sync_fd = -1, err = 0;
	bool made_tmp = false;
	gzFile gz = NULL;
	char *buf = NULL;
	ssize_t n;

	snprintf(tmp, sizeof(tmp), "%s.gz.tmp", name);
	snprintf(gz_name, sizeof(gz_name), "%s.gz", name);
	buf = malloc(COPY_BUF);
	if (!buf) {
		err = -ENOMEM;
		goto cleanup;
	}
	src = openat(l->dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (src < 0) {
		err = -errno;
		goto cleanup;
	}
	out = openat(l->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (out < 0) {
		err = -errno;
		goto cleanup;
	}
	made_tmp = true;
	/* gzclose closes out; a second descriptor lets us fsync after it */
	sync_fd = fcntl(out, F_DUPFD_CLOEXEC, 0);
	if (sync_fd < 0) {
		err = -errno;
		goto cleanup;
	}
	gz = gzdopen(out, "wb6");
	if (!gz) {
		err = -ENOMEM;
		goto cleanup;
	}
	out = -1;
	while ((n = read(src, buf, COPY_BUF)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto cleanup;
		}
		if (gzwrite(gz, buf, n) != n) {
			err = gz_err(gz, -EIO);
			goto cleanup;
		}
	}
	err = gzclose(gz);
	gz = NULL;
	if (err != Z_OK) {
		err = err == Z_ERRNO && errno ? -errno : -EIO;
		goto cleanup;
	}
	if (fsync(sync_fd) || renameat(l->dirfd, tmp, l->dirfd, gz_name) || fsync(l->dirfd)) {
		err = -errno;
		goto cleanup;
	}
	if (unlinkat(l->dirfd, name, 0))
		err = -errno;
cleanup:
	if (gz)
		gzclose(gz);
	if (err && made_tmp)
		unlinkat(l->dirfd, tmp, 0);
	if (out >= 0)
		close(out);
	if (sync_fd >= 0)
		close(sync_fd);
	if (src >= 0)
		close(src);
	free(buf);
	return err;
}

/* Calls fn on every regular file of the directory named like a rotated file of kind. */
static void for_each_rotated(struct eventlog *l, enum rotated_kind kind, __u64 now,
			     void (*fn)(struct eventlog *l, const char *name, time_t secs, __u64 now))
{
	struct dirent *de;
	enum rotated_kind k;
	time_t secs;
	DIR *d;
	int fd;

	/* a descriptor of its own: fdopendir would share dirfd's offset */
	fd = openat(l->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || !(d = fdopendir(fd))) {
		ww_warn("cannot list event log directory %s: %s", l->dir, strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d)))
		if (parse_rotated(de->d_name, &secs, &k) && k == kind &&
		    is_regular_at(l->dirfd, de->d_name))
			fn(l, de->d_name, secs, now);
	closedir(d);
}

static void compress_one(struct eventlog *l, const char *name, time_t secs, __u64 now)
{
	int err = compress_rotated(l, name);

	(void)secs;
	(void)now;
	if (err && err != -ENOENT)
		ww_warn("cannot compress %s/%s (kept uncompressed): %s", l->dir, name, strerror(-err));
}

static void expire_one(struct eventlog *l, const char *name, time_t secs, __u64 now)
{
	__s64 age = (__s64)(now / NS_PER_SEC) - (__s64)secs;

	if (age > (__s64)l->retention_days * SECS_PER_DAY &&
	    unlinkat(l->dirfd, name, 0) && errno != ENOENT)
		ww_warn("cannot delete expired %s/%s: %s", l->dir, name, strerror(errno));
}

/* Compresses rotated files still uncompressed, then deletes expired ones. */
static void tidy_rotated(struct eventlog *l, __u64 now)
{
	for_each_rotated(l, ROTATED_PLAIN, now, compress_one);
	for_each_rotated(l, ROTATED_GZ, now, expire_one);
}

/* --- the live file ------------------------------------------------------------------------ */

/* Writes all of buf with O_APPEND; on failure takes back a partial line. */
static int append(int fd, const char *buf, size_t len)
{
	size_t done = 0;
	struct stat st;
	int err;

	while (done < len) {
		ssize_t n = write(fd, buf + done, len - done);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			if (done && !fstat(fd, &st) && (__u64)st.st_size >= done)
				(void)!ftruncate(fd, st.st_size - done);
			return err;
		}
		done += n;
	}
	return 0;
}

/*
 * The UTC day of the lines already in the live file: the date of its first
 * line's ts, or its mtime when that cannot be read. Also ends a line a crash
 * left unterminated, so the next line stays parseable.
 */
static __s64 adopt_live_file(struct eventlog *l, const struct stat *st)
{
	static const char prefix[] = "{\"ts\":\"";
	char head[32], last;
	int year, mon, mday;
	ssize_t n;

	if (pread(l->fd, &last, 1, st->st_size - 1) == 1 && last != '\n' &&
	    !append(l->fd, "\n", 1))
		l->size++;
	n = pread(l->fd, head, sizeof(head) - 1, 0);
	if (n >= (ssize_t)(sizeof(prefix) - 1 + 10) && !memcmp(head, prefix, sizeof(prefix) - 1)) {
		const char *d = head + sizeof(prefix) - 1;
		struct tm tm = {};

		if (digits(d, 4, &year) && d[4] == '-' && digits(d + 5, 2, &mon) && d[7] == '-' &&
		    digits(d + 8, 2, &mday)) {
			tm.tm_year = year - 1900;
			tm.tm_mon = mon - 1;
			tm.tm_mday = mday;
			return day_of_secs(timegm(&tm));
		}
	}
	return day_of_secs(st->st_mtime);
}

static int open_live(struct eventlog *l)
{
	return openat(l->dirfd, LIVE_NAME, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

/*
 * Renames the live file to events-YYYYMMDD-HHMMSS[-N].jsonl (never over an
 * existing file), starts a new one, then compresses and expires.
 */
static int rotate(struct eventlog *l, __u64 now)
{
	char stamp[32], name[ROTATED_NAME_LEN];
	time_t secs = now / NS_PER_SEC;
	unsigned int n;
	struct stat st;
	struct tm tm;
	int fd, err;

	gmtime_r(&secs, &tm);
	strftime(stamp, sizeof(stamp), "events-%Y%m%d-%H%M%S", &tm);
	for (n = secs == l->last_rot_secs ? l->last_rot_n + 1 : 0;; n++) {
		char gz_name[ROTATED_NAME_LEN + 4];

		if (n > 1000000)
			return -EEXIST;
		if (n)
			snprintf(name, sizeof(name), "%s-%u.jsonl", stamp, n);
		else
			snprintf(name, sizeof(name), "%s.jsonl", stamp);
		snprintf(gz_name, sizeof(gz_name), "%s.gz", name);
		if (exists_at(l->dirfd, gz_name))
			continue;
		if (!renameat2(l->dirfd, LIVE_NAME, l->dirfd, name, RENAME_NOREPLACE))
			break;
		if (errno == EEXIST)
			continue;
		/* file systems without RENAME_NOREPLACE: checked just above, good enough */
		if (errno != EINVAL)
			return -errno;
		if (exists_at(l->dirfd, name))
			continue;
		if (!renameat(l->dirfd, LIVE_NAME, l->dirfd, name))
			break;
		return -errno;
	}
	fd = open_live(l);
	if (fd < 0 || fstat(fd, &st)) {
		err = -errno;
		/* keep writing to the old file under its old name */
		if (fd >= 0)
			close(fd);
		if (renameat2(l->dirfd, name, l->dirfd, LIVE_NAME, RENAME_NOREPLACE))
			ww_warn("cannot rename %s/%s back to %s: %s", l->dir, name, LIVE_NAME,
				strerror(errno));
		return err;
	}
	close(l->fd);
	l->fd = fd;
	l->size = st.st_size;
	l->day = day_of_secs(secs);
	l->last_rot_secs = secs;
	l->last_rot_n = n;
	tidy_rotated(l, now);
	return 0;
}

static int reserve(struct eventlog *l, size_t need)
{
	char *buf;

	if (need <= l->cap)
		return 0;
	buf = realloc(l->buf, need);
	if (!buf)
		return -ENOMEM;
	l->buf = buf;
	l->cap = need;
	return 0;
}

int eventlog__write(struct eventlog *l, const char *kind, const char *json_object)
{
	const char *members = "";
	size_t members_len = 0, len;
	__u64 now;
	time_t secs;
	struct tm tm;
	int err;

	if (!l || !kind_ok(kind))
		return -EINVAL;
	if (json_object) {
		err = object_members(json_object, &members, &members_len);
		if (err)
			return err;
	}
	pthread_mutex_lock(&l->lock);
	/* under the lock, so the lines' timestamps are in file order */
	now = now_ns(l);
	secs = now / NS_PER_SEC;
	/* {"ts":"2026-11-21T06:20:01.123Z","event":"KIND","host":"NAME",members}\n */
	err = reserve(l, 64 + KIND_MAX + (l->host_member ? strlen(l->host_member) + 1 : 0) + members_len);
	if (err)
		goto unlock;
	gmtime_r(&secs, &tm);
	len = strftime(l->buf, l->cap, "{\"ts\":\"%Y-%m-%dT%H:%M:%S", &tm);
	len += snprintf(l->buf + len, l->cap - len, ".%03uZ\",\"event\":\"%s\"%s%s%s",
			(unsigned int)(now % NS_PER_SEC / 1000000), kind, l->host_member ? "," : "",
			l->host_member ? l->host_member : "", members_len ? "," : "");
	memcpy(l->buf + len, members, members_len);
	len += members_len;
	l->buf[len++] = '}';
	l->buf[len++] = '\n';

	if (l->size && (l->size + len > l->max_bytes || day_of_secs(secs) != l->day)) {
		err = rotate(l, now);
		if (err && !l->rotate_failing)
			ww_warn("cannot rotate %s/%s (still writing to it): %s", l->dir, LIVE_NAME,
				strerror(-err));
		l->rotate_failing = err != 0;
	}
	if (!l->size)
		l->day = day_of_secs(secs);
	err = append(l->fd, l->buf, len);
	if (!err)
		l->size += len;
unlock:
	pthread_mutex_unlock(&l->lock);
	return err;
}

int eventlog__flush(struct eventlog *l)
{
	int err = 0;

	if (!l)
		return -EINVAL;
	pthread_mutex_lock(&l->lock);
	if (fsync(l->fd) || fsync(l->dirfd))
		err = -errno;
	pthread_mutex_unlock(&l->lock);
	return err;
}

/* mkdir -p with mode 0750 for what it creates. */
static int make_dirs(const char *path, char *failed, size_t size)
{
	char *p, *copy = strdup(path);
	struct stat st;
	int err = 0;

	if (!copy)
		return -ENOMEM;
	for (p = copy + 1;; p++) {
		bool last = !*p;

		if (*p != '/' && !last)
			continue;
		*p = 0;
		/* an existing directory may still fail with EROFS or EACCES */
		if (mkdir(copy, 0750) && errno != EEXIST) {
			err = -errno;
			if (stat(copy, &st) || !S_ISDIR(st.st_mode)) {
				snprintf(failed, size, "%s", copy);
				break;
			}
			err = 0;
		}
		if (last)
			break;
		*p = '/';
	}
	free(copy);
	return err;
}

struct eventlog *eventlog__open(const struct eventlog_opts *opts)
{
	struct eventlog *l = NULL;
	char failed[4096];
	struct stat st;
	int err = 0;

	if (!opts || !opts->dir || !*opts->dir || opts->retention_days < 0) {
		ww_err("event log: %s", !opts || !opts->dir || !*opts->dir ?
		       "no directory given" : "retention must be a positive number of days");
		errno = EINVAL;
		return NULL;
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		err = -ENOMEM;
		ww_err("out of memory");
		goto cleanup;
	}
	l->fd = l->dirfd = -1;
	l->max_bytes = opts->max_bytes ? opts->max_bytes : EVENTLOG_DEFAULT_MAX_BYTES;
	l->retention_days = opts->retention_days ? opts->retention_days
						 : EVENTLOG_DEFAULT_RETENTION_DAYS;
	l->now_fn = opts->now_fn;
	l->now_ctx = opts->now_ctx;
	l->last_rot_secs = -1;
	l->dir = strdup(opts->dir);
	if (!l->dir) {
		err = -ENOMEM;
		ww_err("out of memory");
		goto cleanup;
	}
	err = make_dirs(l->dir, failed, sizeof(failed));
	if (err) {
		ww_err("cannot create event log directory %s: %s", failed, strerror(-err));
		goto cleanup;
	}
	l->dirfd = open(l->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (l->dirfd < 0) {
		err = -errno;
		ww_err("cannot open event log directory %s: %s", l->dir, strerror(-err));
		goto cleanup;
	}
	l->fd = open_live(l);
	if (l->fd < 0 || fstat(l->fd, &st)) {
		err = -errno;
		ww_err("cannot open event log %s/%s: %s", l->dir, LIVE_NAME, strerror(-err));
		goto cleanup;
	}
	if (!S_ISREG(st.st_mode)) {
		err = -EINVAL;
		ww_err("event log %s/%s is not a regular file", l->dir, LIVE_NAME);
		goto cleanup;
	}
	l->size = st.st_size;
	l->day = l->size ? adopt_live_file(l, &st) : day_of_secs(now_ns(l) / NS_PER_SEC);
	err = -pthread_mutex_init(&l->lock, NULL);
	if (err) {
		ww_err("cannot initialise the event log's lock: %s", strerror(-err));
		goto cleanup;
	}
	tidy_rotated(l, now_ns(l));
cleanup:
	if (err) {
		if (l) {
			if (l->fd >= 0)
				close(l->fd);
			if (l->dirfd >= 0)
				close(l->dirfd);
			free(l->dir);
			free(l);
		}
		errno = -err;
		return NULL;
	}
	return l;
}

int eventlog__set_host(struct eventlog *l, const char *host)
{
	cJSON *name = host ? cJSON_CreateString(host) : NULL;
	char *quoted = name ? cJSON_PrintUnformatted(name) : NULL, *member = NULL;

	cJSON_Delete(name);
	if (host && (!quoted || asprintf(&member, "\"host\":%s", quoted) < 0)) {
		free(quoted);
		return -ENOMEM;
	}
	free(quoted);
	pthread_mutex_lock(&l->lock);
	free(l->host_member);
	l->host_member = member;
	pthread_mutex_unlock(&l->lock);
	return 0;
}

void eventlog__close(struct eventlog *l)
{
	if (!l)
		return;
	free(l->host_member);
	close(l->fd);
	close(l->dirfd);
	pthread_mutex_destroy(&l->lock);
	free(l->buf);
	free(l->dir);
	free(l);
}
