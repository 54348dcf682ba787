/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The outer IPv6 header's traffic class of IPv4 over IPv6, per RFC 6040
 * (ECN) and RFC 2983 (DSCP): on the way in the ECN field is copied
 * ("normal mode", 4.1) and the DSCP copied or set as configured; on the
 * way out a congestion mark the tunnel's path put on the outer header is
 * carried into the inner one (4.2), so it is not lost with the header.
 * The outer hop limit, one for both places that write the header.
 */
#ifndef BR_TUN_ECN_H
#define BR_TUN_ECN_H

#include <linux/ip.h>
#include <linux/ipv6.h>
#include "brouter/abi.h"
#include "lib/csum.h"

#define ECN_MASK    0x03
#define ECN_NOT_ECT 0x00
#define ECN_ECT1    0x01
#define ECN_ECT0    0x02
#define ECN_CE	    0x03

/* Hop limit of the outer header, whether XDP or tc egress writes it. */
#define TUN_OUTER_HLIM 64

/* Outer traffic class for inner TOS @tos, DSCP @dscp (BR_DSCP_COPY or 0..63). */
static __always_inline __u8 tun_tclass(__u8 tos, __u8 dscp)
{
	if (dscp == BR_DSCP_COPY)
		return tos;
	return dscp << 2 | (tos & ECN_MASK);
}

/* Write version 6 and traffic class @tc into @ip6, flow label 0. */
static __always_inline void ip6_set_tclass(struct ipv6hdr *ip6, __u8 tc)
{
	ip6->version = 6;
	ip6->priority = tc >> 4;
	ip6->flow_lbl[0] = tc << 4;
	ip6->flow_lbl[1] = 0;
	ip6->flow_lbl[2] = 0;
}

static __always_inline __u8 ip6_tclass(const struct ipv6hdr *ip6)
{
	return ip6->priority << 4 | ip6->flow_lbl[0] >> 4;
}

/*
 * RFC 6040 4.2: combine the outer ECN field @outer into the inner IPv4
 * header @ip (its checksum kept right). Returns -1 when the packet must
 * be dropped: CE on the outside of a packet whose sender cannot be told.
 */
static __always_inline int ecn_decap(__u8 outer, struct iphdr *ip)
{
	__u8 inner = ip->tos & ECN_MASK, want = inner;
	__u16 *w = (__u16 *)ip, old;

	if (outer == ECN_CE) {
		if (inner == ECN_NOT_ECT)
			return -1;
		want = ECN_CE;
	} else if (outer == ECN_ECT1 && inner == ECN_ECT0) {
		want = ECN_ECT1;
	}
	if (want == inner)
		return 0;
	/* the first word holds version, IHL and TOS */
	old = w[0];
	ip->tos = (ip->tos & ~ECN_MASK) | want;
	ip->check = csum_replace16(ip->check, old, w[0]);
	return 0;
}

#endif /* BR_TUN_ECN_H */
