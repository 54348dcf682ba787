// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ns/packet of paths a fixed frame cannot take again and again, such as
 * a new flow: BPF_PROG_TEST_RUN with repeat runs this program, which
 * makes each run's frame the next flow of a sequence (flow.h) and then
 * tail-calls the program under test in cost_target[0]. The driver runs
 * it once with a target that only returns, and subtracts that.
 */
#include "flow.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bench_gen_cfg);
} cost_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} cost_target SEC(".maps");

SEC("xdp")
int bench_cost(struct xdp_md *ctx)
{
	struct bench_gen_cfg *cfg;
	__u32 zero = 0;

	cfg = bpf_map_lookup_elem(&cost_cfg, &zero);
	if (!cfg || next_flow(ctx, cfg))
		return XDP_ABORTED;
	bpf_tail_call(ctx, &cost_target, 0);
	return XDP_ABORTED;
}

/* The baseline target: what the driver and the tail call cost alone. */
SEC("xdp")
int bench_nop(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
