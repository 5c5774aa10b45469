// SPDX-License-Identifier: MIT
/* What the libFuzzer harnesses share: inputs as C strings or files, and checks that stop the run. */
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <sanitizer/common_interface_defs.h>
#include "fuzz.h"
#include "lib/log.h"

char *fuzz__cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s) {
		memcpy(s, data, size);
		s[size] = 0;
	}
	return s;
}

const char *fuzz__file(const uint8_t *data, size_t size)
{
	static char path[64];
	static int fd = -1;

	if (fd < 0) {
		fd = memfd_create("fuzz-input", 0);
		if (fd < 0) {
			perror("fuzz: memfd_create");
			abort();
		}
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) || pwrite(fd, data, size, 0) != (ssize_t)size) {
		perror("fuzz: cannot write the input file");
		abort();
	}
	return path;
}

char *fuzz__line(char **rest)
{
	char *line = *rest, *nl;

	if (!line)
		return NULL;
	nl = strchr(line, '\n');
	if (nl)
		*nl++ = 0;
	*rest = nl;
	return line;
}

void fuzz__fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
	char msg[1024];
	int n;
	va_list ap;

	n = snprintf(msg, sizeof(msg), "fuzz: %s:%d: %s: ", file, line, cond);
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - n, fmt, ap);
	va_end(ap);
	__sanitizer_report_error_summary(msg);
	abort();
}

void fuzz__debug(const char *fmt, ...)
{
	static int on = -1;
	va_list ap;

	if (on < 0)
		on = getenv("FUZZ_DEBUG") != NULL;
	if (!on)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Every diagnostic is formatted (a bad format argument is a finding too); make fuzz sends them to /dev/null. */
__attribute__((constructor)) static void fuzz_log_all(void)
{
	log_verbosity = LOG_DEBUG;
}
