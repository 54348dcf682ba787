/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * IPv4 over IPv6 on the WAN port, everything outside the BPF programs:
 * MAP-E/DS-Lite/ipip6 addresses on the WAN, IPv4 routes through a fake
 * next hop (so the kernel hands IPv4 to the WAN, where tc egress wraps
 * it), the "tun_out"/"tun_in" map entries, and the nftables table (NAPT
 * into the MAP-E port set, port forwards).
 *
 * Everything added is recorded and tunnel_stop() removes exactly that,
 * in reverse order; addresses that were there before stay.
 */
#ifndef BR_TUNNEL_H
#define BR_TUNNEL_H

#include <stdbool.h>
#include <net/if.h>
#include <netinet/in.h>

#include "config/tunnel.h"
#include "tunnel/mape_rule.h"
#include "tunnel/napt.h"
#include "common/rtnl.h"

/*
 * IPv4 goes to the WAN through this next hop, "onlink", with a permanent
 * neighbour entry: no ARP, and the Ethernet header the kernel writes is
 * replaced by bpf_redirect_neigh() after encapsulation. 192.0.0.1 is the
 * AFTR end of RFC 6333's B4/AFTR pair; never seen on the wire.
 */
#define TUNNEL_NEXT_HOP "192.0.0.1"
#define TUNNEL_DSLITE_B4 "192.0.0.2" /* RFC 6333 5.7 */
#define TUNNEL_OUTER_HDR 40	     /* the IPv6 header tc egress pushes */

#define TUNNEL_MAX_MARKERS (TUNNEL_MAX_PEERS + 2)
#define TUNNEL_MAX_SEEN 8

struct tunnel_undo;

/* Things added, undone in reverse order. */
struct tunnel_undo_list {
	struct tunnel_undo *v;
	int n, cap;
};

/* {::, local} "refuse 4in6 from anyone else" entries, shared by tunnels. */
struct tunnel_marker {
	struct in6_addr local;
	int refs;
};

struct tunnel {
	struct tunnel_cfg cfg;
	char wan[IF_NAMESIZE];
	int wan_ifindex;
	int tun_out_fd, tun_in_fd, nat_fd;
	int epoch_fd; /* "tun_epoch": bumped after each tun_in change */
	struct rtnl rtnl;
	bool started;
	bool main_failed;		/* MAP-E/DS-Lite setup failed: no retry by tick */
	bool waiting;			/* DS-Lite: "waiting for an address" logged */
	unsigned int wan_mtu;		/* when the MTU was last computed */
	unsigned int mtu;		/* IPv4 MTU of the tunnels */
	bool nft_loaded;
	bool nft_untracked; /* the table has the "untracked" chain */
	struct tunnel_undo_list base;	/* next hop neighbour */
	struct tunnel_undo_list peers;	/* ipip6 */
	struct tunnel_undo_list main;	/* MAP-E or DS-Lite */
	struct tunnel_marker markers[TUNNEL_MAX_MARKERS];

	/* MAP-E */
	bool have_prefix;		/* an end-user prefix is known */
	struct prefix6 prefix;	/* the one in use */
	struct prefix6 seen[TUNNEL_MAX_SEEN]; /* learned so far, newest last */
	int n_seen;
	bool ce_up;			/* ce is configured on the system */
	struct mape_ce ce;
	int n_reserved;			/* reserved ports inside ce's set */
	struct tunnel_reserved reserved[TUNNEL_MAX_RESERVED];
	struct napt_plan napt; /* NAT stand-ins, when napt_applies(ce) */

	/* DS-Lite */
	bool b4_up;
	struct in6_addr b4;		/* IPv6 source of the softwire */
};

/* The BPF maps the tunnel writes; brouterd is their only writer. */
struct tunnel_maps {
	int tun_out, tun_in; /* pinned; flushed at start */
	int nat_ports;	     /* MAP-E NAPT stand-ins, cleared at start */
	int tun_epoch;	     /* what XDP's copies of tun_in entries go by */
};

/*
 * Set up @cfg on the WAN port @wan (@wan_ifindex), writing the maps @m. MAP-E without a configured
 * prefix starts as soon as one is known: from a global address already on
 * the WAN inside the rule's IPv6 prefix, or from tunnel_prefix_update().
 * DS-Lite without a configured local address likewise waits for a global
 * address on the WAN. Returns 0, or -errno after logging why and undoing
 * all it did. @t needs no initialisation; tunnel_stop() it in all cases.
 */
int tunnel_start(struct tunnel *t, const struct tunnel_cfg *cfg,
		 const char *wan, int wan_ifindex, const struct tunnel_maps *m);

/*
 * A prefix of the WAN was learned (router advertisement, valid lifetime
 * > 0). MAP-E without a configured prefix: a prefix inside the rule, seen
 * for the first time or while none is in use, becomes the end-user prefix
 * and everything is recomputed and logged (the conntrack entries of the
 * old CE address are deleted, so flows that go on are NATed to the new
 * one); one that is merely advertised again changes nothing (an ISP
 * renumbering advertises old and new for a while). DS-Lite: looks again for a local address if it had none or lost
 * it. Returns 1 if something changed, 0 if not, -errno if setting up the
 * new state failed (the tunnel is then down until the next change).
 */
int tunnel_prefix_update(struct tunnel *t, const struct prefix6 *learned);

/* The prefix was withdrawn (valid lifetime 0): stop using it. */
int tunnel_prefix_withdraw(struct tunnel *t, const struct prefix6 *gone);

/*
 * The WAN changed (a link or address event): follow its MTU (mtu = 0 in
 * the config), pick up a WAN address MAP-E or DS-Lite still waits for,
 * notice a DS-Lite source address that went away.
 */
void tunnel_wan_changed(struct tunnel *t);

/* Has the table written the "untracked" chain (tunnel/nft.h)? */
static inline bool tunnel_untracked_chain(const struct tunnel *t)
{
	return t->started && t->nft_loaded && t->nft_untracked;
}

/*
 * keep.c. Put back every address, route and the neighbour the tunnel
 * added that is no longer there (someone deleted it, the kernel flushed
 * it): each logged. Nothing while the WAN is down. Returns how many.
 */
int tunnel_keep(struct tunnel *t);

/*
 * The nftables table was changed or removed by someone else (@what says
 * how, for the log): write it again, unless a table of its name that is
 * not brouterd's is there now (refused, logged). 0 or -errno.
 */
int tunnel_nft_restore(struct tunnel *t, const char *what);

/*
 * The WAN device is gone, with the addresses, routes and neighbour on it:
 * remove the map entries and the nftables table, forget the rest. The
 * tunnel is then stopped (tunnel_start() it on the next device).
 */
void tunnel_forget(struct tunnel *t);

/*
 * SIGHUP: if @cfg differs, stop and start again with it (keeping prefixes
 * learned so far). 0 or -errno; on error the tunnel is down (logged).
 */
int tunnel_reload(struct tunnel *t, const struct tunnel_cfg *cfg);

/* Remove everything tunnel_start() and later calls added. Idempotent. */
void tunnel_stop(struct tunnel *t);

#endif /* BR_TUNNEL_H */
