// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A veth port whose peer has neither GRO nor an XDP program: the kernel
 * hands frames that XDP redirects into a veth only to a peer with NAPI,
 * which GRO or an XDP program turns on, and drops the rest without a
 * counter brouter sees. Said once, with the fix, when it starts to hold
 * (at start, a port back, a link change of the port or of a peer in this
 * namespace), and once more when it no longer does.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "common/log.h"
#include "common/netdev.h"
#include "daemon/brouterd.h"

/* The namespace files a peer's namespace may be found under. */
static int nsfd_try(struct brouterd *d, const char *path, int nsid, ino_t *seen,
		    int *n_seen)
{
	struct stat st;
	int fd, i;

	if (stat(path, &st))
		return -1;
	for (i = 0; i < *n_seen; i++)
		if (seen[i] == st.st_ino)
			return -1;
	if (*n_seen < 256)
		seen[(*n_seen)++] = st.st_ino;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (rtnl_nsid_of(&d->rq, fd) == nsid)
		return fd;
	close(fd);
	return -1;
}

/*
 * An fd of the namespace this one knows as @nsid, or -1: it has a name
 * under /run/netns (ip netns), or some process lives in it.
 */
static int netns_of(struct brouterd *d, int nsid)
{
	static const char *const dirs[] = { "/run/netns", "/proc" };
	ino_t seen[256];
	int i, fd = -1, n_seen = 0;
	char path[300];
	struct dirent *de;
	DIR *dir;

	for (i = 0; i < 2 && fd < 0; i++) {
		dir = opendir(dirs[i]);
		if (!dir)
			continue;
		while (fd < 0 && (de = readdir(dir))) {
			if (de->d_name[0] == '.' ||
			    (i && (de->d_name[0] < '0' || de->d_name[0] > '9')))
				continue;
			snprintf(path, sizeof(path),
				 i ? "%s/%s/ns/net" : "%s/%s", dirs[i],
				 de->d_name);
			fd = nsfd_try(d, path, nsid, seen, &n_seen);
		}
		closedir(dir);
	}
	return fd;
}

/* Can the peer @l (in namespace @nsid, -1: here) take XDP redirects? 1, 0, -1: cannot tell. */
static int peer_takes_redirects(struct brouterd *d, const struct rtnl_link *l,
				int nsid)
{
	int fd = -1, gro;

	if (l->xdp)
		return 1;
	if (nsid >= 0) {
		fd = netns_of(d, nsid);
		if (fd < 0)
			return -1;
	}
	gro = netdev_gro(l->ifname, fd);
	if (fd >= 0)
		close(fd);
	return gro < 0 ? -1 : gro;
}

void veth_check(struct brouterd *d, int p)
{
	struct br_port_state *ps = &d->ps[p];
	struct rtnl_link me, peer;
	int ok;

	ps->peer = 0;
	if (ps->gone || rtnl_link_get(&d->rq, d->port[p].ifindex, -1, &me) ||
	    strcmp(me.kind, "veth") || !me.link)
		return;
	ps->peer = me.link;
	ps->peer_netnsid = me.link_netnsid;
	if (rtnl_link_get(&d->rq, me.link, me.link_netnsid, &peer))
		return;
	ok = peer_takes_redirects(d, &peer, me.link_netnsid);
	if (ok < 0) {
		pr_debug("%s: cannot tell whether its veth peer %s has GRO",
			 me.ifname, peer.ifname);
	} else if (!ok && !ps->veth_warned) {
		pr_warn("%s is a veth whose peer %s%s has neither GRO nor an XDP "
			"program: the kernel drops every frame brouter's XDP redirects "
			"into %s. Fix: ethtool -K %s gro on%s (or attach an XDP program "
			"to it)",
			me.ifname, peer.ifname,
			me.link_netnsid >= 0 ? " (in another network namespace)"
					     : "",
			me.ifname, peer.ifname,
			me.link_netnsid >= 0 ? ", in the peer's namespace"
					     : "");
		ps->veth_warned = true;
	} else if (ok && ps->veth_warned) {
		pr_info("%s: its veth peer %s takes XDP redirects now",
			me.ifname, peer.ifname);
		ps->veth_warned = false;
	}
}
