/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * GRE (RFC 2784, keys and sequence numbers RFC 2890) as brouter's IPv4
 * over IPv6 peers use it: the header's bits and its length, for tc egress
 * (which writes it), XDP and tc ingress (which read it) and brouterd
 * (whose tunnel MTU it shrinks).
 *
 *   |C|R|K|S|s|Recur|  Flags  | Ver |      Protocol Type (0x0800)    |
 *   |      Checksum (with C)        |       Reserved1 (with C)       |
 *   |                         Key (with K)                          |
 *   |                   Sequence Number (with S)                    |
 */
#ifndef BR_GRE_H
#define BR_GRE_H

#include <linux/types.h>

#ifndef BR_INLINE
#define BR_INLINE static inline __attribute__((always_inline))
#endif

/* The first 16 bits, host order. */
#define BR_GRE_CSUM    0x8000U
#define BR_GRE_ROUTING 0x4000U /* RFC 1701 only: discarded (RFC 2784 2.3) */
#define BR_GRE_KEY     0x2000U
#define BR_GRE_SEQ     0x1000U
#define BR_GRE_SSR     0x0800U /* RFC 1701 strict source route: discarded */
#define BR_GRE_RECUR5  0x0400U /* RFC 1701 recursion control's first bit */
#define BR_GRE_VERSION 0x0007U /* must be 0 */
/*
 * RFC 2784 2.3: a receiver MUST discard a packet with any of bits 1-5
 * set (K and S, bits 2 and 3, are RFC 2890's) or a version other than
 * 0; bits 6-12 are ignored.
 */
#define BR_GRE_REFUSED \
	(BR_GRE_ROUTING | BR_GRE_SSR | BR_GRE_RECUR5 | BR_GRE_VERSION)

#define BR_GRE_BASE_LEN 4
#define BR_GRE_MAX_LEN	16 /* with checksum, key and sequence number */

/* Bytes of the GRE header brouter sends: 4, and 4 more with a key. */
BR_INLINE __u32 br_gre_len_out(int keyed)
{
	return BR_GRE_BASE_LEN + (keyed ? 4 : 0);
}

/* Bytes of a received header whose first 16 bits (host order) are @flags. */
BR_INLINE __u32 br_gre_len_in(__u32 flags)
{
	return BR_GRE_BASE_LEN + (flags & BR_GRE_CSUM ? 4 : 0) +
	       (flags & BR_GRE_KEY ? 4 : 0) + (flags & BR_GRE_SEQ ? 4 : 0);
}

#endif /* BR_GRE_H */
