// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Empty programs on workerwatch's hooks: the cost of merely being attached, for make bench. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/*
 * One program per tracepoint workerwatch attaches to (see bpf/). Each body
 * is empty, so what a syscall pays with these attached is the kernel's own
 * price for a tp_btf program on the hook: the tracepoint's slow path, the
 * trampoline into the program and its recursion guard. That is the floor
 * any observer on these hooks pays, however cheap its filter.
 */
#define FLOOR(tp)				\
	SEC("tp_btf/" #tp)			\
	int wwfloor_##tp(void *ctx)		\
	{					\
		return 0;			\
	}

FLOOR(sys_enter)
FLOOR(sys_exit)
FLOOR(sched_switch)
FLOOR(sched_wakeup)
FLOOR(sched_wakeup_new)
FLOOR(sched_process_fork)
FLOOR(sched_process_exec)
FLOOR(sched_process_exit)
FLOOR(signal_generate)
FLOOR(mark_victim)
FLOOR(rss_stat)
FLOOR(sock_send_length)
FLOOR(sock_recv_length)
FLOOR(inet_sock_set_state)
FLOOR(tcp_retransmit_skb)
