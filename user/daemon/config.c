// SPDX-License-Identifier: MIT
/* The daemon's settings: one table drives flags, the JSON config file and --help. */
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "daemon/config.h"
#include "lib/log.h"
#include "lib/num.h"

enum opt_type { OPT_STRING, OPT_U64 };

struct option_desc {
	const char *name;		/* flag and JSON key ('-' in flags, '_' in JSON) */
	enum opt_type type;
	size_t offset;
	size_t size;			/* strings: buffer size */
	__u64 min, max;			/* numbers */
	const char *def;
	const char *help;
};

#define STR(field, def, help) { #field, OPT_STRING, offsetof(struct config, field), \
				sizeof(((struct config *)0)->field), 0, 0, def, help }
#define U64(field, lo, hi, def, help) { #field, OPT_U64, offsetof(struct config, field), \
					sizeof(__u64), lo, hi, def, help }

static const struct option_desc options[] = {
	STR(listen, "127.0.0.1:9470", "address and port to serve HTTP on"),
	STR(db, "/var/lib/workerwatch/workerwatch.db", "history database (SQLite)"),
	STR(log_dir, "/var/log/workerwatch", "event log directory (JSON Lines)"),
	STR(token_file, "/var/lib/workerwatch/token", "API token, created on first start"),
	STR(metrics_listen, "", "also serve GET /metrics, alone, on ADDR:PORT for a remote Prometheus"),
	STR(metrics_token_file, "", "file with the bearer token that listener requires (one for the fleet); none: open"),
	STR(env_labels, "GITHUB_RUN_ID,GITHUB_JOB,GITHUB_WORKFLOW,CI_JOB_ID,CI_PIPELINE_ID,BUILD_ID,BUILDKITE_BUILD_ID,JOB_NAME",
	    "environment variables of a worker that become labels"),
	U64(sample_interval_s, 1, 60, "5", "seconds between samples of running executions"),
	U64(sample_retention_days, 1, 3650, "7", "days samples are kept"),
	U64(slow_syscall_ms, 1, 3600000, "1000", "report syscalls slower than this"),
	U64(max_body_bytes, 1024, 16 << 20, "65536", "largest request body accepted"),
	U64(log_max_mb, 1, 102400, "100", "event log size before rotation"),
	U64(log_retention_days, 1, 3650, "30", "days rotated event logs are kept"),
	U64(reads_need_token, 0, 1, "0", "require the token for every read (read-access token)"),
	STR(read_access, "private", "which reads need the token: private (command lines, labels, payloads; the "
	    "default), loopback (none from loopback), token (all), open (none)"),
	STR(allowed_hosts, "", "Host names requests may carry besides localhost and address literals (comma-separated)"),
	STR(metric_labels, "", "execution labels (comma-separated names) that /metrics shows; none unless named"),
	U64(metric_label_values, 1, 1000, "20", "distinct values of each --metric-labels name before the rest show as other"),
	STR(pin_dir, "/sys/fs/bpf/workerwatch", "bpffs directory where the kernel state is pinned, so tracking outlives a restart"),
	U64(bpf_stats, 0, 1, "1", "have the kernel time the BPF programs, for their cost in /metrics"),
	U64(log_process_events, 0, 1, "1", "write FORK, EXEC and EXIT lines of every process to the event log (0: only the root's EXIT)"),
	STR(log_format, "text", "the daemon's own log on stderr: text, or json (one object per line)"),
};

#define NOPTS (sizeof(options) / sizeof(options[0]))

static void flag_name(const struct option_desc *o, char *buf, size_t size)
{
	snprintf(buf, size, "%s", o->name);
	for (char *c = buf; *c; c++)
		if (*c == '_')
			*c = '-';
}

static int set_value(struct config *c, const struct option_desc *o, const char *value,
		     const char *origin)
{
	char *field = (char *)c + o->offset;
	__u64 v;

	if (o->type == OPT_STRING) {
		if (strlen(value) >= o->size) {
			ww_err("%s: %s is longer than %zu characters", origin, o->name, o->size - 1);
			return -EINVAL;
		}
		strcpy(field, value);
		return 0;
	}
	if (num__parse_u64(value, o->min, o->max, &v)) {
		ww_err("%s: %s wants a whole number from %llu to %llu, not '%s'", origin, o->name,
		       (unsigned long long)o->min, (unsigned long long)o->max, value);
		return -EINVAL;
	}
	*(__u64 *)field = v;
	return 0;
}

void config__defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < NOPTS; i++)
		set_value(c, &options[i], options[i].def, "default");
}

static int apply_file(struct config *c, const char *path)
{
	char *text = NULL, num[32];
	cJSON *root = NULL, *item;
	long len;
	int err = -EINVAL;
	FILE *f = fopen(path, "r");

	if (!f) {
		ww_err("cannot read --config %s: %s", path, strerror(errno));
		return -errno;
	}
	if (fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0 || len > (1 << 20) || fseek(f, 0, SEEK_SET)) {
		ww_err("--config %s: not a regular file under 1 MiB", path);
		goto cleanup;
	}
	text = calloc(1, len + 1);
	if (!text || fread(text, 1, len, f) != (size_t)len) {
		ww_err("cannot read --config %s", path);
		goto cleanup;
	}
	root = cJSON_Parse(text);
	if (!cJSON_IsObject(root)) {
		ww_err("--config %s is not a JSON object", path);
		goto cleanup;
	}
	cJSON_ArrayForEach(item, root) {
		const struct option_desc *o = NULL;

		for (size_t i = 0; i < NOPTS; i++)
			if (!strcmp(options[i].name, item->string))
				o = &options[i];
		if (!o)
			continue;	/* other sections (rules, receivers) belong to other modules */
		if (o->type == OPT_STRING && cJSON_IsString(item)) {
			if (set_value(c, o, item->valuestring, path))
				goto cleanup;
		} else if (o->type == OPT_U64 && cJSON_IsNumber(item)) {
			snprintf(num, sizeof(num), "%.0f", item->valuedouble);
			if (item->valuedouble < 0 || set_value(c, o, num, path))
				goto cleanup;
		} else {
			ww_err("--config %s: %s should be a %s", path, o->name,
			       o->type == OPT_STRING ? "string" : "number");
			goto cleanup;
		}
	}
	err = 0;
cleanup:
	cJSON_Delete(root);
	free(text);
	fclose(f);
	return err;
}

int config__parse(struct config *c, int argc, char **argv)
{
	struct option longopts[NOPTS + 5];
	char names[NOPTS][64];
	int ch, idx;

	memset(longopts, 0, sizeof(longopts));
	for (size_t i = 0; i < NOPTS; i++) {
		flag_name(&options[i], names[i], sizeof(names[i]));
		longopts[i] = (struct option){ names[i], required_argument, NULL, 1000 + (int)i };
	}
	longopts[NOPTS] = (struct option){ "config", required_argument, NULL, 'c' };
	longopts[NOPTS + 1] = (struct option){ "verbose", no_argument, NULL, 'v' };
	longopts[NOPTS + 2] = (struct option){ "help", no_argument, NULL, 'h' };
	longopts[NOPTS + 3] = (struct option){ "detach-all", no_argument, NULL, 'D' };

	/* --config first, so that flags win over the file */
	for (int i = 1; i < argc; i++) {
		const char *path = NULL;

		if (!strcmp(argv[i], "--config") && i + 1 < argc)
			path = argv[i + 1];
		else if (!strncmp(argv[i], "--config=", 9))
			path = argv[i] + 9;
		if (path) {
			snprintf(c->config_file, sizeof(c->config_file), "%s", path);
			if (apply_file(c, path))
				return 2;
		}
	}
	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, ":vh", longopts, &idx)) != -1) {
		if (ch >= 1000) {
			char origin[80];

			snprintf(origin, sizeof(origin), "--%s", names[ch - 1000]);
			if (set_value(c, &options[ch - 1000], optarg, origin))
				return 2;
		} else if (ch == 'c') {
			continue;
		} else if (ch == 'v') {
			log_verbosity++;
		} else if (ch == 'D') {
			c->detach_all = true;
		} else if (ch == 'h') {
			config__usage(stdout);
			return -1;
		} else if (ch == ':') {
			ww_err("option %s needs a value", argv[optind - 1]);
			return 2;
		} else {
			ww_err("unknown option '%s' (see workerwatch daemon --help)", argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		ww_err("unexpected argument '%s' (see workerwatch daemon --help)", argv[optind]);
		return 2;
	}
	return 0;
}

int config__listen_addr(const struct config *c, char *addr, size_t size, int *port)
{
	return config__split_addr(c->listen, addr, size, port);
}

int config__split_addr(const char *text, char *addr, size_t size, int *port)
{
	const char *colon = strrchr(text, ':'), *host = text;
	size_t hlen;
	__u64 p;

	if (!colon)
		return -EINVAL;
	hlen = colon - host;
	if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
		host++;
		hlen -= 2;
	}
	if (!hlen || hlen >= size)
		return -EINVAL;
	if (num__parse_u64(colon + 1, 0, 65535, &p))
		return -EINVAL;
	memcpy(addr, host, hlen);
	addr[hlen] = 0;
	*port = (int)p;
	return 0;
}

void config__usage(FILE *out)
{
	char name[64];

	fprintf(out, "Usage: workerwatch daemon [OPTIONS]\n"
		     "Serves workerwatch's HTTP API and keeps history. Every option can also be\n"
		     "a key of the --config JSON file (with '_' for '-'); flags win over the file.\n\n"
		     "  --config FILE                   JSON settings file\n");
	for (size_t i = 0; i < NOPTS; i++) {
		flag_name(&options[i], name, sizeof(name));
		fprintf(out, "  --%-30s %s (default %s)\n", name, options[i].help,
			*options[i].def ? options[i].def : "none");
	}
	fprintf(out, "  --detach-all                    stop the daemon using these settings (if one runs) and\n"
		     "                                  everything it tracks: no BPF program, link or pin is left\n"
		     "  -v, --verbose                   more diagnostics\n"
		     "  -h, --help                      this help\n\n"
		     "Examples:\n"
		     "  workerwatch daemon --config /etc/workerwatch/config.json\n"
		     "  workerwatch daemon --listen 127.0.0.1:9470 --log-format json --log-process-events 0\n"
		     "  workerwatch daemon --config /etc/workerwatch/config.json --detach-all\n");
}
