// SPDX-License-Identifier: MIT
/* wwfloor: holds empty BPF programs on workerwatch's hooks (or on the two syscall hooks) until SIGTERM/SIGINT, for make bench. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "wwfloor.skel.h"

static int verbose;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG && !verbose)
		return 0;
	return vfprintf(stderr, fmt, args);
}

/* The tracepoint of a tp_btf program, from its section name. */
static const char *tp_name(const struct bpf_program *prog)
{
	const char *sec = bpf_program__section_name(prog);
	const char *slash = strchr(sec, '/');

	return slash ? slash + 1 : sec;
}

/* Skips hooks this kernel lacks, as workerwatch does, so the floor matches what it attaches. */
static int skip_missing(struct wwfloor_bpf *skel, bool syscalls_only)
{
	struct bpf_program *prog;
	struct btf *vmlinux;
	char name[128];

	vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux)
		return -errno;
	bpf_object__for_each_program(prog, skel->obj) {
		if (syscalls_only && strcmp(tp_name(prog), "sys_enter") && strcmp(tp_name(prog), "sys_exit")) {
			bpf_program__set_autoload(prog, false);
			continue;
		}
		snprintf(name, sizeof(name), "btf_trace_%s", tp_name(prog));
		if (btf__find_by_name_kind(vmlinux, name, BTF_KIND_TYPEDEF) >= 0)
			continue;
		fprintf(stderr, "wwfloor: no tracepoint %s on this kernel, skipped\n", tp_name(prog));
		bpf_program__set_autoload(prog, false);
	}
	btf__free(vmlinux);
	return 0;
}

/* Writes "ready" through a rename, so a reader never sees a half-written file. */
static int write_ready(const char *path)
{
	char tmp[4096];
	FILE *f;
	int n;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fputs("ready\n", f);
	if (fclose(f)) {
		unlink(tmp);
		return -errno;
	}
	if (rename(tmp, path)) {
		n = -errno;
		unlink(tmp);
		return n;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct wwfloor_bpf *skel = NULL;
	bool syscalls_only = false;
	const char *ready_path;
	sigset_t stop;
	int err, sig;

	for (; argc > 2 && argv[1][0] == '-'; argv++, argc--) {
		if (!strcmp(argv[1], "-v"))
			verbose = 1;
		else if (!strcmp(argv[1], "--syscalls"))
			syscalls_only = true;
		else
			break;
	}
	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "Usage: wwfloor [-v] [--syscalls] READY_FILE\n"
				"Attaches empty BPF programs to workerwatch's tracepoints (with --syscalls,\n"
				"to sys_enter and sys_exit only), writes \"ready\" to READY_FILE, and detaches\n"
				"on SIGTERM or SIGINT.\n");
		return 2;
	}
	ready_path = argv[1];

	/* Blocked from the start: a signal sent as soon as "ready" appears must not be lost. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigprocmask(SIG_BLOCK, &stop, NULL);

	libbpf_set_print(libbpf_print);
	skel = wwfloor_bpf__open();
	if (!skel) {
		err = -errno;
		fprintf(stderr, "wwfloor: cannot open BPF object: %s\n", strerror(-err));
		goto cleanup;
	}
	err = skip_missing(skel, syscalls_only);
	if (err) {
		fprintf(stderr, "wwfloor: cannot read kernel BTF: %s\n", strerror(-err));
		goto cleanup;
	}
	err = wwfloor_bpf__load(skel);
	if (err) {
		fprintf(stderr, "wwfloor: cannot load BPF programs: %s\n", strerror(-err));
		goto cleanup;
	}
	err = wwfloor_bpf__attach(skel);
	if (err) {
		fprintf(stderr, "wwfloor: cannot attach BPF programs: %s\n", strerror(-err));
		goto cleanup;
	}
	err = write_ready(ready_path);
	if (err) {
		fprintf(stderr, "wwfloor: cannot write %s: %s\n", ready_path, strerror(-err));
		goto cleanup;
	}
	do {
		sig = sigwaitinfo(&stop, NULL);
	} while (sig < 0 && errno == EINTR);
	err = sig < 0 ? -errno : 0;
cleanup:
	/* Destroying the skeleton closes the links, which detaches every program. */
	wwfloor_bpf__destroy(skel);
	return err ? 1 : 0;
}
