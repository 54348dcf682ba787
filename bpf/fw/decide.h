/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * How the XDP program asks the firewall: first the flow cache straight
 * from the packet (fast_path()), else firewall(): fw_parse() copies the
 * packet into a struct fw_pkt and fw_decide() judges it.
 */
#ifndef BR_FW_DECIDE_H
#define BR_FW_DECIDE_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "maps.h"
#include "lib/droplog.h"
#include "lib/parse.h"
#include "fw/firewall.h"
#include "fw/flowcache.h"

/*
 * The firewall runs in two global (non-static) functions. The verifier
 * checks a global function once, on its own, instead of once per path
 * through its caller: the bounded extension-header walk multiplies paths,
 * and with the firewall inlined after it the program exceeds the
 * verifier's budget. So fw_parse() copies what the firewall needs out of
 * the packet into a struct fw_pkt, and fw_decide() works on that struct
 * alone; neither takes a packet pointer.
 */

/* The packet an ICMPv6 error quotes, from the cursor at the ICMPv6 header. */
static __always_inline void parse_quoted(struct cursor *c, struct fw_pkt *fp)
{
	/* quoted packets are cut short by nature: no ip6_trim() for this one */
	struct cursor q = { .pos = c->pos + sizeof(struct icmp6hdr),
			    .end = c->end,
			    .lim = c->lim };
	struct ipv6hdr *qip6 = parse_ip6(&q);

	if (!qip6)
		return;
	fp->q = (struct pkt){};
	addr_copy(fp->q_saddr.s6_addr, &qip6->saddr);
	addr_copy(fp->q_daddr.s6_addr, &qip6->daddr);
	fp->q_valid = !parse_l3l4(&q, qip6->nexthdr, &fp->q);
}

/* @tags: VLAN tags between the Ethernet and IPv6 headers (0..2). */
__attribute__((noinline)) int fw_parse(struct xdp_md *ctx, struct fw_pkt *fp,
				       __u32 tags)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ipv6hdr *ip6;
	struct ethhdr *eth;
	struct cursor c;
	int err;

	if (!fp)
		return -BR_STAT_DROP_BAD_IP6;
	cursor_init(&c, data, data_end);
	/* checked on its own: the IPv6 header's offset below varies */
	eth = parse_eth(&c);
	if (!eth)
		return -BR_STAT_DROP_RUNT;
	/* 4 bytes a tag: the verifier sees IPv6 word-aligned (strict alignment) */
	c.pos += (tags & 3) * sizeof(struct vlan_tag);
	ip6 = parse_ip6(&c);
	if (!ip6)
		return -BR_STAT_DROP_BAD_IP6;
	err = ip6_trim(&c, ip6);
	if (err)
		return err;
	/*
	 * The caller does not zero *fp (a 100-byte memset per packet): what
	 * is read without being parsed is cleared here. parse_l3l4() sets
	 * only the fields its protocol has.
	 */
	fp->l = (struct pkt){};
	fp->q_valid = 0;
	__builtin_memcpy(fp->smac, eth->h_source, ETH_ALEN);
	__builtin_memcpy(fp->dmac, eth->h_dest, ETH_ALEN);
	addr_copy(fp->saddr.s6_addr, &ip6->saddr);
	addr_copy(fp->daddr.s6_addr, &ip6->daddr);
	fp->hop_limit = ip6->hop_limit;
	err = parse_l3l4(&c, ip6->nexthdr, &fp->l);
	if (err)
		return err;
	if (fp->l.proto == IPPROTO_ICMPV6 && fp->l.icmp_type < ICMPV6_ECHO_REQUEST)
		parse_quoted(&c, fp);
	return 0;
}

/*
 * @gen is the full settings.gen: the flow cache compares all of it, the
 * policy maps are indexed by its low bit.
 */
__attribute__((noinline)) int fw_decide(struct fw_pkt *fp,
					const struct br_policy *pol, __u32 gen,
					__u32 port, __u64 now)
{
	struct fc_ref k;
	struct fc_set *e = NULL;
	struct fc_note n = {};
	int r;

	if (!fp || !pol)
		return -BR_STAT_DROP_BAD_IP6;
	/* both ways, before the cache: its entries know nothing of ULA policy */
	r = fw_addr_check(fp, pol);
	if (r) {
		if (port == BR_PORT_WAN && fp->mcast)
			return FW_LOCAL_ONLY;
		goto out;
	}
	if (fc_eligible(fp, pol)) {
		fc_ref_set(&k, fp, port);
		e = fc_set_of(&k);
		if (e && !fp->fc_probed &&
		    fc_hit(e, &k, fp->smac, fp->dmac, port, gen, now))
			return FW_PASS;
	}
	if (port == BR_PORT_LAN)
		r = fw_outbound(fp, pol, now, fp->mcast, &n);
	else
		r = fw_inbound(fp, pol, gen & 1, now, fp->mcast, &n);
	if (e && n.hit) {
		/* built again: a key kept across the slow path costs stack */
		fc_ref_set(&k, fp, port);
		fc_fill(e, &k, &n, gen, fp->smac, fp->dmac, port);
	}
out:
	if (r < 0 && (pol->flags & BR_PF_LOG_DROPS))
		drop_log_emit(fp, port, -r, pol->log_rate, now);
	return r;
}

/*
 * Firewall verdict for an IPv6 packet crossing from @port, behind @tags
 * VLAN tags. @probed: the fast path looked the packet's flow up in the
 * cache and missed.
 */
static __always_inline int firewall(struct xdp_md *ctx,
				    const struct br_settings *s, __u32 port,
				    int mcast, __u64 now, int probed,
				    __u32 tags)
{
	__u32 gen = s->gen;
	const struct br_policy *pol = &s->pol[gen & 1];
	struct fw_pkt *fp; /* fw_parse() clears what it does not fill */
	__u32 zero = 0;
	int r;

	if (!pol->lan_ipv6)
		return mcast ? FW_LOCAL_ONLY : -BR_STAT_DROP_LAN_IPV6_OFF;
	if (pol->mode == BR_FW_OPEN)
		return FW_PASS;
	fp = bpf_map_lookup_elem(&fw_scratch, &zero);
	r = fw_parse(ctx, fp, tags);
	if (r)
		return mcast ? FW_LOCAL_ONLY : r;
	if (!fp)
		return -BR_STAT_DROP_BAD_IP6; /* never: fw_parse() said so */
	fp->mcast = mcast;
	fp->fc_probed = probed;
	return fw_decide(fp, pol, gen, port, now);
}

/*
 * The fast path: established TCP and UDP unicast, decided by the flow
 * cache alone, first thing for an IPv6 frame. Its entry holds both
 * stations' MACs as the slow path saw them cross, so it stands in for
 * the FDB as well (flowcache.h), and for the MAC checks the slow path
 * makes: an entry is only filled after the source passed l2_admit() and
 * the destination was no own MAC, under the same settings.gen, which
 * brouterd increments when a port's MAC changes. Only stateful policies
 * fill the cache: others skip the probe. Returns FC_PASS, FC_MISSED
 * (probed, no hit) or FC_NOT_TAKEN. A function of its own so that its
 * key's stack slot is free again for the slow path.
 */
enum { FC_NOT_TAKEN, FC_MISSED, FC_PASS };

static __always_inline int fast_path(struct xdp_md *ctx, struct ethhdr *eth,
				     struct ipv6hdr *ip6,
				     const struct br_settings *s, __u32 port,
				     __u64 now)
{
	__u32 gen = s->gen;
	struct fc_set *e;
	struct fc_ref k;

	if (s->pol[gen & 1].mode != BR_FW_STATEFUL ||
	    !fc_ref_pkt(&k, ip6, (void *)(long)ctx->data_end, port))
		return FC_NOT_TAKEN;
	e = fc_set_of(&k);
	if (!e)
		return FC_NOT_TAKEN;
	return fc_hit(e, &k, eth->h_source, eth->h_dest, port, gen, now) ?
		       FC_PASS : FC_MISSED;
}

#endif /* BR_FW_DECIDE_H */
