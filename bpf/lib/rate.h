/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Events a second, counted in a window all CPUs share: drop logs, inbound echo. */
#ifndef BR_RATE_H
#define BR_RATE_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "maps.h"
#include "lib/clock.h"

/*
 * May one more event of @map's window happen, at most @rate a second?
 * The window restarts a second after it began; its count is shared by
 * every CPU (an atomic add, no lock).
 */
static __always_inline int rate_allowed(void *map, __u32 rate, __u64 now)
{
	struct rate_window *w;
	__u32 zero = 0;

	w = bpf_map_lookup_elem(map, &zero);
	if (!w)
		return 0;
	if (ns_since(now, w->start_ns) > 1000000000LL) {
		w->start_ns = now;
		w->count = 0;
	}
	return __sync_fetch_and_add(&w->count, 1) < rate;
}

#endif /* BR_RATE_H */
