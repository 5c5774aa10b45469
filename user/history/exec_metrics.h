/* SPDX-License-Identifier: MIT */
/* The numbers workerwatch keeps of an execution, declared once: every layer that shows or stores one reads this table. */
#ifndef EXEC_METRICS_H
#define EXEC_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

/*
 * EXEC_METRICS(X) calls X(name, in, unit, value, cli, prom, rule) once per
 * metric. Adding a metric end to end is: the kernel counter, the tracker,
 * one row here and the dashboard view.
 *
 * name   the field of struct exec_record / struct sample_row, its JSON key
 *        ("metrics".NAME of an execution, NAME of a sample) and its SQL
 *        column; an existing database gains the column when it opens
 * in     RECORD: the execution's summary (the executions table, "metrics");
 *        SAMPLE: its time series (the samples table, the stream's samples);
 *        BOTH; LIVE: neither, only alert rules read it
 * unit   NS, BYTES or COUNT: how printers format it
 * value  its value now, an expression of e (const struct execution *)
 * cli    its column in `workerwatch executions`: CLI("HEAD"); CLI_ADD adds
 *        it to the column before it, CLI_PAIR shows it after that column's
 *        value as a/b; NO_CLI
 * prom   PROM(name, type, div, help): a series of each running execution in
 *        /metrics, the value divided by div; PROM_BY(name, type, div, help,
 *        label, value): the same with one more label, for consecutive rows
 *        that share a family (one row per label value); NO_PROM
 * rule   RULE(metric, kind, div, unit, help): an execution-level metric of
 *        the alert rules' catalog, the value divided by div, as it is
 *        (GAUGE), per second (RATE) or its growth (DELTA) since the last
 *        evaluation; NO_RULE
 */
#define EXEC_METRICS(X)										\
	X(on_cpu_ns, BOTH, NS, e->totals.on_cpu_ns, CLI("CPU"),					\
	  PROM("workerwatch_running_execution_cpu_seconds_total", "counter", 1e9,		\
	       "On-CPU time of a running execution's tree."),					\
	  RULE(cpu_percent, RATE, 1e7, "percent",						\
	       "CPU use of the worker tree, 100 * on-CPU time / wall time (can exceed 100 with several threads)")) \
	X(user_cpu_ns, RECORD, NS, execution__user_cpu_ns(e), NO_CLI,				\
	  PROM_BY("workerwatch_running_execution_cpu_mode_seconds_total", "counter", 1e9,	\
		  "On-CPU time of a running execution's tree by mode, user or system, as the kernel splits it.", \
		  "mode", "user"), NO_RULE)							\
	X(system_cpu_ns, RECORD, NS, execution__system_cpu_ns(e), NO_CLI,			\
	  PROM_BY("workerwatch_running_execution_cpu_mode_seconds_total", "counter", 1e9,	\
		  "On-CPU time of a running execution's tree by mode, user or system, as the kernel splits it.", \
		  "mode", "system"),								\
	  RULE(system_cpu_percent, RATE, 1e7, "percent",					\
	       "System (kernel) CPU use of the worker tree, 100 * system time / wall time"))	\
	X(runqueue_wait_ns, RECORD, NS, e->totals.rq_wait_ns, CLI("RQ WAIT"), NO_PROM,		\
	  RULE(runqueue_wait_ratio, RATE, 1e9, "ratio",						\
	       "Time the tree's threads waited runnable for a CPU, per wall-clock second"))	\
	X(rss_bytes, SAMPLE, BYTES, execution__rss_bytes(e), NO_CLI,				\
	  PROM("workerwatch_running_execution_rss_bytes", "gauge", 1,				\
	       "Resident memory of a running execution's live processes."),			\
	  RULE(rss_bytes, GAUGE, 1, "bytes", "Resident memory of the worker tree"))		\
	X(peak_memory_bytes, RECORD, BYTES, execution__peak_memory_bytes(e), CLI("PEAK MEM"), NO_PROM, \
	  NO_RULE)										\
	X(peak_rss_bytes, RECORD, BYTES, execution__peak_rss_bytes(e), CLI("PEAK RSS"),		\
	  PROM("workerwatch_running_execution_peak_rss_bytes", "gauge", 1,			\
	       "The highest resident memory a running execution's tree reached."),		\
	  RULE(peak_rss_bytes, GAUGE, 1, "bytes", "Highest resident memory the tree has reached")) \
	X(minor_faults, RECORD, COUNT, e->totals.minflt, CLI("FAULTS"), NO_PROM, NO_RULE)	\
	X(major_faults, RECORD, COUNT, e->totals.majflt, CLI_ADD, NO_PROM,			\
	  RULE(major_faults_rate, RATE, 1, "per second", "Major page faults per second"))	\
	X(syscalls, BOTH, COUNT, execution__syscalls(e), CLI("SYSCALLS"),			\
	  PROM("workerwatch_running_execution_syscalls_total", "counter", 1,			\
	       "Syscalls made by a running execution's tree."), NO_RULE)			\
	X(syscall_errors, RECORD, COUNT, execution__syscall_errors(e), CLI("ERRORS"), NO_PROM, NO_RULE) \
	X(slow_syscalls, LIVE, COUNT, e->nr_slow + e->slow_dropped, NO_CLI, NO_PROM,		\
	  RULE(slow_syscalls, DELTA, 1, "count", "Slow syscalls in the window"))		\
	X(net_sent_bytes, BOTH, BYTES, execution__net_bytes(e, 0), CLI("SENT"),			\
	  PROM("workerwatch_running_execution_network_sent_bytes_total", "counter", 1,		\
	       "Bytes a running execution sent on sockets."),					\
	  RULE(net_tx_bytes_rate, RATE, 1, "bytes per second", "Bytes sent per second"))	\
	X(net_recv_bytes, BOTH, BYTES, execution__net_bytes(e, 1), CLI("RECEIVED"),		\
	  PROM("workerwatch_running_execution_network_received_bytes_total", "counter", 1,	\
	       "Bytes a running execution received on sockets."),				\
	  RULE(net_rx_bytes_rate, RATE, 1, "bytes per second", "Bytes received per second"))	\
	X(tcp_retransmits, LIVE, COUNT, e->totals.tcp_retransmits, NO_CLI, NO_PROM,		\
	  RULE(tcp_retransmits_rate, RATE, 1, "per second", "TCP retransmissions per second"))	\
	X(process_count, RECORD, COUNT, (__u64)(e->nr_procs + e->procs_offset), CLI("PROCS"), NO_PROM, NO_RULE)	\
	X(processes, SAMPLE, COUNT, execution__live_procs(e), NO_CLI,				\
	  PROM("workerwatch_running_execution_processes", "gauge", 1,				\
	       "Live processes of a running execution."), NO_RULE)				\
	X(files_created, RECORD, COUNT, e->totals.files_created, CLI("FILES NEW/WRITTEN"), NO_PROM, NO_RULE) \
	X(files_written, RECORD, COUNT, e->totals.files_written, CLI_PAIR, NO_PROM, NO_RULE)

/* IN_RECORD(in, x) is x for the metrics of the summary record, IN_SAMPLE(in, x) for those of a sample. */
#define IN_RECORD(in, ...)		IN_RECORD_##in(__VA_ARGS__)
#define IN_RECORD_RECORD(...)		__VA_ARGS__
#define IN_RECORD_BOTH(...)		__VA_ARGS__
#define IN_RECORD_SAMPLE(...)
#define IN_RECORD_LIVE(...)
#define IN_SAMPLE(in, ...)		IN_SAMPLE_##in(__VA_ARGS__)
#define IN_SAMPLE_RECORD(...)
#define IN_SAMPLE_BOTH(...)		__VA_ARGS__
#define IN_SAMPLE_SAMPLE(...)		__VA_ARGS__
#define IN_SAMPLE_LIVE(...)

/* The metrics' fields, for struct exec_record and struct sample_row. */
#define EXEC_METRIC_RECORD_FIELD(name, in, ...)	IN_RECORD(in, __u64 name;)
#define EXEC_METRIC_SAMPLE_FIELD(name, in, ...)	IN_SAMPLE(in, __u64 name;)

enum exec_metric {
#define EXEC_METRIC_ID(name, ...) EXEC_METRIC_##name,
	EXEC_METRICS(EXEC_METRIC_ID)
#undef EXEC_METRIC_ID
	NR_EXEC_METRICS
};

enum exec_metric_unit { METRIC_UNIT_NS, METRIC_UNIT_BYTES, METRIC_UNIT_COUNT };
enum exec_metric_cli { METRIC_CLI_NONE, METRIC_CLI_COLUMN, METRIC_CLI_ADD, METRIC_CLI_PAIR };
enum exec_metric_rule { METRIC_RULE_NONE, METRIC_RULE_GAUGE, METRIC_RULE_RATE, METRIC_RULE_DELTA };

/* One row of the table, for code that walks it at run time. */
struct exec_metric_desc {
	const char *name;
	bool in_record, in_sample;
	enum exec_metric_unit unit;
	enum exec_metric_cli cli;
	const char *cli_head;		/* for METRIC_CLI_COLUMN */
	const char *prom_name;		/* NULL: no /metrics series */
	const char *prom_type;
	const char *prom_help;
	double prom_div;
	const char *prom_label;		/* with PROM_BY: one more label, and its value */
	const char *prom_label_value;
	const char *rule_metric;	/* NULL: no alert rule metric */
	enum exec_metric_rule rule_kind;
	double rule_div;
	size_t record_offset;		/* of its field, when in_record */
	size_t sample_offset;		/* when in_sample */
};

extern const struct exec_metric_desc exec_metrics[NR_EXEC_METRICS];

struct execution;
struct exec_record;
struct sample_row;

/* The metric's value of e now (value in the table). */
__u64 exec_metric__value(const struct execution *e, enum exec_metric m);
/* A record's or a sample's field of the metric (which must be in it). */
__u64 exec_metric__of_record(const struct exec_record *r, enum exec_metric m);
void exec_metric__set_record(struct exec_record *r, enum exec_metric m, __u64 v);
__u64 exec_metric__of_sample(const struct sample_row *s, enum exec_metric m);
void exec_metric__set_sample(struct sample_row *s, enum exec_metric m, __u64 v);

#endif
