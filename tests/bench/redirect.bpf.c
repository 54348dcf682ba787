// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The ceiling: the least an XDP bridge of two ports can do, one devmap
 * redirect to the other port and nothing else. Same devmap redirect as
 * brouter's bridged path, without parsing, learning or firewall.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* Key: ingress ifindex; value: ifindex of the other port. */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, 4); /* the device path and the reference path */
	__type(key, __u32);
	__type(value, __u32);
} redir_ports SEC(".maps");

SEC("xdp")
int bench_redirect(struct xdp_md *ctx)
{
	return bpf_redirect_map(&redir_ports, ctx->ingress_ifindex, XDP_PASS);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
