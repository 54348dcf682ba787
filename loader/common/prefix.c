// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* IPv6 and IPv4 prefixes: parsing, masking, containment (common/prefix.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "common/log.h"
#include "brouter/prefix.h"
#include "common/prefix.h"

/*
 * Split "ADDR/LEN" into the address text (NUL-terminated, in @addr) and
 * a length <= @max; no "/": @bare_len, or -EINVAL when that is 0.
 */
static int split(const char *s, char *addr, size_t addrlen, unsigned int max,
		 unsigned int bare_len, unsigned int *len)
{
	const char *slash = strchr(s, '/');
	unsigned long v;
	char *end;

	if (!slash) {
		if (!bare_len || strlen(s) >= addrlen)
			return -EINVAL;
		strcpy(addr, s);
		*len = bare_len;
		return 0;
	}
	if ((size_t)(slash - s) >= addrlen)
		return -EINVAL;
	memcpy(addr, s, slash - s);
	addr[slash - s] = '\0';
	if (slash[1] < '0' || slash[1] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(slash + 1, &end, 10);
	if (errno || *end)
		return -EINVAL;
	if (v > max)
		return -ERANGE;
	*len = (unsigned int)v;
	return 0;
}

int prefix6_read(const char *s, unsigned int bare_len, struct prefix6 *out)
{
	char addr[INET6_ADDRSTRLEN];
	struct prefix6 masked;
	int err;

	err = split(s, addr, sizeof(addr), 128, bare_len, &out->len);
	if (err)
		return err;
	if (inet_pton(AF_INET6, addr, &out->addr) != 1)
		return -EINVAL;
	masked = prefix6_of(&out->addr, out->len);
	return prefix6_eq(&masked, out) ? 0 : -EDOM;
}

int prefix4_read(const char *s, unsigned int bare_len, struct prefix4 *out)
{
	char addr[INET_ADDRSTRLEN];
	struct prefix4 masked;
	int err;

	err = split(s, addr, sizeof(addr), 32, bare_len, &out->len);
	if (err)
		return err;
	if (inet_pton(AF_INET, addr, &out->addr) != 1)
		return -EINVAL;
	masked = prefix4_of(out->addr, out->len);
	return masked.addr.s_addr == out->addr.s_addr ? 0 : -EDOM;
}

/* The message for prefix*_read()'s @ret; @masked: the prefix it suggests. */
static int explain(int ret, int v6, const char *s, const char *masked,
		   unsigned int len, const char *what, char *err, size_t errlen)
{
	if (ret == -ERANGE)
		return br_errf(err, errlen, "%s '%s': prefix length out of range (0..%u)",
			    what, s, v6 ? 128 : 32);
	if (ret == -EDOM)
		return br_errf(err, errlen, "%s '%s': bits set after /%u (%s?)", what, s,
			    len, masked);
	return br_errf(err, errlen, "%s '%s': not an IPv%c prefix (ADDR/LEN)", what, s,
		    v6 ? '6' : '4');
}

int prefix6_parse(const char *s, struct prefix6 *out, const char *what,
		  char *err, size_t errlen)
{
	char buf[PREFIX6_STRLEN];
	struct prefix6 m;
	int ret = prefix6_read(s, 0, out);

	if (!ret)
		return 0;
	m = prefix6_of(&out->addr, out->len);
	return explain(ret, 1, s, prefix6_str(&m, buf), out->len, what, err, errlen);
}

int prefix4_parse(const char *s, struct prefix4 *out, const char *what,
		  char *err, size_t errlen)
{
	char buf[PREFIX4_STRLEN];
	struct prefix4 m;
	int ret = prefix4_read(s, 0, out);

	if (!ret)
		return 0;
	m = prefix4_of(out->addr, out->len);
	return explain(ret, 0, s, prefix4_str(&m, buf), out->len, what, err, errlen);
}

struct prefix6 prefix6_of(const struct in6_addr *a, unsigned int len)
{
	struct prefix6 p = { .addr = *a, .len = len };

	br_prefix_mask(p.addr.s6_addr32, len, 4);
	return p;
}

struct prefix4 prefix4_of(struct in_addr a, unsigned int len)
{
	struct prefix4 p = { .addr = a, .len = len };

	br_prefix_mask(&p.addr.s_addr, len, 1);
	return p;
}

bool prefix6_has(const struct prefix6 *p, const struct in6_addr *a)
{
	return br_prefix_match(a->s6_addr32, p->addr.s6_addr32, p->len);
}

bool prefix4_has(const struct prefix4 *p, struct in_addr a)
{
	return br_prefix_match(&a.s_addr, &p->addr.s_addr, p->len);
}

bool prefix6_covers(const struct prefix6 *outer, const struct prefix6 *inner)
{
	return outer->len <= inner->len && prefix6_has(outer, &inner->addr);
}

bool prefix6_eq(const struct prefix6 *a, const struct prefix6 *b)
{
	return a->len == b->len && !memcmp(&a->addr, &b->addr, sizeof(a->addr));
}

int prefix6_cmp(const struct prefix6 *a, const struct prefix6 *b)
{
	int d = memcmp(&a->addr, &b->addr, sizeof(a->addr));

	return d ?: (int)a->len - (int)b->len;
}

const char *addr6_str(const void *a, char *buf)
{
	return inet_ntop(AF_INET6, a, buf, INET6_ADDRSTRLEN);
}

const char *addr4_str(const void *a, char *buf)
{
	return inet_ntop(AF_INET, a, buf, INET_ADDRSTRLEN);
}

const char *prefix6_str(const struct prefix6 *p, char *buf)
{
	char a[INET6_ADDRSTRLEN];

	snprintf(buf, PREFIX6_STRLEN, "%s/%u", addr6_str(&p->addr, a), p->len);
	return buf;
}

const char *prefix4_str(const struct prefix4 *p, char *buf)
{
	char a[INET_ADDRSTRLEN];

	snprintf(buf, PREFIX4_STRLEN, "%s/%u", addr4_str(&p->addr, a), p->len);
	return buf;
}
