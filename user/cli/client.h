/* SPDX-License-Identifier: MIT */
/* A small HTTP client of the daemon's API, for the CLI (libcurl only here). */
#ifndef CLIENT_H
#define CLIENT_H

#define CLIENT_DEFAULT_SERVER	"http://127.0.0.1:9470"
#define CLIENT_DEFAULT_TOKEN	"/var/lib/workerwatch/token"
/* The environment's choice, which --server and --token-file override. */
#define CLIENT_ENV_SERVER	"WORKERWATCH_URL"
#define CLIENT_ENV_TOKEN	"WORKERWATCH_TOKEN_FILE"

/* The daemon to talk to: $WORKERWATCH_URL, else CLIENT_DEFAULT_SERVER. */
const char *client__server(void);
/* Its token: $WORKERWATCH_TOKEN_FILE, else CLIENT_DEFAULT_TOKEN. */
const char *client__token_file(void);
/* The lines of --help about --server and --token-file, with their environment variables. */
#define CLIENT_OPTIONS_HELP										\
	"  --server URL         the daemon (default $" CLIENT_ENV_SERVER ", else " CLIENT_DEFAULT_SERVER ")\n"	\
	"  --token-file PATH    its API token (default $" CLIENT_ENV_TOKEN ", else " CLIENT_DEFAULT_TOKEN ")\n"

/*
 * Sends METHOD server+path with an optional JSON body and the token (when
 * token_file is readable). Returns the HTTP status and the body in *out
 * (malloc'd), or -errno when the daemon cannot be reached.
 */
int client__request(const char *server, const char *token_file, const char *method,
		    const char *path, const char *body, char **out);

/*
 * client__request for a command: 0 with a 2xx answer's body in *out
 * (malloc'd), else 1 after a one-line error (unreachable, or the daemon's
 * refusal with its status and reason), which is the command's exit status.
 */
int client__call(const char *server, const char *token_file, const char *method, const char *path,
		 const char *body, char **out);

/* The "error" of a JSON error body, or the body itself. */
const char *client__error_text(const char *body, char *buf, unsigned long size);

#endif
