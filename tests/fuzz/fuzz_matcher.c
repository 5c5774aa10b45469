// SPDX-License-Identifier: MIT
/* libFuzzer harness: the label matcher (parse, format, parse again, match) on arbitrary text and labels. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz.h"
#include "lib/labels.h"

/*
 * Input: the matcher's text on the first line, then "name=value" lines that
 * make the label set it is matched against (values may be empty or huge).
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz__cstr(data, size), *nl, *line, *save = NULL;
	struct matcher m, again;
	struct labelset ls = { .n = 0 };
	char err[160], formatted[1024];

	if (!text)
		return 0;
	nl = strchr(text, '\n');
	if (nl)
		*nl++ = 0;
	for (line = nl ? strtok_r(nl, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');

		if (eq)
			*eq++ = 0;
		/* refusals (bad name, too long, full) are part of what is fuzzed */
		labels__set(&ls, line, eq ? eq : "");
	}
	if (!matcher__parse(&m, text, err, sizeof(err))) {
		bool hit = matcher__match(&m, &ls);

		/* what the API shows must read back as the same matcher, with the same verdict */
		matcher__format(&m, formatted, sizeof(formatted));
		FUZZ_ASSERT(!matcher__parse(&again, formatted, err, sizeof(err)), "'%s' does not parse back: %s",
			    formatted, err);
		FUZZ_ASSERT(!strcmp(m.name, again.name) && m.op == again.op && !strcmp(m.value, again.value),
			    "'%s' parses back as another matcher", formatted);
		FUZZ_ASSERT(matcher__match(&again, &ls) == hit, "'%s' matches differently once formatted", formatted);
		FUZZ_ASSERT(matchers__match(&m, 1, &ls) == hit, "matchers__match disagrees with matcher__match");
		matcher__free(&again);
		matcher__free(&m);
		matcher__free(&m);	/* destructors are idempotent */
	} else {
		FUZZ_ASSERT(err[0], "matcher__parse failed without a reason");
		FUZZ_ASSERT(!m.has_re, "a refused matcher keeps a compiled regex");
	}
	free(text);
	return 0;
}
