// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * brouterctl provision: what HB46PP provisioning found (the status file
 * brouterd's worker writes in the state directory), and --clear, which
 * forgets the token and the stored answer (spec 3.5).
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "common/log.h"
#include "ctl/ctl.h"
#include "provision/hb46pp.h"

/* The pid of the brouterd running on @c's pins, or 0. */
static pid_t running_pid(const struct ctl *c)
{
	char path[PATH_MAX];
	struct br_info info;
	__u32 zero = 0;
	int fd, ok;

	snprintf(path, sizeof(path), "%s/info", c->pin_dir);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	ok = !bpf_map_lookup_elem(fd, &zero, &info);
	close(fd);
	if (!ok || !info.pid || (kill(info.pid, 0) && errno == ESRCH))
		return 0;
	return info.pid;
}

/*
 * The files go at once; a running brouterd (SIGUSR1) also forgets the
 * token it holds and asks the server again now.
 */
static int clear(const struct ctl *c)
{
	pid_t pid = running_pid(c);
	int err = hb_store_clear(c->state_dir);

	if (err) {
		pr_err("clear %s: %s", c->state_dir, strerror(-err));
		return CTL_ERROR;
	}
	if (pid && kill(pid, SIGUSR1)) {
		pr_err("signal brouterd (pid %d): %s", pid, strerror(errno));
		return CTL_ERROR;
	}
	printf("HB46PP token and stored answer removed from %s%s\n",
	       c->state_dir, pid ? "; brouterd asks the server again now" : "");
	return CTL_OK;
}

int cmd_provision(const struct ctl *c)
{
	int err;

	if (c->clear)
		return clear(c);
	err = hb_status_print(c->state_dir, c->json, stdout);
	return err ? CTL_ERROR : CTL_OK;
}
