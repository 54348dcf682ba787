/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Shared by the files of loader/tunnel only: the steps one file takes and another calls. */
#ifndef BR_TUNNEL_INTERNAL_H
#define BR_TUNNEL_INTERNAL_H

#include <stdbool.h>
#include <netinet/in.h>

#include "brouter/abi.h"
#include "common/prefix.h"
#include "tunnel/tunnel.h"

#define TUNNEL_MAX_ADDRS 64

/*
 * MAP-E and lw4o6 run from a rule (lw4o6's has no EA bits) and an
 * end-user prefix, configured or learned on the WAN and followed there.
 */
static inline bool tunnel_ruled(const struct tunnel *t)
{
	return t->cfg.mode == TUNNEL_MAPE || t->cfg.mode == TUNNEL_LW4O6;
}

/* "MAP-E" or "lw4o6", for the messages of a ruled tunnel. */
static inline const char *tunnel_rule_name(const struct tunnel *t)
{
	return t->cfg.mode == TUNNEL_LW4O6 ? "lw4o6" : "MAP-E";
}

/* undo.c: each change to the system, recorded in @l as it succeeds */
enum undo_kind {
	UNDO_ADDR,
	UNDO_ROUTE4,
	UNDO_NEIGH4,
	UNDO_TUN_OUT,
	UNDO_TUN_IN,
	UNDO_MARKER,
};

struct tunnel_undo {
	enum undo_kind kind;
	int family;	   /* UNDO_ADDR */
	unsigned int plen; /* UNDO_ADDR, UNDO_ROUTE4 */
	union {
		struct in_addr v4;
		struct in6_addr v6;
		struct br_tun_out_key out;
		struct br_tun_in_key in;
	} u;
};

struct in_addr addr4(const char *s);
void undo_all(struct tunnel *t, struct tunnel_undo_list *l);
void undo_all_but_device(struct tunnel *t, struct tunnel_undo_list *l);
int add_addr(struct tunnel *t, struct tunnel_undo_list *l, int family,
	     const void *addr, unsigned int plen, const char *what);
void tun_in_changed(struct tunnel *t);
int add_tunnel_ends(struct tunnel *t, struct tunnel_undo_list *l,
		    const struct br_tun *tun);
int add_ipv4_path(struct tunnel *t, struct tunnel_undo_list *l,
		  struct in_addr dst, unsigned int plen, const struct br_tun *tun);
int neigh_put(struct tunnel *t);
int add_next_hop(struct tunnel *t);

/* wan.c: the WAN's MTU and addresses */
int mtu_compute(struct tunnel *t);
int prefix_from_wan(struct tunnel *t, struct prefix6 *out);
int pick_b4(struct tunnel *t, struct in6_addr *out);

/* setup.c: the parts up and down */
int nft_sync(struct tunnel *t);
void ct_forget(struct in_addr ce);
void main_down(struct tunnel *t, bool resync);
void tunnel_release(struct tunnel *t);
int main_up(struct tunnel *t);
int everything_up(struct tunnel *t);

#endif /* BR_TUNNEL_INTERNAL_H */
