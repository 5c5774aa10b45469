// SPDX-License-Identifier: MIT
/* One-line diagnostics on stderr, gated by verbosity. */
#include <stdarg.h>
#include <stdio.h>
#include "lib/log.h"

int log_verbosity = LOG_WARN;

void log_write(enum log_level level, const char *fmt, ...)
{
	static const char *const prefix[] = { "", "warning: ", "", "debug: " };
	va_list ap;

	fprintf(stderr, "workerwatch: %s", prefix[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
