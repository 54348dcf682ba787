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
	__u16 l3off; /* IPv4: where its header starts (14, or 54 inside 4in6) */
	__u32 addr_base; /* host order: low word of the LAN host address (IPv4: remote) */
	__u8 ipv4; /* 1: IPv4/UDP frames (UDP checksum 0), else IPv6/UDP */
	__u8 table; /* IPv4: the varied port is gen_ports[i], not port_base + i */
	__u16 hdr_len; /* IPv4: bytes of "gen_hdr" written over each frame first */
};

/*
 * Value of "gen_hdr": the IPv4 frames' headers. A routed frame comes
 * back to the live-frames page pool as the box sent it (MACs, TTL, NAT,
 * tunnel header), and pages are not refilled from the template: the
 * generator puts the headers back before each frame goes out.
 */
#define BENCH_HDR_MAX 96
struct bench_hdr {
	__u8 bytes[BENCH_HDR_MAX];
};

/*
 * "gen_ports" (array, key flow index): the WAN side's view of flow i's
 * LAN port, network order, where NAT chose it (filled from conntrack).
 */
#define BENCH_PORT_TABLE 65536

/* Keys of "sink_cnt" (per-CPU array of __u64). */
enum bench_sink_key {
	BENCH_SINK_PKTS = 0,
	BENCH_SINK_BYTES = 1,
	BENCH_SINK_MAX,
};

#endif /* BENCH_H */
