// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Benchmark traffic generator. Run by the driver with BPF_PROG_TEST_RUN
 * in live-frames mode (BPF_F_TEST_XDP_LIVE_FRAMES): the kernel builds
 * each frame from the IPv6/UDP template in data_in, runs this program
 * on it and performs the verdict for real, so bpf_redirect() sends the
 * frame out of the generator's veth into the device under test. With
 * nflows > 1 each frame is rewritten to the next flow (flow.h).
 */
#include "flow.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bench_gen_cfg);
} gen_cfg SEC(".maps");

SEC("xdp")
int bench_gen(struct xdp_md *ctx)
{
	struct bench_gen_cfg *cfg;
	__u32 zero = 0;

	cfg = bpf_map_lookup_elem(&gen_cfg, &zero);
	if (!cfg || next_flow(ctx, cfg))
		return XDP_ABORTED;
	return bpf_redirect(cfg->ifindex, 0);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
