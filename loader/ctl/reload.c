// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* brouterctl reload: SIGHUP to brouterd, and wait until it says how it went. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "common/log.h"
#include "ctl/ctl.h"

static int read_one(const struct ctl *c, const char *map, void *val)
{
	__u32 zero = 0;
	int fd, err;

	fd = ctl_open(c, map);
	if (fd < 0)
		return fd;
	err = bpf_map_lookup_elem(fd, &zero, val) ? -errno : 0;
	close(fd);
	return err;
}

/*
 * How many reloads brouterd refused, from its "status" map; 0 when it has
 * none (an older brouterd: then only waiting tells).
 */
static __u64 refusals(const struct ctl *c)
{
	struct br_status st = { 0 };
	char path[PATH_MAX];
	__u32 zero = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/status", c->pin_dir);
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		bpf_map_lookup_elem(fd, &zero, &st);
		close(fd);
	}
	return st.reload_failures;
}

/*
 * brouterd increments settings.gen only after a reload fully succeeded,
 * and status.reload_failures when it kept the running policy.
 */
int cmd_reload(const struct ctl *c)
{
	struct timespec pause = { 0, 50 * 1000000 };
	struct br_settings s;
	struct br_info info;
	__u64 refused;
	__u32 gen;
	int i, err;

	err = read_one(c, "info", &info) ?: read_one(c, "settings", &s);
	if (err)
		return ctl_exit_status(err);
	refused = refusals(c);
	if (!info.pid || (kill(info.pid, 0) && errno == ESRCH)) {
		pr_err("brouterd is not running (%s holds state kept by one that "
		       "stopped)",
		       c->pin_dir);
		return CTL_NOT_RUNNING;
	}
	gen = s.gen;
	if (kill(info.pid, SIGHUP)) {
		pr_err("signal brouterd (pid %u): %s", info.pid, strerror(errno));
		return CTL_ERROR;
	}
	for (i = 0; i < 100; i++) {
		nanosleep(&pause, NULL);
		if (!read_one(c, "settings", &s) && s.gen != gen) {
			printf("reloaded: policy generation %u active\n", s.gen);
			return CTL_OK;
		}
		if (refusals(c) != refused)
			break;
	}
	pr_err("brouterd (pid %u) kept its running policy: see its log for the "
	       "config error", info.pid);
	return CTL_ERROR;
}
