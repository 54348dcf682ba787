/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What may sit between the outer IPv6 header (and fragment header) and
 * the inner IPv4 packet of a tunnel, read by XDP (whole packets) and tc
 * ingress (the first fragment of a fragmented one): one Destination
 * Options header, and the GRE header of a GRE peer (brouter/gre.h).
 *
 * The Destination Options header is RFC 2473 4.1.1's Tunnel Encapsulation
 * Limit, which Linux's ip6tnl and ip6gre devices send unless configured
 * with "encaplimit none": a peer set up with `ip -6 tunnel add ... mode
 * ip6gre` (or ip4ip6) puts one in front of every packet.
 */
#ifndef BR_TUN_WRAP_H
#define BR_TUN_WRAP_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "brouter/abi.h"
#include "brouter/gre.h"
#include "lib/parse.h"

/* An encapsulation limit option takes 8 bytes; more is not a tunnel's. */
#define TUN_DSTOPT_MAX 64
/* Longest wrapping tun_unwrap() steps over. */
#define TUN_WRAP_MAX   (TUN_DSTOPT_MAX + BR_GRE_MAX_LEN)

struct gre_base {
	__be16 flags;
	__be16 proto;
};

/* What a tunnel carries right after its outer headers. */
static __always_inline int tun_payload(__u8 nh)
{
	return nh == IPPROTO_IPIP || nh == IPPROTO_GRE;
}

/* A protocol a tunnel's fragments may name (the fragmentable part's first). */
static __always_inline int tun_proto(__u8 nh)
{
	return tun_payload(nh) || nh == IPPROTO_DSTOPTS;
}

/*
 * The protocol after an optional Destination Options header at the
 * cursor (@nh names what is there), without moving the cursor: what
 * decides whether the packet is a tunnel's at all. 0 if it is cut short.
 */
static __always_inline __u8 tun_peek_proto(const struct cursor *c, __u8 nh)
{
	const struct ipv6_opt_hdr *o = c->pos;

	if (nh != IPPROTO_DSTOPTS)
		return nh;
	if ((void *)(o + 1) > c->end)
		return 0;
	return o->nexthdr;
}

/*
 * The GRE header at the cursor, for tunnel @t: checked (RFC 2784 2.3, the
 * key of RFC 2890 2.1) and stepped over. 0, or a negative drop reason.
 * The checksum, when present, is not verified: the kernel checks the
 * inner IPv4 header's and the TCP/UDP checksums, which cover the same.
 */
static __always_inline int gre_pull(const struct br_tun *t, struct cursor *c)
{
	const struct gre_base *g = c->pos;
	__u32 flags, len, key;
	void *kp;

	if ((void *)(g + 1) > c->end)
		return -BR_STAT_DROP_TUN_BAD;
	flags = bpf_ntohs(g->flags);
	if ((flags & BR_GRE_REFUSED) || g->proto != bpf_htons(ETH_P_IP))
		return -BR_STAT_DROP_TUN_BAD;
	len = br_gre_len_in(flags);
	if (c->pos + len > c->end)
		return -BR_STAT_DROP_TUN_BAD;
	/* a keyed tunnel takes only its key; an unkeyed one no key at all */
	if (!(flags & BR_GRE_KEY) != !(t->flags & BR_TUN_F_KEY))
		return -BR_STAT_DROP_TUN_KEY;
	if (flags & BR_GRE_KEY) {
		kp = c->pos + BR_GRE_BASE_LEN + (flags & BR_GRE_CSUM ? 4 : 0);
		if (kp + sizeof(key) > c->end)
			return -BR_STAT_DROP_TUN_BAD;
		__builtin_memcpy(&key, kp, sizeof(key));
		if (key != t->gre_key)
			return -BR_STAT_DROP_TUN_KEY;
	}
	c->pos += len;
	return 0;
}

/*
 * Step from the header after the outer IPv6 (and fragment) header, of
 * type @nh, to the inner IPv4 packet of tunnel @t: over a Destination
 * Options header, then the GRE header when @t is a GRE peer's. 0 with the
 * cursor on the IPv4 header, or a negative drop reason (a GRE packet to
 * a plain tunnel, or the reverse, is not the tunnel's: tun_bad_inner).
 */
static __always_inline int tun_unwrap(const struct br_tun *t, struct cursor *c,
				      __u8 nh)
{
	const struct ipv6_opt_hdr *o = c->pos;
	__u32 len;

	if (nh == IPPROTO_DSTOPTS) {
		if ((void *)(o + 1) > c->end)
			return -BR_STAT_DROP_TUN_BAD;
		len = (o->hdrlen + 1) * 8;
		if (len > TUN_DSTOPT_MAX || c->pos + len > c->end)
			return -BR_STAT_DROP_TUN_BAD;
		nh = o->nexthdr;
		c->pos += len;
	}
	if (t->flags & BR_TUN_F_GRE)
		return nh == IPPROTO_GRE ? gre_pull(t, c)
					 : -BR_STAT_DROP_TUN_BAD;
	return nh == IPPROTO_IPIP ? 0 : -BR_STAT_DROP_TUN_BAD;
}

#endif /* BR_TUN_WRAP_H */
