/* SPDX-License-Identifier: MIT */
/* A real workerwatch daemon under test, and workers held until they are attached. */
#ifndef WWD_H
#define WWD_H

#include <stdbool.h>
#include <stddef.h>

struct cJSON;
struct exec_record;

struct wwd {
	int pid;
	int port;
	char dir[256];		/* its files: history.db, log/, token */
	char url[64];		/* http://127.0.0.1:PORT */
	char token[300];	/* path of its token file */
	char pin_dir[300];	/* its pinned kernel state, under /sys/fs/bpf */
};

/* Path of a built binary (rotating static buffers). */
const char *wwd_bin(const char *name);
void wwd_sleep_ms(int ms);
/* A file's contents (malloc'd), or NULL. */
char *wwd_read_file(const char *path);

/* Starts the daemon on a port the kernel picks, in the test's temp dir; records a failure if it cannot. */
bool wwd_start(struct wwd *d);
/*
 * The same with --config config_path (NULL: none). The files stay in the
 * test's temp dir, so a restart (after a kill -9 too) reuses history.db.
 */
bool wwd_start_opts(struct wwd *d, const char *config_path);
/* The same with its files (history.db, log/, token, daemon.log) in dir, for several daemons in one test. */
bool wwd_start_in(struct wwd *d, const char *dir, const char *config_path);
/*
 * Stops it with sig. After SIGTERM it must exit 0, and then `workerwatch
 * daemon --detach-all` must leave no pinned state behind (the end of a test);
 * after SIGKILL the pinned state stays for a restart.
 */
void wwd_stop(struct wwd *d, int sig);
/* The pin directory of daemons started in the current test. */
void wwd_pin_dir(char *buf, size_t size);
/* SIGTERM, keeping the kernel state for the next start (a restart or an upgrade). */
void wwd_stop_keep(struct wwd *d);

/* A worker `/bin/sh -c 'read go < FIFO; exec CMD'`, so it is attached before it does anything. */
int wwd_spawn_held(const char *fifo, const char *cmd);
void wwd_release(const char *fifo);

/* "Authorization: Bearer TOKEN" with the daemon's token, for curl's -H. */
void wwd_auth_header(const struct wwd *d, char *buf, size_t size);

/*
 * One request with curl (METHOD, full URL, optional JSON body, the token read
 * from token_file when given): the HTTP status, 0 when there was no answer,
 * and the body (malloc'd) in *text when asked.
 */
int wwd_http(const char *method, const char *url, const char *body, const char *token_file, char **text);
/* A request to d's API (path from /), with its token when token; the body parsed into *json when given. */
int wwd_api(const struct wwd *d, const char *method, const char *path, const char *body, bool token,
	    struct cJSON **json);
/* The executions of session (the API's list) once n of them have ended, or what there is after wait_ms. */
struct cJSON *wwd_ended_executions(const struct wwd *d, const char *session, int n, int wait_ms);
/* Calls cb for each execution of session in d's history, read as another process would; false after a failure. */
bool wwd_foreach_execution(const struct wwd *d, const char *session,
			   int (*cb)(const struct exec_record *r, void *ctx), void *ctx);

#endif
