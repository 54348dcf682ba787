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
 * This file brings the parts up and down; undo.c records each change,
 * wan.c reads the WAN, follow.c follows it as it changes.
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
#include "common/mapwalk.h"
#include "tunnel/ct.h"
#include "tunnel/nft.h"

int nft_sync(struct tunnel *t)
{
	struct prefix4 no_nat[TUNNEL_MAX_PEERS * TUNNEL_MAX_PEER_PREFIXES];
	struct nft_spec s = { .wan = t->wan, .track = t->cfg.track_flows };
	int i, j, n = 0, err;
	char *text;

	if (t->ce_up) {
		s.ce = &t->ce;
		s.napt = t->napt.n ? &t->napt : NULL;
		s.reserved = t->reserved;
		s.n_reserved = t->n_reserved;
	}
	for (i = 0; i < t->cfg.n_peers; i++)
		for (j = 0; j < t->cfg.peers[i].n_prefixes; j++)
			no_nat[n++] = t->cfg.peers[i].prefixes[j];
	s.no_nat = no_nat;
	s.n_no_nat = n;
	/* not written by us since we started: it may be someone else's */
	if (!t->nft_loaded && nft_table_owner() == NFT_TABLE_FOREIGN) {
		pr_err("nftables: a table ip %s exists that brouterd did not write (it "
		       "lacks the comment \"%s\"): refusing to replace it. Rename "
		       "yours, or delete it (nft delete table ip %s) if it is a leftover",
		       NFT_TABLE, NFT_OWNER_MARK, NFT_TABLE);
		return -EEXIST;
	}
	text = nft_table_text(&s);
	if (!text) {
		pr_err("nftables: build table ip %s: %s", NFT_TABLE, strerror(errno));
		return -errno;
	}
	pr_debug("nftables:\n%s", text);
	err = nft_table_apply(text);
	free(text);
	if (!err) {
		t->nft_loaded = true;
		t->nft_untracked = nft_spec_untracked(&s);
	}
	return err;
}

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
		pr_warn("%s: reserved %s port %u (config line %u) is not in the port set of PSID %u: not forwarded",
			tunnel_rule_name(t),
			r->proto == IPPROTO_UDP ? "udp" : "tcp", r->port,
			r->line, t->ce.psid);
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
	pr_info("%s: end-user prefix %s/%u -> CE IPv4 %s, PSID %u (%u bits, offset %u), %u ports in %u ranges %u-%u .. %u-%u, CE IPv6 %s, %s %s, MTU %u",
		tunnel_rule_name(t), addr6_str(&t->prefix.addr, eu),
		t->prefix.len, addr4_str(&t->ce.ipv4, v4), t->ce.psid,
		t->ce.psid_len, t->ce.psid_offset, mape_port_count(&t->ce), n,
		first.first, first.last, last.first, last.last,
		addr6_str(&t->ce.ipv6, v6),
		t->cfg.mode == TUNNEL_LW4O6 ? "lwAFTR" : "BR",
		addr6_str(&t->cfg.rule.br, br), t->mtu);
}

/*
 * A shared CE's stand-ins and their "nat_ports" entries, before the NAT
 * table uses them: a stand-in must never leave unswapped.
 */
static int napt_up(struct tunnel *t)
{
	struct nft_spec s = { .ce = &t->ce,
			      .reserved = t->reserved,
			      .n_reserved = t->n_reserved };
	uint16_t res[TUNNEL_MAX_RESERVED];
	struct mape_port_range *r;
	int n, i, err;

	if (!napt_applies(&t->ce))
		return 0;
	n = nft_nat_ranges(&s, &r);
	if (n < 0)
		return n;
	for (i = 0; i < t->n_reserved; i++)
		res[i] = t->reserved[i].port;
	err = napt_plan(r, n, res, t->n_reserved, &t->napt);
	free(r);
	if (!err)
		err = napt_map_write(t->nat_fd, &t->napt);
	if (err) {
		pr_err("%s: NAT stand-in ports: %s", tunnel_rule_name(t),
		       strerror(-err));
		napt_plan_free(&t->napt);
		return err;
	}
	if (t->napt.left_out)
		pr_warn("%s: reserved ports leave no gap for one range of %d NAT ports: %d of the set stay unused",
			tunnel_rule_name(t), t->napt.n + t->napt.left_out,
			t->napt.left_out);
	pr_info("%s: conntrack NATs into ports %u-%u, swapped for the %d ports of the set on the wire",
		tunnel_rule_name(t), t->napt.first, t->napt.last, t->napt.n);
	return 0;
}

/*
 * The CE address t->ce up, with @tun its tunnel: the NAT into its port
 * set (or onto the whole address), the CE IPv6 and IPv4 addresses on the
 * WAN, the tunnel's map entries, and IPv4's default route last, so no LAN
 * address leaks in between.
 */
static int ce_up(struct tunnel *t, struct br_tun *tun, const char *what)
{
	char a6[64], a4[64];
	struct in_addr any = { 0 };

	snprintf(a6, sizeof(a6), "%s CE IPv6 address", what);
	snprintf(a4, sizeof(a4), "%s CE IPv4 address", what);
	memcpy(tun->local6, &t->ce.ipv6, 16);
	tun->mtu = t->mtu;
	tun->ce_ipv4 = t->ce.ipv4.s_addr;
	tun->psid = t->ce.psid;
	tun->psid_len = t->ce.psid_len;
	tun->psid_offset = t->ce.psid_offset;
	t->ce_up = true;
	return nft_sync(t) ?:
	       add_addr(t, &t->main, AF_INET6, &t->ce.ipv6, 128, a6) ?:
	       add_addr(t, &t->main, AF_INET, &t->ce.ipv4, 32, a4) ?:
	       add_tunnel_ends(t, &t->main, tun) ?:
	       add_ipv4_path(t, &t->main, any, 0, tun);
}

static int mape_up(struct tunnel *t)
{
	const struct mape_rule *rule = &t->cfg.rule;
	char err[MAPE_ERR_LEN], a[INET6_ADDRSTRLEN];
	struct br_tun tun = { .mode = t->cfg.mode == TUNNEL_LW4O6
					      ? BR_TUN_LW4O6
					      : BR_TUN_MAPE };
	int ret;

	if (!t->have_prefix) {
		pr_info("%s: waiting for an end-user prefix inside %s/%u on %s (router advertisement or address)",
			tunnel_rule_name(t), addr6_str(&rule->rule6.addr, a),
			rule->rule6.len, t->wan);
		return 0;
	}
	if (mape_compute(rule, &t->prefix, &t->ce, err, sizeof(err))) {
		pr_err("%s: end-user prefix %s/%u: %s", tunnel_rule_name(t),
		       addr6_str(&t->prefix.addr, a), t->prefix.len, err);
		return -EINVAL;
	}
	if (t->ce.ipv4_len != 32) {
		pr_err("MAP-E: the rule gives an IPv4 prefix /%u, not one address",
		       t->ce.ipv4_len);
		return -EINVAL;
	}
	reserved_filter(t);
	ret = napt_up(t);
	if (ret)
		return ret;
	mape_log(t);
	memcpy(tun.remote6, &rule->br, 16);
	return ce_up(t, &tun, tunnel_rule_name(t));
}

/* A fixed address over ip4ip6: a CE of its own, the whole address. */
static int fixed_up(struct tunnel *t)
{
	const struct tunnel_fixed *f = &t->cfg.fixed;
	char v4[INET_ADDRSTRLEN], l[INET6_ADDRSTRLEN], r[INET6_ADDRSTRLEN];
	struct br_tun tun = { .mode = BR_TUN_FIXED };

	memset(&t->ce, 0, sizeof(t->ce));
	t->ce.ipv4 = f->ipv4;
	t->ce.ipv4_len = 32;
	t->ce.ipv6 = f->local;
	t->n_reserved = 0;
	memcpy(tun.remote6, &f->remote, 16);
	pr_info("ipip: fixed IPv4 %s (of a /%u) over %s -> %s, the LAN NAPT-ed to it, MTU %u",
		addr4_str(&f->ipv4, v4), f->plen, addr6_str(&f->local, l),
		addr6_str(&f->remote, r), t->mtu);
	return ce_up(t, &tun, "ipip");
}

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
	pr_info("DS-Lite: B4 %s (%s) -> AFTR %s, MTU %u", addr6_str(&b4, a), TUNNEL_DSLITE_B4,
		addr6_str(&t->cfg.aftr, r), t->mtu);
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

/*
 * The CE address @ce left (a new prefix, withdrawn, reload) while brouterd
 * goes on: drop its conntrack entries, so flows that keep going are NATed
 * afresh to the new CE instead of leaving from an address no BR accepts.
 * Not on exit: a restarted brouterd with the same CE keeps the flows.
 */
void ct_forget(struct in_addr ce)
{
	char a[INET_ADDRSTRLEN];
	int n = ct_flush_addr4(ce);

	if (n < 0)
		pr_warn("conntrack: flush entries of %s: %s; flows NATed to it stay stuck until they expire",
			addr4_str(&ce, a), strerror(-n));
	else
		pr_info("conntrack: %d entries of the old CE address %s deleted", n,
			addr4_str(&ce, a));
}

/* @resync: brouterd goes on (a new prefix, B4 address): the rest must work. */
void main_down(struct tunnel *t, bool resync)
{
	bool had_nat = t->ce_up;

	undo_all(t, &t->main);
	t->ce_up = false;
	t->b4_up = false;
	if (resync && had_nat)
		nft_sync(t); /* no NAT into the stand-ins before they go */
	if (t->napt.n) {
		napt_map_write(t->nat_fd, NULL);
		napt_plan_free(&t->napt);
	}
	if (!resync)
		return;
	if (had_nat)
		ct_forget(t->ce.ipv4);
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

int main_up(struct tunnel *t)
{
	int err = 0;

	if (tunnel_ruled(t))
		err = mape_up(t);
	else if (t->cfg.mode == TUNNEL_DSLITE)
		err = dslite_up(t);
	else if (t->cfg.mode == TUNNEL_IPIP)
		err = fixed_up(t);
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
		tun = (struct br_tun){
			.mode = BR_TUN_IPIP6,
			.mtu = t->mtu - tunnel_peer_overhead(peer),
			.flags = (peer->gre ? BR_TUN_F_GRE : 0) |
				 (peer->has_key ? BR_TUN_F_KEY : 0),
			.gre_key = htonl(peer->key),
		};
		memcpy(tun.local6, &peer->local, 16);
		memcpy(tun.remote6, &peer->remote, 16);
		err = add_addr(t, &t->peers, AF_INET6, &peer->local, 128,
			       "ipip6 local address") ?:
		      add_tunnel_ends(t, &t->peers, &tun);
		for (j = 0; !err && j < peer->n_prefixes; j++) {
			err = add_ipv4_path(t, &t->peers, peer->prefixes[j].addr,
					    peer->prefixes[j].len, &tun);
			if (!err)
				pr_info("ipip6 peer %d: %s/%u via %s -> %s%s, MTU %u",
					i,
					addr4_str(&peer->prefixes[j].addr, p),
					peer->prefixes[j].len,
					addr6_str(&peer->local, l),
					addr6_str(&peer->remote, r),
					peer->gre ? (peer->has_key
							     ? " (GRE, keyed)"
							     : " (GRE)")
						  : "",
					tun.mtu);
		}
		if (err)
			return err;
	}
	return 0;
}

static int flush_map(int fd, size_t key_size, const char *name)
{
	int err = map_clear(fd, key_size);

	if (err)
		pr_err("%s: clear: %s", name, strerror(-err));
	return err;
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
	struct prefix6 p;

	if (t->cfg.has_prefix) {
		t->prefix = t->cfg.prefix;
		t->have_prefix = true;
	} else if (prefix_from_wan(t, &p) > 0) {
		t->prefix = p;
		t->have_prefix = true;
		t->seen[t->n_seen++] = p;
	}
}

int everything_up(struct tunnel *t)
{
	return mtu_compute(t) ?: nft_sync(t) ?: add_next_hop(t) ?: peers_up(t) ?:
	       main_up(t);
}

int tunnel_start(struct tunnel *t, const struct tunnel_cfg *cfg,
		 const char *wan, int wan_ifindex, const struct tunnel_maps *m)
{
	int err;

	memset(t, 0, sizeof(*t));
	t->cfg = *cfg;
	snprintf(t->wan, sizeof(t->wan), "%s", wan);
	t->wan_ifindex = wan_ifindex;
	t->tun_out_fd = m->tun_out;
	t->tun_in_fd = m->tun_in;
	t->nat_fd = m->nat_ports;
	t->epoch_fd = m->tun_epoch;
	t->started = true;
	err = rtnl_open(&t->rtnl);
	if (err) {
		pr_err("tunnel: rtnetlink socket: %s", strerror(-err));
		goto fail;
	}
	/* brouterd is the only writer: whatever is there is stale */
	err = flush_map(t->tun_out_fd, sizeof(struct br_tun_out_key), "tun_out") ?:
	      flush_map(t->tun_in_fd, sizeof(struct br_tun_in_key), "tun_in") ?:
	      napt_map_write(t->nat_fd, NULL);
	tun_in_changed(t);
	if (err || !tunnel_cfg_active(cfg))
		goto out;
	check_forwarding();
	if (tunnel_ruled(t))
		mape_initial_prefix(t);
	err = everything_up(t);
out:
	if (!err)
		return 0;
fail:
	tunnel_stop(t);
	return err;
}

/* The rest, once what the tunnel put on the WAN is undone or gone with it. */
void tunnel_release(struct tunnel *t)
{
	if (t->nft_loaded && nft_table_delete())
		pr_warn("nftables: table ip %s left behind", NFT_TABLE);
	t->nft_loaded = false;
	free(t->main.v);
	free(t->peers.v);
	free(t->base.v);
	t->main = t->peers = t->base = (struct tunnel_undo_list){ 0 };
	rtnl_close(&t->rtnl);
	t->started = false;
}

void tunnel_stop(struct tunnel *t)
{
	if (!t->started)
		return;
	if (t->rtnl.nl) {
		main_down(t, false);
		undo_all(t, &t->peers);
		undo_all(t, &t->base);
	}
	tunnel_release(t);
	if (tunnel_cfg_active(&t->cfg))
		pr_info("tunnel: addresses, routes, map entries and nftables table removed");
}
