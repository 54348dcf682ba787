// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * IPv4 over IPv6: what brouterd sets up around the BPF programs.
 *
 * The kernel keeps routing IPv4 (forwarding, conntrack NAT, ICMP errors,
 * PMTU) as usual; it only needs to be told that IPv4 leaves through the
 * WAN port: a route via a fake on-link next hop with the tunnel MTU, and
 * a permanent neighbour for it so no ARP is sent. tc egress on the WAN
 * then wraps each packet in IPv6 ("tun_out"), XDP on the WAN unwraps what
 * the BR/AFTR/peer sends back ("tun_in"), and the local IPv4 address on
 * the WAN (MAP-E CE address, DS-Lite B4 192.0.0.2) makes the unwrapped
 * packets the kernel's to deliver or un-NAT.
 *
 * Every change is recorded in an undo list (base: the neighbour; peers:
 * ipip6; main: MAP-E or DS-Lite, rebuilt when the WAN prefix changes).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <bpf/bpf.h>

#include "brouter/abi.h"
#include "tunnel/ct.h"
#include "common/log.h"
#include "tunnel/nft.h"
#include "tunnel/tunnel.h"

/* IPv4 (20) + TCP (20) headers: the MSS of a tunnel MTU. */
#define TUNNEL_TCPIP_HDR 40
#define TUNNEL_MAX_ADDRS 64

/* Locally administered, never on the wire: tc egress rewrites it. */
static const uint8_t next_hop_mac[6] = { 0x02, 0x00, 0xc0, 0x00, 0x00, 0x01 };

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
	int family;		/* UNDO_ADDR */
	unsigned int plen;	/* UNDO_ADDR, UNDO_ROUTE4 */
	union {
		struct in_addr v4;
		struct in6_addr v6;
		struct br_tun_out_key out;
		struct br_tun_in_key in;
	} u;
};

static const char *ntop6(const void *a, char *buf)
{
	return inet_ntop(AF_INET6, a, buf, INET6_ADDRSTRLEN);
}

static const char *ntop4(const void *a, char *buf)
{
	return inet_ntop(AF_INET, a, buf, INET_ADDRSTRLEN);
}

static struct in_addr addr4(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return a;
}

/* ---- undo lists ------------------------------------------------------- */

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
			pr_warn("remove route %s/%u dev %s: %s", ntop4(&u->u.v4, a), u->plen,
				t->wan, strerror(-err));
		break;
	case UNDO_NEIGH4:
		err = rtnl_neigh4_del(&t->rtnl, t->wan_ifindex, u->u.v4);
		if (err && err != -ENOENT)
			pr_warn("remove neighbour %s dev %s: %s", ntop4(&u->u.v4, a), t->wan,
				strerror(-err));
		break;
	case UNDO_TUN_OUT:
		if (bpf_map_delete_elem(t->tun_out_fd, &u->u.out) && errno != ENOENT)
			pr_warn("tun_out: remove %s/%u: %s", ntop4(&u->u.out.addr, a),
				u->u.out.prefixlen, strerror(errno));
		break;
	case UNDO_TUN_IN:
		if (bpf_map_delete_elem(t->tun_in_fd, &u->u.in) && errno != ENOENT)
			pr_warn("tun_in: remove %s: %s", ntop6(u->u.in.remote6, a),
				strerror(errno));
		break;
	case UNDO_MARKER:
		marker_put(t, &u->u.v6);
		break;
	}
}

static void undo_all(struct tunnel *t, struct tunnel_undo_list *l)
{
	while (l->n > 0)
		undo_one(t, &l->v[--l->n]);
}

/* Remember @u, done already; if even that fails, undo it now. */
static int record(struct tunnel *t, struct tunnel_undo_list *l,
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

/* ---- the steps, each recorded ------------------------------------------ */

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
static int add_addr(struct tunnel *t, struct tunnel_undo_list *l, int family,
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
		     struct in_addr dst, unsigned int plen)
{
	struct tunnel_undo u = { .kind = UNDO_ROUTE4, .plen = plen, .u.v4 = dst };
	char d[INET_ADDRSTRLEN];
	int err;

	ntop4(&dst, d);
	/* one of ours left by a brouterd that was killed: replace it */
	rtnl_route4_del(&t->rtnl, t->wan_ifindex, dst, plen);
	err = rtnl_route4_add(&t->rtnl, t->wan_ifindex, dst, plen,
			      addr4(TUNNEL_NEXT_HOP), t->mtu);
	if (err == -EEXIST) {
		pr_err("add route %s/%u via %s dev %s mtu %u: a route for %s/%u exists already; the tunnel needs it (remove the other one)",
		       d, plen, TUNNEL_NEXT_HOP, t->wan, t->mtu, d, plen);
		return err;
	}
	if (err) {
		/* the kernel checks an on-link gateway against the local table */
		pr_err("add route %s/%u via %s dev %s onlink mtu %u: %s%s", d, plen,
		       TUNNEL_NEXT_HOP, t->wan, t->mtu, strerror(-err),
		       err == -EINVAL ? " (no IPv4 address on this system yet? bring lo up)" :
					"");
		return err;
	}
	pr_debug("added route %s/%u via %s dev %s mtu %u", d, plen, TUNNEL_NEXT_HOP,
		 t->wan, t->mtu);
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
		pr_err("tun_out: add %s/%u: %s", ntop4(&dst, d), plen,
		       errno == EEXIST ? "already routed into another tunnel" :
					 strerror(errno));
		return -errno;
	}
	return record(t, l, &u);
}

static int add_tun_in(struct tunnel *t, struct tunnel_undo_list *l,
		      const struct br_tun *tun)
{
	struct tunnel_undo u = { .kind = UNDO_TUN_IN };
	char r[INET6_ADDRSTRLEN], o[INET6_ADDRSTRLEN];

	memcpy(u.u.in.remote6, tun->remote6, 16);
	memcpy(u.u.in.local6, tun->local6, 16);
	if (bpf_map_update_elem(t->tun_in_fd, &u.u.in, tun, BPF_NOEXIST)) {
		pr_err("tun_in: add %s -> %s: %s", ntop6(tun->remote6, r),
		       ntop6(tun->local6, o),
		       errno == EEXIST ? "that pair is another tunnel's" : strerror(errno));
		return -errno;
	}
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
			pr_err("tun_in: add marker for %s: %s", ntop6(local, a),
			       strerror(errno));
			return -errno;
		}
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
			pr_warn("tun_in: remove marker for %s: %s", ntop6(local, a),
				strerror(errno));
		return;
	}
}

/* An encapsulation's two ends, their tun_in entry and the marker. */
static int add_tunnel_ends(struct tunnel *t, struct tunnel_undo_list *l,
			   const struct br_tun *tun)
{
	return add_tun_in(t, l, tun) ?: add_marker(t, l, (const void *)tun->local6);
}

/* IPv4 @dst/@plen into @tun: the map entry, then the route that uses it. */
static int add_ipv4_path(struct tunnel *t, struct tunnel_undo_list *l,
			 struct in_addr dst, unsigned int plen, const struct br_tun *tun)
{
	return add_tun_out(t, l, dst, plen, tun) ?: add_route(t, l, dst, plen);
}

/* ---- nftables ----------------------------------------------------------- */

static int nft_sync(struct tunnel *t)
{
	struct mape_prefix4 no_nat[TUNNEL_MAX_PEERS * TUNNEL_MAX_PEER_PREFIXES];
	struct nft_spec s = { .wan = t->wan, .mss = t->mtu - TUNNEL_TCPIP_HDR };
	int i, j, n = 0, err;
	char *text;

	if (t->ce_up) {
		s.ce = &t->ce;
		s.reserved = t->reserved;
		s.n_reserved = t->n_reserved;
	}
	for (i = 0; i < t->cfg.n_peers; i++)
		for (j = 0; j < t->cfg.peers[i].n_prefixes; j++)
			no_nat[n++] = t->cfg.peers[i].prefixes[j];
	s.no_nat = no_nat;
	s.n_no_nat = n;
	text = nft_table_text(&s);
	if (!text) {
		pr_err("nftables: build table ip %s: %s", NFT_TABLE, strerror(errno));
		return -errno;
	}
	pr_debug("nftables:\n%s", text);
	err = nft_table_apply(text);
	free(text);
	if (!err)
		t->nft_loaded = true;
	return err;
}

/* ---- MTU, addresses of the WAN ------------------------------------------ */

static int mtu_compute(struct tunnel *t)
{
	int wan = rtnl_link_mtu(&t->rtnl, t->wan_ifindex);

	if (wan < 0) {
		pr_err("%s: read MTU: %s", t->wan, strerror(-wan));
		return wan;
	}
	t->wan_mtu = wan;
	if (t->cfg.mtu) {
		if (t->cfg.mtu + TUNNEL_OUTER_HDR > (unsigned int)wan)
			pr_warn("tunnel mtu %u + %d > %s MTU %d: full-size packets will not fit the WAN",
				t->cfg.mtu, TUNNEL_OUTER_HDR, t->wan, wan);
		t->mtu = t->cfg.mtu;
		return 0;
	}
	if (wan < TUNNEL_MTU_MIN + TUNNEL_OUTER_HDR) {
		pr_err("%s: MTU %d leaves no room for IPv4 in IPv6 (at least %d needed)",
		       t->wan, wan, TUNNEL_MTU_MIN + TUNNEL_OUTER_HDR);
		return -EINVAL;
	}
	t->mtu = wan - TUNNEL_OUTER_HDR;
	return 0;
}

static bool in_prefix6(const struct in6_addr *a, const struct in6_addr *p,
		       unsigned int plen)
{
	unsigned int bytes = plen / 8, bits = plen % 8;

	if (memcmp(a, p, bytes))
		return false;
	return !bits || !((a->s6_addr[bytes] ^ p->s6_addr[bytes]) & (0xff00 >> bits));
}

static struct mape_prefix6 prefix6(const struct in6_addr *a, unsigned int plen)
{
	struct mape_prefix6 p = { .addr = *a, .len = plen };
	unsigned int i;

	for (i = plen; i < 128; i++)
		p.addr.s6_addr[i / 8] &= ~(0x80 >> (i % 8));
	return p;
}

/* Usable as a source: global, not ours, past DAD. */
static bool addr_usable(const struct rtnl_addr *a)
{
	return a->scope == RT_SCOPE_UNIVERSE && a->proto != RTNL_PROTO_BROUTER &&
	       !(a->flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED));
}

/* A WAN address whose prefix fits the MAP-E rule (SLAAC, DHCPv6). */
static int prefix_from_wan(struct tunnel *t, struct mape_prefix6 *out)
{
	const struct mape_rule *r = &t->cfg.rule;
	struct rtnl_addr v[TUNNEL_MAX_ADDRS];
	int n, i;

	n = rtnl_addr_list(&t->rtnl, t->wan_ifindex, AF_INET6, v, TUNNEL_MAX_ADDRS);
	for (i = 0; i < n && i < TUNNEL_MAX_ADDRS; i++) {
		if (!addr_usable(&v[i]) || v[i].plen < r->rule6.len + r->ea_len ||
		    !in_prefix6(&v[i].a.v6, &r->rule6.addr, r->rule6.len))
			continue;
		*out = prefix6(&v[i].a.v6, v[i].plen);
		return 1;
	}
	return n < 0 ? n : 0;
}

/*
 * DS-Lite's IPv6 source: the current one while it stays, else a global
 * address of the WAN, preferring stable over temporary, preferred over
 * deprecated.
 */
static int pick_b4(struct tunnel *t, struct in6_addr *out)
{
	struct rtnl_addr v[TUNNEL_MAX_ADDRS];
	int n, i, score, best = -1;

	n = rtnl_addr_list(&t->rtnl, t->wan_ifindex, AF_INET6, v, TUNNEL_MAX_ADDRS);
	for (i = 0; i < n && i < TUNNEL_MAX_ADDRS; i++) {
		if (!addr_usable(&v[i]))
			continue;
		if (t->b4_up && !memcmp(&v[i].a.v6, &t->b4, 16)) {
			*out = t->b4;
			return 1;
		}
		score = !(v[i].flags & IFA_F_TEMPORARY) * 2 +
			!(v[i].flags & IFA_F_DEPRECATED);
		if (score > best) {
			best = score;
			*out = v[i].a.v6;
		}
	}
	return n < 0 ? n : best >= 0;
}

/* ---- MAP-E -------------------------------------------------------------- */

/* Reserved ports outside this CE's set cannot be forwarded: say so. */
static void reserved_filter(struct tunnel *t)
{
	const struct tunnel_reserved *r;
	int i;

	t->n_reserved = 0;
	for (i = 0; i < t->cfg.n_reserved; i++) {
		r = &t->cfg.reserved[i];
		if (mape_port_in_set(&t->ce, r->port)) {
			t->reserved[t->n_reserved++] = *r;
			continue;
		}
		pr_warn("MAP-E: reserved %s port %u (config line %u) is not in the port set of PSID %u: not forwarded",
			r->proto == IPPROTO_UDP ? "udp" : "tcp", r->port, r->line,
			t->ce.psid);
	}
}

static void mape_log(const struct tunnel *t)
{
	char v4[INET_ADDRSTRLEN], v6[INET6_ADDRSTRLEN], br[INET6_ADDRSTRLEN];
	char eu[INET6_ADDRSTRLEN];
	struct mape_port_range first, last;
	unsigned int n = mape_port_range_count(&t->ce);

	mape_port_range(&t->ce, 0, &first);
	mape_port_range(&t->ce, n - 1, &last);
	pr_info("MAP-E: end-user prefix %s/%u -> CE IPv4 %s, PSID %u (%u bits, offset %u), %u ports in %u ranges %u-%u .. %u-%u, CE IPv6 %s, BR %s, MTU %u",
		ntop6(&t->prefix.addr, eu), t->prefix.len, ntop4(&t->ce.ipv4, v4),
		t->ce.psid, t->ce.psid_len, t->ce.psid_offset, mape_port_count(&t->ce), n,
		first.first, first.last, last.first, last.last, ntop6(&t->ce.ipv6, v6),
		ntop6(&t->cfg.rule.br, br), t->mtu);
}

static int mape_up(struct tunnel *t)
{
	const struct mape_rule *rule = &t->cfg.rule;
	char err[MAPE_ERR_LEN], a[INET6_ADDRSTRLEN];
	struct br_tun tun = { .mode = BR_TUN_MAPE };
	struct in_addr any = { 0 };
	int ret;

	if (!t->have_prefix) {
		pr_info("MAP-E: waiting for an end-user prefix inside %s/%u on %s (router advertisement or address)",
			ntop6(&rule->rule6.addr, a), rule->rule6.len, t->wan);
		return 0;
	}
	if (mape_compute(rule, &t->prefix, &t->ce, err, sizeof(err))) {
		pr_err("MAP-E: end-user prefix %s/%u: %s", ntop6(&t->prefix.addr, a),
		       t->prefix.len, err);
		return -EINVAL;
	}
	if (t->ce.ipv4_len != 32) {
		pr_err("MAP-E: the rule gives an IPv4 prefix /%u, not one address",
		       t->ce.ipv4_len);
		return -EINVAL;
	}
	reserved_filter(t);
	mape_log(t);
	memcpy(tun.local6, &t->ce.ipv6, 16);
	memcpy(tun.remote6, &rule->br, 16);
	tun.mtu = t->mtu;
	tun.ce_ipv4 = t->ce.ipv4.s_addr;
	tun.psid = t->ce.psid;
	tun.psid_len = t->ce.psid_len;
	tun.psid_offset = t->ce.psid_offset;
	/* NAT first, the route last: no LAN address leaks in between */
	t->ce_up = true;
	ret = nft_sync(t) ?:
	      add_addr(t, &t->main, AF_INET6, &t->ce.ipv6, 128, "MAP-E CE IPv6 address") ?:
	      add_addr(t, &t->main, AF_INET, &t->ce.ipv4, 32, "MAP-E CE IPv4 address") ?:
	      add_tunnel_ends(t, &t->main, &tun) ?:
	      add_ipv4_path(t, &t->main, any, 0, &tun);
	return ret;
}

/* ---- DS-Lite ------------------------------------------------------------ */

static int dslite_up(struct tunnel *t)
{
	struct br_tun tun = { .mode = BR_TUN_DSLITE };
	char a[INET6_ADDRSTRLEN], r[INET6_ADDRSTRLEN];
	struct in_addr b4v4 = addr4(TUNNEL_DSLITE_B4), any = { 0 };
	struct in6_addr b4;
	int ret;

	if (t->cfg.has_b4) {
		b4 = t->cfg.b4;
	} else {
		ret = pick_b4(t, &b4);
		if (ret < 0) {
			pr_err("DS-Lite: read addresses of %s: %s", t->wan, strerror(-ret));
			return ret;
		}
		if (!ret) {
			if (!t->waiting)
				pr_info("DS-Lite: waiting for a global IPv6 address on %s",
					t->wan);
			t->waiting = true;
			return 0;
		}
	}
	t->waiting = false;
	memcpy(tun.local6, &b4, 16);
	memcpy(tun.remote6, &t->cfg.aftr, 16);
	tun.mtu = t->mtu;
	pr_info("DS-Lite: B4 %s (%s) -> AFTR %s, MTU %u", ntop6(&b4, a), TUNNEL_DSLITE_B4,
		ntop6(&t->cfg.aftr, r), t->mtu);
	ret = (t->cfg.has_b4 ?
		       add_addr(t, &t->main, AF_INET6, &b4, 128, "DS-Lite B4 IPv6 address") :
		       0) ?:
	      add_addr(t, &t->main, AF_INET, &b4v4, 32, "DS-Lite B4 address") ?:
	      add_tunnel_ends(t, &t->main, &tun) ?:
	      add_ipv4_path(t, &t->main, any, 0, &tun);
	if (!ret) {
		t->b4 = b4;
		t->b4_up = true;
	}
	return ret;
}

/* ---- the parts together ------------------------------------------------- */

/*
 * The CE address @ce left (a new prefix, withdrawn, reload) while brouterd
 * goes on: drop its conntrack entries, so flows that keep going are NATed
 * afresh to the new CE instead of leaving from an address no BR accepts.
 * Not on exit: a restarted brouterd with the same CE keeps the flows.
 */
static void ct_forget(struct in_addr ce)
{
	char a[INET_ADDRSTRLEN];
	int n = ct_flush_addr4(ce);

	if (n < 0)
		pr_warn("conntrack: flush entries of %s: %s; flows NATed to it stay stuck until they expire",
			ntop4(&ce, a), strerror(-n));
	else
		pr_info("conntrack: %d entries of the old CE address %s deleted", n,
			ntop4(&ce, a));
}

static int neigh_put(struct tunnel *t)
{
	int err = rtnl_neigh4_add(&t->rtnl, t->wan_ifindex, addr4(TUNNEL_NEXT_HOP),
				  next_hop_mac);

	if (err)
		pr_err("add neighbour %s dev %s: %s", TUNNEL_NEXT_HOP, t->wan, strerror(-err));
	return err;
}

/* @resync: brouterd goes on (a new prefix, B4 address): the rest must work. */
static void main_down(struct tunnel *t, bool resync)
{
	bool had_nat = t->ce_up;

	undo_all(t, &t->main);
	t->ce_up = false;
	t->b4_up = false;
	if (!resync)
		return;
	if (had_nat) {
		nft_sync(t);
		ct_forget(t->ce.ipv4);
	}
	/*
	 * Removing the last IPv4 address of a device makes the kernel flush
	 * its ARP entries, permanent ones too (fib_disable_ip() ->
	 * arp_ifdown()): the CE or B4 address just removed was that, and
	 * without the next hop's entry the new routes (and ipip6 peers) would
	 * wait for an ARP reply forever. The entry is base's: put it back.
	 */
	if (t->base.n)
		neigh_put(t);
}

static int main_up(struct tunnel *t)
{
	int err = 0;

	if (t->cfg.mode == TUNNEL_MAPE)
		err = mape_up(t);
	else if (t->cfg.mode == TUNNEL_DSLITE)
		err = dslite_up(t);
	t->main_failed = err != 0;
	if (err)
		main_down(t, true);
	return err;
}

static int peers_up(struct tunnel *t)
{
	char l[INET6_ADDRSTRLEN], r[INET6_ADDRSTRLEN], p[INET_ADDRSTRLEN];
	const struct tunnel_peer *peer;
	struct br_tun tun;
	int i, j, err;

	for (i = 0; i < t->cfg.n_peers; i++) {
		peer = &t->cfg.peers[i];
		tun = (struct br_tun){ .mode = BR_TUN_IPIP6, .mtu = t->mtu };
		memcpy(tun.local6, &peer->local, 16);
		memcpy(tun.remote6, &peer->remote, 16);
		err = add_addr(t, &t->peers, AF_INET6, &peer->local, 128,
			       "ipip6 local address") ?:
		      add_tunnel_ends(t, &t->peers, &tun);
		for (j = 0; !err && j < peer->n_prefixes; j++) {
			err = add_ipv4_path(t, &t->peers, peer->prefixes[j].addr,
					    peer->prefixes[j].len, &tun);
			if (!err)
				pr_info("ipip6 peer %d: %s/%u via %s -> %s, MTU %u", i,
					ntop4(&peer->prefixes[j].addr, p),
					peer->prefixes[j].len, ntop6(&peer->local, l),
					ntop6(&peer->remote, r), t->mtu);
		}
		if (err)
			return err;
	}
	return 0;
}

static int flush_map(int fd, size_t key_size, const char *name)
{
	unsigned char key[64];

	if (key_size > sizeof(key))
		return -EINVAL;
	while (!bpf_map_get_next_key(fd, NULL, key)) {
		if (bpf_map_delete_elem(fd, key)) {
			pr_err("%s: clear: %s", name, strerror(errno));
			return -errno;
		}
	}
	return 0;
}

static void check_forwarding(void)
{
	FILE *f = fopen("/proc/sys/net/ipv4/ip_forward", "r");
	int v = -1;

	if (!f)
		return;
	if (fscanf(f, "%d", &v) == 1 && v == 0)
		pr_warn("net.ipv4.ip_forward is 0: the LAN's IPv4 is not routed into the tunnel (sysctl -w net.ipv4.ip_forward=1)");
	fclose(f);
}

/* The initial end-user prefix: configured, or from a WAN address. */
static void mape_initial_prefix(struct tunnel *t)
{
	struct mape_prefix6 p;

	if (t->cfg.has_prefix) {
		t->prefix = t->cfg.prefix;
		t->have_prefix = true;
	} else if (prefix_from_wan(t, &p) > 0) {
		t->prefix = p;
		t->have_prefix = true;
		t->seen[t->n_seen++] = p;
	}
}

static int everything_up(struct tunnel *t)
{
	struct tunnel_undo nh = { .kind = UNDO_NEIGH4, .u.v4 = addr4(TUNNEL_NEXT_HOP) };
	int err;

	err = mtu_compute(t) ?: nft_sync(t) ?: neigh_put(t);
	if (err)
		return err;
	return record(t, &t->base, &nh) ?: peers_up(t) ?: main_up(t);
}

int tunnel_start(struct tunnel *t, const struct tunnel_cfg *cfg, const char *wan,
		 int wan_ifindex, int tun_out_fd, int tun_in_fd)
{
	int err;

	memset(t, 0, sizeof(*t));
	t->cfg = *cfg;
	snprintf(t->wan, sizeof(t->wan), "%s", wan);
	t->wan_ifindex = wan_ifindex;
	t->tun_out_fd = tun_out_fd;
	t->tun_in_fd = tun_in_fd;
	t->started = true;
	err = rtnl_open(&t->rtnl);
	if (err) {
		pr_err("tunnel: rtnetlink socket: %s", strerror(-err));
		goto fail;
	}
	/* brouterd is the only writer: whatever is there is stale */
	err = flush_map(tun_out_fd, sizeof(struct br_tun_out_key), "tun_out") ?:
	      flush_map(tun_in_fd, sizeof(struct br_tun_in_key), "tun_in");
	if (err || !tunnel_cfg_active(cfg))
		goto out;
	check_forwarding();
	if (cfg->mode == TUNNEL_MAPE)
		mape_initial_prefix(t);
	err = everything_up(t);
out:
	if (!err)
		return 0;
fail:
	tunnel_stop(t);
	return err;
}

void tunnel_stop(struct tunnel *t)
{
	int err;

	if (!t->started)
		return;
	if (t->rtnl.nl) {
		main_down(t, false);
		undo_all(t, &t->peers);
		undo_all(t, &t->base);
	}
	if (t->nft_loaded) {
		err = nft_table_delete();
		if (err)
			pr_warn("nftables: table ip %s left behind", NFT_TABLE);
		t->nft_loaded = false;
	}
	free(t->main.v);
	free(t->peers.v);
	free(t->base.v);
	t->main = t->peers = t->base = (struct tunnel_undo_list){ 0 };
	rtnl_close(&t->rtnl);
	t->started = false;
	if (tunnel_cfg_active(&t->cfg))
		pr_info("tunnel: addresses, routes, map entries and nftables table removed");
}

/* ---- following the WAN --------------------------------------------------- */

static bool same_prefix(const struct mape_prefix6 *a, const struct mape_prefix6 *b)
{
	return a->len == b->len && !memcmp(&a->addr, &b->addr, 16);
}

/* Note @p as learned; true if it is news (not seen since the start). */
static bool seen_add(struct tunnel *t, const struct mape_prefix6 *p)
{
	int i;

	for (i = 0; i < t->n_seen; i++)
		if (same_prefix(&t->seen[i], p))
			return false;
	if (t->n_seen == TUNNEL_MAX_SEEN) {
		memmove(t->seen, t->seen + 1, (TUNNEL_MAX_SEEN - 1) * sizeof(t->seen[0]));
		t->n_seen--;
	}
	t->seen[t->n_seen++] = *p;
	return true;
}

static int mape_switch(struct tunnel *t, const struct mape_prefix6 *p, const char *why)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	int err;

	if (t->have_prefix)
		pr_info("MAP-E: end-user prefix %s/%u (%s) replaces %s/%u: recomputing",
			ntop6(&p->addr, a), p->len, why, ntop6(&t->prefix.addr, b),
			t->prefix.len);
	else
		pr_info("MAP-E: end-user prefix %s/%u (%s)", ntop6(&p->addr, a), p->len, why);
	main_down(t, true);
	t->prefix = *p;
	t->have_prefix = true;
	err = main_up(t);
	return err ?: 1;
}

/* DS-Lite: (re)pick the source address when it has none or lost it. */
static int dslite_recheck(struct tunnel *t)
{
	char a[INET6_ADDRSTRLEN];
	struct in6_addr b4;
	int ret;

	if (t->b4_up) {
		if (t->cfg.has_b4)
			return 0;
		ret = pick_b4(t, &b4);
		if (ret < 0 || (ret && !memcmp(&b4, &t->b4, 16)))
			return 0;
		pr_info("DS-Lite: %s is no longer on %s", ntop6(&t->b4, a), t->wan);
		main_down(t, true);
	}
	ret = main_up(t);
	return ret ?: t->b4_up;
}

int tunnel_prefix_update(struct tunnel *t, const struct in6_addr *prefix, int len)
{
	const struct mape_rule *r = &t->cfg.rule;
	struct mape_prefix6 p;
	bool news;

	if (!t->started || len < 0 || len > 128)
		return len < 0 || len > 128 ? -EINVAL : 0;
	if (t->cfg.mode == TUNNEL_DSLITE) {
		t->main_failed = false;
		return dslite_recheck(t);
	}
	if (t->cfg.mode != TUNNEL_MAPE || t->cfg.has_prefix)
		return 0;
	p = prefix6(prefix, len);
	if (p.len < r->rule6.len + r->ea_len ||
	    !in_prefix6(&p.addr, &r->rule6.addr, r->rule6.len))
		return 0; /* not this rule's: another prefix of the WAN */
	news = seen_add(t, &p);
	if (t->have_prefix && (same_prefix(&p, &t->prefix) || !news))
		return 0;
	return mape_switch(t, &p, "router advertisement");
}

int tunnel_prefix_withdraw(struct tunnel *t, const struct in6_addr *prefix, int len)
{
	char a[INET6_ADDRSTRLEN];
	struct mape_prefix6 p;
	int i;

	if (!t->started || t->cfg.mode != TUNNEL_MAPE || t->cfg.has_prefix ||
	    len < 0 || len > 128)
		return 0;
	p = prefix6(prefix, len);
	for (i = 0; i < t->n_seen; i++) {
		if (!same_prefix(&t->seen[i], &p))
			continue;
		memmove(t->seen + i, t->seen + i + 1, (t->n_seen - i - 1) * sizeof(p));
		t->n_seen--;
		break;
	}
	if (!t->have_prefix || !same_prefix(&p, &t->prefix))
		return 0;
	if (t->n_seen)
		return mape_switch(t, &t->seen[t->n_seen - 1], "the newest still valid");
	pr_warn("MAP-E: end-user prefix %s/%u withdrawn: IPv4 is down until another is learned",
		ntop6(&p.addr, a), p.len);
	main_down(t, true);
	t->have_prefix = false;
	return 1;
}

/* Everything again, e.g. for a new MTU. */
static void rebuild(struct tunnel *t)
{
	main_down(t, false);
	undo_all(t, &t->peers);
	undo_all(t, &t->base);
	if (everything_up(t))
		pr_err("tunnel: could not be set up again; IPv4 over IPv6 is down");
}

void tunnel_tick(struct tunnel *t)
{
	struct mape_prefix6 p;
	int mtu;

	if (!t->started || !tunnel_cfg_active(&t->cfg))
		return;
	if (!t->cfg.mtu) {
		mtu = rtnl_link_mtu(&t->rtnl, t->wan_ifindex);
		if (mtu > 0 && (unsigned int)mtu != t->wan_mtu) {
			pr_info("%s: MTU %u -> %d: tunnel MTU %d", t->wan, t->wan_mtu, mtu,
				mtu - TUNNEL_OUTER_HDR);
			rebuild(t);
			return;
		}
	}
	if (t->main_failed)
		return; /* logged; retried when the WAN changes */
	if (t->cfg.mode == TUNNEL_MAPE && !t->have_prefix && prefix_from_wan(t, &p) > 0) {
		seen_add(t, &p);
		mape_switch(t, &p, "address on the WAN");
	} else if (t->cfg.mode == TUNNEL_DSLITE) {
		dslite_recheck(t);
	}
}

int tunnel_reload(struct tunnel *t, const struct tunnel_cfg *cfg)
{
	char wan[IF_NAMESIZE];
	int ifindex = t->wan_ifindex, out_fd = t->tun_out_fd, in_fd = t->tun_in_fd;
	struct mape_prefix6 learned = t->prefix;
	bool had = t->have_prefix && !t->cfg.has_prefix, had_ce = t->ce_up;
	struct in_addr old_ce = t->ce.ipv4;
	int err;

	if (t->started && !memcmp(&t->cfg, cfg, sizeof(*cfg)))
		return 0;
	memcpy(wan, t->wan, sizeof(wan));
	pr_info("tunnel: configuration changed (%s%s): setting up again",
		tunnel_mode_name(cfg->mode), cfg->n_peers ? " + ipip6" : "");
	tunnel_stop(t);
	err = tunnel_start(t, cfg, wan, ifindex, out_fd, in_fd);
	if (!err && had)
		tunnel_prefix_update(t, &learned.addr, learned.len);
	/* on error the caller goes back to the old settings: keep the flows */
	if (!err && had_ce && (!t->ce_up || t->ce.ipv4.s_addr != old_ce.s_addr))
		ct_forget(old_ce);
	return err;
}
