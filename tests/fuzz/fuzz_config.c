// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness: the whole --config JSON file (the daemon's settings, then
 * rules, receivers, routes and inhibit rules), read the way `workerwatch
 * daemon --config FILE` reads it, and handed to the alert engine when valid.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include "fuzz.h"
#include "alerts/alerts.h"
#include "daemon/config.h"
#include "history/store.h"

static struct store *store;
static char dir[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char db[96];

	(void)argc;
	(void)argv;
	/* one history for the whole run, on tmpfs when there is one: the engine reads its state from it at each start */
	snprintf(dir, sizeof(dir), "%s/ww-fuzz-config.XXXXXX", access("/dev/shm", W_OK) ? "/tmp" : "/dev/shm");
	FUZZ_ASSERT(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
	snprintf(db, sizeof(db), "%s/history.db", dir);
	store = store__open(db, false);
	FUZZ_ASSERT(store, "cannot open %s: %s", db, store__errmsg(NULL));
	return 0;
}

__attribute__((destructor)) static void clean_up(void)
{
	char cmd[128];

	store__close(store);
	store = NULL;
	if (dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd))
			fprintf(stderr, "fuzz: cannot remove %s\n", dir);
	}
}

static int no_points(void *ctx, __u64 now_ms, const struct alert_rule *rules, int n, struct alert_point **out)
{
	(void)ctx, (void)now_ms, (void)rules, (void)n;
	*out = NULL;
	return 0;
}

static int no_aggregate(void *ctx, const struct alert_rule *r, __u64 now_ms, struct alert_point **out)
{
	(void)ctx, (void)r, (void)now_ms;
	*out = NULL;
	return 0;
}

static void no_gauges_src(struct alert_source *src)
{
	memset(src, 0, sizeof(*src));
	src->gauges = no_points;
	src->aggregate = no_aggregate;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz__file(data, size);
	char *argv[] = { "daemon", "--config", (char *)path, NULL };
	/* 2.4 MB: reused, as a fresh one per input spends the run faulting its pages in */
	static struct alert_config cfg;
	struct alert_config *ac = &cfg;
	struct alert_source src;
	struct alerts *a;
	struct config c;
	char err[512] = "";
	int ret;

	config__defaults(&c);
	ret = config__parse(&c, 3, argv);
	FUZZ_ASSERT(ret == 0 || ret == 2, "config__parse returned %d", ret);
	if (alert_config__load(path, ac, err, sizeof(err))) {
		fuzz__debug("refused: %s", err);
		FUZZ_ASSERT(err[0], "a refused config without a reason");
		FUZZ_ASSERT(!ac->nr_rules && !ac->nr_routes && !ac->nr_inhibits, "a refused config keeps what it parsed");
		goto out;
	}
	FUZZ_ASSERT(ac->nr_rules <= RULES_MAX && ac->nr_receivers <= RECEIVERS_MAX && ac->nr_routes <= ROUTES_MAX &&
		    ac->nr_inhibits <= INHIBITS_MAX, "a config over its limits");
	for (int i = 0; i < ac->nr_routes; i++)
		for (int r = 0; r < ac->routes[i].nr_receivers; r++)
			FUZZ_ASSERT(receivers__find(ac->receivers, ac->nr_receivers, ac->routes[i].receivers[r]),
				    "route %d names a receiver that does not exist", i);
	if (ret) {
		fuzz__debug("settings refused");
		goto out_free;
	}	/* the daemon stops at the settings before it reads the rest */
	/* as the daemon does: the engine takes over the compiled rules and matchers */
	no_gauges_src(&src);
	fuzz__debug("accepted: %d rules, %d receivers, %d routes, %d inhibit rules", ac->nr_rules, ac->nr_receivers,
		    ac->nr_routes, ac->nr_inhibits);
	a = alerts__new(ac, store, &src, err, sizeof(err));
	FUZZ_ASSERT(a, "the engine refuses a config the loader accepted: %s", err);
	alerts__free(a);
	return 0;
out_free:
	alert_config__free(ac);
out:
	return 0;
}
