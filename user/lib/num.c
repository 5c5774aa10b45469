// SPDX-License-Identifier: MIT
/* Whole numbers from text, checked: the one strtoull-and-errno reader. */
#include <errno.h>
#include <stdlib.h>
#include "lib/num.h"

int num__parse_u64(const char *s, __u64 min, __u64 max, __u64 *out)
{
	unsigned long long v;
	char *end;

	/* strtoull would take spaces, a sign (and negate), or nothing at all */
	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE || v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}
