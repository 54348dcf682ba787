/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The one clock brouter's programs read. */
#ifndef BR_CLOCK_H
#define BR_CLOCK_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/*
 * CLOCK_MONOTONIC at jiffy resolution. Every timeout and refresh interval
 * here is a second or more, and the coarse clock costs a memory read where
 * bpf_ktime_get_ns() reads the clocksource (a paravirtual call on kvm-clock
 * guests, measured at about a third of the whole bridging path). Same base
 * as CLOCK_MONOTONIC, so user space compares its own readings directly.
 */
static __always_inline __u64 now_ns(void)
{
	return bpf_ktime_get_coarse_ns();
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
