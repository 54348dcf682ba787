/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * MAP-E port sets (RFC 7597 5.1), the one definition the XDP program's
 * inbound check and brouterd's rule arithmetic both use:
 *
 *   port = A << (16 - a) | PSID << m | j,   m = 16 - a - k
 *
 * with a the PSID offset, k the PSID length, A = 1 .. 2^a - 1 when a > 0
 * (A = 0 would hand out the system ports) and no A field when a = 0.
 * With k = 0 the address is not shared: the CE owns it whole, every port
 * 0..65535 (as lw4o6's PSID length 0 and OpenWrt's mapcalc read it).
 *
 * Written for both compilers: the masks keep the BPF verifier's view of
 * every shift in range; for valid parameters (a <= 15, k <= 16, a + k <=
 * 16) they change nothing.
 */
#ifndef BR_PORTSET_H
#define BR_PORTSET_H

#include <linux/types.h>

#ifndef BR_INLINE
#define BR_INLINE static inline __attribute__((always_inline))
#endif

/* Is @port (host order) in the set of @psid (k = @psid_len, a = @offset)? */
BR_INLINE int br_port_in_set(__u32 port, __u32 psid, __u32 psid_len,
				 __u32 offset)
{
	__u32 a = offset & 15, k = psid_len & 31, m;

	if (!k)
		return 1; /* the whole address is ours */
	if (a + k > 16)
		return 0;
	m = 16 - a - k;
	if (a && !(port >> (16 - a)))
		return 0;
	return ((port >> m) & ((1U << k) - 1)) == psid;
}

/* How many runs of consecutive ports the set has: one per value of A. */
BR_INLINE __u32 br_portset_ranges(__u32 psid_len, __u32 offset)
{
	if (!psid_len || !offset)
		return 1;
	return (1U << (offset & 15)) - 1;
}

/* Ports in each run: 2^m, or all 65536 for an unshared address. */
BR_INLINE __u32 br_portset_run_len(__u32 psid_len, __u32 offset)
{
	if (!psid_len)
		return 65536;
	return 1U << ((16 - (offset & 15) - (psid_len & 31)) & 31);
}

/* First port of run @i (0-based, i < br_portset_ranges()). */
BR_INLINE __u32 br_portset_first(__u32 psid, __u32 psid_len, __u32 offset,
				     __u32 i)
{
	__u32 a = offset & 15, m = (16 - a - (psid_len & 31)) & 31, first;

	if (!psid_len)
		return 0;
	first = psid << m;
	if (a)
		first |= (i + 1) << (16 - a);
	return first & 0xffff;
}

#endif /* BR_PORTSET_H */
