// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The "tunnel" group of brouter.conf. Every value is checked here, MAP-E
 * rules with the same code that computes them (mape_rule.c), so brouterd
 * never starts a tunnel from a config it would fail on later, except for
 * what depends on the WAN (a learned prefix, addresses).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include "config_tunnel.h"
#include "log.h"

struct tctx {
	const char *file;
	int errors;
};

/* "tunnel.ipip6[1].prefixes[0]", the way config_val.c names settings. */
static void setting_path(const config_setting_t *s, char *buf, size_t len)
{
	const config_setting_t *chain[16];
	size_t off = 0;
	int n = 0, i;

	for (; s && !config_setting_is_root(s) && n < 16; s = config_setting_parent(s))
		chain[n++] = s;
	buf[0] = '\0';
	for (i = n - 1; i >= 0 && off < len; i--) {
		if (config_setting_name(chain[i]))
			off += snprintf(buf + off, len - off, "%s%s", off ? "." : "",
					config_setting_name(chain[i]));
		else
			off += snprintf(buf + off, len - off, "[%d]",
					config_setting_index(chain[i]));
	}
}

static void __attribute__((format(printf, 3, 4)))
terr(struct tctx *x, const config_setting_t *s, const char *fmt, ...)
{
	const char *file = config_setting_source_file(s);
	char msg[512], where[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	setting_path(s, where, sizeof(where));
	x->errors++;
	pr_err("%s:%u: %s: %s", file ?: x->file, config_setting_source_line(s),
	       where, msg);
}

/* mape_rule.c's messages start with the name we passed it: none. */
static const char *mape_msg(const char *err)
{
	return err[0] == ' ' ? err + 1 : err;
}

static const char *type_name(const config_setting_t *s)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_GROUP:
		return "a group";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return "an integer";
	case CONFIG_TYPE_FLOAT:
		return "a float";
	case CONFIG_TYPE_STRING:
		return "a string";
	case CONFIG_TYPE_BOOL:
		return "a boolean";
	case CONFIG_TYPE_ARRAY:
		return "an array";
	case CONFIG_TYPE_LIST:
		return "a list";
	}
	return "nothing";
}

/* ---- typed values ----------------------------------------------------- */

static int get_group(struct tctx *x, const config_setting_t *g,
		     const char *const *keys)
{
	const config_setting_t *s;
	char known[256];
	size_t off = 0;
	int i, k;

	if (!config_setting_is_group(g)) {
		terr(x, g, "must be a group { key = value; ... }, not %s", type_name(g));
		return -EINVAL;
	}
	for (k = 0; keys[k] && off < sizeof(known); k++)
		off += snprintf(known + off, sizeof(known) - off, "%s%s",
				k ? ", " : "", keys[k]);
	for (i = 0; i < config_setting_length(g); i++) {
		s = config_setting_get_elem(g, i);
		for (k = 0; keys[k]; k++)
			if (!strcmp(keys[k], config_setting_name(s)))
				break;
		if (!keys[k])
			terr(x, s, "unknown key (known here: %s)", known);
	}
	return 0;
}

static const config_setting_t *need(struct tctx *x, const config_setting_t *g,
				    const char *key)
{
	const config_setting_t *s = config_setting_get_member(g, key);

	if (!s)
		terr(x, g, "%s missing", key);
	return s;
}

static int get_string(struct tctx *x, const config_setting_t *s, const char **out)
{
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		terr(x, s, "must be a string \"...\", not %s", type_name(s));
		return -EINVAL;
	}
	*out = config_setting_get_string(s);
	return 0;
}

static int get_int(struct tctx *x, const config_setting_t *s, long long min,
		   long long max, long long *out)
{
	long long v;

	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
		v = config_setting_get_int(s);
		break;
	case CONFIG_TYPE_INT64:
		v = config_setting_get_int64(s);
		break;
	default:
		terr(x, s, "must be an integer, not %s", type_name(s));
		return -EINVAL;
	}
	if (v < min || v > max) {
		terr(x, s, "%lld is out of range (%lld..%lld)", v, min, max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int get_enum(struct tctx *x, const config_setting_t *s,
		    const char *const *names, int *out)
{
	char known[128];
	const char *v;
	size_t off = 0;
	int i;

	if (get_string(x, s, &v))
		return -EINVAL;
	for (i = 0; names[i]; i++) {
		if (!strcmp(names[i], v)) {
			*out = i;
			return 0;
		}
	}
	for (i = 0; names[i] && off < sizeof(known); i++)
		off += snprintf(known + off, sizeof(known) - off, "%s\"%s\"",
				i ? ", " : "", names[i]);
	terr(x, s, "\"%s\" is not one of %s", v, known);
	return -EINVAL;
}

/*
 * A tunnel end: a global (or unique local) unicast address. Link-local
 * ones cannot be routed to a BR; the others are never a tunnel end.
 */
static int get_addr6(struct tctx *x, const config_setting_t *s, struct in6_addr *out)
{
	const char *v;

	if (get_string(x, s, &v))
		return -EINVAL;
	if (inet_pton(AF_INET6, v, out) != 1) {
		terr(x, s, "\"%s\" is not an IPv6 address", v);
		return -EINVAL;
	}
	if (IN6_IS_ADDR_UNSPECIFIED(out) || IN6_IS_ADDR_LOOPBACK(out) ||
	    IN6_IS_ADDR_MULTICAST(out) || IN6_IS_ADDR_LINKLOCAL(out) ||
	    IN6_IS_ADDR_V4MAPPED(out)) {
		terr(x, s, "\"%s\" is not a global unicast address", v);
		return -EINVAL;
	}
	return 0;
}

static int get_addr4(struct tctx *x, const config_setting_t *s, struct in_addr *out)
{
	const char *v;

	if (get_string(x, s, &v))
		return -EINVAL;
	if (inet_pton(AF_INET, v, out) != 1) {
		terr(x, s, "\"%s\" is not an IPv4 address", v);
		return -EINVAL;
	}
	return 0;
}

static int get_prefix4(struct tctx *x, const config_setting_t *s,
		       struct mape_prefix4 *out)
{
	char err[MAPE_ERR_LEN];
	const char *v;

	if (get_string(x, s, &v))
		return -EINVAL;
	if (mape_parse_prefix4(v, out, "", err, sizeof(err))) {
		terr(x, s, "%s", mape_msg(err));
		return -EINVAL;
	}
	return 0;
}

static int get_prefix6(struct tctx *x, const config_setting_t *s,
		       struct mape_prefix6 *out)
{
	char err[MAPE_ERR_LEN];
	const char *v;

	if (get_string(x, s, &v))
		return -EINVAL;
	if (mape_parse_prefix6(v, out, "", err, sizeof(err))) {
		terr(x, s, "%s", mape_msg(err));
		return -EINVAL;
	}
	return 0;
}

/* A list ( ... ) or array [ ... ]; a lone scalar where @scalar allows. */
static int seq_len(struct tctx *x, const config_setting_t *s, int scalar)
{
	if (config_setting_is_list(s) || config_setting_is_array(s))
		return config_setting_length(s);
	if (scalar && config_setting_is_scalar(s))
		return 1;
	terr(x, s, "must be a list ( ... )%s, not %s",
	     scalar ? ", an array [ ... ] or one value" : "", type_name(s));
	return -EINVAL;
}

static const config_setting_t *seq_item(const config_setting_t *s, int i)
{
	if (config_setting_is_list(s) || config_setting_is_array(s))
		return config_setting_get_elem(s, i);
	return s;
}

/* ---- map-e -------------------------------------------------------------- */

static const char *const proto_names[] = { "tcp", "udp", NULL };

static void parse_reserved_one(struct tctx *x, const config_setting_t *g,
			       const struct mape_rule *rule,
			       struct tunnel_reserved *r)
{
	static const char *const keys[] = { "proto", "port", "to", "to-port", NULL };
	const config_setting_t *s;
	unsigned int a = rule->psid_offset;
	long long v;
	int proto;

	if (get_group(x, g, keys))
		return;
	r->line = config_setting_source_line(g);
	if ((s = need(x, g, "proto")) && !get_enum(x, s, proto_names, &proto))
		r->proto = proto ? IPPROTO_UDP : IPPROTO_TCP;
	if ((s = need(x, g, "port")) && !get_int(x, s, 1, 65535, &v)) {
		r->port = v;
		r->to_port = v;
		/* RFC 7597 5.1: A = 0 is excluded, so no set has these ports */
		if (a && !(v >> (16 - a)))
			terr(x, s, "port %lld is below %u: with psid-offset %u no port set holds it (RFC 7597 5.1)",
			     v, 1U << (16 - a), a);
	}
	if ((s = need(x, g, "to")))
		get_addr4(x, s, &r->to);
	if ((s = config_setting_get_member(g, "to-port")) && !get_int(x, s, 1, 65535, &v))
		r->to_port = v;
}

static void parse_reserved(struct tctx *x, const config_setting_t *s,
			   struct tunnel_cfg *c)
{
	int n = seq_len(x, s, 0), i, j;
	const config_setting_t *g;

	if (n < 0)
		return;
	if (n > TUNNEL_MAX_RESERVED) {
		terr(x, s, "%d entries: at most %d", n, TUNNEL_MAX_RESERVED);
		return;
	}
	for (i = 0; i < n; i++) {
		g = seq_item(s, i);
		parse_reserved_one(x, g, &c->rule, &c->reserved[i]);
		for (j = 0; j < i; j++)
			if (c->reserved[j].port && c->reserved[j].port == c->reserved[i].port &&
			    c->reserved[j].proto == c->reserved[i].proto)
				terr(x, g, "%s port %u is already reserved at line %u",
				     c->reserved[i].proto == IPPROTO_TCP ? "tcp" : "udp",
				     c->reserved[i].port, c->reserved[j].line);
	}
	c->n_reserved = n;
}

/* What the rule alone allows checking, and the prefix if one is given. */
static void check_mape(struct tctx *x, const config_setting_t *g, struct tunnel_cfg *c)
{
	const config_setting_t *ps = config_setting_get_member(g, "prefix");
	char err[MAPE_ERR_LEN];
	struct mape_ce ce;
	int i;

	if (mape_rule_check(&c->rule, err, sizeof(err))) {
		terr(x, g, "%s", mape_msg(err));
		return;
	}
	/* RFC 7597 5.2: r + o < 32 gives each CE an IPv4 prefix, not one address */
	if (c->rule.rule4.len + c->rule.ea_len < 32) {
		terr(x, g, "rule-ipv4 /%u + ea-len %u = %u bits: the CE would get an IPv4 prefix /%u; brouter supports one CE IPv4 address (r + o >= 32)",
		     c->rule.rule4.len, c->rule.ea_len,
		     c->rule.rule4.len + c->rule.ea_len,
		     c->rule.rule4.len + c->rule.ea_len);
		return;
	}
	if (!c->has_prefix)
		return;
	if (mape_compute(&c->rule, &c->prefix, &ce, err, sizeof(err))) {
		terr(x, ps, "%s", mape_msg(err));
		return;
	}
	for (i = 0; i < c->n_reserved; i++)
		if (c->reserved[i].port && !mape_port_in_set(&ce, c->reserved[i].port))
			terr(x, config_setting_get_elem(config_setting_get_member(g, "reserved-ports"), i),
			     "port %u is not in this CE's port set (PSID %u of %u bits, offset %u)",
			     c->reserved[i].port, ce.psid, ce.psid_len, ce.psid_offset);
}

static void parse_mape(struct tctx *x, const config_setting_t *g, struct tunnel_cfg *c)
{
	static const char *const keys[] = { "rule-ipv6", "rule-ipv4", "ea-len",
					    "psid-offset", "psid-len", "psid", "br",
					    "format", "prefix", "reserved-ports", NULL };
	static const char *const formats[] = { "rfc7597", "legacy", NULL };
	struct mape_rule *r = &c->rule;
	const config_setting_t *s;
	int before = x->errors, fmt;
	long long v;

	if (get_group(x, g, keys))
		return;
	c->has_mape = true;
	r->psid_offset = TUNNEL_PSID_OFFSET_DEFAULT;
	r->psid_len = MAPE_PSID_LEN_AUTO;
	r->psid = MAPE_PSID_AUTO;
	r->format = MAPE_FMT_RFC7597;
	if ((s = need(x, g, "rule-ipv6")))
		get_prefix6(x, s, &r->rule6);
	if ((s = need(x, g, "rule-ipv4")))
		get_prefix4(x, s, &r->rule4);
	if ((s = need(x, g, "ea-len")) && !get_int(x, s, 0, MAPE_EA_LEN_MAX, &v))
		r->ea_len = v;
	if ((s = config_setting_get_member(g, "psid-offset")) &&
	    !get_int(x, s, 0, MAPE_PSID_OFFSET_MAX, &v))
		r->psid_offset = v;
	if ((s = config_setting_get_member(g, "psid-len")) &&
	    !get_int(x, s, 0, MAPE_PSID_LEN_MAX, &v))
		r->psid_len = v;
	if ((s = config_setting_get_member(g, "psid")) && !get_int(x, s, 0, 65535, &v))
		r->psid = v;
	if ((s = need(x, g, "br")) && !get_addr6(x, s, &r->br))
		r->has_br = true;
	if ((s = config_setting_get_member(g, "format")) && !get_enum(x, s, formats, &fmt))
		r->format = fmt ? MAPE_FMT_LEGACY : MAPE_FMT_RFC7597;
	if ((s = config_setting_get_member(g, "prefix")) && !get_prefix6(x, s, &c->prefix))
		c->has_prefix = true;
	if ((s = config_setting_get_member(g, "reserved-ports")))
		parse_reserved(x, s, c);
	if (x->errors == before)
		check_mape(x, g, c);
}

/* ---- ds-lite ------------------------------------------------------------ */

static void parse_dslite(struct tctx *x, const config_setting_t *g, struct tunnel_cfg *c)
{
	static const char *const keys[] = { "aftr", "local", NULL };
	const config_setting_t *s;

	if (get_group(x, g, keys))
		return;
	c->has_dslite = true;
	if ((s = need(x, g, "aftr")))
		get_addr6(x, s, &c->aftr);
	if ((s = config_setting_get_member(g, "local")) && !get_addr6(x, s, &c->b4))
		c->has_b4 = true;
}

/* ---- ipip6 -------------------------------------------------------------- */

/* Every prefix is routed to exactly one tunnel. */
static void check_prefix_unique(struct tctx *x, const config_setting_t *s,
				const struct tunnel_cfg *c, int peer, int idx)
{
	const struct mape_prefix4 *p = &c->peers[peer].prefixes[idx], *q;
	char buf[INET_ADDRSTRLEN];
	int i, j;

	for (i = 0; i <= peer; i++) {
		for (j = 0; j < (i == peer ? idx : c->peers[i].n_prefixes); j++) {
			q = &c->peers[i].prefixes[j];
			if (q->len == p->len && q->addr.s_addr == p->addr.s_addr) {
				inet_ntop(AF_INET, &p->addr, buf, sizeof(buf));
				terr(x, s, "%s/%u is already routed to ipip6 peer %d",
				     buf, p->len, i);
				return;
			}
		}
	}
	if (!p->len && c->mode != TUNNEL_OFF)
		terr(x, s, "0.0.0.0/0 is the %s tunnel's default route",
		     tunnel_mode_name(c->mode));
}

static void parse_peer(struct tctx *x, const config_setting_t *g,
		       struct tunnel_cfg *c, int idx)
{
	static const char *const keys[] = { "local", "remote", "prefixes", NULL };
	struct tunnel_peer *p = &c->peers[idx];
	const config_setting_t *s, *item;
	int n, i;

	if (get_group(x, g, keys))
		return;
	if ((s = need(x, g, "local")))
		get_addr6(x, s, &p->local);
	if ((s = need(x, g, "remote")))
		get_addr6(x, s, &p->remote);
	for (i = 0; i < idx; i++)
		if (!memcmp(&c->peers[i].local, &p->local, sizeof(p->local)) &&
		    !memcmp(&c->peers[i].remote, &p->remote, sizeof(p->remote)))
			terr(x, g, "same local and remote as ipip6 peer %d", i);
	s = need(x, g, "prefixes");
	if (!s || (n = seq_len(x, s, 1)) < 0)
		return;
	if (n == 0 || n > TUNNEL_MAX_PEER_PREFIXES) {
		terr(x, s, "%d prefixes: give 1 to %d", n, TUNNEL_MAX_PEER_PREFIXES);
		return;
	}
	for (i = 0; i < n; i++) {
		item = seq_item(s, i);
		if (get_prefix4(x, item, &p->prefixes[i]))
			continue;
		p->n_prefixes = i + 1;
		check_prefix_unique(x, item, c, idx, i);
	}
	p->n_prefixes = n;
}

static void parse_peers(struct tctx *x, const config_setting_t *s, struct tunnel_cfg *c)
{
	int n = seq_len(x, s, 0), i;

	if (n < 0)
		return;
	if (n > TUNNEL_MAX_PEERS) {
		terr(x, s, "%d peers: at most %d", n, TUNNEL_MAX_PEERS);
		return;
	}
	for (i = 0; i < n; i++) {
		c->n_peers = i + 1;
		parse_peer(x, config_setting_get_elem(s, i), c, i);
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

int config_tunnel_parse(const config_setting_t *tunnel, struct tunnel_cfg *out,
			const char *file)
{
	static const char *const keys[] = { "mode", "map-e", "ds-lite", "ipip6", "mtu",
					    NULL };
	struct tctx x = { .file = file ?: "config" };
	const config_setting_t *s, *mape, *dslite;
	int mode;
	long long v;

	tunnel_cfg_defaults(out);
	if (get_group(&x, tunnel, keys))
		return -EINVAL;
	mape = config_setting_get_member(tunnel, "map-e");
	dslite = config_setting_get_member(tunnel, "ds-lite");
	s = config_setting_get_member(tunnel, "mode");
	if (s && !get_enum(&x, s, mode_names, &mode))
		out->mode = mode;
	else if (!s && (mape || dslite))
		terr(&x, tunnel, "mode missing: \"map-e\", \"ds-lite\" or \"off\"");
	/* Both groups may be kept to switch modes; each must be valid. */
	if (mape)
		parse_mape(&x, mape, out);
	if (dslite)
		parse_dslite(&x, dslite, out);
	if (out->mode == TUNNEL_MAPE && !mape)
		terr(&x, s, "\"map-e\" needs a map-e = { ... } group");
	if (out->mode == TUNNEL_DSLITE && !dslite)
		terr(&x, s, "\"ds-lite\" needs a ds-lite = { aftr = \"...\"; } group");
	if ((s = config_setting_get_member(tunnel, "ipip6")))
		parse_peers(&x, s, out);
	if ((s = config_setting_get_member(tunnel, "mtu")) &&
	    !get_int(&x, s, 0, TUNNEL_MTU_MAX, &v)) {
		if (v && v < TUNNEL_MTU_MIN)
			terr(&x, s, "%lld is below the IPv4 minimum %d (0: WAN MTU - 40)",
			     v, TUNNEL_MTU_MIN);
		out->mtu = v;
	}
	return x.errors ? -EINVAL : 0;
}
