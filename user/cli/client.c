// SPDX-License-Identifier: MIT
/* A small HTTP client of the daemon's API, for the CLI (libcurl only here). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include <cjson/cJSON.h>
#include "cli/client.h"
#include "lib/log.h"

#define MAX_RESPONSE (16 << 20)

struct buffer {
	char *data;
	size_t len;
};

const char *client__server(void)
{
	const char *v = getenv(CLIENT_ENV_SERVER);

	return v && v[0] ? v : CLIENT_DEFAULT_SERVER;
}

const char *client__token_file(void)
{
	const char *v = getenv(CLIENT_ENV_TOKEN);

	return v && v[0] ? v : CLIENT_DEFAULT_TOKEN;
}

static size_t collect(char *ptr, size_t size, size_t nmemb, void *ctx)
{
	struct buffer *b = ctx;
	size_t n = size * nmemb;
	char *grown;

	if (b->len + n > MAX_RESPONSE)
		return 0;
	grown = realloc(b->data, b->len + n + 1);
	if (!grown)
		return 0;
	memcpy(grown + b->len, ptr, n);
	b->data = grown;
	b->len += n;
	b->data[b->len] = 0;
	return n;
}

static void read_token(const char *path, char *token, size_t size)
{
	FILE *f = path ? fopen(path, "r") : NULL;

	token[0] = 0;
	if (!f)
		return;
	if (!fgets(token, (int)size, f))
		token[0] = 0;
	token[strcspn(token, "\r\n")] = 0;
	fclose(f);
}

int client__request(const char *server, const char *token_file, const char *method,
		    const char *path, const char *body, char **out)
{
	struct curl_slist *headers = NULL;
	struct buffer b = {};
	char url[1024], token[128], auth[160];
	long status = 0;
	CURLcode rc;
	CURL *c;

	*out = NULL;
	snprintf(url, sizeof(url), "%s%s", server, path);
	read_token(token_file, token, sizeof(token));
	c = curl_easy_init();
	if (!c)
		return -ENOMEM;
	if (token[0]) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
		headers = curl_slist_append(headers, auth);
	}
	headers = curl_slist_append(headers, "Content-Type: application/json");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	if (body)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(headers);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK) {
		free(b.data);
		return rc == CURLE_COULDNT_CONNECT ? -ECONNREFUSED : -EIO;
	}
	*out = b.data ? b.data : strdup("");
	return (int)status;
}

const char *client__error_text(const char *body, char *buf, unsigned long size)
{
	cJSON *j = body ? cJSON_Parse(body) : NULL;
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");

	snprintf(buf, size, "%s", cJSON_IsString(e) ? e->valuestring : body ? body : "no answer");
	cJSON_Delete(j);
	buf[strcspn(buf, "\n")] = 0;
	return buf;
}

int client__call(const char *server, const char *token_file, const char *method, const char *path,
		 const char *body, char **out)
{
	char msg[512];
	int status = client__request(server, token_file, method, path, body, out);

	if (status < 0) {
		ww_err("cannot reach the daemon at %s: %s (is `workerwatch daemon` running?)", server,
		       strerror(-status));
		return 1;
	}
	if (status >= 300) {
		ww_err("%s %s: %d %s", method, path, status, client__error_text(*out, msg, sizeof(msg)));
		free(*out);
		*out = NULL;
		return 1;
	}
	return 0;
}
