/* SPDX-License-Identifier: MIT */
/* The daemon's settings: one table drives flags, the JSON config file and --help. */
#ifndef CONFIG_H
#define CONFIG_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>

#define CONFIG_PATH_LEN 512
#define CONFIG_MAX_ENV_LABELS 32

struct config {
	char listen[128];		/* ADDR:PORT, [v6]:PORT */
	char db[CONFIG_PATH_LEN];
	char log_dir[CONFIG_PATH_LEN];
	char token_file[CONFIG_PATH_LEN];
	char metrics_listen[128];	/* "": no listener of its own for /metrics */
	char metrics_token_file[CONFIG_PATH_LEN];	/* "": that listener is open */
	char env_labels[1024];		/* comma-separated variable names */
	__u64 sample_interval_s;
	__u64 sample_retention_days;
	__u64 slow_syscall_ms;
	__u64 max_body_bytes;
	__u64 log_max_mb;
	__u64 log_retention_days;
	__u64 reads_need_token;		/* 0 or 1: every read needs the token (read_access "token") */
	char read_access[16];		/* "private", "loopback", "token" or "open" */
	char allowed_hosts[512];	/* Host names besides localhost and address literals */
	char metric_labels[512];	/* execution labels /metrics shows (comma-separated), "" none */
	__u64 metric_label_values;	/* distinct values of each before the rest are "other" */
	char pin_dir[256];		/* bpffs directory of the kernel state that outlives the daemon */
	__u64 bpf_stats;		/* 0 or 1: the kernel times our BPF programs while we run */
	__u64 log_process_events;	/* 0 or 1: FORK, EXEC and EXIT lines of every process in the event log */
	char log_format[8];		/* the daemon's own log on stderr: "text" or "json" */
	char config_file[CONFIG_PATH_LEN];
	bool detach_all;		/* --detach-all: stop tracking for good, leave nothing in the kernel */
};

void config__defaults(struct config *c);

/*
 * Applies --config FILE first (if given among argv), then the flags, so flags
 * win. Returns 0, or 2 after a one-line error, or -1 after --help.
 */
int config__parse(struct config *c, int argc, char **argv);

/* Splits listen into address and port; -EINVAL when malformed. */
int config__listen_addr(const struct config *c, char *addr, size_t size, int *port);
/* The same for any ADDR:PORT or [v6]:PORT text. */
int config__split_addr(const char *text, char *addr, size_t size, int *port);

void config__usage(FILE *out);

#endif
