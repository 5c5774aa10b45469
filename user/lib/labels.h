/* SPDX-License-Identifier: MIT */
/* Alert identity: label sets, Alertmanager fingerprints and matchers, durations and annotation templates. */
#ifndef LABELS_H
#define LABELS_H

#include <stdbool.h>
#include <stddef.h>
#include <regex.h>
#include <linux/types.h>

#define LABELS_MAX		24
#define LABEL_NAME_LEN		64
#define LABEL_VALUE_LEN		256
#define FINGERPRINT_LEN		17	/* 16 hex digits and a NUL */

struct cJSON;

struct label {
	char name[LABEL_NAME_LEN];
	char value[LABEL_VALUE_LEN];
};

/* Kept sorted by name, names unique; an empty value means "absent", as in Prometheus. */
struct labelset {
	struct label l[LABELS_MAX];
	int n;
};

/* Sets (or replaces) name; an empty value removes it. -EINVAL bad name, -E2BIG full or too long. */
int labels__set(struct labelset *ls, const char *name, const char *value);
/* The value of name, "" when absent. */
const char *labels__get(const struct labelset *ls, const char *name);
/* A valid Prometheus label name: [a-zA-Z_][a-zA-Z0-9_]*. */
bool labels__valid_name(const char *name);
/*
 * Alertmanager's fingerprint: FNV-1a 64 over the labels sorted by name, each
 * hashed as name 0xFF value 0xFF; 16 lowercase hex digits into out.
 */
void labels__fingerprint(const struct labelset *ls, char out[FINGERPRINT_LEN]);
/* {"name": "value", ...} */
struct cJSON *labels__to_json(const struct labelset *ls);
/* From a JSON object of strings; -EINVAL (err says why) on anything else. */
int labels__from_json(const struct cJSON *obj, struct labelset *ls, char *err, size_t errlen);
bool labels__equal(const struct labelset *a, const struct labelset *b);

enum match_op { MATCH_EQ, MATCH_NE, MATCH_RE, MATCH_NRE };

/* One Alertmanager-style matcher: name="v", name!="v", name=~"re", name!~"re" (regexes anchored). */
struct matcher {
	char name[LABEL_NAME_LEN];
	enum match_op op;
	char value[LABEL_VALUE_LEN];
	regex_t re;			/* compiled for =~ and !~ */
	bool has_re;
};

/* Parses text such as agent=~"build-.*" (quotes optional); -EINVAL with a reason in err. */
int matcher__parse(struct matcher *m, const char *text, char *err, size_t errlen);
/* The matcher as text, e.g. agent=~"build-.*". */
void matcher__format(const struct matcher *m, char *buf, size_t size);
bool matcher__match(const struct matcher *m, const struct labelset *ls);
/* All of ms[0..n) match (true when n is 0). */
bool matchers__match(const struct matcher *ms, int n, const struct labelset *ls);
void matcher__free(struct matcher *m);

/*
 * Why glibc's regcomp() must not see the extended regex re (it would take
 * exponential time or memory to compile it, or it has back-references), or
 * NULL when it may. Every regex from a request or a config goes through it.
 */
const char *regex__refusal(const char *re);

/*
 * Durations as in Prometheus: "250ms", "2s", "1m30s", "4h", "1d", "0"; a
 * bare number is seconds. Milliseconds in *ms; -EINVAL when malformed.
 */
int duration__parse(const char *text, __u64 *ms);
/*
 * A duration in a JSON value: text as for duration__parse(), or a number of
 * seconds (0 to 10^12). -EINVAL for anything else.
 */
int duration__from_json(const struct cJSON *v, __u64 *ms);
/* The shortest exact text: "90s" -> "1m30s", 0 -> "0s". */
void duration__format(__u64 ms, char *buf, size_t size);

/*
 * Expands {{value}}, {{threshold}}, {{labels.NAME}} and {{NAME}} of vars
 * (name/value pairs, vars[2*i] and vars[2*i+1], nvars pairs) into out,
 * always NUL-terminated. {{value}} prints with %g unless it has a format:
 * {{value|%.1f}}. An unknown placeholder is left as written. Returns the
 * length the full result needs (like snprintf).
 */
int template__expand(const char *tmpl, const struct labelset *labels, double value, double threshold,
		     const char *const *vars, int nvars, char *out, size_t size);

#endif
