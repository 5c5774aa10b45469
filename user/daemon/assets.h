/* SPDX-License-Identifier: MIT */
/* The dashboard's files, embedded in the binary at build time (tools/embed-assets.sh). */
#ifndef ASSETS_H
#define ASSETS_H

#include <stddef.h>

struct asset {
	const char *name;		/* "index.html", "app.js", ... */
	const char *content_type;
	const unsigned char *data;
	size_t size;
};

extern const struct asset assets[];
extern const int nr_assets;

/* The asset named name, or NULL. */
const struct asset *assets__find(const char *name);

#endif
