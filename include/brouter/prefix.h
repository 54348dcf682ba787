/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Prefix arithmetic on addresses in network byte order, for both the BPF
 * programs (pinhole sources) and brouterd (config, MAP-E rules, compiled
 * maps): mask the bits past a length, test whether an address falls in a
 * prefix. Addresses are words of 32 bits (IPv4: one, IPv6: four).
 */
#ifndef BR_PREFIX_H
#define BR_PREFIX_H

#include <linux/types.h>

#ifndef BR_INLINE
/* Inlined into each caller, as the BPF programs' own helpers are. */
#define BR_INLINE static inline __attribute__((always_inline))
#endif

/*
 * Unrolled by clang: in the BPF programs a kept loop spills enough to
 * push the firewall's two frames past the verifier's 512-byte stack.
 */
#ifdef __clang__
#define BR_UNROLL _Pragma("unroll")
#else
#define BR_UNROLL
#endif

/* Host to network order of a 32-bit word, for either compiler. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define br_be32(x) __builtin_bswap32(x)
#else
#define br_be32(x) (x)
#endif

/* The mask of word @w (0-based) of a prefix of length @plen, network order. */
BR_INLINE __u32 br_prefix_word_mask(__u32 plen, __u32 w)
{
	__u32 bits = plen > w * 32 ? plen - w * 32 : 0;

	if (!bits)
		return 0;
	return bits >= 32 ? 0xffffffff : br_be32(~(0xffffffffU >> bits));
}

/*
 * Does @addr fall in @pfx/@plen? Words past the prefix are never read, so
 * an IPv4 address (one word, @plen <= 32) is compared in its one word.
 */
BR_INLINE int br_prefix_match(const __u32 *addr, const __u32 *pfx,
			     __u32 plen)
{
	__u32 w, bits, mask;

	BR_UNROLL
	for (w = 0; w < 4; w++) {
		bits = plen > w * 32 ? plen - w * 32 : 0;
		if (!bits)
			return 1; /* the rest is host bits */
		mask = bits >= 32 ? 0xffffffff : br_be32(~(0xffffffffU >> bits));
		if ((addr[w] ^ pfx[w]) & mask)
			return 0;
	}
	return 1;
}

/* Clear the bits of @addr past @plen. */
BR_INLINE void br_prefix_mask(__u32 *addr, __u32 plen, __u32 nwords)
{
	__u32 w;

	for (w = 0; w < nwords && w < 4; w++)
		addr[w] &= br_prefix_word_mask(plen, w);
}

#endif /* BR_PREFIX_H */
