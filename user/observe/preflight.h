/* SPDX-License-Identifier: MIT */
/* Preflight: probes what this kernel and host give workerwatch, one row per feature, before a daemon runs. */
#ifndef PREFLIGHT_H
#define PREFLIGHT_H

#include <stdbool.h>

/* The oldest kernel with everything workerwatch needs (task storage in tracing programs). */
#define PREFLIGHT_MIN_KERNEL "5.13"

enum preflight_result {
	PREFLIGHT_OK,		/* works */
	PREFLIGHT_NOTE,		/* worth knowing, changes nothing */
	PREFLIGHT_MISSING,	/* an optional feature is absent: the metrics in lost are unavailable */
	PREFLIGHT_FAILED,	/* an essential feature is absent: the daemon cannot run */
	PREFLIGHT_SKIPPED,	/* not probed: it needs root */
};

struct preflight_row {
	char name[64];
	enum preflight_result result;
	char detail[192];
	const char *lost;	/* PREFLIGHT_MISSING: what is unavailable */
};

/* What the rows add up to; also the exit status of `workerwatch check`. */
enum preflight_verdict {
	PREFLIGHT_READY = 0,		/* everything works */
	PREFLIGHT_DEGRADED = 1,		/* runs, without the metrics of the missing rows */
	PREFLIGHT_UNUSABLE = 3,		/* an essential feature fails: the daemon would not start */
	PREFLIGHT_INCOMPLETE = 4,	/* nothing failed, but the BPF probes need root */
};

/*
 * Runs every check (as root it loads, attaches and detaches the real
 * programs once). Returns the number of rows in *rows (malloc'd, free()
 * them), or -errno.
 */
int preflight__run(struct preflight_row **rows);

enum preflight_verdict preflight__verdict(const struct preflight_row *rows, int n);
const char *preflight__result_name(enum preflight_result r);
const char *preflight__verdict_name(enum preflight_verdict v);

#endif
