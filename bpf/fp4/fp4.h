/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The IPv4 fast path: IPv4 TCP and UDP of flows the kernel has accepted
 * (conntrack established both ways, forwarded by the kernel itself under
 * the current ruleset) forwarded by XDP, NAT, TTL, next hop and 4in6
 * encapsulation included. The kernel keeps every decision: what this
 * does not understand, and every flow it has not seen the kernel take,
 * goes up to it unchanged.
 *
 * parse (here) -> cache (cache.h) -> slow path on a miss (confirm.h:
 * conntrack ct.h, record of the kernel's forwarding, routes route.h) ->
 * rewrite (rewrite.h). tc egress keeps the record (fwd.h).
 */
#ifndef BR_FP4_H
#define BR_FP4_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "maps.h"
#include "lib/clock.h"
#include "fp4/cache.h"
#include "fp4/confirm.h"
#include "fp4/rewrite.h"
#include "fp4/route.h"
#include "lib/port.h"

/* The L4 header of a packet the fast path may take; 0 or why not. */
static __always_inline __u32 fp4_parse_l4(struct iphdr *ip, void *end)
{
	struct tcphdr *tcp = (void *)(ip + 1);
	struct udphdr *udp = (void *)(ip + 1);
	__u16 len = bpf_ntohs(ip->tot_len);

	if (ip->protocol == IPPROTO_TCP) {
		if ((void *)(tcp + 1) > end ||
		    len < sizeof(*ip) + sizeof(*tcp) ||
		    tcp->doff < sizeof(*tcp) / 4)
			return BR_STAT_FP4_BAD;
		/* state changes conntrack must see */
		if (tcp->syn | tcp->fin | tcp->rst)
			return BR_STAT_FP4_TCP_FLAGS;
		return 0;
	}
	if (ip->protocol != IPPROTO_UDP)
		return BR_STAT_FP4_PROTO;
	if ((void *)(udp + 1) > end || len < sizeof(*ip) + sizeof(*udp) ||
	    bpf_ntohs(udp->len) != len - sizeof(*ip))
		return BR_STAT_FP4_BAD;
	return 0;
}

/*
 * Sent to the brouter's MAC on @port: routed by it. A promiscuous port
 * sees the LAN's own IPv4 too, which is no business of the router's.
 */
static __always_inline int fp4_to_us(struct xdp_md *ctx,
				     const struct br_settings *s, __u32 port)
{
	void *data = (void *)(long)ctx->data,
	     *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	return (void *)(eth + 1) <= end &&
	       mac_eq(eth->h_dest,
		      s->mac[port == BR_PORT_LAN ? BR_PORT_LAN : BR_PORT_WAN]);
}

/*
 * Read the IPv4 packet behind the Ethernet header into @p: 0, or why it
 * is the kernel's (reasons in include/brouter/counters.h).
 */
static __always_inline __u32 fp4_parse(struct xdp_md *ctx, struct fp4_pkt *p,
				       __u32 port)
{
	void *data = (void *)(long)ctx->data,
	     *end = (void *)(long)ctx->data_end;
	struct iphdr *ip = data + sizeof(struct ethhdr);
	__u32 why;

	if ((void *)(ip + 1) > end || ip->version != 4 || ip->ihl < 5)
		return BR_STAT_FP4_BAD;
	if (ip->ihl != 5)
		return BR_STAT_FP4_OPTIONS;
	if (ip->frag_off & bpf_htons(IP4_FRAG_ANY))
		return BR_STAT_FP4_FRAG;
	if (ip->ttl <= 1)
		return BR_STAT_FP4_TTL;
	p->tot_len = bpf_ntohs(ip->tot_len);
	/* Ethernet may pad a frame; a packet longer than its frame is bad */
	if ((void *)ip + p->tot_len > end)
		return BR_STAT_FP4_BAD;
	why = fp4_parse_l4(ip, end);
	if (why)
		return why;
	/* word loads: aligned wherever the frame starts (NET_IP_ALIGN) */
	p->k.q[1] = 0;
	p->k.t.saddr = ip->saddr;
	p->k.t.daddr = ip->daddr;
	*(__u32 *)&p->k.t.sport = *(__u32 *)(ip + 1);
	p->k.t.proto = ip->protocol;
	p->k.t.pad[0] = port;
	p->tos = ip->tos;
	return 0;
}

/*
 * A GO or WAIT entry for @p that is still believed, made by the slow
 * path if need be; for a GO entry into a tunnel, *@tun is its slot.
 * *@fresh: this CPU had no entry of @p's at all (not even a lapsed one).
 */
static __always_inline struct fp4_entry *
fp4_lookup(struct xdp_md *ctx, struct fp4_pkt *p, __u32 port, __u32 gen,
	   const struct fp4_tun **tun, int *fresh)
{
	struct fp4_set *set = fp4_set_of(&p->k);
	struct fp4_entry *e;
	__u64 now = now_ns();

	if (!set)
		return NULL;
	e = fp4_find(set, &p->k);
	if (e && fp4_live(e, gen, now) &&
	    (e->state != FP4_GO || !e->tun || (*tun = fp4_tun_of(e))))
		return e;
	*fresh = !e;
	e = e ? fp4_refresh_slot(set, e, gen, now) : fp4_victim(set);
	fp4_confirm(ctx, p, e, port);
	if (e->state == FP4_GO && e->tun && !(*tun = fp4_tun_of(e)))
		return NULL;
	return e;
}

/*
 * BR_STAT_FP4_UNTRACKED for a UDP packet conntrack has no entry of, when
 * conntrack runs for the fast path alone: the kernel forwards it as it
 * would with no fast path, without conntrack, so a query answered once
 * (DNS, NTP) never costs an entry. From the LAN (@port), only the first
 * packet of the flow direction this CPU sees: the next (its WAIT entry
 * is found, lapsed or not) is tracked. From the WAN, every one: an entry
 * is made by the LAN side's packets alone, so its original direction is
 * the LAN host's, whatever CPU each packet lands on. TCP is always
 * tracked: conntrack must see its handshake.
 */
static __always_inline __u32 fp4_untracked(const struct br_settings *s,
					   const struct fp4_pkt *p,
					   const struct fp4_entry *e,
					   __u32 port, int fresh)
{
	return (fresh || port == BR_PORT_WAN) &&
			       (s->fp4.flags & BR_FP4_LAZY_CT) &&
			       p->k.t.proto == IPPROTO_UDP &&
			       e->why == BR_STAT_FP4_NO_CT - BR_FP4_WHY_FIRST
		       ? BR_STAT_FP4_UNTRACKED
		       : 0;
}

/*
 * Called once, from the XDP program's exit, for IPv4 sent to the
 * brouter's own MAC on @port (as it came, or just decapsulated). Returns
 * BR_STAT_FP4_FWD when the frame is ready for the other port, else why
 * it stays the kernel's (enum br_stat_id; 0: the fast path is off).
 */
static __always_inline int fp4_forward(struct xdp_md *ctx, __u32 port)
{
	const struct fp4_tun *tun = NULL;
	const struct br_settings *s;
	struct fp4_entry *e;
	struct fp4_pkt p;
	__u32 why, zero = 0;
	int fresh = 0;

	s = bpf_map_lookup_elem(&settings, &zero);
	if (!s || !(s->fp4.flags & BR_FP4_ON) || !fp4_to_us(ctx, s, port))
		return 0;
	why = fp4_parse(ctx, &p, port);
	if (why)
		return why;
	e = fp4_lookup(ctx, &p, port, s->fp4.gen, &tun, &fresh);
	if (!e || e->state == FP4_EMPTY)
		return BR_STAT_FP4_ROUTE;
	if (e->state != FP4_GO)
		return fp4_untracked(s, &p, e, port, fresh)
			       ?: BR_FP4_WHY_FIRST + e->why;
	if (p.tot_len > e->mtu)
		return BR_STAT_FP4_MTU;
	if (tun ? fp4_encap(ctx, e, tun, s->tun_dscp) : fp4_rewrite(ctx, e))
		return BR_STAT_FP4_BAD;
	return BR_STAT_FP4_FWD;
}

#endif /* BR_FP4_H */
