/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A per-CPU, two-way set-associative cache of recently confirmed flows in
 * front of the "flows" LRU hash. Hashing the 40-byte key (jhash), walking the
 * bucket and the calls into the full firewall cost most of an established
 * packet's time; a hit here is a multiply, one cache line and a compare.
 * Its size (firewall.flow-cache entries per CPU, 64k by default) holds
 * the working set of a busy network's flows, not just the last few.
 *
 * Its invariants, each with a test that moves the programs' clock while
 * the cache stays populated (tests/prog/test_flowcache.py):
 *
 * 1. A hit stands for the slow path's verdict. An entry is filled only
 *    after the slow path passed a packet of an open flow under the same
 *    policy generation (settings.gen, which brouterd increments on every
 *    reload and port MAC change; its low 16 bits here: 65,536 reloads
 *    within the second an entry lives cannot happen), between the same
 *    two stations (their MACs, so a hit stands for the FDB too), after
 *    fw_addr_check(). One entry serves both directions: the key is LAN
 *    side first, and a reply must not evict its request's entry.
 * 2. An entry is trusted until its until_ns: BR_FC_TRUST_NS after the
 *    slow path confirmed the flow, or the flow's idle expiry if that
 *    comes first. So a flow idling out is never passed by the cache after
 *    its timeout, and one evicted from a full table or deleted from user
 *    space passes for at most BR_FC_TRUST_NS on a CPU that confirmed it.
 * 3. What changes a flow's state reaches the slow path: TCP SYN, FIN and
 *    RST, ICMPv6, fragments and multicast never hit.
 * 4. A flow's seen_ns (and its binding's) lags the packets that refresh it
 *    by at most BR_FLOW_REFRESH_NS + BR_FC_TRUST_NS, whichever direction
 *    filled the entry. The slow path rewrites seen_ns only once it is
 *    BR_FLOW_REFRESH_NS old, so a hit may stand for a packet that would
 *    refresh only while seen_ns was within that at confirmation
 *    (out_fresh; else the entry's generation for outbound packets is
 *    left one behind, which they never match). Outbound packets refresh
 *    every flow and TCP both ways, so an entry confirmed by them always
 *    has it; UDP and the other protocols are refreshed by outbound
 *    packets only (REC-12), so an entry an inbound packet confirmed may
 *    lack it, and outbound packets then miss until one of them has
 *    refreshed the flow on the slow path. Inbound packets of such a flow
 *    refresh nothing: a one-way inbound stream keeps hitting its entry
 *    for as long as the flow lives, with one slow-path packet per
 *    BR_FC_TRUST_NS.
 *
 * The entries and the "flow_cache" map are in maps.h.
 */
#ifndef BR_FLOWCACHE_H
#define BR_FLOWCACHE_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "maps.h"
#include "lib/clock.h"
#include "lib/parse.h"
#include "fw/flows.h"
#include "lib/port.h"

/* How long a confirmation is trusted at most. */
#define BR_FC_TRUST_NS 1000000000LL

/* What the slow path reports for the cache: an open flow passed the packet. */
struct fc_note {
	__u64 until_ns;
	__u8 hit;
	__u8 out_fresh; /* invariant 4 */
};

static __always_inline void fc_note_flow(struct fc_note *n,
					 const struct br_policy *pol,
					 const struct br_flow_key *k,
					 const struct br_flow *f, __u64 now)
{
	__u64 expiry = f->seen_ns + flow_timeout_ns(pol, k, f);

	/* CLOSED (after a RST) lives seconds: not worth caching */
	n->hit = f->state != BR_FS_CLOSED;
	/* read after the slow path's own refresh of this packet, if any */
	n->out_fresh = ns_since(now, f->seen_ns) <= BR_FLOW_REFRESH_NS;
	n->until_ns = now + BR_FC_TRUST_NS;
	if (ns_since(n->until_ns, expiry) > 0)
		n->until_ns = expiry;
}

/*
 * The packet's flow key, by reference: addresses pointing into the
 * packet or struct fw_pkt, the last 8 bytes of struct br_flow_key built
 * here. Compared 8 bytes at a time and stored 4 at a time; a materialized
 * key costs more (flow_key_set()'s byte-aligned copies become byte loads,
 * and a 40-byte key held across the slow path is spilled): ~5 ns a hit,
 * measured. In struct fw_pkt the addresses lie 8-aligned; in the packet
 * they sit 22 and 38 bytes in, which a CPU with efficient unaligned
 * access loads at full speed.
 */
struct fc_ref {
	const __u32 *lan;
	const __u32 *wan;
	union {
		struct {
			__u16 lan_port;
			__u16 wan_port;
			__u8 proto;
			__u8 kind;
			__u16 pad;
		} f;
		__u32 w;	/* first word: the ports */
		__u64 q;
	} t;
};

/* The same key as pkt_flow_key() for the packets fc_eligible() admits. */
static __always_inline void fc_ref_set(struct fc_ref *r, const struct fw_pkt *fp,
				       __u32 port)
{
	const struct pkt *p = &fp->l;
	int lan = port == BR_PORT_LAN, ports = proto_has_ports(p->proto);

	r->lan = lan ? fp->saddr.s6_addr32 : fp->daddr.s6_addr32;
	r->wan = lan ? fp->daddr.s6_addr32 : fp->saddr.s6_addr32;
	r->t.f.lan_port = !ports ? 0 : lan ? p->sport : p->dport;
	r->t.f.wan_port = !ports ? 0 : lan ? p->dport : p->sport;
	r->t.f.proto = p->proto;
	r->t.f.kind = BR_FK_FLOW;
	r->t.f.pad = 0;
}

/*
 * The same key straight from the packet, for what most traffic is: TCP or
 * UDP right behind the IPv6 header (so no extension header and no
 * fragment), to a unicast address. A hit then decides the packet without
 * fw_parse() and fw_decide(): no copy of the headers, no call. The cache
 * may skip fw_addr_check() for it: an entry is only filled after that
 * check passed under the same policy generation, and for two unicast
 * addresses it reads both alike, so it passes whichever way the packet
 * goes. Returns 0 for a packet the fast path does not take (the slow path
 * then decides it, the cache included).
 */
static __always_inline int fc_ref_pkt(struct fc_ref *r, struct ipv6hdr *ip6,
				      void *end, __u32 port)
{
	__u32 *l4 = (__u32 *)(ip6 + 1), w;
	/* the payload length, checked against the frame (ip6_trim()) */
	__u16 len = bpf_ntohs(ip6->payload_len);

	if (ip6->nexthdr == IPPROTO_TCP) {
		if ((void *)l4 + sizeof(struct tcphdr) > end ||
		    len < sizeof(struct tcphdr) ||
		    (((__u8 *)l4)[13] & (TCPF_SYN | TCPF_FIN | TCPF_RST)))
			return 0;
	} else if (ip6->nexthdr != IPPROTO_UDP ||
		   (void *)l4 + sizeof(struct udphdr) > end ||
		   len < sizeof(struct udphdr)) {
		return 0;
	}
	if (ip6->daddr.s6_addr[0] == 0xff)
		return 0;
	/* source and destination port as they lie in the packet */
	w = *l4;
	if (port == BR_PORT_LAN) {
		r->lan = ip6->saddr.s6_addr32;
		r->wan = ip6->daddr.s6_addr32;
		r->t.w = w;
	} else {
		r->lan = ip6->daddr.s6_addr32;
		r->wan = ip6->saddr.s6_addr32;
		r->t.w = w >> 16 | w << 16;
	}
	r->t.f.proto = ip6->nexthdr;
	r->t.f.kind = BR_FK_FLOW;
	r->t.f.pad = 0;
	return 1;
}

/* The set of @r on this CPU, or NULL with the cache off. */
static __always_inline struct fc_set *fc_set_of(const struct fc_ref *r)
{
	/* low words of both addresses (interface ids) and the ports */
	__u32 h = r->lan[3] ^ r->wan[2] ^ r->wan[3] ^ r->t.w;
	__u32 bits = consts.fc_bits, i;

	if (!bits)
		return NULL;
	/* Fibonacci hashing: the top bits of the product mix all of h */
	i = bpf_get_smp_processor_id() << bits |
	    (h * 2654435761U) >> (32 - bits);
	return bpf_map_lookup_elem(&flow_cache, &i);
}

/*
 * Packets the cache may decide: unicast, unfragmented, stateful, no ICMPv6
 * (errors quote a packet, echo has its own key), and TCP only without
 * SYN/FIN/RST, which change a flow's state and must reach the table.
 */
static __always_inline int fc_eligible(const struct fw_pkt *fp,
				       const struct br_policy *pol)
{
	const struct pkt *p = &fp->l;

	return pol->mode == BR_FW_STATEFUL && !fp->mcast &&
	       p->frag == BR_FRAG_NONE && p->proto != IPPROTO_ICMPV6 &&
	       fp->daddr.s6_addr[0] != 0xff && /* see fc_ref_pkt() */
	       !(p->proto == IPPROTO_TCP &&
		 (p->tcp_flags & (TCPF_SYN | TCPF_FIN | TCPF_RST)));
}

/*
 * @src/@dst: the frame's MACs, from @port. An entry holds them by side:
 * [BR_PORT_LAN] the LAN station's, [BR_PORT_WAN] the WAN side's.
 */
static __always_inline int fc_macs_eq(const struct fc_entry *e,
				      const __u8 *src, const __u8 *dst,
				      __u32 port)
{
	int lan = port == BR_PORT_LAN;

	return mac_eq(e->mac[BR_PORT_LAN], lan ? src : dst) &&
	       mac_eq(e->mac[BR_PORT_WAN], lan ? dst : src);
}

static __always_inline int fc_key_eq(const struct fc_entry *e,
				     const struct fc_ref *r)
{
	const __u64 *a = e->k.q, *l = (const __u64 *)r->lan,
		    *w = (const __u64 *)r->wan;

	/*
	 * a miss (what a drop pays) mostly differs in ports or host ids;
	 * 8-byte compares: 1-1.25 ns a hit less than 4-byte ones, 2.5-3 at
	 * 10k flows
	 */
	if (a[4] != r->t.q || a[1] != l[1] || a[3] != w[1])
		return 0;
	return !((a[0] ^ l[0]) | (a[2] ^ w[0]));
}

static __always_inline int fc_hit_one(const struct fc_entry *e,
				      const struct fc_ref *r, const __u8 *src,
				      const __u8 *dst, __u32 port, __u32 gen,
				      __u64 now)
{
	/* [port == WAN]: a port index the verifier sees bounded */
	return fc_key_eq(e, r) && fc_macs_eq(e, src, dst, port) &&
	       e->gen[port == BR_PORT_WAN] == (__u16)gen &&
	       ns_since(e->until_ns, now) >= 0;
}

/* Does @set confirm the flow of @r, between stations @src and @dst? */
static __always_inline int fc_hit(const struct fc_set *set,
				  const struct fc_ref *r, const __u8 *src,
				  const __u8 *dst, __u32 port, __u32 gen,
				  __u64 now)
{
	return fc_hit_one(&set->e[0], r, src, dst, port, gen, now) ||
	       fc_hit_one(&set->e[1], r, src, dst, port, gen, now);
}

/*
 * Confirm the flow of @r in @set: in the entry that already holds it,
 * else in the one whose trust ends first (a free or lapsed entry ends
 * before a live one).
 */
static __always_inline void fc_fill(struct fc_set *set, const struct fc_ref *r,
				    const struct fc_note *n, __u32 gen,
				    const __u8 *src, const __u8 *dst, __u32 port)
{
	struct fc_entry *e = &set->e[0];
	int lan = port == BR_PORT_LAN;
	__u32 *a;

	if (!fc_key_eq(&set->e[0], r) &&
	    (fc_key_eq(&set->e[1], r) ||
	     ns_since(set->e[1].until_ns, set->e[0].until_ns) < 0))
		e = &set->e[1];
	a = e->k.w;

	a[0] = r->lan[0];
	a[1] = r->lan[1];
	a[2] = r->lan[2];
	a[3] = r->lan[3];
	a[4] = r->wan[0];
	a[5] = r->wan[1];
	a[6] = r->wan[2];
	a[7] = r->wan[3];
	e->k.q[4] = r->t.q;
	e->until_ns = n->until_ns;
	e->gen[BR_PORT_WAN] = gen;
	e->gen[BR_PORT_LAN] = n->out_fresh ? gen : gen - 1;
	__builtin_memcpy(e->mac[BR_PORT_LAN], lan ? src : dst, ETH_ALEN_BR);
	__builtin_memcpy(e->mac[BR_PORT_WAN], lan ? dst : src, ETH_ALEN_BR);
}

#endif /* BR_FLOWCACHE_H */
