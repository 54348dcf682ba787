// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tc egress (attached as tc ingress is), on a port while the IPv4 fast path
 * is on, and on the WAN while a tunnel is configured. IPv4 the kernel
 * forwards is recorded for the fast path (fp4/fwd.h). On the WAN, IPv4
 * routed into a tunnel (after the kernel's NAT: MAP-E's NAPT happens in
 * nftables postrouting, into stand-ins that tun/napt.h swaps for the
 * ports of the set) has its SYN's MSS clamped and is wrapped in IPv6
 * towards the BR/AFTR/peer; bpf_redirect_neigh() fills the Ethernet
 * header from the kernel's IPv6 neighbour table.
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
#include "lib/tc.h"
#include "fp4/fwd.h"
#include "tun/encap.h"
#include "tun/mss.h"
#include "tun/napt.h"

/*
 * A shared address (MAP-E, lw4o6: PSID length > 0) cannot carry protocols without
 * ports: no BR could send the replies to this CE. ICMP has its echo id.
 */
static __always_inline int portless(const struct br_tun *t, __u8 proto)
{
	return BR_TUN_HAS_CE(t->mode) && t->psid_len && proto != IPPROTO_TCP &&
	       proto != IPPROTO_UDP && proto != IPPROTO_ICMP;
}

/* IPv4 leaving the WAN: into its tunnel, if one takes it. */
static __always_inline int tun_out_skb(struct __sk_buff *skb,
				       const struct br_settings *s)
{
	struct bpf_redir_neigh nh;
	struct tun_inner in;
	__u32 len = skb->len;
	struct br_tun *t;

	t = tun_for(skb, &in);
	if (!t)
		return BR_TC_PASS; /* not for a tunnel: native IPv4 on the WAN */
	if (portless(t, in.proto)) {
		stat_add(BR_STAT_DROP, BR_PORT_WAN, len);
		stat_add(BR_STAT_DROP_ENCAP_PORTLESS, BR_PORT_WAN, len);
		return TC_ACT_SHOT;
	}
	napt_skb(skb, t, NAPT_OUT);
	if (tun_clamp_out(skb, t))
		stat_add(BR_STAT_MSS_CLAMPED, BR_PORT_WAN, len);
	if (encap(skb, t, &in, s->tun_dscp)) {
		stat_add(BR_STAT_DROP, BR_PORT_WAN, len);
		stat_add(BR_STAT_DROP_ENCAP_FAIL, BR_PORT_WAN, len);
		return TC_ACT_SHOT;
	}
	stat_add(BR_STAT_ENCAP, BR_PORT_WAN, len);
	/* The Ethernet addresses are the IPv4 next hop's: the IPv6 one's replace them. */
	if (tun_next_hop(t, &nh))
		return bpf_redirect_neigh(skb->ifindex, NULL, 0, 0);
	return bpf_redirect_neigh(skb->ifindex, &nh, sizeof(nh), 0);
}

SEC("tc")
int tc_brouter_out(struct __sk_buff *skb)
{
	const struct br_settings *s;
	int port = port_of(skb->ifindex);
	__u32 zero = 0;

	if (skb->protocol != bpf_htons(ETH_P_IP) || port < 0)
		return BR_TC_PASS;
	s = bpf_map_lookup_elem(&settings, &zero);
	if (!s)
		return BR_TC_PASS;
	fp4_note_forwarded(skb, s, port);
	if (port != BR_PORT_WAN)
		return BR_TC_PASS;
	return tun_out_skb(skb, s);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
