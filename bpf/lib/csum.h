/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Internet checksums in XDP, where no skb helper keeps them: incremental updates (RFC 1624). */
#ifndef BR_CSUM_H
#define BR_CSUM_H

#include <linux/types.h>

/*
 * A 16-bit field covered by the checksum at @sum changed from @old to
 * @new (both as stored): HC' = ~(~HC + ~m + m'), RFC 1624 eqn. 3. One's
 * complement sums do not depend on byte order, so network-order words go
 * in as they are.
 */
static __always_inline __u16 csum_replace16(__u16 sum, __u16 old, __u16 new)
{
	__u32 s = (__u16)~sum + (__u32)(__u16)~old + new;

	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return ~s;
}

#endif /* BR_CSUM_H */
