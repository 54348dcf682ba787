/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Encapsulation of the IPv4 the kernel routes out of the WAN into a 4in6 tunnel (ip4ip6 or GRE). */
#ifndef BR_TUN_ENCAP_H
#define BR_TUN_ENCAP_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "maps.h"
#include "brouter/gre.h"
#include "tun/ecn.h"

/* What encapsulation reads of the IPv4 header. */
struct tun_inner {
	__u16 tot_len; /* network order */
	__u8 tos;
	__u8 proto;
};

static __always_inline struct br_tun *tun_for(struct __sk_buff *skb,
					      struct tun_inner *in)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct br_tun_out_key k = { .prefixlen = 32 };
	struct iphdr *ip = data + sizeof(struct ethhdr);

	if ((void *)(ip + 1) > end)
		return NULL;
	k.addr = ip->daddr;
	in->tot_len = ip->tot_len;
	in->tos = ip->tos;
	in->proto = ip->protocol;
	return bpf_map_lookup_elem(&tun_out, &k);
}

/* The outer headers: IPv6, then GRE for a GRE peer (brouter/gre.h). */
struct tun_hdrs {
	struct ipv6hdr ip6;
	__be16 gre_flags;
	__be16 gre_proto;
	__be32 gre_key;
};

/* Push the outer headers; every packet pointer is stale afterwards. */
static __always_inline int encap(struct __sk_buff *skb, const struct br_tun *t,
				 const struct tun_inner *in, __u8 dscp)
{
	struct tun_hdrs h = {
		.ip6 = { .version = 6,
			 .nexthdr = IPPROTO_IPIP,
			 .hop_limit = TUN_OUTER_HLIM },
	};
	__u64 flags = BPF_F_ADJ_ROOM_ENCAP_L3_IPV6;
	__u16 proto = bpf_htons(ETH_P_IPV6);
	__u32 glen = 0;

	if (t->flags & BR_TUN_F_GRE) {
		glen = br_gre_len_out(t->flags & BR_TUN_F_KEY);
		h.ip6.nexthdr = IPPROTO_GRE;
		h.gre_flags = t->flags & BR_TUN_F_KEY ? bpf_htons(BR_GRE_KEY)
						      : 0;
		h.gre_proto = bpf_htons(ETH_P_IP);
		h.gre_key = t->gre_key;
		/* GSO packets are then segmented with both outer headers */
		flags |= BPF_F_ADJ_ROOM_ENCAP_L4_GRE;
	}
	ip6_set_tclass(&h.ip6, tun_tclass(in->tos, dscp));
	h.ip6.payload_len = bpf_htons(bpf_ntohs(in->tot_len) + glen);
	__builtin_memcpy(&h.ip6.saddr, t->local6, 16);
	__builtin_memcpy(&h.ip6.daddr, t->remote6, 16);
	/*
	 * skb->protocol is read-only here; adjust_room switches it to IPv6
	 * itself for ENCAP_L3_IPV6 on an IPv4 skb (and marks GSO packets as
	 * IPXIP6, or GRE, so they are segmented with the outer headers).
	 */
	if (bpf_skb_adjust_room(skb, sizeof(h.ip6) + glen, BPF_ADJ_ROOM_MAC,
				flags))
		return -1;
	if (bpf_skb_store_bytes(skb, sizeof(struct ethhdr), &h,
				sizeof(h.ip6) + glen, 0) ||
	    bpf_skb_store_bytes(skb, offsetof(struct ethhdr, h_proto), &proto,
				sizeof(proto), 0))
		return -1;
	return 0;
}

/*
 * The IPv6 next hop towards @t's remote end, as brouterd read it from
 * the kernel's route ("tun_nh"), so bpf_redirect_neigh() needs no route
 * lookup of its own (its neighbour entry it still resolves if need be).
 * Returns 0 with @nh filled, or -1: then the kernel looks the route up.
 */
static __always_inline int tun_next_hop(const struct br_tun *t,
					struct bpf_redir_neigh *nh)
{
	const struct br_tun_nh *n = bpf_map_lookup_elem(&tun_nh, t->remote6);

	if (!n)
		return -1;
	nh->nh_family = 10; /* AF_INET6 */
	__builtin_memcpy(nh->ipv6_nh, n->nh6, 16);
	return 0;
}

#endif /* BR_TUN_ENCAP_H */
