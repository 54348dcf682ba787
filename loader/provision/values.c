// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Typed values out of the HB46PP answer: integers in range, bounded text,
 * unicast addresses, prefixes and AFTR names, each refused with a message
 * naming its key.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "provision/hb46pp_priv.h"

int hb_fail(int ret, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return ret;
}

/* An absent member: -ENOENT, or an error when it is needed. */
static json_t *member(const struct hb_where *w, json_t *o, const char *key,
		      unsigned int flags, int *ret)
{
	json_t *v = json_object_get(o, key);

	if (v && !json_is_null(v)) {
		*ret = 0;
		return v;
	}
	*ret = -ENOENT;
	if (flags & HB_NEED)
		*ret = hb_fail(-EINVAL, w->err, w->errlen, "%s%s: missing",
			       w->path, key);
	return NULL;
}

int hb_json_uint(const struct hb_where *w, json_t *o, const char *key,
		 unsigned int flags, unsigned int max, unsigned int *out)
{
	json_int_t n;
	json_t *v;
	int ret;

	if (!(v = member(w, o, key, flags, &ret)))
		return ret;
	if (!json_is_integer(v))
		return hb_fail(-EINVAL, w->err, w->errlen,
			       "%s%s: not an integer", w->path, key);
	n = json_integer_value(v);
	if (n < 0 || n > max)
		return hb_fail(-EINVAL, w->err, w->errlen,
			       "%s%s: %lld is out of range 0..%u", w->path, key,
			       (long long)n, max);
	*out = n;
	return 0;
}

int hb_json_text(const struct hb_where *w, json_t *o, const char *key,
		 unsigned int flags, size_t max, char *out)
{
	json_t *v;
	int ret;

	if (!(v = member(w, o, key, flags, &ret)))
		return ret;
	if (!json_is_string(v))
		return hb_fail(-EINVAL, w->err, w->errlen, "%s%s: not a string",
			       w->path, key);
	if (json_string_length(v) > max)
		return hb_fail(-EINVAL, w->err, w->errlen,
			       "%s%s: longer than %zu bytes", w->path, key,
			       max);
	memcpy(out, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

static bool unicast6(const struct in6_addr *a)
{
	return !IN6_IS_ADDR_UNSPECIFIED(a) && !IN6_IS_ADDR_LOOPBACK(a) &&
	       !IN6_IS_ADDR_MULTICAST(a) && !IN6_IS_ADDR_LINKLOCAL(a) &&
	       !IN6_IS_ADDR_V4MAPPED(a);
}

/* A string of at most @len - 1 bytes, or a message saying it is no @what. */
static int short_text(const struct hb_where *w, json_t *o, const char *key,
		      unsigned int flags, char *out, size_t len,
		      const char *what)
{
	int ret = hb_json_text(w, o, key, flags, len - 1, out);
	json_t *v = json_object_get(o, key);

	if (ret == -EINVAL && v && !json_is_null(v))
		return hb_fail(ret, w->err, w->errlen, "%s%s: not %s", w->path,
			       key, what);
	return ret;
}

/* A tunnel end: global (or unique local) unicast; nothing else routes. */
int hb_json_addr6(const struct hb_where *w, json_t *o, const char *key,
		  unsigned int flags, struct in6_addr *out)
{
	char s[INET6_ADDRSTRLEN + 1];
	int ret;

	ret = short_text(w, o, key, flags, s, sizeof(s), "an IPv6 address");
	if (ret)
		return ret;
	if (inet_pton(AF_INET6, s, out) != 1 || !unicast6(out))
		return hb_fail(-EINVAL, w->err, w->errlen,
			       "%s%s: \"%s\" is not a unicast IPv6 address",
			       w->path, key, s);
	return 0;
}

int hb_json_addr4(const struct hb_where *w, json_t *o, const char *key,
		  unsigned int flags, struct in_addr *out)
{
	char s[INET_ADDRSTRLEN + 1];
	int ret;

	ret = short_text(w, o, key, flags, s, sizeof(s), "an IPv4 address");
	if (ret)
		return ret;
	if (inet_pton(AF_INET, s, out) != 1 || !out->s_addr)
		return hb_fail(-EINVAL, w->err, w->errlen,
			       "%s%s: \"%s\" is not an IPv4 address", w->path,
			       key, s);
	return 0;
}

/* A prefix as the answer gives it; @exact: no bit set past its length. */
int hb_parse_prefix6(const char *s, bool exact, struct prefix6 *out)
{
	int ret = prefix6_read(s, 0, out);

	return ret == -EDOM && !exact ? 0 : ret ? -EINVAL : 0;
}

int hb_parse_prefix4(const char *s, bool exact, struct prefix4 *out)
{
	int ret = prefix4_read(s, 0, out);

	return ret == -EDOM && !exact ? 0 : ret ? -EINVAL : 0;
}

int hb_json_prefix6(const struct hb_where *w, json_t *o, const char *key,
		    unsigned int flags, struct prefix6 *out)
{
	char s[INET6_ADDRSTRLEN + 8];
	int ret;

	ret = short_text(w, o, key, flags, s, sizeof(s), "an IPv6 prefix");
	if (!ret && hb_parse_prefix6(s, flags & HB_EXACT, out))
		return hb_fail(-EINVAL, w->err, w->errlen,
			       "%s%s: \"%s\" is not an IPv6 prefix ADDR/LEN%s",
			       w->path, key, s,
			       flags & HB_EXACT ? " with no bit set after LEN"
						: "");
	return ret;
}

int hb_json_prefix4(const struct hb_where *w, json_t *o, const char *key,
		    unsigned int flags, struct prefix4 *out)
{
	char s[INET_ADDRSTRLEN + 8];
	int ret;

	ret = short_text(w, o, key, flags, s, sizeof(s), "an IPv4 prefix");
	if (!ret && hb_parse_prefix4(s, flags & HB_EXACT, out))
		return hb_fail(-EINVAL, w->err, w->errlen,
			       "%s%s: \"%s\" is not an IPv4 prefix ADDR/LEN%s",
			       w->path, key, s,
			       flags & HB_EXACT ? " with no bit set after LEN"
						: "");
	return ret;
}

/* RFC 1123 host name: labels of 1..63 letters, digits, hyphens. */
static bool host_name_ok(const char *s)
{
	size_t n;

	if (!*s || strlen(s) > HB_NAME_MAX)
		return false;
	while (*s) {
		n = strspn(s, "abcdefghijklmnopqrstuvwxyz"
			      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-");
		if (n < 1 || n > 63 || s[0] == '-' || s[n - 1] == '-')
			return false;
		s += n;
		if (*s && *s++ != '.')
			return false;
	}
	return true;
}

/* 3.4: the AFTR of dslite and lw4o6 is a DNS name or an IPv6 address. */
int hb_json_host(const struct hb_where *w, json_t *o, const char *key,
		 unsigned int flags, struct hb_host *out)
{
	char s[HB_NAME_MAX + 1];
	int ret;

	memset(out, 0, sizeof(*out));
	ret = short_text(w, o, key, flags, s, sizeof(s), "a host name");
	if (ret)
		return ret;
	if (strchr(s, ':')) {
		ret = hb_json_addr6(w, o, key, flags, &out->addr);
		out->has_addr = !ret;
		return ret;
	}
	if (!host_name_ok(s))
		return hb_fail(
			-EINVAL, w->err, w->errlen,
			"%s%s: \"%s\" is neither an IPv6 address nor a host name",
			w->path, key, s);
	strcpy(out->name, s);
	return 0;
}

bool hb_prefix6_covers(const struct prefix6 *p, const struct prefix6 *q)
{
	unsigned int full = p->len / 8, rest = p->len % 8;
	uint8_t mask = 0xff << (8 - rest);

	if (p->len > q->len)
		return false;
	if (memcmp(p->addr.s6_addr, q->addr.s6_addr, full))
		return false;
	return !rest ||
	       !((p->addr.s6_addr[full] ^ q->addr.s6_addr[full]) & mask);
}

const char *hb_host_str(const struct hb_host *h, char *buf, size_t len)
{
	if (h->name[0])
		snprintf(buf, len, "%s", h->name);
	else
		inet_ntop(AF_INET6, &h->addr, buf, len);
	return buf;
}
