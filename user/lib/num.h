/* SPDX-License-Identifier: MIT */
/* Whole numbers from text, checked: the one strtoull-and-errno reader. */
#ifndef NUM_H
#define NUM_H

#include <linux/types.h>

/*
 * s as a whole decimal number from min to max, all of s: digits only (no
 * sign, no spaces, nothing after them). 0, -EINVAL when s is not such a
 * number, -ERANGE when it is out of bounds.
 */
int num__parse_u64(const char *s, __u64 min, __u64 max, __u64 *out);

#endif
