/* SPDX-License-Identifier: MIT */
/* Small cJSON helpers every layer uses: typed reads with fallbacks, and builders that remember a failure. */
#ifndef JSON_H
#define JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct cJSON;

/* A non-negative number member, 0 when absent or not one. */
__u64 json__u64(const struct cJSON *o, const char *key);
/* A number as a __u64: 0 when it is not a number, not above 0 or not below 2^64. */
__u64 json__u64_of(const struct cJSON *v);
/* A string member into buf, "" when absent or not one. */
void json__str(const struct cJSON *o, const char *key, char *buf, size_t size);
/* Adds a member of ms as RFC 3339 text (2026-11-21T05:39:20.123Z), or null for 0. */
void json__time(struct cJSON *o, const char *key, __u64 ms);
/* Adds an unsigned number member. */
struct cJSON *json__add_u64(struct cJSON *o, const char *key, __u64 v);

/*
 * Builders for a document that must be whole or not at all: each turns *ok
 * false when something (the item, the container, memory) is missing, so one
 * check at the end tells.
 */
/* Adds item (taken over, deleted on failure) as key of obj; returns it or NULL. */
struct cJSON *json__add(struct cJSON *obj, const char *key, struct cJSON *item, bool *ok);
/* Appends item (taken over) to arr; returns it or NULL. */
struct cJSON *json__push(struct cJSON *arr, struct cJSON *item, bool *ok);
void json__add_str(struct cJSON *o, const char *key, const char *v, bool *ok);
void json__add_num(struct cJSON *o, const char *key, double v, bool *ok);
void json__add_bool(struct cJSON *o, const char *key, bool v, bool *ok);

#endif
