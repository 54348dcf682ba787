/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* IPv6 addresses: copy, compare, and the classes RFC 6092 and 4291 name. */
#ifndef BR_ADDR6_H
#define BR_ADDR6_H

#include <linux/in6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

static __always_inline void addr_copy(__u8 *dst, const void *src)
{
	__builtin_memcpy(dst, src, 16);
}

static __always_inline int a6_eq(const struct in6_addr *a,
				 const struct in6_addr *b)
{
	return !((a->s6_addr32[0] ^ b->s6_addr32[0]) |
		 (a->s6_addr32[1] ^ b->s6_addr32[1]) |
		 (a->s6_addr32[2] ^ b->s6_addr32[2]) |
		 (a->s6_addr32[3] ^ b->s6_addr32[3]));
}

static __always_inline int a6_mcast(const struct in6_addr *a)
{
	return a->s6_addr[0] == 0xff;
}

static __always_inline int a6_unspec(const struct in6_addr *a)
{
	return !(a->s6_addr32[0] | a->s6_addr32[1] | a->s6_addr32[2] |
		 a->s6_addr32[3]);
}

static __always_inline int a6_loopback(const struct in6_addr *a)
{
	return !(a->s6_addr32[0] | a->s6_addr32[1] | a->s6_addr32[2]) &&
	       a->s6_addr32[3] == bpf_htonl(1);
}

static __always_inline int a6_v4mapped(const struct in6_addr *a)
{
	return !(a->s6_addr32[0] | a->s6_addr32[1]) &&
	       a->s6_addr32[2] == bpf_htonl(0xffff);
}

static __always_inline int a6_linklocal(const struct in6_addr *a)
{
	return (a->s6_addr16[0] & bpf_htons(0xffc0)) == bpf_htons(0xfe80);
}

static __always_inline int a6_ula(const struct in6_addr *a)
{
	return (a->s6_addr[0] & 0xfe) == 0xfc;
}

#endif /* BR_ADDR6_H */
