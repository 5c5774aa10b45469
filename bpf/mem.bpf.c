// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Current and peak RSS (file, anon, shmem) of tracked executions, from the kernel's mm counters. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "maps.bpf.h"

/* include/linux/mm_types_task.h: MM_FILEPAGES, MM_ANONPAGES, MM_SWAPENTS, MM_SHMEMPAGES */
static const int rss_member[3] = { 0, 1, 3 };

/*
 * rss_stat fires on every change of an mm counter. Only changes made by a
 * tracked task to its own mm are taken; each one re-reads the whole split,
 * so a change made by someone else (reclaim) is caught up at the next one.
 */
SEC("tp_btf/rss_stat")
int BPF_PROG(ww_rss, struct mm_struct *mm, int member)
{
	struct task_struct *cur = bpf_get_current_task_btf();
	struct ww_exec_mem *mem;
	struct ww_proc *proc;
	__s64 now[3], delta, total, own;
	__u32 tgid;
	int i;

	if (!task_state(cur) || cur->mm != mm)
		return 0;
	tgid = cur->tgid;
	proc = bpf_map_lookup_elem(&procs, &tgid);
	if (!proc || proc->await_exec || proc->exited)
		return 0;
	mem = exec_mem_of(proc->exec_id);
	if (!mem)
		return 0;

	total = 0;
	own = 0;
	for (i = 0; i < 3; i++) {
		now[i] = mm->rss_stat[rss_member[i]].count;
		if (now[i] < 0)
			now[i] = 0;	/* percpu_counter's unfolded deltas */
		own += now[i];
		delta = now[i] - proc->rss_pages[i];
		proc->rss_pages[i] = now[i];
		total += __sync_fetch_and_add(&mem->rss_pages[i], delta) + delta;
	}
	if (own > proc->peak_pages)
		proc->peak_pages = own;
	note_mem_peaks(mem, tgid, now, total);
	return 0;
}
