// SPDX-License-Identifier: MIT
/* One-line diagnostics on stderr, gated by verbosity: text for people, or JSON objects for log shippers. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "lib/log.h"

int log_verbosity = LOG_WARN;
static bool log_json;

void log_set_json(bool json)
{
	log_json = json;
}

/* The message as a JSON string's content: quotes, backslashes and control characters escaped. */
static void put_escaped(const char *s, FILE *out)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", out);
		else if (c == '\t')
			fputs("\\t", out);
		else if (c < 0x20 || c == 0x7f)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
}

/* {"ts":"2026-11-21T06:20:01.123Z","level":"warning","msg":"..."}: one write, so lines of threads do not mix. */
static void write_json(enum log_level level, const char *msg)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	char *line = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&line, &len);
	struct timespec ts;
	struct tm tm;
	char when[32];

	if (!out) {
		fprintf(stderr, "workerwatch: %s\n", msg);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(out, "{\"ts\":\"%s.%03ldZ\",\"level\":\"%s\",\"msg\":\"", when, ts.tv_nsec / 1000000, names[level]);
	put_escaped(msg, out);
	fputs("\"}\n", out);
	fclose(out);
	fwrite(line, 1, len, stderr);
	free(line);
}

void log_write(enum log_level level, const char *fmt, ...)
{
	static const char *const prefix[] = { "", "warning: ", "", "debug: " };
	char *msg = NULL;
	va_list ap;

	/* whole, however long: a verifier log at -v is many kilobytes */
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (log_json)
		write_json(level, msg ? msg : fmt);
	else
		fprintf(stderr, "workerwatch: %s%s\n", prefix[level], msg ? msg : fmt);
	free(msg);
}
