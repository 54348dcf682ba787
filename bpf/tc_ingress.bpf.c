// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tc ingress (a tcx link, else clsact direct action) on both ports. XDP
 * cannot clone a frame, so multicast that XDP passed up with
 * BR_META_CLONE is copied to the other port here, while the original
 * continues to the local stack (the brouter needs RA/ND for its own
 * address). IPv6 that reaches the stack gets the direction mark for
 * ip6tables/nft (-m mark 0x600/0x601).
 * Fragments of IPv4-in-IPv6 on the WAN are reassembled here (tun/reasm.h).
 * IPv4 the fast path wants conntrack to skip gets the priority brouterd's
 * nftables table notracks (BR_NOTRACK_PRIO).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "lib/port.h"
#include "lib/stats.h"
#include "lib/tc.h"
#include "lib/meta.h"
#include "tun/reasm.h"

SEC("tc")
int tc_brouter_in(struct __sk_buff *skb)
{
	const struct br_settings *s;
	struct br_meta *m;
	__u32 zero = 0;
	__u8 flags;
	int port, act;

	port = port_of(skb->ingress_ifindex);
	if (port < 0)
		return BR_TC_PASS;
	s = bpf_map_lookup_elem(&settings, &zero);
	if (!s)
		return BR_TC_PASS;

	m = meta_read(skb);
	if (m) {
		flags = m->flags;
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		/*
		 * No handover: XDP ran without metadata support, or is not
		 * attached. Mark by arrival port; never copy without an XDP
		 * decision. Reassembly checks the tunnel itself.
		 */
		flags = BR_META_MARK | BR_META_REASM;
		stat_add(BR_STAT_TC_NO_META, port, skb->len);
	} else {
		return BR_TC_PASS;
	}

	if ((flags & BR_META_REASM) && port == BR_PORT_WAN) {
		act = tun_reasm(skb);
		if (act != REASM_NOT_OURS)
			return act;
	}

	/* Copy first, so the copy leaving the other port carries no mark. */
	if (flags & BR_META_CLONE) {
		if (bpf_clone_redirect(skb, consts.ifindex[other_port(port)], 0))
			stat_add(BR_STAT_TC_CLONE_FAIL, port, skb->len);
		else
			stat_add(BR_STAT_TC_CLONED, port, skb->len);
	}
	/* for the raw chain of brouterd's nftables table: notrack */
	if (flags & BR_META_NOTRACK)
		skb->priority = BR_NOTRACK_PRIO;
	if ((flags & BR_META_MARK) && (s->flags & BR_F_MARK)) {
		skb->mark = s->mark[port];
		stat_add(BR_STAT_TC_MARKED, port, skb->len);
	}
	return BR_TC_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
