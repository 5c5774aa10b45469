/* SPDX-License-Identifier: MIT */
/* One-line diagnostics on stderr, gated by verbosity: text for people, or JSON objects for log shippers. */
#ifndef LOG_H
#define LOG_H

#include <stdbool.h>

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

extern int log_verbosity;

void log_write(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* From now on each line is {"ts", "level", "msg"} (the daemon's --log-format json), else "workerwatch: ...". */
void log_set_json(bool json);

/* Arguments are not evaluated when the level is filtered out. */
#define ww_log(level, ...)						\
	do {								\
		if ((level) <= log_verbosity)				\
			log_write((level), __VA_ARGS__);		\
	} while (0)
#define ww_err(...)	ww_log(LOG_ERROR, __VA_ARGS__)
#define ww_warn(...)	ww_log(LOG_WARN, __VA_ARGS__)
#define ww_info(...)	ww_log(LOG_INFO, __VA_ARGS__)
#define ww_debug(...)	ww_log(LOG_DEBUG, __VA_ARGS__)

#endif
