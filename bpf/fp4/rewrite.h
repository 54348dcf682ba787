/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the fast path does to a packet of a GO entry: NAT from the
 * conntrack entry, TTL, checksums updated incrementally (lib/csum.h),
 * the next hop's MACs, and the outer IPv6 header of a 4in6 tunnel.
 */
#ifndef BR_FP4_REWRITE_H
#define BR_FP4_REWRITE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "maps.h"
#include "lib/csum.h"
#include "tun/ecn.h"

/* The MACs as 16-bit words: aligned wherever a frame starts. */
static __always_inline void fp4_macs(struct ethhdr *eth,
				     const struct fp4_entry *e)
{
	__u16 *d = (__u16 *)eth;
	const __u16 *m = (const __u16 *)e->mac;

	d[0] = m[0];
	d[1] = m[1];
	d[2] = m[2];
	d[3] = m[3];
	d[4] = m[4];
	d[5] = m[5];
}

/*
 * NAT, TTL and checksums of the IPv4 packet at @ip, whose TCP or UDP
 * header fp4_parse() found whole before @end (checked again: the
 * verifier knows nothing of that).
 */
static __always_inline int fp4_nat(struct iphdr *ip, void *end,
				   const struct fp4_entry *e)
{
	struct udphdr *udp = (void *)(ip + 1);
	struct tcphdr *tcp = (void *)(ip + 1);

	if (ip->protocol == IPPROTO_TCP) {
		if ((void *)(tcp + 1) > end)
			return -1;
		tcp->source = e->sport;
		tcp->dest = e->dport;
		tcp->check = csum_apply(tcp->check, e->csum_l4);
	} else {
		if ((void *)(udp + 1) > end)
			return -1;
		udp->source = e->sport;
		udp->dest = e->dport;
		udp->check = csum_apply_udp(udp->check, e->csum_l4);
	}
	ip->ttl--;
	ip->check = csum_apply(ip->check, e->csum_ip);
	ip->saddr = e->saddr;
	ip->daddr = e->daddr;
	return 0;
}

/* Plain forwarding: the IPv4 packet stays where it is. */
static __always_inline int fp4_rewrite(struct xdp_md *ctx,
				       const struct fp4_entry *e)
{
	void *data = (void *)(long)ctx->data,
	     *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);

	if ((void *)(ip + 1) > end || fp4_nat(ip, end, e))
		return -1;
	fp4_macs(eth, e);
	return 0;
}

/*
 * Into the tunnel of slot @tun: room for the outer header first, so a
 * failure leaves the packet as it came for the kernel. Then the inner
 * packet is NATed where it now lies, and the outer headers written over
 * the old Ethernet header: RFC 2473 with the traffic class of RFC 6040.
 */
static __always_inline int fp4_encap(struct xdp_md *ctx,
				     const struct fp4_entry *e,
				     const struct fp4_tun *tun, __u8 dscp)
{
	void *data, *end;
	struct ipv6hdr *ip6;
	struct ethhdr *eth;
	struct iphdr *ip;

	if (bpf_xdp_adjust_head(ctx, -(int)sizeof(struct ipv6hdr)))
		return -1;
	/* adjust_head moved data: every pointer derived anew and checked */
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	eth = data;
	ip6 = (void *)(eth + 1);
	ip = (void *)(ip6 + 1);
	if ((void *)(ip + 1) > end || fp4_nat(ip, end, e)) {
		bpf_xdp_adjust_head(ctx, (int)sizeof(struct ipv6hdr));
		return -1;
	}
	ip6_set_tclass(ip6, tun_tclass(ip->tos, dscp));
	ip6->payload_len = ip->tot_len;
	ip6->nexthdr = IPPROTO_IPIP;
	ip6->hop_limit = TUN_OUTER_HLIM;
	__builtin_memcpy(&ip6->saddr, tun->local6, 16);
	__builtin_memcpy(&ip6->daddr, tun->remote6, 16);
	fp4_macs(eth, e);
	eth->h_proto = bpf_htons(ETH_P_IPV6);
	return 0;
}

#endif /* BR_FP4_REWRITE_H */
