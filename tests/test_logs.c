// SPDX-License-Identifier: MIT
/* Logs that ship: the daemon's own log in JSON. */
#include <ctype.h>
#include <fcntl.h>
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "harness.h"
#include "lib/log.h"
#include "wwd.h"

#define HOST "fleet-host-7"
#define WAIT_MS 30000

/* stderr into a file while fn runs; the file's text (malloc'd). */
static char *capture_stderr(void (*fn)(void))
{
	const char *path = harness__tmp("stderr.txt");
	int saved = dup(STDERR_FILENO), fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	fflush(stderr);
	dup2(fd, STDERR_FILENO);
	close(fd);
	fn();
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	return wwd_read_file(path);
}

#define NASTY "a \"quoted\" C:\\path\nline two\ttab \x01 caf\xc3\xa9"

static void log_both_ways(void)
{
	int verbosity = log_verbosity;

	log_verbosity = LOG_WARN;
	log_set_json(true);
	ww_err("%s", NASTY);
	ww_warn("disk %d%% full", 93);
	ww_info("filtered out");
	log_set_json(false);
	ww_warn("plain again");
	log_verbosity = verbosity;
}

/* JSON mode: one object per line whose msg is the message exactly; text mode as before. */
TEST(logs_daemon_log_json_lines_carry_the_message_exactly)
{
	char *text = capture_stderr(log_both_ways), *save = NULL, *l;
	cJSON *j;

	ASSERT(text, "nothing captured");
	l = strtok_r(text, "\n", &save);
	j = l ? cJSON_Parse(l) : NULL;
	CHECK_STR(harness__str(j, "level"), "error");
	CHECK_STR(harness__str(j, "msg"), NASTY);
	CHECK(strlen(harness__str(j, "ts")) == 24 && harness__str(j, "ts")[23] == 'Z', "ts %s", harness__str(j, "ts"));
	cJSON_Delete(j);
	l = strtok_r(NULL, "\n", &save);
	j = l ? cJSON_Parse(l) : NULL;
	CHECK_STR(harness__str(j, "level"), "warning");
	CHECK_STR(harness__str(j, "msg"), "disk 93% full");
	cJSON_Delete(j);
	l = strtok_r(NULL, "\n", &save);
	CHECK_STR(l, "workerwatch: warning: plain again");
	CHECK(!strtok_r(NULL, "\n", &save), "more lines than logged");
	free(text);
}

TEST(logs_daemon_refuses_an_unknown_log_format)
{
	struct cmd_result r;

	harness__run((char *[]){ (char *)wwd_bin("workerwatch"), "daemon", "--log-format", "xml", "--db",
				 (char *)harness__tmp("h.db"), "--log-dir", (char *)harness__tmp("log"), NULL }, 30, &r);
	CHECK_EQ(r.exit_code, 2);
	CHECK(r.err && strstr(r.err, "--log-format wants text or json, not 'xml'"), "stderr: %s", r.err ?: "");
	harness__free_result(&r);
}
