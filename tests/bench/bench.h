/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the benchmark rig's BPF programs share with its driver
 * (tests/bench/bpfrig.py packs the same layouts with struct).
 */
#ifndef BENCH_H
#define BENCH_H

#include <linux/types.h>

/* UDP port every benchmark frame carries on its remote side (discard). */
#define BENCH_PORT 9

/*
 * Flows differ in the LAN host's port and, past BENCH_PORTS_PER_ADDR
 * flows, in the low 32 bits of its address: flow i uses port
 * port_base + i % BENCH_PORTS_PER_ADDR and address word
 * addr_base + i / BENCH_PORTS_PER_ADDR, so 1M flows stay valid UDP.
 */
#define BENCH_PORTS_PER_ADDR 32768

enum bench_vary {
	BENCH_VARY_NONE = 0, /* one flow: the template as it is */
	BENCH_VARY_SRC = 1,  /* LAN -> WAN: the LAN host is the source */
	BENCH_VARY_DST = 2,  /* WAN -> LAN: the LAN host is the destination */
};

/* Value of "gen_cfg" (array, one entry), key 0. */
struct bench_gen_cfg {
	__u32 ifindex;	 /* veth to send out of, in the generator's netns */
	__u32 nflows;	 /* flows to cycle through; <= 1 means the template */
	__u32 vary;	 /* enum bench_vary */
	__u16 port_base; /* host order */
	__u16 pad;
	__u32 addr_base; /* host order: low word of the LAN host address */
	__u32 pad2;
};

/* Keys of "sink_cnt" (per-CPU array of __u64). */
enum bench_sink_key {
	BENCH_SINK_PKTS = 0,
	BENCH_SINK_BYTES = 1,
	BENCH_SINK_MAX,
};

#endif /* BENCH_H */
