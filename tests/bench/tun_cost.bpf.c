// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ns/packet of MAP-E decapsulation (XDP) and encapsulation (tc egress).
 *
 * A test_run repeat reruns an XDP program on the frame the previous run
 * left: after one decapsulation the program would see the inner IPv4
 * packet (a plain pass). bench_rewrap puts the outer header back before
 * each run and tail-calls the program under test. It always makes the
 * same helper call, moving the head by 0 when the target left the frame
 * alone, so a baseline run into a target that only returns pays what the
 * measured run pays besides the target.
 *
 * tc egress cannot be driven that way: a repeat reuses one skb, the
 * first encapsulation sets skb->encapsulation, no helper clears it and
 * bpf_skb_adjust_room() refuses a second one (-EALREADY). rig_cost.py
 * runs it once per test_run (a fresh skb each time) and subtracts
 * bench_tc_nop run the same way.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "bench.h"

/*
 * Value of "tun_hdr": the Ethernet + outer IPv6 header of the 4in6 frame,
 * and the inner IPv4 + UDP headers, whose port (and checksum) MAP-E's
 * NAT stand-in swap rewrites on each run.
 */
#define BENCH_INNER_HDRS 28
struct bench_tun_hdr {
	__u8 hdr[sizeof(struct ethhdr) + sizeof(struct ipv6hdr) +
		 BENCH_INNER_HDRS];
	__u8 pad[2];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bench_tun_hdr);
} tun_hdr SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} tun_xdp_target SEC(".maps");

/* Wrap the frame again if the previous run decapsulated it, its inner headers as they were. */
SEC("xdp")
int bench_rewrap(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct bench_tun_hdr *h;
	__u32 zero = 0;
	int delta = 0;

	h = bpf_map_lookup_elem(&tun_hdr, &zero);
	if (!h || (void *)(eth + 1) > end)
		return XDP_ABORTED;
	/* decapsulated: the Ethernet header moved 40 bytes on, over the IPv6 one */
	if (eth->h_proto == bpf_htons(ETH_P_IP))
		delta = -(int)sizeof(struct ipv6hdr);
	if (bpf_xdp_adjust_head(ctx, delta))
		return XDP_ABORTED;
	/* adjust_head invalidated the packet pointers: reload and re-check */
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (data + sizeof(h->hdr) > end)
		return XDP_ABORTED;
	__builtin_memcpy(data, h->hdr, sizeof(h->hdr));
	bpf_tail_call(ctx, &tun_xdp_target, 0);
	return XDP_ABORTED;
}

/* The tc baseline (the XDP one is cost.bpf.c's bench_nop). */
SEC("tc")
int bench_tc_nop(struct __sk_buff *skb)
{
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
