// SPDX-License-Identifier: MIT
/* The Debian package: make deb builds it, its contents, lintian's verdict, and its unit starting the daemon. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "harness.h"
#include "wwd.h"

/* The repository: the current directory under make check, else the parent of --bin. */
static bool source_dir(char *out, size_t size)
{
	char bin[PATH_MAX], probe[PATH_MAX + 32];

	if (getcwd(out, size) && snprintf(probe, sizeof(probe), "%s/tools/debian/control", out) > 0 &&
	    !access(probe, R_OK))
		return true;
	if (!realpath(harness__bin(), bin))
		return false;
	*strrchr(bin, '/') = 0;
	snprintf(out, size, "%s", bin);
	snprintf(probe, sizeof(probe), "%s/tools/debian/control", out);
	return !access(probe, R_OK);
}

/* The first tool of names (space-separated) that is not on PATH, or NULL. */
static const char *missing_tool(const char *names)
{
	static char name[64];
	const char *p = names;

	while (*p) {
		size_t n = strcspn(p, " ");
		char cmd[128];

		snprintf(name, sizeof(name), "%.*s", (int)n, p);
		snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", name);
		if (system(cmd))
			return name;
		p += n + (p[n] == ' ');
	}
	return NULL;
}

/* Runs a shell command line; returns its exit code, output in r. */
static int sh(const char *cmd, int timeout_s, struct cmd_result *r)
{
	char *argv[] = { "/bin/sh", "-c", (char *)cmd, NULL };

	if (harness__run(argv, timeout_s, r))
		return -1;
	return r->exit_code;
}

/* The value of key= in key=value lines, or NULL. */
static const char *kv(const char *text, const char *key, char *buf, size_t size)
{
	size_t klen = strlen(key);

	for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
		if (!strncmp(line, key, klen) && line[klen] == '=') {
			snprintf(buf, size, "%.*s", (int)strcspn(line + klen + 1, "\n"), line + klen + 1);
			return buf;
		}
	return NULL;
}

static void check_contents(const char *deb, const char *version)
{
	static const struct {
		const char *path, *mode;
	} want[] = {
		{ "./usr/bin/workerwatch", "-rwxr-xr-x" },
		{ "./usr/share/man/man8/workerwatch.8.gz", "-rw-r--r--" },
		{ "./lib/systemd/system/workerwatch.service", "-rw-r--r--" },
		{ "./etc/workerwatch/config.json", "-rw-r--r--" },
		{ "./var/lib/workerwatch/", "drwxr-xr-x" },
		{ "./var/log/workerwatch/", "drwxr-xr-x" },
		{ "./usr/share/doc/workerwatch/copyright", "-rw-r--r--" },
		{ "./usr/share/workerwatch/mixin/dashboard.json", "-rw-r--r--" },
		{ "./usr/share/workerwatch/mixin/rules.yml", "-rw-r--r--" },
	};
	char cmd[PATH_MAX + 200], buf[512];
	struct cmd_result r;

	snprintf(cmd, sizeof(cmd), "dpkg-deb -c '%s'", deb);
	ASSERT(sh(cmd, 60, &r) == 0, "dpkg-deb -c: %s", r.err);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		bool found = false;

		for (char *line = r.out; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
			size_t len = strcspn(line, "\n"), plen = strlen(want[i].path);

			if (len > plen && !strncmp(line + len - plen, want[i].path, plen) && line[len - plen - 1] == ' ') {
				found = true;
				CHECK(!strncmp(line, want[i].mode, 10), "%s has mode %.10s, want %s", want[i].path,
				      line, want[i].mode);
			}
		}
		CHECK(found, "the package has no %s", want[i].path);
	}
	harness__free_result(&r);

	snprintf(cmd, sizeof(cmd), "dpkg-deb -f '%s' Package Version Architecture Depends", deb);
	ASSERT(sh(cmd, 60, &r) == 0, "dpkg-deb -f: %s", r.err);
	snprintf(buf, sizeof(buf), "Version: %s\n", version);
	CHECK(strstr(r.out, "Package: workerwatch\n") != NULL, "package name: %s", r.out);
	CHECK(strstr(r.out, buf) != NULL, "the package's version is not the binary's %s: %s", version, r.out);
	CHECK(strstr(r.out, "Architecture: amd64\n") != NULL, "architecture: %s", r.out);
	/* shared libraries come from dpkg-shlibdeps, not by hand */
	CHECK(strstr(r.out, "libbpf1") && strstr(r.out, "libsqlite3-0") && strstr(r.out, "libmicrohttpd"),
	      "Depends lacks the libraries the binary links: %s", r.out);
	harness__free_result(&r);

	/* the config is a conffile: an upgrade never overwrites the operator's edits */
	snprintf(cmd, sizeof(cmd), "dpkg-deb --ctrl-tarfile '%s' | tar -xO ./conffiles", deb);
	ASSERT(sh(cmd, 60, &r) == 0, "no conffiles: %s", r.err);
	CHECK_STR(r.out, "/etc/workerwatch/config.json\n");
	harness__free_result(&r);
}

/* lintian shows nothing, and each override it applies is in the overrides file with a reason above it. */
static void check_lintian(const char *deb, const char *src)
{
	char cmd[PATH_MAX + 200], path[PATH_MAX + 64], tag[256];
	struct cmd_result r;
	int overrides = 0, shown = 0;
	char *text;

	snprintf(cmd, sizeof(cmd), "lintian -E -I --pedantic '%s' 2>/dev/null", deb);
	ASSERT(sh(cmd, 300, &r) == 0, "lintian failed (exit %d): %s", r.exit_code, r.out);
	CHECK(!*r.out, "lintian reports tags:\n%s", r.out);
	harness__free_result(&r);

	snprintf(cmd, sizeof(cmd), "lintian -E -I --pedantic --show-overrides '%s' 2>/dev/null | grep '^O: '", deb);
	ASSERT(sh(cmd, 300, &r) == 0, "lintian --show-overrides shows no override");
	snprintf(path, sizeof(path), "%s/tools/debian/workerwatch.lintian-overrides", src);
	text = wwd_read_file(path);
	ASSERT(text, "cannot read %s", path);
	for (char *line = text, *prev = NULL; line && *line; prev = line, line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		if (*line == '#' || *line == '\n')
			continue;
		overrides++;
		CHECK(prev && *prev == '#', "override without a reason above it: %.*s", (int)strcspn(line, "\n"), line);
		/* "O: workerwatch: TAG [context]" */
		snprintf(tag, sizeof(tag), "O: workerwatch: %.*s", (int)strcspn(line, "\n"), line);
		CHECK(strstr(r.out, tag) != NULL, "override not used by lintian: %s", tag + 3);
	}
	for (char *p = r.out; (p = strstr(p, "O: ")); p += 3)
		shown++;
	CHECK_EQ(shown, overrides);
	free(text);
	harness__free_result(&r);
}

KERNEL_TEST(package_deb_builds_lintian_clean_and_its_unit_starts_the_daemon)
{
	char src[PATH_MAX], bin[PATH_MAX], deb[PATH_MAX + 128], cmd[3 * PATH_MAX + 256], version[64], v[512];
	struct cmd_result r;
	const char *tool;
	char *health;

	SKIP_IF_SANITIZED("the package builds its own objects with its own flags: nothing of this build runs in it");
	tool = missing_tool("dpkg-buildpackage dh lintian dpkg-deb unshare setpriv systemd-analyze curl ip");
	if (tool) {
		harness__skip("%s is not installed (tools/setup.sh test installs it)", tool);
		return;
	}
	ASSERT(source_dir(src, sizeof(src)), "cannot find the repository (tools/debian/control)");
	ASSERT(realpath(harness__bin(), bin), "no --bin directory");

	snprintf(cmd, sizeof(cmd), "'%s/workerwatch' version", bin);
	ASSERT(sh(cmd, 10, &r) == 0 && sscanf(r.out, "workerwatch %63s", version) == 1, "workerwatch version");
	harness__free_result(&r);

	/* make deb: the staging build with the hardened flags, then lintian failing on any tag */
	snprintf(cmd, sizeof(cmd), "make -s -C '%s' deb OUTPUT='%s' 2>&1", src, bin);
	if (!CHECK(sh(cmd, 900, &r) == 0, "make deb failed:\n%s", r.out)) {
		harness__free_result(&r);
		return;
	}
	harness__free_result(&r);
	snprintf(deb, sizeof(deb), "%s/deb/workerwatch_%s_amd64.deb", bin, version);
	ASSERT(!access(deb, R_OK), "make deb made no %s", deb);

	check_contents(deb, version);
	check_lintian(deb, src);

	/* installed into a throwaway root, the unit's ExecStart with the default config serves /health */
	snprintf(cmd, sizeof(cmd), "'%s/tests/deb-smoke.sh' '%s' '%s'", src, deb, harness__tmpdir());
	ASSERT(sh(cmd, 120, &r) == 0, "deb-smoke.sh failed (exit %d): %s", r.exit_code, r.err);
	CHECK_STR(kv(r.out, "verify", v, sizeof(v)), "0");
	CHECK_STR(kv(r.out, "exec_start", v, sizeof(v)), "/usr/bin/workerwatch daemon --config /etc/workerwatch/config.json");
	CHECK(kv(r.out, "bounding_set", v, sizeof(v)) && strstr(v, "+bpf") && strstr(v, "+sys_admin"),
	      "the unit's capability bounding set: %s", v);
	CHECK_STR(kv(r.out, "health", v, sizeof(v)), "1");
	CHECK_STR(kv(r.out, "attach", v, sizeof(v)), "0");
	CHECK_STR(kv(r.out, "daemon_exit", v, sizeof(v)), "0");
	CHECK_STR(kv(r.out, "detach_all", v, sizeof(v)), "0");
	CHECK_STR(kv(r.out, "pins_left", v, sizeof(v)), "0");
	harness__free_result(&r);

	health = wwd_read_file(harness__tmp("health.json"));
	CHECK(health && strstr(health, "\"status\":\t\"healthy\"") &&
	      strstr(health, "\"path\":\t\"/var/lib/workerwatch/workerwatch.db\""),
	      "/health of the packaged daemon: %s", health ? health : "(none)");
	free(health);
	health = wwd_read_file(harness__tmp("metrics.txt"));
	CHECK(health && strstr(health, "\nworkerwatch_probes_attached 1\n") &&
	      strstr(health, "agent=\"sleeper\""), "the attached worker is not in /metrics");
	free(health);
	/* the default config's paths, created in the throwaway root and nowhere else */
	CHECK(!access(harness__tmp("root/var/lib/workerwatch/token"), R_OK), "no token in the state directory");
	CHECK(!access(harness__tmp("root/var/lib/workerwatch/workerwatch.db"), R_OK), "no history database");
	CHECK(!access(harness__tmp("root/var/log/workerwatch/events.jsonl"), R_OK), "no event log");
}

TEST(package_make_install_honours_destdir_and_prefix_and_never_runs_apt)
{
	char src[PATH_MAX], bin[PATH_MAX], cmd[3 * PATH_MAX + 512], path[PATH_MAX];
	const char *dest = harness__tmp("dest"), *fake = harness__tmp("fakebin");
	struct cmd_result r;
	char *text;

	SKIP_IF_SANITIZED("make install copies files and runs nothing of this build");
	ASSERT(source_dir(src, sizeof(src)), "cannot find the repository (tools/debian/control)");
	ASSERT(realpath(harness__bin(), bin), "no --bin directory");
	/* apt-get and sudo that leave a mark: make install must call neither */
	snprintf(cmd, sizeof(cmd),
		 "mkdir -p '%s' && for t in apt-get apt sudo; do printf '#!/bin/sh\\ntouch %s/called-$t\\nexit 1\\n' "
		 "> '%s'/$t; chmod +x '%s'/$t; done", fake, fake, fake, fake);
	ASSERT(sh(cmd, 10, &r) == 0, "cannot make the fake tools");
	harness__free_result(&r);

	snprintf(cmd, sizeof(cmd), "PATH='%s':$PATH make -s -C '%s' install OUTPUT='%s' DESTDIR='%s' prefix=/opt/ww 2>&1",
		 fake, src, bin, dest);
	ASSERT(sh(cmd, 300, &r) == 0, "make install failed:\n%s", r.out);
	harness__free_result(&r);
	snprintf(cmd, sizeof(cmd), "ls '%s' | grep called-", fake);
	CHECK(sh(cmd, 10, &r) != 0, "make install ran %s", r.out);
	harness__free_result(&r);
	/* with nothing built it builds nothing (no set-up stamp, no object): it says to run make */
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/empty' && PATH='%s':$PATH make -s -C '%s' install OUTPUT='%s/empty' "
		 "DESTDIR='%s/unused' 2>&1; echo \"exit=$?\"; ls -A '%s/empty'", fake, fake, src, fake, dest, fake);
	CHECK(sh(cmd, 60, &r) == 0 && strstr(r.out, "run make first") && !strstr(r.out, "exit=0") &&
	      !strstr(r.out, ".setup"), "make install with nothing built:\n%s", r.out);
	harness__free_result(&r);

	snprintf(path, sizeof(path), "%s/opt/ww/bin/workerwatch", dest);
	CHECK(!access(path, X_OK), "no %s", path);
	snprintf(path, sizeof(path), "%s/opt/ww/share/man/man8/workerwatch.8", dest);
	CHECK(!access(path, R_OK), "no %s", path);
	snprintf(path, sizeof(path), "%s/opt/ww/share/workerwatch/mixin/rules.yml", dest);
	CHECK(!access(path, R_OK), "no %s", path);
	snprintf(path, sizeof(path), "%s/var/lib/workerwatch", dest);
	CHECK(!access(path, X_OK), "no state directory %s", path);
	snprintf(path, sizeof(path), "%s/var/log/workerwatch", dest);
	CHECK(!access(path, X_OK), "no log directory %s", path);
	snprintf(path, sizeof(path), "%s/opt/ww/lib/systemd/system/workerwatch.service", dest);
	text = wwd_read_file(path);
	CHECK(text && strstr(text, "\nExecStart=/opt/ww/bin/workerwatch daemon --config /etc/workerwatch/config.json\n"),
	      "the installed unit does not start /opt/ww/bin/workerwatch with /etc/workerwatch/config.json");
	CHECK(text && !strchr(text, '@'), "a placeholder is left in the unit");
	free(text);

	/* the config is the operator's once installed: a second install keeps an edited one */
	snprintf(path, sizeof(path), "%s/etc/workerwatch/config.json", dest);
	text = wwd_read_file(path);
	CHECK(text && strstr(text, "\"listen\": \"127.0.0.1:9470\""), "default config: %s", text ? text : "(none)");
	free(text);
	snprintf(cmd, sizeof(cmd), "echo '{\"listen\": \"127.0.0.1:9999\"}' > '%s' && "
		 "PATH='%s':$PATH make -s -C '%s' install OUTPUT='%s' DESTDIR='%s' prefix=/opt/ww 2>&1",
		 path, fake, src, bin, dest);
	CHECK(sh(cmd, 300, &r) == 0, "second make install failed:\n%s", r.out);
	harness__free_result(&r);
	text = wwd_read_file(path);
	CHECK(text && strstr(text, "9999"), "make install overwrote the edited config: %s", text ? text : "(none)");
	free(text);
}
