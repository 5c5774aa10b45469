// SPDX-License-Identifier: MIT
/* The numbers workerwatch keeps of an execution, declared once: the table at run time and the values of an execution. */
#include "history/exec_metrics.h"
#include "history/record.h"
#include "observe/execution.h"

#define CLI(head)	.cli = METRIC_CLI_COLUMN, .cli_head = (head)
#define CLI_ADD		.cli = METRIC_CLI_ADD
#define CLI_PAIR	.cli = METRIC_CLI_PAIR
#define NO_CLI		.cli = METRIC_CLI_NONE
#define PROM(name, type, div, help)	.prom_name = (name), .prom_type = (type), .prom_div = (div), .prom_help = (help)
#define PROM_BY(name, type, div, help, label, value)						\
	PROM(name, type, div, help), .prom_label = (label), .prom_label_value = (value)
#define NO_PROM		.prom_name = NULL
#define RULE(metric, kind, div, unit, help)	.rule_metric = #metric, .rule_kind = METRIC_RULE_##kind, .rule_div = (div)
#define NO_RULE		.rule_metric = NULL
#define DESC(name_, in, unit_, value, cli, prom, rule)					\
	[EXEC_METRIC_##name_] = {							\
		.name = #name_,								\
		.in_record = false IN_RECORD(in, || true),				\
		.in_sample = false IN_SAMPLE(in, || true),				\
		.unit = METRIC_UNIT_##unit_,						\
		cli, prom, rule,							\
		IN_RECORD(in, .record_offset = offsetof(struct exec_record, name_),)	\
		IN_SAMPLE(in, .sample_offset = offsetof(struct sample_row, name_),)	\
	},

const struct exec_metric_desc exec_metrics[NR_EXEC_METRICS] = {
	EXEC_METRICS(DESC)
};

__u64 exec_metric__value(const struct execution *e, enum exec_metric m)
{
	switch (m) {
#define VALUE(name, in, unit, value, ...) case EXEC_METRIC_##name: return (value);
	EXEC_METRICS(VALUE)
#undef VALUE
	case NR_EXEC_METRICS:
		break;
	}
	return 0;
}

__u64 exec_metric__of_record(const struct exec_record *r, enum exec_metric m)
{
	return *(const __u64 *)((const char *)r + exec_metrics[m].record_offset);
}

void exec_metric__set_record(struct exec_record *r, enum exec_metric m, __u64 v)
{
	*(__u64 *)((char *)r + exec_metrics[m].record_offset) = v;
}

__u64 exec_metric__of_sample(const struct sample_row *s, enum exec_metric m)
{
	return *(const __u64 *)((const char *)s + exec_metrics[m].sample_offset);
}

void exec_metric__set_sample(struct sample_row *s, enum exec_metric m, __u64 v)
{
	*(__u64 *)((char *)s + exec_metrics[m].sample_offset) = v;
}
