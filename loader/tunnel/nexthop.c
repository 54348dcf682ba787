// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The tunnels' IPv6 next hops into "tun_nh" (tunnel/nexthop.h). */
#include <errno.h>
#include <string.h>
#include <bpf/bpf.h>

#include "brouter/abi.h"
#include "common/mapwalk.h"
#include "common/rtnl.h"
#include "tunnel/nexthop.h"

/* "tun_out" holds at most 64 tunnels (BR_TUN_MAX, bpf/maps.h). */
#define NH_MAX_ENDS 64

struct nh_walk {
	struct rtnl *nl;
	int wan, nh_fd, changed, err;
	struct br_addr_key seen[NH_MAX_ENDS];
	int n_seen;
};

static int seen(const struct nh_walk *w, const struct br_addr_key *k)
{
	int i;

	for (i = 0; i < w->n_seen; i++)
		if (!memcmp(&w->seen[i], k, sizeof(*k)))
			return 1;
	return 0;
}

/* Write @v for @k unless it is there already; count a change. */
static void nh_put(struct nh_walk *w, const struct br_addr_key *k,
		   const struct br_tun_nh *v)
{
	struct br_tun_nh old;

	if (!bpf_map_lookup_elem(w->nh_fd, k, &old) &&
	    !memcmp(&old, v, sizeof(old)))
		return;
	if (bpf_map_update_elem(w->nh_fd, k, v, BPF_ANY))
		w->err = -errno;
	else
		w->changed++;
}

static int one_tunnel(const void *key, const void *val, void *ctx)
{
	const struct br_tun *t = val;
	struct nh_walk *w = ctx;
	struct br_tun_nh v = { 0 };
	struct br_addr_key k;
	struct rtnl_nh6 nh;

	(void)key;
	memcpy(k.addr, t->remote6, sizeof(k.addr));
	if (seen(w, &k) || w->n_seen == NH_MAX_ENDS)
		return 0;
	w->seen[w->n_seen++] = k;
	if (rtnl_nexthop6(w->nl, (const void *)t->remote6,
			  (const void *)t->local6, w->wan, &nh) ||
	    nh.oif != w->wan) {
		/* no route out of the WAN: tc egress lets the kernel look */
		w->n_seen--;
		return 0;
	}
	memcpy(v.nh6, &nh.gw, sizeof(v.nh6));
	if (nh.has_mac) {
		memcpy(v.mac, nh.mac, sizeof(v.mac));
		v.flags = BR_NH_MAC;
	}
	nh_put(w, &k, &v);
	return 0;
}

static bool stale(const void *key, void *ctx)
{
	return !seen(ctx, key);
}

int tunnel_nexthops_sync(struct rtnl *nl, int wan_ifindex, int out_fd,
			 int nh_fd)
{
	struct nh_walk w = { .nl = nl, .wan = wan_ifindex, .nh_fd = nh_fd };
	struct map_keys gone = { 0 };
	int err;

	err = map_each(out_fd, sizeof(struct br_tun_out_key), sizeof(struct br_tun),
		       one_tunnel, &w) ?:
	      map_keys(nh_fd, sizeof(struct br_addr_key), stale, &w, &gone) ?:
	      map_keys_delete(nh_fd, &gone);
	w.changed += gone.n;
	map_keys_free(&gone);
	return err ?: w.err ?: w.changed;
}
