/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Per-CPU counters: one helper, used at each program's single exit. */
#ifndef BR_STATS_H
#define BR_STATS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "../include/brouter.h"

/* Per-CPU counters, key enum br_stat_id (see include/brouter.h). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BR_STAT_MAX);
	__type(key, __u32);
	__type(value, struct br_stat);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} stats SEC(".maps");

static __always_inline void stat_add(__u32 id, __u32 port, __u64 bytes)
{
	struct br_stat *st = bpf_map_lookup_elem(&stats, &id);
	struct br_ctr *c;

	if (!st)
		return;
	c = port == BR_PORT_LAN ? &st->lan : &st->wan;
	/* Per-CPU value: no other CPU writes it, plain adds are enough. */
	c->packets++;
	c->bytes += bytes;
}

#endif /* BR_STATS_H */
