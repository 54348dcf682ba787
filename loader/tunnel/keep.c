// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Keeping what the tunnel put on the system while others change it: an
 * address, route or the neighbour someone deleted (or the kernel flushed
 * with the link going down) is put back, the nftables table restored
 * after a flush or an edit, and a WAN device that vanished is forgotten
 * without trying to undo what went with it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <net/if.h>

#include "common/log.h"
#include "tunnel/internal.h"
#include "tunnel/nft.h"

/* Is @u (an address, route or neighbour of the WAN) gone? Put it back. */
static int keep_one(struct tunnel *t, const struct tunnel_undo *u)
{
	char a[INET6_ADDRSTRLEN];
	int err;

	switch (u->kind) {
	case UNDO_ADDR:
		err = rtnl_addr_add(&t->rtnl, t->wan_ifindex, u->family, &u->u,
				    u->plen);
		if (err == -EEXIST)
			return 0;
		inet_ntop(u->family, &u->u, a, sizeof(a));
		if (err)
			pr_err("tunnel: address %s/%u was removed from %s; putting it back: %s",
			       a, u->plen, t->wan, strerror(-err));
		else
			pr_warn("tunnel: address %s/%u was removed from %s: put back",
				a, u->plen, t->wan);
		return err ? err : 1;
	case UNDO_ROUTE4:
		err = rtnl_route4_add(&t->rtnl, t->wan_ifindex, u->u.v4,
				      u->plen, addr4(TUNNEL_NEXT_HOP), t->mtu);
		if (err == -EEXIST)
			return 0;
		if (err)
			pr_err("tunnel: route %s/%u was removed; putting it back: %s",
			       addr4_str(&u->u.v4, a), u->plen, strerror(-err));
		else
			pr_warn("tunnel: route %s/%u via %s dev %s was removed: put back",
				addr4_str(&u->u.v4, a), u->plen,
				TUNNEL_NEXT_HOP, t->wan);
		return err ? err : 1;
	case UNDO_NEIGH4:
		err = rtnl_neigh4_present(&t->rtnl, t->wan_ifindex, u->u.v4);
		if (err)
			return err < 0 ? err : 0;
		err = neigh_put(t);
		if (!err)
			pr_warn("tunnel: neighbour %s dev %s was removed: put back",
				TUNNEL_NEXT_HOP, t->wan);
		return err ? err : 1;
	default:
		return 0; /* map entries: brouterd is their only writer */
	}
}

static int keep_list(struct tunnel *t, const struct tunnel_undo_list *l)
{
	int i, n = 0, r;

	/* in the order they were added: addresses before the routes over them */
	for (i = 0; i < l->n; i++) {
		r = keep_one(t, &l->v[i]);
		n += r > 0;
	}
	return n;
}

int tunnel_keep(struct tunnel *t)
{
	struct rtnl_link l;

	if (!t->started || !tunnel_cfg_active(&t->cfg))
		return 0;
	/* events of a flush can be lost: a missing table is seen here too */
	if (t->nft_loaded && nft_table_owner() == NFT_TABLE_ABSENT)
		tunnel_nft_restore(t, "was missing");
	/* a link that is down takes no route: it comes back up with an event */
	if (rtnl_link_get(&t->rtnl, t->wan_ifindex, -1, &l) ||
	    !(l.flags & IFF_UP))
		return 0;
	return keep_list(t, &t->base) + keep_list(t, &t->peers) +
	       keep_list(t, &t->main);
}

void tunnel_forget(struct tunnel *t)
{
	if (!t->started)
		return;
	undo_all_but_device(t, &t->main);
	undo_all_but_device(t, &t->peers);
	undo_all_but_device(t, &t->base);
	t->ce_up = false;
	t->b4_up = false;
	if (t->napt.n) {
		napt_map_write(t->nat_fd, NULL);
		napt_plan_free(&t->napt);
	}
	tunnel_release(t);
	pr_info("tunnel: %s is gone and took the tunnel's addresses, routes and "
		"neighbour with it; map entries and nftables table removed",
		t->wan);
}

int tunnel_nft_restore(struct tunnel *t, const char *what)
{
	int err;

	if (!t->started || !t->nft_loaded)
		return 0;
	t->nft_loaded = false; /* look whose it is before writing over it */
	err = nft_sync(t);
	if (!err)
		pr_warn("nftables: table ip %s %s: restored", NFT_TABLE, what);
	return err;
}
