/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Per-CPU counters, added where a program settles a verdict or drops. */
#ifndef BR_STATS_H
#define BR_STATS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "maps.h"

static __always_inline void stat_add_n(__u32 id, __u32 port, __u64 packets,
				       __u64 bytes)
{
	struct br_stat *st = bpf_map_lookup_elem(&stats, &id);
	struct br_ctr *c;

	if (!st)
		return;
	c = port == BR_PORT_LAN ? &st->lan : &st->wan;
	/* Per-CPU value: no other CPU writes it, plain adds are enough. */
	c->packets += packets;
	c->bytes += bytes;
}

static __always_inline void stat_add(__u32 id, __u32 port, __u64 bytes)
{
	stat_add_n(id, port, 1, bytes);
}

#endif /* BR_STATS_H */
