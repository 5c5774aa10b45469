/* SPDX-License-Identifier: MIT */
/* What the libFuzzer harnesses share: inputs as C strings or files, and checks that stop the run. */
#ifndef FUZZ_H
#define FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/*
 * A property the code must keep: a violation is a finding, reported where
 * sanitizer reports go (make fuzz closes stderr) and stopped like a crash.
 */
#define FUZZ_ASSERT(cond, ...)								\
	do {										\
		if (!(cond))								\
			fuzz__fail(__FILE__, __LINE__, #cond, __VA_ARGS__);		\
	} while (0)

void fuzz__fail(const char *file, int line, const char *cond, const char *fmt, ...)
	__attribute__((format(printf, 4, 5), noreturn));

/* The input as a NUL-terminated string (malloc'd; an embedded NUL ends it early, as in C). */
char *fuzz__cstr(const uint8_t *data, size_t size);
/*
 * The input as a file, for loaders that take a path: a memfd rewritten on
 * every call; its path (/proc/self/fd/N) stays the same.
 */
const char *fuzz__file(const uint8_t *data, size_t size);
/* With FUZZ_DEBUG set in the environment, what an input did (accepted, or why not), for checking seeds. */
void fuzz__debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Splits off the first line: returns it (NUL-terminated in place) and advances *rest past it (NULL at the end). */
char *fuzz__line(char **rest);

#endif
