// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Benchmark sink, on the receiving host's veth: counts and drops the
 * generator's frames (IPv6/UDP to or from BENCH_PORT), passes everything
 * else, so ND, ping and iperf3 keep working with the sink attached.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "bench.h"

/* Key enum bench_sink_key; per CPU, so counting takes no atomics. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BENCH_SINK_MAX);
	__type(key, __u32);
	__type(value, __u64);
} sink_cnt SEC(".maps");

struct frame {
	struct ethhdr eth;
	struct ipv6hdr ip6;
	struct udphdr udp;
} __attribute__((packed));

static __always_inline void count(__u32 key, __u64 n)
{
	__u64 *c = bpf_map_lookup_elem(&sink_cnt, &key);

	if (c)
		*c += n;
}

SEC("xdp")
int bench_sink(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct frame *f = data;

	if ((void *)(f + 1) > data_end || f->eth.h_proto != bpf_htons(ETH_P_IPV6) ||
	    f->ip6.nexthdr != IPPROTO_UDP ||
	    (f->udp.dest != bpf_htons(BENCH_PORT) &&
	     f->udp.source != bpf_htons(BENCH_PORT)))
		return XDP_PASS;
	count(BENCH_SINK_PKTS, 1);
	count(BENCH_SINK_BYTES, data_end - data);
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
