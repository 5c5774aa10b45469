/* SPDX-License-Identifier: MIT */
/* Loads the BPF programs after probing which hooks this kernel has, and attaches them on demand. */
#ifndef PROBES_H
#define PROBES_H

#include <stdbool.h>
#include <linux/types.h>

struct probes;
struct workerwatch_bpf;

struct probes_opts {
	__u64 slow_syscall_ns;	/* 0: the default of 1 s */
};

/* Opens, probes and loads; NULL with errno and a logged reason on failure. */
struct probes *probes__load(const struct probes_opts *opts);
void probes__free(struct probes *p);

/* Attaches every loaded program; a no-op when already attached. */
int probes__attach(struct probes *p);
/* Detaches everything, so an idle observer costs nothing. */
void probes__detach(struct probes *p);
bool probes__attached(const struct probes *p);

struct workerwatch_bpf *probes__skel(struct probes *p);

/* Metrics this kernel cannot give (missing hooks), e.g. "network.tcp_retransmits". */
int probes__unavailable(const struct probes *p, const char ***names);

/* Sum of each per-CPU observer counter (enum ww_counter) into out[WW_CNT_MAX]. */
int probes__counters(struct probes *p, __u64 *out);

#endif
