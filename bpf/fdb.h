/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Learning FDB: source MACs by port, so LAN-local unicast stays local. */
#ifndef BR_FDB_H
#define BR_FDB_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "../include/brouter.h"

#define BR_FDB_SIZE 4096

/* Learning FDB: MAC -> port it was last seen on. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BR_FDB_SIZE);
	__type(key, struct br_fdb_key);
	__type(value, struct br_fdb_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} fdb SEC(".maps");

static __always_inline void fdb_key_set(struct br_fdb_key *k, const __u8 *mac)
{
	__builtin_memcpy(k->mac, mac, ETH_ALEN_BR);
	k->pad = 0;
}

/*
 * Learn (or refresh) where @mac lives. A station that keeps talking from
 * the same port is rewritten at most once per BR_FDB_REFRESH_NS: a map
 * update per packet would cost more than the whole bridging decision.
 */
static __always_inline void fdb_learn(const __u8 *mac, __u32 port)
{
	struct br_fdb_val *v, nv = { .port = port };
	struct br_fdb_key k;
	__u64 now = bpf_ktime_get_ns();

	fdb_key_set(&k, mac);
	v = bpf_map_lookup_elem(&fdb, &k);
	if (v && v->port == port && now - v->seen_ns < BR_FDB_REFRESH_NS)
		return;
	nv.seen_ns = now;
	bpf_map_update_elem(&fdb, &k, &nv, BPF_ANY);
}

/* Port @mac was learned on, or -1 when unknown. */
static __always_inline int fdb_port(const __u8 *mac)
{
	struct br_fdb_val *v;
	struct br_fdb_key k;

	fdb_key_set(&k, mac);
	v = bpf_map_lookup_elem(&fdb, &k);
	return v ? (int)v->port : -1;
}

#endif /* BR_FDB_H */
