/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Learning FDB: source MACs by port, so LAN-local unicast stays local. */
#ifndef BR_FDB_H
#define BR_FDB_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "maps.h"
#include "lib/clock.h"

/*
 * A per-CPU, direct-mapped cache in front of the FDB. A home or office LAN
 * has few stations and each CPU sees bursts of the same few; a hash-map
 * probe per frame for the source and another for the destination cost
 * about a quarter of the whole bridging path, a cache hit almost nothing.
 * Entries are trusted for BR_FDB_REFRESH_NS, so a station that moves is
 * seen at its new port within a second on every CPU.
 */

/* This CPU's cache, looked up once per frame for both of its MACs. */
static __always_inline struct fdb_cache *fdb_cache(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&fdb_cpu, &zero);
}

static __always_inline struct fdb_cache_entry *
fdb_cache_slot(struct fdb_cache *c, const __u8 *mac)
{
	if (!c)
		return NULL;
	/* the last byte varies most between stations (often the NIC serial) */
	return &c->e[(mac[5] ^ mac[4]) & (BR_FDB_CACHE - 1)];
}

static __always_inline int fdb_cache_hit(const struct fdb_cache_entry *e,
					 const __u8 *mac, __u64 now)
{
	const __u16 *a = (const __u16 *)e->mac, *b = (const __u16 *)mac;

	return e->valid && now - e->seen_ns < BR_FDB_REFRESH_NS &&
	       !((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]));
}

static __always_inline void fdb_cache_fill(struct fdb_cache_entry *e,
					   const __u8 *mac, __u32 port, __u64 now)
{
	__builtin_memcpy(e->mac, mac, ETH_ALEN_BR);
	e->port = port;
	e->valid = 1;
	e->seen_ns = now;
}

static __always_inline void fdb_key_set(struct br_fdb_key *k, const __u8 *mac)
{
	__builtin_memcpy(k->mac, mac, ETH_ALEN_BR);
	k->pad = 0;
}

/*
 * Learn (or refresh) where @mac lives. The shared table is written at most
 * once per BR_FDB_REFRESH_NS per station and CPU, and only read when this
 * CPU's cache does not already know the station on this port.
 */
static __always_inline void fdb_learn(struct fdb_cache *c, const __u8 *mac,
				      __u32 port, __u64 now)
{
	struct fdb_cache_entry *e = fdb_cache_slot(c, mac);
	struct br_fdb_val *v, nv = { .port = port, .seen_ns = now };
	struct br_fdb_key k;

	if (e && fdb_cache_hit(e, mac, now) && e->port == port)
		return;
	fdb_key_set(&k, mac);
	v = bpf_map_lookup_elem(&fdb, &k);
	if (!v || v->port != port || now - v->seen_ns >= BR_FDB_REFRESH_NS)
		bpf_map_update_elem(&fdb, &k, &nv, BPF_ANY);
	if (e)
		fdb_cache_fill(e, mac, port, now);
}

/* Port @mac was learned on, or -1 when unknown. */
static __always_inline int fdb_port(struct fdb_cache *c, const __u8 *mac,
				    __u64 now)
{
	struct fdb_cache_entry *e = fdb_cache_slot(c, mac);
	struct br_fdb_val *v;
	struct br_fdb_key k;

	if (e && fdb_cache_hit(e, mac, now))
		return e->port;
	fdb_key_set(&k, mac);
	v = bpf_map_lookup_elem(&fdb, &k);
	if (!v)
		return -1;
	if (e)
		fdb_cache_fill(e, mac, v->port, now);
	return v->port;
}

#endif /* BR_FDB_H */
