/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Header parsing with a cursor. Every parse_*() checks the header fits
 * before data_end and returns it (advancing the cursor), or NULL / a
 * negative drop reason.
 */
#ifndef BR_PARSE_H
#define BR_PARSE_H

#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/icmpv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "brouter/abi.h"

/*
 * Extension headers walked before giving up (RFC 7045 leaves the bound
 * to the implementation; real traffic carries at most two or three).
 */
#define BR_MAX_EXTHDRS 8

/* IPv4 frag_off (host order): the fragment offset; with MF, any fragment. */
#define IP4_FRAG_OFFSET 0x1fff
#define IP4_FRAG_ANY	0x3fff

/*
 * @end is the frame's end, what the verifier checks every access against;
 * @lim the packet's own end, which the IPv6 payload length may put
 * before it (ip6_trim()): what lies between is Ethernet padding or a
 * trailer, not headers to walk.
 */
struct cursor {
	void *pos;
	void *end;
	void *lim;
};

static __always_inline void cursor_init(struct cursor *c, void *data,
					void *data_end)
{
	c->pos = data;
	c->end = data_end;
	c->lim = data_end;
}

/* Do @n bytes at @p lie within the frame and within the packet? */
static __always_inline int cursor_fits(const struct cursor *c, const void *p,
				       __u32 n)
{
	return p + n <= c->end && p + n <= c->lim;
}

static __always_inline struct ethhdr *parse_eth(struct cursor *c)
{
	struct ethhdr *eth = c->pos;

	if ((void *)(eth + 1) > c->end)
		return NULL;
	c->pos = eth + 1;
	return eth;
}

/* IEEE 802.1Q (C-tag) and 802.1ad (S-tag): what brouter parses. */
#define ETH_P_8021Q_BR	 0x8100
#define ETH_P_8021AD_BR	 0x88a8
/* An S-tag and a C-tag (802.1ad, "Q-in-Q"); more is not looked into. */
#define BR_MAX_VLAN_TAGS 2

struct vlan_tag {
	__be16 tci;
	__be16 proto; /* the next ethertype */
};

static __always_inline int ethertype_is_vlan(__be16 proto)
{
	return proto == bpf_htons(ETH_P_8021Q_BR) ||
	       proto == bpf_htons(ETH_P_8021AD_BR);
}

/*
 * Walk up to BR_MAX_VLAN_TAGS tags from the cursor, @proto holding the
 * first tag's ethertype; leaves @proto the ethertype behind them (still a
 * tag's with more than two). Returns the tags walked, or -1 when the frame
 * ends inside one.
 */
static __always_inline int parse_vlans(struct cursor *c, __be16 *proto)
{
	struct vlan_tag *t;
	int i;

	for (i = 0; i < BR_MAX_VLAN_TAGS; i++) {
		if (!ethertype_is_vlan(*proto))
			return i;
		t = c->pos;
		if ((void *)(t + 1) > c->end)
			return -1;
		*proto = t->proto;
		c->pos = t + 1;
	}
	return i;
}

static __always_inline struct ipv6hdr *parse_ip6(struct cursor *c)
{
	struct ipv6hdr *ip6 = c->pos;

	if ((void *)(ip6 + 1) > c->end)
		return NULL;
	if (ip6->version != 6)
		return NULL;
	c->pos = ip6 + 1;
	return ip6;
}

/*
 * Bound the cursor to the IPv6 packet at @ip6 by its payload length.
 * Returns 0, or -BR_STAT_DROP_TRUNC when that length runs past the frame:
 * a truncated packet, which must not cross whatever its headers claim. A
 * frame longer than the packet (Ethernet pads frames to 60 bytes) is
 * normal and passes untouched.
 */
static __always_inline void *ip6_end(const struct ipv6hdr *ip6)
{
	return (void *)(ip6 + 1) + bpf_ntohs(ip6->payload_len);
}

static __always_inline int ip6_trim(struct cursor *c, struct ipv6hdr *ip6)
{
	void *lim = ip6_end(ip6);

	if (lim > c->end)
		return -BR_STAT_DROP_TRUNC;
	c->lim = lim;
	return 0;
}

enum br_frag {
	BR_FRAG_NONE = 0,
	BR_FRAG_FIRST,	  /* offset 0, more fragments follow */
	BR_FRAG_NONFIRST, /* offset > 0: no upper-layer header here */
};

/* Upper layer of an IPv6 packet, filled by parse_l3l4(). */
struct pkt {
	__u8 proto;	/* upper-layer protocol after the extension headers */
	__u8 frag;	/* enum br_frag */
	__u8 tcp_flags; /* TCP: the flags byte (FIN 0x01 SYN 0x02 RST 0x04 ACK 0x10) */
	__u8 icmp_type;
	__u8 icmp_code;
	__u8 pad[3];
	__u16 sport;	/* network order; ICMPv6 echo: identifier */
	__u16 dport;	/* network order */
	__u32 frag_id;	/* network order */
};

/*
 * Everything the firewall decides on, copied out of the packet so the
 * decision runs on plain memory (verified once, see xdp_brouter.bpf.c).
 * For ICMPv6 errors, q* describe the packet the error quotes.
 */
struct fw_pkt {
	struct in6_addr saddr;
	struct in6_addr daddr;
	struct pkt l;
	struct in6_addr q_saddr;
	struct in6_addr q_daddr;
	struct pkt q;
	__u8 smac[ETH_ALEN];
	__u8 dmac[ETH_ALEN];
	__u8 hop_limit;
	__u8 q_valid;	/* the quoted packet parsed completely */
	__u8 mcast;	/* destination MAC is a group address */
	__u8 fc_probed; /* the fast path missed the flow cache already */
	__u8 pad[4];
} __attribute__((aligned(8))); /* flowcache.h reads the addresses 8 at a time */

#define TCPF_FIN 0x01
#define TCPF_SYN 0x02
#define TCPF_RST 0x04
#define TCPF_ACK 0x10

struct frag_hdr6 {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off; /* offset << 3 | M */
	__be32 id;
};

/*
 * Walk the extension-header chain (bounded). Returns 0 with p->proto set
 * and the cursor on the upper-layer header, or a negative BR_STAT_DROP_*
 * reason: RH0 with segments left (RFC 5095), a chain longer than the bound,
 * or a header running past the packet (its payload length, not the frame).
 * Only hop-by-hop, routing, fragment and destination options are walked
 * past. Every other next header ends the walk and is the protocol flows
 * and pinholes are keyed by: AH and ESP (RFC 6092 REC-21..25 filter IPsec
 * as such), and the headers RFC 7045 lists besides, Mobility (135), HIP
 * (139) and Shim6 (140), which carry no upper layer of their own in
 * practice (next header 59) and are matched by addresses and protocol
 * like ESP; what follows any of them is not looked into. brouterd's
 * pinhole config refuses the walked headers and accepts these.
 */
static __always_inline int parse_chain(struct cursor *c, __u8 nexthdr,
				       struct pkt *p)
{
	struct ipv6_opt_hdr *h;
	struct frag_hdr6 *fh;
	int i;

	for (i = 0; i < BR_MAX_EXTHDRS; i++) {
		switch (nexthdr) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_DSTOPTS:
		case IPPROTO_ROUTING:
			h = c->pos;
			/* 4 bytes: the routing header's type and segments left too */
			if (!cursor_fits(c, c->pos, 4))
				return -BR_STAT_DROP_BAD_EXTHDR;
			if (nexthdr == IPPROTO_ROUTING && ((__u8 *)h)[2] == 0 &&
			    ((__u8 *)h)[3] != 0)
				return -BR_STAT_DROP_RH0;
			nexthdr = h->nexthdr;
			c->pos += (h->hdrlen + 1) * 8;
			/*
			 * All of it must be there: a header running past the
			 * packet would otherwise end the walk on whatever its
			 * next-header byte claims (No Next Header, ESP, ...).
			 */
			if (!cursor_fits(c, c->pos, 0))
				return -BR_STAT_DROP_BAD_EXTHDR;
			break;
		case IPPROTO_FRAGMENT:
			fh = c->pos;
			if (!cursor_fits(c, fh, sizeof(*fh)))
				return -BR_STAT_DROP_BAD_EXTHDR;
			p->frag_id = fh->id;
			if (fh->frag_off & bpf_htons(0xfff8)) {
				p->frag = BR_FRAG_NONFIRST;
				p->proto = fh->nexthdr;
				return 0;
			}
			/* offset 0 without M is an atomic fragment (RFC 6946): whole */
			if (fh->frag_off & bpf_htons(1))
				p->frag = BR_FRAG_FIRST;
			nexthdr = fh->nexthdr;
			c->pos = fh + 1;
			break;
		default:
			p->proto = nexthdr;
			return 0;
		}
	}
	return -BR_STAT_DROP_BAD_EXTHDR;
}

/*
 * Read the ports (or ICMPv6 type/code/identifier) of the upper layer,
 * leaving the cursor on its header. A first fragment must hold the whole
 * upper-layer header (RFC 7112).
 */
static __always_inline int parse_l4(struct cursor *c, struct pkt *p)
{
	struct icmp6hdr *icmp;
	struct tcphdr *tcp;
	struct udphdr *udp;

	switch (p->proto) {
	case IPPROTO_TCP:
		tcp = c->pos;
		if (!cursor_fits(c, tcp, sizeof(*tcp)))
			goto short_l4;
		p->sport = tcp->source;
		p->dport = tcp->dest;
		p->tcp_flags = ((__u8 *)tcp)[13];
		break;
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
	case IPPROTO_SCTP: /* ports in the same place as UDP's */
		udp = c->pos;
		if (!cursor_fits(c, udp, sizeof(*udp)))
			goto short_l4;
		p->sport = udp->source;
		p->dport = udp->dest;
		break;
	case IPPROTO_ICMPV6:
		icmp = c->pos;
		if (!cursor_fits(c, icmp, sizeof(*icmp)))
			goto short_l4;
		p->icmp_type = icmp->icmp6_type;
		p->icmp_code = icmp->icmp6_code;
		p->sport = icmp->icmp6_dataun.u_echo.identifier;
		break;
	}
	return 0;
short_l4:
	return p->frag == BR_FRAG_FIRST ? -BR_STAT_DROP_FRAG_SHORT :
					  -BR_STAT_DROP_BAD_L4;
}

/* Extension headers and upper layer of the packet at the cursor. */
static __always_inline int parse_l3l4(struct cursor *c, __u8 nexthdr,
				      struct pkt *p)
{
	int err = parse_chain(c, nexthdr, p);

	if (err || p->frag == BR_FRAG_NONFIRST)
		return err;
	return parse_l4(c, p);
}

#endif /* BR_PARSE_H */
