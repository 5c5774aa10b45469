// SPDX-License-Identifier: MIT
/* The executions of the recent past, in memory, for agent and session alert rules. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "alerts/recent.h"

#define NAMES_INITIAL	64

struct entry {
	__u64 id;
	__u64 started_ms;
	__u64 duration_ms;
	__u32 agent, session, category;	/* indexes of interned names */
	bool ended, failed, retried;
};

struct recent {
	struct entry *entries;		/* by id; live ones from head on */
	int head, nr, cap;
	char **names;			/* interned, never freed before the window */
	int nr_names, cap_names;
	__u32 *slots;			/* open addressing over names: index + 1, 0 = empty */
	int nr_slots;
	__u64 since_ms;
};

static __u32 hash(const char *s)
{
	__u32 h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static int grow_slots(struct recent *w)
{
	int n = w->nr_slots ? w->nr_slots * 2 : NAMES_INITIAL * 2;
	__u32 *slots = calloc(n, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (int i = 0; i < w->nr_names; i++) {
		__u32 j = hash(w->names[i]) & (n - 1);

		while (slots[j])
			j = (j + 1) & (n - 1);
		slots[j] = i + 1;
	}
	free(w->slots);
	w->slots = slots;
	w->nr_slots = n;
	return 0;
}

/* The index of name, added when new; -1 when out of memory. */
static int intern(struct recent *w, const char *name)
{
	__u32 j;

	if (2 * (w->nr_names + 1) > w->nr_slots && grow_slots(w))
		return -1;
	for (j = hash(name) & (w->nr_slots - 1); w->slots[j]; j = (j + 1) & (w->nr_slots - 1))
		if (!strcmp(w->names[w->slots[j] - 1], name))
			return w->slots[j] - 1;
	if (w->nr_names == w->cap_names) {
		int cap = w->cap_names ? w->cap_names * 2 : NAMES_INITIAL;
		char **names = realloc(w->names, cap * sizeof(*names));

		if (!names)
			return -1;
		w->names = names;
		w->cap_names = cap;
	}
	w->names[w->nr_names] = strdup(name);
	if (!w->names[w->nr_names])
		return -1;
	w->slots[j] = ++w->nr_names;
	return w->nr_names - 1;
}

struct recent *recent__new(void)
{
	struct recent *w = calloc(1, sizeof(*w));

	if (w && intern(w, "") < 0) {
		recent__free(w);
		return NULL;
	}
	return w;
}

void recent__free(struct recent *w)
{
	if (!w)
		return;
	for (int i = 0; i < w->nr_names; i++)
		free(w->names[i]);
	free(w->names);
	free(w->slots);
	free(w->entries);
	free(w);
}

/* Where id is among the live entries, or where it would go. */
static int slot_of(const struct recent *w, __u64 id)
{
	int lo = w->head, hi = w->nr;

	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;

		if (w->entries[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int make_room(struct recent *w)
{
	struct entry *n;
	int cap;

	if (w->head && w->head >= w->nr / 2) {	/* reuse what expiry freed */
		memmove(w->entries, w->entries + w->head, (w->nr - w->head) * sizeof(*w->entries));
		w->nr -= w->head;
		w->head = 0;
	}
	if (w->nr < w->cap)
		return 0;
	cap = w->cap ? w->cap * 2 : 1024;
	n = realloc(w->entries, cap * sizeof(*n));
	if (!n)
		return -ENOMEM;
	w->entries = n;
	w->cap = cap;
	return 0;
}

int recent__put(struct recent *w, const struct exec_record *r)
{
	int i = slot_of(w, r->id), agent, session, category;
	struct entry *e;

	agent = intern(w, r->agent);
	session = intern(w, r->session);
	category = intern(w, r->failure_category);
	if (agent < 0 || session < 0 || category < 0)
		return -ENOMEM;
	if (i == w->nr || w->entries[i].id != r->id) {
		if (make_room(w))
			return -ENOMEM;
		i = slot_of(w, r->id);	/* ids come in order: this is nearly always the end */
		memmove(&w->entries[i + 1], &w->entries[i], (w->nr - i) * sizeof(*w->entries));
		w->nr++;
	}
	e = &w->entries[i];
	e->id = r->id;
	e->started_ms = r->started_at_ms;
	e->duration_ms = r->duration_ms;
	e->agent = agent;
	e->session = session;
	e->category = category;
	e->ended = !strcmp(r->status, "completed") || !strcmp(r->status, "failed");
	e->failed = !strcmp(r->status, "failed");
	e->retried = r->retry_count > 0;
	return 0;
}

void recent__expire(struct recent *w, __u64 before_ms)
{
	/* ids follow start times closely enough: stop at the first one still wanted */
	while (w->head < w->nr && w->entries[w->head].started_ms < before_ms)
		w->head++;
	if (w->since_ms < before_ms)
		w->since_ms = before_ms;
}

__u64 recent__since(const struct recent *w)
{
	return w->since_ms;
}

void recent__set_since(struct recent *w, __u64 since_ms)
{
	w->since_ms = since_ms;
}

int recent__foreach(const struct recent *w, __u64 since_ms,
		    int (*cb)(const struct recent_view *v, void *ctx), void *ctx)
{
	int ret = 0;

	for (int i = w->head; i < w->nr && !ret; i++) {
		const struct entry *e = &w->entries[i];
		struct recent_view v = {
			.agent = w->names[e->agent], .session = w->names[e->session],
			.category = w->names[e->category], .started_ms = e->started_ms,
			.duration_ms = e->duration_ms, .ended = e->ended, .failed = e->failed,
			.retried = e->retried,
		};

		if (e->started_ms >= since_ms)
			ret = cb(&v, ctx);
	}
	return ret;
}

int recent__count(const struct recent *w)
{
	return w->nr - w->head;
}
