// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tc egress (clsact, direct action) on the WAN port, attached only when a
 * tunnel is configured. IPv4 the kernel routes out of the WAN (after its
 * NAT: MAP-E's NAPT into the port set happens in nftables postrouting) is
 * wrapped in IPv6 towards the BR/AFTR/peer, and the Ethernet header is
 * filled from the kernel's IPv6 neighbour table by bpf_redirect_neigh().
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "port.h"
#include "stats.h"
#include "tun4in6.h"

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

SEC("tc")
int tc_brouter_out(struct __sk_buff *skb)
{
	struct br_tun *t;
	__u16 tot_len = 0;
	__u32 len = skb->len;

	if (skb->protocol != bpf_htons(ETH_P_IP) ||
	    skb->ifindex != consts.ifindex[BR_PORT_WAN])
		return TC_ACT_OK;
	t = tun_for(skb, &tot_len);
	if (!t)
		return TC_ACT_OK; /* not for a tunnel: native IPv4 on the WAN */
	if (encap(skb, t, tot_len)) {
		stat_add(BR_STAT_ENCAP_FAIL, BR_PORT_WAN, len);
		return TC_ACT_SHOT;
	}
	stat_add(BR_STAT_ENCAP, BR_PORT_WAN, len);
	/* The Ethernet addresses are the IPv4 next hop's: let the kernel's
	 * IPv6 FIB and neighbour table pick the real ones (resolving if needed). */
	return bpf_redirect_neigh(consts.ifindex[BR_PORT_WAN], NULL, 0, 0);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
