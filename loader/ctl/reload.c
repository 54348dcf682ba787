// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* brouterctl reload: SIGHUP to brouterd, and wait until it says how it went. */
#include <errno.h>
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

/* brouterd increments settings.gen only after a reload fully succeeded. */
int cmd_reload(const struct ctl *c)
{
	struct timespec pause = { 0, 50 * 1000000 };
	struct br_settings s;
	struct br_info info;
	__u32 gen;
	int i, err;

	err = read_one(c, "info", &info) ?: read_one(c, "settings", &s);
	if (err)
		return ctl_exit_status(err);
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
	}
	pr_err("brouterd (pid %u) kept its running policy: see its log for the "
	       "config error", info.pid);
	return CTL_ERROR;
}
