/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Rewriting a benchmark frame into flow i of a sequence (see bench.h),
 * for the generator and the ns/packet driver.
 *
 * Live-frames pages are recycled without being re-copied from the
 * template, and a test_run repeat reruns on the frame the previous run
 * left, so the rewrite is relative to what the frame holds and keeps the
 * UDP checksum right incrementally: conntrack (the bridge+ip6tables
 * device) drops UDP with a bad checksum as invalid.
 */
#ifndef BENCH_FLOW_H
#define BENCH_FLOW_H

#include <stddef.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "bench.h"

struct frame {
	struct ethhdr eth;
	struct ipv6hdr ip6;
	struct udphdr udp;
} __attribute__((packed));

/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), for one 16-bit word. */
static __always_inline __u32 csum_add_change(__u32 sum, __u16 old, __u16 new)
{
	return sum + (__u16)~old + new;
}

static __always_inline __u16 csum_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* 16-bit word @field(+@n) of struct frame: every field we touch is 2-aligned. */
#define FRAME_W(field, n) (offsetof(struct frame, field) / 2 + (n))

/* Store @new at @p, adding the change to the running checksum @sum. */
static __always_inline __u32 put16(__u16 *p, __u16 new, __u32 sum)
{
	sum = csum_add_change(sum, *p, new);
	*p = new;
	return sum;
}

/*
 * Make frame @w flow @i: the LAN host's port and address low word.
 * 16-bit accesses only: the addresses sit at 2 mod 4 in the frame.
 */
static __always_inline void set_flow(__u16 *w, const struct bench_gen_cfg *cfg,
				     __u32 i)
{
	int src = cfg->vary == BENCH_VARY_SRC;
	__u16 *port = src ? &w[FRAME_W(udp.source, 0)] : &w[FRAME_W(udp.dest, 0)];
	__u16 *addr = src ? &w[FRAME_W(ip6.saddr, 0)] : &w[FRAME_W(ip6.daddr, 0)];
	__u32 word = cfg->addr_base + i / BENCH_PORTS_PER_ADDR;
	__u32 sum = (__u16)~w[FRAME_W(udp.check, 0)];
	__u16 check;

	sum = put16(port, bpf_htons(cfg->port_base + i % BENCH_PORTS_PER_ADDR), sum);
	sum = put16(&addr[6], bpf_htons(word >> 16), sum);
	sum = put16(&addr[7], bpf_htons(word & 0xffff), sum);
	check = csum_fold(sum);
	/* 0 means "no checksum", which IPv6 does not allow for UDP */
	w[FRAME_W(udp.check, 0)] = check ? check : 0xffff;
}

/* Next flow index, per CPU: each thread cycles every flow. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} gen_seq SEC(".maps");

/* Make the frame at @ctx the next flow of @cfg's sequence; 0 or -1. */
static __always_inline int next_flow(struct xdp_md *ctx,
				     const struct bench_gen_cfg *cfg)
{
	void *data_end = (void *)(long)ctx->data_end;
	struct frame *f = (void *)(long)ctx->data;
	__u32 zero = 0, *seq, i;

	if (cfg->nflows <= 1 || cfg->vary == BENCH_VARY_NONE)
		return 0;
	seq = bpf_map_lookup_elem(&gen_seq, &zero);
	if (!seq || (void *)(f + 1) > data_end)
		return -1;
	i = *seq;
	*seq = i + 1 >= cfg->nflows ? 0 : i + 1;
	set_flow((__u16 *)f, cfg, i);
	return 0;
}

#endif /* BENCH_FLOW_H */
