/* SPDX-License-Identifier: MIT */
/* The workerwatch version, shown by `workerwatch version` and GET /api/v1/info. */
#ifndef VERSION_H
#define VERSION_H

#define WORKERWATCH_VERSION "0.1.0"

#endif
