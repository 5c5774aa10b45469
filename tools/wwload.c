// SPDX-License-Identifier: MIT
/* wwload: a workload generator that does known work and reports its own ground truth,
 * so tests can check what workerwatch observes. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NSEC_PER_USEC 1000ULL
#define NSEC_PER_MSEC 1000000ULL
#define NSEC_PER_SEC 1000000000ULL
#define MIB (1024ULL * 1024ULL)

/* One write per 4 KiB reaches every page whatever the page size (4K, 16K, 64K). */
#define TOUCH_STRIDE 4096
/* Spin iterations between CPU-clock reads (~tens of microseconds). */
#define BURN_SPIN 20000
#define IO_CHUNK (64 * 1024)
#define SYS_CHUNK (1024 * 1024)
#define SYS_READS_PER_CHECK 4
#define UDP_MAX_PAYLOAD 65507
#define UDP_DEFAULT_DGRAM 1000
#define UDP_PACE_EVERY 64
#define UDP_PACE_US 100
#define SINK_RCVBUF (8 * 1024 * 1024)
#define SINK_DEFAULT_TIMEOUT_MS 10000
#define MEM_DEFAULT_HOLD_MS 200
#define TREE_BURN_MS 20
#define TREE_MAX_PROCESSES 10000
#define LEAK_STEPS_PER_S 10
#define DEFAULT_HOST "127.0.0.1"

#define MAX_MS 86400000ULL
#define MAX_COUNT 1000000000000ULL
#define MAX_BYTES (1ULL << 50)
#define MAX_POS 2

#define DEMO_BURNERS 2
#define DEMO_BURN_MS 300
#define DEMO_MEM_MB 64
#define DEMO_SYSCALLS 20000
#define DEMO_SLEEPS 20
#define DEMO_SLEEP_MS 5
#define DEMO_TCP_BYTES (1024 * 1024)
#define DEMO_UDP_BYTES 100000
#define DEMO_UDP_DGRAM 1000
#define DEMO_TCP_TIMEOUT_MS 10000
#define DEMO_UDP_TIMEOUT_MS 2000

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

enum arg_kind { ARG_PATH, ARG_UINT, ARG_HOST, ARG_PROTO, ARG_SIGNAL };

enum opt_id {
	OPT_OUT,
	OPT_PIDFILE,
	OPT_CHILDREN,
	OPT_THREADS,
	OPT_HOLD,
	OPT_HOST,
	OPT_DGRAM,
	OPT_PORT_FILE,
	OPT_EXPECT,
	OPT_TIMEOUT_MS,
	OPT_COUNT
};

#define OPT_BIT(id) (1u << (id))
#define GLOBAL_OPTS (OPT_BIT(OPT_OUT) | OPT_BIT(OPT_PIDFILE))

struct opt_spec {
	const char *name;
	const char *metavar;
	enum arg_kind kind;
	uint64_t min, max, def;
	const char *def_str;
	const char *help;
};

static const struct opt_spec opt_specs[OPT_COUNT] = {
	[OPT_OUT] = { "out", "FILE", ARG_PATH, 0, 0, 0, NULL,
		      "write the JSON report to FILE (atomically) instead of stdout" },
	[OPT_PIDFILE] = { "pidfile", "FILE", ARG_PATH, 0, 0, 0, NULL,
			  "write own pid to FILE (atomically) at start" },
	[OPT_CHILDREN] = { "children", "N", ARG_UINT, 0, 1024, 0, NULL, "cpu: forked children" },
	[OPT_THREADS] = { "threads", "N", ARG_UINT, 0, 1024, 0, NULL, "cpu: extra burning threads per process" },
	[OPT_HOLD] = { "hold", "MS", ARG_UINT, 0, MAX_MS, MEM_DEFAULT_HOLD_MS, NULL,
		       "mem: how long to hold the memory" },
	[OPT_HOST] = { "host", "ADDR", ARG_HOST, 0, 0, 0, DEFAULT_HOST,
		       "tcp-send, udp-send, sink: 127.0.0.1 or ::1 only" },
	[OPT_DGRAM] = { "dgram", "SIZE", ARG_UINT, 1, UDP_MAX_PAYLOAD, UDP_DEFAULT_DGRAM, NULL,
			"udp-send: datagram payload size" },
	[OPT_PORT_FILE] = { "port-file", "FILE", ARG_PATH, 0, 0, 0, NULL,
			    "sink: write the bound port to FILE (atomically) once ready" },
	[OPT_EXPECT] = { "expect", "BYTES", ARG_UINT, 0, MAX_BYTES, 0, NULL,
			 "sink udp: stop after BYTES bytes; 0 waits for the timeout" },
	[OPT_TIMEOUT_MS] = { "timeout-ms", "MS", ARG_UINT, 1, MAX_MS, SINK_DEFAULT_TIMEOUT_MS, NULL,
			     "sink: stop after MS ms without data; tcp: only if\n"
			     "given, and then it is an error" },
};

struct pos_spec {
	const char *name;
	enum arg_kind kind;
	uint64_t min, max;
};

struct args;
struct report;

struct mode_spec {
	const char *name;
	int (*run)(const struct args *a, struct report *rep);
	/* Optional cross-argument validation, a usage error when it fails. */
	int (*check)(const struct args *a);
	/* Optional step after the report is out (kill signals only then). */
	int (*after_report)(const struct args *a);
	unsigned npos;
	struct pos_spec pos[MAX_POS];
	unsigned opts;
	const char *help;
};

struct args {
	const struct mode_spec *mode;
	uint64_t pos[MAX_POS];
	bool has[OPT_COUNT];
	uint64_t num[OPT_COUNT];
	const char *str[OPT_COUNT];
};

struct report {
	const char *mode;
	char extra[512];
	size_t len;
	int exit_code;
};

struct endpoint {
	struct sockaddr_storage addr;
	socklen_t len;
	int family;
	char text[INET6_ADDRSTRLEN + 8];
};

/* Shared I/O buffer; each process uses it from one thread only. */
static char io_buf[IO_CHUNK];

/* Leaked chunks are chained here so they stay reachable, like a real leak in a long-lived cache. */
static void *leak_head;

__attribute__((format(printf, 2, 3)))
static int fail(int errnum, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	/* One write, so messages from parallel children do not interleave. */
	fprintf(stderr, "wwload: %s: %s\n", what, strerror(errnum));
	return -errnum;
}

__attribute__((format(printf, 1, 2)))
static int usage_error(const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	fprintf(stderr, "wwload: %s (see wwload --help)\n", what);
	return -EINVAL;
}

static uint64_t clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static uint64_t timeval_ns(struct timeval tv)
{
	return (uint64_t)tv.tv_sec * NSEC_PER_SEC + (uint64_t)tv.tv_usec * NSEC_PER_USEC;
}

static int write_file_atomic(const char *path, const char *data, size_t len)
{
	char *tmp = NULL;
	int fd = -1, err = 0;
	ssize_t n;

	if (asprintf(&tmp, "%s.tmp.%d", path, (int)getpid()) < 0) {
		tmp = NULL;
		err = fail(ENOMEM, "write %s", path);
		goto cleanup;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		err = fail(errno, "create %s", tmp);
		goto cleanup;
	}
	while (len > 0) {
		n = write(fd, data, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = fail(errno, "write %s", tmp);
			goto cleanup;
		}
		data += n;
		len -= (size_t)n;
	}
	n = close(fd);
	fd = -1;
	if (n < 0) {
		err = fail(errno, "close %s", tmp);
		goto cleanup;
	}
	/* Readers polling for the file see either nothing or the whole content. */
	if (rename(tmp, path) < 0) {
		err = fail(errno, "rename %s to %s", tmp, path);
		goto cleanup;
	}
cleanup:
	if (fd >= 0)
		close(fd);
	if (err && tmp)
		unlink(tmp);
	free(tmp);
	return err;
}

static int write_number_file(const char *path, uint64_t value)
{
	char line[32];
	int len = snprintf(line, sizeof(line), "%" PRIu64 "\n", value);

	return write_file_atomic(path, line, (size_t)len);
}

static void report__init(struct report *r, const char *mode)
{
	memset(r, 0, sizeof(*r));
	r->mode = mode;
}

__attribute__((format(printf, 2, 3)))
static void report__addf(struct report *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (r->len >= sizeof(r->extra))
		return;
	va_start(ap, fmt);
	n = vsnprintf(r->extra + r->len, sizeof(r->extra) - r->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		r->len += (size_t)n;
}

static void report__add_u64(struct report *r, const char *key, uint64_t value)
{
	report__addf(r, ",\"%s\":%" PRIu64, key, value);
}

static void report__add_f1(struct report *r, const char *key, double value)
{
	report__addf(r, ",\"%s\":%.1f", key, value);
}

/* This image's own peak RSS (VmHWM): unlike ru_maxrss, not the image it replaced at exec. */
static uint64_t vmhwm_bytes(void)
{
	char line[256];
	uint64_t kib = 0;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %" SCNu64 " kB", &kib) == 1)
			break;
	fclose(f);
	return kib * 1024;
}

/* Totals over this process and every descendant it has waited for, so call it after all waits. */
static int report__emit(const struct report *r, const char *out_path)
{
	struct rusage self, kids;
	uint64_t utime, stime;
	long maxrss_kib;
	char line[1024];
	int len;

	if (getrusage(RUSAGE_SELF, &self) < 0 || getrusage(RUSAGE_CHILDREN, &kids) < 0)
		return fail(errno, "getrusage");
	utime = timeval_ns(self.ru_utime) + timeval_ns(kids.ru_utime);
	stime = timeval_ns(self.ru_stime) + timeval_ns(kids.ru_stime);
	maxrss_kib = self.ru_maxrss > kids.ru_maxrss ? self.ru_maxrss : kids.ru_maxrss;
	len = snprintf(line, sizeof(line),
		       "{\"mode\":\"%s\",\"pid\":%d,\"utime_ns\":%" PRIu64 ",\"stime_ns\":%" PRIu64
		       ",\"cpu_ns\":%" PRIu64 ",\"maxrss_bytes\":%" PRIu64 ",\"vmhwm_bytes\":%" PRIu64
		       ",\"nvcsw\":%ld,\"nivcsw\":%ld,\"minflt\":%ld,\"majflt\":%ld%.*s}\n",
		       r->mode, (int)getpid(), utime, stime, utime + stime, (uint64_t)maxrss_kib * 1024,
		       vmhwm_bytes(),
		       self.ru_nvcsw + kids.ru_nvcsw, self.ru_nivcsw + kids.ru_nivcsw,
		       self.ru_minflt + kids.ru_minflt, self.ru_majflt + kids.ru_majflt,
		       (int)r->len, r->extra);
	if (len < 0 || (size_t)len >= sizeof(line))
		return fail(EOVERFLOW, "format report");
	if (out_path)
		return write_file_atomic(out_path, line, (size_t)len);
	if (fputs(line, stdout) == EOF || fflush(stdout) == EOF)
		return fail(errno, "write report");
	return 0;
}

static int endpoint__init(struct endpoint *ep, const char *host, uint16_t port)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)&ep->addr;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ep->addr;
	char canon[INET6_ADDRSTRLEN];

	memset(ep, 0, sizeof(*ep));
	/* Loopback only: this tool must never put traffic on a real network. */
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		if (in4->sin_addr.s_addr != htonl(INADDR_LOOPBACK))
			return -EADDRNOTAVAIL;
		in4->sin_family = AF_INET;
		in4->sin_port = htons(port);
		ep->len = sizeof(*in4);
		ep->family = AF_INET;
		inet_ntop(AF_INET, &in4->sin_addr, canon, sizeof(canon));
		snprintf(ep->text, sizeof(ep->text), "%s:%u", canon, port);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		if (!IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
			return -EADDRNOTAVAIL;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		ep->len = sizeof(*in6);
		ep->family = AF_INET6;
		inet_ntop(AF_INET6, &in6->sin6_addr, canon, sizeof(canon));
		snprintf(ep->text, sizeof(ep->text), "[%s]:%u", canon, port);
		return 0;
	}
	return -EADDRNOTAVAIL;
}

static const char *args__host(const struct args *a)
{
	return a->has[OPT_HOST] ? a->str[OPT_HOST] : opt_specs[OPT_HOST].def_str;
}

static uint64_t args__num(const struct args *a, enum opt_id id)
{
	return a->has[id] ? a->num[id] : opt_specs[id].def;
}

static void burn_cpu(uint64_t ms)
{
	uint64_t start = clock_ns(CLOCK_THREAD_CPUTIME_ID), x = start | 1;
	volatile uint64_t keep;

	/* A CPU-time clock read is a real syscall (no vDSO), so spin between reads to keep the burn in user time. */
	while (clock_ns(CLOCK_THREAD_CPUTIME_ID) - start < ms * NSEC_PER_MSEC) {
		for (int i = 0; i < BURN_SPIN; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
		}
		keep = x;
	}
	(void)keep;
}

static void *burn_thread(void *arg)
{
	burn_cpu(*(const uint64_t *)arg);
	return NULL;
}

/* Burns ms of CPU on the calling thread and on each of nthreads extra threads, in parallel. */
static int burn_process(uint64_t ms, unsigned nthreads)
{
	pthread_t *tids = NULL;
	unsigned started = 0;
	int err = 0, rc;

	if (nthreads) {
		tids = calloc(nthreads, sizeof(*tids));
		if (!tids) {
			err = fail(ENOMEM, "allocate %u threads", nthreads);
			goto cleanup;
		}
	}
	for (; started < nthreads; started++) {
		rc = pthread_create(&tids[started], NULL, burn_thread, &ms);
		if (rc) {
			err = fail(rc, "create thread");
			goto cleanup;
		}
	}
	burn_cpu(ms);
cleanup:
	for (unsigned i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	free(tids);
	return err;
}

typedef int (*child_fn)(void *arg);

/* Forks a child that runs fn and exits 0 on success, 1 on failure; the child never returns here. */
static int fork_child(child_fn fn, void *arg, pid_t *pid)
{
	pid_t child;

	/* Nothing buffered may be written twice by parent and child. */
	fflush(NULL);
	child = fork();
	if (child < 0)
		return fail(errno, "fork");
	if (child == 0)
		_exit(fn(arg) ? EXIT_RUNTIME : EXIT_OK);
	*pid = child;
	return 0;
}

/* Waits for every pid (even after a failure) so their usage lands in RUSAGE_CHILDREN. */
static int wait_children(const pid_t *pids, unsigned n)
{
	int err = 0, status;
	pid_t r;

	for (unsigned i = 0; i < n; i++) {
		do
			r = waitpid(pids[i], &status, 0);
		while (r < 0 && errno == EINTR);
		if (r < 0) {
			int e = fail(errno, "wait for child %d", (int)pids[i]);

			if (!err)
				err = e;
			continue;
		}
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			continue;
		if (WIFSIGNALED(status))
			fprintf(stderr, "wwload: child %d: killed by signal %d\n", (int)pids[i], WTERMSIG(status));
		else
			fprintf(stderr, "wwload: child %d: exited with status %d\n", (int)pids[i],
				WEXITSTATUS(status));
		if (!err)
			err = -ECHILD;
	}
	return err;
}

static char *alloc_touched(uint64_t bytes)
{
	volatile char *touch;
	char *mem;

	if (bytes > SIZE_MAX)
		return NULL;
	mem = malloc((size_t)bytes);
	if (!mem)
		return NULL;
	/* Volatile so the compiler cannot drop stores to memory it sees freed later. */
	touch = mem;
	for (uint64_t off = 0; off < bytes; off += TOUCH_STRIDE)
		touch[off] = 1;
	return mem;
}

static int sleep_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / NSEC_PER_SEC), .tv_nsec = (long)(ns % NSEC_PER_SEC) };
	int rc;

	do
		rc = clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts);
	while (rc == EINTR);
	return rc ? fail(rc, "clock_nanosleep") : 0;
}

static int run_sleeps(uint64_t ms, uint64_t n)
{
	int err = 0;

	for (uint64_t i = 0; i < n && !err; i++)
		err = sleep_ns(ms * NSEC_PER_MSEC);
	return err;
}

/* Returns the wall time of the loop in ns. */
static uint64_t run_getppid(uint64_t n)
{
	uint64_t start = clock_ns(CLOCK_MONOTONIC);

	/* Raw syscall: the glibc wrapper could be served without entering the kernel. */
	for (uint64_t i = 0; i < n; i++)
		syscall(SYS_getppid);
	return clock_ns(CLOCK_MONOTONIC) - start;
}

/* Returns 1 when fd is readable, 0 on timeout (timeout_ms < 0 waits forever), or -errno. */
static int wait_readable(int fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int rc;

	do
		rc = poll(&pfd, 1, timeout_ms);
	while (rc < 0 && errno == EINTR);
	if (rc < 0)
		return fail(errno, "poll");
	return rc;
}

static int tcp_send(const struct endpoint *ep, uint64_t bytes, uint64_t *sent, uint64_t *received)
{
	int fd = -1, err = 0;
	ssize_t n;

	*sent = 0;
	*received = 0;
	memset(io_buf, 'w', sizeof(io_buf));
	fd = socket(ep->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = fail(errno, "tcp socket");
		goto cleanup;
	}
	if (connect(fd, (const struct sockaddr *)&ep->addr, ep->len) < 0) {
		err = fail(errno, "connect to %s", ep->text);
		goto cleanup;
	}
	while (*sent < bytes) {
		size_t chunk = bytes - *sent < sizeof(io_buf) ? (size_t)(bytes - *sent) : sizeof(io_buf);

		/* MSG_NOSIGNAL: a vanished sink is an error to report, not a SIGPIPE death. */
		n = send(fd, io_buf, chunk, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = fail(errno, "send to %s", ep->text);
			goto cleanup;
		}
		*sent += (uint64_t)n;
	}
	if (shutdown(fd, SHUT_WR) < 0) {
		err = fail(errno, "shutdown %s", ep->text);
		goto cleanup;
	}
	for (;;) {
		n = recv(fd, io_buf, sizeof(io_buf), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = fail(errno, "recv from %s", ep->text);
			goto cleanup;
		}
		if (n == 0)
			break;
		*received += (uint64_t)n;
	}
cleanup:
	if (fd >= 0)
		close(fd);
	return err;
}

static int udp_send(const struct endpoint *ep, uint64_t bytes, size_t dgram, uint64_t *sent,
		    uint64_t *datagrams)
{
	int fd = -1, err = 0;
	ssize_t n;

	*sent = 0;
	*datagrams = 0;
	memset(io_buf, 'u', sizeof(io_buf));
	fd = socket(ep->family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = fail(errno, "udp socket");
		goto cleanup;
	}
	while (*sent < bytes) {
		size_t len = bytes - *sent < dgram ? (size_t)(bytes - *sent) : dgram;

		n = sendto(fd, io_buf, len, 0, (const struct sockaddr *)&ep->addr, ep->len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = fail(errno, "sendto %s", ep->text);
			goto cleanup;
		}
		*sent += (uint64_t)n;
		(*datagrams)++;
		/* Loopback drops silently once the receiver's queue is full; a short pause lets it drain. */
		if (*datagrams % UDP_PACE_EVERY == 0)
			usleep(UDP_PACE_US);
	}
cleanup:
	if (fd >= 0)
		close(fd);
	return err;
}

/* Binds (and for TCP listens on) ep; the kernel picks the port when ep's port is 0. */
static int sink_open(const struct endpoint *ep, int type, int *fd_out, uint16_t *port_out)
{
	struct sockaddr_storage bound;
	socklen_t bound_len = sizeof(bound);
	int fd = -1, err = 0, rcvbuf = SINK_RCVBUF;

	fd = socket(ep->family, type | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = fail(errno, "sink socket");
		goto cleanup;
	}
	/* A big queue keeps the UDP sink from dropping bursts; without CAP_NET_ADMIN the kernel caps
	 * SO_RCVBUF at net.core.rmem_max, which only makes drops more likely, so failures are ignored. */
	if (type == SOCK_DGRAM && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (bind(fd, (const struct sockaddr *)&ep->addr, ep->len) < 0) {
		err = fail(errno, "bind %s", ep->text);
		goto cleanup;
	}
	if (type == SOCK_STREAM && listen(fd, 1) < 0) {
		err = fail(errno, "listen on %s", ep->text);
		goto cleanup;
	}
	if (getsockname(fd, (struct sockaddr *)&bound, &bound_len) < 0) {
		err = fail(errno, "getsockname");
		goto cleanup;
	}
	if (bound.ss_family == AF_INET6)
		*port_out = ntohs(((struct sockaddr_in6 *)&bound)->sin6_port);
	else
		*port_out = ntohs(((struct sockaddr_in *)&bound)->sin_port);
	*fd_out = fd;
	fd = -1;
cleanup:
	if (fd >= 0)
		close(fd);
	return err;
}

/* Accepts one connection on listen_fd, reads it to EOF and closes it; timeout_ms < 0 waits forever. */
static int sink_tcp_serve(int listen_fd, int timeout_ms, uint64_t *received)
{
	int conn = -1, err = 0, rc;
	ssize_t n;

	*received = 0;
	rc = wait_readable(listen_fd, timeout_ms);
	if (rc <= 0) {
		err = rc ? rc : fail(ETIMEDOUT, "sink tcp: no connection within %d ms", timeout_ms);
		goto cleanup;
	}
	do
		conn = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
	while (conn < 0 && errno == EINTR);
	if (conn < 0) {
		err = fail(errno, "accept");
		goto cleanup;
	}
	for (;;) {
		rc = wait_readable(conn, timeout_ms);
		if (rc <= 0) {
			err = rc ? rc : fail(ETIMEDOUT, "sink tcp: no data for %d ms", timeout_ms);
			goto cleanup;
		}
		n = recv(conn, io_buf, sizeof(io_buf), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = fail(errno, "sink tcp recv");
			goto cleanup;
		}
		if (n == 0)
			break;
		*received += (uint64_t)n;
	}
cleanup:
	if (conn >= 0)
		close(conn);
	return err;
}

/* Reads datagrams until expect bytes arrived (expect 0: never) or timeout_ms pass without one. */
static int sink_udp_serve(int fd, uint64_t expect, int timeout_ms, uint64_t *received, uint64_t *datagrams)
{
	ssize_t n;
	int rc;

	*received = 0;
	*datagrams = 0;
	while (!expect || *received < expect) {
		rc = wait_readable(fd, timeout_ms);
		if (rc < 0)
			return rc;
		if (rc == 0)
			break;
		n = recv(fd, io_buf, sizeof(io_buf), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return fail(errno, "sink udp recv");
		}
		*received += (uint64_t)n;
		(*datagrams)++;
	}
	return 0;
}

struct cpu_job {
	uint64_t ms;
	unsigned threads;
};

static int cpu_child(void *arg)
{
	const struct cpu_job *job = arg;

	return burn_process(job->ms, job->threads);
}

static int mode_cpu(const struct args *a, struct report *rep)
{
	struct cpu_job job = { .ms = a->pos[0], .threads = (unsigned)args__num(a, OPT_THREADS) };
	unsigned nchildren = (unsigned)args__num(a, OPT_CHILDREN), forked = 0;
	pid_t *pids = NULL;
	int err = 0, werr;

	if (nchildren) {
		pids = calloc(nchildren, sizeof(*pids));
		if (!pids) {
			err = fail(ENOMEM, "allocate child table");
			goto cleanup;
		}
	}
	for (; forked < nchildren; forked++) {
		err = fork_child(cpu_child, &job, &pids[forked]);
		if (err)
			goto cleanup;
	}
	err = burn_process(job.ms, job.threads);
cleanup:
	werr = wait_children(pids, forked);
	if (!err)
		err = werr;
	free(pids);
	report__add_u64(rep, "processes", 1 + (uint64_t)nchildren);
	report__add_u64(rep, "threads_per_process", 1 + (uint64_t)job.threads);
	return err;
}

static int mode_mem(const struct args *a, struct report *rep)
{
	uint64_t bytes = a->pos[0] * MIB;
	char *mem;
	int err;

	mem = alloc_touched(bytes);
	if (!mem)
		return fail(ENOMEM, "allocate %" PRIu64 " MiB", a->pos[0]);
	err = sleep_ns(args__num(a, OPT_HOLD) * NSEC_PER_MSEC);
	free(mem);
	report__add_u64(rep, "alloc_bytes", bytes);
	return err;
}

static int mode_syscalls(const struct args *a, struct report *rep)
{
	uint64_t n = a->pos[0], wall_ns = run_getppid(n);

	report__add_u64(rep, "calls", n);
	report__add_f1(rep, "ns_per_call", (double)wall_ns / (double)n);
	return 0;
}

/* Burns MS ms of CPU mostly in the kernel: reads of /dev/zero, whose cost is the kernel clearing the buffer. */
static int mode_sys(const struct args *a, struct report *rep)
{
	static char buf[SYS_CHUNK];
	uint64_t start = clock_ns(CLOCK_THREAD_CPUTIME_ID), reads = 0;
	int fd = open("/dev/zero", O_RDONLY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return fail(errno, "open /dev/zero");
	while (clock_ns(CLOCK_THREAD_CPUTIME_ID) - start < a->pos[0] * NSEC_PER_MSEC) {
		for (int i = 0; i < SYS_READS_PER_CHECK; i++, reads++)
			if (read(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf)) {
				err = fail(errno, "read /dev/zero");
				goto cleanup;
			}
	}
cleanup:
	close(fd);
	report__add_u64(rep, "reads", reads);
	return err;
}

static int mode_sleep(const struct args *a, struct report *rep)
{
	report__add_u64(rep, "calls", a->pos[1]);
	return run_sleeps(a->pos[0], a->pos[1]);
}

static int mode_tcp_send(const struct args *a, struct report *rep)
{
	struct endpoint ep;
	uint64_t sent = 0, received = 0;
	int err;

	endpoint__init(&ep, args__host(a), (uint16_t)a->pos[0]);
	err = tcp_send(&ep, a->pos[1], &sent, &received);
	report__add_u64(rep, "sent_bytes", sent);
	report__add_u64(rep, "recv_bytes", received);
	return err;
}

static int mode_udp_send(const struct args *a, struct report *rep)
{
	struct endpoint ep;
	uint64_t sent = 0, datagrams = 0;
	int err;

	endpoint__init(&ep, args__host(a), (uint16_t)a->pos[0]);
	err = udp_send(&ep, a->pos[1], (size_t)args__num(a, OPT_DGRAM), &sent, &datagrams);
	report__add_u64(rep, "sent_bytes", sent);
	report__add_u64(rep, "datagrams", datagrams);
	return err;
}

static int sink_check(const struct args *a)
{
	if (a->pos[0] == SOCK_STREAM && a->has[OPT_EXPECT])
		return usage_error("sink tcp: --expect only applies to udp (tcp reads to EOF)");
	return 0;
}

static int mode_sink(const struct args *a, struct report *rep)
{
	int type = (int)a->pos[0], timeout_ms = (int)args__num(a, OPT_TIMEOUT_MS), fd = -1, err;
	uint64_t received = 0, datagrams = 0;
	struct endpoint ep;
	uint16_t port = 0;

	endpoint__init(&ep, args__host(a), 0);
	err = sink_open(&ep, type, &fd, &port);
	if (err)
		goto cleanup;
	if (a->str[OPT_PORT_FILE]) {
		err = write_number_file(a->str[OPT_PORT_FILE], port);
		if (err)
			goto cleanup;
	}
	if (type == SOCK_STREAM) {
		/* A TCP peer always sends EOF, so only wait bounded when asked to. */
		err = sink_tcp_serve(fd, a->has[OPT_TIMEOUT_MS] ? timeout_ms : -1, &received);
	} else {
		err = sink_udp_serve(fd, args__num(a, OPT_EXPECT), timeout_ms, &received, &datagrams);
		report__add_u64(rep, "datagrams", datagrams);
	}
	report__add_u64(rep, "recv_bytes", received);
	report__add_u64(rep, "port", port);
cleanup:
	if (fd >= 0)
		close(fd);
	return err;
}

static int mode_hang(const struct args *a, struct report *rep)
{
	(void)a;
	(void)rep;
	/* pause() returns only after a signal handler ran, and we install none. */
	for (;;)
		pause();
	return 0;
}

static int mode_kill(const struct args *a, struct report *rep)
{
	(void)a;
	report__add_u64(rep, "killer_pid", (uint64_t)getpid());
	return 0;
}

static int kill_after_report(const struct args *a)
{
	if (kill((pid_t)a->pos[0], (int)a->pos[1]) < 0)
		return fail(errno, "kill %" PRIu64 " with signal %" PRIu64, a->pos[0], a->pos[1]);
	return 0;
}

static int mode_exit(const struct args *a, struct report *rep)
{
	rep->exit_code = (int)a->pos[0];
	return 0;
}

static int mode_crash(const struct args *a, struct report *rep)
{
	volatile int *volatile target = NULL;
	struct rlimit core;
	sigset_t segv;

	(void)a;
	(void)rep;
	/* No core file: tests crash on purpose and the default core_pattern writes into the cwd. */
	if (getrlimit(RLIMIT_CORE, &core) == 0) {
		core.rlim_cur = 0;
		setrlimit(RLIMIT_CORE, &core);
	}
	/* An inherited ignore or block must not turn the fault into something else. */
	signal(SIGSEGV, SIG_DFL);
	sigemptyset(&segv);
	sigaddset(&segv, SIGSEGV);
	sigprocmask(SIG_UNBLOCK, &segv, NULL);
	/* Both volatile: the compiler may neither prove the pointer NULL (and trap with SIGILL)
	 * nor drop the store. */
	*target = 1;
	return fail(EFAULT, "writing through NULL did not crash");
}

struct tree_job {
	unsigned levels;
	unsigned width;
};

static int tree_node(unsigned levels, unsigned width, bool burn);

static int tree_child(void *arg)
{
	const struct tree_job *job = arg;

	return tree_node(job->levels, job->width, true);
}

/* Forks width children that each grow levels-1 more levels, burns if asked while they run, then waits. */
static int tree_node(unsigned levels, unsigned width, bool burn)
{
	struct tree_job below = { .levels = levels ? levels - 1 : 0, .width = width };
	unsigned nchildren = levels ? width : 0, forked = 0;
	pid_t *pids = NULL;
	int err = 0, werr;

	if (nchildren) {
		pids = calloc(nchildren, sizeof(*pids));
		if (!pids) {
			err = fail(ENOMEM, "allocate child table");
			goto cleanup;
		}
	}
	for (; forked < nchildren; forked++) {
		err = fork_child(tree_child, &below, &pids[forked]);
		if (err)
			goto cleanup;
	}
	if (burn)
		burn_cpu(TREE_BURN_MS);
cleanup:
	werr = wait_children(pids, forked);
	if (!err)
		err = werr;
	free(pids);
	return err;
}

/* Processes in a full tree including the root: 1 + W + W^2 + ... + W^D, or UINT64_MAX past the cap. */
static uint64_t tree_size(uint64_t depth, uint64_t width)
{
	uint64_t total = 1, level = 1;

	for (uint64_t d = 0; d < depth; d++) {
		level *= width;
		total += level;
		if (total > TREE_MAX_PROCESSES)
			return UINT64_MAX;
	}
	return total;
}

static int tree_check(const struct args *a)
{
	if (tree_size(a->pos[0], a->pos[1]) > TREE_MAX_PROCESSES)
		return usage_error("tree %" PRIu64 " %" PRIu64 ": more than %d processes", a->pos[0],
				   a->pos[1], TREE_MAX_PROCESSES);
	return 0;
}

static int mode_tree(const struct args *a, struct report *rep)
{
	report__add_u64(rep, "processes", tree_size(a->pos[0], a->pos[1]));
	return tree_node((unsigned)a->pos[0], (unsigned)a->pos[1], false);
}

/* fork, exec /bin/true and wait, N times in a row: the cost of a process's whole life. */
static int mode_spawn(const struct args *a, struct report *rep)
{
	uint64_t n = a->pos[0], t0 = clock_ns(CLOCK_MONOTONIC), wall;
	int status;
	pid_t pid;

	for (uint64_t i = 0; i < n; i++) {
		fflush(NULL);
		pid = fork();
		if (pid < 0)
			return fail(errno, "fork");
		if (pid == 0) {
			execl("/bin/true", "true", (char *)NULL);
			_exit(127);
		}
		if (waitpid(pid, &status, 0) < 0)
			return fail(errno, "waitpid");
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			return fail(ECHILD, "/bin/true failed (status %d)", status);
	}
	wall = clock_ns(CLOCK_MONOTONIC) - t0;
	report__add_u64(rep, "processes", n + 1);
	report__add_u64(rep, "wall_ns", wall);
	report__add_f1(rep, "spawns_per_s", wall ? n * 1e9 / (double)wall : 0);
	return 0;
}

struct shared_job {
	volatile char *mem;
	uint64_t bytes;
	int ready_fd, go_fd;
	int go_write_fd;	/* the parent's: a child closes it, so closing it in the parent means go */
};

/* Reads every page of the shared mapping (mapping it), says so, and holds it until told to go. */
static int shared_child(void *arg)
{
	const struct shared_job *job = arg;
	char c;

	close(job->go_write_fd);
	/* volatile reads: each maps its page into this process */
	for (uint64_t off = 0; off < job->bytes; off += TOUCH_STRIDE)
		(void)job->mem[off];
	if (write(job->ready_fd, "r", 1) != 1)
		return fail(errno, "write ready");
	if (read(job->go_fd, &c, 1) < 0)
		return fail(errno, "read go");
	return 0;
}

/*
 * MB MiB of shared memory (shmem), touched by this process and mapped by N
 * children, all held at once: the RSS of the tree counts it N+1 times, the
 * memory it uses once.
 */
static int mode_shared(const struct args *a, struct report *rep)
{
	struct shared_job job = { .bytes = a->pos[0] * MIB };
	unsigned nchildren = (unsigned)a->pos[1], forked = 0;
	int ready[2] = { -1, -1 }, go[2] = { -1, -1 }, err = 0, werr;
	pid_t *pids = NULL;
	char c;

	job.mem = mmap(NULL, job.bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (job.mem == MAP_FAILED)
		return fail(errno, "mmap %" PRIu64 " MiB shared", a->pos[0]);
	for (uint64_t off = 0; off < job.bytes; off += TOUCH_STRIDE)
		job.mem[off] = 1;
	pids = calloc(nchildren ? nchildren : 1, sizeof(*pids));
	if (!pids || pipe(ready) || pipe(go)) {
		err = fail(errno ? errno : ENOMEM, "set up children");
		goto cleanup;
	}
	job.ready_fd = ready[1];
	job.go_fd = go[0];
	job.go_write_fd = go[1];
	for (; forked < nchildren; forked++) {
		err = fork_child(shared_child, &job, &pids[forked]);
		if (err)
			goto cleanup;
	}
	for (unsigned i = 0; i < nchildren; i++)
		if (read(ready[0], &c, 1) != 1) {
			err = fail(errno ? errno : EPIPE, "wait for children");
			goto cleanup;
		}
	err = sleep_ns(args__num(a, OPT_HOLD) * NSEC_PER_MSEC);
cleanup:
	/* closing the write end lets every child go */
	if (go[1] >= 0)
		close(go[1]);
	werr = wait_children(pids, forked);
	if (!err)
		err = werr;
	for (int i = 0; i < 2; i++) {
		if (ready[i] >= 0)
			close(ready[i]);
		if (go[i] >= 0 && i == 0)
			close(go[i]);
	}
	free(pids);
	munmap((void *)job.mem, job.bytes);
	report__add_u64(rep, "shared_bytes", job.bytes);
	report__add_u64(rep, "processes", forked + 1);
	return err;
}

static int mode_leak(const struct args *a, struct report *rep)
{
	uint64_t per_second = a->pos[0] * MIB, steps = a->pos[1] * LEAK_STEPS_PER_S, leaked = 0;
	uint64_t step_ns = NSEC_PER_SEC / LEAK_STEPS_PER_S, next_ns = clock_ns(CLOCK_MONOTONIC);
	struct timespec next;
	int err = 0, rc;

	for (uint64_t i = 1; i <= steps; i++) {
		/* Sizes follow the running total, so each full second adds exactly MB_PER_S MiB. */
		uint64_t target = per_second * i / LEAK_STEPS_PER_S;
		char *chunk = alloc_touched(target - leaked);

		if (!chunk) {
			err = fail(ENOMEM, "leak %" PRIu64 " more bytes", target - leaked);
			break;
		}
		memcpy(chunk, &leak_head, sizeof(leak_head));
		leak_head = chunk;
		leaked = target;
		/* Absolute deadlines keep the rate exact however long allocating took. */
		next_ns += step_ns;
		next.tv_sec = (time_t)(next_ns / NSEC_PER_SEC);
		next.tv_nsec = (long)(next_ns % NSEC_PER_SEC);
		do
			rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
		while (rc == EINTR);
		if (rc) {
			err = fail(rc, "clock_nanosleep");
			break;
		}
	}
	report__add_u64(rep, "leaked_bytes", leaked);
	return err;
}

static int mode_block_read(const struct args *a, struct report *rep)
{
	int fds[2];
	char byte;

	(void)a;
	(void)rep;
	if (pipe2(fds, O_CLOEXEC) < 0)
		return fail(errno, "pipe");
	/* We hold the write end, so read() never sees EOF and blocks until we are killed. */
	for (;;) {
		if (read(fds[0], &byte, 1) < 0 && errno != EINTR)
			return fail(errno, "read pipe");
	}
}

struct demo_sink {
	int tcp_fd;
	int udp_fd;
};

static int demo_sink_child(void *arg)
{
	const struct demo_sink *sink = arg;
	uint64_t tcp_bytes = 0, udp_bytes = 0, datagrams = 0;
	int err;

	err = sink_tcp_serve(sink->tcp_fd, DEMO_TCP_TIMEOUT_MS, &tcp_bytes);
	if (!err && tcp_bytes != DEMO_TCP_BYTES)
		err = fail(EIO, "demo sink got %" PRIu64 " of %d TCP bytes", tcp_bytes, DEMO_TCP_BYTES);
	/* UDP may drop on loopback, so a short count ends on the timeout and is not an error. */
	if (!err)
		err = sink_udp_serve(sink->udp_fd, DEMO_UDP_BYTES, DEMO_UDP_TIMEOUT_MS, &udp_bytes, &datagrams);
	return err;
}

static int mode_demo(const struct args *a, struct report *rep)
{
	struct demo_sink sink = { .tcp_fd = -1, .udp_fd = -1 };
	struct cpu_job burner = { .ms = DEMO_BURN_MS, .threads = 0 };
	pid_t pids[1 + DEMO_BURNERS] = { 0 };
	unsigned forked = 0;
	uint64_t tcp_sent = 0, tcp_recv = 0, udp_sent = 0, datagrams = 0;
	struct endpoint lo, tcp_ep, udp_ep;
	uint16_t tcp_port, udp_port;
	char *mem = NULL;
	int err, werr;

	(void)a;
	endpoint__init(&lo, DEFAULT_HOST, 0);
	/* Bind before forking the sink, so the ports are known and nothing can race the sink's start. */
	err = sink_open(&lo, SOCK_STREAM, &sink.tcp_fd, &tcp_port);
	if (!err)
		err = sink_open(&lo, SOCK_DGRAM, &sink.udp_fd, &udp_port);
	if (!err)
		err = fork_child(demo_sink_child, &sink, &pids[forked]);
	if (err)
		goto cleanup;
	forked++;
	close(sink.tcp_fd);
	close(sink.udp_fd);
	sink.tcp_fd = sink.udp_fd = -1;
	endpoint__init(&tcp_ep, DEFAULT_HOST, tcp_port);
	endpoint__init(&udp_ep, DEFAULT_HOST, udp_port);

	while (forked < 1 + DEMO_BURNERS) {
		err = fork_child(cpu_child, &burner, &pids[forked]);
		if (err)
			goto cleanup;
		forked++;
	}

	mem = alloc_touched(DEMO_MEM_MB * MIB);
	if (!mem) {
		err = fail(ENOMEM, "allocate %d MiB", DEMO_MEM_MB);
		goto cleanup;
	}
	run_getppid(DEMO_SYSCALLS);
	err = run_sleeps(DEMO_SLEEP_MS, DEMO_SLEEPS);
	if (!err)
		err = tcp_send(&tcp_ep, DEMO_TCP_BYTES, &tcp_sent, &tcp_recv);
	if (!err)
		err = udp_send(&udp_ep, DEMO_UDP_BYTES, DEMO_UDP_DGRAM, &udp_sent, &datagrams);
cleanup:
	/* Without our traffic the sink would only wait out its timeouts. */
	if (err && forked > 0)
		kill(pids[0], SIGTERM);
	werr = wait_children(pids, forked);
	if (!err)
		err = werr;
	free(mem);
	if (sink.tcp_fd >= 0)
		close(sink.tcp_fd);
	if (sink.udp_fd >= 0)
		close(sink.udp_fd);
	report__add_u64(rep, "processes", 1 + (uint64_t)forked);
	report__add_u64(rep, "alloc_bytes", DEMO_MEM_MB * MIB);
	report__add_u64(rep, "syscall_calls", DEMO_SYSCALLS);
	report__add_u64(rep, "sleep_calls", DEMO_SLEEPS);
	report__add_u64(rep, "tcp_sent_bytes", tcp_sent);
	report__add_u64(rep, "udp_sent_bytes", udp_sent);
	return err;
}

static const struct mode_spec modes[] = {
	{ .name = "cpu", .run = mode_cpu, .npos = 1, .pos = { { "MS", ARG_UINT, 0, MAX_MS } },
	  .opts = OPT_BIT(OPT_CHILDREN) | OPT_BIT(OPT_THREADS),
	  .help = "this process and each of N children burn MS ms of CPU; with --threads N every\n"
		  "process also runs N threads burning MS ms each" },
	{ .name = "mem", .run = mode_mem, .npos = 1, .pos = { { "MB", ARG_UINT, 1, 1024 * 1024 } },
	  .opts = OPT_BIT(OPT_HOLD),
	  .help = "malloc MB MiB, touch every page, hold it, free it" },
	{ .name = "syscalls", .run = mode_syscalls, .npos = 1, .pos = { { "N", ARG_UINT, 1, MAX_COUNT } },
	  .help = "make N raw getppid syscalls; reports calls and ns_per_call" },
	{ .name = "sys", .run = mode_sys, .npos = 1, .pos = { { "MS", ARG_UINT, 0, MAX_MS } },
	  .help = "burn MS ms of CPU mostly in the kernel, reading /dev/zero 1 MiB at a time;\n"
		  "reports reads" },
	{ .name = "sleep", .run = mode_sleep, .npos = 2,
	  .pos = { { "MS", ARG_UINT, 0, MAX_MS }, { "N", ARG_UINT, 0, MAX_COUNT } },
	  .help = "N relative CLOCK_MONOTONIC sleeps of MS ms; reports calls" },
	{ .name = "tcp-send", .run = mode_tcp_send, .npos = 2,
	  .pos = { { "PORT", ARG_UINT, 1, 65535 }, { "BYTES", ARG_UINT, 0, MAX_BYTES } },
	  .opts = OPT_BIT(OPT_HOST),
	  .help = "send BYTES over TCP to loopback PORT, shut down writing, read to EOF;\n"
		  "reports sent_bytes and recv_bytes" },
	{ .name = "udp-send", .run = mode_udp_send, .npos = 2,
	  .pos = { { "PORT", ARG_UINT, 1, 65535 }, { "BYTES", ARG_UINT, 0, MAX_BYTES } },
	  .opts = OPT_BIT(OPT_DGRAM) | OPT_BIT(OPT_HOST),
	  .help = "send BYTES as UDP datagrams to loopback PORT; reports sent_bytes, datagrams" },
	{ .name = "sink", .run = mode_sink, .check = sink_check, .npos = 1, .pos = { { "tcp|udp", ARG_PROTO, 0, 0 } },
	  .opts = OPT_BIT(OPT_PORT_FILE) | OPT_BIT(OPT_EXPECT) | OPT_BIT(OPT_TIMEOUT_MS) | OPT_BIT(OPT_HOST),
	  .help = "bind a kernel-chosen loopback port and receive: tcp one connection to EOF,\n"
		  "udp until --expect bytes or the timeout; reports recv_bytes, port" },
	{ .name = "hang", .run = mode_hang, .help = "pause() until killed; writes nothing" },
	{ .name = "kill", .run = mode_kill, .after_report = kill_after_report, .npos = 2,
	  .pos = { { "PID", ARG_UINT, 1, INT_MAX }, { "SIG", ARG_SIGNAL, 0, 0 } },
	  .help = "report (with killer_pid), then send SIG (number or name) to PID" },
	{ .name = "exit", .run = mode_exit, .npos = 1, .pos = { { "CODE", ARG_UINT, 0, 255 } },
	  .help = "report, then exit with CODE" },
	{ .name = "crash", .run = mode_crash, .help = "die of SIGSEGV writing through NULL (core dumps off)" },
	{ .name = "tree", .run = mode_tree, .check = tree_check, .npos = 2,
	  .pos = { { "DEPTH", ARG_UINT, 0, 20 }, { "WIDTH", ARG_UINT, 0, 1000 } },
	  .help = "every process forks WIDTH children down to DEPTH levels; each child burns\n"
		  "20 ms of CPU; reports processes (including self)" },
	{ .name = "spawn", .run = mode_spawn, .npos = 1, .pos = { { "N", ARG_UINT, 1, 1000000 } },
	  .help = "fork, exec /bin/true and wait, N times in a row; reports processes (including\n"
		  "self) and spawns_per_s" },
	{ .name = "shared", .run = mode_shared, .npos = 2,
	  .pos = { { "MB", ARG_UINT, 1, 1024 * 1024 }, { "N", ARG_UINT, 0, 1000 } },
	  .opts = OPT_BIT(OPT_HOLD),
	  .help = "touch MB MiB of shared anonymous memory, fork N children that all map it,\n"
		  "hold it --hold ms once they all have; reports shared_bytes, processes" },
	{ .name = "leak", .run = mode_leak, .npos = 2,
	  .pos = { { "MB_PER_S", ARG_UINT, 1, 65536 }, { "SECONDS", ARG_UINT, 0, 86400 } },
	  .help = "allocate and touch MB_PER_S MiB per second in 10 steps, never free;\n"
		  "reports leaked_bytes" },
	{ .name = "block-read", .run = mode_block_read, .help = "read() an empty pipe forever; writes nothing" },
	{ .name = "demo", .run = mode_demo,
	  .help = "2 children burn 300 ms; 64 MiB touched, 20000 getppid, 20 x 5 ms sleeps,\n"
		  "1 MiB TCP and 100000 B UDP to a forked loopback sink" },
};

static const struct {
	const char *name;
	int number;
} signal_names[] = {
	{ "HUP", SIGHUP },   { "INT", SIGINT },   { "QUIT", SIGQUIT }, { "ILL", SIGILL },   { "TRAP", SIGTRAP },
	{ "ABRT", SIGABRT }, { "BUS", SIGBUS },   { "FPE", SIGFPE },   { "KILL", SIGKILL }, { "USR1", SIGUSR1 },
	{ "SEGV", SIGSEGV }, { "USR2", SIGUSR2 }, { "PIPE", SIGPIPE }, { "ALRM", SIGALRM }, { "TERM", SIGTERM },
	{ "CHLD", SIGCHLD }, { "CONT", SIGCONT }, { "STOP", SIGSTOP }, { "TSTP", SIGTSTP }, { "TTIN", SIGTTIN },
	{ "TTOU", SIGTTOU }, { "URG", SIGURG },   { "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ }, { "VTALRM", SIGVTALRM },
	{ "PROF", SIGPROF }, { "WINCH", SIGWINCH }, { "IO", SIGIO }, { "SYS", SIGSYS },
};

static void print_usage(FILE *f)
{
	char left[64];

	fprintf(f, "Usage: wwload [--out FILE] [--pidfile FILE] MODE [ARGS...]\n"
		   "Does known work, then prints one JSON line with its own ground truth: getrusage of\n"
		   "itself plus its waited-for children, and mode-specific counts.\n\nModes:\n");
	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		const struct mode_spec *spec = &modes[m];
		const char *line = spec->help, *nl;

		fprintf(f, "  %s", spec->name);
		for (unsigned p = 0; p < spec->npos; p++)
			fprintf(f, " %s", spec->pos[p].name);
		for (int id = 0; id < OPT_COUNT; id++)
			if (spec->opts & OPT_BIT(id))
				fprintf(f, " [--%s %s]", opt_specs[id].name, opt_specs[id].metavar);
		fputc('\n', f);
		for (; (nl = strchr(line, '\n')); line = nl + 1)
			fprintf(f, "      %.*s\n", (int)(nl - line), line);
		fprintf(f, "      %s\n", line);
	}
	fprintf(f, "\nOptions:\n");
	for (int id = 0; id < OPT_COUNT; id++) {
		const struct opt_spec *o = &opt_specs[id];
		const char *line, *nl;

		snprintf(left, sizeof(left), "--%s %s", o->name, o->metavar);
		fprintf(f, "  %-20s ", left);
		for (line = o->help; (nl = strchr(line, '\n')); line = nl + 1)
			fprintf(f, "%.*s\n  %-20s ", (int)(nl - line), line, "");
		fputs(line, f);
		if (o->kind == ARG_UINT && o->def)
			fprintf(f, " (default %" PRIu64 ")", o->def);
		else if (o->def_str)
			fprintf(f, " (default %s)", o->def_str);
		fputc('\n', f);
	}
	fprintf(f, "  %-20s %s\n", "--help", "print this help");
	fprintf(f, "\nErrors: a one-line message on stderr; exit 2 for bad usage, 1 for runtime failure.\n");
}

static int parse_uint(const char *what, const char *text, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long value;
	char *end;

	/* strtoull would accept leading blanks and a minus sign. */
	if (text[0] < '0' || text[0] > '9')
		return usage_error("%s '%s': not a non-negative integer", what, text);
	errno = 0;
	value = strtoull(text, &end, 10);
	if (errno == ERANGE || *end)
		return usage_error("%s '%s': %s", what, text, *end ? "not an integer" : strerror(ERANGE));
	if (value < min || value > max)
		return usage_error("%s '%s': out of range %" PRIu64 "..%" PRIu64, what, text, min, max);
	*out = value;
	return 0;
}

static int parse_signal(const char *what, const char *text, uint64_t *out)
{
	const char *name = text;

	if (text[0] >= '0' && text[0] <= '9')
		return parse_uint(what, text, 0, (uint64_t)SIGRTMAX, out);
	if (strncasecmp(name, "SIG", 3) == 0)
		name += 3;
	for (size_t i = 0; i < sizeof(signal_names) / sizeof(signal_names[0]); i++) {
		if (strcasecmp(name, signal_names[i].name) == 0) {
			*out = (uint64_t)signal_names[i].number;
			return 0;
		}
	}
	return usage_error("%s '%s': unknown signal", what, text);
}

static int parse_value(const char *what, enum arg_kind kind, uint64_t min, uint64_t max, const char *text,
		       uint64_t *num)
{
	struct endpoint ep;

	switch (kind) {
	case ARG_UINT:
		return parse_uint(what, text, min, max, num);
	case ARG_SIGNAL:
		return parse_signal(what, text, num);
	case ARG_PROTO:
		if (strcmp(text, "tcp") == 0)
			*num = SOCK_STREAM;
		else if (strcmp(text, "udp") == 0)
			*num = SOCK_DGRAM;
		else
			return usage_error("%s '%s': expected tcp or udp", what, text);
		return 0;
	case ARG_HOST:
		if (endpoint__init(&ep, text, 0))
			return usage_error("%s '%s': only 127.0.0.1 or ::1 allowed", what, text);
		return 0;
	case ARG_PATH:
		if (!text[0])
			return usage_error("%s: empty path", what);
		return 0;
	}
	return usage_error("%s: unknown argument kind", what);
}

static const struct mode_spec *find_mode(const char *name)
{
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (strcmp(modes[i].name, name) == 0)
			return &modes[i];
	return NULL;
}

static int find_opt(const char *name, size_t len)
{
	for (int id = 0; id < OPT_COUNT; id++)
		if (strlen(opt_specs[id].name) == len && strncmp(opt_specs[id].name, name, len) == 0)
			return id;
	return -1;
}

enum { ARGS_OK = 0, ARGS_HELP = 1 };

/* Options (--name VALUE or --name=VALUE) may appear anywhere; the first other word is the mode. */
static int args__parse(struct args *a, int argc, char **argv)
{
	const char *pos_text[MAX_POS];
	unsigned npos = 0;
	char what[64];
	int err;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return ARGS_HELP;
	}
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *eq, *value;
		size_t name_len;
		int id;

		if (strncmp(arg, "--", 2) != 0) {
			if (!a->mode) {
				a->mode = find_mode(arg);
				if (!a->mode)
					return usage_error("unknown mode '%s'", arg);
			} else if (npos < MAX_POS) {
				pos_text[npos++] = arg;
			} else {
				return usage_error("%s: unexpected argument '%s'", a->mode->name, arg);
			}
			continue;
		}
		eq = strchr(arg + 2, '=');
		name_len = eq ? (size_t)(eq - (arg + 2)) : strlen(arg + 2);
		id = find_opt(arg + 2, name_len);
		if (id < 0)
			return usage_error("unknown option '%s'", arg);
		value = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
		if (!value)
			return usage_error("option --%s needs a value", opt_specs[id].name);
		snprintf(what, sizeof(what), "--%s", opt_specs[id].name);
		err = parse_value(what, opt_specs[id].kind, opt_specs[id].min, opt_specs[id].max, value,
				  &a->num[id]);
		if (err)
			return err;
		a->has[id] = true;
		a->str[id] = value;
	}
	if (!a->mode)
		return usage_error("no mode given");
	for (int id = 0; id < OPT_COUNT; id++) {
		if (a->has[id] && !((a->mode->opts | GLOBAL_OPTS) & OPT_BIT(id)))
			return usage_error("option --%s does not apply to mode %s", opt_specs[id].name,
					   a->mode->name);
	}
	if (npos != a->mode->npos)
		return usage_error("mode %s takes %u argument%s, got %u", a->mode->name, a->mode->npos,
				   a->mode->npos == 1 ? "" : "s", npos);
	for (unsigned p = 0; p < npos; p++) {
		const struct pos_spec *spec = &a->mode->pos[p];

		snprintf(what, sizeof(what), "%s %s", a->mode->name, spec->name);
		err = parse_value(what, spec->kind, spec->min, spec->max, pos_text[p], &a->pos[p]);
		if (err)
			return err;
	}
	return a->mode->check ? a->mode->check(a) : ARGS_OK;
}

int main(int argc, char **argv)
{
	struct args args = { 0 };
	struct report rep;
	int rc;

	rc = args__parse(&args, argc, argv);
	if (rc == ARGS_HELP) {
		print_usage(stdout);
		return EXIT_OK;
	}
	if (rc)
		return EXIT_USAGE;
	if (args.str[OPT_PIDFILE] && write_number_file(args.str[OPT_PIDFILE], (uint64_t)getpid()))
		return EXIT_RUNTIME;
	report__init(&rep, args.mode->name);
	if (args.mode->run(&args, &rep))
		return EXIT_RUNTIME;
	if (report__emit(&rep, args.str[OPT_OUT]))
		return EXIT_RUNTIME;
	if (args.mode->after_report && args.mode->after_report(&args))
		return EXIT_RUNTIME;
	return rep.exit_code;
}
