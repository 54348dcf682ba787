/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * MAP-E NAPT's port swap ("nat_ports", struct br_nat_port). A shared CE's
 * port set is 2^a - 1 runs of ports, but conntrack NATs into one range:
 * given one run at a time, it finds a free port only inside that run, and
 * a run full for one destination fails the connection while others have
 * room. So conntrack NATs into a contiguous range of stand-in ports, and
 * its own search covers the whole set for each destination; here each
 * stand-in becomes the port of the set it stands for on the way out (tc
 * egress, after NAT), and back on the way in (XDP, before the stack).
 *
 * The port that names the CE's end of a flow is swapped: the TCP/UDP
 * port, the echo identifier (of the CE's requests and the replies to
 * them), and the same inside ICMP errors, which quote a packet of the
 * flow. Checksums follow incrementally; a quoted packet's own transport
 * checksum is left as it is: nothing checks a quote's checksum, and
 * conntrack rewrites quotes the same way.
 */
#ifndef BR_TUN_NAPT_H
#define BR_TUN_NAPT_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "maps.h"
#include "lib/csum.h"

/* ICMPv4, declared here: <linux/icmp.h> drags in libc socket headers. */
struct icmp4hdr {
	__u8 type;
	__u8 code;
	__u16 checksum;
	__u16 id; /* echo identifier */
	__u16 seq;
};

#define ICMP4_ECHOREPLY	    0
#define ICMP4_DEST_UNREACH  3
#define ICMP4_ECHO	    8
#define ICMP4_TIME_EXCEEDED 11
#define ICMP4_PARAMETERPROB 12

static __always_inline int icmp4_is_error(__u8 type)
{
	return type == ICMP4_DEST_UNREACH || type == ICMP4_TIME_EXCEEDED ||
	       type == ICMP4_PARAMETERPROB;
}

/*
 * The swap applies to a shared address whose set is more than one run:
 * MAP-E's, and lw4o6's, which is NAPT-ed into alike.
 */
static __always_inline int napt_swaps(const struct br_tun *t)
{
	return (t->mode == BR_TUN_MAPE || t->mode == BR_TUN_LW4O6) &&
	       t->psid_len && t->psid_offset;
}

static __always_inline struct br_nat_port *nat_port(__u16 port_be)
{
	__u32 k = bpf_ntohs(port_be);

	return bpf_map_lookup_elem(&nat_ports, &k);
}

/*
 * The quoted IPv4 header of an ICMP error (without options) and 8 bytes
 * after it, or NULL when the quote is shorter.
 */
static __always_inline struct iphdr *icmp4_quote(struct icmp4hdr *icmp,
						 void *end)
{
	struct iphdr *q = (void *)(icmp + 1);

	if ((void *)(q + 1) + 8 > end || q->ihl != 5)
		return NULL;
	return q;
}

/* ---- in: XDP, before the stack ---------------------------------------- */

/* The port at @p is one of the set: put its stand-in, fixing *@sum. */
static __always_inline void swap_in(__u16 *p, __u16 *sum, int udp)
{
	struct br_nat_port *e = nat_port(*p);

	if (!e || !e->nat)
		return;
	if (udp)
		*sum = csum_apply_udp(*sum,
				      csum_fold32(csum_diff16(*p, e->nat)));
	else
		*sum = csum_replace16(*sum, *p, e->nat);
	*p = e->nat;
}

/* An error quoting what the CE sent: its source port, or its echo request's id. */
static __always_inline void swap_in_quote(struct icmp4hdr *icmp, void *end)
{
	struct iphdr *q = icmp4_quote(icmp, end);
	__u16 *qp;

	if (!q)
		return;
	qp = (void *)(q + 1);
	if (q->protocol == IPPROTO_TCP || q->protocol == IPPROTO_UDP)
		swap_in(&qp[0], &icmp->checksum, 0);
	else if (q->protocol == IPPROTO_ICMP && ((__u8 *)qp)[0] == ICMP4_ECHO)
		swap_in(&qp[2], &icmp->checksum, 0);
}

/*
 * A decapsulated IPv4 packet for the CE (tun_check_in() said
 * TUN_DECAP_NAPT): the port of the set it carries becomes the stand-in
 * conntrack knows. Works on the frame as the stack will get it (Ethernet,
 * IPv4), so it needs nothing of the checks before it but their verdict.
 * A call of its own: inlined, it would add its stack to the XDP entry's,
 * which with the firewall's already nears the verifier's 512 bytes.
 */
/* unused: tc egress includes this file too, and has no use for it */
static __attribute__((noinline, unused)) void napt_in(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data,
	     *end = (void *)(long)ctx->data_end;
	struct iphdr *ip = data + sizeof(struct ethhdr);
	struct icmp4hdr *icmp;
	__u16 *l4;

	if ((void *)(ip + 1) > end || ip->ihl < 5 ||
	    (ip->frag_off & bpf_htons(IP4_FRAG_OFFSET)))
		return;
	l4 = (void *)ip + ip->ihl * 4;
	icmp = (void *)l4;
	switch (ip->protocol) {
	case IPPROTO_TCP: /* dport at 2, checksum at 16 */
		if ((void *)(l4 + 9) <= end)
			swap_in(&l4[1], &l4[8], 0);
		break;
	case IPPROTO_UDP: /* dport at 2, checksum at 6 */
		if ((void *)(l4 + 4) <= end)
			swap_in(&l4[1], &l4[3], 1);
		break;
	case IPPROTO_ICMP:
		if ((void *)(icmp + 1) > end)
			break;
		if (icmp->type == ICMP4_ECHOREPLY)
			swap_in(&icmp->id, &icmp->checksum, 0);
		else if (icmp4_is_error(icmp->type))
			swap_in_quote(icmp, end);
		break;
	}
}

/* ---- skb: tc egress (out, after the NAT), tc ingress (in, reassembled) -- */

enum { NAPT_IN, NAPT_OUT };

/*
 * The port at @off of the packet: out, a stand-in becomes its port of the
 * set; in, the reverse. @sum_off is the checksum covering it, @flags
 * those of bpf_l4_csum_replace().
 */
static __always_inline void swap_skb(struct __sk_buff *skb, __u32 off,
				     __u32 sum_off, __u64 flags, int dir)
{
	struct br_nat_port *e;
	__u16 port, to;

	if (bpf_skb_load_bytes(skb, off, &port, sizeof(port)))
		return;
	e = nat_port(port);
	to = !e ? 0 : dir == NAPT_OUT ? e->real : e->nat;
	if (!to)
		return;
	bpf_l4_csum_replace(skb, sum_off, port, to, flags | sizeof(to));
	bpf_skb_store_bytes(skb, off, &to, sizeof(to), 0);
}

/*
 * ICMP: an echo request from the CE (out) or the reply to one (in); an
 * error quoting a packet sent to the CE (out: its destination port) or
 * sent by it (in: its source port, or its echo request's identifier).
 */
static __always_inline void swap_skb_icmp(struct __sk_buff *skb, __u32 l4,
					  int dir)
{
	__u32 sum = l4 + offsetof(struct icmp4hdr, checksum);
	__u32 qp = l4 + sizeof(struct icmp4hdr) + sizeof(struct iphdr);
	struct icmp4hdr icmp, qicmp;
	struct iphdr q;

	if (bpf_skb_load_bytes(skb, l4, &icmp, sizeof(icmp)))
		return;
	if (icmp.type == (dir == NAPT_OUT ? ICMP4_ECHO : ICMP4_ECHOREPLY)) {
		swap_skb(skb, l4 + offsetof(struct icmp4hdr, id), sum, 0, dir);
		return;
	}
	if (!icmp4_is_error(icmp.type) ||
	    bpf_skb_load_bytes(skb, l4 + sizeof(icmp), &q, sizeof(q)) ||
	    q.ihl != 5)
		return;
	if (q.protocol == IPPROTO_TCP || q.protocol == IPPROTO_UDP)
		swap_skb(skb, qp + (dir == NAPT_OUT ? 2 : 0), sum, 0, dir);
	else if (dir == NAPT_IN && q.protocol == IPPROTO_ICMP &&
		 !bpf_skb_load_bytes(skb, qp, &qicmp, sizeof(qicmp)) &&
		 qicmp.type == ICMP4_ECHO)
		swap_skb(skb, qp + offsetof(struct icmp4hdr, id), sum, 0, dir);
}

/*
 * The IPv4 packet at ETH_HLEN: out, from the CE (@t's ce_ipv4) about to
 * be wrapped into @t, its stand-in becomes the port of the set the BR
 * routes back by; in, to the CE, the reverse (the port the other end
 * sees is in the set: checked before). Every packet pointer is stale
 * afterwards.
 */
static __always_inline void napt_skb(struct __sk_buff *skb,
				     const struct br_tun *t, int dir)
{
	struct iphdr ip;
	__u32 l4, ce;

	if (!napt_swaps(t) ||
	    bpf_skb_load_bytes(skb, ETH_HLEN, &ip, sizeof(ip)))
		return;
	ce = dir == NAPT_OUT ? ip.saddr : ip.daddr;
	if (ce != t->ce_ipv4 || ip.ihl < 5 ||
	    (ip.frag_off & bpf_htons(IP4_FRAG_OFFSET)))
		return;
	l4 = ETH_HLEN + ip.ihl * 4;
	switch (ip.protocol) {
	case IPPROTO_TCP: /* the CE's port: source out, destination in; checksum at 16 */
		swap_skb(skb, l4 + (dir == NAPT_OUT ? 0 : 2), l4 + 16, 0, dir);
		break;
	case IPPROTO_UDP: /* checksum at 6; 0 is none and stays none */
		swap_skb(skb, l4 + (dir == NAPT_OUT ? 0 : 2), l4 + 6,
			 BPF_F_MARK_MANGLED_0, dir);
		break;
	case IPPROTO_ICMP:
		swap_skb_icmp(skb, l4, dir);
		break;
	}
}

#endif /* BR_TUN_NAPT_H */
