// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The "tunnel" group of brouter.conf. Every value is checked here, MAP-E
 * rules with the same code that computes them (mape_rule.c), so brouterd
 * never starts a tunnel from a config it would fail on later, except for
 * what depends on the WAN (a learned prefix, addresses).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include "config/parse.h"
#include "common/log.h"

/* mape_rule.c's messages start with the name we passed it: none. */
static const char *mape_msg(const char *err)
{
	return err[0] == ' ' ? err + 1 : err;
}

/*
 * A tunnel end: a global (or unique local) unicast address. Link-local
 * ones cannot be routed to a BR; the others are never a tunnel end.
 */
static int parse_end(struct cfg_ctx *x, const config_setting_t *s,
		     struct in6_addr *out)
{
	if (cfg_addr(x, s, AF_INET6, out))
		return -EINVAL;
	if (IN6_IS_ADDR_UNSPECIFIED(out) || IN6_IS_ADDR_LOOPBACK(out) ||
	    IN6_IS_ADDR_MULTICAST(out) || IN6_IS_ADDR_LINKLOCAL(out) ||
	    IN6_IS_ADDR_V4MAPPED(out)) {
		cfg_err(x, s, "\"%s\" is not a global unicast address",
			config_setting_get_string(s));
		return -EINVAL;
	}
	return 0;
}

/* MAP-E prefixes are read by mape_rule.c, which also computes with them. */
static int parse_prefix4(struct cfg_ctx *x, const config_setting_t *s,
			 struct prefix4 *out)
{
	char err[MAPE_ERR_LEN];
	const char *v;

	if (cfg_string(x, s, &v))
		return -EINVAL;
	if (prefix4_parse(v, out, "", err, sizeof(err))) {
		cfg_err(x, s, "%s", mape_msg(err));
		return -EINVAL;
	}
	return 0;
}

static int parse_prefix6(struct cfg_ctx *x, const config_setting_t *s,
			 struct prefix6 *out)
{
	char err[MAPE_ERR_LEN];
	const char *v;

	if (cfg_string(x, s, &v))
		return -EINVAL;
	if (prefix6_parse(v, out, "", err, sizeof(err))) {
		cfg_err(x, s, "%s", mape_msg(err));
		return -EINVAL;
	}
	return 0;
}

/* ---- map-e -------------------------------------------------------------- */

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

static void parse_reserved(struct cfg_ctx *x, const config_setting_t *s,
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

/* What the rule alone allows checking, and the prefix if one is given. */
static void check_mape(struct cfg_ctx *x, const config_setting_t *g,
		       struct tunnel_cfg *c)
{
	const config_setting_t *ps = config_setting_get_member(g, "prefix");
	char err[MAPE_ERR_LEN];
	struct mape_ce ce;
	int i;

	if (mape_rule_check(&c->rule, err, sizeof(err))) {
		cfg_err(x, g, "%s", mape_msg(err));
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
		cfg_err(x, ps, "%s", mape_msg(err));
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
	return parse_prefix6(x, s, &((struct tunnel_cfg *)obj)->rule.rule6);
}

static int parse_rule4(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	return parse_prefix4(x, s, &((struct tunnel_cfg *)obj)->rule.rule4);
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

	if (parse_end(x, s, &r->br))
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

	if (parse_prefix6(x, s, &c->prefix))
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

static int parse_mape(struct cfg_ctx *x, const config_setting_t *g, void *obj)
{
	struct tunnel_cfg *c = obj;
	struct mape_rule *r = &c->rule;
	const config_setting_t *s;
	int before = x->errors;

	r->psid_offset = TUNNEL_PSID_OFFSET_DEFAULT;
	r->psid_len = MAPE_PSID_LEN_AUTO;
	r->psid = MAPE_PSID_AUTO;
	r->format = MAPE_FMT_RFC7597;
	if (cfg_group(x, g, mape_keys, c) && !config_setting_is_group(g))
		return -EINVAL;
	cfg_need(x, g, "rule-ipv6", "rule-ipv4", "ea-len", "br", NULL);
	c->has_mape = true;
	s = config_setting_get_member(g, "reserved-ports");
	if (s)
		parse_reserved(x, s, c);
	if (x->errors == before)
		check_mape(x, g, c);
	return x->errors > before ? -EINVAL : 0;
}

/* ---- ds-lite ------------------------------------------------------------ */

static int parse_aftr(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	return parse_end(x, s, &((struct tunnel_cfg *)obj)->aftr);
}

static int parse_b4(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	struct tunnel_cfg *c = obj;

	if (parse_end(x, s, &c->b4))
		return -EINVAL;
	c->has_b4 = true;
	return 0;
}

static const struct cfg_key dslite_keys[] = {
	{ "aftr", parse_aftr },
	{ "local", parse_b4 },
	{ NULL },
};

static int parse_dslite(struct cfg_ctx *x, const config_setting_t *g, void *obj)
{
	struct tunnel_cfg *c = obj;

	if (cfg_group(x, g, dslite_keys, c) && !config_setting_is_group(g))
		return -EINVAL;
	c->has_dslite = true;
	return cfg_need(x, g, "aftr", NULL);
}

/* ---- ipip6 -------------------------------------------------------------- */

/* Every prefix is routed to exactly one tunnel. */
static void check_prefix_unique(struct cfg_ctx *x, const config_setting_t *s,
				const struct tunnel_cfg *c, int peer, int idx)
{
	const struct prefix4 *p = &c->peers[peer].prefixes[idx], *q;
	char buf[INET_ADDRSTRLEN];
	int i, j;

	for (i = 0; i <= peer; i++) {
		for (j = 0; j < (i == peer ? idx : c->peers[i].n_prefixes); j++) {
			q = &c->peers[i].prefixes[j];
			if (q->len == p->len && q->addr.s_addr == p->addr.s_addr) {
				inet_ntop(AF_INET, &p->addr, buf, sizeof(buf));
				cfg_err(x, s, "%s/%u is already routed to ipip6 peer %d",
					buf, p->len, i);
				return;
			}
		}
	}
	if (!p->len && c->mode != TUNNEL_OFF)
		cfg_err(x, s, "0.0.0.0/0 is the %s tunnel's default route",
			tunnel_mode_name(c->mode));
}

static void parse_peer_prefixes(struct cfg_ctx *x, const config_setting_t *s,
				struct tunnel_cfg *c, int idx)
{
	struct tunnel_peer *p = &c->peers[idx];
	const config_setting_t *item;
	int n, i;

	if (cfg_seq(x, s, CFG_SEQ_SCALAR | CFG_SEQ_EMPTY))
		return;
	n = cfg_count(s);
	if (n == 0 || n > TUNNEL_MAX_PEER_PREFIXES) {
		cfg_err(x, s, "%d prefixes: give 1 to %d", n, TUNNEL_MAX_PEER_PREFIXES);
		return;
	}
	for (i = 0; i < n; i++) {
		item = cfg_item(s, i);
		if (parse_prefix4(x, item, &p->prefixes[i]))
			continue;
		p->n_prefixes = i + 1;
		check_prefix_unique(x, item, c, idx, i);
	}
	p->n_prefixes = n;
}

static int parse_local(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	return parse_end(x, s, &((struct tunnel_peer *)obj)->local);
}

static int parse_remote(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	return parse_end(x, s, &((struct tunnel_peer *)obj)->remote);
}

static const struct cfg_key peer_keys[] = {
	{ "local", parse_local },
	{ "remote", parse_remote },
	{ "prefixes", NULL },	/* checked against the other peers' */
	{ NULL },
};

static void parse_peer(struct cfg_ctx *x, const config_setting_t *g,
		       struct tunnel_cfg *c, int idx)
{
	struct tunnel_peer *p = &c->peers[idx];
	const config_setting_t *s;
	int i;

	if (cfg_group(x, g, peer_keys, p) && !config_setting_is_group(g))
		return;
	cfg_need(x, g, "local", "remote", "prefixes", NULL);
	for (i = 0; i < idx; i++)
		if (!memcmp(&c->peers[i].local, &p->local, sizeof(p->local)) &&
		    !memcmp(&c->peers[i].remote, &p->remote, sizeof(p->remote)))
			cfg_err(x, g, "same local and remote as ipip6 peer %d", i);
	s = config_setting_get_member(g, "prefixes");
	if (s)
		parse_peer_prefixes(x, s, c, idx);
}

static void parse_peers(struct cfg_ctx *x, const config_setting_t *s,
			struct tunnel_cfg *c)
{
	int n, i;

	if (cfg_seq(x, s, CFG_SEQ_EMPTY | CFG_SEQ_GROUPS))
		return;
	n = cfg_count(s);
	if (n > TUNNEL_MAX_PEERS) {
		cfg_err(x, s, "%d peers: at most %d", n, TUNNEL_MAX_PEERS);
		return;
	}
	for (i = 0; i < n; i++) {
		c->n_peers = i + 1;
		parse_peer(x, cfg_item(s, i), c, i);
	}
}

/* ---- the group -------------------------------------------------------- */

static const char *const mode_names[] = {
	[TUNNEL_OFF] = "off",
	[TUNNEL_MAPE] = "map-e",
	[TUNNEL_DSLITE] = "ds-lite",
	NULL,
};

const char *tunnel_mode_name(enum tunnel_mode mode)
{
	return (unsigned int)mode < TUNNEL_DSLITE + 1 ? mode_names[mode] : "?";
}

void tunnel_cfg_defaults(struct tunnel_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->mode = TUNNEL_OFF;
}

bool tunnel_cfg_active(const struct tunnel_cfg *c)
{
	return c->mode != TUNNEL_OFF || c->n_peers > 0;
}

static int parse_mode(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	int mode;

	if (cfg_enum(x, s, mode_names, &mode))
		return -EINVAL;
	((struct tunnel_cfg *)obj)->mode = mode;
	return 0;
}

static int parse_mtu(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	long long v;

	if (cfg_int(x, s, 0, TUNNEL_MTU_MAX, &v))
		return -EINVAL;
	if (v && v < TUNNEL_MTU_MIN)
		cfg_err(x, s, "%lld is below the IPv4 minimum %d (0: WAN MTU - 40)",
			v, TUNNEL_MTU_MIN);
	((struct tunnel_cfg *)obj)->mtu = v;
	return 0;
}

/* Both groups may be kept to switch modes; each must be valid. */
static const struct cfg_key tunnel_keys[] = {
	{ "mode", parse_mode },
	{ "map-e", parse_mape },
	{ "ds-lite", parse_dslite },
	{ "ipip6", NULL },	/* 0.0.0.0/0 is free only with mode "off" */
	{ "mtu", parse_mtu },
	{ NULL },
};

int cfg_parse_tunnel(struct cfg_ctx *x, const config_setting_t *tunnel, void *obj)
{
	const config_setting_t *mode, *mape, *dslite, *ipip6;
	struct tunnel_cfg *c = &x->c->tunnel;
	int before = x->errors;

	(void)obj;
	tunnel_cfg_defaults(c);
	if (cfg_group(x, tunnel, tunnel_keys, c) && !config_setting_is_group(tunnel))
		return -EINVAL;
	mode = config_setting_get_member(tunnel, "mode");
	mape = config_setting_get_member(tunnel, "map-e");
	dslite = config_setting_get_member(tunnel, "ds-lite");
	if (!mode && (mape || dslite))
		cfg_err(x, tunnel, "mode missing: \"map-e\", \"ds-lite\" or \"off\"");
	if (c->mode == TUNNEL_MAPE && !mape)
		cfg_err(x, mode, "\"map-e\" needs a map-e = { ... } group");
	if (c->mode == TUNNEL_DSLITE && !dslite)
		cfg_err(x, mode, "\"ds-lite\" needs a ds-lite = { aftr = \"...\"; } group");
	ipip6 = config_setting_get_member(tunnel, "ipip6");
	if (ipip6)
		parse_peers(x, ipip6, c);
	return x->errors > before ? -EINVAL : 0;
}
