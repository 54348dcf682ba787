/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The clock the data path stamps its tables with, read from user space:
 * bpf_ktime_get_ns() and bpf_ktime_get_coarse_ns() are CLOCK_MONOTONIC.
 */
#ifndef BR_MONO_H
#define BR_MONO_H

#include <time.h>
#include <linux/types.h>

static inline __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/*
 * Nanoseconds from @then to @now, never negative. The data path may stamp
 * an entry after @now was read, leaving @then a little ahead: that is
 * "just now", not the 584 years an unsigned difference makes of it.
 */
static inline __u64 mono_since(__u64 now, __u64 then)
{
	__s64 d = (__s64)(now - then);

	return d > 0 ? (__u64)d : 0;
}

#endif /* BR_MONO_H */
