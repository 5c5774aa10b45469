// SPDX-License-Identifier: MIT
/* Watch rules: which processes become executions or orchestrators at exec, without any integration. */
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <cjson/cJSON.h>
#include "lib/labels.h"
#include "observe/watch.h"

static int fail(char *err, size_t errlen, const char *fmt, const char *what)
{
	snprintf(err, errlen, fmt, what);
	return -EINVAL;
}

/* A string field of at most size - 1 characters, no control characters; absent leaves out as it is. */
static int string_field(const cJSON *obj, const char *name, char *out, size_t size, char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	if (!v)
		return 0;
	if (!cJSON_IsString(v) || !v->valuestring[0] || strlen(v->valuestring) >= size) {
		snprintf(err, errlen, "'%s' must be a string of 1 to %zu characters", name, size - 1);
		return -EINVAL;
	}
	for (const char *c = v->valuestring; *c; c++)
		if ((unsigned char)*c < 0x20)
			return fail(err, errlen, "'%s' contains a control character", name);
	strcpy(out, v->valuestring);
	return 0;
}

/* The kernel's dev_t of a userspace st_dev (include/linux/kdev_t.h: MAJOR << 20 | MINOR). */
static __u32 kernel_dev(dev_t dev)
{
	return (major(dev) << 20) | minor(dev);
}

static int resolve_exe(struct watch_rule *r, char *err, size_t errlen)
{
	struct stat st;

	if (r->exe[0] != '/')
		return fail(err, errlen, "'exe' must be an absolute path, not '%.128s'", r->exe);
	if (stat(r->exe, &st) || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "'exe' %.128s is not a file: %s", r->exe, errno ? strerror(errno) : "not regular");
		return -EINVAL;
	}
	r->sel.exe_ino = st.st_ino;
	r->sel.exe_dev = kernel_dev(st.st_dev);
	snprintf(r->sel.exe, sizeof(r->sel.exe), "%s", r->exe);
	r->sel_flags |= WW_WATCH_EXE;
	return 0;
}

/* The controller's subsystem id and hierarchy id from /proc/cgroups (listed in subsystem id order). */
static int controller_ids(const char *name, __u32 *ssid, __u32 *hierarchy)
{
	char line[256], sub[64];
	unsigned int hier, n = 0;
	FILE *f = fopen("/proc/cgroups", "re");
	int ret = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#')
			continue;
		if (sscanf(line, "%63s %u", sub, &hier) == 2 && !strcmp(sub, name)) {
			*ssid = n;
			*hierarchy = hier;
			ret = 0;
			break;
		}
		n++;
	}
	fclose(f);
	return ret;
}

/*
 * The cgroup mount holding path (the longest mount point before it): its
 * mount point, and for v1 the first controller of its super options.
 */
static int cgroup_mount(const char *path, char *mnt, size_t mnt_size, char *controller, size_t csize, bool *v2)
{
	char line[1024], point[PATH_MAX], fstype[64], opts[512];
	size_t best = 0;
	FILE *f = fopen("/proc/self/mountinfo", "re");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *dash = strstr(line, " - ");
		size_t len;

		if (!dash || sscanf(line, "%*s %*s %*s %*s %4095s", point) != 1 ||
		    sscanf(dash + 3, "%63s %*s %511s", fstype, opts) != 2)
			continue;
		len = strlen(point);
		if (strncmp(path, point, len) || (path[len] && path[len] != '/') || len < best)
			continue;
		if (strcmp(fstype, "cgroup") && strcmp(fstype, "cgroup2"))
			continue;
		best = len;
		snprintf(mnt, mnt_size, "%s", point);
		*v2 = !strcmp(fstype, "cgroup2");
		controller[0] = 0;
		if (!*v2) {
			char *save = NULL, *o;

			for (o = strtok_r(opts, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
				__u32 ssid, hier;

				if (!controller_ids(o, &ssid, &hier)) {
					snprintf(controller, csize, "%s", o);
					break;
				}
			}
		}
	}
	fclose(f);
	return best ? 0 : -ENOENT;
}

static int resolve_cgroup(struct watch_rule *r, char *err, size_t errlen)
{
	char real[PATH_MAX], mnt[PATH_MAX], controller[64];
	struct statfs sfs;
	struct stat st;
	bool v2 = false;
	__u32 level = 0;

	if (r->cgroup[0] != '/' || !realpath(r->cgroup, real))
		return fail(err, errlen, "'cgroup' %.200s is not an existing directory of a cgroup file system", r->cgroup);
	if (stat(real, &st) || !S_ISDIR(st.st_mode) || statfs(real, &sfs) ||
	    (sfs.f_type != CGROUP_SUPER_MAGIC && sfs.f_type != CGROUP2_SUPER_MAGIC) ||
	    cgroup_mount(real, mnt, sizeof(mnt), controller, sizeof(controller), &v2))
		return fail(err, errlen, "'cgroup' %.200s is not a cgroup directory", r->cgroup);
	if (v2) {
		r->sel.cgroup_ssid = WW_CGROUP_V2;
		r->sel.cgroup_hierarchy = 0;
	} else if (!controller[0] ||
		   controller_ids(controller, &r->sel.cgroup_ssid, &r->sel.cgroup_hierarchy)) {
		return fail(err, errlen, "'cgroup' %.200s is in a v1 hierarchy without a controller (such as name=systemd): "
			    "use its path in the unified hierarchy or a controller's", r->cgroup);
	}
	for (const char *c = real + strlen(mnt); *c; c++)
		level += *c == '/' && c[1];
	r->sel.cgroup_level = level;
	r->sel.cgroup_id = st.st_ino;	/* kernfs: the inode number is the cgroup's id */
	r->sel_flags |= WW_WATCH_CGROUP;
	return 0;
}

static int uid_field(struct watch_rule *r, const cJSON *v, char *err, size_t errlen)
{
	struct passwd *pw;

	if (!v)
		return 0;
	if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 4294967295.0 &&
	    v->valuedouble == (double)(__u32)v->valuedouble) {
		r->uid = (__u32)v->valuedouble;
	} else if (cJSON_IsString(v) && (pw = getpwnam(v->valuestring))) {
		r->uid = pw->pw_uid;
	} else {
		return fail(err, errlen, "'uid' must be a user id or an existing user name%s", "");
	}
	r->has_uid = true;
	r->sel.uid = r->uid;
	r->sel_flags |= WW_WATCH_UID;
	return 0;
}

int watch_rule__from_json(struct watch_rule *r, const cJSON *obj, char *err, size_t errlen)
{
	static const char *const selectors[] = { "name", "exe", "comm", "argv", "uid", "cgroup", "parent", "action",
						 NULL };
	const cJSON *v;
	char action[16] = "track";
	int ret;

	watch_rule__release(r);
	memset(r, 0, sizeof(*r));
	if (!cJSON_IsObject(obj))
		return fail(err, errlen, "%s must be a JSON object", "a watch rule");
	v = cJSON_GetObjectItemCaseSensitive(obj, "action");
	if (v && (!cJSON_IsString(v) || strlen(v->valuestring) >= sizeof(action)))
		return fail(err, errlen, "'%s' must be \"track\", \"orchestrator\" or \"none\"", "action");
	if (v)
		strcpy(action, v->valuestring);
	if (!strcmp(action, "track"))
		r->action = WATCH_TRACK;
	else if (!strcmp(action, "orchestrator"))
		r->action = WATCH_ORCHESTRATOR;
	else if (!strcmp(action, "none"))
		r->action = WATCH_NONE;
	else
		return fail(err, errlen, "'action' must be \"track\", \"orchestrator\" or \"none\", not '%.32s'", action);
	ret = job_spec__from_json(&r->spec, obj, r->action == WATCH_ORCHESTRATOR, selectors, err, errlen);
	if (!ret)
		ret = string_field(obj, "name", r->name, sizeof(r->name), err, errlen);
	if (!ret)
		ret = string_field(obj, "exe", r->exe, sizeof(r->exe), err, errlen);
	if (!ret)
		ret = string_field(obj, "comm", r->comm, sizeof(r->comm), err, errlen);
	if (!ret)
		ret = string_field(obj, "argv", r->argv_re, sizeof(r->argv_re), err, errlen);
	if (!ret)
		ret = string_field(obj, "cgroup", r->cgroup, sizeof(r->cgroup), err, errlen);
	v = cJSON_GetObjectItemCaseSensitive(obj, "parent");
	if (!ret && cJSON_IsNumber(v) && v->valuedouble >= 1 && v->valuedouble < 4294967295.0)
		snprintf(r->parent, sizeof(r->parent), "%u", (__u32)v->valuedouble);
	else if (!ret)
		ret = string_field(obj, "parent", r->parent, sizeof(r->parent), err, errlen);
	if (!ret)
		ret = uid_field(r, cJSON_GetObjectItemCaseSensitive(obj, "uid"), err, errlen);
	if (ret)
		return ret;
	if (r->name[0] && r->name[strspn(r->name, "0123456789")] == 0)
		return fail(err, errlen, "'name' must not be a number: numbers are rule ids%s", "");
	/* argv is matched in userspace: alone it would make every exec on the host wait for a decision */
	if (!r->exe[0] && !r->comm[0] && !r->has_uid && !r->cgroup[0] && !r->parent[0])
		return fail(err, errlen, "a watch rule needs a selector the kernel matches: %s (argv only narrows them)",
			    "exe, comm, uid, cgroup or parent");
	if (r->exe[0] && (ret = resolve_exe(r, err, errlen)))
		return ret;
	if (r->comm[0]) {
		memcpy(r->sel.comm, r->comm, strlen(r->comm));
		r->sel_flags |= WW_WATCH_COMM;
	}
	if (r->cgroup[0] && (ret = resolve_cgroup(r, err, errlen)))
		return ret;
	if (r->parent[0])
		r->sel_flags |= WW_WATCH_PARENT;
	if (r->argv_re[0]) {
		const char *refusal = regex__refusal(r->argv_re);
		char why[128];
		int rc;

		if (refusal) {
			snprintf(err, errlen, "'argv' regular expression %s", refusal);
			return -EINVAL;
		}
		rc = regcomp(&r->argv_rx, r->argv_re, REG_EXTENDED | REG_NOSUB);
		if (rc) {
			regerror(rc, &r->argv_rx, why, sizeof(why));
			snprintf(err, errlen, "'argv' is not a valid regular expression: %s", why);
			return -EINVAL;
		}
		r->argv_compiled = true;
		r->sel_flags |= WW_WATCH_ARGV;
	}
	if (r->action == WATCH_ORCHESTRATOR)
		r->sel_flags |= WW_WATCH_ORCH;
	else if (r->action == WATCH_NONE)
		r->sel_flags |= WW_WATCH_NONE;
	return 0;
}

cJSON *watch_rule__to_json(const struct watch_rule *r)
{
	static const char *const actions[] = { "track", "orchestrator", "none" };
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "id", r->id);
	if (r->name[0])
		cJSON_AddStringToObject(o, "name", r->name);
	if (r->exe[0])
		cJSON_AddStringToObject(o, "exe", r->exe);
	if (r->comm[0])
		cJSON_AddStringToObject(o, "comm", r->comm);
	if (r->argv_re[0])
		cJSON_AddStringToObject(o, "argv", r->argv_re);
	if (r->has_uid)
		cJSON_AddNumberToObject(o, "uid", r->uid);
	if (r->cgroup[0])
		cJSON_AddStringToObject(o, "cgroup", r->cgroup);
	if (r->parent[0])
		cJSON_AddStringToObject(o, "parent", r->parent);
	cJSON_AddStringToObject(o, "action", actions[r->action]);
	job_spec__to_json(&r->spec, o);
	cJSON_AddStringToObject(o, "source", r->from_config ? "config" : "api");
	return o;
}

int watch_rule__copy(struct watch_rule *dst, const struct watch_rule *src)
{
	cJSON *j = watch_rule__to_json(src);
	char err[256];
	int ret;

	cJSON_DeleteItemFromObjectCaseSensitive(j, "id");
	cJSON_DeleteItemFromObjectCaseSensitive(j, "source");
	ret = watch_rule__from_json(dst, j, err, sizeof(err));
	cJSON_Delete(j);
	if (ret) {
		/* the file or cgroup it named went away: keep what it was, selectors and all */
		watch_rule__release(dst);
		memcpy(dst, src, sizeof(*dst));
		dst->argv_compiled = false;
		dst->spec.compiled = false;
		ret = job_spec__copy(&dst->spec, &src->spec);
		if (!ret && src->argv_compiled &&
		    !regcomp(&dst->argv_rx, dst->argv_re, REG_EXTENDED | REG_NOSUB))
			dst->argv_compiled = true;
	}
	dst->id = src->id;
	dst->from_config = src->from_config;
	return ret;
}

void watch_rule__release(struct watch_rule *r)
{
	if (!r)
		return;
	if (r->argv_compiled)
		regfree(&r->argv_rx);
	r->argv_compiled = false;
	job_spec__release(&r->spec);
}

bool watch_rule__argv_matches(const struct watch_rule *r, const char *const *argv, int argc)
{
	char line[4096];
	size_t pos = 0;

	if (!r->argv_compiled)
		return true;
	line[0] = 0;
	for (int i = 0; i < argc && pos + 1 < sizeof(line); i++)
		pos += snprintf(line + pos, sizeof(line) - pos, "%s%s", i ? " " : "", argv[i]);
	return !regexec(&r->argv_rx, line, 0, NULL, 0);
}

/* The slot of the rule a parent selector names (by name or id), or -1. */
static int slot_of(const struct watch_rule *rules, int n, const char *ref)
{
	char *end;
	unsigned long id = strtoul(ref, &end, 10);

	for (int i = 0; i < n; i++)
		if (*end ? !strcmp(rules[i].name, ref) : rules[i].id == id)
			return i;
	return -1;
}

int watch_rules__to_kernel(const struct watch_rule *rules, int n, struct ww_watch_rule *out, char *err,
			   size_t errlen)
{
	for (int i = 0; i < n; i++) {
		const struct watch_rule *r = &rules[i];
		struct ww_watch_rule *k = &out[i];
		int p = r->parent[0] ? slot_of(rules, n, r->parent) : -1;

		memset(k, 0, sizeof(*k));
		if (r->parent[0] && (p < 0 || p == i)) {
			snprintf(err, errlen, "watch rule %u: 'parent' %.64s names no other rule", r->id, r->parent);
			return -EINVAL;
		}
		k->sel = r->sel;
		k->id = r->id;
		k->flags = r->sel_flags;
		k->parent_slot = p < 0 ? 0 : p;
		k->jobs = r->spec.jobs;
		k->jobs_id = watch_rule__jobs_id(r->id);
	}
	return 0;
}
