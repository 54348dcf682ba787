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
#include <xdp/xdp_helpers.h>

#include "lib/clock.h"
#include "lib/parse.h"
#include "lib/port.h"
#include "lib/stats.h"
#include "fw/fdb.h"
#include "lib/meta.h"
#include "fw/decide.h"
#include "tun/decap.h"
#include "tun/mss.h"
#include "fp4/fp4.h"

/* What a decision asks the single exit to do. */
struct verdict {
	int action;	/* XDP_* */
	__u32 stat;	/* enum br_stat_id of the verdict or drop reason */
	__u8 meta;	/* BR_META_* to hand to tc, 0 = none */
	__u8 flow_new;	/* the firewall opened a flow */
	__u8 decap;	/* TUN_DECAP(_NAPT): strip the outer headers */
	__u8 strip;	/* bytes of them (IPv6, options, GRE) */
};

static __always_inline void decide(struct verdict *v, int action, __u32 stat,
				   __u8 meta)
{
	v->action = action;
	v->stat = stat;
	v->meta = meta;
}

/*
 * Layer-2 refusals shared by IPv6 and bridged ethertypes: impossible
 * sources, and traffic between stations on the same port, which stays
 * local. Returns 0 when the frame may go on, or a drop reason. @c: this
 * CPU's FDB cache, looked up once for both MACs.
 */
static __always_inline __u32 l2_admit(struct fdb_cache *c, struct ethhdr *eth,
				      const struct br_settings *s, __u32 port,
				      __u64 now)
{
	if (mac_is_group(eth->h_source))
		return BR_STAT_DROP_SRC_MCAST;
	if (mac_is_own(s, eth->h_source))
		return BR_STAT_DROP_OWN_SRC;
	if (!mac_is_group(eth->h_dest) &&
	    fdb_port(c, eth->h_dest, now) == (int)port)
		return BR_STAT_DROP_SAME_PORT;
	return 0;
}

/*
 * Unicast bridged by the full path, counted here rather than at the
 * single exit so that the fast path's hits cost nothing to count: they
 * are bridged - bridged_slow.
 */
static __always_inline void bridge_slow(struct verdict *v, __u32 port,
					__u64 bytes)
{
	decide(v, XDP_REDIRECT, BR_STAT_BRIDGED, 0);
	stat_add(BR_STAT_BRIDGED_SLOW, port, bytes);
}

/*
 * The FDB learns only from frames that cross: one the firewall drops or
 * keeps to the brouter's stack teaches it nothing, so spoofed frames from
 * the WAN can neither move a LAN station to the WAN (whose LAN-local
 * unicast would then leak there) nor fill the table.
 */
static __always_inline void l2_learn(struct fdb_cache *c, struct ethhdr *eth,
				     __u32 port, __u64 now)
{
	fdb_learn(c, eth->h_source, port, now);
}

static __always_inline void bridge_other(struct verdict *v, struct ethhdr *eth,
					 const struct br_settings *s,
					 __u32 port, __u64 bytes)
{
	struct fdb_cache *c = fdb_cache();
	__u64 now = now_ns();
	__u32 drop = l2_admit(c, eth, s, port, now);

	if (drop)
		return decide(v, XDP_DROP, drop, 0);
	l2_learn(c, eth, port, now);
	if (mac_is_group(eth->h_dest))
		decide(v, XDP_PASS, BR_STAT_FLOOD, BR_META_CLONE);
	else
		bridge_slow(v, port, bytes);
}

/*
 * IPv6 to bridge that the fast path did not pass; @fc: what it said;
 * @tags: VLAN tags in front of it; @bytes: the frame's length.
 */
static __always_inline void bridge_ip6(struct xdp_md *ctx, struct verdict *v,
				       struct ethhdr *eth,
				       const struct br_settings *s, __u32 port,
				       __u64 now, int fc, __u32 tags,
				       __u64 bytes)
{
	int mcast = mac_is_group(eth->h_dest);
	struct fdb_cache *c = fdb_cache();
	__u32 drop = l2_admit(c, eth, s, port, now);
	int r;

	if (fc == FC_MISSED)
		stat_add(BR_STAT_FC_MISS, port, bytes);
	if (drop)
		return decide(v, XDP_DROP, drop, 0);
	r = firewall(ctx, s, port, mcast, now, fc == FC_MISSED, tags);
	if (r < 0)
		return decide(v, XDP_DROP, -r, 0);
	if (r == FW_LOCAL_ONLY)
		return decide(v, XDP_PASS, BR_STAT_FLOOD_LOCAL, BR_META_MARK);
	/* ctx's packet is unchanged: eth is still valid after the calls */
	l2_learn(c, eth, port, now);
	v->flow_new = r == FW_PASS_NEW;
	if (mcast)
		return decide(v, XDP_PASS, BR_STAT_FLOOD,
			      BR_META_MARK | BR_META_CLONE);
	bridge_slow(v, port, bytes);
}

/* IPv6 for the brouter itself: the stack, unless it is tunnel traffic. */
static __always_inline void local_ip6(struct verdict *v, struct cursor *c,
				      struct ipv6hdr *ip6, __u32 port)
{
	__u32 strip = 0;
	int r;

	decide(v, XDP_PASS, BR_STAT_LOCAL, BR_META_MARK);
	if (port != BR_PORT_WAN)
		return;
	r = tun_check_in(c, ip6, &strip);
	if (r < 0)
		decide(v, XDP_DROP, -r, 0);
	else if (r == TUN_IN_FRAG) /* tc reassembles (tun/reasm.h) */
		decide(v, XDP_PASS, BR_STAT_TUN_FRAG, BR_META_REASM);
	else if (r > 0) {
		v->decap = r;
		v->strip = strip;
	}
}

/*
 * An IPv6 frame, @tags VLAN tags deep (the cursor past them). Tagged
 * IPv6 gets what untagged IPv6 gets, the firewall and its flow cache
 * included, but not the fast path (which reads the packet at fixed
 * offsets) nor tunnel decapsulation (a tunnel's packets come untagged).
 */
static __always_inline void ip6_frame(struct xdp_md *ctx, struct verdict *v,
				      struct cursor *c, struct ethhdr *eth,
				      const struct br_settings *s, __u32 port,
				      __u32 tags, __u64 bytes)
{
	struct ipv6hdr *ip6 = parse_ip6(c);
	/* one clock read per packet, for the FDB and the firewall alike */
	__u64 now = now_ns();
	int fc = FC_NOT_TAKEN;

	if (!ip6)
		decide(v, XDP_DROP, BR_STAT_DROP_BAD_IP6, 0);
	else if (ip6_end(ip6) > c->end) /* see ip6_trim() */
		decide(v, XDP_DROP, BR_STAT_DROP_TRUNC, 0);
	else if (!tags &&
		 (fc = fast_path(ctx, eth, ip6, s, port, now)) == FC_PASS)
		decide(v, XDP_REDIRECT, BR_STAT_BRIDGED, 0);
	else if (!mac_is_own(s, eth->h_dest))
		bridge_ip6(ctx, v, eth, s, port, now, fc, tags, bytes);
	else if (!tags)
		local_ip6(v, c, ip6, port);
	else
		decide(v, XDP_PASS, BR_STAT_LOCAL, BR_META_MARK);
}

/*
 * A frame whose ethertype is a VLAN tag configured as bridged: what it
 * carries decides, as if it came untagged. IPv6 is bridged through the
 * firewall, an ethertype configured as bridged is bridged, the rest
 * (IPv4, ARP, more than two tags) goes to the stack.
 */
static __always_inline void tagged(struct xdp_md *ctx, struct verdict *v,
				   struct cursor *c, struct ethhdr *eth,
				   const struct br_settings *s, __u32 port,
				   __u64 bytes)
{
	__be16 proto = eth->h_proto;
	int tags = parse_vlans(c, &proto);

	if (tags < 0)
		decide(v, XDP_DROP, BR_STAT_DROP_RUNT, 0);
	else if (proto == bpf_htons(ETH_P_IPV6))
		ip6_frame(ctx, v, c, eth, s, port, tags, bytes);
	else if (!ethertype_is_vlan(proto) && ethertype_bridged(s, proto) &&
		 !mac_is_own(s, eth->h_dest))
		bridge_other(v, eth, s, port, bytes);
}

/*
 * IPv4, as it came or out of a tunnel (@decap: what tun_check_in() said
 * of it; strip the @strip bytes of outer headers first, and for NAPT put
 * the stand-in port conntrack knows): the IPv4 fast path forwards
 * what it may, the rest goes to the kernel. The exit of its own for this
 * path, in a global function: the XDP program's stack has no room left
 * beside fw_decide()'s.
 */
__noinline int ip4_local(struct xdp_md *ctx, __u32 port, __u64 bytes, int decap,
			 __u32 strip)
{
	int r, act = XDP_PASS;
	__u32 stat = BR_STAT_PASS;

	if (decap) {
		r = tun_decap(ctx, strip);
		if (r) {
			stat_add(BR_STAT_DROP, port, bytes);
			stat_add(-r, port, bytes);
			return XDP_DROP;
		}
		stat = BR_STAT_DECAP;
		if (decap == TUN_DECAP_NAPT)
			napt_in(ctx);
		if (tun_clamp_in(ctx))
			stat_add(BR_STAT_MSS_CLAMPED, port, bytes);
	}
	r = fp4_forward(ctx, port);
	if (r == BR_STAT_FP4_FWD) {
		stat = r;
		act = bpf_redirect_map(&tx_ports, other_port(port), XDP_DROP);
		if (act != XDP_REDIRECT) {
			stat = BR_STAT_DROP_NO_TX_PORT;
			stat_add(BR_STAT_DROP, port, bytes);
		}
	} else if (r) {
		stat_add(r, port, bytes); /* why it stays the kernel's */
		if (r == BR_STAT_FP4_UNTRACKED)
			meta_write(ctx, port, BR_META_NOTRACK);
	}
	stat_add(stat, port, bytes);
	return act;
}

/* The single exit: decapsulate, redirect, hand over metadata, count. */
static __always_inline int finish(struct xdp_md *ctx, struct verdict *v,
				  __u32 port, __u64 bytes)
{
	if (v->decap)
		return ip4_local(ctx, port, bytes, v->decap, v->strip);
	if (v->action == XDP_REDIRECT) {
		v->action = bpf_redirect_map(&tx_ports, other_port(port), XDP_DROP);
		if (v->action != XDP_REDIRECT)
			v->stat = BR_STAT_DROP_NO_TX_PORT;
	}
	if (v->meta)
		meta_write(ctx, port, v->meta);
	if (v->action == XDP_DROP)
		stat_add(BR_STAT_DROP, port, bytes);
	if (v->flow_new)
		stat_add(BR_STAT_FLOW_NEW, port, bytes);
	stat_add(v->stat, port, bytes);
	return v->action;
}

/*
 * For libxdp's dispatcher (brouterd attaches through it): run after
 * programs of the default priority (50; xdp-filter runs at 10), so a
 * filter in front sees frames first, and let programs of a higher
 * number see what brouter passes to the stack.
 */
struct {
	__uint(priority, 100);
	__uint(XDP_PASS, 1);
} XDP_RUN_CONFIG(xdp_brouter);

SEC("xdp")
int xdp_brouter(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u64 bytes = data_end - data;
	struct verdict v = { XDP_PASS, BR_STAT_PASS, 0, 0, 0 };
	const struct br_settings *s;
	struct ethhdr *eth;
	struct cursor c;
	__u32 zero = 0;
	int port;

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
		ip6_frame(ctx, &v, &c, eth, s, port, 0, bytes);
	} else if (ethertype_is_vlan(eth->h_proto) &&
		   ethertype_bridged(s, eth->h_proto)) {
		tagged(ctx, &v, &c, eth, s, port, bytes);
	} else if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		return ip4_local(ctx, port, bytes, 0, 0);
	} else if (ethertype_bridged(s, eth->h_proto) &&
		   !mac_is_own(s, eth->h_dest)) {
		bridge_other(&v, eth, s, port, bytes);
	}

	return finish(ctx, &v, port, bytes);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
