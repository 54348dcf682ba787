/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Where the fast path sends a flow: the kernel's own routes and
 * neighbours through bpf_fib_lookup(), for IPv4 after NAT and, when the
 * flow leaves through a 4in6 tunnel, for the tunnel's IPv6 next hop.
 */
#ifndef BR_FP4_ROUTE_H
#define BR_FP4_ROUTE_H

#include <linux/bpf.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include "maps.h"
#include "lib/port.h"

#define BR_AF_INET 2

static __always_inline __u32 fib_why(int rc)
{
	return rc == BPF_FIB_LKUP_RET_NO_NEIGH ? BR_STAT_FP4_NEIGH
					       : BR_STAT_FP4_ROUTE;
}

/* MACs from @f into @e: destination first, as the Ethernet header. */
static __always_inline void fib_macs(struct fp4_entry *e,
				     const struct bpf_fib_lookup *f)
{
	__builtin_memcpy(e->mac[0], f->dmac, ETH_ALEN_BR);
	__builtin_memcpy(e->mac[1], f->smac, ETH_ALEN_BR);
}

/*
 * The route of packet @o once NATed into @x, as the kernel routes it:
 * after DNAT, before SNAT, from the port it arrived on. It must leave by
 * the other port, whose next hop's MAC the kernel knows. The MTU is
 * the route's (tot_len 0 asks for it instead of checking one).
 */
static __always_inline __u32 fp4_route4(struct xdp_md *ctx,
					const struct br_fp4_key *o,
					const struct br_fp4_key *x, __u8 tos,
					__u32 port, struct fp4_entry *e)
{
	struct bpf_fib_lookup f = {
		.family = BR_AF_INET,
		.l4_protocol = o->proto,
		.sport = o->sport,
		.dport = x->dport,
		.ifindex = ctx->ingress_ifindex,
		.tos = tos,
		.ipv4_src = o->saddr,
		.ipv4_dst = x->daddr,
	};
	int rc = bpf_fib_lookup(ctx, &f, sizeof(f), 0);

	if (rc != BPF_FIB_LKUP_RET_SUCCESS)
		return fib_why(rc);
	if (f.ifindex != consts.ifindex[other_port(port)])
		return BR_STAT_FP4_ROUTE;
	fib_macs(e, &f);
	e->mtu = f.mtu_result;
	return 0;
}

/*
 * Into tunnel @t: the MACs of its IPv6 next hop (brouterd's reading of
 * the kernel's route and neighbour, "tun_nh") replace the IPv4 route's,
 * and the IPv4 packet may be no larger than the tunnel's MTU.
 */
static __always_inline __u32 fp4_route6(const struct br_tun *t,
					const struct br_settings *s,
					struct fp4_entry *e)
{
	const struct br_tun_nh *n = bpf_map_lookup_elem(&tun_nh, t->remote6);

	if (!n)
		return BR_STAT_FP4_ROUTE;
	if (!(n->flags & BR_NH_MAC))
		return BR_STAT_FP4_NEIGH;
	__builtin_memcpy(e->mac[0], n->mac, ETH_ALEN_BR);
	__builtin_memcpy(e->mac[1], s->mac[BR_PORT_WAN], ETH_ALEN_BR);
	if (e->mtu > t->mtu)
		e->mtu = t->mtu;
	return 0;
}

/*
 * This CPU's slot for tunnel @t's outer addresses; 1 + its index into
 * @e->tun, with the slot's version. A slot taken over by another tunnel
 * gets a new version, which ends the entries made for the old one.
 */
static __always_inline __u32 fp4_tun_slot(const struct br_tun *t,
					  struct fp4_entry *e)
{
	const __u32 *l = (const __u32 *)t->local6,
		    *r = (const __u32 *)t->remote6;
	__u32 i = ((l[3] ^ r[2] ^ r[3]) * 2654435761U) >> 26;
	struct fp4_tun *s = bpf_map_lookup_elem(&fp4_tun, &i);

	_Static_assert(BR_TUN_MAX == 64, "six bits of slot index");
	if (!s)
		return BR_STAT_FP4_ROUTE;
	if ((s->local6[0] ^ l[0]) | (s->local6[1] ^ l[1]) |
	    (s->local6[2] ^ l[2]) | (s->local6[3] ^ l[3]) |
	    (s->remote6[0] ^ r[0]) | (s->remote6[1] ^ r[1]) |
	    (s->remote6[2] ^ r[2]) | (s->remote6[3] ^ r[3])) {
		__builtin_memcpy(s->local6, l, 16);
		__builtin_memcpy(s->remote6, r, 16);
		s->ver++;
	}
	e->tun = i + 1;
	e->tun_ver = s->ver;
	return 0;
}

/* The slot a GO entry encapsulates with, if it is still its tunnel's. */
static __always_inline const struct fp4_tun *
fp4_tun_of(const struct fp4_entry *e)
{
	__u32 i = e->tun - 1;
	const struct fp4_tun *s = bpf_map_lookup_elem(&fp4_tun, &i);

	return s && s->ver == e->tun_ver ? s : NULL;
}

#endif /* BR_FP4_ROUTE_H */
