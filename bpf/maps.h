/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Every table brouter's programs keep, in one place: what it holds, who
 * writes it, whether it outlives brouterd (pinned by name under the pin
 * directory) — and the settings brouterd writes before load. Keys and
 * values crossing to user space are in include/brouter/abi.h; the layouts
 * below are the data path's own (caches, clock, rate window).
 *
 * All three objects include this file. brouterd loads the XDP object
 * first and hands its maps to the tc objects (bpf_map__reuse_fd()), so
 * each table exists once however many objects name it.
 */
#ifndef BR_MAPS_H
#define BR_MAPS_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include "brouter/abi.h"
#include "lib/parse.h"

/* Immutable per load (rodata), written by brouterd before the load. */
const volatile struct br_consts consts = {};

/* ---- ports and settings ------------------------------------------------ */

/* Live settings (one entry): own MACs, marks, bridged ethertypes, policy. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct br_settings);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} settings SEC(".maps");

/*
 * Redirect targets: key enum br_port, value ifindex. Not pinned by name:
 * the kernel adds BPF_F_RDONLY_PROG to every devmap, which libbpf 1.1
 * then sees as a mismatch and refuses to reuse. It holds no state, so
 * brouterd creates it afresh and pins it itself for inspection.
 */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, BR_NPORTS);
	__type(key, __u32);
	__type(value, __u32);
} tx_ports SEC(".maps");

/* Who pinned the maps, for brouterd and brouterctl only (see struct br_info). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct br_info);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} info SEC(".maps");

/* What brouterd did (reloads, tunnels configured): for brouterctl and metrics. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct br_status);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} status SEC(".maps");

/* Per-CPU counters, key enum br_stat_id (include/brouter/counters.h). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BR_STAT_MAX);
	__type(key, __u32);
	__type(value, struct br_stat);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} stats SEC(".maps");

/* ---- clock (lib/clock.h) -------------------------------------------------- */

struct br_clock {
	__u64 jiffies; /* when ns was read */
	__u64 ns;      /* bpf_ktime_get_coarse_ns() + skew_ns */
	/*
	 * 0 in service. The program tests set it to move brouter's time
	 * forward with every table and cache left as it is, the way time
	 * passing does: no program writes it.
	 */
	__u64 skew_ns;
};

/* Not pinned: each CPU refills it on its next packet. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct br_clock);
} clock SEC(".maps");

/* ---- layer 2 (fw/fdb.h) -------------------------------------------------- */

#define BR_FDB_SIZE 4096

/* Learning FDB: MAC -> port it was last seen on. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BR_FDB_SIZE);
	__type(key, struct br_fdb_key);
	__type(value, struct br_fdb_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} fdb SEC(".maps");

/* Each CPU's direct-mapped cache in front of "fdb" (see fw/fdb.h). */
#define BR_FDB_CACHE 16

struct fdb_cache_entry {
	__u8 mac[ETH_ALEN_BR];
	__u8 port;
	__u8 valid;
	__u64 seen_ns;
};

struct fdb_cache {
	struct fdb_cache_entry e[BR_FDB_CACHE];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fdb_cache);
} fdb_cpu SEC(".maps");

/* ---- stateful firewall (fw/) --------------------------------------------- */

/* Default size; brouterd sets max_entries from firewall.max-flows. */
#define BR_FLOWS_SIZE 131072

/* Connections and EI/AD bindings, keyed LAN side first (fw/flows.h). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BR_FLOWS_SIZE);
	__type(key, struct br_flow_key);
	__type(value, struct br_flow);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} flows SEC(".maps");

/* Non-first fragments follow the verdict of their first fragment. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, struct br_frag_key);
	__type(value, struct br_frag_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} frags SEC(".maps");

/* Sources seen on the LAN: an inbound packet from one of them is spoofed. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct br_addr_key);
	__type(value, struct br_addr_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lan_addrs SEC(".maps");

/* Pinholes: destination prefix -> set, then {set, proto, port} -> rule. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 65536);
	__type(key, struct br_pin_dst_key);
	__type(value, struct br_pin_dst_val);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pin_dst SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1 << 20);
	__type(key, struct br_pin_key);
	__type(value, struct br_pin_val);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pin_rules SEC(".maps");

/*
 * Tagged rule_id -> pinhole name, written by brouterd at each reload for
 * brouterctl flows. LRU: names of old reloads go when space runs short.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct br_pin_name);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pin_names SEC(".maps");

/* Prefixes valid as outbound sources: RA-learned and configured. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 256);
	__type(key, struct br_prefix_key);
	__type(value, struct br_prefix_val);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} prefixes SEC(".maps");

/*
 * The firewall's copy of the packet it judges (fw/decide.h), one per CPU.
 * Kept off the stack: the verifier allows 512 bytes for a program and
 * the global functions it calls together, and fw_decide() needs most.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fw_pkt);
} fw_scratch SEC(".maps");

/* ---- flow cache (fw/flowcache.h, which says what an entry stands for) ---- */

/* struct br_flow_key, a word at a time. */
union fc_key {
	struct br_flow_key k;
	__u32 w[10];
	__u64 q[5];
};

/* One cache line: the map is page-aligned (mmapable), so is every entry. */
struct fc_entry {
	union fc_key k;
	__u64 until_ns; /* trusted until then */
	/*
	 * By arrival port: the settings.gen (its low bits) a packet may hit
	 * under, the one it was confirmed under, or one behind for
	 * outbound packets that must still refresh the flow (flowcache.h,
	 * invariant 4).
	 */
	__u16 gen[BR_NPORTS];
	__u8 mac[BR_NPORTS][ETH_ALEN_BR]; /* the stations on either side */
};

/*
 * Two-way set associative: a flow may sit in either entry of its set,
 * two adjacent cache lines (which the hardware fetches as a pair). With
 * as many flows as sets, a direct-mapped cache loses a third of them to
 * collisions, two ways a tenth (Poisson: a set overflows only with a
 * third flow).
 */
struct fc_set {
	struct fc_entry e[BR_FC_WAYS];
};
_Static_assert(sizeof(struct fc_entry) == BR_FC_ENTRY_SIZE, "one cache line");

/*
 * 1 << consts.fc_bits sets for each possible CPU, CPU n's from
 * n << fc_bits; brouterd sets max_entries (1 with the cache off). A plain
 * array rather than a per-CPU one: a per-CPU value is at most 32 KB, and
 * a per-CPU array of many entries reaches each through a pointer of its
 * own. Not pinned: it holds nothing worth keeping, and a restarted
 * brouterd numbers its generations afresh.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct fc_set);
} flow_cache SEC(".maps");

/* ---- drop log (lib/droplog.h) -------------------------------------------- */

/* Rate-limited events, read by brouterd. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} drop_log SEC(".maps");

/*
 * One-second window shared by all CPUs (lib/rate.h); the count is
 * approximate by design: two CPUs may both start a new window.
 */
struct rate_window {
	__u64 start_ns;
	__u32 count;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rate_window);
} log_rate SEC(".maps");

/* Inbound echo requests let in (RFC 4890 4.3.1), firewall.echo-rate a second. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rate_window);
} echo_window SEC(".maps");

/* ---- IPv4 over IPv6 (tun/) ----------------------------------------------- */

#define BR_TUN_MAX 64

/* IPv4 destination prefix -> tunnel, for encapsulation (tc egress). */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, BR_TUN_MAX);
	__type(key, struct br_tun_out_key);
	__type(value, struct br_tun);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tun_out SEC(".maps");

/* Outer {source, destination} -> tunnel, for decapsulation (XDP). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BR_TUN_MAX);
	__type(key, struct br_tun_in_key);
	__type(value, struct br_tun);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} tun_in SEC(".maps");

/*
 * Bumped by brouterd after every change to "tun_in": a CPU's copy of a
 * tunnel ("tun_in_last") counts only under the count it was made in.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} tun_epoch SEC(".maps");

/*
 * The tunnel XDP found last on this CPU, copied out of "tun_in" (tun/decap.h
 * says why). Not pinned: a new load starts with none.
 */
struct tun_in_last {
	struct br_tun_in_key k;
	struct br_tun t; /* mode 0 (BR_TUN_REFUSE): no copy */
	__u32 epoch;	 /* "tun_epoch" when it was copied */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tun_in_last);
} tun_in_last SEC(".maps");

/*
 * Datagrams whose 4in6 fragments are still arriving (tun/reasm.h says
 * why in tc and how a slot is chosen). CPU n's BR_REASM_SLOTS slots
 * start at n * BR_REASM_SLOTS; brouterd sets max_entries. Not pinned:
 * half a datagram is not worth keeping across a restart.
 */
#define REASM_CHUNK 1024 /* bytes one helper call copies */

enum reasm_state {
	REASM_FREE = 0,
	REASM_REFUSED, /* checked and refused: drop the rest, counted */
	REASM_OPEN,    /* fragments held */
};

struct reasm_range {
	__u16 start;
	__u16 end; /* bytes of the inner packet, end exclusive */
};

struct reasm_slot {
	struct br_tun_in_key k; /* outer source and destination */
	__u32 id;		/* fragment identification, network order */
	__u8 state;		/* enum reasm_state */
	__u8 nfrag;		/* fragments held */
	__u8 first;		/* offset-0 fragment held: checks passed */
	__u8 skip;    /* with first: bytes of options, GRE before IPv4 */
	__u16 total;  /* inner length, from the last fragment */
	__u16 have;   /* bytes held */
	__u32 reason; /* REFUSED: the drop reason of the rest */
	__u32 frames; /* bytes of the frames held, for the counters */
	__u64 first_ns;
	__u64 last_ns;
	struct reasm_range r[BR_REASM_FRAGS];
	/* the inner packet; a copy may start up to BR_REASM_MAX (verifier bound) */
	__u8 data[BR_REASM_MAX + REASM_CHUNK];
} __attribute__((aligned(8)));

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct reasm_slot);
} reasm SEC(".maps");
/* A tunnel's remote end -> its IPv6 next hop, written by brouterd (struct br_tun_nh). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BR_TUN_MAX);
	__type(key, struct br_addr_key);
	__type(value, struct br_tun_nh);
} tun_nh SEC(".maps");

/* ---- IPv4 fast path (fp4/, fp4/cache.h says what an entry stands for) --- */

/*
 * Flow directions the kernel forwarded itself, by their tuple after NAT
 * (include/brouter/abi.h, struct br_fp4_fwd). XDP creates an entry when
 * it wants to take a flow direction over; tc egress stamps it with the
 * generation when the kernel forwards a packet of it. Not pinned: a
 * restarted brouterd starts its generations afresh.
 */
#define BR_FP4_FWD_SIZE 65536

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BR_FP4_FWD_SIZE);
	__type(key, struct br_fp4_key);
	__type(value, struct br_fp4_fwd);
} fp4_fwd SEC(".maps");

/* Requests to brouterd: stop window tracking of a TCP entry (struct br_fp4_ask). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} fp4_ask SEC(".maps");

enum fp4_state {
	FP4_EMPTY = 0,
	FP4_GO,	  /* forward: the rewrite below holds */
	FP4_WAIT, /* to the kernel, without asking again, until until_ns */
};

/* One cache line: what a packet of a fast-pathed flow direction needs. */
struct fp4_entry {
	union {
		/* as the packet carries it; pad[0]: its port */
		struct br_fp4_key t;
		__u64 q[2];
	} k;
	__u64 until_ns; /* trusted until then (fp4/cache.h) */
	__u32 gen;	/* settings.fp4.gen it was made under */
	__u8 state;	/* enum fp4_state */
	__u8 why;	/* FP4_WAIT: enum br_stat_id - BR_FP4_WHY_FIRST */
	__u8 tun;	/* 0: plain; else 1 + its slot in "fp4_tun" */
	__u8 tun_ver;	/* that slot's version when this entry was made */
	union {
		struct {
			__u32 saddr; /* the tuple after NAT, network order */
			__u32 daddr;
			__u16 sport;
			__u16 dport;
			__u16 csum_ip; /* to add to ~check (RFC 1624): addresses, TTL */
			__u16 csum_l4; /* addresses (pseudo header) and ports */
		};
		__u64 asked_ns; /* FP4_WAIT for brouterd: when it was asked */
	};
	__u16 mtu;		  /* largest IPv4 total length that goes */
	__u8 mac[2][ETH_ALEN_BR]; /* destination, source */
	__u16 pad;
};
_Static_assert(sizeof(struct fp4_entry) == 64, "one cache line");

/* Two-way set associative, as the IPv6 flow cache (see fc_set). */
#define FP4_WAYS 2
struct fp4_set {
	struct fp4_entry e[FP4_WAYS];
};

/*
 * 1 << consts.fp4_bits sets for each possible CPU, CPU n's from
 * n << fp4_bits; brouterd sets max_entries. Not pinned, as flow_cache.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct fp4_set);
} fp4_cache SEC(".maps");

/*
 * Each CPU's outer headers of the tunnels its fast-pathed flows use, so
 * that a cache entry is one line: slot by a hash of the tunnel's ends;
 * ver changes whenever a slot is given to another tunnel, and an entry
 * made for the old one then no longer matches.
 */
struct fp4_tun {
	__u32 local6[4];
	__u32 remote6[4];
	__u8 ver;
	__u8 pad[7];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BR_TUN_MAX);
	__type(key, __u32);
	__type(value, struct fp4_tun);
} fp4_tun SEC(".maps");

/*
 * MAP-E NAPT stand-ins <-> ports of the set, by port number (struct
 * br_nat_port). Written by brouterd when the CE's set is known; not
 * pinned, since it follows the tunnel, not the connections.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct br_nat_port);
} nat_ports SEC(".maps");

#endif /* BR_MAPS_H */
