/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A per-CPU, direct-mapped cache of recently confirmed flows in front of
 * the "flows" LRU hash. Hashing the 40-byte key (jhash) and walking the
 * bucket cost about a fifth of the established stateful path; a hit here
 * is an xor-fold and a compare.
 *
 * An entry is only trusted while the flow's seen_ns, as the slow path
 * last saw it, is at most BR_FLOW_REFRESH_NS old. Within that second the
 * slow path would find the flow alive (timeouts are >= 1 s) and, for the
 * packets the cache takes (no SYN/FIN/RST), change nothing: flow_touch()
 * and the UDP binding refresh only write once seen_ns is older than that.
 * The first packet after it takes the slow path, refreshes the real entry
 * and re-confirms. So the only difference anyone can see: a flow evicted
 * from a full table or deleted from user space passes for up to a second
 * on a CPU that confirmed it. The entry holds the full settings.gen, which
 * brouterd increments on every reload, so no decision outlives a policy.
 * One entry serves both directions of a flow: for these packets the slow
 * path of an open flow is the same whichever port they arrive on (the key
 * is LAN side first), and a reply must not evict its request's entry.
 *
 * Not pinned: it holds nothing worth keeping, and a restarted brouterd
 * numbers its generations afresh. Tests reach it through the program's
 * map ids and zero it whenever they edit flows or move time.
 */
#ifndef BR_FLOWCACHE_H
#define BR_FLOWCACHE_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "../include/brouter.h"
#include "clock.h"
#include "parse.h"
#include "flows.h"

#define BR_FC_SIZE 64 /* entries per CPU, a power of two */

/* struct br_flow_key, a word at a time. */
union fc_key {
	struct br_flow_key k;
	__u32 w[10];
	__u64 q[5];
};

struct fc_entry {
	union fc_key k;
	__u64 seen_ns;	/* the flow's seen_ns when last confirmed */
	__u32 gen;	/* settings.gen it was confirmed under */
	__u32 pad;
};

struct fc_cache {
	struct fc_entry e[BR_FC_SIZE];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fc_cache);
} flow_cache SEC(".maps");

/* What the slow path reports for the cache: an open flow passed the packet. */
struct fc_note {
	__u64 seen_ns;	/* the flow's seen_ns after this packet */
	__u32 hit;
};

static __always_inline void fc_note_flow(struct fc_note *n,
					 const struct br_flow *f)
{
	/* CLOSED (after a RST) lives seconds: not worth caching */
	n->hit = f->state != BR_FS_CLOSED;
	n->seen_ns = f->seen_ns;
}

/*
 * The packet's flow key, by reference: addresses pointing into struct
 * fw_pkt, the last 8 bytes of struct br_flow_key built here. Compared and
 * stored word by word; a materialized key costs more (flow_key_set()'s
 * byte-aligned copies become byte loads, and a 40-byte key held across
 * the slow path is spilled): ~5 ns a hit, measured.
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

	if (ip6->nexthdr == IPPROTO_TCP) {
		if ((void *)l4 + sizeof(struct tcphdr) > end ||
		    (((__u8 *)l4)[13] & (TCPF_SYN | TCPF_FIN | TCPF_RST)))
			return 0;
	} else if (ip6->nexthdr != IPPROTO_UDP ||
		   (void *)l4 + sizeof(struct udphdr) > end) {
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

static __always_inline struct fc_entry *fc_slot(const struct fc_ref *r)
{
	struct fc_cache *c;
	__u32 zero = 0, h;

	c = bpf_map_lookup_elem(&flow_cache, &zero);
	if (!c)
		return NULL;
	/* low words of both addresses (interface ids) and the ports */
	h = r->lan[3] ^ r->wan[2] ^ r->wan[3] ^ r->t.w;
	h ^= h >> 16;
	h ^= h >> 8;
	return &c->e[h & (BR_FC_SIZE - 1)];
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

static __always_inline int fc_hit(const struct fc_entry *e,
				  const struct fc_ref *r, __u32 gen, __u64 now)
{
	const __u32 *a = e->k.w, *l = r->lan, *w = r->wan;

	/* a miss (what a drop pays) mostly differs in ports or host ids */
	if (e->k.q[4] != r->t.q || a[3] != l[3] || a[7] != w[3])
		return 0;
	return !((a[0] ^ l[0]) | (a[1] ^ l[1]) | (a[2] ^ l[2]) |
		 (a[4] ^ w[0]) | (a[5] ^ w[1]) | (a[6] ^ w[2])) &&
	       e->gen == gen &&
	       ns_since(now, e->seen_ns) <= BR_FLOW_REFRESH_NS;
}

static __always_inline void fc_fill(struct fc_entry *e, const struct fc_ref *r,
				    const struct fc_note *n, __u32 gen)
{
	__u32 *a = e->k.w;

	a[0] = r->lan[0];
	a[1] = r->lan[1];
	a[2] = r->lan[2];
	a[3] = r->lan[3];
	a[4] = r->wan[0];
	a[5] = r->wan[1];
	a[6] = r->wan[2];
	a[7] = r->wan[3];
	e->k.q[4] = r->t.q;
	e->seen_ns = n->seen_ns;
	e->gen = gen;
}

#endif /* BR_FLOWCACHE_H */
