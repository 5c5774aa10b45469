// SPDX-License-Identifier: MIT
/* How a process becomes a job: orchestrators and their job boundaries, watch rules, names from the job. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "lib/log.h"
#include "lib/name_template.h"
#include "observe/jobs.h"
#include "observe/probes.h"
#include "observe/tracker.h"

#define MAX_WORDS	64		/* argv words kept */
#define MAX_ENV		512		/* environment entries looked at */
#define MAX_ENV_NAMES	32		/* variables that become labels */
#define ENV_READ_MAX	(128 << 10)	/* bytes of /proc/PID/environ read */
#define FORK_GRACE_NS	(100 * 1000000ULL)	/* a child that has not executed by then is named as it is */
#define SETTLE_NS	(20 * 1000000ULL)	/* its root's last context switch lands */
#define RETAG_MAX	4096		/* tasks one decision moves */
#define SCAN_MAX	4096		/* processes one adoption looks at */

struct jobs {
	struct tracker *tracker;
	struct probes *probes;
	struct jobs_hooks hooks;
	__u64 slow_threshold_ns;
	char env_names[MAX_ENV_NAMES][64];
	int nr_env_names;
	struct orch *orchs[WW_MAX_ORCHS];	/* sorted by id */
	int nr_orchs;
	struct watch_rule *rules;
	int nr_rules;
	struct ww_task_info *moved;		/* RETAG_MAX, for decisions */
};

/* What names are rendered from, with the storage behind it. */
struct source {
	struct name_source src;
	const char *argv[MAX_WORDS];
	const char *env[MAX_ENV];
	char comm[WW_COMM_LEN + 1];
	char cgroup[256];
	char exe[WW_FILENAME_LEN];
	char *text;			/* owned: what /proc gave */
};

/* What a child it forks and that never executes a program inherited: its argv and environment. */
struct orch_source {
	struct source s;
};

static __u64 now_mono(void)
{
	return tracker__now_mono();
}

static __u64 now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (__u64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- sources of names --- */

/* Splits NUL-separated words of buf[0, len); a last word cut short is dropped when cut. */
static int split_words(const char *buf, size_t len, bool cut, const char **out, int max)
{
	int n = 0;

	for (size_t i = 0; i < len && n < max;) {
		size_t l = strnlen(buf + i, len - i);

		if (i + l == len && (cut || buf[len - 1]))
			break;	/* no terminating NUL: cut off */
		if (l)
			out[n++] = buf + i;
		i += l + 1;
	}
	return n;
}

/* The unified hierarchy's cgroup path of pid ("0::/path" in /proc/PID/cgroup). */
static void read_cgroup(pid_t pid, char *out, size_t size)
{
	char path[64], line[512];
	FILE *f;

	out[0] = 0;
	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "0::", 3)) {
			line[strcspn(line, "\n")] = 0;
			snprintf(out, size, "%.*s", (int)size - 1, line + 3);
			break;
		}
	fclose(f);
}

static ssize_t read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n, used = 0;

	if (fd < 0)
		return -1;
	while ((size_t)used < size && (n = read(fd, buf + used, size - used)) > 0)
		used += n;
	close(fd);
	return used;
}

/* From the job event: argv and environ as they were at exec. */
static void source_of_event(struct source *s, const struct ww_job_event *ev, size_t size)
{
	size_t data = size > offsetof(struct ww_job_event, data) ? size - offsetof(struct ww_job_event, data) : 0;
	size_t alen = ev->args_len < data ? ev->args_len : data;
	size_t elen = ev->env_len < data - alen ? ev->env_len : data - alen;

	memset(s, 0, sizeof(*s));
	snprintf(s->comm, sizeof(s->comm), "%.*s", WW_COMM_LEN, ev->hdr.comm);
	snprintf(s->exe, sizeof(s->exe), "%.*s", WW_FILENAME_LEN, ev->filename);
	s->src.argc = split_words(ev->data, alen, alen == WW_JOB_ARGS_MAX, s->argv, MAX_WORDS);
	/*
	 * A script's argv is the kernel's [interpreter, (its argument,) script,
	 * args...]: names see it as it was run, the script and its arguments.
	 */
	for (int k = 1; k <= 2 && k < s->src.argc; k++)
		if (!strcmp(s->argv[k], s->exe) && strcmp(s->argv[0], s->exe)) {
			memmove(s->argv, s->argv + k, (s->src.argc - k) * sizeof(*s->argv));
			s->src.argc -= k;
			break;
		}
	s->src.envc = split_words(ev->data + alen, elen, ev->flags & WW_JOB_ENV_TRUNCATED, s->env, MAX_ENV);
	read_cgroup(ev->hdr.pid, s->cgroup, sizeof(s->cgroup));
	s->src.argv = s->argv;
	s->src.env = s->env;
	s->src.comm = s->comm;
	s->src.cgroup = s->cgroup;
	s->src.exe = s->exe;
}

/* From /proc: the process as it is now (a child that never executed, an attached process). */
static void source_of_proc(struct source *s, pid_t pid, const char *comm)
{
	char path[64];
	ssize_t alen, elen;

	memset(s, 0, sizeof(*s));
	s->text = malloc(ENV_READ_MAX + 4096);
	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	alen = s->text ? read_file(path, s->text, 4096) : -1;
	if (alen < 0)
		alen = 0;
	snprintf(path, sizeof(path), "/proc/%d/environ", pid);
	elen = s->text ? read_file(path, s->text + alen, ENV_READ_MAX) : -1;
	if (elen < 0)
		elen = 0;
	if (s->text) {
		s->src.argc = split_words(s->text, alen, alen == 4096, s->argv, MAX_WORDS);
		s->src.envc = split_words(s->text + alen, elen, elen == ENV_READ_MAX, s->env, MAX_ENV);
	}
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	if (read_file(path, s->comm, sizeof(s->comm) - 1) > 0)
		s->comm[strcspn(s->comm, "\n")] = 0;
	else
		snprintf(s->comm, sizeof(s->comm), "%s", comm ? comm : "");
	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	if (readlink(path, s->exe, sizeof(s->exe) - 1) < 0)
		s->exe[0] = 0;
	read_cgroup(pid, s->cgroup, sizeof(s->cgroup));
	s->src.argv = s->argv;
	s->src.env = s->env;
	s->src.comm = s->comm;
	s->src.cgroup = s->cgroup;
	s->src.exe = s->exe;
}

static void source_release(struct source *s)
{
	free(s->text);
	s->text = NULL;
}

static char **copy_words(const char *const *words, int n)
{
	char **argv = calloc(n + 1, sizeof(*argv));

	for (int i = 0; argv && i < n; i++)
		argv[i] = strdup(words[i]);
	return argv;
}

static void free_words(char **argv)
{
	for (char **a = argv; a && *a; a++)
		free(*a);
	free(argv);
}

/* Names, argv and labels of e from src: the spec's templates, then the environment's labels. */
static void apply_names(struct jobs *j, struct execution *e, const struct job_spec *spec, const struct source *s)
{
	cJSON *labels = e->labels[0] ? cJSON_Parse(e->labels) : NULL;
	char *text;

	job_spec__names(spec, &s->src, e->session, e->agent, e->task, sizeof(e->session));
	if (s->src.argc) {
		free_words(e->argv);
		e->argv = copy_words(s->src.argv, s->src.argc);
	} else if (!e->argv && s->exe[0]) {
		const char *one[] = { s->exe };

		e->argv = copy_words(one, 1);
	}
	if (!cJSON_IsObject(labels)) {
		cJSON_Delete(labels);
		labels = cJSON_CreateObject();
	}
	for (int i = 0; i < j->nr_env_names; i++) {
		const char *v = name_source__env(&s->src, j->env_names[i]);

		if (v && strlen(v) < 256) {
			cJSON_DeleteItemFromObjectCaseSensitive(labels, j->env_names[i]);
			cJSON_AddStringToObject(labels, j->env_names[i], v);
		}
	}
	job_spec__labels(spec, &s->src, labels);
	text = cJSON_PrintUnformatted(labels);
	if (text && strlen(text) < sizeof(e->labels))
		strcpy(e->labels, text);
	free(text);
	cJSON_Delete(labels);
}

void jobs__name(struct jobs *j, struct execution *e, const struct job_spec *spec)
{
	struct source s;

	source_of_proc(&s, e->pid, NULL);
	apply_names(j, e, spec, &s);
	source_release(&s);
}

/* --- orchestrators --- */

static int orch_slot(const struct jobs *j, __u64 id)
{
	int lo = 0, hi = j->nr_orchs;

	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;

		if (j->orchs[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct orch *find_orch(struct jobs *j, __u64 id)
{
	int i = orch_slot(j, id);

	return id && i < j->nr_orchs && j->orchs[i]->id == id ? j->orchs[i] : NULL;
}

const struct orch *jobs__find_orch(struct jobs *j, __u64 id)
{
	return find_orch(j, id);
}

int jobs__nr_orchs(const struct jobs *j)
{
	return j->nr_orchs;
}

int jobs__foreach_orch(struct jobs *j, int (*fn)(const struct orch *o, void *ctx), void *ctx)
{
	__u64 ids[WW_MAX_ORCHS];
	int n = j->nr_orchs, ret = 0;

	/* by id: fn may remove orchestrators */
	for (int i = 0; i < n; i++)
		ids[i] = j->orchs[i]->id;
	for (int i = 0; i < n && !ret; i++) {
		struct orch *o = find_orch(j, ids[i]);

		if (o)
			ret = fn(o, ctx);
	}
	return ret;
}

/* /proc/PID/stat's starttime (clock ticks since boot) and comm; 0 when gone. */
static __u64 start_ticks(pid_t pid, char *comm, size_t size)
{
	char path[64], buf[1024], *lp, *rp;
	unsigned long long ticks = 0;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	n = read_file(path, buf, sizeof(buf) - 1);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	lp = strchr(buf, '(');
	rp = strrchr(buf, ')');	/* comm may hold spaces and parentheses */
	if (!lp || !rp || rp < lp)
		return 0;
	if (comm)
		snprintf(comm, size, "%.*s", (int)(rp - lp - 1), lp + 1);
	if (sscanf(rp + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
		   &ticks) != 1)
		return 0;
	return ticks;
}

static __u32 jobs_id_of(const struct orch *o)
{
	return o->rule ? watch_rule__jobs_id(o->rule) : (__u32)o->id;
}

/* The orchestrator's own source, read once (its environ region does not change after its exec). */
static const struct source *fork_source_of(struct orch *o)
{
	if (!o->fork_source) {
		o->fork_source = calloc(1, sizeof(*o->fork_source));
		if (o->fork_source)
			source_of_proc(&o->fork_source->s, o->pid, o->comm);
	}
	return o->fork_source ? &o->fork_source->s : NULL;
}

static struct orch *insert_orch(struct jobs *j, const struct orch_reg *reg, const struct job_spec *spec,
				int pidfd)
{
	struct orch *o;
	int i;

	if (j->nr_orchs == WW_MAX_ORCHS)
		return NULL;
	o = calloc(1, sizeof(*o));
	if (!o)
		return NULL;
	if (job_spec__copy(&o->spec, spec)) {
		free(o);
		return NULL;
	}
	o->id = reg->id;
	o->pid = reg->pid;
	o->pidfd = pidfd;
	o->rule = reg->rule;
	o->own = reg->own;
	o->jobs = reg->jobs;
	o->registered_ms = reg->registered_ms ? reg->registered_ms : now_ms();
	o->start_ticks = start_ticks(reg->pid, o->comm, sizeof(o->comm));
	if (reg->start_ticks)
		o->start_ticks = reg->start_ticks;
	fork_source_of(o);
	i = orch_slot(j, o->id);
	memmove(&j->orchs[i + 1], &j->orchs[i], (j->nr_orchs - i) * sizeof(*j->orchs));
	j->orchs[i] = o;
	j->nr_orchs++;
	probes__reserve_orch_ids(j->probes, o->id);
	return o;
}

static void drop_orch(struct jobs *j, struct orch *o)
{
	int i = orch_slot(j, o->id);

	if (i < j->nr_orchs && j->orchs[i] == o) {
		memmove(&j->orchs[i], &j->orchs[i + 1], (j->nr_orchs - i - 1) * sizeof(*j->orchs));
		j->nr_orchs--;
	}
	if (o->pidfd >= 0)
		close(o->pidfd);
	if (o->fork_source)
		source_release(&o->fork_source->s);
	free(o->fork_source);
	job_spec__release(&o->spec);
	free(o);
}

int jobs__add_orch(struct jobs *j, const struct orch_reg *reg, const struct job_spec *spec, int pidfd, bool tag,
		   const struct orch **out)
{
	struct orch_reg r = *reg;
	struct ww_orch k = {};
	struct orch *o;
	int err;

	if (j->nr_orchs == WW_MAX_ORCHS)
		return -ENOSPC;
	if (!r.id)
		r.id = probes__new_orch_id(j->probes);
	if (find_orch(j, r.id))
		return -EEXIST;
	k.jobs = spec->jobs;
	k.jobs_id = r.rule ? watch_rule__jobs_id(r.rule) : (__u32)r.id;
	k.rule = r.rule;
	k.tgid = r.pid;
	/* its boundary first: a child forked right after the tagging must already find it */
	err = probes__set_orch(j->probes, r.id, &k);
	if (!err && tag)
		err = tracker__watch_orchestrator(j->tracker, r.id, r.pid, pidfd);
	if (err) {
		if (tag)
			probes__delete_orch(j->probes, r.id);
		return err;
	}
	o = insert_orch(j, &r, spec, pidfd);
	if (!o) {
		probes__retag(j->probes, 0, r.id, 0, 0, NULL, 0);
		probes__delete_orch(j->probes, r.id);
		return -ENOMEM;
	}
	if (out)
		*out = o;
	return 0;
}

/* Its own tasks (an exec boundary's shells and helpers too) stop being tracked; its jobs go on. */
static void untag_orch(struct jobs *j, __u64 id)
{
	probes__retag(j->probes, 0, id, 0, 0, NULL, 0);
	probes__delete_orch(j->probes, id);
}

int jobs__remove_orch(struct jobs *j, __u64 id)
{
	struct orch *o = find_orch(j, id);

	if (!o)
		return -ENOENT;
	untag_orch(j, id);
	if (j->hooks.orch_ended)
		j->hooks.orch_ended(j->hooks.ctx, o, false);
	drop_orch(j, o);
	return 0;
}

/* --- watch rules --- */

static struct watch_rule *find_rule(struct jobs *j, __u32 id)
{
	for (int i = 0; i < j->nr_rules; i++)
		if (j->rules[i].id == id)
			return &j->rules[i];
	return NULL;
}

const struct watch_rule *jobs__rules(const struct jobs *j, int *n)
{
	*n = j->nr_rules;
	return j->rules;
}

bool jobs__busy(const struct jobs *j)
{
	return j->nr_orchs || j->nr_rules;
}

int jobs__set_rules(struct jobs *j, const struct watch_rule *rules, int n, char *err, size_t errlen)
{
	struct ww_watch_rule *k = NULL;
	struct watch_rule *copy = NULL;
	int ret, done = 0;

	if (n > WW_WATCH_RULES_MAX) {
		snprintf(err, errlen, "at most %d watch rules", WW_WATCH_RULES_MAX);
		return -E2BIG;
	}
	k = calloc(n ? n : 1, sizeof(*k));
	copy = calloc(n ? n : 1, sizeof(*copy));
	ret = k && copy ? watch_rules__to_kernel(rules, n, k, err, errlen) : -ENOMEM;
	for (; !ret && done < n; done++)
		ret = watch_rule__copy(&copy[done], &rules[done]);
	if (!ret)
		ret = probes__set_watch_rules(j->probes, k, n);
	if (ret) {
		if (ret != -EINVAL)
			snprintf(err, errlen, "cannot set the watch rules: %s", strerror(-ret));
		for (int i = 0; i < done; i++)
			watch_rule__release(&copy[i]);
		free(copy);
		free(k);
		return ret;
	}
	for (int i = 0; i < j->nr_rules; i++)
		watch_rule__release(&j->rules[i]);
	free(j->rules);
	j->rules = copy;
	j->nr_rules = n;
	free(k);
	return 0;
}

/* --- executions of jobs --- */

static struct execution *new_execution(struct jobs *j, __u64 id, pid_t pid, __u64 start_ns)
{
	struct execution *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->id = id;
	e->pid = pid;
	e->completed_steps = e->total_steps = -1;
	e->start_ns = start_ns;
	e->start_realtime_ns = tracker__realtime(start_ns);
	e->slow_threshold_ns = j->slow_threshold_ns;
	snprintf(e->labels, sizeof(e->labels), "{}");
	return e;
}

/* The job of o that the kernel started as id, rooted at h's process. */
static struct execution *new_job(struct jobs *j, struct orch *o, __u64 id, const struct ww_event_hdr *h)
{
	struct execution *e = new_execution(j, id, h->pid, h->ts_ns);

	if (!e)
		return NULL;
	if (o) {
		e->orch_id = o->id;
		e->orch_pid = o->pid;
		e->stop_is_failure = o->spec.stopped_is_failure;
		o->jobs++;
	}
	e->job_parent = h->ppid;
	e->pending = true;
	if (tracker__adopt(j->tracker, e)) {
		execution__free(e);
		return NULL;
	}
	if (!execution__find_proc(e, h->pid)) {
		struct process *p = execution__add_proc(e, h->pid, h->ppid);

		if (p) {
			p->start_ns = h->ts_ns;
			memcpy(p->comm, h->comm, sizeof(p->comm));
		}
	}
	return e;
}

static void announce(struct jobs *j, struct execution *e)
{
	e->pending = false;
	if (j->hooks.started)
		j->hooks.started(j->hooks.ctx, e);
}

/* Kernel entries of id that nothing will ever be told of: its tasks go to back_to_orch's own, or untracked. */
static void reject(struct jobs *j, __u64 id, __u64 back_to_orch)
{
	probes__job_decided(j->probes, id);
	probes__retag(j->probes, id, 0, 0, back_to_orch, NULL, 0);
	tracker__alias(j->tracker, id, 0);
	tracker__forget_kernel_id(j->tracker, id);
}

/* A job started inside a job that stands is part of it: its tasks move there, its few counts are dropped. */
static void fold(struct jobs *j, __u64 id, struct execution *into)
{
	int n;

	probes__job_decided(j->probes, id);
	n = probes__retag(j->probes, id, 0, into->id, 0, j->moved, RETAG_MAX);
	for (int i = 0; i < n && i < RETAG_MAX; i++) {
		const struct ww_task_info *t = &j->moved[i];
		struct process *p;

		if (t->pid != t->tid || execution__find_proc(into, t->pid))
			continue;
		p = execution__add_proc(into, t->pid, t->ppid);
		if (p) {
			memcpy(p->comm, t->comm, sizeof(p->comm));
			p->start_ns = now_mono();
		}
	}
	tracker__alias(j->tracker, id, into->id);
	tracker__forget_kernel_id(j->tracker, id);
}

/* A job that ended before the minimum duration: its numbers go to its orchestrator's own totals. */
static void absorb(struct jobs *j, struct orch *o, struct execution *e)
{
	__u64 page = (__u64)sysconf(_SC_PAGESIZE), rss;

	tracker__collect(j->tracker, e);
	o->own.absorbed++;
	o->own.on_cpu_ns += e->totals.on_cpu_ns;
	for (int i = 0; i < e->nr_syscalls; i++)
		o->own.syscalls += e->syscalls[i].stats.count;
	for (int p = 0; p < WW_NET_MAX; p++) {
		o->own.net_sent_bytes += e->totals.net_bytes[p][0];
		o->own.net_recv_bytes += e->totals.net_bytes[p][1];
	}
	rss = (e->mem.peak_pages > 0 ? (__u64)e->mem.peak_pages : 0) * page;
	if (rss > o->own.peak_rss_bytes)
		o->own.peak_rss_bytes = rss;
	if (o->jobs)
		o->jobs--;
	tracker__finish(j->tracker, e);
	execution__free(e);
	if (j->hooks.orch_saved)
		j->hooks.orch_saved(j->hooks.ctx, o);
}

/* Drops a job that must not be one (an ignored program): untracked, its numbers discarded. */
static void drop_job(struct jobs *j, struct execution *e)
{
	reject(j, e->id, 0);
	tracker__forget(j->tracker, e);
	execution__free(e);
}

static __u64 min_duration_ns(const struct orch *o)
{
	return o ? o->spec.min_duration_ms * 1000000ULL : 0;
}

/* A job is named: announced now, unless it must first outlive the minimum duration. */
static void named(struct jobs *j, struct orch *o, struct execution *e)
{
	e->named_by_exec = false;
	e->announce_at_ns = e->start_ns + min_duration_ns(o);
	if (e->pending && now_mono() >= e->announce_at_ns)
		announce(j, e);
}

/* An orchestrator's child forked: a job from now on, named at its first exec (or as it is after a grace). */
static void on_orch_child(void *ctx, __u64 exec_id, __u64 orch_id, const struct ww_event_hdr *h)
{
	struct jobs *j = ctx;
	struct orch *o = find_orch(j, orch_id);
	struct execution *e;
	__u64 wait;

	if (!o) {
		/* not ours (any more): drop what the kernel started for it */
		tracker__forget_kernel_id(j->tracker, exec_id);
		return;
	}
	e = new_job(j, o, exec_id, h);
	if (!e)
		return;
	snprintf(e->session, sizeof(e->session), "%.*s", (int)sizeof(e->session) - 1, o->spec.session[0] &&
		 !name_template__has_placeholders(o->spec.session) ? o->spec.session : "default");
	snprintf(e->agent, sizeof(e->agent), "%.*s", WW_COMM_LEN, h->comm);
	e->named_by_exec = true;
	wait = min_duration_ns(o) > FORK_GRACE_NS ? min_duration_ns(o) : FORK_GRACE_NS;
	e->announce_at_ns = h->ts_ns + wait;
}

static void job_named(struct jobs *j, const struct ww_job_event *ev, const struct source *s)
{
	struct execution *e = tracker__find(j->tracker, ev->hdr.exec_id);
	struct orch *o = e ? find_orch(j, e->orch_id) : NULL;
	struct job_spec none = {};

	if (!e || !e->named_by_exec)
		return;
	if (o && e->pending && job_spec__ignores(&o->spec, ev->filename)) {
		o->own.ignored++;
		if (o->jobs)
			o->jobs--;
		drop_job(j, e);
		return;
	}
	apply_names(j, e, o ? &o->spec : &none, s);
	if (!e->pending) {
		e->named_by_exec = false;
		if (j->hooks.renamed)
			j->hooks.renamed(j->hooks.ctx, e);
		return;
	}
	named(j, o, e);
}

static void job_from_exec(struct jobs *j, const struct ww_job_event *ev, const struct source *s)
{
	struct orch *o = find_orch(j, ev->orch_id);
	struct execution *e, *parent;
	bool accept;

	if (!o) {
		reject(j, ev->hdr.exec_id, 0);
		return;
	}
	accept = job_spec__accepts(&o->spec, ev->filename);
	/* the next exec of this program is decided in the kernel (a hash collision is caught here) */
	if ((ev->flags & WW_JOB_PROVISIONAL) || !accept)
		probes__set_verdict(j->probes, jobs_id_of(o), probes__path_hash(ev->filename),
				    accept ? WW_VERDICT_ACCEPT : WW_VERDICT_REJECT);
	parent = ev->parent_exec ? tracker__find(j->tracker, ev->parent_exec) : NULL;
	if (parent) {
		fold(j, ev->hdr.exec_id, parent);
		return;
	}
	if (!accept) {
		reject(j, ev->hdr.exec_id, o->id);
		return;
	}
	probes__job_decided(j->probes, ev->hdr.exec_id);
	e = new_job(j, o, ev->hdr.exec_id, &ev->hdr);
	if (!e)
		return;
	apply_names(j, e, &o->spec, s);
	named(j, o, e);
}

static void job_from_rule(struct jobs *j, const struct ww_job_event *ev, const struct source *s)
{
	struct watch_rule *r = find_rule(j, ev->rule);
	struct execution *e;

	if (!r || ((ev->flags & WW_JOB_PROVISIONAL) && !watch_rule__argv_matches(r, s->src.argv, s->src.argc))) {
		reject(j, ev->hdr.exec_id, 0);
		return;
	}
	e = new_job(j, NULL, ev->hdr.exec_id, &ev->hdr);
	if (!e)
		return;
	e->rule = r->id;
	e->job_parent = 0;	/* a watched process's parent is not its orchestrator */
	apply_names(j, e, &r->spec, s);
	announce(j, e);
}

static void orch_from_rule(struct jobs *j, const struct ww_job_event *ev, const struct source *s)
{
	struct watch_rule *r = find_rule(j, ev->rule);
	struct orch_reg reg = { .id = ev->orch_id, .pid = ev->hdr.pid };
	struct orch *o = NULL;
	int pidfd;

	if (!r || ((ev->flags & WW_JOB_PROVISIONAL) && !watch_rule__argv_matches(r, s->src.argv, s->src.argc))) {
		untag_orch(j, ev->orch_id);
		return;
	}
	pidfd = syscall(SYS_pidfd_open, ev->hdr.pid, 0);
	reg.rule = r->id;
	if (pidfd >= 0)
		o = insert_orch(j, &reg, &r->spec, pidfd);
	if (!o) {
		if (pidfd >= 0)
			close(pidfd);
		untag_orch(j, ev->orch_id);
		return;
	}
	snprintf(o->comm, sizeof(o->comm), "%.15s", s->comm);
	if (j->hooks.orch_saved)
		j->hooks.orch_saved(j->hooks.ctx, o);
}

/* A process a rule selects, already running: tracked from now on, as an execution or an orchestrator. */
static int track_running(struct jobs *j, const struct watch_rule *r, pid_t pid)
{
	struct orch_reg reg = { .pid = pid, .rule = r->id };
	struct execution *e = NULL;
	struct source s;
	int pidfd, err;

	pidfd = syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		return -errno;
	source_of_proc(&s, pid, NULL);
	if (!watch_rule__argv_matches(r, s.src.argv, s.src.argc)) {
		err = -ENOENT;
		goto out;
	}
	if (r->action == WATCH_ORCHESTRATOR) {
		const struct orch *o = NULL;

		err = jobs__add_orch(j, &reg, &r->spec, pidfd, true, &o);
		if (!err) {
			pidfd = -1;
			if (j->hooks.orch_saved)
				j->hooks.orch_saved(j->hooks.ctx, o);
		}
		goto out;
	}
	e = new_execution(j, 0, pid, now_mono());
	err = e ? 0 : -ENOMEM;
	if (!err) {
		e->rule = r->id;
		apply_names(j, e, &r->spec, &s);
		err = tracker__attach(j->tracker, e, pidfd);
	}
	if (!err) {
		announce(j, e);
		e = NULL;
	}
out:
	execution__free(e);
	source_release(&s);
	if (pidfd >= 0)
		close(pidfd);
	return err;
}

static void joined_cgroup(struct jobs *j, const struct ww_job_event *ev)
{
	struct watch_rule *r = find_rule(j, ev->rule);

	if (r && r->action != WATCH_NONE)
		track_running(j, r, ev->hdr.pid);
}

static void on_job(void *ctx, const struct ww_job_event *ev, size_t size)
{
	struct jobs *j = ctx;
	struct source s;

	if (ev->kind == WW_JOB_CGROUP) {
		joined_cgroup(j, ev);
		return;
	}
	source_of_event(&s, ev, size);
	switch (ev->kind) {
	case WW_JOB_WATCH:
		job_from_rule(j, ev, &s);
		break;
	case WW_JOB_WATCH_ORCH:
		orch_from_rule(j, ev, &s);
		break;
	case WW_JOB_EXEC:
		job_from_exec(j, ev, &s);
		break;
	case WW_JOB_NAMED:
		job_named(j, ev, &s);
		break;
	}
	source_release(&s);
}

/* Every event of a known execution: a pending job's root exit is kept for its decision; the rest goes on. */
static void on_event(void *ctx, struct execution *e, const struct ww_event_hdr *h, const void *data)
{
	struct jobs *j = ctx;

	if (e->pending) {
		if (h->type == WW_EV_EXIT && h->pid == (__u32)e->pid && !e->root_exited) {
			e->root_exited = true;
			e->root_exit_ns = h->ts_ns;
			e->exit_status = ((const struct ww_exit_event *)data)->exit_status;
		}
		return;
	}
	if (j->hooks.event)
		j->hooks.event(j->hooks.ctx, e, h, data);
}

/* --- adoption, ticks --- */

static int by_start(const void *a, const void *b)
{
	const __u64 *x = a, *y = b;

	return x[0] < y[0] ? -1 : x[0] > y[0];
}

int jobs__adopt(struct jobs *j, __u32 rule_id)
{
	struct ww_watch_match *m = calloc(SCAN_MAX, sizeof(*m));
	__u64 (*order)[2] = calloc(SCAN_MAX, sizeof(*order));
	int n, adopted = 0;

	n = m && order ? probes__watch_scan(j->probes, m, SCAN_MAX) : -ENOMEM;
	/* parents first: attaching one tags its descendants, which are then taken already */
	for (int i = 0; i < n; i++) {
		order[i][0] = start_ticks(m[i].pid, NULL, 0);
		order[i][1] = i;
	}
	if (n > 0)
		qsort(order, n, sizeof(*order), by_start);
	for (int i = 0; i < n; i++) {
		const struct ww_watch_match *x = &m[order[i][1]];
		struct watch_rule *r = find_rule(j, x->rule);

		if (!r || (rule_id && r->id != rule_id) || x->pid == (__u32)getpid())
			continue;
		if (!track_running(j, r, x->pid))
			adopted++;
	}
	free(m);
	free(order);
	if (adopted)
		ww_info("watch rules: took %d running processes", adopted);
	return adopted;
}

/*
 * A child that never executed a program is a copy of its orchestrator: it
 * is named from the orchestrator's argv and environment, with its own comm.
 */
static void name_forked(struct jobs *j, struct orch *o, struct execution *e)
{
	const struct process *root = execution__find_proc(e, e->pid);
	const struct source *from = o ? fork_source_of(o) : NULL;
	struct source s;

	memset(&s, 0, sizeof(s));
	if (from)
		s = *from;
	s.text = NULL;	/* borrowed */
	snprintf(s.comm, sizeof(s.comm), "%.*s", WW_COMM_LEN, root ? root->comm : e->agent);
	s.src.comm = s.comm;
	s.src.argv = s.argv;
	s.src.env = s.env;
	s.src.cgroup = s.cgroup;
	s.src.exe = s.exe;
	apply_names(j, e, o ? &o->spec : &(struct job_spec){}, &s);
	e->named_by_exec = false;
}

struct tick_walk {
	struct jobs *j;
	__u64 now;
	__u64 next_ns;
};

static int tick_pending(struct execution *e, void *ctx)
{
	struct tick_walk *w = ctx;
	struct jobs *j = w->j;
	struct orch *o = find_orch(j, e->orch_id);
	__u64 due;

	if (e->root_exited) {
		due = e->root_exit_ns + SETTLE_NS;
		if (w->now < due) {
			if (due - w->now < w->next_ns)
				w->next_ns = due - w->now;
			return 0;
		}
		if (o && e->root_exit_ns - e->start_ns < min_duration_ns(o)) {
			absorb(j, o, e);
			return 0;
		}
		if (e->named_by_exec)
			name_forked(j, o, e);	/* it never executed a program and is gone */
		announce(j, e);
		return 0;
	}
	if (w->now < e->announce_at_ns) {
		if (e->announce_at_ns - w->now < w->next_ns)
			w->next_ns = e->announce_at_ns - w->now;
		return 0;
	}
	if (e->named_by_exec)
		name_forked(j, o, e);	/* it runs without having executed a program (a forked worker) */
	announce(j, e);
	return 0;
}

/* Orchestrators that exited stop spawning jobs; their own tasks left behind stop being tracked. */
static void reap(struct jobs *j)
{
	bool drained = false;

	for (int i = 0; i < j->nr_orchs; i++) {
		struct orch *o = j->orchs[i];
		struct pollfd p = { .fd = o->pidfd, .events = POLLIN };

		if (poll(&p, 1, 0) != 1)
			continue;
		/* its last children forked before it exited: their events first */
		if (!drained) {
			tracker__poll(j->tracker, 0);
			drained = true;
		}
		untag_orch(j, o->id);
		if (j->hooks.orch_ended)
			j->hooks.orch_ended(j->hooks.ctx, o, true);
		drop_orch(j, o);
		i--;
	}
}

int jobs__tick(struct jobs *j, int max_ms)
{
	struct tick_walk w = { .j = j, .now = now_mono(), .next_ns = (__u64)max_ms * 1000000ULL };

	tracker__foreach_pending(j->tracker, tick_pending, &w);
	reap(j);
	return (int)((w.next_ns + 999999) / 1000000);
}

static int announce_one(struct execution *e, void *ctx)
{
	struct jobs *j = ctx;

	if (e->named_by_exec)
		name_forked(j, find_orch(j, e->orch_id), e);
	announce(j, e);
	return 0;
}

void jobs__stop(struct jobs *j)
{
	tracker__foreach_pending(j->tracker, announce_one, j);
}

/* --- life --- */

static void parse_env_names(struct jobs *j, const char *list)
{
	char buf[1024], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", list ? list : "");
	for (char *name = strtok_r(buf, ", ", &save); name && j->nr_env_names < MAX_ENV_NAMES;
	     name = strtok_r(NULL, ", ", &save))
		snprintf(j->env_names[j->nr_env_names++], sizeof(j->env_names[0]), "%s", name);
}

struct jobs *jobs__new(struct tracker *t, struct probes *p, const struct jobs_opts *o, const struct jobs_hooks *h)
{
	struct tracker_hooks th = { .orch_child = on_orch_child, .event = on_event, .job = on_job };
	struct jobs *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->moved = calloc(RETAG_MAX, sizeof(*j->moved));
	if (!j->moved) {
		free(j);
		return NULL;
	}
	j->tracker = t;
	j->probes = p;
	j->hooks = *h;
	j->slow_threshold_ns = o ? o->slow_threshold_ns : 0;
	parse_env_names(j, o ? o->env_labels : NULL);
	th.ctx = j;
	tracker__set_hooks(t, &th);
	return j;
}

void jobs__free(struct jobs *j)
{
	if (!j)
		return;
	while (j->nr_orchs)
		drop_orch(j, j->orchs[j->nr_orchs - 1]);
	for (int i = 0; i < j->nr_rules; i++)
		watch_rule__release(&j->rules[i]);
	free(j->rules);
	free(j->moved);
	free(j);
}
