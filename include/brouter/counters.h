/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The counters of the "stats" map: ids, names and help in one list, and their value. */
#ifndef BR_COUNTERS_ABI_H
#define BR_COUNTERS_ABI_H

#include <linux/types.h>

/*
 * Counter ids: key of the "stats" map. One X-macro list gives the enum and
 * the names brouterctl prints, so a new reason cannot be half-added.
 * Verdicts first, then every drop reason (BR_DROP_FIRST..BR_DROP_LAST,
 * contiguous: "drop" is their sum), then tc ingress and tunnel events.
 */
/* one counter a line, however long */
/* clang-format off */
#define BR_STAT_LIST(X)                                                        \
	X(RX, "rx", "frames seen by XDP")                                     \
	X(PASS, "pass", "passed to the local stack (not bridged)")            \
	X(LOCAL, "local", "IPv6 to the brouter's own MAC, to the stack")       \
	X(BRIDGED, "bridged", "unicast redirected to the other port")          \
	X(FLOOD, "flood", "multicast: to the stack and copied to other port")  \
	X(FLOOD_LOCAL, "flood_local", "multicast the firewall keeps to the stack") \
	X(FLOW_NEW, "flow_new", "flows opened (LAN: outbound, WAN: pinhole)")   \
	X(TUN_FRAG, "tun_frag", "4in6 fragment from a tunnel's far end: to tc for reassembly") \
	X(NO_SETTINGS, "no_settings", "settings map empty: passed to stack")  \
	X(DROP, "drop", "dropped (sum of the reasons below)")                 \
	X(DROP_RUNT, "runt", "shorter than an Ethernet header")               \
	X(DROP_BAD_IP6, "bad_ipv6", "truncated IPv6 header or version != 6")  \
	X(DROP_TRUNC, "truncated", "IPv6 payload length runs past the frame") \
	X(DROP_SRC_MCAST, "src_multicast", "group bit set in source MAC")     \
	X(DROP_OWN_SRC, "own_src_mac", "source MAC is the brouter's (loop)")  \
	X(DROP_SAME_PORT, "same_port", "destination MAC learned on the ingress port") \
	X(DROP_NO_TX_PORT, "no_tx_port", "other port missing from tx_ports")  \
	X(DROP_BAD_EXTHDR, "bad_exthdr", "extension headers malformed or too many") \
	X(DROP_BAD_L4, "bad_l4", "upper-layer header truncated")              \
	X(DROP_RH0, "rh0", "routing header type 0 with segments left (RFC 5095)") \
	X(DROP_FRAG_SHORT, "frag_short", "first fragment without the whole header chain (RFC 7112)") \
	X(DROP_FRAG_ORPHAN, "frag_orphan", "non-first fragment whose first was not let in") \
	X(DROP_BAD_SRC, "bad_src", "forbidden source: multicast, ::, ::1, v4-mapped") \
	X(DROP_BAD_DST, "bad_dst", "forbidden destination: ::, ::1, v4-mapped") \
	X(DROP_ULA, "ula", "unique local address across the brouter (RFC 6092 REC-7)") \
	X(DROP_SPOOF_IN, "spoof_lan_src", "inbound source is an address seen on the LAN") \
	X(DROP_SPOOF_OUT, "spoof_src_out", "outbound source neither link-local nor an advertised prefix") \
	X(DROP_NO_FLOW, "no_flow", "inbound: no flow, no pinhole")            \
	X(DROP_SYN_IN, "syn_in", "inbound TCP SYN without a pinhole")         \
	X(DROP_ICMP_UNRELATED, "icmp_unrelated", "ICMPv6 error quoting no open flow") \
	X(DROP_ICMP_TYPE, "icmp_type", "inbound ICMPv6 type not allowed (RFC 4890)") \
	X(DROP_ND_HOPLIMIT, "nd_hoplimit", "ND/RA/RS with hop limit != 255")  \
	X(DROP_ECHO_IN, "echo_in", "inbound echo request, not allowed by policy") \
	X(DROP_ECHO_RATE, "echo_rate", "inbound echo request over firewall.echo-rate") \
	X(DROP_LAN_IPV6_OFF, "lan_ipv6_off", "IPv6 kept off the LAN (lan-ipv6 = false)") \
	X(DROP_TUN_SRC, "tun_bad_src", "4in6 from a source that is not the BR/AFTR/peer") \
	X(DROP_TUN_DST, "tun_bad_dst", "MAP-E/lw4o6/fixed: inner destination is not the CE address") \
	X(DROP_TUN_PORT, "tun_bad_port", "MAP-E/lw4o6: inner port outside the CE's port set") \
	X(DROP_TUN_BAD, "tun_bad_inner", "4in6: inner IPv4 or GRE header truncated, malformed or not the tunnel's") \
	X(DROP_TUN_KEY, "tun_bad_key", "GRE from a peer: key missing, unexpected or wrong") \
	X(DROP_TUN_FRAG_OVERLAP, "tun_frag_overlap", "4in6 fragment overlapping one held (RFC 5722)") \
	X(DROP_TUN_FRAG_BAD, "tun_frag_bad", "4in6 fragment malformed, past its datagram's end, or one too many") \
	X(DROP_TUN_FRAG_BIG, "tun_frag_big", "4in6 datagram too large to reassemble") \
	X(DROP_TUN_FRAG_TIMEOUT, "tun_frag_timeout", "4in6 fragment of a datagram incomplete after 2 s") \
	X(DROP_TUN_FRAG_EVICTED, "tun_frag_evicted", "4in6 fragment of an incomplete datagram pushed out by a newer one") \
	X(DROP_ENCAP_FAIL, "encap_fail", "tc egress: encapsulation failed, dropped") \
	X(DROP_TUN_ECN, "tun_ecn", "4in6: outer CE, inner not ECN-capable (RFC 6040)") \
	X(DROP_ENCAP_PORTLESS, "encap_portless", "tc egress: shared CE address (MAP-E, lw4o6), protocol without ports") \
	X(TC_MARKED, "tc_marked", "tc ingress: direction mark set")           \
	X(TC_CLONED, "tc_cloned", "tc ingress: multicast copied to other port") \
	X(TC_CLONE_FAIL, "tc_clone_fail", "tc ingress: copy to other port failed") \
	X(TC_NO_META, "tc_no_meta", "tc ingress: IPv6 without XDP metadata") \
	X(DECAP, "decap", "4in6 decapsulated to the stack (WAN)")           \
	X(TUN_FRAG_HELD, "tun_frag_held", "tc ingress: 4in6 fragment held until its datagram is whole") \
	X(TUN_REASM, "tun_reasm", "tc ingress: 4in6 datagram reassembled to the stack as IPv4") \
	X(ENCAP, "encap", "tc egress: IPv4 encapsulated towards the tunnel (WAN)") \
	X(FC_MISS, "fc_miss", "flow cache probed, no hit: the full path decided") \
	X(BRIDGED_SLOW, "bridged_slow", "bridged by the full path (bridged - this = cache hits)") \
	X(MSS_CLAMPED, "mss_clamped", "TCP SYN's MSS lowered to the tunnel's")  \
	X(FP4_FWD, "fp4_fwd", "IPv4 forwarded by the XDP fast path")          \
	X(FP4_FRAG, "fp4_frag", "IPv4 to the kernel: fragment")              \
	X(FP4_OPTIONS, "fp4_options", "IPv4 to the kernel: IP options")       \
	X(FP4_TTL, "fp4_ttl", "IPv4 to the kernel: TTL <= 1")                 \
	X(FP4_PROTO, "fp4_proto", "IPv4 to the kernel: neither TCP nor UDP")  \
	X(FP4_TCP_FLAGS, "fp4_tcp_flags", "IPv4 to the kernel: TCP SYN, FIN or RST") \
	X(FP4_BAD, "fp4_bad", "IPv4 to the kernel: header truncated or lengths inconsistent") \
	X(FP4_MTU, "fp4_mtu", "IPv4 to the kernel: larger than the path MTU") \
	X(FP4_NO_CT, "fp4_no_ct", "IPv4 to the kernel: no conntrack entry")   \
	X(FP4_UNTRACKED, "fp4_untracked", "IPv4 to the kernel untracked: first UDP packet of a flow direction (conntrack is the fast path's alone)") \
	X(FP4_CT_STATE, "fp4_ct_state", "IPv4 to the kernel: conntrack entry not established both ways, or not repeatable") \
	X(FP4_WINDOW, "fp4_window", "IPv4 to the kernel: TCP entry still window-tracked") \
	X(FP4_UNCONFIRMED, "fp4_unconfirmed", "IPv4 to the kernel: not forwarded by the kernel under the current ruleset yet") \
	X(FP4_ROUTE, "fp4_route", "IPv4 to the kernel: not routed out of the other port") \
	X(FP4_NEIGH, "fp4_neigh", "IPv4 to the kernel: next hop's MAC unresolved") \
	X(FP4_TUNNEL, "fp4_tunnel", "IPv4 to the kernel: into a GRE tunnel")
/* clang-format on */

#define BR_STAT_ENUM(id, name, help) BR_STAT_##id,
enum br_stat_id {
	BR_STAT_LIST(BR_STAT_ENUM)
	BR_STAT_MAX,
};
#undef BR_STAT_ENUM

/*
 * The drop reasons, first and last; every BR_STAT_DROP_* lies between.
 * The flow cache's two counters are counted on the full path only, so the
 * fast path pays nothing for them: its hits are bridged - bridged_slow.
 */
#define BR_DROP_FIRST BR_STAT_DROP_RUNT
#define BR_DROP_LAST  BR_STAT_DROP_ENCAP_PORTLESS

/* Why the IPv4 fast path handed a packet to the kernel: these ids. */
#define BR_FP4_WHY_FIRST BR_STAT_FP4_FRAG
#define BR_FP4_WHY_LAST	 BR_STAT_FP4_TUNNEL

/* Value of "stats" (per-CPU array, key = enum br_stat_id). */
struct br_ctr {
	__u64 packets;
	__u64 bytes;
};

struct br_stat {
	struct br_ctr lan; /* frames that arrived on the LAN port */
	struct br_ctr wan; /* frames that arrived on the WAN port */
};

#endif /* BR_COUNTERS_ABI_H */
