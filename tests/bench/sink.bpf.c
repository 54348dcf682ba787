// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Benchmark sink, on the receiving host's veth: counts and drops the
 * generator's frames (UDP to or from BENCH_PORT, over IPv6, IPv4 or IPv4
 * in IPv6), passes everything else, so ND, ping and iperf3 keep working
 * with the sink attached.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
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

static __always_inline void count(__u32 key, __u64 n)
{
	__u64 *c = bpf_map_lookup_elem(&sink_cnt, &key);

	if (c)
		*c += n;
}

static __always_inline int bench_udp(struct udphdr *udp, void *end)
{
	return (void *)(udp + 1) <= end &&
	       (udp->dest == bpf_htons(BENCH_PORT) ||
		udp->source == bpf_htons(BENCH_PORT));
}

/* IPv4/UDP of the benchmark at @ip (no options: the generator sends none). */
static __always_inline int bench_ip4(struct iphdr *ip, void *end)
{
	return (void *)(ip + 1) <= end && ip->protocol == IPPROTO_UDP &&
	       bench_udp((void *)(ip + 1), end);
}

SEC("xdp")
int bench_sink(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct ipv6hdr *ip6 = (void *)(eth + 1);
	int ours = 0;

	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	if (eth->h_proto == bpf_htons(ETH_P_IP))
		ours = bench_ip4((void *)(eth + 1), data_end);
	else if (eth->h_proto == bpf_htons(ETH_P_IPV6) &&
		 (void *)(ip6 + 1) <= data_end)
		ours = ip6->nexthdr == IPPROTO_UDP
			       ? bench_udp((void *)(ip6 + 1), data_end)
			       : ip6->nexthdr == IPPROTO_IPIP &&
					 bench_ip4((void *)(ip6 + 1), data_end);
	if (!ours)
		return XDP_PASS;
	count(BENCH_SINK_PKTS, 1);
	count(BENCH_SINK_BYTES, data_end - data);
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
