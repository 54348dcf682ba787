// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tc egress (clsact, direct action) on the WAN port, attached only when a
 * tunnel is configured. IPv4 the kernel routes out of the WAN (after its
 * NAT: MAP-E's NAPT happens in nftables postrouting, into stand-ins that
 * tun/napt.h swaps for the ports of the set) is wrapped in IPv6 towards
 * the BR/AFTR/peer, and the Ethernet header is filled from the kernel's
 * IPv6 neighbour table by bpf_redirect_neigh().
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "lib/port.h"
#include "lib/stats.h"
#include "tun/encap.h"
#include "tun/napt.h"

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
	napt_skb(skb, t, NAPT_OUT);
	if (encap(skb, t, tot_len)) {
		stat_add(BR_STAT_DROP, BR_PORT_WAN, len);
		stat_add(BR_STAT_DROP_ENCAP_FAIL, BR_PORT_WAN, len);
		return TC_ACT_SHOT;
	}
	stat_add(BR_STAT_ENCAP, BR_PORT_WAN, len);
	/* The Ethernet addresses are the IPv4 next hop's: let the kernel's
	 * IPv6 FIB and neighbour table pick the real ones (resolving if needed). */
	return bpf_redirect_neigh(consts.ifindex[BR_PORT_WAN], NULL, 0, 0);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
