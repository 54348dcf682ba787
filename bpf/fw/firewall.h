/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The IPv6 firewall between LAN and WAN (RFC 6092 "simple security",
 * RFC 4890 for ICMPv6). fw_outbound() and fw_inbound() return FW_PASS,
 * FW_PASS_NEW (a flow was opened), FW_LOCAL_ONLY (multicast for the
 * brouter's stack only) or a negative BR_STAT_DROP_* reason, and fill
 * their struct fc_note when an open flow passed the packet, for the
 * flow cache (flowcache.h). Their caller has run fw_addr_check().
 */
#ifndef BR_FW6_H
#define BR_FW6_H

#include <linux/bpf.h>
#include <linux/in6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "maps.h"
#include "lib/addr6.h"
#include "lib/parse.h"
#include "fw/flows.h"
#include "fw/flowcache.h"
#include "fw/pinhole.h"
#include "lib/rate.h"

enum {
	FW_PASS = 0,
	FW_PASS_NEW = 1,
	FW_LOCAL_ONLY = 2,
};

#define DHCP6_SERVER_PORT 547
#define DHCP6_CLIENT_PORT 546
#define IKE_PORT 500
#define IKE_NATT_PORT 4500

/* Router/Neighbor Solicitation/Advertisement and Redirect (RFC 4861) */
#define BR_ND_FIRST 133
#define BR_ND_LAST 137

/* RFC 6092 REC-1/REC-3 (forbidden addresses) and REC-7 (ULA), both ways. */
static __always_inline int fw_addr_check(const struct fw_pkt *fp,
					 const struct br_policy *pol)
{
	const struct pkt *p = &fp->l;
	const struct in6_addr *src = &fp->saddr, *dst = &fp->daddr;

	if (a6_mcast(src) || a6_loopback(src) || a6_v4mapped(src))
		return -BR_STAT_DROP_BAD_SRC;
	/* :: is only a source for DAD and MLD, sent to multicast */
	if (a6_unspec(src) && !(p->proto == IPPROTO_ICMPV6 && a6_mcast(dst)))
		return -BR_STAT_DROP_BAD_SRC;
	if (a6_unspec(dst) || a6_loopback(dst) || a6_v4mapped(dst))
		return -BR_STAT_DROP_BAD_DST;
	if (!(pol->flags & BR_PF_ULA) && (a6_ula(src) || a6_ula(dst)))
		return -BR_STAT_DROP_ULA;
	return 0;
}

static __always_inline void lan_addr_learn(const struct in6_addr *src,
					   __u64 now)
{
	struct br_addr_val v = { .seen_ns = now };

	if (!a6_unspec(src))
		bpf_map_update_elem(&lan_addrs, src, &v, BPF_ANY);
}

static __always_inline int lan_addr_known(const struct in6_addr *src)
{
	return bpf_map_lookup_elem(&lan_addrs, src) != NULL;
}

/*
 * Remember @src as living on the LAN (REC-6 then refuses it inbound).
 * Probing first spares a table update per packet: a known address is
 * refreshed at most once a second.
 */
static __always_inline void lan_addr_note(const struct in6_addr *src, __u64 now)
{
	struct br_addr_val *v = bpf_map_lookup_elem(&lan_addrs, src);

	if (!v)
		lan_addr_learn(src, now);
	else if (ns_since(now, v->seen_ns) > BR_FLOW_REFRESH_NS)
		v->seen_ns = now;
}

/*
 * RFC 6092 REC-5, by port (LAN and WAN share the /64): an outbound source
 * must be link-local or in a prefix advertised on the WAN or configured.
 * A source that passes is noted as living on the LAN. Returns 0 (FW_PASS)
 * or -BR_STAT_DROP_SPOOF_OUT.
 */
static __always_inline int lan_src_admit(const struct in6_addr *src, __u64 now)
{
	if (!a6_linklocal(src) && !prefix_known(src, now))
		return -BR_STAT_DROP_SPOOF_OUT;
	lan_addr_note(src, now);
	return 0;
}

/* Key of @p's flow: @lan/@wan addresses, ports per direction. */
static __always_inline void pkt_flow_key(struct br_flow_key *k,
					 const struct pkt *p,
					 const struct in6_addr *lan,
					 const struct in6_addr *wan,
					 __u16 lport, __u16 wport)
{
	if (p->proto == IPPROTO_ICMPV6) /* echo: identifier on the LAN side */
		flow_key_set(k, p->proto, lan, wan, p->sport, 0);
	else if (proto_has_ports(p->proto))
		flow_key_set(k, p->proto, lan, wan, lport, wport);
	else
		flow_key_set(k, p->proto, lan, wan, 0, 0);
}

static __always_inline int uses_bindings(const struct br_policy *pol, __u8 proto)
{
	return pol->filtering != BR_FILT_APD && proto != IPPROTO_TCP &&
	       proto_has_ports(proto);
}

/* ------------------------------------------------------------------ */
/* LAN -> WAN                                                          */
/* ------------------------------------------------------------------ */

static __always_inline int fw_outbound(const struct fw_pkt *fp,
				       const struct br_policy *pol, __u64 now,
				       int mcast, struct fc_note *n)
{
	const struct pkt *p = &fp->l;
	struct br_flow_key k;
	struct br_flow *f;
	__u8 state = BR_FS_ACTIVE;
	int err;

	if (mcast) {
		lan_addr_note(&fp->saddr, now);
		return FW_PASS;
	}
	/*
	 * Only echo requests open ICMPv6 state; non-first fragments carry no
	 * ports. What opens no flow still needs a valid source (REC-5).
	 */
	if (p->frag == BR_FRAG_NONFIRST || pol->mode != BR_FW_STATEFUL ||
	    (p->proto == IPPROTO_ICMPV6 && p->icmp_type != ICMPV6_ECHO_REQUEST))
		return lan_src_admit(&fp->saddr, now);

	pkt_flow_key(&k, p, &fp->saddr, &fp->daddr, p->sport, p->dport);
	f = flow_get(pol, &k, now);
	if (f) {
		/* its source passed lan_src_admit() when it opened */
		if (p->proto == IPPROTO_TCP)
			tcp_track(f, p->tcp_flags, BR_PORT_LAN, now);
		else if (ns_since(now, f->seen_ns) > BR_FLOW_REFRESH_NS) {
			f->seen_ns = now;
			if (uses_bindings(pol, p->proto))
				binding_refresh(&k, pol->filtering == BR_FILT_EI ?
					BR_FK_BIND_EI : BR_FK_BIND_AD, now);
		}
		fc_note_flow(n, pol, &k, f, now);
		return FW_PASS;
	}

	err = lan_src_admit(&fp->saddr, now);
	if (err)
		return err;
	/*
	 * No flow towards an address seen on the LAN: its replies from the
	 * WAN are spoofed by definition (REC-6), and with no such flow an
	 * inbound flow hit needs no lan_addrs probe (see fw_in_unicast()).
	 */
	if (lan_addr_known(&fp->daddr))
		return FW_PASS;
	if (p->proto == IPPROTO_TCP) {
		if (p->tcp_flags & (TCPF_RST | TCPF_FIN))
			return FW_PASS; /* closing something we never saw */
		/* mid-stream pickup keeps connections across a restart */
		state = (p->tcp_flags & (TCPF_SYN | TCPF_ACK)) == TCPF_SYN ?
				BR_FS_SYN_SENT : BR_FS_ESTABLISHED;
	}
	flow_add(&k, state, BR_PORT_LAN, 0, now);
	if (uses_bindings(pol, p->proto))
		binding_refresh(&k, pol->filtering == BR_FILT_EI ? BR_FK_BIND_EI :
								 BR_FK_BIND_AD, now);
	return FW_PASS_NEW;
}

/* ------------------------------------------------------------------ */
/* WAN -> LAN                                                          */
/* ------------------------------------------------------------------ */

/* ICMPv6 error: does the packet it quotes belong to an open flow? */
static __always_inline int icmp_related(const struct fw_pkt *fp,
					const struct br_policy *pol, __u64 now)
{
	const struct pkt *q = &fp->q;
	struct br_flow_key k;

	if (!fp->q_valid || q->frag == BR_FRAG_NONFIRST)
		return 0;
	/* The quoted packet went out from the LAN host the error is sent to. */
	if (!a6_eq(&fp->q_saddr, &fp->daddr))
		return 0;
	if (q->proto == IPPROTO_ICMPV6 && q->icmp_type != ICMPV6_ECHO_REQUEST)
		return 0;
	pkt_flow_key(&k, q, &fp->q_saddr, &fp->q_daddr, q->sport, q->dport);
	return flow_get(pol, &k, now) || (uses_bindings(pol, q->proto) &&
					   binding_match(pol, &k, now));
}

/*
 * A DHCPv6 Advertise or Reply answering a message the client multicast to
 * All_DHCP_Relay_Agents_and_Servers: no flow can match it (the request
 * went to ff02::1:2), and it comes back to the address the client sent
 * from, which is link-local (RFC 8415 13.1). A reply to anything else (a
 * client's unicast from a global address) matches the flow its request
 * opened, like any UDP.
 */
static __always_inline int dhcp6_answer(const struct fw_pkt *fp)
{
	const struct pkt *p = &fp->l;

	return p->proto == IPPROTO_UDP &&
	       p->sport == bpf_htons(DHCP6_SERVER_PORT) &&
	       p->dport == bpf_htons(DHCP6_CLIENT_PORT) &&
	       a6_linklocal(&fp->daddr);
}

/* Multicast from the WAN copied to the LAN: what hosts need to get online. */
static __always_inline int mcast_in_ok(const struct fw_pkt *fp,
				       const struct br_policy *pol)
{
	const struct pkt *p = &fp->l;
	if (p->proto == IPPROTO_UDP)
		return p->sport == bpf_htons(DHCP6_SERVER_PORT) &&
		       p->dport == bpf_htons(DHCP6_CLIENT_PORT);
	if (p->proto != IPPROTO_ICMPV6)
		return 0;
	switch (p->icmp_type) {
	case BR_ND_FIRST ... BR_ND_LAST:
		return fp->hop_limit == 255;
	case ICMPV6_MGM_QUERY:
	case ICMPV6_MGM_REPORT:
	case ICMPV6_MGM_REDUCTION:
	case ICMPV6_MLD2_REPORT:
		return a6_linklocal(&fp->saddr);
	case ICMPV6_ECHO_REQUEST:
		return !!(pol->flags & BR_PF_ECHO_IN);
	}
	return 0;
}

/*
 * RFC 4890 4.3.1 lets inbound echo requests in by default; a flood of
 * them is another matter: at most pol->echo_rate a second cross, unicast
 * and multicast together (0: no limit).
 */
static __always_inline int echo_rate_ok(const struct br_policy *pol, __u64 now)
{
	return !pol->echo_rate ||
	       rate_allowed(&echo_window, pol->echo_rate, now);
}

static __always_inline int is_echo_request(const struct pkt *p)
{
	return p->proto == IPPROTO_ICMPV6 &&
	       p->icmp_type == ICMPV6_ECHO_REQUEST;
}

static __always_inline int icmp_in(const struct fw_pkt *fp,
				   const struct br_policy *pol, __u8 gen,
				   __u64 now)
{
	const struct pkt *p = &fp->l;
	struct br_flow_key k;
	__u32 rule;

	switch (p->icmp_type) {
	case ICMPV6_DEST_UNREACH:
	case ICMPV6_PKT_TOOBIG:
	case ICMPV6_TIME_EXCEED:
	case ICMPV6_PARAMPROB:
		if (pol->mode != BR_FW_STATEFUL ||
		    icmp_related(fp, pol, now))
			return FW_PASS;
		return -BR_STAT_DROP_ICMP_UNRELATED;
	case ICMPV6_ECHO_REPLY:
		if (pol->mode != BR_FW_STATEFUL)
			return FW_PASS;
		pkt_flow_key(&k, p, &fp->daddr, &fp->saddr, 0, 0);
		return flow_get(pol, &k, now) ? FW_PASS : -BR_STAT_DROP_NO_FLOW;
	case BR_ND_FIRST ... BR_ND_LAST:
		return fp->hop_limit == 255 ? FW_PASS : -BR_STAT_DROP_ND_HOPLIMIT;
	}
	/* MLD; echo below, so that a pinhole's echo spends none of the rate */
	if (!is_echo_request(p) && mcast_in_ok(fp, pol))
		return FW_PASS;
	if (pinhole_match(gen, &fp->daddr, &fp->saddr, IPPROTO_ICMPV6, p->icmp_type, 1, &rule))
		return FW_PASS;
	if (!is_echo_request(p))
		return -BR_STAT_DROP_ICMP_TYPE;
	if (!(pol->flags & BR_PF_ECHO_IN))
		return -BR_STAT_DROP_ECHO_IN;
	return echo_rate_ok(pol, now) ? FW_PASS : -BR_STAT_DROP_ECHO_RATE;
}

/* Inbound with no flow: a pinhole may open one. */
static __always_inline int fw_in_new(const struct fw_pkt *fp,
				     const struct br_flow_key *k, __u8 gen,
				     __u64 now)
{
	const struct pkt *p = &fp->l;
	int syn = (p->tcp_flags & (TCPF_SYN | TCPF_ACK)) == TCPF_SYN;
	int has_port = proto_has_ports(p->proto);
	__u32 rule;

	if (!pinhole_match(gen, &fp->daddr, &fp->saddr, p->proto, bpf_ntohs(p->dport), has_port,
			   &rule)) {
		if (p->proto == IPPROTO_TCP && syn)
			return -BR_STAT_DROP_SYN_IN;
		return -BR_STAT_DROP_NO_FLOW;
	}
	if (p->proto == IPPROTO_TCP && (p->tcp_flags & TCPF_RST))
		return FW_PASS;
	flow_add(k, p->proto != IPPROTO_TCP ? BR_FS_ACTIVE :
		    syn ? BR_FS_SYN_RECV : BR_FS_ESTABLISHED,
		 BR_PORT_WAN, rule, now);
	return FW_PASS_NEW;
}

static __always_inline int fw_in_unicast(const struct fw_pkt *fp,
					 const struct br_policy *pol, __u8 gen,
					 __u64 now, struct fc_note *n)
{
	const struct pkt *p = &fp->l;
	struct br_flow_key k;
	struct br_flow *f;

	pkt_flow_key(&k, p, &fp->daddr, &fp->saddr, p->dport, p->sport);
	if (pol->mode == BR_FW_STATEFUL && p->proto != IPPROTO_ICMPV6) {
		f = flow_get(pol, &k, now);
		if (f) {
			/* UDP and others are refreshed by outbound traffic only (REC-12) */
			if (p->proto == IPPROTO_TCP)
				tcp_track(f, p->tcp_flags, BR_PORT_WAN, now);
			fc_note_flow(n, pol, &k, f, now);
			return FW_PASS;
		}
	}
	/*
	 * REC-6, by port: a source seen on the LAN is refused, whatever the
	 * packet would match next. A flow hit above needs no such probe: no
	 * flow is opened towards (fw_outbound()) or from (pinholes, below)
	 * an address seen on the LAN.
	 */
	if (lan_addr_known(&fp->saddr))
		return -BR_STAT_DROP_SPOOF_IN;
	if (p->proto == IPPROTO_ICMPV6)
		return icmp_in(fp, pol, gen, now);
	if (dhcp6_answer(fp))
		return FW_PASS;
	if ((pol->flags & BR_PF_IPSEC) &&
	    (p->proto == IPPROTO_ESP || p->proto == IPPROTO_AH ||
	     (p->proto == IPPROTO_UDP && (p->dport == bpf_htons(IKE_PORT) ||
					  p->dport == bpf_htons(IKE_NATT_PORT)))))
		return FW_PASS;
	/* the classic recipe: TCP that is not opening a connection */
	if (pol->mode == BR_FW_STATELESS_TCP && p->proto == IPPROTO_TCP &&
	    (p->tcp_flags & (TCPF_SYN | TCPF_ACK)) != TCPF_SYN)
		return FW_PASS;
	if (pol->mode == BR_FW_STATEFUL && uses_bindings(pol, p->proto) &&
	    binding_match(pol, &k, now))
		return FW_PASS;
	return fw_in_new(fp, &k, gen, now);
}

static __always_inline int fw_inbound(const struct fw_pkt *fp,
				      const struct br_policy *pol, __u8 gen,
				      __u64 now, int mcast, struct fc_note *n)
{
	const struct pkt *p = &fp->l;
	int r;

	if (mcast) {
		if (!mcast_in_ok(fp, pol))
			return FW_LOCAL_ONLY;
		if (is_echo_request(p) && !echo_rate_ok(pol, now))
			return -BR_STAT_DROP_ECHO_RATE;
		return FW_PASS;
	}
	if (p->frag == BR_FRAG_NONFIRST)
		return frag_allowed(fp, p->frag_id, now) ? FW_PASS :
							    -BR_STAT_DROP_FRAG_ORPHAN;
	r = fw_in_unicast(fp, pol, gen, now, n);
	if (r >= 0 && p->frag == BR_FRAG_FIRST)
		frag_allow(fp, p->frag_id, now);
	return r;
}

#endif /* BR_FW6_H */
