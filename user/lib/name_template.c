// SPDX-License-Identifier: MIT
/* Name templates: session, agent, task and label values made of a job's environment, argv, comm and cgroup. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/name_template.h"

#define EXPR_MAX 256	/* one placeholder's text */

bool name_template__has_placeholders(const char *s)
{
	return s && strstr(s, "{{") != NULL;
}

const char *name_source__env(const struct name_source *src, const char *name)
{
	size_t len = strlen(name);

	/* the last definition wins, as getenv(3) would see after a later putenv */
	for (int i = src->envc - 1; i >= 0; i--)
		if (src->env[i] && !strncmp(src->env[i], name, len) && src->env[i][len] == '=')
			return src->env[i] + len + 1;
	return NULL;
}

static bool env_name_char(char c, bool first)
{
	return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (!first && c >= '0' && c <= '9');
}

/*
 * One alternative of a placeholder, trimmed: its value for src (NULL when it
 * has none), or with src NULL only its syntax is checked (-EINVAL on error).
 */
static int alternative(const char *alt, const struct name_source *src, const char **value, char *err,
		       size_t errlen)
{
	size_t len = strlen(alt);
	char *end;
	long n;

	*value = NULL;
	if (len >= 2 && (alt[0] == '"' || alt[0] == '\'') && alt[len - 1] == alt[0]) {
		*value = alt + 1;	/* the caller copies len - 2 bytes: see render_expr */
		return 1;
	}
	if (!strncmp(alt, "env.", 4)) {
		for (const char *c = alt + 4; *c; c++)
			if (!env_name_char(*c, c == alt + 4))
				goto bad;
		if (!alt[4])
			goto bad;
		*value = src ? name_source__env(src, alt + 4) : NULL;
		return 0;
	}
	if (!strncmp(alt, "argv.", 5)) {
		errno = 0;
		n = strtol(alt + 5, &end, 10);
		if (errno || end == alt + 5 || *end || n < -64 || n > 64)
			goto bad;
		if (src && src->argc) {
			if (n < 0)
				n += src->argc;
			if (n >= 0 && n < src->argc)
				*value = src->argv[n];
		}
		return 0;
	}
	if (!strcmp(alt, "comm")) {
		*value = src ? src->comm : NULL;
		return 0;
	}
	if (!strcmp(alt, "cgroup")) {
		*value = src ? src->cgroup : NULL;
		return 0;
	}
	if (!strcmp(alt, "exe")) {
		*value = src ? src->exe : NULL;
		return 0;
	}
	if (!strcmp(alt, "program")) {
		const char *slash = src && src->exe ? strrchr(src->exe, '/') : NULL;

		*value = slash ? slash + 1 : src ? src->exe : NULL;
		return 0;
	}
bad:
	snprintf(err, errlen, "'{{%s}}' is not a placeholder: use env.NAME, argv.N, comm, program, exe, cgroup or a \"quoted\" text",
		 alt);
	return -EINVAL;
}

/* Copies s (at most n bytes) to out at *pos, control characters as spaces. */
static void put(char *out, size_t size, size_t *pos, const char *s, size_t n)
{
	for (size_t i = 0; i < n && s[i] && *pos + 1 < size; i++)
		out[(*pos)++] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i];
	out[*pos] = 0;
}

/* expr: a placeholder's inside; appends the first non-empty alternative (src NULL: checks only). */
static int render_expr(const char *expr, const struct name_source *src, char *out, size_t size, size_t *pos,
		       char *err, size_t errlen)
{
	char buf[EXPR_MAX], *save = NULL, *alt;

	if (strlen(expr) >= sizeof(buf)) {
		snprintf(err, errlen, "a placeholder is longer than %zu characters", sizeof(buf) - 1);
		return -EINVAL;
	}
	snprintf(buf, sizeof(buf), "%s", expr);
	for (alt = strtok_r(buf, "|", &save); alt; alt = strtok_r(NULL, "|", &save)) {
		const char *value;
		char *a = alt, *e = alt + strlen(alt);
		int quoted;

		while (*a == ' ')
			a++;
		while (e > a && e[-1] == ' ')
			*--e = 0;
		quoted = alternative(a, src, &value, err, errlen);
		if (quoted < 0)
			return quoted;
		if (!src || !value || !value[0] || (quoted && strlen(a) == 2))
			continue;
		put(out, size, pos, value, quoted ? strlen(a) - 2 : strlen(value));
		return 0;
	}
	return 0;	/* every alternative empty: so is the placeholder */
}

static int walk(const char *tmpl, const struct name_source *src, char *out, size_t size, size_t *pos, char *err,
		size_t errlen)
{
	const char *p = tmpl;

	while (*p) {
		const char *open = strstr(p, "{{"), *close;
		char expr[EXPR_MAX];
		int ret;

		if (!open) {
			put(out, size, pos, p, strlen(p));
			break;
		}
		put(out, size, pos, p, open - p);
		close = strstr(open + 2, "}}");
		if (!close) {
			snprintf(err, errlen, "'{{' without '}}' in '%.64s'", tmpl);
			return -EINVAL;
		}
		if ((size_t)(close - open - 2) >= sizeof(expr)) {
			snprintf(err, errlen, "a placeholder is longer than %zu characters", sizeof(expr) - 1);
			return -EINVAL;
		}
		memcpy(expr, open + 2, close - open - 2);
		expr[close - open - 2] = 0;
		if (!expr[strspn(expr, " |")]) {
			snprintf(err, errlen, "an empty placeholder in '%.64s'", tmpl);
			return -EINVAL;
		}
		ret = render_expr(expr, src, out, size, pos, err, errlen);
		if (ret)
			return ret;
		p = close + 2;
	}
	return 0;
}

int name_template__check(const char *tmpl, char *err, size_t errlen)
{
	char out[8];
	size_t pos = 0;

	out[0] = 0;
	return walk(tmpl, NULL, out, sizeof(out), &pos, err, errlen);
}

size_t name_template__render(const char *tmpl, const struct name_source *src, char *out, size_t size)
{
	char err[160];
	size_t pos = 0;

	if (!size)
		return 0;
	out[0] = 0;
	if (walk(tmpl, src, out, size, &pos, err, sizeof(err))) {
		/* checked when it was accepted; a bad one renders as written */
		pos = 0;
		put(out, size, &pos, tmpl, strlen(tmpl));
	}
	return pos;
}
