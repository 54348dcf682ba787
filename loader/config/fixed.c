// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tunnel.ipip: a fixed IPv4 address (or block) carried over an ip4ip6
 * tunnel to the provider, as the "fixed IP" services deliver it and
 * HB46PP's "ipip" method describes it.
 */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>

#include "config/parse.h"

struct in_addr tunnel_fixed_pick(struct in_addr a, unsigned int len)
{
	struct prefix4 net = prefix4_of(a, len);
	uint32_t h = ntohl(a.s_addr);

	/* host bits given, or a /31, /32 (RFC 3021: both addresses usable) */
	if (len >= 31 || net.addr.s_addr != a.s_addr)
		return a;
	/* a block as the provider writes it, "203.0.113.0/29": its first host */
	a.s_addr = htonl(h + 1);
	return a;
}

static int parse_local(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	return cfg_tunnel_end(x, s, &((struct tunnel_cfg *)obj)->fixed.local);
}

static int parse_remote(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	return cfg_tunnel_end(x, s, &((struct tunnel_cfg *)obj)->fixed.remote);
}

/* "A.B.C.D" or "A.B.C.D/L" (host bits allowed: the address in the block). */
static int parse_ipv4(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	struct tunnel_fixed *f = &((struct tunnel_cfg *)obj)->fixed;
	char buf[PREFIX4_STRLEN];
	struct prefix4 p;
	const char *v;
	int ret;

	if (cfg_string(x, s, &v))
		return -EINVAL;
	ret = prefix4_read(v, 32, &p);
	if (ret && ret != -EDOM) {
		cfg_err(x, s, "\"%s\" is not an IPv4 address or ADDRESS/LENGTH",
			v);
		return -EINVAL;
	}
	f->ipv4 = tunnel_fixed_pick(p.addr, p.len);
	f->plen = p.len;
	if (IN_MULTICAST(ntohl(f->ipv4.s_addr)) || !f->ipv4.s_addr ||
	    (ntohl(f->ipv4.s_addr) >> 24) == 127) {
		cfg_err(x, s, "%s is not a unicast address",
			inet_ntop(AF_INET, &f->ipv4, buf, sizeof(buf)));
		return -EINVAL;
	}
	return 0;
}

static const struct cfg_key fixed_keys[] = {
	{ "local", parse_local },
	{ "remote", parse_remote },
	{ "ipv4", parse_ipv4 },
	{ NULL },
};

int cfg_parse_fixed(struct cfg_ctx *x, const config_setting_t *g, void *obj)
{
	struct tunnel_cfg *c = obj;
	int before = x->errors;

	if (cfg_group(x, g, fixed_keys, c) && !config_setting_is_group(g))
		return -EINVAL;
	cfg_need(x, g, "local", "remote", "ipv4", NULL);
	c->has_fixed = true;
	return x->errors > before ? -EINVAL : 0;
}
