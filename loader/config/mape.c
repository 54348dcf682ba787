// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tunnel.map-e: the Basic Mapping Rule, checked with the same code that
 * computes with it (tunnel/mape_rule.c), and the reserved ports; and
 * tunnel.lw4o6, which is such a rule without EA bits.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include "common/log.h"
#include "config/parse.h"

static int parse_rsv_proto(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	static const char *const names[] = { "tcp", "udp", NULL };
	struct tunnel_reserved *r = obj;
	int proto;

	if (cfg_enum(x, s, names, &proto))
		return -EINVAL;
	r->proto = proto ? IPPROTO_UDP : IPPROTO_TCP;
	return 0;
}

static int parse_rsv_port(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	struct tunnel_reserved *r = obj;
	long long v;

	if (cfg_int(x, s, 1, 65535, &v))
		return -EINVAL;
	r->port = v;
	return 0;
}

static int parse_rsv_to(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	return cfg_addr(x, s, AF_INET, &((struct tunnel_reserved *)obj)->to);
}

static int parse_rsv_to_port(struct cfg_ctx *x, const config_setting_t *s,
			     void *obj)
{
	struct tunnel_reserved *r = obj;
	long long v;

	if (cfg_int(x, s, 1, 65535, &v))
		return -EINVAL;
	r->to_port = v;
	return 0;
}

static const struct cfg_key reserved_keys[] = {
	{ "proto", parse_rsv_proto },
	{ "port", parse_rsv_port },
	{ "to", parse_rsv_to },
	{ "to-port", parse_rsv_to_port },
	{ NULL },
};

static void parse_reserved_one(struct cfg_ctx *x, const config_setting_t *g,
			       const struct mape_rule *rule,
			       struct tunnel_reserved *r)
{
	unsigned int a = rule->psid_offset;

	if (cfg_group(x, g, reserved_keys, r) && !config_setting_is_group(g))
		return;
	cfg_need(x, g, "proto", "port", "to", NULL);
	r->line = config_setting_source_line(g);
	if (!r->to_port)
		r->to_port = r->port;
	/* RFC 7597 5.1: A = 0 is excluded, so no set has these ports */
	if (r->port && a && !(r->port >> (16 - a)))
		cfg_err(x, config_setting_get_member(g, "port"),
			"port %u is below %u: with psid-offset %u no port set holds it (RFC 7597 5.1)",
			r->port, 1U << (16 - a), a);
}

void cfg_parse_reserved(struct cfg_ctx *x, const config_setting_t *s,
			struct tunnel_cfg *c)
{
	const config_setting_t *g;
	int n, i, j;

	if (cfg_seq(x, s, CFG_SEQ_EMPTY | CFG_SEQ_GROUPS))
		return;
	n = cfg_count(s);
	if (n > TUNNEL_MAX_RESERVED) {
		cfg_err(x, s, "%d entries: at most %d", n, TUNNEL_MAX_RESERVED);
		return;
	}
	for (i = 0; i < n; i++) {
		g = cfg_item(s, i);
		parse_reserved_one(x, g, &c->rule, &c->reserved[i]);
		for (j = 0; j < i; j++)
			if (c->reserved[j].port && c->reserved[j].port == c->reserved[i].port &&
			    c->reserved[j].proto == c->reserved[i].proto)
				cfg_err(x, g, "%s port %u is already reserved at line %u",
					c->reserved[i].proto == IPPROTO_TCP ? "tcp" : "udp",
					c->reserved[i].port, c->reserved[j].line);
	}
	c->n_reserved = n;
}

void cfg_check_rule(struct cfg_ctx *x, const config_setting_t *g,
		    struct tunnel_cfg *c)
{
	const config_setting_t *ps = config_setting_get_member(g, "prefix");
	char err[MAPE_ERR_LEN];
	struct mape_ce ce;
	int i;

	if (mape_rule_check(&c->rule, err, sizeof(err))) {
		cfg_err(x, g, "%s", err);
		return;
	}
	/* RFC 7597 5.2: r + o < 32 gives each CE an IPv4 prefix, not one address */
	if (c->rule.rule4.len + c->rule.ea_len < 32) {
		cfg_err(x, g, "rule-ipv4 /%u + ea-len %u = %u bits: the CE would get an IPv4 prefix /%u; brouter supports one CE IPv4 address (r + o >= 32)",
			c->rule.rule4.len, c->rule.ea_len,
			c->rule.rule4.len + c->rule.ea_len,
			c->rule.rule4.len + c->rule.ea_len);
		return;
	}
	if (!c->has_prefix)
		return;
	if (mape_compute(&c->rule, &c->prefix, &ce, err, sizeof(err))) {
		cfg_err(x, ps, "%s", err);
		return;
	}
	for (i = 0; i < c->n_reserved; i++)
		if (c->reserved[i].port && !mape_port_in_set(&ce, c->reserved[i].port))
			cfg_err(x, config_setting_get_elem(config_setting_get_member(g, "reserved-ports"), i),
				"port %u is not in this CE's port set (PSID %u of %u bits, offset %u)",
				c->reserved[i].port, ce.psid, ce.psid_len, ce.psid_offset);
}

static int parse_rule6(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	return cfg_prefix6_strict(x, s, &((struct tunnel_cfg *)obj)->rule.rule6);
}

static int parse_rule4(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	return cfg_prefix4(x, s, &((struct tunnel_cfg *)obj)->rule.rule4);
}

static int parse_ea_len(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	long long v;

	if (cfg_int(x, s, 0, MAPE_EA_LEN_MAX, &v))
		return -EINVAL;
	((struct tunnel_cfg *)obj)->rule.ea_len = v;
	return 0;
}

static int parse_psid_offset(struct cfg_ctx *x, const config_setting_t *s,
			     void *obj)
{
	long long v;

	if (cfg_int(x, s, 0, MAPE_PSID_OFFSET_MAX, &v))
		return -EINVAL;
	((struct tunnel_cfg *)obj)->rule.psid_offset = v;
	return 0;
}

static int parse_psid_len(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	long long v;

	if (cfg_int(x, s, 0, MAPE_PSID_LEN_MAX, &v))
		return -EINVAL;
	((struct tunnel_cfg *)obj)->rule.psid_len = v;
	return 0;
}

static int parse_psid(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	long long v;

	if (cfg_int(x, s, 0, 65535, &v))
		return -EINVAL;
	((struct tunnel_cfg *)obj)->rule.psid = v;
	return 0;
}

static int parse_br(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	struct mape_rule *r = &((struct tunnel_cfg *)obj)->rule;

	if (cfg_tunnel_end(x, s, &r->br))
		return -EINVAL;
	r->has_br = true;
	return 0;
}

static int parse_format(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	static const char *const names[] = { "rfc7597", "legacy", NULL };
	int fmt;

	if (cfg_enum(x, s, names, &fmt))
		return -EINVAL;
	((struct tunnel_cfg *)obj)->rule.format = fmt ? MAPE_FMT_LEGACY :
							MAPE_FMT_RFC7597;
	return 0;
}

static int parse_ce_prefix(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	struct tunnel_cfg *c = obj;

	if (cfg_prefix6_strict(x, s, &c->prefix))
		return -EINVAL;
	c->has_prefix = true;
	return 0;
}

static const struct cfg_key mape_keys[] = {
	{ "rule-ipv6", parse_rule6 },
	{ "rule-ipv4", parse_rule4 },
	{ "ea-len", parse_ea_len },
	{ "psid-offset", parse_psid_offset },
	{ "psid-len", parse_psid_len },
	{ "psid", parse_psid },
	{ "br", parse_br },
	{ "format", parse_format },
	{ "prefix", parse_ce_prefix },
	{ "reserved-ports", NULL },	/* ports are checked against psid-offset */
	{ NULL },
};

/*
 * How map-e and lw4o6 end: the reserved ports (they need the rule's PSID
 * offset), then the whole rule checked if the group had no error so far.
 */
static int rule_done(struct cfg_ctx *x, const config_setting_t *g,
		     struct tunnel_cfg *c, int before)
{
	const config_setting_t *s =
		config_setting_get_member(g, "reserved-ports");

	if (s)
		cfg_parse_reserved(x, s, c);
	if (x->errors == before)
		cfg_check_rule(x, g, c);
	return x->errors > before ? -EINVAL : 0;
}

int cfg_parse_mape(struct cfg_ctx *x, const config_setting_t *g, void *obj)
{
	struct tunnel_cfg *c = obj;
	struct mape_rule *r = &c->rule;
	int before = x->errors;

	r->psid_offset = TUNNEL_PSID_OFFSET_DEFAULT;
	r->psid_len = MAPE_PSID_LEN_AUTO;
	r->psid = MAPE_PSID_AUTO;
	r->format = MAPE_FMT_RFC7597;
	if (cfg_group(x, g, mape_keys, c) && !config_setting_is_group(g))
		return -EINVAL;
	cfg_need(x, g, "rule-ipv6", "rule-ipv4", "ea-len", "br", NULL);
	c->has_mape = true;
	return rule_done(x, g, c, before);
}

/* ---- lw4o6 (RFC 7596) ---------------------------------------------------- */

/* The lwB4's address: the rule IPv4 prefix /32 of a rule without EA bits. */
static int parse_lw_ipv4(struct cfg_ctx *x, const config_setting_t *s,
			 void *obj)
{
	struct mape_rule *r = &((struct tunnel_cfg *)obj)->rule;

	if (cfg_addr(x, s, AF_INET, &r->rule4.addr))
		return -EINVAL;
	r->rule4.len = 32;
	return 0;
}

/* RFC 7598 4.6's bind prefix: the softwire's source is built in it. */
static int parse_lw_prefix(struct cfg_ctx *x, const config_setting_t *s,
			   void *obj)
{
	struct tunnel_cfg *c = obj;

	if (parse_ce_prefix(x, s, obj))
		return -EINVAL;
	c->rule.rule6 = c->prefix;
	return 0;
}

static const struct cfg_key lw4o6_keys[] = {
	{ "aftr", parse_br },
	{ "ipv4", parse_lw_ipv4 },
	{ "psid-len", parse_psid_len },
	{ "psid", parse_psid },
	{ "psid-offset", parse_psid_offset },
	{ "prefix", parse_lw_prefix },
	{ "reserved-ports", NULL }, /* checked against psid-offset */
	{ NULL },
};

int cfg_parse_lw4o6(struct cfg_ctx *x, const config_setting_t *g, void *obj)
{
	struct tunnel_cfg *c = obj;
	struct mape_rule *r = &c->rule;
	int before = x->errors;

	memset(r, 0, sizeof(*r));
	r->psid_offset = TUNNEL_PSID_OFFSET_DEFAULT;
	r->format = MAPE_FMT_RFC7597;
	/* no prefix given: the WAN's, the first global unicast one seen */
	inet_pton(AF_INET6, "2000::", &r->rule6.addr);
	r->rule6.len = 3;
	if (cfg_group(x, g, lw4o6_keys, c) && !config_setting_is_group(g))
		return -EINVAL;
	cfg_need(x, g, "aftr", "ipv4", NULL);
	if (r->psid_len > 0)
		cfg_need(x, g, "psid", NULL);
	/* the interface identifier takes the low 64 bits, or /128 is the address */
	if (c->has_prefix && c->prefix.len > 64 && c->prefix.len < 128)
		cfg_err(x, config_setting_get_member(g, "prefix"),
			"/%u: give a prefix of at most /64, or the lwB4 address /128",
			c->prefix.len);
	c->has_lw4o6 = true;
	return rule_done(x, g, c, before);
}
