// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Everything the tunnel adds to the system, each step recorded in an undo
 * list as it succeeds (base: the neighbour; peers: ipip6; main: MAP-E or
 * DS-Lite, rebuilt when the WAN prefix changes), and undone in reverse.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <bpf/bpf.h>

#include "common/log.h"
#include "tunnel/internal.h"

/* Locally administered, never on the wire: tc egress rewrites it. */
static const uint8_t next_hop_mac[6] = { 0x02, 0x00, 0xc0, 0x00, 0x00, 0x01 };

struct in_addr addr4(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return a;
}

static void marker_put(struct tunnel *t, const struct in6_addr *local);

static void undo_one(struct tunnel *t, const struct tunnel_undo *u)
{
	char a[INET6_ADDRSTRLEN];
	int err = 0;

	switch (u->kind) {
	case UNDO_ADDR:
		err = rtnl_addr_del(&t->rtnl, t->wan_ifindex, u->family, &u->u, u->plen);
		if (err && err != -EADDRNOTAVAIL && err != -ENOENT)
			pr_warn("remove %s/%u from %s: %s",
				inet_ntop(u->family, &u->u, a, sizeof(a)), u->plen, t->wan,
				strerror(-err));
		break;
	case UNDO_ROUTE4:
		err = rtnl_route4_del(&t->rtnl, t->wan_ifindex, u->u.v4, u->plen);
		if (err && err != -ESRCH)
			pr_warn("remove route %s/%u dev %s: %s", addr4_str(&u->u.v4, a), u->plen,
				t->wan, strerror(-err));
		break;
	case UNDO_NEIGH4:
		err = rtnl_neigh4_del(&t->rtnl, t->wan_ifindex, u->u.v4);
		if (err && err != -ENOENT)
			pr_warn("remove neighbour %s dev %s: %s", addr4_str(&u->u.v4, a), t->wan,
				strerror(-err));
		break;
	case UNDO_TUN_OUT:
		if (bpf_map_delete_elem(t->tun_out_fd, &u->u.out) && errno != ENOENT)
			pr_warn("tun_out: remove %s/%u: %s", addr4_str(&u->u.out.addr, a),
				u->u.out.prefixlen, strerror(errno));
		break;
	case UNDO_TUN_IN:
		if (bpf_map_delete_elem(t->tun_in_fd, &u->u.in) && errno != ENOENT)
			pr_warn("tun_in: remove %s: %s", addr6_str(u->u.in.remote6, a),
				strerror(errno));
		tun_in_changed(t);
		break;
	case UNDO_MARKER:
		marker_put(t, &u->u.v6);
		break;
	}
}

void undo_all(struct tunnel *t, struct tunnel_undo_list *l)
{
	while (l->n > 0)
		undo_one(t, &l->v[--l->n]);
}

/*
 * The WAN device is gone, and the addresses, routes and neighbour on it
 * with it: undo only what lives elsewhere (the programs' map entries).
 */
void undo_all_but_device(struct tunnel *t, struct tunnel_undo_list *l)
{
	const struct tunnel_undo *u;

	while (l->n > 0) {
		u = &l->v[--l->n];
		if (u->kind != UNDO_ADDR && u->kind != UNDO_ROUTE4 &&
		    u->kind != UNDO_NEIGH4)
			undo_one(t, u);
	}
}

/* Remember @u, done already; if even that fails, undo it now. */
int record(struct tunnel *t, struct tunnel_undo_list *l,
		  const struct tunnel_undo *u)
{
	struct tunnel_undo *v;
	int cap;

	if (l->n == l->cap) {
		cap = l->cap ? l->cap * 2 : 16;
		v = realloc(l->v, cap * sizeof(*v));
		if (!v) {
			pr_err("tunnel: out of memory");
			undo_one(t, u);
			return -ENOMEM;
		}
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *u;
	return 0;
}

/* IFA_PROTO of @addr on the WAN, -ENOENT if absent, or -errno. */
static int addr_owner(struct tunnel *t, int family, const void *addr)
{
	struct rtnl_addr v[TUNNEL_MAX_ADDRS];
	int n, i;

	n = rtnl_addr_list(&t->rtnl, t->wan_ifindex, family, v, TUNNEL_MAX_ADDRS);
	if (n < 0)
		return n;
	for (i = 0; i < n && i < TUNNEL_MAX_ADDRS; i++)
		if (!memcmp(&v[i].a, addr, family == AF_INET ? 4 : 16))
			return v[i].proto;
	return -ENOENT;
}

/*
 * An address on the WAN. One that is there already is used and left in
 * place, unless an earlier brouterd (killed before it could clean up)
 * put it there: then it is ours to remove.
 */
int add_addr(struct tunnel *t, struct tunnel_undo_list *l, int family,
		    const void *addr, unsigned int plen, const char *what)
{
	struct tunnel_undo u = { .kind = UNDO_ADDR, .family = family, .plen = plen };
	char a[INET6_ADDRSTRLEN];
	int err;

	memcpy(&u.u, addr, family == AF_INET ? 4 : 16);
	inet_ntop(family, addr, a, sizeof(a));
	err = rtnl_addr_add(&t->rtnl, t->wan_ifindex, family, addr, plen);
	if (err == -EEXIST) {
		if (addr_owner(t, family, addr) != RTNL_PROTO_BROUTER) {
			pr_info("%s %s is on %s already: using it, leaving it there", what,
				a, t->wan);
			return 0;
		}
		pr_info("%s %s: taking over what an earlier brouterd left on %s", what,
			a, t->wan);
	} else if (err) {
		pr_err("add %s %s/%u to %s: %s", what, a, plen, t->wan, strerror(-err));
		return err;
	} else {
		pr_debug("added %s %s/%u to %s", what, a, plen, t->wan);
	}
	return record(t, l, &u);
}

static int add_route(struct tunnel *t, struct tunnel_undo_list *l,
		     struct in_addr dst, unsigned int plen, unsigned int mtu)
{
	struct tunnel_undo u = { .kind = UNDO_ROUTE4, .plen = plen, .u.v4 = dst };
	char d[INET_ADDRSTRLEN];
	int err;

	addr4_str(&dst, d);
	/* one of ours left by a brouterd that was killed: replace it */
	rtnl_route4_del(&t->rtnl, t->wan_ifindex, dst, plen);
	err = rtnl_route4_add(&t->rtnl, t->wan_ifindex, dst, plen,
			      addr4(TUNNEL_NEXT_HOP), mtu);
	if (err == -EEXIST) {
		pr_err("add route %s/%u via %s dev %s mtu %u: a route for %s/%u exists already; the tunnel needs it (remove the other one)",
		       d, plen, TUNNEL_NEXT_HOP, t->wan, mtu, d, plen);
		return err;
	}
	if (err) {
		/* the kernel checks an on-link gateway against the local table */
		pr_err("add route %s/%u via %s dev %s onlink mtu %u: %s%s", d,
		       plen, TUNNEL_NEXT_HOP, t->wan, mtu, strerror(-err),
		       err == -EINVAL
			       ? " (no IPv4 address on this system yet? bring lo up)"
			       : "");
		return err;
	}
	pr_debug("added route %s/%u via %s dev %s mtu %u", d, plen,
		 TUNNEL_NEXT_HOP, t->wan, mtu);
	return record(t, l, &u);
}

static int add_tun_out(struct tunnel *t, struct tunnel_undo_list *l,
		       struct in_addr dst, unsigned int plen, const struct br_tun *tun)
{
	struct tunnel_undo u = { .kind = UNDO_TUN_OUT };
	char d[INET_ADDRSTRLEN];

	u.u.out.prefixlen = plen;
	u.u.out.addr = dst.s_addr;
	if (bpf_map_update_elem(t->tun_out_fd, &u.u.out, tun, BPF_NOEXIST)) {
		pr_err("tun_out: add %s/%u: %s", addr4_str(&dst, d), plen,
		       errno == EEXIST ? "already routed into another tunnel" :
					 strerror(errno));
		return -errno;
	}
	return record(t, l, &u);
}

/*
 * After every change to "tun_in": the copies XDP keeps of its entries
 * (bpf/tun/decap.h) count no more. brouterd is the only writer.
 */
void tun_in_changed(struct tunnel *t)
{
	__u32 zero = 0, n = 0;

	if (bpf_map_lookup_elem(t->epoch_fd, &zero, &n) ||
	    (n++, bpf_map_update_elem(t->epoch_fd, &zero, &n, BPF_ANY)))
		pr_err("tun_epoch: %s: XDP may go on using a tunnel just removed",
		       strerror(errno));
}

static int add_tun_in(struct tunnel *t, struct tunnel_undo_list *l,
		      const struct br_tun *tun)
{
	struct tunnel_undo u = { .kind = UNDO_TUN_IN };
	char r[INET6_ADDRSTRLEN], o[INET6_ADDRSTRLEN];

	memcpy(u.u.in.remote6, tun->remote6, 16);
	memcpy(u.u.in.local6, tun->local6, 16);
	if (bpf_map_update_elem(t->tun_in_fd, &u.u.in, tun, BPF_NOEXIST)) {
		pr_err("tun_in: add %s -> %s: %s", addr6_str(tun->remote6, r),
		       addr6_str(tun->local6, o),
		       errno == EEXIST ? "that pair is another tunnel's" : strerror(errno));
		return -errno;
	}
	tun_in_changed(t);
	return record(t, l, &u);
}

/*
 * XDP drops 4in6 to a local tunnel address from anyone but the remote
 * end when {::, local} is in "tun_in" with mode 0. Tunnels can share a
 * local address, hence the reference count.
 */
static int add_marker(struct tunnel *t, struct tunnel_undo_list *l,
		      const struct in6_addr *local)
{
	struct tunnel_undo u = { .kind = UNDO_MARKER, .u.v6 = *local };
	struct tunnel_marker *m = NULL;
	struct br_tun_in_key k = { 0 };
	struct br_tun v = { 0 };
	char a[INET6_ADDRSTRLEN];
	int i;

	for (i = 0; i < TUNNEL_MAX_MARKERS; i++) {
		if (t->markers[i].refs && !memcmp(&t->markers[i].local, local, 16)) {
			m = &t->markers[i];
			break;
		}
		if (!m && !t->markers[i].refs)
			m = &t->markers[i];
	}
	if (!m)
		return -ENOSPC; /* cannot happen: one per tunnel at most */
	if (!m->refs) {
		memcpy(k.local6, local, 16);
		memcpy(v.local6, local, 16);
		if (bpf_map_update_elem(t->tun_in_fd, &k, &v, BPF_ANY)) {
			pr_err("tun_in: add marker for %s: %s", addr6_str(local, a),
			       strerror(errno));
			return -errno;
		}
		tun_in_changed(t);
		m->local = *local;
	}
	m->refs++;
	return record(t, l, &u);
}

static void marker_put(struct tunnel *t, const struct in6_addr *local)
{
	struct br_tun_in_key k = { 0 };
	char a[INET6_ADDRSTRLEN];
	int i;

	for (i = 0; i < TUNNEL_MAX_MARKERS; i++) {
		if (!t->markers[i].refs || memcmp(&t->markers[i].local, local, 16))
			continue;
		if (--t->markers[i].refs)
			return;
		memcpy(k.local6, local, 16);
		if (bpf_map_delete_elem(t->tun_in_fd, &k) && errno != ENOENT)
			pr_warn("tun_in: remove marker for %s: %s", addr6_str(local, a),
				strerror(errno));
		tun_in_changed(t);
		return;
	}
}

/* An encapsulation's two ends, their tun_in entry and the marker. */
int add_tunnel_ends(struct tunnel *t, struct tunnel_undo_list *l,
			   const struct br_tun *tun)
{
	return add_tun_in(t, l, tun) ?: add_marker(t, l, (const void *)tun->local6);
}

/* IPv4 @dst/@plen into @tun: the map entry, then the route that uses it. */
int add_ipv4_path(struct tunnel *t, struct tunnel_undo_list *l,
			 struct in_addr dst, unsigned int plen, const struct br_tun *tun)
{
	return add_tun_out(t, l, dst, plen, tun)
		       ?: add_route(t, l, dst, plen, tun->mtu);
}

int neigh_put(struct tunnel *t)
{
	int err = rtnl_neigh4_add(&t->rtnl, t->wan_ifindex, addr4(TUNNEL_NEXT_HOP),
				  next_hop_mac);

	if (err)
		pr_err("add neighbour %s dev %s: %s", TUNNEL_NEXT_HOP, t->wan, strerror(-err));
	return err;
}

/* The next hop's neighbour entry, recorded in the base list. */
int add_next_hop(struct tunnel *t)
{
	struct tunnel_undo nh = { .kind = UNDO_NEIGH4, .u.v4 = addr4(TUNNEL_NEXT_HOP) };

	return neigh_put(t) ?: record(t, &t->base, &nh);
}
