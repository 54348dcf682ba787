/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The one clock brouter's programs read. */
#ifndef BR_CLOCK_H
#define BR_CLOCK_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "maps.h"

/*
 * CLOCK_MONOTONIC at jiffy resolution. Every timeout and refresh interval
 * here is a second or more, and the coarse clock costs a memory read where
 * bpf_ktime_get_ns() reads the clocksource (a paravirtual call on kvm-clock
 * guests, measured at about a third of the whole bridging path). Same base
 * as CLOCK_MONOTONIC, so user space compares its own readings directly.
 *
 * The coarse clock only moves on a tick, so each CPU calls the helper
 * once per jiffy and keeps the reading: bpf_jiffies64() is a single load
 * (the verifier inlines it on 64-bit JITs), where calling the helper for
 * every packet cost 1-1.5 ns of the 15-16 a bridged one takes. The tick
 * bumps jiffies just before it updates the time, so a CPU that reads in
 * between keeps the previous tick's time for this jiffy: readings lag
 * CLOCK_MONOTONIC by at most two ticks (8 ms at HZ=250), never lead it,
 * and never go back on one CPU.
 */
static __always_inline __u64 now_ns(void)
{
	__u32 zero = 0;
	struct br_clock *c = bpf_map_lookup_elem(&clock, &zero);
	__u64 j = bpf_jiffies64();

	if (!c)
		return bpf_ktime_get_coarse_ns();
	if (c->jiffies != j) {
		c->jiffies = j;
		c->ns = bpf_ktime_get_coarse_ns() + c->skew_ns;
	}
	return c->ns;
}

/*
 * Time from @then to @now, signed. Another CPU may store a timestamp read
 * after this program read @now: it is then a little ahead and must count
 * as "just now", not as 584 years idle. Unsigned wrap-around before the
 * cast keeps timestamps from "before boot" (written by tests shortly
 * after boot) working as well. Compare with signed constants only.
 */
static __always_inline __s64 ns_since(__u64 now, __u64 then)
{
	return (__s64)(now - then);
}

#endif /* BR_CLOCK_H */
