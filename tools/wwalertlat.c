// SPDX-License-Identifier: MIT
/*
 * make bench, alert part: the time from a worker's kernel event (its exit, or
 * its OOM kill) to the first byte of the notification at a local webhook.
 *
 * Usage: wwalertlat --server URL --token-file PATH --port PORT --runs N
 *                   --mode exit|oom [--cgroup DIR]
 * The daemon at URL must route alerts of agent "latency" to
 * http://127.0.0.1:PORT/ with group_wait 0 and group_by ["..."]. Each run
 * forks a worker, attaches it through the API while it waits, then lets it
 * go: "exit" records the time and exits 3; "oom" (inside the memory cgroup
 * DIR) records the time before each 1 MiB it touches until the kernel kills
 * it, so the figure is an upper bound. Prints one JSON line of latencies (µs).
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <poll.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <curl/curl.h>

#define WAIT_MS		10000
#define MIB		(1 << 20)

struct opts {
	const char *server, *token_file, *mode, *cgroup;
	int port, runs;
};

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "wwalertlat: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	exit(1);
}

static size_t discard(void *p, size_t size, size_t n, void *ctx)
{
	(void)p, (void)ctx;
	return size * n;
}

/* POST /api/v1/executions for pid; true on 201. */
static bool attach(const struct opts *o, pid_t pid, int run)
{
	char url[256], body[256], token[128] = "", auth[160];
	struct curl_slist *h = NULL;
	FILE *f = fopen(o->token_file, "r");
	CURL *c = curl_easy_init();
	long status = 0;

	if (f) {
		if (!fgets(token, sizeof(token), f))
			token[0] = 0;
		token[strcspn(token, "\n")] = 0;
		fclose(f);
	}
	snprintf(url, sizeof(url), "%s/api/v1/executions", o->server);
	snprintf(body, sizeof(body), "{\"pid\": %d, \"session\": \"bench\", \"agent\": \"latency\", \"task\": \"run-%d\"}",
		 (int)pid, run);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
	h = curl_slist_append(h, auth);
	h = curl_slist_append(h, "Content-Type: application/json");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return status == 201;
}

/* The worker: waits for the go byte, then does its mode's event. */
static void worker(const struct opts *o, int go, volatile uint64_t *t0)
{
	char b;

	if (read(go, &b, 1) != 1)
		_exit(100);
	if (!strcmp(o->mode, "exit")) {
		*t0 = now_us();
		_exit(3);
	}
	for (;;) {
		char *p;

		*t0 = now_us();
		p = malloc(MIB);
		if (!p)
			_exit(101);
		memset(p, 1, MIB);
	}
}

static void join_cgroup(const char *dir, pid_t pid)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	f = fopen(path, "w");
	if (!f || fprintf(f, "%d\n", (int)pid) < 0 || fclose(f))
		die("cannot move the worker into %s", dir);
}

/*
 * Accepts the next notification that names this run, answers 200, and
 * returns the time its first byte arrived (0 on timeout).
 */
static uint64_t receive(int lfd, int run)
{
	char want[64], buf[65536];
	uint64_t deadline = now_us() + WAIT_MS * 1000ULL;

	snprintf(want, sizeof(want), "\"run-%d\"", run);
	while (now_us() < deadline) {
		struct pollfd p = { .fd = lfd, .events = POLLIN };
		uint64_t first = 0;
		size_t len = 0;
		int fd;

		if (poll(&p, 1, 100) != 1)
			continue;
		fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			continue;
		/* read until the body is complete: headers, then Content-Length bytes */
		for (;;) {
			ssize_t n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
			char *hdr_end, *cl;

			if (n <= 0)
				break;
			if (!first)
				first = now_us();
			len += n;
			buf[len] = 0;
			hdr_end = strstr(buf, "\r\n\r\n");
			cl = strcasestr(buf, "Content-Length:");
			if (hdr_end && cl && len >= (size_t)(hdr_end + 4 - buf) + strtoul(cl + 15, NULL, 10))
				break;
			if (len == sizeof(buf) - 1)
				break;
		}
		send(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok", 59, MSG_NOSIGNAL);
		close(fd);
		if (first && strstr(buf, want))
			return first;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "server", required_argument, NULL, 's' }, { "token-file", required_argument, NULL, 't' },
		{ "port", required_argument, NULL, 'p' }, { "runs", required_argument, NULL, 'n' },
		{ "mode", required_argument, NULL, 'm' }, { "cgroup", required_argument, NULL, 'c' }, {},
	};
	struct opts o = { .server = "http://127.0.0.1:9470", .token_file = "/var/lib/workerwatch/token",
			  .mode = "exit", .runs = 100 };
	struct sockaddr_in sa = { .sin_family = AF_INET };
	volatile uint64_t *t0;
	int ch, lfd, one = 1, missed = 0;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 's': o.server = optarg; break;
		case 't': o.token_file = optarg; break;
		case 'p': o.port = atoi(optarg); break;
		case 'n': o.runs = atoi(optarg); break;
		case 'm': o.mode = optarg; break;
		case 'c': o.cgroup = optarg; break;
		default: die("%s", "bad usage (see the comment at the top of tools/wwalertlat.c)");
		}
	}
	if (o.port <= 0 || o.runs <= 0 || (strcmp(o.mode, "exit") && strcmp(o.mode, "oom")) ||
	    (!strcmp(o.mode, "oom") && !o.cgroup))
		die("%s", "needs --port, --runs > 0 and --mode exit, or --mode oom with --cgroup");
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sa.sin_port = htons(o.port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 16))
		die("cannot listen on 127.0.0.1:%s", argv[0]);
	t0 = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (t0 == MAP_FAILED)
		die("%s", "mmap failed");
	curl_global_init(CURL_GLOBAL_DEFAULT);
	printf("{\"mode\":\"%s\",\"latency_us\":[", o.mode);
	for (int run = 0, printed = 0; run < o.runs; run++) {
		int pipefd[2];
		uint64_t first;
		pid_t pid;

		if (pipe(pipefd))
			die("%s", "pipe failed");
		*t0 = 0;
		pid = fork();
		if (pid == 0) {
			close(pipefd[1]);
			worker(&o, pipefd[0], t0);
		}
		close(pipefd[0]);
		if (o.cgroup)
			join_cgroup(o.cgroup, pid);
		if (!attach(&o, pid, run))
			die("%s", "the daemon refused to attach the worker");
		if (write(pipefd[1], "g", 1) != 1)
			die("%s", "cannot release the worker");
		close(pipefd[1]);
		first = receive(lfd, run);
		waitpid(pid, NULL, 0);
		if (!first || !*t0 || first < *t0) {
			missed++;
			continue;
		}
		printf("%s%llu", printed++ ? "," : "", (unsigned long long)(first - *t0));
	}
	printf("],\"missed\":%d}\n", missed);
	curl_global_cleanup();
	return missed ? 1 : 0;
}
