// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * XDP ingress, attached to both ports. IPv6 (and configured ethertypes)
 * is bridged: unicast redirected to the other port, multicast passed up
 * with a request for tc to copy it across, both through the IPv6
 * firewall. Everything else, and anything for the brouter's own MAC,
 * goes to the kernel.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "clock.h"
#include "parse.h"
#include "port.h"
#include "stats.h"
#include "fdb.h"
#include "meta.h"
#include "fw6.h"
#include "droplog.h"
#include "tun4in6.h"

/*
 * Redirect targets: key enum br_port, value ifindex. Not pinned by name:
 * the kernel adds BPF_F_RDONLY_PROG to every devmap, which libbpf 1.1
 * then sees as a mismatch and refuses to reuse. It holds no state, so
 * brouterd creates it afresh and pins it itself for inspection.
 */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, BR_NPORTS);
	__type(key, __u32);
	__type(value, __u32);
} tx_ports SEC(".maps");

/* Who pinned the maps, for brouterd and brouterctl only (see struct br_info). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct br_info);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} info SEC(".maps");

/* What a decision asks the single exit to do. */
struct verdict {
	int action;	/* XDP_* */
	__u32 stat;	/* enum br_stat_id of the verdict or drop reason */
	__u8 meta;	/* BR_META_* to hand to tc, 0 = none */
	__u8 flow_new;	/* the firewall opened a flow */
	__u8 decap;	/* strip the outer IPv6 header of tunnel traffic */
};

static __always_inline void decide(struct verdict *v, int action, __u32 stat,
				   __u8 meta)
{
	v->action = action;
	v->stat = stat;
	v->meta = meta;
}

/*
 * Layer-2 part of bridging, shared by IPv6 and bridged ethertypes: refuse
 * impossible sources, learn, and keep traffic between stations on the same
 * port local. Returns 0 when the frame may cross, or a drop reason.
 */
static __always_inline __u32 l2_admit(struct ethhdr *eth,
				      const struct br_settings *s, __u32 port,
				      __u64 now)
{
	struct fdb_cache *c;

	if (mac_is_group(eth->h_source))
		return BR_STAT_DROP_SRC_MCAST;
	if (mac_is_own(s, eth->h_source))
		return BR_STAT_DROP_OWN_SRC;
	c = fdb_cache(); /* once for both MACs */
	fdb_learn(c, eth->h_source, port, now);
	if (!mac_is_group(eth->h_dest) &&
	    fdb_port(c, eth->h_dest, now) == (int)port)
		return BR_STAT_DROP_SAME_PORT;
	return 0;
}

static __always_inline void bridge_other(struct verdict *v, struct ethhdr *eth,
					 const struct br_settings *s, __u32 port)
{
	__u32 drop = l2_admit(eth, s, port, now_ns());

	if (drop)
		decide(v, XDP_DROP, drop, 0);
	else if (mac_is_group(eth->h_dest))
		decide(v, XDP_PASS, BR_STAT_FLOOD, BR_META_CLONE);
	else
		decide(v, XDP_REDIRECT, BR_STAT_BRIDGED, 0);
}

/*
 * The firewall runs in two global (non-static) functions. The verifier
 * checks a global function once, on its own, instead of once per path
 * through its caller: the bounded extension-header walk multiplies paths,
 * and with the firewall inlined after it the program exceeds the
 * verifier's budget. So fw_parse() copies what the firewall needs out of
 * the packet into a struct fw_pkt, and fw_decide() works on that struct
 * alone; neither takes a packet pointer.
 */

/* The packet an ICMPv6 error quotes, from the cursor at the ICMPv6 header. */
static __always_inline void parse_quoted(struct cursor *c, struct fw_pkt *fp)
{
	struct cursor q = { .pos = c->pos + sizeof(struct icmp6hdr), .end = c->end };
	struct ipv6hdr *qip6 = parse_ip6(&q);

	if (!qip6)
		return;
	fp->q = (struct pkt){};
	addr_copy(fp->q_saddr.s6_addr, &qip6->saddr);
	addr_copy(fp->q_daddr.s6_addr, &qip6->daddr);
	fp->q_valid = !parse_l3l4(&q, qip6->nexthdr, &fp->q);
}

__attribute__((noinline)) int fw_parse(struct xdp_md *ctx, struct fw_pkt *fp)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ipv6hdr *ip6;
	struct cursor c;
	int err;

	if (!fp)
		return -BR_STAT_DROP_BAD_IP6;
	cursor_init(&c, data + sizeof(struct ethhdr), data_end);
	ip6 = parse_ip6(&c);
	if (!ip6)
		return -BR_STAT_DROP_BAD_IP6;
	/*
	 * The caller does not zero *fp (a 100-byte memset per packet): what
	 * is read without being parsed is cleared here. parse_l3l4() sets
	 * only the fields its protocol has.
	 */
	fp->l = (struct pkt){};
	fp->q_valid = 0;
	__builtin_memcpy(fp->smac, ((struct ethhdr *)data)->h_source, ETH_ALEN);
	__builtin_memcpy(fp->dmac, ((struct ethhdr *)data)->h_dest, ETH_ALEN);
	addr_copy(fp->saddr.s6_addr, &ip6->saddr);
	addr_copy(fp->daddr.s6_addr, &ip6->daddr);
	fp->hop_limit = ip6->hop_limit;
	err = parse_l3l4(&c, ip6->nexthdr, &fp->l);
	if (err)
		return err;
	if (fp->l.proto == IPPROTO_ICMPV6 && fp->l.icmp_type < ICMPV6_ECHO_REQUEST)
		parse_quoted(&c, fp);
	return 0;
}

/*
 * @gen is the full settings.gen: the flow cache compares all of it, the
 * policy maps are indexed by its low bit.
 */
__attribute__((noinline)) int fw_decide(struct fw_pkt *fp,
					const struct br_policy *pol, __u32 gen,
					__u32 port, __u64 now)
{
	struct fc_ref k;
	struct fc_set *e = NULL;
	struct fc_note n = {};
	int r;

	if (!fp || !pol)
		return -BR_STAT_DROP_BAD_IP6;
	/* both ways, before the cache: its entries know nothing of ULA policy */
	r = fw_addr_check(fp, pol);
	if (r) {
		if (port == BR_PORT_WAN && fp->mcast)
			return FW_LOCAL_ONLY;
		goto out;
	}
	if (fc_eligible(fp, pol)) {
		fc_ref_set(&k, fp, port);
		e = fc_set_of(&k);
		if (e && !fp->fc_probed &&
		    fc_hit(e, &k, fp->smac, fp->dmac, port, gen, now))
			return FW_PASS;
	}
	if (port == BR_PORT_LAN)
		r = fw_outbound(fp, pol, now, fp->mcast, &n);
	else
		r = fw_inbound(fp, pol, gen & 1, now, fp->mcast, &n);
	if (e && n.hit)
		fc_fill(e, &k, &n, gen, fp->smac, fp->dmac, port);
out:
	if (r < 0 && port == BR_PORT_WAN && (pol->flags & BR_PF_LOG_DROPS))
		drop_log_emit(fp, port, -r, pol->log_rate, now);
	return r;
}

/*
 * Firewall verdict for an IPv6 packet crossing from @port. @probed: the
 * fast path looked the packet's flow up in the cache and missed.
 */
static __always_inline int firewall(struct xdp_md *ctx,
				    const struct br_settings *s, __u32 port,
				    int mcast, __u64 now, int probed)
{
	__u32 gen = s->gen;
	const struct br_policy *pol = &s->pol[gen & 1];
	struct fw_pkt fp; /* fw_parse() clears what it does not fill */
	int r;

	if (!pol->lan_ipv6)
		return mcast ? FW_LOCAL_ONLY : -BR_STAT_DROP_LAN_IPV6_OFF;
	if (pol->mode == BR_FW_OPEN)
		return FW_PASS;
	r = fw_parse(ctx, &fp);
	if (r)
		return mcast ? FW_LOCAL_ONLY : r;
	fp.mcast = mcast;
	fp.fc_probed = probed;
	return fw_decide(&fp, pol, gen, port, now);
}

/*
 * The fast path: established TCP and UDP unicast, decided by the flow
 * cache alone, first thing for an IPv6 frame. Its entry holds both
 * stations' MACs as the slow path saw them cross, so it stands in for
 * the FDB as well (flowcache.h), and for the MAC checks the slow path
 * makes: an entry is only filled after the source passed l2_admit() and
 * the destination was no own MAC, under the same settings.gen, which
 * brouterd increments when a port's MAC changes. Only stateful policies
 * fill the cache: others skip the probe. Returns FC_PASS, FC_MISSED
 * (probed, no hit) or FC_NOT_TAKEN. A function of its own so that its
 * key's stack slot is free again for the slow path.
 */
enum { FC_NOT_TAKEN, FC_MISSED, FC_PASS };

static __always_inline int fast_path(struct xdp_md *ctx, struct ethhdr *eth,
				     struct ipv6hdr *ip6,
				     const struct br_settings *s, __u32 port,
				     __u64 now)
{
	__u32 gen = s->gen;
	struct fc_set *e;
	struct fc_ref k;

	if (s->pol[gen & 1].mode != BR_FW_STATEFUL ||
	    !fc_ref_pkt(&k, ip6, (void *)(long)ctx->data_end, port))
		return FC_NOT_TAKEN;
	e = fc_set_of(&k);
	if (!e)
		return FC_NOT_TAKEN;
	return fc_hit(e, &k, eth->h_source, eth->h_dest, port, gen, now) ?
		       FC_PASS : FC_MISSED;
}

/* IPv6 to bridge that the fast path did not pass; @fc: what it said. */
static __always_inline void bridge_ip6(struct xdp_md *ctx, struct verdict *v,
				       struct ethhdr *eth,
				       const struct br_settings *s, __u32 port,
				       __u64 now, int fc)
{
	int mcast = mac_is_group(eth->h_dest);
	__u32 drop = l2_admit(eth, s, port, now);
	int r;

	if (drop)
		return decide(v, XDP_DROP, drop, 0);
	r = firewall(ctx, s, port, mcast, now, fc == FC_MISSED);
	if (r < 0)
		return decide(v, XDP_DROP, -r, 0);
	if (r == FW_LOCAL_ONLY)
		return decide(v, XDP_PASS, BR_STAT_FLOOD_LOCAL, BR_META_MARK);
	v->flow_new = r == FW_PASS_NEW;
	if (mcast)
		return decide(v, XDP_PASS, BR_STAT_FLOOD,
			      BR_META_MARK | BR_META_CLONE);
	decide(v, XDP_REDIRECT, BR_STAT_BRIDGED, 0);
}

/* IPv6 for the brouter itself: the stack, unless it is tunnel traffic. */
static __always_inline void local_ip6(struct verdict *v, struct cursor *c,
				      struct ipv6hdr *ip6, __u32 port)
{
	int r;

	decide(v, XDP_PASS, BR_STAT_LOCAL, BR_META_MARK);
	if (port != BR_PORT_WAN)
		return;
	r = tun_check_in(c, ip6);
	if (r < 0)
		decide(v, XDP_DROP, -r, 0);
	else if (r > 0)
		v->decap = 1;
}

SEC("xdp")
int xdp_brouter(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u64 bytes = data_end - data;
	struct verdict v = { XDP_PASS, BR_STAT_PASS, 0, 0, 0 };
	struct ipv6hdr *ip6;
	const struct br_settings *s;
	struct ethhdr *eth;
	struct cursor c;
	__u32 zero = 0;
	int port, fc;
	__u64 now;

	port = port_of(ctx->ingress_ifindex);
	if (port < 0)
		return XDP_PASS;
	/* kept in a register: else clang re-derives it from spilled ifindexes */
	barrier_var(port);
	stat_add(BR_STAT_RX, port, bytes);

	cursor_init(&c, data, data_end);
	s = bpf_map_lookup_elem(&settings, &zero);
	eth = parse_eth(&c);
	if (!s) {
		decide(&v, XDP_PASS, BR_STAT_NO_SETTINGS, 0);
	} else if (!eth) {
		decide(&v, XDP_DROP, BR_STAT_DROP_RUNT, 0);
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		ip6 = parse_ip6(&c);
		/* one clock read per packet, for the FDB and the firewall alike */
		now = now_ns();
		if (!ip6)
			decide(&v, XDP_DROP, BR_STAT_DROP_BAD_IP6, 0);
		else if ((fc = fast_path(ctx, eth, ip6, s, port, now)) == FC_PASS)
			decide(&v, XDP_REDIRECT, BR_STAT_BRIDGED, 0);
		else if (mac_is_own(s, eth->h_dest))
			local_ip6(&v, &c, ip6, port);
		else
			bridge_ip6(ctx, &v, eth, s, port, now, fc);
	} else if (ethertype_bridged(s, eth->h_proto) &&
		   !mac_is_own(s, eth->h_dest)) {
		bridge_other(&v, eth, s, port);
	}

	/* The single exit: redirect or decapsulate, hand over metadata, count. */
	if (v.decap) {
		if (tun_decap(ctx)) {
			decide(&v, XDP_DROP, BR_STAT_DROP_TUN_BAD, 0);
		} else {
			v.meta = 0; /* now IPv4: nothing for tc ingress to mark */
			v.stat = BR_STAT_DECAP;
		}
	}
	if (v.action == XDP_REDIRECT) {
		v.action = bpf_redirect_map(&tx_ports, other_port(port), XDP_DROP);
		if (v.action != XDP_REDIRECT)
			v.stat = BR_STAT_DROP_NO_TX_PORT;
	}
	if (v.meta)
		meta_write(ctx, port, v.meta);
	if (v.action == XDP_DROP)
		stat_add(BR_STAT_DROP, port, bytes);
	if (v.flow_new)
		stat_add(BR_STAT_FLOW_NEW, port, bytes);
	stat_add(v.stat, port, bytes);
	return v.action;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
