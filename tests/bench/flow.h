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
#include <linux/ip.h>
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

/* NAT's ports of the flows, for replies (bench.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BENCH_PORT_TABLE);
	__type(key, __u32);
	__type(value, __u16);
} gen_ports SEC(".maps");

/*
 * The same for IPv4/UDP (no UDP checksum) at @ip: LAN->WAN the LAN
 * host's port and, past BENCH_PORTS_PER_ADDR flows, the remote address
 * (so NAT has ports to spare for every flow), the header checksum kept
 * right; WAN->LAN the LAN side's port as NAT mapped it (table) or as it is.
 */
static __always_inline int set_flow4(struct iphdr *ip, void *end,
				     const struct bench_gen_cfg *cfg, __u32 i)
{
	struct udphdr *udp = (void *)(ip + 1);
	__u16 *w = (__u16 *)ip, *port;
	__u32 addr, sum;

	if ((void *)(udp + 1) > end)
		return -1;
	if (cfg->vary == BENCH_VARY_DST) {
		port = i < BENCH_PORT_TABLE && cfg->table
			       ? bpf_map_lookup_elem(&gen_ports, &i)
			       : NULL;
		udp->dest = port ? *port
				 : bpf_htons(cfg->port_base +
					     i % BENCH_PORTS_PER_ADDR);
		return 0;
	}
	udp->source = bpf_htons(cfg->port_base + i % BENCH_PORTS_PER_ADDR);
	addr = cfg->addr_base + i / BENCH_PORTS_PER_ADDR;
	sum = (__u16)~ip->check;
	sum = put16(&w[8], bpf_htons(addr >> 16), sum);
	sum = put16(&w[9], bpf_htons(addr & 0xffff), sum);
	ip->check = csum_fold(sum);
	return 0;
}

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bench_hdr);
} gen_hdr SEC(".maps");

/* IPv4 over Ethernet (42 bytes of headers) or over 4in6 (82). */
static __always_inline int restore_hdr(struct xdp_md *ctx,
				       const struct bench_gen_cfg *cfg)
{
	void *data = (void *)(long)ctx->data,
	     *end = (void *)(long)ctx->data_end;
	__u32 zero = 0;
	struct bench_hdr *h = bpf_map_lookup_elem(&gen_hdr, &zero);

	if (!h)
		return -1;
	if (cfg->hdr_len == 82) {
		if (data + 82 > end)
			return -1;
		__builtin_memcpy(data, h->bytes, 82);
	} else {
		if (data + 42 > end)
			return -1;
		__builtin_memcpy(data, h->bytes, 42);
	}
	return 0;
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

	if (cfg->ipv4 && restore_hdr(ctx, cfg))
		return -1;
	if (cfg->nflows <= 1 || cfg->vary == BENCH_VARY_NONE)
		return 0;
	seq = bpf_map_lookup_elem(&gen_seq, &zero);
	if (!seq || (void *)(f + 1) > data_end)
		return -1;
	i = *seq;
	*seq = i + 1 >= cfg->nflows ? 0 : i + 1;
	if (cfg->ipv4) {
		/* 14 or 54: a constant each, which the verifier can bound */
		struct iphdr *ip = (void *)f + (cfg->l3off == 54 ? 54 : 14);

		return set_flow4(ip, data_end, cfg, i);
	}
	set_flow((__u16 *)f, cfg, i);
	return 0;
}

#endif /* BENCH_FLOW_H */
