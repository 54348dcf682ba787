/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Internet checksums (RFC 1071) in XDP, where no skb helper keeps them,
 * updated incrementally (RFC 1624): HC' = ~(~HC + ~m + m') for every
 * 16-bit word m that becomes m'. The one's complement sum does not depend
 * on byte order as long as every word is taken the same way, so these
 * work on words as they lie in memory (network order) and the result is
 * stored as it is.
 */
#ifndef BR_CSUM_H
#define BR_CSUM_H

#include <linux/types.h>
#include <bpf/bpf_helpers.h>

/* Fold a 32-bit sum of 16-bit words into 16 bits (end-around carry). */
static __always_inline __u16 csum_fold32(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

/* ~m + m' for a 16-bit word (the part of RFC 1624 eqn 3 a change adds). */
static __always_inline __u32 csum_diff16(__u16 from, __u16 to)
{
	return (__u16)~from + (__u32)to;
}

/* The same for a 32-bit field (an IPv4 address): its two words. */
static __always_inline __u32 csum_diff32(__u32 from, __u32 to)
{
	return csum_diff16(from, to) + csum_diff16(from >> 16, to >> 16);
}

/* The checksum @check after words changed by @delta (a folded diff sum). */
static __always_inline __u16 csum_apply(__u16 check, __u16 delta)
{
	return ~csum_fold32((__u16)~check + (__u32)delta);
}

/* A 16-bit field covered by the checksum @sum changed from @old to @new. */
static __always_inline __u16 csum_replace16(__u16 sum, __u16 old, __u16 new)
{
	return csum_apply(sum, csum_fold32(csum_diff16(old, new)));
}

/*
 * A UDP checksum: 0 means "none" (RFC 768) and stays 0; a computed 0
 * is sent as 0xffff, its other one's complement form.
 */
static __always_inline __u16 csum_apply_udp(__u16 check, __u16 delta)
{
	__u16 c;

	if (!check)
		return 0;
	c = csum_apply(check, delta);
	return c ? c : 0xffff;
}

#endif /* BR_CSUM_H */
