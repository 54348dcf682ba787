/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * TCP MSS clamping for the tunnels: a SYN (or SYN-ACK) entering or
 * leaving through a tunnel announces at most the tunnel MTU - 40, so
 * TCP does not depend on PMTU discovery across the ISP. Done where
 * brouter touches those packets anyway (tc egress before encapsulation,
 * XDP after decapsulation): every other packet pays nothing, where an
 * nftables chain ran for each one.
 */
#ifndef BR_TUN_MSS_H
#define BR_TUN_MSS_H

#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "maps.h"
#include "lib/csum.h"

#define TCPOPT_EOL   0
#define TCPOPT_NOP   1
#define TCPOPT_MSS   2
#define TCPOLEN_MSS  4
/* options fill at most 40 bytes, and each takes at least one */
#define TCP_MAX_OPTS 40

/* IPv4 + TCP headers of the bytes IPv4 MSS leaves room for. */
#define MSS_OVERHEAD 40

#define TCP_MAX_HDR 60

/*
 * The offset in the TCP header at @tcp of its MSS option's value (two
 * bytes, within the packet ending at @end), or -1. Offsets, not
 * pointers: the verifier bounds an offset it sees compared.
 */
static __always_inline int mss_option(struct tcphdr *tcp, void *end)
{
	int off = sizeof(*tcp), len = tcp->doff * 4, i;
	__u8 *p;

	for (i = 0; i < TCP_MAX_OPTS && off < len; i++) {
		if (off > TCP_MAX_HDR - 2)
			return -1;
		p = (__u8 *)tcp + off;
		if ((void *)(p + 2) > end || p[0] == TCPOPT_EOL)
			return -1;
		if (p[0] == TCPOPT_NOP) {
			off++;
			continue;
		}
		if (p[0] == TCPOPT_MSS)
			return p[1] == TCPOLEN_MSS && off + TCPOLEN_MSS <= len
				       ? off + 2
				       : -1;
		if (p[1] < 2)
			return -1;
		off += p[1];
	}
	return -1;
}

/*
 * Lower the MSS value @v (at offset @off of the TCP header) to @mss.
 * Returns 1 with the checksum word that changed, as it was (@from) and
 * is (@to), or 0 if it was low enough. Byte by byte: the option may sit at any offset, and
 * the checksum's words pair its bytes the other way round at an odd one.
 */
static __always_inline int mss_lower(__u8 *v, int off, __u16 mss, __u16 *from,
				     __u16 *to)
{
	__u16 old = v[0] << 8 | v[1];

	if (old <= mss)
		return 0;
	v[0] = mss >> 8;
	v[1] = mss;
	*from = bpf_htons(old);
	*to = bpf_htons(mss);
	if (off & 1) {
		*from = __builtin_bswap16(*from);
		*to = __builtin_bswap16(*to);
	}
	return 1;
}

/* TCP with SYN set, behind an IPv4 header without fragment offset. */
static __always_inline struct tcphdr *syn_of(struct iphdr *ip, void *end)
{
	struct tcphdr *tcp = (void *)ip + ip->ihl * 4;

	if (ip->protocol != IPPROTO_TCP ||
	    (ip->frag_off & bpf_htons(IP4_FRAG_OFFSET)) ||
	    (void *)(tcp + 1) > end || !tcp->syn)
		return NULL;
	return tcp;
}

/*
 * XDP, after decapsulation: clamp a SYN arriving through a tunnel to the
 * MSS of the tunnel its source is routed back through. Returns 1 when
 * it lowered the MSS.
 */
static __always_inline int tun_clamp_in(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data,
	     *end = (void *)(long)ctx->data_end;
	struct br_tun_out_key k = { .prefixlen = 32 };
	struct iphdr *ip = data + sizeof(struct ethhdr);
	struct tcphdr *tcp;
	struct br_tun *t;
	__u16 from, to;
	int off;
	__u8 *v;

	if ((void *)(ip + 1) > end || !(tcp = syn_of(ip, end)))
		return 0;
	k.addr = ip->saddr;
	t = bpf_map_lookup_elem(&tun_out, &k);
	if (!t || t->mtu <= MSS_OVERHEAD || (off = mss_option(tcp, end)) < 0)
		return 0;
	v = (__u8 *)tcp + off;
	if ((void *)(v + 2) > end ||
	    !mss_lower(v, off, t->mtu - MSS_OVERHEAD, &from, &to))
		return 0;
	tcp->check = csum_replace16(tcp->check, from, to);
	return 1;
}

/* The most of a SYN tc egress pulls into the linear area to read it. */
#define MSS_PULL (sizeof(struct ethhdr) + 60 + TCP_MAX_HDR)

/* A TCP header (with options) outside the linear area: pull it in. */
static __always_inline void tcp_pull(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data,
	     *end = (void *)(long)skb->data_end;
	struct iphdr *ip = data + sizeof(struct ethhdr);
	struct tcphdr *tcp;

	if ((void *)(ip + 1) > end || ip->protocol != IPPROTO_TCP)
		return;
	tcp = (void *)ip + ip->ihl * 4;
	if ((void *)(tcp + 1) <= end && (void *)tcp + tcp->doff * 4 <= end)
		return;
	bpf_skb_pull_data(skb, skb->len < MSS_PULL ? skb->len : MSS_PULL);
}

/*
 * tc egress, before encapsulation into @t: the same for a SYN leaving.
 * The checksum by bpf_l4_csum_replace(), which knows an skb whose
 * checksum the device completes. Every packet pointer is stale after.
 */
static __always_inline int tun_clamp_out(struct __sk_buff *skb,
					 const struct br_tun *t)
{
	void *data, *end;
	struct iphdr *ip;
	struct tcphdr *tcp;
	__u16 from, to;
	int off;
	__u8 *v;

	if (t->mtu <= MSS_OVERHEAD)
		return 0;
	tcp_pull(skb);
	/* pull_data may have moved the data: derive every pointer anew */
	data = (void *)(long)skb->data;
	end = (void *)(long)skb->data_end;
	ip = data + sizeof(struct ethhdr);
	if ((void *)(ip + 1) > end || !(tcp = syn_of(ip, end)) ||
	    (off = mss_option(tcp, end)) < 0)
		return 0;
	v = (__u8 *)tcp + off;
	if ((void *)(v + 2) > end ||
	    !mss_lower(v, off, t->mtu - MSS_OVERHEAD, &from, &to))
		return 0;
	bpf_l4_csum_replace(skb,
			    sizeof(struct ethhdr) + ip->ihl * 4 +
				    offsetof(struct tcphdr, check),
			    from, to, sizeof(__u16));
	return 1;
}

#endif /* BR_TUN_MSS_H */
