/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Encapsulation of the IPv4 the kernel routes out of the WAN into a 4in6 tunnel. */
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

static __always_inline struct br_tun *tun_for(struct __sk_buff *skb,
					      __u16 *tot_len)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct br_tun_out_key k = { .prefixlen = 32 };
	struct iphdr *ip = data + sizeof(struct ethhdr);

	if ((void *)(ip + 1) > end)
		return NULL;
	k.addr = ip->daddr;
	*tot_len = ip->tot_len;
	return bpf_map_lookup_elem(&tun_out, &k);
}

/* Push the outer IPv6 header; every packet pointer is stale afterwards. */
static __always_inline int encap(struct __sk_buff *skb, const struct br_tun *t,
				 __u16 tot_len)
{
	struct ipv6hdr ip6 = {
		.version = 6,
		.payload_len = tot_len,
		.nexthdr = IPPROTO_IPIP,
		.hop_limit = 64,
	};
	__u16 proto = bpf_htons(ETH_P_IPV6);

	__builtin_memcpy(&ip6.saddr, t->local6, 16);
	__builtin_memcpy(&ip6.daddr, t->remote6, 16);
	/*
	 * skb->protocol is read-only here; adjust_room switches it to IPv6
	 * itself for ENCAP_L3_IPV6 on an IPv4 skb (and marks GSO packets as
	 * IPXIP6 so they are segmented with the outer header).
	 */
	if (bpf_skb_adjust_room(skb, sizeof(ip6), BPF_ADJ_ROOM_MAC,
				BPF_F_ADJ_ROOM_ENCAP_L3_IPV6))
		return -1;
	if (bpf_skb_store_bytes(skb, sizeof(struct ethhdr), &ip6, sizeof(ip6), 0) ||
	    bpf_skb_store_bytes(skb, offsetof(struct ethhdr, h_proto), &proto,
				sizeof(proto), 0))
		return -1;
	return 0;
}

#endif /* BR_TUN_ENCAP_H */
