// SPDX-License-Identifier: MIT
/* Loads the BPF programs after probing which hooks this kernel has, and attaches them on demand. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <openssl/evp.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "workerwatch.skel.h"
#include <linux/types.h>
#include "workerwatch.h"
#include "lib/log.h"
#include "observe/probes.h"

#define MAX_UNAVAILABLE 16
#define MAX_LINKS 32
#define BPFFS_ROOT "/sys/fs/bpf"
#define LAYOUT_LEN 16		/* hex digits of the object's SHA-256 that name a pinned layout */

struct probes {
	struct workerwatch_bpf *skel;
	struct bpf_link *attach_iter;	/* iterators live as long as the probes */
	struct bpf_link *tasks_iter;
	struct bpf_link *watch_iter;
	struct bpf_link *retag_iter;
	struct bpf_link *links[MAX_LINKS];	/* the tracepoint programs' links, by program order */
	bool attached;
	bool attach_failed;	/* the last attach failed, nothing is attached */
	__u64 attach_errors;
	int stats_fd;		/* BPF_ENABLE_STATS: the kernel times our programs while it is open */
	int ncpus;
	int n_unavailable;
	const char *unavailable[MAX_UNAVAILABLE];
	/* pinned state: PIN_DIR/LAYOUT/ holds the maps and links, so tracking outlives the daemon */
	char pin_dir[256];		/* "" when nothing is pinned */
	char layout[LAYOUT_LEN + 1];
	bool adopted;			/* the maps were pinned by an earlier daemon of this layout */
	bool discarded;			/* pinned state of another layout was found and removed */
};

/* What is lost when a hook is missing; programs not listed are essential. */
static const struct {
	const char *prog;
	const char *metric;
} optional_hooks[] = {
	{ "ww_wakeup", "cpu.runqueue_wait" },
	{ "ww_wakeup_new", "cpu.runqueue_wait" },
	{ "ww_signal", "execution.failure.evidence.sender" },
	{ "ww_oom_victim", "execution.failure.oom" },
	{ "ww_rss", "memory.peak_rss_bytes" },
	{ "ww_send", "network.sent_bytes" },
	{ "ww_recv", "network.recv_bytes" },
	{ "ww_sock_state", "network.connects" },
	{ "ww_retransmit", "network.tcp_retransmits" },
	{ "ww_sys_enter", "syscalls" },
	{ "ww_sys_exit", "syscalls" },
	{ "ww_watch_cgroup", "watch.cgroup_joins" },
};

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	char *msg = NULL;
	int n;

	if (level == LIBBPF_WARN && log_verbosity < LOG_WARN)
		return 0;
	if (level == LIBBPF_DEBUG && log_verbosity < LOG_DEBUG)
		return 0;
	if (level == LIBBPF_INFO && log_verbosity < LOG_INFO)
		return 0;
	/* through the daemon's log, so that a JSON log stays one object per line */
	n = vasprintf(&msg, fmt, args);
	if (n < 0)
		return n;
	for (size_t len = strlen(msg); len && msg[len - 1] == '\n'; len--)
		msg[len - 1] = 0;
	log_write(level == LIBBPF_WARN ? LOG_WARN : level == LIBBPF_INFO ? LOG_INFO : LOG_DEBUG, "%s", msg);
	free(msg);
	return n;
}

/* The tracepoint a tp_btf program attaches to, from its section name; NULL for others. */
static const char *tp_name(const struct bpf_program *prog)
{
	const char *sec = bpf_program__section_name(prog);

	return strncmp(sec, "tp_btf/", 7) ? NULL : sec + 7;
}

/* Number of arguments of a BTF tracepoint (without the leading context), or -1. */
static int tp_nargs(const struct btf *vmlinux, const char *tp)
{
	const struct btf_type *t;
	char name[128];
	int id;

	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	id = btf__find_by_name_kind(vmlinux, name, BTF_KIND_TYPEDEF);
	if (id < 0)
		return -1;
	t = btf__type_by_id(vmlinux, btf__type_by_id(vmlinux, id)->type);	/* pointer */
	t = btf__type_by_id(vmlinux, t->type);					/* func proto */
	if (!t || !btf_is_func_proto(t))
		return -1;
	return btf_vlen(t) - 1;
}

/* The metric lost without prog's hook, or NULL when the program is essential. */
static const char *optional_metric(const char *prog)
{
	for (size_t i = 0; i < sizeof(optional_hooks) / sizeof(optional_hooks[0]); i++)
		if (!strcmp(optional_hooks[i].prog, prog))
			return optional_hooks[i].metric;
	return NULL;
}

static void mark_unavailable(struct probes *p, const char *metric)
{
	for (int i = 0; i < p->n_unavailable; i++)
		if (!strcmp(p->unavailable[i], metric))
			return;
	if (p->n_unavailable < MAX_UNAVAILABLE)
		p->unavailable[p->n_unavailable++] = metric;
}

/* Turns off programs whose tracepoint this kernel lacks; fails if an essential one is missing. */
static int probe_hooks(struct probes *p, const struct btf *vmlinux)
{
	struct bpf_program *prog;
	int nargs;

	/* sched_process_exit gained group_dead in 6.16; older kernels get the legacy program. */
	nargs = tp_nargs(vmlinux, "sched_process_exit");
	bpf_program__set_autoload(p->skel->progs.ww_exit, nargs >= 2);
	bpf_program__set_autoload(p->skel->progs.ww_exit_legacy, nargs == 1);

	bpf_object__for_each_program(prog, p->skel->obj) {
		const char *metric = optional_metric(bpf_program__name(prog));

		if (!tp_name(prog)) {
			bpf_program__set_autoattach(prog, false);	/* iterators: attached at load */
			continue;
		}
		if (!bpf_program__autoload(prog) || tp_nargs(vmlinux, tp_name(prog)) >= 0)
			continue;
		if (!metric) {
			ww_err("this kernel has no tracepoint %s, which workerwatch needs", tp_name(prog));
			return -ENOENT;
		}
		ww_warn("tracepoint %s is missing: %s unavailable", tp_name(prog), metric);
		bpf_program__set_autoload(prog, false);
		mark_unavailable(p, metric);
	}
	return 0;
}

/* The tracepoint programs that get links, in a fixed order: the index into p->links. */
static int tp_index(struct probes *p, const struct bpf_program *want)
{
	struct bpf_program *prog;
	int i = 0;

	bpf_object__for_each_program(prog, p->skel->obj) {
		if (!tp_name(prog))
			continue;
		if (prog == want)
			return i < MAX_LINKS ? i : -1;
		i++;
	}
	return -1;
}

static void link_path(const struct probes *p, const struct bpf_program *prog, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s/link_%s", p->pin_dir, p->layout, bpf_program__name(prog));
}

/* bpffs at /sys/fs/bpf, mounted when a fresh machine has not. */
static int ensure_bpffs(void)
{
	struct statfs st;

	if (!statfs(BPFFS_ROOT, &st) && st.f_type == BPF_FS_MAGIC)
		return 0;
	if (mkdir(BPFFS_ROOT, 0755) && errno != EEXIST)
		return -errno;
	if (mount("bpf", BPFFS_ROOT, "bpf", 0, "mode=0700"))
		return -errno;
	return 0;
}

/* The object's layout: the first hex digits of the SHA-256 of the BPF object itself. */
static int layout_of(char *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	size_t size = 0;
	const void *elf = workerwatch_bpf__elf_bytes(&size);

	if (!EVP_Digest(elf, size, md, &len, EVP_sha256(), NULL) || len * 2 < LAYOUT_LEN)
		return -EIO;
	for (int i = 0; i < LAYOUT_LEN / 2; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
	return 0;
}

/* Removes a directory of pins: unpinned maps and links go when their last user does. */
static int remove_pins(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[PATH_MAX];
	int err = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (unlink(path) && !err)
			err = -errno;
	}
	closedir(d);
	if (rmdir(dir) && !err)
		err = -errno;
	return err;
}

/* Pinned state of other layouts cannot be read by this build: say so and remove it. */
static int discard_other_layouts(struct probes *p)
{
	DIR *d = opendir(p->pin_dir);
	struct dirent *de;
	char path[PATH_MAX];
	int err = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || !strcmp(de->d_name, p->layout))
			continue;
		ww_warn("%s/%s holds the kernel state of another workerwatch build (BPF layout %s, this one is %s): "
			"its executions cannot be carried over; starting clean", p->pin_dir, de->d_name, de->d_name,
			p->layout);
		snprintf(path, sizeof(path), "%s/%s", p->pin_dir, de->d_name);
		err = remove_pins(path);
		if (err)
			break;
		p->discarded = true;
	}
	closedir(d);
	return err;
}

/*
 * Every map but the read-only settings is pinned under PIN_DIR/LAYOUT/ and
 * reused from there when an earlier daemon of the same layout left it: the
 * executions it tracked go on being counted in the kernel while no daemon runs.
 */
static int pin_prepare(struct probes *p, const char *pin_dir)
{
	char dir[PATH_MAX], path[PATH_MAX * 2];
	struct bpf_map *map;
	struct stat st;
	int err;

	err = ensure_bpffs();
	if (err) {
		ww_err("cannot mount bpffs at %s: %s", BPFFS_ROOT, strerror(-err));
		return err;
	}
	if (strlen(pin_dir) >= sizeof(p->pin_dir) || pin_dir[0] != '/') {
		ww_err("the pin directory must be an absolute path under %zu characters, not '%s'",
		       sizeof(p->pin_dir), pin_dir);
		return -EINVAL;
	}
	snprintf(p->pin_dir, sizeof(p->pin_dir), "%s", pin_dir);
	err = layout_of(p->layout);
	if (!err && mkdir(p->pin_dir, 0700) && errno != EEXIST)
		err = -errno;
	if (!err)
		err = discard_other_layouts(p);
	snprintf(dir, sizeof(dir), "%s/%s", p->pin_dir, p->layout);
	if (!err && mkdir(dir, 0700) && errno != EEXIST)
		err = -errno;
	if (err) {
		ww_err("cannot prepare %s for pinned state: %s", dir, strerror(-err));
		return err;
	}
	bpf_object__for_each_map(map, p->skel->obj) {
		const char *name = bpf_map__name(map);

		if (strstr(name, ".rodata") || strstr(name, ".kconfig"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		/* bpffs refuses names with a dot (internal maps are "obj.bss") */
		for (char *c = path + strlen(dir) + 1; *c; c++)
			if (*c == '.')
				*c = '_';
		if (!stat(path, &st))
			p->adopted = true;
		err = bpf_map__set_pin_path(map, path);
		if (err)
			return err;
	}
	return 0;
}

/* Links an earlier daemon pinned stay attached: take them over instead of attaching twice. */
static void adopt_links(struct probes *p)
{
	struct bpf_program *prog;
	char path[PATH_MAX];
	struct stat st;
	int i;

	bpf_object__for_each_program(prog, p->skel->obj) {
		if (!tp_name(prog) || (i = tp_index(p, prog)) < 0)
			continue;
		link_path(p, prog, path, sizeof(path));
		if (stat(path, &st))
			continue;
		p->links[i] = bpf_link__open(path);
		if (p->links[i])
			p->attached = true;
		else
			ww_warn("cannot take over %s: %s", path, strerror(errno));
	}
}

int probes__unpin_all(struct probes *p)
{
	char dir[PATH_MAX];
	struct bpf_map *map;
	int err;

	if (!p->pin_dir[0])
		return 0;
	probes__detach(p);
	bpf_object__for_each_map(map, p->skel->obj)
		if (bpf_map__is_pinned(map))
			bpf_map__unpin(map, NULL);
	snprintf(dir, sizeof(dir), "%s/%s", p->pin_dir, p->layout);
	err = remove_pins(dir);
	rmdir(p->pin_dir);	/* only when no other layout is left in it */
	return err;
}

bool probes__adopted(const struct probes *p)
{
	return p->adopted;
}

bool probes__discarded(const struct probes *p)
{
	return p->discarded;
}

struct probes *probes__load(const struct probes_opts *opts)
{
	struct btf *vmlinux = NULL;
	struct probes *p;
	int err;

	libbpf_set_print(libbpf_print);
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->stats_fd = -1;
	p->ncpus = libbpf_num_possible_cpus();
	if (p->ncpus <= 0) {
		err = p->ncpus ? p->ncpus : -EINVAL;
		goto cleanup;
	}
	vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux) {
		err = -errno;
		ww_err("cannot read kernel BTF (/sys/kernel/btf/vmlinux): %s", strerror(-err));
		goto cleanup;
	}
	p->skel = workerwatch_bpf__open();
	if (!p->skel) {
		err = -errno;
		ww_err("cannot open BPF object: %s", strerror(-err));
		goto cleanup;
	}
	if (opts && opts->slow_syscall_ns)
		p->skel->rodata->slow_syscall_ns = opts->slow_syscall_ns;
	err = probe_hooks(p, vmlinux);
	if (err)
		goto cleanup;
	if (opts && opts->pin_dir && opts->pin_dir[0]) {
		err = pin_prepare(p, opts->pin_dir);
		if (err)
			goto cleanup;
	}
	err = workerwatch_bpf__load(p->skel);
	if (err) {
		ww_err("cannot load BPF programs: %s (run with -v for the verifier log)", strerror(-err));
		goto cleanup;
	}
	p->attach_iter = bpf_program__attach_iter(p->skel->progs.ww_attach_iter, NULL);
	p->tasks_iter = bpf_program__attach_iter(p->skel->progs.ww_tasks_iter, NULL);
	p->watch_iter = bpf_program__attach_iter(p->skel->progs.ww_watch_iter, NULL);
	p->retag_iter = bpf_program__attach_iter(p->skel->progs.ww_retag_iter, NULL);
	if (!p->attach_iter || !p->tasks_iter || !p->watch_iter || !p->retag_iter) {
		err = -errno;
		ww_err("cannot create task iterators: %s", strerror(-err));
		goto cleanup;
	}
	if (p->pin_dir[0])
		adopt_links(p);
cleanup:
	btf__free(vmlinux);
	if (err) {
		probes__free(p);
		errno = -err;
		return NULL;
	}
	return p;
}

int probes__hooks(struct probe_hook *out, int max)
{
	struct workerwatch_bpf *skel = NULL;
	struct btf *vmlinux = NULL;
	struct bpf_program *prog;
	int n = 0, err = 0;

	libbpf_set_print(libbpf_print);
	vmlinux = btf__load_vmlinux_btf();
	skel = workerwatch_bpf__open();
	if (!vmlinux || !skel) {
		err = -errno;
		goto cleanup;
	}
	bpf_object__for_each_program(prog, skel->obj) {
		const char *tp = tp_name(prog), *sec = bpf_program__section_name(prog);
		struct probe_hook *h = &out[n];

		if (n >= max)
			break;
		memset(h, 0, sizeof(*h));
		snprintf(h->prog, sizeof(h->prog), "%s", bpf_program__name(prog));
		h->lost = optional_metric(h->prog);
		if (tp) {
			snprintf(h->hook, sizeof(h->hook), "%s", tp);
			h->present = tp_nargs(vmlinux, tp) >= 0;
		} else {
			/* "iter/task": the kernel's bpf_iter_task target */
			const char *slash = strchr(sec, '/');

			h->iterator = true;
			snprintf(h->hook, sizeof(h->hook), "bpf_iter_%s", slash ? slash + 1 : sec);
			h->present = btf__find_by_name_kind(vmlinux, h->hook, BTF_KIND_FUNC) >= 0;
		}
		n++;
	}
cleanup:
	workerwatch_bpf__destroy(skel);
	btf__free(vmlinux);
	return err ? err : n;
}

void probes__free(struct probes *p)
{
	if (!p)
		return;
	/* a pinned link stays attached: closing our handle keeps the kernel counting */
	for (int i = 0; i < MAX_LINKS; i++)
		bpf_link__destroy(p->links[i]);
	bpf_link__destroy(p->attach_iter);
	bpf_link__destroy(p->tasks_iter);
	bpf_link__destroy(p->watch_iter);
	bpf_link__destroy(p->retag_iter);
	workerwatch_bpf__destroy(p->skel);
	if (p->stats_fd >= 0)
		close(p->stats_fd);
	free(p);
}

int probes__attach(struct probes *p)
{
	struct bpf_program *prog;
	char path[PATH_MAX];
	int err = 0, i;

	if (p->attached)
		return 0;
	bpf_object__for_each_program(prog, p->skel->obj) {
		if (!tp_name(prog) || !bpf_program__autoload(prog) || (i = tp_index(p, prog)) < 0 || p->links[i])
			continue;
		p->links[i] = bpf_program__attach(prog);
		if (!p->links[i]) {
			err = -errno;
			ww_err("cannot attach BPF program %s: %s", bpf_program__name(prog), strerror(-err));
			break;
		}
		if (!p->pin_dir[0])
			continue;
		link_path(p, prog, path, sizeof(path));
		err = bpf_link__pin(p->links[i], path);
		if (err) {
			ww_err("cannot pin %s: %s", path, strerror(-err));
			break;
		}
	}
	p->attached = true;
	if (err) {
		probes__detach(p);
		p->attach_failed = true;
		p->attach_errors++;
		return err;
	}
	p->attach_failed = false;
	return 0;
}

void probes__detach(struct probes *p)
{
	if (!p->attached)
		return;
	for (int i = 0; i < MAX_LINKS; i++) {
		if (!p->links[i])
			continue;
		if (p->pin_dir[0])
			bpf_link__unpin(p->links[i]);
		bpf_link__destroy(p->links[i]);
		p->links[i] = NULL;
	}
	p->attached = false;
}

bool probes__attached(const struct probes *p)
{
	return p->attached;
}

enum probes_state probes__state(const struct probes *p, __u64 *attach_errors)
{
	if (attach_errors)
		*attach_errors = p->attach_errors;
	return p->attached ? PROBES_ATTACHED : p->attach_failed ? PROBES_FAILED : PROBES_IDLE;
}

const char *probes__state_name(enum probes_state s)
{
	return s == PROBES_ATTACHED ? "attached" : s == PROBES_FAILED ? "failed" : "idle";
}

int probes__enable_stats(struct probes *p)
{
	if (p->stats_fd >= 0)
		return 0;
	p->stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	return p->stats_fd < 0 ? -errno : 0;
}

bool probes__stats_enabled(const struct probes *p)
{
	FILE *f;
	int on = 0;

	if (p->stats_fd >= 0)
		return true;
	/* someone else may have turned them on (sysctl kernel.bpf_stats_enabled=1) */
	f = fopen("/proc/sys/kernel/bpf_stats_enabled", "re");
	if (f) {
		if (fscanf(f, "%d", &on) != 1)
			on = 0;
		fclose(f);
	}
	return on > 0;
}

int probes__prog_stats(struct probes *p, struct probe_prog_stats *out, int max)
{
	struct bpf_program *prog;
	int n = 0;

	bpf_object__for_each_program(prog, p->skel->obj) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(prog);

		/* programs this kernel did not load (a missing hook) have no fd and no cost */
		if (n >= max || fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
			continue;
		out[n].name = bpf_program__name(prog);
		out[n].run_time_ns = info.run_time_ns;
		out[n].run_count = info.run_cnt;
		out[n].recursion_misses = info.recursion_misses;
		n++;
	}
	return n;
}

struct workerwatch_bpf *probes__skel(struct probes *p)
{
	return p->skel;
}

int probes__unavailable(const struct probes *p, const char ***names)
{
	*names = (const char **)p->unavailable;
	return p->n_unavailable;
}

int probes__counters(struct probes *p, __u64 *out)
{
	int fd = bpf_map__fd(p->skel->maps.counters);
	__u64 *vals = calloc(p->ncpus, sizeof(*vals));

	if (!vals)
		return -ENOMEM;
	for (__u32 k = 0; k < WW_CNT_MAX; k++) {
		out[k] = 0;
		if (bpf_map_lookup_elem(fd, &k, vals))
			continue;
		for (int c = 0; c < p->ncpus; c++)
			out[k] += vals[c];
	}
	free(vals);
	return 0;
}

__u64 probes__lost_total(const __u64 *counters)
{
	__u64 lost = 0;

	for (int i = 0; i < WW_CNT_MAX; i++)
		if (i != WW_CNT_ORPHAN_TASK)
			lost += counters[i];
	return lost;
}

__u64 probes__new_exec_id(struct probes *p)
{
	return __atomic_add_fetch(&p->skel->bss->next_exec_id, 1, __ATOMIC_SEQ_CST);
}

__u64 probes__last_exec_id(struct probes *p)
{
	return __atomic_load_n(&p->skel->bss->next_exec_id, __ATOMIC_SEQ_CST);
}

/* Runs an iterator to its end; out/size receive its output when given. */
static int run_iter(struct bpf_link *link, void *out, size_t size, size_t *len)
{
	int fd = bpf_iter_create(bpf_link__fd(link));
	size_t used = 0;
	char scratch[4096];
	ssize_t n;
	int err = 0;

	if (fd < 0)
		return -errno;
	for (;;) {
		char *dst = out && used < size ? (char *)out + used : scratch;
		size_t room = out && used < size ? size - used : sizeof(scratch);

		n = read(fd, dst, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			break;
		}
		if (n == 0)
			break;
		if (out && used < size)
			used += n;
	}
	close(fd);
	if (len)
		*len = used;
	return err;
}

int probes__attach_tree(struct probes *p, __u32 tgid, __u64 exec_id, __u64 orch_id,
			__u32 *tagged, __u32 *skipped, __u32 *live)
{
	struct workerwatch_bpf__bss *bss = p->skel->bss;
	int err;

	bss->attach_tgid = tgid;
	bss->attach_exec_id = exec_id;
	bss->attach_orch_id = orch_id;
	bss->attach_tasks = 0;
	bss->attach_skipped = 0;
	bss->attach_live = 0;
	err = run_iter(p->attach_iter, NULL, 0, NULL);
	*tagged = bss->attach_tasks;
	*skipped = bss->attach_skipped;
	*live = bss->attach_live;
	return err;
}

int probes__tasks(struct probes *p, struct ww_task_info *out, int max)
{
	size_t len;
	int err = run_iter(p->tasks_iter, out, max * sizeof(*out), &len);

	return err ? err : (int)(len / sizeof(*out));
}

int probes__set_watch_rules(struct probes *p, const struct ww_watch_rule *rules, int n)
{
	int fd = bpf_map__fd(p->skel->maps.watch_rules);
	__u32 *count = &p->skel->bss->watch_rules_n;

	if (n < 0 || n > WW_WATCH_RULES_MAX)
		return -E2BIG;
	/* never let the kernel read a slot in the middle of its rewrite as a live rule */
	if ((__u32)n < *count)
		__atomic_store_n(count, n, __ATOMIC_SEQ_CST);
	for (__u32 i = 0; i < (__u32)n; i++)
		if (bpf_map_update_elem(fd, &i, &rules[i], BPF_ANY))
			return -errno;
	__atomic_store_n(count, n, __ATOMIC_SEQ_CST);
	return 0;
}

int probes__set_orch(struct probes *p, __u64 orch_id, const struct ww_orch *o)
{
	if (bpf_map_update_elem(bpf_map__fd(p->skel->maps.orchs), &orch_id, o, BPF_ANY))
		return errno == E2BIG ? -ENOSPC : -errno;
	return 0;
}

void probes__delete_orch(struct probes *p, __u64 orch_id)
{
	bpf_map_delete_elem(bpf_map__fd(p->skel->maps.orchs), &orch_id);
}

__u64 probes__new_orch_id(struct probes *p)
{
	return __atomic_add_fetch(&p->skel->bss->next_orch_id, 1, __ATOMIC_SEQ_CST);
}

void probes__reserve_orch_ids(struct probes *p, __u64 id)
{
	__u64 cur = __atomic_load_n(&p->skel->bss->next_orch_id, __ATOMIC_SEQ_CST);

	while (cur < id && !__atomic_compare_exchange_n(&p->skel->bss->next_orch_id, &cur, id, false,
							 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		;
}

void probes__job_decided(struct probes *p, __u64 exec_id)
{
	bpf_map_delete_elem(bpf_map__fd(p->skel->maps.provisional), &exec_id);
}

__u64 probes__path_hash(const char *path)
{
	__u64 h = 14695981039346656037ULL;

	for (int i = 0; i < WW_FILENAME_LEN && path[i]; i++) {
		h ^= (unsigned char)path[i];
		h *= 1099511628211ULL;
	}
	return h;
}

int probes__set_verdict(struct probes *p, __u32 jobs_id, __u64 hash, unsigned int verdict)
{
	struct ww_verdict_key key = { .hash = hash, .jobs_id = jobs_id };
	__u32 val = verdict;

	if (bpf_map_update_elem(bpf_map__fd(p->skel->maps.job_verdicts), &key, &val, BPF_ANY))
		return -errno;
	return 0;
}

int probes__retag(struct probes *p, __u64 from_exec, __u64 from_orch, __u64 to_exec, __u64 to_orch,
		  struct ww_task_info *out, int max)
{
	struct workerwatch_bpf__bss *bss = p->skel->bss;
	size_t len = 0;
	int err;

	bss->retag_from_exec = from_exec;
	bss->retag_from_orch = from_orch;
	bss->retag_to_exec = to_exec;
	bss->retag_to_orch = to_orch;
	bss->retag_tasks = 0;
	err = run_iter(p->retag_iter, out, out ? max * sizeof(*out) : 0, &len);
	return err ? err : (int)bss->retag_tasks;
}

int probes__watch_scan(struct probes *p, struct ww_watch_match *out, int max)
{
	size_t len;
	int err = run_iter(p->watch_iter, out, max * sizeof(*out), &len);

	return err ? err : (int)(len / sizeof(*out));
}
