// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * XDP ingress, attached to both ports. IPv6 (and configured ethertypes)
 * is bridged: unicast redirected to the other port, multicast passed up
 * with a request for tc to copy it across. Everything else, and anything
 * for the brouter's own MAC, goes to the kernel.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "parse.h"
#include "port.h"
#include "stats.h"
#include "fdb.h"
#include "meta.h"

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

/* What a decision asks the single exit to do. */
struct verdict {
	int action;	/* XDP_* */
	__u32 stat;	/* enum br_stat_id of the verdict or drop reason */
	__u8 meta;	/* BR_META_* to hand to tc, 0 = none */
};

static __always_inline void decide(struct verdict *v, int action, __u32 stat,
				   __u8 meta)
{
	v->action = action;
	v->stat = stat;
	v->meta = meta;
}

/* A bridged frame (IPv6 or configured ethertype) not for the brouter. */
static __always_inline void bridge(struct verdict *v, struct ethhdr *eth,
				   const struct br_settings *s, __u32 port,
				   __u8 mark)
{
	int known;

	if (mac_is_group(eth->h_source))
		return decide(v, XDP_DROP, BR_STAT_DROP_SRC_MCAST, 0);
	if (mac_is_own(s, eth->h_source))
		return decide(v, XDP_DROP, BR_STAT_DROP_OWN_SRC, 0);

	fdb_learn(eth->h_source, port);

	if (mac_is_group(eth->h_dest))
		return decide(v, XDP_PASS, BR_STAT_FLOOD, mark | BR_META_CLONE);

	/* A station on the same segment answers for itself (bridge filtering). */
	known = fdb_port(eth->h_dest);
	if (known == (int)port)
		return decide(v, XDP_DROP, BR_STAT_DROP_SAME_PORT, 0);

	decide(v, XDP_REDIRECT, BR_STAT_BRIDGED, 0);
}

SEC("xdp")
int xdp_brouter(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u64 bytes = data_end - data;
	struct verdict v = { XDP_PASS, BR_STAT_PASS, 0 };
	const struct br_settings *s;
	struct ethhdr *eth;
	struct cursor c;
	__u32 zero = 0;
	int port;

	port = port_of(ctx->ingress_ifindex);
	if (port < 0)
		return XDP_PASS;
	stat_add(BR_STAT_RX, port, bytes);

	cursor_init(&c, data, data_end);
	s = bpf_map_lookup_elem(&settings, &zero);
	eth = parse_eth(&c);
	if (!s)
		decide(&v, XDP_PASS, BR_STAT_NO_SETTINGS, 0);
	else if (!eth)
		decide(&v, XDP_DROP, BR_STAT_DROP_RUNT, 0);
	else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		if (!parse_ip6(&c))
			decide(&v, XDP_DROP, BR_STAT_DROP_BAD_IP6, 0);
		else if (mac_is_own(s, eth->h_dest))
			decide(&v, XDP_PASS, BR_STAT_LOCAL, BR_META_MARK);
		else
			bridge(&v, eth, s, port, BR_META_MARK);
	} else if (ethertype_bridged(s, eth->h_proto) &&
		   !mac_is_own(s, eth->h_dest)) {
		bridge(&v, eth, s, port, 0);
	}

	/* The single exit: redirect, hand over metadata, count. */
	if (v.action == XDP_REDIRECT) {
		v.action = bpf_redirect_map(&tx_ports, other_port(port), XDP_DROP);
		if (v.action != XDP_REDIRECT)
			v.stat = BR_STAT_DROP_NO_TX_PORT;
	}
	if (v.meta)
		meta_write(ctx, port, v.meta);
	if (v.action == XDP_DROP)
		stat_add(BR_STAT_DROP, port, bytes);
	stat_add(v.stat, port, bytes);
	return v.action;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
