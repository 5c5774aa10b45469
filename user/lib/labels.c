// SPDX-License-Identifier: MIT
/* Alert identity: label sets, Alertmanager fingerprints and matchers, durations and annotation templates. */
#include <errno.h>
#include <math.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "lib/labels.h"

#define FNV64_OFFSET	14695981039346656037ULL
#define FNV64_PRIME	1099511628211ULL

bool labels__valid_name(const char *name)
{
	if (!name || !(*name == '_' || (*name >= 'a' && *name <= 'z') || (*name >= 'A' && *name <= 'Z')))
		return false;
	for (const char *c = name + 1; *c; c++)
		if (!(*c == '_' || (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9')))
			return false;
	return true;
}

/* Index of name, or of the first label after it (then *found is false). */
static int labels__find(const struct labelset *ls, const char *name, bool *found)
{
	int lo = 0, hi = ls->n;

	while (lo < hi) {
		int mid = (lo + hi) / 2, c = strcmp(ls->l[mid].name, name);

		if (!c) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

int labels__set(struct labelset *ls, const char *name, const char *value)
{
	bool found;
	int i;

	if (!labels__valid_name(name))
		return -EINVAL;
	if (!value)
		value = "";
	if (strlen(name) >= LABEL_NAME_LEN || strlen(value) >= LABEL_VALUE_LEN)
		return -E2BIG;
	i = labels__find(ls, name, &found);
	if (found) {
		if (*value) {
			strcpy(ls->l[i].value, value);
		} else {
			/* An empty value is an absent label, as in Prometheus. */
			memmove(&ls->l[i], &ls->l[i + 1], (ls->n - i - 1) * sizeof(ls->l[0]));
			ls->n--;
		}
		return 0;
	}
	if (!*value)
		return 0;
	if (ls->n >= LABELS_MAX)
		return -E2BIG;
	memmove(&ls->l[i + 1], &ls->l[i], (ls->n - i) * sizeof(ls->l[0]));
	strcpy(ls->l[i].name, name);
	strcpy(ls->l[i].value, value);
	ls->n++;
	return 0;
}

const char *labels__get(const struct labelset *ls, const char *name)
{
	bool found;
	int i;

	if (!ls || !name)
		return "";
	i = labels__find(ls, name, &found);
	return found ? ls->l[i].value : "";
}

static __u64 fnv1a(__u64 h, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= FNV64_PRIME;
	}
	return h;
}

void labels__fingerprint(const struct labelset *ls, char out[FINGERPRINT_LEN])
{
	static const char sep = (char)0xff;
	__u64 h = FNV64_OFFSET;

	/* The set is kept sorted by name, the order Alertmanager hashes in. */
	for (int i = 0; i < ls->n; i++) {
		h = fnv1a(h, ls->l[i].name, strlen(ls->l[i].name));
		h = fnv1a(h, &sep, 1);
		h = fnv1a(h, ls->l[i].value, strlen(ls->l[i].value));
		h = fnv1a(h, &sep, 1);
	}
	snprintf(out, FINGERPRINT_LEN, "%016llx", (unsigned long long)h);
}

struct cJSON *labels__to_json(const struct labelset *ls)
{
	cJSON *obj = cJSON_CreateObject();

	if (!obj)
		return NULL;
	for (int i = 0; i < ls->n; i++) {
		if (!cJSON_AddStringToObject(obj, ls->l[i].name, ls->l[i].value)) {
			cJSON_Delete(obj);
			return NULL;
		}
	}
	return obj;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	/* Names and values come from users: keep the message on one line. */
	for (char *c = err; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = ' ';
}

int labels__from_json(const struct cJSON *obj, struct labelset *ls, char *err, size_t errlen)
{
	const cJSON *it;
	int ret;

	ls->n = 0;
	if (!cJSON_IsObject(obj)) {
		set_err(err, errlen, "labels must be an object of strings");
		return -EINVAL;
	}
	cJSON_ArrayForEach(it, obj) {
		if (!labels__valid_name(it->string)) {
			set_err(err, errlen, "label name '%.64s' is not valid ([a-zA-Z_][a-zA-Z0-9_]*)",
				it->string ? it->string : "");
			return -EINVAL;
		}
		if (!cJSON_IsString(it)) {
			set_err(err, errlen, "label %.64s must be a string", it->string);
			return -EINVAL;
		}
		if (strlen(it->string) >= LABEL_NAME_LEN || strlen(it->valuestring) >= LABEL_VALUE_LEN) {
			set_err(err, errlen, "label %.64s is too long (names up to %d, values up to %d bytes)",
				it->string, LABEL_NAME_LEN - 1, LABEL_VALUE_LEN - 1);
			return -EINVAL;
		}
		ret = labels__set(ls, it->string, it->valuestring);
		if (ret) {
			set_err(err, errlen, "more than %d labels", LABELS_MAX);
			return -EINVAL;
		}
	}
	return 0;
}

bool labels__equal(const struct labelset *a, const struct labelset *b)
{
	if (a->n != b->n)
		return false;
	for (int i = 0; i < a->n; i++)
		if (strcmp(a->l[i].name, b->l[i].name) || strcmp(a->l[i].value, b->l[i].value))
			return false;
	return true;
}

static const char *const match_op_names[] = { "=", "!=", "=~", "!~" };

static const char *skip_space(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	return s;
}

/*
 * Unescapes a value the way Alertmanager's matcher parser does: \" \\ and \n
 * are escapes, any other backslash stays literal (so regexes like a\.b work).
 */
static int matcher__value(const char *s, char *out, size_t size, char *err, size_t errlen)
{
	bool quoted = *s == '"';
	const char *end;
	size_t n = 0;

	if (quoted) {
		s++;
		end = s + strlen(s);
	} else {
		/* Unquoted: the rest, less trailing blanks. */
		end = s + strlen(s);
		while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
			end--;
	}
	for (const char *c = s; c < end; c++) {
		char ch = *c;

		if (ch == '\\' && c + 1 < end) {
			c++;
			if (*c == 'n') {
				ch = '\n';
			} else if (*c == '"' || *c == '\\') {
				ch = *c;
			} else {
				if (n + 1 >= size)
					goto too_long;
				out[n++] = '\\';
				ch = *c;
			}
		} else if (ch == '"') {
			if (!quoted) {
				set_err(err, errlen, "unescaped '\"' in an unquoted value");
				return -EINVAL;
			}
			if (*skip_space(c + 1)) {
				set_err(err, errlen, "unexpected text after the closing quote");
				return -EINVAL;
			}
			out[n] = 0;
			return 0;
		}
		if (n + 1 >= size)
			goto too_long;
		out[n++] = ch;
	}
	if (quoted) {
		set_err(err, errlen, "unterminated quoted value");
		return -EINVAL;
	}
	out[n] = 0;
	return 0;
too_long:
	set_err(err, errlen, "value longer than %zu bytes", size - 1);
	return -EINVAL;
}

/*
 * Regexes glibc's regcomp() takes exponential time (and memory) to compile,
 * refused before it sees them: it runs under the daemon's lock for PUT
 * /api/v1/rules and POST /api/v1/silences. Two shapes, both found by the
 * matcher fuzzer:
 * - Spelled-out repetitions: x+ is compiled as xx*, x{2,5} as five copies of
 *   x, so stacked or nested ones multiply (18 '+' after a letter: 2 s).
 *   The size regcomp will build is estimated the same way and capped at
 *   REGEX_MAX_COST nodes (about 100 ms).
 * - A repetition of something that can match the empty string, such as
 *   (a|b*)*, (x*)* or a**: the epsilon closures regcomp computes explode
 *   (30 of (a|b*)* did not finish in 5 minutes; 80 stacked '*' take 5 s).
 *   Such a regex always has a plain form ((a|b)*, x*, a*).
 * Back-references, which make matching exponential, are refused too; RE2,
 * Alertmanager's engine, refuses nested repetitions and has no back-references.
 */
#define REGEX_MAX_COST	10000

struct re_scan {
	const char *s;
	const char *why;	/* the first reason to refuse the regex, NULL while none */
};

/* What a part of a regex compiles to: its estimated size, and whether it can match the empty string. */
struct re_part {
	double cost;
	bool nullable;
};

static struct re_part re_alt(struct re_scan *r);

/* An interval {n}, {n,}, {n,m} or {,m} at s: its counts (hi -1 for {n,}) and where it ends; false if none. */
static bool re_interval(const char *s, double *lo, double *hi, const char **end)
{
	/* glibc takes {,m} for {0,m} */
	if (*s++ != '{' || !((*s >= '0' && *s <= '9') || (*s == ',' && s[1] >= '0' && s[1] <= '9')))
		return false;
	for (*lo = 0, *hi = -2; *s >= '0' && *s <= '9'; s++)
		*lo = *lo * 10 + (*s - '0');
	if (*s == ',') {
		s++;
		*hi = -1;
		if (*s >= '0' && *s <= '9')
			for (*hi = 0; *s >= '0' && *s <= '9'; s++)
				*hi = *hi * 10 + (*s - '0');
	}
	if (*s != '}')
		return false;
	if (*hi == -2)
		*hi = *lo;
	*end = s + 1;
	return true;
}

static struct re_part re_atom(struct re_scan *r)
{
	const char *s = r->s;
	struct re_part part = { 1, false };

	if (*s == '(') {
		r->s = s + 1;
		part = re_alt(r);
		part.cost += 1;
		if (*r->s == ')')
			r->s++;
		return part;
	}
	if (*s == '[') {
		/* ']' right after '[' or '[^' is a member; [:class:], [=e=] and [.c.] may hold one too */
		s += s[1] == '^' ? 2 : 1;
		if (*s == ']')
			s++;
		while (*s && *s != ']') {
			if (*s == '[' && (s[1] == ':' || s[1] == '=' || s[1] == '.')) {
				const char *close = s + 2;

				while (*close && !(close[0] == s[1] && close[1] == ']'))
					close++;
				s = *close ? close + 2 : close;
			} else {
				s++;
			}
		}
		r->s = *s ? s + 1 : s;
		return part;
	}
	if (*s == '\\' && s[1]) {
		if (s[1] >= '1' && s[1] <= '9' && !r->why)
			r->why = "uses a back-reference (\\1 to \\9), which is not supported";
		/* GNU's zero-width operators match the empty string */
		part.nullable = strchr("bB<>`'", s[1]) != NULL;
		r->s = s + 2;
		return part;
	}
	part.nullable = *s == '^' || *s == '$';
	r->s = s + 1;
	return part;
}

/* A sequence of atoms, each with its repetitions (stacked ones apply one after the other, as regcomp does). */
static struct re_part re_branch(struct re_scan *r)
{
	struct re_part sum = { 0, true }, piece;
	double lo = 0, hi = 0;
	const char *end = NULL;

	while (*r->s && *r->s != '|' && *r->s != ')') {
		piece = re_atom(r);
		while (*r->s == '*' || *r->s == '+' || *r->s == '?' || re_interval(r->s, &lo, &hi, &end)) {
			if (piece.nullable && !r->why)
				r->why = "repeats something that can match nothing (such as (a|b*)*, (x*)* or a**)";
			if (*r->s == '*' || *r->s == '?') {
				piece.cost += 1;
				piece.nullable = true;
				r->s++;
			} else if (*r->s == '+') {
				piece.cost = 2 * piece.cost + 1;
				r->s++;
			} else {
				piece.cost = piece.cost * (hi >= 0 ? (hi > 1 ? hi : 1) : lo + 1) + 1;
				piece.nullable |= lo == 0;
				r->s = end;
			}
		}
		sum.cost += piece.cost;
		sum.nullable &= piece.nullable;
	}
	return sum;
}

static struct re_part re_alt(struct re_scan *r)
{
	struct re_part sum = re_branch(r), branch;

	while (*r->s == '|') {
		r->s++;
		branch = re_branch(r);
		sum.cost += branch.cost + 1;
		sum.nullable |= branch.nullable;
	}
	return sum;
}

const char *regex__refusal(const char *re)
{
	struct re_scan r = { .s = re };
	double cost = 0;

	while (*r.s) {
		cost += re_alt(&r).cost;
		/*
		 * Unmatched: it would close the group that anchors the value,
		 * ^(a)|(b)$, and what follows would repeat or match outside it.
		 */
		if (*r.s == ')')
			return "has a ')' without its '(' (write \\) for the character)";
	}
	if (cost > REGEX_MAX_COST)
		return "is too complex (nested or stacked repetitions)";
	return r.why;
}

int matcher__parse(struct matcher *m, const char *text, char *err, size_t errlen)
{
	char pattern[LABEL_VALUE_LEN + 8];
	const char *s, *name;
	size_t len;
	int ret;

	memset(m, 0, sizeof(*m));
	if (!text) {
		set_err(err, errlen, "empty matcher");
		return -EINVAL;
	}
	s = skip_space(text);
	name = s;
	while (*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9'))
		s++;
	len = s - name;
	if (!len || (*name >= '0' && *name <= '9')) {
		set_err(err, errlen, "matcher '%.80s' does not start with a label name", text);
		return -EINVAL;
	}
	if (len >= sizeof(m->name)) {
		set_err(err, errlen, "label name longer than %zu bytes", sizeof(m->name) - 1);
		return -EINVAL;
	}
	memcpy(m->name, name, len);
	s = skip_space(s);
	/* Two-character operators first: "=~" would otherwise read as "=". */
	if (!strncmp(s, "=~", 2)) {
		m->op = MATCH_RE;
		s += 2;
	} else if (!strncmp(s, "!~", 2)) {
		m->op = MATCH_NRE;
		s += 2;
	} else if (!strncmp(s, "!=", 2)) {
		m->op = MATCH_NE;
		s += 2;
	} else if (*s == '=') {
		m->op = MATCH_EQ;
		s++;
	} else {
		set_err(err, errlen, "matcher '%.80s' has no operator (= != =~ !~)", text);
		return -EINVAL;
	}
	ret = matcher__value(skip_space(s), m->value, sizeof(m->value), err, errlen);
	if (ret)
		return ret;
	if (m->op == MATCH_RE || m->op == MATCH_NRE) {
		const char *why = regex__refusal(m->value);

		if (why) {
			set_err(err, errlen, "regex '%.80s' %s", m->value, why);
			return -EINVAL;
		}
		/* Anchored like Prometheus; ERE has no (?:), a plain group does the same. */
		snprintf(pattern, sizeof(pattern), "^(%s)$", m->value);
		ret = regcomp(&m->re, pattern, REG_EXTENDED | REG_NOSUB);
		if (ret) {
			char why[128];

			regerror(ret, &m->re, why, sizeof(why));
			set_err(err, errlen, "bad regex '%.80s': %s", m->value, why);
			return -EINVAL;
		}
		m->has_re = true;
	}
	return 0;
}

void matcher__format(const struct matcher *m, char *buf, size_t size)
{
	size_t n;

	if (!size)
		return;
	n = snprintf(buf, size, "%s%s\"", m->name, match_op_names[m->op]);
	for (const char *c = m->value; *c && n + 1 < size; c++) {
		const char *esc = *c == '"' ? "\\\"" : *c == '\\' ? "\\\\" : *c == '\n' ? "\\n" : NULL;

		if (esc) {
			if (n + 2 >= size)
				break;
			buf[n++] = esc[0];
			buf[n++] = esc[1];
		} else {
			buf[n++] = *c;
		}
	}
	if (n + 1 < size)
		buf[n++] = '"';
	buf[n < size ? n : size - 1] = 0;
}

bool matcher__match(const struct matcher *m, const struct labelset *ls)
{
	/* An absent label matches as "", as in Alertmanager. */
	const char *v = labels__get(ls, m->name);

	switch (m->op) {
	case MATCH_EQ:
		return !strcmp(v, m->value);
	case MATCH_NE:
		return strcmp(v, m->value) != 0;
	case MATCH_RE:
		return m->has_re && !regexec(&m->re, v, 0, NULL, 0);
	case MATCH_NRE:
		return m->has_re && regexec(&m->re, v, 0, NULL, 0) != 0;
	}
	return false;
}

bool matchers__match(const struct matcher *ms, int n, const struct labelset *ls)
{
	for (int i = 0; i < n; i++)
		if (!matcher__match(&ms[i], ls))
			return false;
	return true;
}

void matcher__free(struct matcher *m)
{
	if (!m || !m->has_re)
		return;
	regfree(&m->re);
	m->has_re = false;
}

static const struct {
	const char *name;
	__u64 ms;
} duration_units[] = {
	/* Largest first: the order a duration must be written in, and formatted in. */
	{ "w", 7ULL * 24 * 3600 * 1000 },
	{ "d", 24ULL * 3600 * 1000 },
	{ "h", 3600ULL * 1000 },
	{ "m", 60ULL * 1000 },
	{ "s", 1000 },
	{ "ms", 1 },
};

#define NR_DURATION_UNITS (int)(sizeof(duration_units) / sizeof(duration_units[0]))

int duration__parse(const char *text, __u64 *ms)
{
	const char *s = text;
	__u64 total = 0;
	int last = -1;

	if (!text || !*text)
		return -EINVAL;
	while (*s) {
		__u64 n = 0, part;
		int u;

		if (*s < '0' || *s > '9')
			return -EINVAL;
		for (; *s >= '0' && *s <= '9'; s++)
			if (__builtin_mul_overflow(n, 10, &n) || __builtin_add_overflow(n, (__u64)(*s - '0'), &n))
				return -EINVAL;
		if (!*s && last < 0) {
			/* A bare number is seconds. */
			if (__builtin_mul_overflow(n, 1000, &total))
				return -EINVAL;
			break;
		}
		/* From the smallest unit up, so "ms" is tried before "m". */
		for (u = NR_DURATION_UNITS - 1; u >= 0; u--)
			if (!strncmp(s, duration_units[u].name, strlen(duration_units[u].name)))
				break;
		if (u < 0 || u <= last)
			return -EINVAL;
		s += strlen(duration_units[u].name);
		if (__builtin_mul_overflow(n, duration_units[u].ms, &part) ||
		    __builtin_add_overflow(total, part, &total))
			return -EINVAL;
		last = u;
	}
	*ms = total;
	return 0;
}

int duration__from_json(const cJSON *v, __u64 *ms)
{
	if (cJSON_IsString(v))
		return duration__parse(v->valuestring, ms);
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < 0 || v->valuedouble > 1e12)
		return -EINVAL;
	*ms = (__u64)llround(v->valuedouble * 1000);
	return 0;
}

void duration__format(__u64 ms, char *buf, size_t size)
{
	size_t n = 0;

	if (!size)
		return;
	buf[0] = 0;
	if (!ms) {
		snprintf(buf, size, "0s");
		return;
	}
	for (int u = 0; u < NR_DURATION_UNITS && n < size; u++) {
		__u64 q = ms / duration_units[u].ms;

		if (!q)
			continue;
		n += snprintf(buf + n, size - n, "%llu%s", (unsigned long long)q, duration_units[u].name);
		ms %= duration_units[u].ms;
	}
}

/* Output that counts what it could not store, like snprintf. */
struct tbuf {
	char *out;
	size_t size, len;
};

static void tbuf__put(struct tbuf *b, const char *s, size_t len)
{
	if (b->len + 1 < b->size) {
		size_t room = b->size - 1 - b->len;

		memcpy(b->out + b->len, s, len < room ? len : room);
	}
	b->len += len;
}

/* Only a single double conversion: %[flags][width][.prec](f|F|e|E|g|G), no other text. */
static bool valid_double_format(const char *f)
{
	int i = 0;

	if (*f++ != '%')
		return false;
	while (strchr("-+ #0", *f) && *f && i++ < 5)
		f++;
	for (i = 0; *f >= '0' && *f <= '9'; f++)
		if (++i > 2)
			return false;
	if (*f == '.') {
		f++;
		for (i = 0; *f >= '0' && *f <= '9'; f++)
			if (++i > 2)
				return false;
	}
	return *f && strchr("fFeEgG", *f) && !f[1];
}

static void trim(const char **s, const char **e)
{
	while (*s < *e && (**s == ' ' || **s == '\t'))
		(*s)++;
	while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
		(*e)--;
}

static bool word_is(const char *s, const char *e, const char *word)
{
	size_t len = strlen(word);

	return (size_t)(e - s) == len && !memcmp(s, word, len);
}

/* Expands the inside of one {{...}}; false when it is not a known placeholder. */
static bool template__one(struct tbuf *b, const char *s, const char *e, const struct labelset *labels,
			  double value, double threshold, const char *const *vars, int nvars)
{
	const char *bar = memchr(s, '|', e - s), *ke = bar ? bar : e;
	char fmt[16] = "%g", num[512], name[LABEL_NAME_LEN];
	size_t len;

	trim(&s, &ke);
	if (word_is(s, ke, "value") || word_is(s, ke, "threshold")) {
		if (bar) {
			const char *fs = bar + 1, *fe = e;

			trim(&fs, &fe);
			if ((size_t)(fe - fs) >= sizeof(fmt))
				return false;
			memcpy(fmt, fs, fe - fs);
			fmt[fe - fs] = 0;
			if (!valid_double_format(fmt))
				return false;
		}
		/* Width and precision are at most two digits: num always holds the result. */
		len = snprintf(num, sizeof(num), fmt, word_is(s, ke, "value") ? value : threshold);
		tbuf__put(b, num, len < sizeof(num) ? len : sizeof(num) - 1);
		return true;
	}
	if (bar)
		return false;
	len = ke - s;
	if (len > 7 && !memcmp(s, "labels.", 7)) {
		if (len - 7 >= sizeof(name))
			return true;	/* no such label can exist: empty */
		memcpy(name, s + 7, len - 7);
		name[len - 7] = 0;
		s = labels__get(labels, name);
		tbuf__put(b, s, strlen(s));
		return true;
	}
	for (int i = 0; vars && i < nvars; i++) {
		if (vars[2 * i] && word_is(s, ke, vars[2 * i])) {
			s = vars[2 * i + 1] ? vars[2 * i + 1] : "";
			tbuf__put(b, s, strlen(s));
			return true;
		}
	}
	return false;
}

int template__expand(const char *tmpl, const struct labelset *labels, double value, double threshold,
		     const char *const *vars, int nvars, char *out, size_t size)
{
	struct tbuf b = { out, size, 0 };
	const char *s = tmpl ? tmpl : "";

	while (*s) {
		const char *open = strstr(s, "{{"), *close;

		if (!open) {
			tbuf__put(&b, s, strlen(s));
			break;
		}
		tbuf__put(&b, s, open - s);
		close = strstr(open + 2, "}}");
		if (!close) {
			tbuf__put(&b, open, strlen(open));
			break;
		}
		/* Unknown placeholders stay as written, so a typo shows in the message. */
		if (!template__one(&b, open + 2, close, labels, value, threshold, vars, nvars))
			tbuf__put(&b, open, close + 2 - open);
		s = close + 2;
	}
	if (size)
		out[b.len < size ? b.len : size - 1] = 0;
	return b.len > INT_MAX ? INT_MAX : (int)b.len;
}
