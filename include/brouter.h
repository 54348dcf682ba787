/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Everything that crosses the kernel/user boundary: map keys and values,
 * settings, XDP metadata and counter ids. Included by the BPF programs and
 * by brouterd/brouterctl, so both sides agree on one definition.
 *
 * Rules for these structs: fixed-width fields, explicit padding, no
 * pointers/bool/long, so the layout is the same for clang -target bpf and
 * for the host compiler, and bpftool prints them with field names.
 */
#ifndef BROUTER_H
#define BROUTER_H

#include <linux/types.h>

#define BR_VERSION "0.1.0"

/* Port indexes: key of tx_ports, index of per-port arrays. */
enum br_port {
	BR_PORT_LAN = 0,
	BR_PORT_WAN = 1,
	BR_NPORTS = 2,
};

/* Direction marks of the classic ebtables broute recipe. */
#define BR_MARK_OUT_DEFAULT 0x600 /* LAN -> WAN, "outbound" */
#define BR_MARK_IN_DEFAULT 0x601  /* WAN -> LAN, "inbound" */

/* Extra ethertypes bridged like IPv6 (e.g. PPPoE 0x8863/0x8864). */
#define BR_MAX_ETHERTYPES 8

#define ETH_ALEN_BR 6

/*
 * Counter ids: key of the "stats" map. One X-macro list gives the enum and
 * the names brouterctl prints, so a new reason cannot be half-added.
 * Verdicts first, then drop reasons (BR_DROP_*), then tc ingress events.
 */
#define BR_STAT_LIST(X)                                                        \
	X(RX, "rx", "frames seen by XDP")                                     \
	X(PASS, "pass", "passed to the local stack (not bridged)")            \
	X(LOCAL, "local", "IPv6 to the brouter's own MAC, to the stack")       \
	X(BRIDGED, "bridged", "unicast redirected to the other port")          \
	X(FLOOD, "flood", "multicast: to the stack and copied to other port")  \
	X(NO_SETTINGS, "no_settings", "settings map empty: passed to stack")  \
	X(DROP, "drop", "dropped (sum of the reasons below)")                 \
	X(DROP_RUNT, "runt", "shorter than an Ethernet header")               \
	X(DROP_BAD_IP6, "bad_ipv6", "truncated IPv6 header or version != 6")  \
	X(DROP_SRC_MCAST, "src_multicast", "group bit set in source MAC")     \
	X(DROP_OWN_SRC, "own_src_mac", "source MAC is the brouter's (loop)")  \
	X(DROP_SAME_PORT, "same_port", "destination MAC learned on the ingress port") \
	X(DROP_NO_TX_PORT, "no_tx_port", "other port missing from tx_ports")  \
	X(TC_MARKED, "tc_marked", "tc ingress: direction mark set")           \
	X(TC_CLONED, "tc_cloned", "tc ingress: multicast copied to other port") \
	X(TC_CLONE_FAIL, "tc_clone_fail", "tc ingress: copy to other port failed") \
	X(TC_NO_META, "tc_no_meta", "tc ingress: IPv6 without XDP metadata")

#define BR_STAT_ENUM(id, name, help) BR_STAT_##id,
enum br_stat_id {
	BR_STAT_LIST(BR_STAT_ENUM)
	BR_STAT_MAX,
};
#undef BR_STAT_ENUM

/* Drop reasons are the ids from DROP_RUNT up to the tc events. */
#define BR_DROP_FIRST BR_STAT_DROP_RUNT
#define BR_DROP_LAST BR_STAT_DROP_NO_TX_PORT

/* Value of "stats" (per-CPU array, key = enum br_stat_id). */
struct br_ctr {
	__u64 packets;
	__u64 bytes;
};

struct br_stat {
	struct br_ctr lan; /* frames that arrived on the LAN port */
	struct br_ctr wan; /* frames that arrived on the WAN port */
};

/* Key/value of "fdb" (LRU hash): where a MAC address was last seen. */
struct br_fdb_key {
	__u8 mac[ETH_ALEN_BR];
	__u16 pad;
};

struct br_fdb_val {
	__u32 port;	 /* enum br_port */
	__u32 pad;
	__u64 seen_ns;	 /* bpf_ktime_get_ns() of the last refresh */
};

/* Learning refreshes an entry at most this often (saves a map write). */
#define BR_FDB_REFRESH_NS 1000000000ULL

/* Value of "settings" (array, one entry): what brouterd may change live. */
struct br_settings {
	__u8 mac[BR_NPORTS][ETH_ALEN_BR]; /* the ports' own MACs */
	__u16 ethertypes[BR_MAX_ETHERTYPES]; /* extra bridged, network order, 0 = end */
	__u32 mark[BR_NPORTS];	/* skb->mark by arrival port: [LAN] out, [WAN] in */
	__u32 flags;		/* BR_F_* */
};

#define BR_F_MARK (1U << 0) /* set direction marks in tc ingress */

/* Immutable per load (rodata "consts" in each BPF object). */
struct br_consts {
	__u32 ifindex[BR_NPORTS];
};

/*
 * XDP -> tc ingress handover, in the XDP metadata area in front of the
 * frame. The magic tells tc the area was written by brouter's XDP program
 * and not by some other program sharing the port.
 */
#define BR_META_MAGIC 0xb40e7e60U

struct br_meta {
	__u32 magic;
	__u8 port;	/* enum br_port the frame arrived on */
	__u8 flags;	/* BR_META_* */
	__u16 pad;
};

#define BR_META_MARK (1U << 0)	/* IPv6 for the stack: set the direction mark */
#define BR_META_CLONE (1U << 1) /* multicast: copy to the other port too */

/* Names of the pinned objects under the pin directory. */
#define BR_PIN_DIR_DEFAULT "/sys/fs/bpf/brouter"

#endif /* BROUTER_H */
