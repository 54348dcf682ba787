/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * tc egress's part of the IPv4 fast path: what the kernel forwards out
 * of a port, it has accepted (routing, the whole ruleset, NAT) under the
 * rules in force now. For a flow direction the XDP fast path is waiting
 * to take over ("fp4_fwd" entry), stamp that record with the current
 * generation and port. Only XDP creates records, and only for flows
 * conntrack saw replied to: the packets of a connection not yet answered
 * (conntrack's IP_CT_NEW, on the skb), and those it was told not to
 * track, skip even the lookup, so setting up connections costs the
 * kernel path no hash table miss here.
 */
#ifndef BR_FP4_FWD_H
#define BR_FP4_FWD_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "maps.h"
#include "lib/port.h"

/* The skb behind the context, for conntrack's word on it (CO-RE, as fp4/ct.h). */
struct sk_buff___fp4 {
	unsigned long _nfct; /* the nf_conn, ctinfo in the low 3 bits */
} __attribute__((preserve_access_index));

extern void *bpf_cast_to_kern_ctx(void *obj) __ksym;

#define FP4_NFCT_INFO 7UL
/* the kernel's IP_CT_UNTRACKED (since 4.12), absent from the UAPI header */
#define FP4_CT_UNTRACKED 7UL

/*
 * Nothing to record for @skb: conntrack was told to skip it (notrack:
 * the fast path's own first packets, fp4/fp4.h), or its entry has not
 * been replied to yet.
 */
static __always_inline int fp4_ct_unsettled(struct __sk_buff *skb)
{
	struct sk_buff___fp4 *k = bpf_cast_to_kern_ctx(skb);
	unsigned long nfct = k->_nfct;

	if (!(nfct & ~FP4_NFCT_INFO))
		return nfct == FP4_CT_UNTRACKED;
	return (nfct & FP4_NFCT_INFO) == IP_CT_NEW;
}

/* The NATed IPv4 TCP/UDP packet @skb leaves @port with, forwarded from the other port. */
static __always_inline void fp4_note_forwarded(struct __sk_buff *skb,
					       const struct br_settings *s,
					       __u32 port)
{
	void *data = (void *)(long)skb->data,
	     *end = (void *)(long)skb->data_end;
	struct iphdr *ip = data + sizeof(struct ethhdr);
	struct br_fp4_key k = {};
	struct br_fp4_fwd *f;
	__u32 *ports;

	if (!(s->fp4.flags & BR_FP4_ON) ||
	    skb->ingress_ifindex != consts.ifindex[other_port(port)])
		return;
	ports = (void *)(ip + 1);
	if (fp4_ct_unsettled(skb))
		return;
	if ((void *)(ports + 1) > end || ip->ihl != 5 ||
	    (ip->frag_off & bpf_htons(IP4_FRAG_OFFSET)) ||
	    (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP))
		return;
	k.saddr = ip->saddr;
	k.daddr = ip->daddr;
	*(__u32 *)&k.sport = *ports;
	k.proto = ip->protocol;
	f = bpf_map_lookup_elem(&fp4_fwd, &k);
	if (f && (f->gen != s->fp4.gen || f->port != port)) {
		f->port = port;
		f->gen = s->fp4.gen;
	}
}

#endif /* BR_FP4_FWD_H */
