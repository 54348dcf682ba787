/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * IPv4 over IPv6 (MAP-E RFC 7597, DS-Lite RFC 6333, lw4o6 RFC 7596, a
 * fixed address over ip4ip6, static peers in ip4ip6 or GRE) without an
 * ip6tnl device: tc egress on the WAN wraps the IPv4 the kernel routes
 * there, XDP on the WAN unwraps what the BR/AFTR/peer sends back.
 */
#ifndef BR_TUN4IN6_H
#define BR_TUN4IN6_H

#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "maps.h"
#include "brouter/portset.h"
#include "lib/parse.h"
#include "tun/ecn.h"
#include "tun/napt.h"
#include "tun/wrap.h"

/* RFC 7597 5.1, with brouterd's own arithmetic (include/brouter/portset.h). */
static __always_inline int port_in_set(const struct br_tun *t, __u16 port_be)
{
	return br_port_in_set(bpf_ntohs(port_be), t->psid, t->psid_len,
			      t->psid_offset);
}

/*
 * The tunnels of a CE address the LAN is NAPT-ed to: MAP-E, lw4o6 (a
 * port set each), a fixed address (the whole of it, psid_len 0).
 */
static __always_inline int tun_has_ce(const struct br_tun *t)
{
	return BR_TUN_HAS_CE(t->mode);
}

/*
 * A CE address: the port that identifies the CE in an inbound IPv4
 * packet: the destination port, the echo identifier, or for an ICMP
 * error the source port (identifier) of the packet it quotes, which the
 * CE sent.
 */
static __always_inline int mape_inner_ok(const struct br_tun *t,
					 struct cursor *c, struct iphdr *ip)
{
	struct icmp4hdr *icmp;
	struct iphdr *qip;
	__u16 *ports, port;

	if (ip->daddr != t->ce_ipv4)
		return -BR_STAT_DROP_TUN_DST;
	if (ip->frag_off & bpf_htons(IP4_FRAG_OFFSET))
		return 0; /* non-first fragment: the kernel reassembles and NAT checks */
	switch (ip->protocol) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		ports = c->pos;
		if ((void *)(ports + 2) > c->end)
			return -BR_STAT_DROP_TUN_BAD;
		return port_in_set(t, ports[1]) ? 0 : -BR_STAT_DROP_TUN_PORT;
	case IPPROTO_ICMP:
		icmp = c->pos;
		if ((void *)(icmp + 1) > c->end)
			return -BR_STAT_DROP_TUN_BAD;
		if (icmp->type == ICMP4_ECHOREPLY || icmp->type == ICMP4_ECHO)
			return port_in_set(t, icmp->id) ? 0 : -BR_STAT_DROP_TUN_PORT;
		if (!icmp4_is_error(icmp->type))
			return 0;
		/* quoted IPv4 header (no options assumed: ihl checked) + 8 bytes */
		qip = icmp4_quote(icmp, c->end);
		if (!qip)
			return -BR_STAT_DROP_TUN_BAD;
		ports = (void *)(qip + 1);
		/* a quoted echo names the CE by its identifier, after type and code */
		port = qip->protocol == IPPROTO_ICMP ? ports[2] : ports[0];
		return port_in_set(t, port) ? 0 : -BR_STAT_DROP_TUN_PORT;
	}
	return 0;
}

/*
 * The tunnel of key @k: 1 with *tp set, 0 when the destination is no
 * tunnel address (the stack's), or -BR_STAT_DROP_TUN_SRC. Clears
 * @k's remote end on the way.
 */
static __always_inline int tun_lookup_key(struct br_tun_in_key *k,
					  const struct br_tun **tp)
{
	const struct br_tun *t = bpf_map_lookup_elem(&tun_in, k);

	if (t && t->mode) {
		*tp = t;
		return 1;
	}
	/*
	 * brouterd marks each local tunnel address with a {::, local} entry
	 * of mode 0: 4in6 to it from anyone else is refused.
	 */
	__builtin_memset(k->remote6, 0, 16);
	return bpf_map_lookup_elem(&tun_in, k) ? -BR_STAT_DROP_TUN_SRC : 0;
}

/*
 * The tunnel that 4in6 from @ip6's source to its destination belongs to,
 * as tun_lookup_key() says.
 */
static __always_inline int tun_lookup_in(const struct ipv6hdr *ip6,
					 const struct br_tun **tp)
{
	struct br_tun_in_key k;

	__builtin_memcpy(k.remote6, &ip6->saddr, 16);
	__builtin_memcpy(k.local6, &ip6->daddr, 16);
	return tun_lookup_key(&k, tp);
}

/*
 * The same for XDP, through this CPU's copy of the tunnel it found last.
 * 4in6 comes from one BR or AFTR packet after packet, and hashing the
 * 32-byte key of "tun_in" took about 30 ns a packet on a KVM guest; the
 * copy is four word compares. It holds while "tun_epoch" has not moved:
 * the count is read before "tun_in", so a change brouterd makes after
 * that read leaves the copy stale by one, and never used. Only tunnels
 * are copied; a refusal or a miss is looked up each time. *@tp points
 * into this CPU's copy: XDP runs to its end before the CPU runs it again.
 */
static __always_inline int tun_find_in(const struct ipv6hdr *ip6,
				       const struct br_tun **tp)
{
	union {
		struct br_tun_in_key k;
		__u64 q[4];
	} k;
	struct tun_in_last *c;
	__u32 zero = 0, epoch;
	const __u32 *ep;
	const __u64 *cq;
	int r;

	__builtin_memcpy(k.k.remote6, &ip6->saddr, 16);
	__builtin_memcpy(k.k.local6, &ip6->daddr, 16);
	c = bpf_map_lookup_elem(&tun_in_last, &zero);
	ep = bpf_map_lookup_elem(&tun_epoch, &zero);
	if (!c || !ep)
		return tun_lookup_key(&k.k, tp);
	epoch = *(const volatile __u32 *)ep;
	cq = (const __u64 *)&c->k;
	if (c->t.mode && c->epoch == epoch && cq[0] == k.q[0] &&
	    cq[1] == k.q[1] && cq[2] == k.q[2] && cq[3] == k.q[3]) {
		*tp = &c->t;
		return 1;
	}
	__builtin_memcpy(&c->k, &k.k, sizeof(k.k));
	r = tun_lookup_key(&k.k, tp);
	if (r != 1) {
		c->t.mode = BR_TUN_REFUSE;
		return r;
	}
	__builtin_memcpy(&c->t, *tp, sizeof(c->t));
	c->epoch = epoch;
	*tp = &c->t;
	return 1;
}

/*
 * The inner IPv4 packet at the cursor, sent through tunnel @t: 0 when it
 * may be delivered, else a negative drop reason. Also the check of the
 * first fragment of a fragmented one (tun/reasm.h).
 */
static __always_inline int tun_inner_ok(const struct br_tun *t,
					struct cursor *c)
{
	struct iphdr *ip = c->pos;

	if ((void *)(ip + 1) > c->end || ip->version != 4 || ip->ihl < 5)
		return -BR_STAT_DROP_TUN_BAD;
	c->pos = (void *)ip + ip->ihl * 4;
	if (c->pos > c->end)
		return -BR_STAT_DROP_TUN_BAD;
	if (tun_has_ce(t))
		return mape_inner_ok(t, c, ip);
	return 0;
}

/*
 * An unfragmented 4in6 packet carries its inner packet whole: an inner
 * total length past the outer payload length (or short of its own
 * header) is malformed, whatever lies in the frame beyond.
 */
static __always_inline int tun_inner_whole(const struct cursor *c,
					   const struct ipv6hdr *ip6)
{
	struct iphdr *ip = c->pos;

	if ((void *)(ip + 1) > c->end || bpf_ntohs(ip->tot_len) < ip->ihl * 4 ||
	    (void *)ip + bpf_ntohs(ip->tot_len) > ip6_end(ip6))
		return -BR_STAT_DROP_TUN_BAD;
	return 0;
}

/* What tun_check_in() says of 4in6 from a tunnel's far end. */
enum {
	/* decapsulate */
	TUN_DECAP = 1,
	/* a fragment: tc ingress reassembles it (tun/reasm.h) */
	TUN_IN_FRAG = 2,
	/* decapsulate, then swap the NAT stand-ins (tun/napt.h) */
	TUN_DECAP_NAPT = 3,
};

/*
 * An IPv6 packet for the brouter's own MAC on the WAN. Returns one of the
 * above (TUN_DECAP*: with *@strip the bytes in front of the inner IPv4
 * header, IPv6, destination options and GRE), 0 when it is not ours (the
 * stack has it), or a negative drop reason.
 */
static __always_inline int tun_check_in(struct cursor *c, struct ipv6hdr *ip6,
					__u32 *strip)
{
	const struct frag_hdr6 *fh = c->pos;
	const struct br_tun *t = NULL;
	__u8 nh = ip6->nexthdr;
	int r;

	if (nh == IPPROTO_FRAGMENT) {
		/* every fragment names the protocol of the whole (RFC 8200 4.5) */
		if ((void *)(fh + 1) > c->end || !tun_proto(fh->nexthdr))
			return 0;
	} else if (!tun_payload(tun_peek_proto(c, nh))) {
		return 0;
	}
	r = tun_find_in(ip6, &t);
	if (r <= 0 || !t)
		return r;
	if (nh == IPPROTO_FRAGMENT)
		return TUN_IN_FRAG;
	r = tun_unwrap(t, c, nh);
	if (r)
		return r;
	*strip = c->pos - (void *)ip6;
	r = tun_inner_whole(c, ip6);
	if (!r)
		r = tun_inner_ok(t, c);
	if (r)
		return r;
	return napt_swaps(t) ? TUN_DECAP_NAPT : TUN_DECAP;
}

/*
 * Strip the outer headers (@strip bytes after the Ethernet header, as
 * tun_check_in() measured them): move the Ethernet addresses forward over
 * them and switch the ethertype to IPv4, so the kernel receives the inner
 * packet on the WAN port as if it had come natively; a congestion mark on
 * the outer header is carried inside (RFC 6040). Returns 0 or a negative
 * drop reason.
 */
static __always_inline int tun_decap(struct xdp_md *ctx, __u32 strip)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data, *neth;
	struct ipv6hdr *ip6 = (void *)(eth + 1);
	struct ethhdr copy;
	struct iphdr *ip;
	__u8 ecn;

	if ((void *)(ip6 + 1) > end ||
	    strip > sizeof(struct ipv6hdr) + TUN_WRAP_MAX)
		return -BR_STAT_DROP_TUN_BAD;
	ecn = ip6_tclass(ip6) & ECN_MASK;
	copy = *eth;
	if (bpf_xdp_adjust_head(ctx, (int)strip))
		return -BR_STAT_DROP_TUN_BAD;
	/* adjust_head moved data: reload and re-check before writing */
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	neth = data;
	ip = (void *)(neth + 1);
	if ((void *)(ip + 1) > end)
		return -BR_STAT_DROP_TUN_BAD;
	/* the inner header at a fixed offset now, whatever was stripped */
	if (ecn_decap(ecn, ip))
		return -BR_STAT_DROP_TUN_ECN;
	__builtin_memcpy(neth->h_dest, copy.h_dest, ETH_ALEN);
	__builtin_memcpy(neth->h_source, copy.h_source, ETH_ALEN);
	neth->h_proto = bpf_htons(ETH_P_IP);
	return 0;
}

#endif /* BR_TUN4IN6_H */
