/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Flow table of the stateful firewall: one entry per connection, keyed
 * LAN side first whichever way the packet goes, plus the bindings that
 * endpoint-independent and address-dependent filtering match against.
 */
#ifndef BR_FLOWS_H
#define BR_FLOWS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "maps.h"
#include "lib/clock.h"
#include "lib/addr6.h"
#include "lib/parse.h"

/* A flow's seen_ns is rewritten at most this often (saves a map write). */
#define BR_FLOW_REFRESH_NS 1000000000LL
/* Fragments of one datagram arrive within this (RFC 8200 reassembly: 60 s). */
#define BR_FRAG_TIMEOUT_NS (60 * 1000000000LL)

/*
 * Key of the flow a packet belongs to, LAN side first. @lan/@wan are the
 * addresses, @lport/@wport the ports of the LAN and WAN side.
 */
static __always_inline void flow_key_set(struct br_flow_key *k, __u8 proto,
					 const void *lan, const void *wan,
					 __u16 lport, __u16 wport)
{
	addr_copy(k->lan_addr, lan);
	addr_copy(k->wan_addr, wan);
	k->lan_port = lport;
	k->wan_port = wport;
	k->proto = proto;
	k->kind = BR_FK_FLOW;
	k->pad = 0;
}

/* ICMPv6 echo flows use the identifier as LAN port and no WAN port. */
static __always_inline int proto_has_ports(__u8 proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP ||
	       proto == IPPROTO_UDPLITE || proto == IPPROTO_SCTP;
}

static __always_inline __s64 flow_timeout_ns(const struct br_policy *pol,
					     const struct br_flow_key *k,
					     const struct br_flow *f)
{
	__u32 t;

	switch (f->state) {
	case BR_FS_ESTABLISHED:
		t = pol->timeout[BR_TO_TCP_EST];
		break;
	case BR_FS_CLOSED:
		t = pol->timeout[BR_TO_TCP_CLOSED];
		break;
	case BR_FS_ACTIVE:
		t = k->proto == IPPROTO_UDP || k->proto == IPPROTO_UDPLITE ?
			    pol->timeout[BR_TO_UDP] :
		    k->proto == IPPROTO_ICMPV6 ? pol->timeout[BR_TO_ICMP] :
						 pol->timeout[BR_TO_OTHER];
		break;
	default:
		t = pol->timeout[BR_TO_TCP_TRANS];
	}
	return (__s64)t * 1000000000LL;
}

/* Live flow for @k, or NULL when absent or idle past its timeout. */
static __always_inline struct br_flow *flow_get(const struct br_policy *pol,
						const struct br_flow_key *k,
						__u64 now)
{
	struct br_flow *f = bpf_map_lookup_elem(&flows, k);

	if (!f)
		return NULL;
	if (ns_since(now, f->seen_ns) > flow_timeout_ns(pol, k, f))
		return NULL; /* stale: LRU reclaims it, or a new flow overwrites */
	return f;
}

static __always_inline int flow_add(const struct br_flow_key *k, __u8 state,
				    __u32 opened_by, __u32 rule_id, __u64 now)
{
	struct br_flow f = {
		.seen_ns = now,
		.created_ns = now,
		.state = state,
		.opened_by = opened_by,
		.rule_id = rule_id,
	};

	return bpf_map_update_elem(&flows, k, &f, BPF_ANY);
}

static __always_inline void flow_touch(struct br_flow *f, __u64 now)
{
	if (ns_since(now, f->seen_ns) > BR_FLOW_REFRESH_NS)
		f->seen_ns = now;
}

/*
 * TCP state from a packet of an existing flow arriving on @port. No
 * sequence tracking: the state only picks the idle timeout (RFC 6092
 * REC-31: >= 2 h 4 min established, >= 4 min while opening or closing).
 */
static __always_inline void tcp_track(struct br_flow *f, __u8 flags, __u32 port,
				      __u64 now)
{
	__u8 st = f->state;

	if (flags & TCPF_RST) {
		st = BR_FS_CLOSED;
	} else if (flags & TCPF_FIN) {
		f->fin_seen |= 1 << port;
		st = f->fin_seen == 3 ? BR_FS_CLOSING : BR_FS_FIN_WAIT;
	} else if ((flags & (TCPF_SYN | TCPF_ACK)) == (TCPF_SYN | TCPF_ACK)) {
		/* the answer to the opener's SYN, from the other side */
		if ((st == BR_FS_SYN_SENT && port == BR_PORT_WAN) ||
		    (st == BR_FS_SYN_RECV && port == BR_PORT_LAN))
			st = BR_FS_ESTABLISHED;
	} else if ((flags & TCPF_SYN) && st >= BR_FS_FIN_WAIT) {
		/* a new connection reusing the ports of a closed one */
		st = port == BR_PORT_LAN ? BR_FS_SYN_SENT : st;
		f->fin_seen = 0;
	}
	if (st != f->state) {
		f->state = st;
		f->seen_ns = now;
		return;
	}
	flow_touch(f, now);
}

/* Bindings an outbound UDP-like packet refreshes for EI/AD filtering. */
static __always_inline void binding_refresh(struct br_flow_key *k, __u8 kind,
					    __u64 now)
{
	struct br_flow_key b = *k;
	struct br_flow *f;

	b.kind = kind;
	b.wan_port = 0;
	if (kind == BR_FK_BIND_EI)
		__builtin_memset(b.wan_addr, 0, 16);
	f = bpf_map_lookup_elem(&flows, &b);
	if (f)
		flow_touch(f, now);
	else
		flow_add(&b, BR_FS_ACTIVE, BR_PORT_LAN, 0, now);
}

/* Does an inbound packet match a binding under @filtering? */
static __always_inline int binding_match(const struct br_policy *pol,
					 const struct br_flow_key *k, __u64 now)
{
	struct br_flow_key b = *k;

	if (pol->filtering == BR_FILT_APD)
		return 0;
	b.kind = pol->filtering == BR_FILT_EI ? BR_FK_BIND_EI : BR_FK_BIND_AD;
	b.wan_port = 0;
	if (b.kind == BR_FK_BIND_EI)
		__builtin_memset(b.wan_addr, 0, 16);
	return flow_get(pol, &b, now) != NULL;
}

static __always_inline void frag_key_set(struct br_frag_key *fk,
					 const struct fw_pkt *fp, __u32 id)
{
	addr_copy(fk->src, &fp->saddr);
	addr_copy(fk->dst, &fp->daddr);
	fk->id = id;
}

/* Remember that the first fragment of @fp's datagram was let in. */
static __always_inline void frag_allow(const struct fw_pkt *fp, __u32 id,
				       __u64 now)
{
	struct br_frag_val v = { .seen_ns = now };
	struct br_frag_key fk;

	frag_key_set(&fk, fp, id);
	bpf_map_update_elem(&frags, &fk, &v, BPF_ANY);
}

static __always_inline int frag_allowed(const struct fw_pkt *fp, __u32 id,
					__u64 now)
{
	struct br_frag_key fk;
	struct br_frag_val *v;

	frag_key_set(&fk, fp, id);
	v = bpf_map_lookup_elem(&frags, &fk);
	return v && ns_since(now, v->seen_ns) < BR_FRAG_TIMEOUT_NS;
}

#endif /* BR_FLOWS_H */
