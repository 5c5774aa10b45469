// SPDX-License-Identifier: MIT
/* The dashboard's files, embedded in the binary at build time (tools/embed-assets.sh). */
#include <string.h>
#include "daemon/assets.h"

const struct asset *assets__find(const char *name)
{
	for (int i = 0; i < nr_assets; i++)
		if (!strcmp(assets[i].name, name))
			return &assets[i];
	return NULL;
}
