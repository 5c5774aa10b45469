// SPDX-License-Identifier: MIT
/* Preflight: probes what this kernel and host give workerwatch, one row per feature, before a daemon runs. */
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "lib/log.h"
#include "observe/preflight.h"
#include "observe/probes.h"

#define MAX_ROWS 64
#define MAX_HOOKS 48

struct pf {
	struct preflight_row *rows;
	int n;
	bool root;
	struct btf *vmlinux;	/* NULL when the kernel has no BTF */
};

static void __attribute__((format(printf, 5, 6)))
add(struct pf *pf, const char *name, enum preflight_result result, const char *lost, const char *fmt, ...)
{
	struct preflight_row *r;
	va_list ap;

	if (pf->n >= MAX_ROWS)
		return;
	r = &pf->rows[pf->n++];
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->result = result;
	r->lost = result == PREFLIGHT_MISSING ? lost : NULL;
	va_start(ap, fmt);
	vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
	va_end(ap);
}

/* Why a BPF call failed: missing capabilities, or a kernel older than since. Static buffer. */
static const char *why(int err, const char *since)
{
	static char buf[128];

	if (err == EPERM || err == EACCES)
		snprintf(buf, sizeof(buf), "%s (CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN are needed)", strerror(err));
	else if (since)
		snprintf(buf, sizeof(buf), "%s (Linux %s or later)", strerror(err), since);
	else
		snprintf(buf, sizeof(buf), "%s", strerror(err));
	return buf;
}

/* "r0 = 0; exit": enough for the verifier to say whether a program type and hook are allowed. */
static const struct bpf_insn return_zero[] = {
	{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
	{ .code = BPF_JMP | BPF_EXIT },
};

/* A tracing program of attach type at BTF id btf_id; an fd or -errno. */
static int load_tracing(enum bpf_attach_type type, int btf_id, const struct bpf_insn *insns, size_t n)
{
	LIBBPF_OPTS(bpf_prog_load_opts, o, .expected_attach_type = type, .attach_btf_id = btf_id);
	int fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "ww_preflight", "Dual BSD/GPL", insns, n, &o);

	return fd < 0 ? -errno : fd;
}

/* The BTF id of the sched_switch tracepoint, which every workerwatch kernel has. */
static int switch_btf_id(struct pf *pf)
{
	return btf__find_by_name_kind(pf->vmlinux, "btf_trace_sched_switch", BTF_KIND_TYPEDEF);
}

static void check_kernel(struct pf *pf)
{
	struct utsname u;
	int major = 0, minor = 0, min_major = 0, min_minor = 0;

	if (uname(&u)) {
		add(pf, "kernel", PREFLIGHT_NOTE, NULL, "uname: %s", strerror(errno));
		return;
	}
	sscanf(u.release, "%d.%d", &major, &minor);
	sscanf(PREFLIGHT_MIN_KERNEL, "%d.%d", &min_major, &min_minor);
	if (major > min_major || (major == min_major && minor >= min_minor))
		add(pf, "kernel", PREFLIGHT_OK, NULL, "%s %s (workerwatch needs %s or later)", u.sysname,
		    u.release, PREFLIGHT_MIN_KERNEL);
	else
		add(pf, "kernel", PREFLIGHT_NOTE, NULL, "%s is older than %s: backports may help, the probes decide",
		    u.release, PREFLIGHT_MIN_KERNEL);
}

/* The effective capability set, from /proc/self/status; 0 when unreadable. */
static unsigned long long effective_caps(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	unsigned long long caps = 0;
	char line[256];

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &caps) == 1)
			break;
	if (f)
		fclose(f);
	return caps;
}

static void check_privileges(struct pf *pf)
{
	/* what the unit's bounding set grants for BPF; the rows below show what their lack costs */
	static const struct { int bit; const char *name; } want[] = {
		{ 39, "CAP_BPF" }, { 38, "CAP_PERFMON" }, { 21, "CAP_SYS_ADMIN" },
	};
	unsigned long long caps = effective_caps();
	char lacking[96] = "";

	if (!pf->root) {
		add(pf, "privileges", PREFLIGHT_SKIPPED, NULL,
		    "not root: the daemon needs root, and the BPF checks below need it to probe");
		return;
	}
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!(caps & (1ULL << want[i].bit)))
			snprintf(lacking + strlen(lacking), sizeof(lacking) - strlen(lacking), " %s", want[i].name);
	if (*lacking)
		add(pf, "privileges", PREFLIGHT_NOTE, NULL, "root, but without%s", lacking);
	else
		add(pf, "privileges", PREFLIGHT_OK, NULL, "root with CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN");
}

static void check_btf(struct pf *pf)
{
	pf->vmlinux = btf__load_vmlinux_btf();
	if (!pf->vmlinux)
		add(pf, "kernel BTF", PREFLIGHT_FAILED, NULL, "cannot read /sys/kernel/btf/vmlinux: %s "
		    "(a kernel built with CONFIG_DEBUG_INFO_BTF=y)", strerror(errno));
	else
		add(pf, "kernel BTF", PREFLIGHT_OK, NULL, "/sys/kernel/btf/vmlinux, %u types",
		    btf__type_cnt(pf->vmlinux));
}

/* tp_btf: a tracing program on a BTF tracepoint, loaded and attached for a moment. */
static void check_tp_btf(struct pf *pf)
{
	int id = pf->vmlinux ? switch_btf_id(pf) : -ENOENT, prog, link;

	if (id < 0) {
		add(pf, "program type tp_btf", PREFLIGHT_FAILED, NULL, "no BTF for tracepoints (btf_trace_sched_switch)");
		return;
	}
	prog = load_tracing(BPF_TRACE_RAW_TP, id, return_zero, 2);
	if (prog < 0) {
		add(pf, "program type tp_btf", PREFLIGHT_FAILED, NULL, "cannot load a BTF tracepoint program: %s",
		    why(-prog, "5.5"));
		return;
	}
	link = bpf_raw_tracepoint_open(NULL, prog);
	if (link < 0)
		add(pf, "program type tp_btf", PREFLIGHT_FAILED, NULL, "cannot attach a BTF tracepoint program: %s",
		    why(errno, "5.5"));
	else
		add(pf, "program type tp_btf", PREFLIGHT_OK, NULL, "BTF tracepoints load and attach");
	if (link >= 0)
		close(link);
	close(prog);
}

/* iter/task: the attach and task-listing iterators, run once to the end. */
static void check_iter(struct pf *pf)
{
	int id = pf->vmlinux ? btf__find_by_name_kind(pf->vmlinux, "bpf_iter_task", BTF_KIND_FUNC) : -ENOENT;
	int prog = -1, link = -1, iter = -1, err = 0;
	const char *step = "find bpf_iter_task in BTF";
	char buf[256];

	if (id < 0) {
		err = -ENOENT;
		goto out;
	}
	step = "load";
	prog = load_tracing(BPF_TRACE_ITER, id, return_zero, 2);
	if (prog < 0) {
		err = prog;
		goto out;
	}
	step = "attach";
	link = bpf_link_create(prog, 0, BPF_TRACE_ITER, NULL);
	if (link < 0) {
		err = -errno;
		goto out;
	}
	step = "run";
	iter = bpf_iter_create(link);
	if (iter < 0) {
		err = -errno;
		goto out;
	}
	while ((err = read(iter, buf, sizeof(buf))) > 0)
		;
	err = err < 0 ? -errno : 0;
out:
	if (err)
		add(pf, "program type iter/task", PREFLIGHT_FAILED, NULL, "cannot %s a task iterator: %s", step,
		    why(-err, "5.8"));
	else
		add(pf, "program type iter/task", PREFLIGHT_OK, NULL, "task iterators load, attach and run");
	if (iter >= 0)
		close(iter);
	if (link >= 0)
		close(link);
	if (prog >= 0)
		close(prog);
}

/*
 * Task storage, the way workerwatch uses it: a BTF-described task storage
 * map, reached from a tracing program through the current task. The map
 * came in 5.11 for LSM programs; tracing programs may use it since 5.13.
 */
static void check_task_storage(struct pf *pf)
{
	struct btf *btf = btf__new_empty();
	int int_id, map = -1, prog = -1, sw = pf->vmlinux ? switch_btf_id(pf) : -ENOENT;

	if (!btf || sw < 0) {
		add(pf, "task storage", PREFLIGHT_FAILED, NULL, "no BTF to describe the map with");
		goto out;
	}
	int_id = btf__add_int(btf, "int", 4, BTF_INT_SIGNED);
	if (int_id < 0 || btf__load_into_kernel(btf)) {
		add(pf, "task storage", PREFLIGHT_FAILED, NULL, "cannot load BTF into the kernel: %s", why(errno, NULL));
		goto out;
	}
	{
		LIBBPF_OPTS(bpf_map_create_opts, mo, .map_flags = BPF_F_NO_PREALLOC, .btf_fd = btf__fd(btf),
			    .btf_key_type_id = int_id, .btf_value_type_id = int_id);

		map = bpf_map_create(BPF_MAP_TYPE_TASK_STORAGE, "ww_preflight", 4, 4, 0, &mo);
	}
	if (map < 0) {
		add(pf, "task storage", PREFLIGHT_FAILED, NULL, "no task storage maps: %s", why(errno, "5.11"));
		goto out;
	}
	{
		/* r0 = bpf_get_current_task_btf(); bpf_task_storage_get(map, r0, NULL, 0); return 0 */
		const struct bpf_insn insns[] = {
			{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_get_current_task_btf },
			{ .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = BPF_REG_2, .src_reg = BPF_REG_0 },
			{ .code = BPF_LD | BPF_DW | BPF_IMM, .dst_reg = BPF_REG_1, .src_reg = BPF_PSEUDO_MAP_FD, .imm = map },
			{ 0 },
			{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_3, .imm = 0 },
			{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_4, .imm = 0 },
			{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_task_storage_get },
			{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
			{ .code = BPF_JMP | BPF_EXIT },
		};

		prog = load_tracing(BPF_TRACE_RAW_TP, sw, insns, sizeof(insns) / sizeof(insns[0]));
	}
	if (prog < 0)
		add(pf, "task storage", PREFLIGHT_FAILED, NULL,
		    "tracing programs cannot use task storage: %s", why(-prog, "5.13"));
	else
		add(pf, "task storage", PREFLIGHT_OK, NULL, "task storage maps, from tracing programs");
out:
	if (prog >= 0)
		close(prog);
	if (map >= 0)
		close(map);
	btf__free(btf);
}

static void check_ringbuf(struct pf *pf)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "ww_preflight", 0, 0, (__u32)sysconf(_SC_PAGESIZE), NULL);

	if (fd >= 0)
		add(pf, "ring buffer", PREFLIGHT_OK, NULL, "BPF ring buffers (lifecycle and slow-syscall events)");
	else
		add(pf, "ring buffer", PREFLIGHT_FAILED, NULL, "cannot create a BPF ring buffer: %s", why(errno, "5.8"));
	if (fd >= 0)
		close(fd);
}

/* One row per hook the programs use, from BTF: the tracepoints and the iterator target. */
static void check_hooks(struct pf *pf)
{
	struct probe_hook hooks[MAX_HOOKS];
	int n = probes__hooks(hooks, MAX_HOOKS);

	if (n < 0) {
		add(pf, "hooks", PREFLIGHT_FAILED, NULL, "cannot list the programs' hooks: %s", strerror(-n));
		return;
	}
	for (int i = 0; i < n; i++) {
		char name[96];
		bool seen = false;

		/* two programs share a hook where the kernel changed its arguments (sched_process_exit) */
		for (int j = 0; j < i; j++)
			seen |= !strcmp(hooks[j].hook, hooks[i].hook);
		if (seen)
			continue;
		snprintf(name, sizeof(name), "%s %s", hooks[i].iterator ? "iterator" : "tracepoint", hooks[i].hook);
		if (hooks[i].present && hooks[i].lost)
			add(pf, name, PREFLIGHT_OK, NULL, "%s (without it: no %s)", hooks[i].prog, hooks[i].lost);
		else if (hooks[i].present)
			add(pf, name, PREFLIGHT_OK, NULL, "%s (essential)", hooks[i].prog);
		else if (hooks[i].lost)
			add(pf, name, PREFLIGHT_MISSING, hooks[i].lost, "missing: %s unavailable", hooks[i].lost);
		else
			add(pf, name, PREFLIGHT_FAILED, NULL, "missing, and %s cannot do without it", hooks[i].prog);
	}
}

/*
 * Kernels since 5.11 charge BPF memory to the memory cgroup and ignore
 * RLIMIT_MEMLOCK; older ones count it against the limit, which libbpf
 * raises when it can (CAP_SYS_RESOURCE). bpf_ktime_get_coarse_ns came in the
 * same release, which is how libbpf tells them apart too.
 */
static void check_memlock(struct pf *pf)
{
	struct rlimit rl;
	pid_t child;
	int status = 0;

	if (libbpf_probe_bpf_helper(BPF_PROG_TYPE_SOCKET_FILTER, BPF_FUNC_ktime_get_coarse_ns, NULL) == 1) {
		add(pf, "memlock", PREFLIGHT_OK, NULL, "not needed: BPF memory is charged to the memory cgroup");
		return;
	}
	if (!getrlimit(RLIMIT_MEMLOCK, &rl) && rl.rlim_cur == RLIM_INFINITY) {
		add(pf, "memlock", PREFLIGHT_OK, NULL, "RLIMIT_MEMLOCK is unlimited");
		return;
	}
	/* can libbpf raise it? try in a child, so this process keeps its limit */
	child = fork();
	if (child == 0) {
		struct rlimit inf = { RLIM_INFINITY, RLIM_INFINITY };

		_exit(setrlimit(RLIMIT_MEMLOCK, &inf) ? 1 : 0);
	}
	if (child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) && !WEXITSTATUS(status))
		add(pf, "memlock", PREFLIGHT_OK, NULL, "RLIMIT_MEMLOCK is %llu KiB; libbpf raises it",
		    (unsigned long long)rl.rlim_cur >> 10);
	else
		add(pf, "memlock", PREFLIGHT_FAILED, NULL, "RLIMIT_MEMLOCK is %llu KiB and cannot be raised "
		    "(LimitMEMLOCK=infinity in the unit)", (unsigned long long)rl.rlim_cur >> 10);
}

/* Mount points of a filesystem type from /proc/self/mountinfo (with their super options), joined. */
static int mounts_of(const char *fstype, char *points, size_t psize, char *opts, size_t osize)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[1024];
	int n = 0;

	points[0] = 0;
	if (opts)
		opts[0] = 0;
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char mnt[512], type[64], super[512];
		const char *dash = strstr(line, " - ");

		/* id parent major:minor root mount-point options ... - type source super-options */
		if (!dash || sscanf(line, "%*s %*s %*s %*s %511s", mnt) != 1 ||
		    sscanf(dash + 3, "%63s %*s %511s", type, super) != 2 || strcmp(type, fstype))
			continue;
		snprintf(points + strlen(points), psize - strlen(points), "%s%s", n ? " " : "", mnt);
		if (opts)
			snprintf(opts + strlen(opts), osize - strlen(opts), "%s%s", n ? "," : "", super);
		n++;
	}
	fclose(f);
	return n;
}

/* The daemon pins its maps and links there (pin_dir), so tracking outlives a restart; it mounts bpffs itself. */
static void check_bpffs(struct pf *pf)
{
	char points[256];
	pid_t child;
	int status = 0;

	if (mounts_of("bpf", points, sizeof(points), NULL, 0)) {
		add(pf, "bpffs", PREFLIGHT_OK, NULL, "mounted at %s", points);
		return;
	}
	if (!pf->root) {
		add(pf, "bpffs", PREFLIGHT_SKIPPED, NULL, "not mounted; whether it can be needs root");
		return;
	}
	/* mountable? try in a private mount namespace, which vanishes with the child */
	child = fork();
	if (child == 0) {
		if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
			_exit(2);
		_exit(mount("bpf", "/sys/fs/bpf", "bpf", 0, NULL) ? 1 : 0);
	}
	if (child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) && !WEXITSTATUS(status))
		add(pf, "bpffs", PREFLIGHT_OK, NULL, "not mounted; mountable, the daemon mounts it at /sys/fs/bpf");
	else
		add(pf, "bpffs", PREFLIGHT_MISSING, "tracking across daemon restarts (run with pin_dir \"\")",
		    "not mounted and not mountable: the daemon cannot pin its state");
}

/* Controllers of the cgroup2 hierarchy mounted at dir, or "" when unreadable. */
static void v2_controllers(const char *dir, char *out, size_t size)
{
	char path[600];
	FILE *f;

	out[0] = 0;
	snprintf(path, sizeof(path), "%s/cgroup.controllers", dir);
	f = fopen(path, "re");
	if (!f)
		return;
	if (!fgets(out, (int)size, f))
		out[0] = 0;
	out[strcspn(out, "\n")] = 0;
	fclose(f);
}

static void check_cgroups(struct pf *pf)
{
	static const char *const known[] = { "memory", "cpu", "cpuacct", "cpuset", "pids", "blkio", "io",
					     "devices", "freezer", "net_cls", "perf_event", "hugetlb", "rdma" };
	char points[1024], opts[2048], ctrls[256] = "", v2[256], v2first[512];
	int n1 = mounts_of("cgroup", points, sizeof(points), opts, sizeof(opts));
	int n2;
	bool v1_memory = !access("/sys/fs/cgroup/memory/memory.limit_in_bytes", R_OK), v2_memory;

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		char *p = opts;
		size_t len = strlen(known[i]);

		/* a whole word of the super options: "rw,memory" has memory, "rw,cpuacct" has no "cpu" */
		while ((p = strstr(p, known[i])) && !((p == opts || p[-1] == ',') && (!p[len] || p[len] == ',')))
			p += len;
		if (p)
			snprintf(ctrls + strlen(ctrls), sizeof(ctrls) - strlen(ctrls), "%s%s", *ctrls ? " " : "",
				 known[i]);
	}
	if (n1)
		add(pf, "cgroup v1", PREFLIGHT_OK, NULL, "%d hierarchies: %s", n1, *ctrls ? ctrls : "no controllers");
	else
		add(pf, "cgroup v1", PREFLIGHT_NOTE, NULL, "not mounted");

	n2 = mounts_of("cgroup2", points, sizeof(points), NULL, 0);
	snprintf(v2first, sizeof(v2first), "%.*s", (int)strcspn(points, " "), points);
	v2_controllers(v2first, v2, sizeof(v2));
	if (n2)
		add(pf, "cgroup v2", PREFLIGHT_OK, NULL, "at %s, controllers: %s", v2first, *v2 ? v2 : "none");
	else
		add(pf, "cgroup v2", PREFLIGHT_NOTE, NULL, "not mounted");

	/* where the memory headroom of an execution looks for its limits (alert source) */
	v2_controllers("/sys/fs/cgroup", v2, sizeof(v2));
	v2_memory = strstr(v2, "memory") != NULL;
	if (v1_memory || v2_memory)
		add(pf, "cgroup memory limits", PREFLIGHT_OK, NULL, "read from %s",
		    v1_memory ? "/sys/fs/cgroup/memory (v1)" : "/sys/fs/cgroup (v2)");
	else
		add(pf, "cgroup memory limits", PREFLIGHT_MISSING, "memory_headroom_bytes of a cgroup limit (MemTotal instead)",
		    "no memory controller at /sys/fs/cgroup/memory (v1) or /sys/fs/cgroup (v2)");
}

/* The kernel's run time and run count per program (bpf_prog_info), for the observer's cost. */
static void check_bpf_stats(struct pf *pf)
{
	FILE *f = fopen("/proc/sys/kernel/bpf_stats_enabled", "re");
	int fd = bpf_enable_stats(BPF_STATS_RUN_TIME), sysctl = -1;

	if (f) {
		if (fscanf(f, "%d", &sysctl) != 1)
			sysctl = -1;
		fclose(f);
	}
	if (fd < 0)
		add(pf, "BPF run-time statistics", PREFLIGHT_MISSING, "workerwatch_bpf_program_run_seconds_total",
		    "cannot enable them: %s", why(errno, "5.8"));
	else
		add(pf, "BPF run-time statistics", PREFLIGHT_OK, NULL,
		    "kernel.bpf_stats_enabled=%d; the daemon enables them while it runs", sysctl);
	if (fd >= 0)
		close(fd);
}

/* The real thing: the observer's programs, loaded, attached and detached again. */
static void check_load(struct pf *pf)
{
	struct probes *p = probes__load(NULL);
	int err;

	err = p ? probes__attach(p) : -errno;
	if (err)
		add(pf, "workerwatch programs", PREFLIGHT_FAILED, NULL, "cannot %s them: %s",
		    p ? "attach" : "load", why(-err, NULL));
	else
		add(pf, "workerwatch programs", PREFLIGHT_OK, NULL, "loaded, attached and detached");
	if (p)
		probes__detach(p);
	probes__free(p);
}

static const struct {
	const char *name;
	bool needs_root;
	void (*run)(struct pf *pf);
} checks[] = {
	{ "kernel", false, check_kernel },
	{ "privileges", false, check_privileges },
	{ "kernel BTF", false, check_btf },
	{ "program type tp_btf", true, check_tp_btf },
	{ "program type iter/task", true, check_iter },
	{ "task storage", true, check_task_storage },
	{ "ring buffer", true, check_ringbuf },
	{ "hooks", false, check_hooks },
	{ "memlock", true, check_memlock },
	{ "bpffs", false, check_bpffs },
	{ "cgroups", false, check_cgroups },
	{ "BPF run-time statistics", true, check_bpf_stats },
	{ "workerwatch programs", true, check_load },
};

/* libbpf's own messages only with -vv: the rows say what failed and why. */
static int quiet_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	return level == LIBBPF_DEBUG && log_verbosity >= LOG_DEBUG ? vfprintf(stderr, fmt, args) : 0;
}

int preflight__run(struct preflight_row **rows)
{
	struct pf pf = { .root = geteuid() == 0 };
	int saved = log_verbosity;

	pf.rows = calloc(MAX_ROWS, sizeof(*pf.rows));
	if (!pf.rows)
		return -ENOMEM;
	libbpf_set_print(quiet_print);
	/* failures are rows here, not log lines (probes.c logs them for the daemon) */
	if (log_verbosity <= LOG_WARN)
		log_verbosity = -1;
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		if (checks[i].needs_root && !pf.root)
			add(&pf, checks[i].name, PREFLIGHT_SKIPPED, NULL, "needs root");
		else
			checks[i].run(&pf);
	}
	log_verbosity = saved;
	btf__free(pf.vmlinux);
	*rows = pf.rows;
	return pf.n;
}

enum preflight_verdict preflight__verdict(const struct preflight_row *rows, int n)
{
	bool missing = false, skipped = false;

	for (int i = 0; i < n; i++) {
		if (rows[i].result == PREFLIGHT_FAILED)
			return PREFLIGHT_UNUSABLE;
		missing |= rows[i].result == PREFLIGHT_MISSING;
		skipped |= rows[i].result == PREFLIGHT_SKIPPED;
	}
	return skipped ? PREFLIGHT_INCOMPLETE : missing ? PREFLIGHT_DEGRADED : PREFLIGHT_READY;
}

const char *preflight__result_name(enum preflight_result r)
{
	static const char *const names[] = { "ok", "note", "missing", "FAILED", "skipped" };

	return r <= PREFLIGHT_SKIPPED ? names[r] : "?";
}

const char *preflight__verdict_name(enum preflight_verdict v)
{
	switch (v) {
	case PREFLIGHT_READY: return "ready";
	case PREFLIGHT_DEGRADED: return "degraded";
	case PREFLIGHT_UNUSABLE: return "unusable";
	case PREFLIGHT_INCOMPLETE: return "incomplete";
	}
	return "?";
}
