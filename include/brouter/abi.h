/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Everything that crosses the kernel/user boundary: map keys and values,
 * settings, XDP metadata (counter ids: brouter/counters.h). Included by
 * the BPF programs and by brouterd/brouterctl, so both sides agree on one
 * definition; the maps themselves are listed in bpf/maps.h.
 *
 * Rules for these structs: fixed-width fields, explicit padding, no
 * pointers/bool/long, so the layout is the same for clang -target bpf and
 * for the host compiler, and bpftool prints them with field names.
 */
#ifndef BR_ABI_H
#define BR_ABI_H

#include <linux/types.h>
#include "brouter/counters.h"

#define BR_VERSION "0.1.0"

/*
 * Enums stored in one byte: a field of such a type is still one byte,
 * but BTF knows its enum, so `bpftool map dump` prints BR_FS_ESTABLISHED
 * where it would print 3. GCC and clang give a packed enum the size of
 * its largest value.
 */
#define BR_ENUM8 __attribute__((packed))

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

/* Key/value of "fdb" (LRU hash): where a MAC address was last seen. */
struct br_fdb_key {
	__u8 mac[ETH_ALEN_BR];
	__u16 pad;
};

struct br_fdb_val {
	enum br_port port;
	__u32 pad;
	__u64 seen_ns;	 /* now_ns() (bpf/clock.h) of the last refresh */
};

/* Learning refreshes an entry at most this often (saves a map write). */
#define BR_FDB_REFRESH_NS 1000000000ULL

/*
 * Flow cache (bpf/flowcache.h): a power of two of entries per possible
 * CPU (firewall.flow-cache), in sets of BR_FC_WAYS 64-byte entries. The
 * XDP program's "flow_cache" array has 1 << consts.fc_bits sets for each
 * possible CPU; fc_bits 0 turns the cache off.
 */
#define BR_FC_WAYS 2 /* entries per set: 64-byte entries, 128-byte sets */
#define BR_FC_ENTRY_SIZE 64
#define BR_FC_DEF_PER_CPU (1U << 16)
#define BR_FC_MIN_PER_CPU (1U << 10)
#define BR_FC_MAX_PER_CPU (1U << 20)
/* The default shrinks, on boxes of many CPUs, to stay within this. */
#define BR_FC_DEF_BUDGET (256ULL << 20)


/* ------------------------------------------------------------------ */
/* Inbound IPv6 firewall                                               */
/* ------------------------------------------------------------------ */

enum BR_ENUM8 br_fw_mode {
	BR_FW_STATEFUL = 0,	 /* RFC 6092: inbound only for flows and pinholes */
	BR_FW_STATELESS_TCP = 1, /* classic recipe: inbound TCP without SYN */
	BR_FW_OPEN = 2,		 /* bridge everything (transparent, REC-49) */
};

/* How an inbound packet may match state a LAN host opened (RFC 4787). */
enum BR_ENUM8 br_filtering {
	BR_FILT_EI = 0,	 /* endpoint-independent: any remote, same LAN addr:port */
	BR_FILT_AD = 1,	 /* address-dependent: the remote address it talked to */
	BR_FILT_APD = 2, /* address-and-port-dependent: the exact remote addr:port */
};

enum br_timeout {
	BR_TO_TCP_EST = 0,	/* established, RFC 6092 REC-31: >= 2 h 4 min */
	BR_TO_TCP_TRANS,	/* opening/closing, REC-31: >= 4 min */
	BR_TO_TCP_CLOSED,	/* after RST */
	BR_TO_UDP,		/* REC-12: >= 2 min, refreshed outbound */
	BR_TO_ICMP,		/* echo by identifier */
	BR_TO_OTHER,		/* other protocols, ESP */
	BR_TO_MAX,
};

#define BR_PF_ECHO_IN (1U << 0)	  /* inbound echo request allowed (RFC 4890 4.3.1) */
#define BR_PF_IPSEC (1U << 1)	  /* AH/ESP/IKE not blocked (REC-21..25) */
#define BR_PF_ULA (1U << 2)	  /* forward ULA fc00::/7 across (REC-7 off) */
#define BR_PF_LOG_DROPS (1U << 3) /* firewall drops, both ways, to drop_log */

/* One generation of policy; "settings" holds two and the active index. */
struct br_policy {
	enum br_fw_mode mode;
	enum br_filtering filtering; /* UDP and other port protocols */
	__u8 lan_ipv6;	/* 0: keep IPv6 off the LAN entirely */
	__u8 flags;	/* BR_PF_* */
	__u32 timeout[BR_TO_MAX]; /* seconds */
	__u32 log_rate;		  /* drop log events per second, all CPUs */
	__u32 n_pinholes;	  /* rules compiled in (for display) */
	__u32 echo_rate; /* inbound echo requests per second, all CPUs; 0: any */
};

/*
 * Pinholes, compiled by brouterd into two lookups whose cost does not grow
 * with the number of rules:
 *  1. "pin_dst" (LPM trie): destination address -> set id. Every distinct
 *     destination prefix gets a set holding its rules and those of every
 *     prefix covering it, so the longest match alone is complete.
 *  2. "pin_rules" (hash): {set, proto, port} -> sources allowed, probed at
 *     most three times: exact port, any port, any protocol.
 * The generation byte lets a reload write the new policy beside the old
 * one and switch with one store (see struct br_settings.gen).
 */
struct br_pin_dst_key {
	__u32 prefixlen; /* 8 (gen) + address prefix length */
	__u8 gen;
	__u8 addr[16];
	__u8 pad[3];
};

struct br_pin_dst_val {
	__u32 set_id; /* 0 is never used */
};

#define BR_PIN_PROTO_ANY 0 /* hop-by-hop (0) is never an upper layer */

struct br_pin_key {
	__u32 set_id;
	__u8 gen;
	__u8 proto;	/* IPPROTO_*, BR_PIN_PROTO_ANY */
	__u8 any_port;	/* 1: rule for every port (port is 0) */
	__u8 pad;
	__u16 port;	/* host order; ICMPv6 type for proto 58 */
	__u16 pad2;
};

#define BR_PIN_MAX_SRC 4

struct br_pin_val {
	__u32 rule_id;		/* index in the config's pinhole list (first match) */
	__u8 n_src;		/* 0: any source */
	__u8 src_plen[BR_PIN_MAX_SRC];
	__u8 pad[3];
	__u8 src[BR_PIN_MAX_SRC][16];
};

/* Key of "prefixes" (LPM trie): prefixes valid as outbound sources. */
struct br_prefix_key {
	__u32 prefixlen;
	__u8 addr[16];
};

#define BR_PFX_RA (1U << 0)	 /* learned from a router advertisement on the WAN */
#define BR_PFX_CONFIG (1U << 1) /* from the config file */

struct br_prefix_val {
	__u32 flags;	  /* BR_PFX_* */
	__u32 pad;
	__u64 expires_ns; /* CLOCK_MONOTONIC end of the RA lifetime; 0 = never.
			   * A BR_PFX_CONFIG entry is valid whatever it says */
};

/* Key/value of "flows" (LRU hash), always oriented LAN side first. */
enum BR_ENUM8 br_flow_kind {
	BR_FK_FLOW = 0,	   /* one connection: both addresses and ports */
	BR_FK_BIND_EI = 1, /* endpoint-independent binding: wan_addr/port zero */
	BR_FK_BIND_AD = 2, /* address-dependent binding: wan_port zero */
};

struct br_flow_key {
	__u8 lan_addr[16];
	__u8 wan_addr[16];
	__u16 lan_port; /* network order; ICMPv6 echo identifier; 0 otherwise */
	__u16 wan_port; /* network order */
	__u8 proto;
	enum br_flow_kind kind;
	__u16 pad;
};

enum BR_ENUM8 br_flow_state {
	BR_FS_ACTIVE = 0,   /* UDP, ICMPv6 echo, other protocols */
	BR_FS_SYN_SENT,	    /* TCP: outbound SYN seen */
	BR_FS_SYN_RECV,	    /* TCP: inbound SYN allowed by a pinhole */
	BR_FS_ESTABLISHED,  /* TCP: handshake answered, or picked up mid-stream */
	BR_FS_FIN_WAIT,	    /* TCP: FIN seen in one direction */
	BR_FS_CLOSING,	    /* TCP: FIN seen in both directions */
	BR_FS_CLOSED,	    /* TCP: RST seen */
	BR_FS_MAX,
};

/* Who opened a flow: the port its first packet arrived on (enum br_port). */
enum BR_ENUM8 br_flow_opener {
	BR_OPENED_OUT = 0, /* BR_PORT_LAN: an outbound packet */
	BR_OPENED_IN = 1,  /* BR_PORT_WAN: a pinhole let an inbound one in */
};

struct br_flow {
	__u64 seen_ns;	  /* last refresh (outbound, or any packet for TCP) */
	__u64 created_ns;
	enum br_flow_state state;
	enum br_flow_opener opened_by;
	__u8 fin_seen;	  /* bit per arrival port */
	__u8 pad;
	__u32 rule_id;	  /* pinhole that opened it (opened_by WAN) */
};

/* Key of "lan_addrs" (LRU hash): sources seen on the LAN (anti-spoofing). */
struct br_addr_key {
	__u8 addr[16];
};

struct br_addr_val {
	__u64 seen_ns;
};

/* Key/value of "frags" (LRU hash): verdict of a first fragment. */
struct br_frag_key {
	__u8 src[16];
	__u8 dst[16];
	__u32 id;	/* fragment header identification, network order */
};

struct br_frag_val {
	__u64 seen_ns;
};

/* Event in the "drop_log" ring buffer (rate-limited). */
struct br_drop_event {
	__u64 ts_ns;
	__u8 src[16];
	__u8 dst[16];
	__u16 sport;	/* network order; ICMPv6: type << 8 | code */
	__u16 dport;	/* network order */
	__u8 proto;
	__u8 port;	/* arrival port */
	__u16 reason;	/* enum br_stat_id */
};

/* ------------------------------------------------------------------ */
/* IPv4 fast path (bpf/fp4/): established flows the kernel accepted     */
/* ------------------------------------------------------------------ */

#define BR_FP4_ON (1U << 0) /* ipv4.fast-path */
/*
 * conntrack runs only because the fast path needs it (DS-Lite or ipip6
 * without NAT, no other ruleset using it): the first packet of a UDP
 * flow direction goes to the kernel untracked (BR_META_NOTRACK).
 */
#define BR_FP4_LAZY_CT (1U << 1)

/*
 * conntrack timeouts a fast-pathed packet refreshes its entry to, in
 * milliseconds: the kernel's own (net.netfilter.nf_conntrack_*), read
 * by brouterd at start and on reload.
 */
enum br_fp4_timeout {
	BR_FP4_TO_TCP = 0, /* nf_conntrack_tcp_timeout_established */
	BR_FP4_TO_UDP,	   /* nf_conntrack_udp_timeout: replied, not assured */
	BR_FP4_TO_UDP_STREAM, /* nf_conntrack_udp_timeout_stream: assured */
	BR_FP4_TO_MAX,
};

/* The fast path's part of "settings". */
struct br_fp4_settings {
	__u32 flags; /* BR_FP4_* */
	/*
	 * Bumped by brouterd to flush the fast path (ruleset change, reload,
	 * tunnel change): an entry of the XDP cache or of "fp4_fwd" counts
	 * only under the generation it was made in. Never 0, which marks an
	 * "fp4_fwd" entry still waiting for the kernel.
	 */
	__u32 gen;
	__u32 ct_timeout_ms[BR_FP4_TO_MAX];
};

/* Outer DSCP copied from the inner IPv4 header (RFC 2983 uniform model). */
#define BR_DSCP_COPY 0xff

/* An IPv4 TCP/UDP flow as one direction's packets carry it. */
struct br_fp4_key {
	__u32 saddr; /* network order */
	__u32 daddr; /* network order */
	__u16 sport; /* network order */
	__u16 dport; /* network order */
	__u8 proto;  /* IPPROTO_TCP or IPPROTO_UDP */
	__u8 pad[3];
};

/*
 * Value of "fp4_fwd" (LRU hash, key struct br_fp4_key after NAT): the
 * kernel itself forwarded a packet of this flow direction out of @port
 * under fp4 generation @gen (seen by tc egress). The XDP fast path
 * takes a flow direction only then, so it never forwards what the
 * current ruleset would not. gen 0: XDP is waiting for such a packet.
 */
struct br_fp4_fwd {
	__u32 gen;
	__u32 port; /* enum br_port */
};

/*
 * Event in the "fp4_ask" ring buffer: XDP asks brouterd to mark an
 * established TCP entry as not window-tracked (IP_CT_TCP_FLAG_BE_LIBERAL
 * both ways, as the kernel's own flow offload does), so that the packets
 * it hands back to the kernel after forwarding a stream itself are not
 * judged against windows conntrack never saw move.
 */
struct br_fp4_ask {
	struct br_fp4_key t; /* the tuple as the packet carried it */
	__u8 dir; /* its direction in the entry: 0 original, 1 reply */
	__u8 pad[7];
};

/* Value of "settings" (array, one entry): what brouterd may change live. */
struct br_settings {
	__u8 mac[BR_NPORTS][ETH_ALEN_BR]; /* the ports' own MACs */
	__u16 ethertypes[BR_MAX_ETHERTYPES]; /* extra bridged, network order, 0 = end */
	__u32 mark[BR_NPORTS];	/* skb->mark by arrival port: [LAN] out, [WAN] in */
	__u32 flags;		/* BR_F_* */
	/*
	 * Firewall policy, two generations. A reload fills pol[!(gen & 1)]
	 * and the rule maps for that generation, then increments gen: the
	 * only field that changes in that second update, so no packet sees
	 * a torn policy. gen & 1 is the active pol[] and pinhole generation;
	 * the XDP flow cache compares the whole count.
	 */
	struct br_policy pol[2];
	__u32 gen;
	__u8 tun_dscp; /* outer DSCP of IPv4 over IPv6: BR_DSCP_COPY or 0..63 */
	__u8 pad[3];
	struct br_fp4_settings fp4;
};

#define BR_F_MARK (1U << 0) /* set direction marks in tc ingress */

/* Immutable per load (rodata "consts" in each BPF object). */
struct br_consts {
	__u32 ifindex[BR_NPORTS];
	__u32 fc_bits;	/* log2 of the flow cache's sets a CPU; 0: off */
	__u32 owner_pid; /* the brouterd that loaded it: a program left attached
			  * by a killed one is recognised as stale */
	__u32 fp4_bits;	 /* log2 of the IPv4 fast path cache's sets a CPU */
};

/*
 * XDP -> tc ingress handover, in the XDP metadata area in front of the
 * frame. The magic tells tc the area was written by brouter's XDP program
 * and not by some other program sharing the port. Every field is at most
 * 16 bits wide: the area's length is a multiple of 4 and it ends where
 * the frame begins, which the kernel places NET_IP_ALIGN (2) bytes past
 * a word boundary, so a 32-bit field there is misaligned on the CPUs
 * that trap on it (BPF_F_STRICT_ALIGNMENT refuses the program).
 */
#define BR_META_MAGIC_HI 0xb40eU
#define BR_META_MAGIC_LO 0x7e60U

struct br_meta {
	__u16 magic[2]; /* BR_META_MAGIC_HI, BR_META_MAGIC_LO */
	__u8 port;	/* enum br_port the frame arrived on */
	__u8 flags;	/* BR_META_* */
	__u16 pad;
};

#define BR_META_MARK (1U << 0)	/* IPv6 for the stack: set the direction mark */
#define BR_META_CLONE (1U << 1) /* multicast: copy to the other port too */
#define BR_META_REASM (1U << 2) /* WAN: a 4in6 fragment, for tc */
#define BR_META_NOTRACK (1U << 3) /* IPv4: conntrack need not see it */

/*
 * The skb priority tc ingress gives a BR_META_NOTRACK packet, for the
 * "untracked" chain of brouterd's nftables table to match (tc handle
 * 602:0; ip_forward() sets a forwarded packet's priority afresh).
 */
#define BR_NOTRACK_PRIO 0x06020000U

/* ------------------------------------------------------------------ */
/* IPv4 over IPv6: MAP-E, DS-Lite, static ip4ip6 peers                 */
/* ------------------------------------------------------------------ */

enum br_tun_mode {
	BR_TUN_REFUSE = 0, /* tun_in only: 4in6 from anyone else is dropped */
	BR_TUN_MAPE = 1,   /* RFC 7597, NAPT into the port set by nftables */
	BR_TUN_DSLITE = 2, /* RFC 6333 B4: the AFTR does the NAT */
	BR_TUN_IPIP6 = 3,  /* static peer, IPv4 prefixes behind it */
	BR_TUN_LW4O6 = 4,  /* RFC 7596 lwB4: NAPT into a given port set */
	BR_TUN_FIXED = 5,  /* a fixed IPv4 address over ip4ip6, NAPT to it */
};

/* Modes of a CE address the LAN is NAPT-ed to (a port set, or all of it). */
#define BR_TUN_HAS_CE(mode)                                 \
	((mode) == BR_TUN_MAPE || (mode) == BR_TUN_LW4O6 || \
	 (mode) == BR_TUN_FIXED)
#define BR_TUN_MODES 6

/*
 * How the IPv4 packet rides in the IPv6 one: right behind it (next
 * header 4, RFC 2473), or behind a GRE header (next header 47, RFC 2784;
 * with a key, RFC 2890). Header layout and sizes: brouter/gre.h.
 */
#define BR_TUN_F_GRE (1U << 0)
#define BR_TUN_F_KEY (1U << 1) /* GRE with a key: gre_key */

/* One tunnel: value of "tun_out" and "tun_in". */
struct br_tun {
	__u8 local6[16];  /* CE IPv6 address / B4 address / local end */
	__u8 remote6[16]; /* BR / AFTR / peer */
	enum br_tun_mode mode;
	__u32 mtu;	  /* IPv4 MTU inside the tunnel (WAN MTU - 40) */
	__u32 ce_ipv4;	  /* MAP-E, lw4o6, fixed: CE address, network order */
	__u16 psid;	  /* MAP-E, lw4o6: port-set id, right-aligned */
	__u8 psid_len;	  /* k */
	__u8 psid_offset; /* a; m = 16 - a - k */
	__u32 gre_key;	  /* with BR_TUN_F_KEY: sent, and required inbound */
	__u8 flags;	  /* BR_TUN_F_* */
	__u8 pad[3];
};

/*
 * Fragmented 4in6 (bpf/tun/reasm.h): tc ingress on the WAN keeps, on each
 * CPU, up to BR_REASM_SLOTS datagrams whose fragments are still arriving,
 * each of up to BR_REASM_MAX bytes of inner IPv4. The bound is what a tc
 * program can grow a packet to: the kernel caps bpf_skb_change_tail() at
 * SKB_MAX_ALLOC (16 KB less the shared info; 16,064 bytes on x86-64 with
 * the default MAX_SKB_FRAGS). brouterd sizes the "reasm" array to
 * possible CPUs x BR_REASM_SLOTS.
 */
#define BR_REASM_SLOTS	    16
#define BR_REASM_MAX	    15360
#define BR_REASM_FRAGS	    16 /* per datagram (13 of 1232 bytes fill one) */
#define BR_REASM_TIMEOUT_NS 2000000000LL

/* Key of "tun_out" (LPM trie): IPv4 destination prefix -> tunnel. */
struct br_tun_out_key {
	__u32 prefixlen;
	__u32 addr; /* network order */
};

/*
 * Value of "tun_nh" (hash, key: a tunnel's remote end, 16 bytes): the
 * IPv6 next hop out of the WAN towards it, as the kernel's route and
 * neighbour tables said when brouterd last asked (once a second). tc
 * egress hands it to bpf_redirect_neigh(); the IPv4 fast path writes
 * its MAC. (bpf_fib_lookup() answers no IPv6 question on a port where
 * IPv6 forwarding is off, as it is on a bridging router.)
 */
struct br_tun_nh {
	__u8 nh6[16]; /* the gateway, or the remote end itself when on-link */
	__u8 mac[6];  /* the neighbour's MAC, with BR_NH_MAC */
	__u8 flags;   /* BR_NH_* */
	__u8 pad;
};

#define BR_NH_MAC (1U << 0) /* the neighbour entry was resolved */

/* Key of "tun_in" (hash): outer {source, destination} -> tunnel. */
struct br_tun_in_key {
	__u8 remote6[16];
	__u8 local6[16];
};

/*
 * Value of "nat_ports" (array indexed by port number, host order): MAP-E
 * NAPT. conntrack NATs a shared CE's connections into one contiguous
 * range of stand-in ports (so its own port search covers the whole set,
 * per destination); the programs swap each for the port of the set it
 * stands for on the way out, and back on the way in. Both fields are in
 * network order, 0 when the index is no such port.
 */
struct br_nat_port {
	__u16 real; /* index is a stand-in: the port of the set it stands for */
	__u16 nat;  /* index is a port of the set: its stand-in */
};

/*
 * Value of "info" (array, one entry), written by brouterd at start. The
 * layout version changes whenever a pinned map's key or value changes
 * meaning: a brouterd finding another version pinned starts afresh
 * instead of reading old state with new eyes.
 *
 * 2: "stats" gained the flow cache counters (a longer array), and a
 *    flow's rule_id carries the tag of the reload that compiled it
 *    (BR_RULE_*), so "pin_names" can name it.
 * 3: "settings" holds br_policy.echo_rate; "stats" gained the drop
 *    reasons truncated and echo_rate, and encap_fail moved among them.
 * 4: "tun_out"/"tun_in" values grew the GRE flags and key, and "stats"
 *    the tun_bad_key counter (the ids after it moved).
 * 5: "settings" gained the IPv4 fast path's part and the outer DSCP, and
 *    "stats" its counters; encap_portless and tun_ecn are drop reasons.
 * 6: "stats" counts fp4_untracked.
 */
#define BR_LAYOUT_VERSION 6

struct br_info {
	__u32 layout;	  /* BR_LAYOUT_VERSION of the brouterd that pinned */
	__u32 pid;	  /* of the running brouterd, for brouterctl reload */
	__u64 started_ns; /* CLOCK_MONOTONIC */
	/*
	 * What that brouterd changed on each port and must undo. A brouterd
	 * started after one was killed inherits these duties, so the ports
	 * still end up as they were before the first one ran.
	 */
	__u32 ifindex[BR_NPORTS];
	__u8 promisc_set[BR_NPORTS];	/* turned promiscuous mode on */
	__u8 clsact_created[BR_NPORTS]; /* created the clsact qdisc */
	__u32 pad;
};

/*
 * Value of "status" (array, one entry): what brouterd did, for
 * brouterctl and the metrics. Times are CLOCK_REALTIME seconds, as
 * Prometheus wants timestamps.
 */
struct br_status {
	__u64 started_s;	/* brouterd started */
	__u64 reloads;		/* reloads that installed a new policy */
	__u64 reload_failures;	/* reloads refused: the running policy stayed */
	__u64 last_reload_s;	/* last policy installed (at start, or a reload) */
	__u32 tun_modes;	/* 1 << enum br_tun_mode of each tunnel configured */
	__u32 pad;
	char drops_sock[108];	/* Unix socket passing drop events on, "" if none */
	__u32 pad2;
};

/*
 * Pinhole names. A pinhole's rule_id (struct br_pin_val, copied into the
 * flows it opens) is its index in the configuration, tagged with the low
 * bits of the reload that compiled it: "pin_names" (LRU hash, written by
 * brouterd) maps it to the name, so a flow opened before a reload that
 * renumbered the pinholes keeps the name of the rule that opened it.
 */
#define BR_RULE_INDEX_BITS 20
#define BR_RULE_INDEX_MASK ((1U << BR_RULE_INDEX_BITS) - 1)
#define BR_PIN_NAME_LEN 32

struct br_pin_name {
	char name[BR_PIN_NAME_LEN]; /* "" for an unnamed pinhole */
};

/* Names of the pinned objects under the pin directory. */
#define BR_PIN_DIR_DEFAULT "/sys/fs/bpf/brouter"

#endif /* BR_ABI_H */
