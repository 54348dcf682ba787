/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The one IPv6 and IPv4 prefix type of user space, with its parser and
 * the arithmetic every part of brouterd and brouterctl uses (config,
 * pinholes, RA prefixes, MAP-E rules). The bit arithmetic itself is
 * include/brouter/prefix.h, shared with the BPF programs.
 */
#ifndef BR_COMMON_PREFIX_H
#define BR_COMMON_PREFIX_H

#include <stdbool.h>
#include <stddef.h>
#include <netinet/in.h>

struct prefix6 {
	struct in6_addr addr;
	unsigned int len; /* 0..128 */
};

struct prefix4 {
	struct in_addr addr; /* network byte order */
	unsigned int len;    /* 0..32 */
};

/* "ffff:...:ffff/128" and "255.255.255.255/32" with their NUL. */
#define PREFIX6_STRLEN (INET6_ADDRSTRLEN + 4)
#define PREFIX4_STRLEN (INET_ADDRSTRLEN + 3)

/*
 * Read "ADDR/LEN", or a bare "ADDR" as ADDR/@bare_len when @bare_len is
 * non-zero. 0; -EINVAL when it is no prefix; -ERANGE for a length past
 * the family's; -EDOM when bits past the length are set (@out then holds
 * the address as written, for a message that suggests the masked one).
 */
int prefix6_read(const char *s, unsigned int bare_len, struct prefix6 *out);
int prefix4_read(const char *s, unsigned int bare_len, struct prefix4 *out);

/*
 * prefix*_read() with the length required, and its failure put into
 * words in @err (may be NULL), naming the value @what: "--rule-ipv6
 * '2001:db8::1/56': bits set after /56 (2001:db8::/56?)". 0 or -EINVAL.
 */
int prefix6_parse(const char *s, struct prefix6 *out, const char *what,
		  char *err, size_t errlen);
int prefix4_parse(const char *s, struct prefix4 *out, const char *what,
		  char *err, size_t errlen);

/* @a/@len with the bits past @len cleared. */
struct prefix6 prefix6_of(const struct in6_addr *a, unsigned int len);
struct prefix4 prefix4_of(struct in_addr a, unsigned int len);

/* Does @p hold the address @a? */
bool prefix6_has(const struct prefix6 *p, const struct in6_addr *a);
bool prefix4_has(const struct prefix4 *p, struct in_addr a);

/* Is every address of @inner in @outer? */
bool prefix6_covers(const struct prefix6 *outer, const struct prefix6 *inner);

bool prefix6_eq(const struct prefix6 *a, const struct prefix6 *b);

/* Order by address, then length: for qsort() and duplicate checks. */
int prefix6_cmp(const struct prefix6 *a, const struct prefix6 *b);

/* "ADDR/LEN" into @buf (PREFIX6_STRLEN, PREFIX4_STRLEN bytes); returns @buf. */
const char *prefix6_str(const struct prefix6 *p, char *buf);
const char *prefix4_str(const struct prefix4 *p, char *buf);

/* An address into @buf (INET6_ADDRSTRLEN, INET_ADDRSTRLEN bytes); returns @buf. */
const char *addr6_str(const void *a, char *buf);
const char *addr4_str(const void *a, char *buf);

#endif /* BR_COMMON_PREFIX_H */
