// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The "tunnel" group of brouter.conf. Every value is checked here, MAP-E
 * rules with the same code that computes them (mape_rule.c), so brouterd
 * never starts a tunnel from a config it would fail on later, except for
 * what depends on the WAN (a learned prefix, addresses).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "brouter/gre.h"
#include "config/parse.h"
#include "common/log.h"

/* ---- ds-lite ------------------------------------------------------------ */

static int parse_aftr(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	return cfg_tunnel_end(x, s, &((struct tunnel_cfg *)obj)->aftr);
}

static int parse_b4(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	struct tunnel_cfg *c = obj;

	if (cfg_tunnel_end(x, s, &c->b4))
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
		if (cfg_prefix4(x, item, &p->prefixes[i]))
			continue;
		p->n_prefixes = i + 1;
		check_prefix_unique(x, item, c, idx, i);
	}
	p->n_prefixes = n;
}

static int parse_local(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	return cfg_tunnel_end(x, s, &((struct tunnel_peer *)obj)->local);
}

static int parse_remote(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	return cfg_tunnel_end(x, s, &((struct tunnel_peer *)obj)->remote);
}

static int parse_encap(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	static const char *const names[] = { "ipip", "gre", NULL };
	int v;

	if (cfg_enum(x, s, names, &v))
		return -EINVAL;
	((struct tunnel_peer *)obj)->gre = v;
	return 0;
}

static int parse_key(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	struct tunnel_peer *p = obj;
	long long v;

	if (cfg_int(x, s, 0, 0xffffffffLL, &v))
		return -EINVAL;
	p->key = v;
	p->has_key = true;
	return 0;
}

static const struct cfg_key peer_keys[] = {
	{ "local", parse_local },
	{ "remote", parse_remote },
	{ "prefixes", NULL }, /* checked against the other peers' */
	{ "encap", parse_encap },
	{ "key", parse_key }, /* only with encap = "gre": checked after */
	{ NULL },
};

unsigned int tunnel_peer_overhead(const struct tunnel_peer *p)
{
	return p->gre ? br_gre_len_out(p->has_key) : 0;
}

static void parse_peer(struct cfg_ctx *x, const config_setting_t *g,
		       struct tunnel_cfg *c, int idx)
{
	struct tunnel_peer *p = &c->peers[idx];
	const config_setting_t *s;
	int i;

	if (cfg_group(x, g, peer_keys, p) && !config_setting_is_group(g))
		return;
	cfg_need(x, g, "local", "remote", "prefixes", NULL);
	if (p->has_key && !p->gre)
		cfg_err(x, config_setting_get_member(g, "key"),
			"a key needs encap = \"gre\" (RFC 2890)");
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
	[TUNNEL_OFF] = "off",	     [TUNNEL_MAPE] = "map-e",
	[TUNNEL_DSLITE] = "ds-lite", [TUNNEL_LW4O6] = "lw4o6",
	[TUNNEL_IPIP] = "ipip",	     [TUNNEL_AUTO] = "auto",
	[TUNNEL_MODES] = NULL,
};

const char *tunnel_mode_name(enum tunnel_mode mode)
{
	return (unsigned int)mode < TUNNEL_MODES ? mode_names[mode] : "?";
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

/* "copy" (RFC 2983's uniform model) or a DSCP for every outer header. */
static int parse_dscp(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	long long v;

	(void)obj;
	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		if (strcmp(config_setting_get_string(s), "copy")) {
			cfg_err(x, s, "\"%s\": \"copy\" or a DSCP 0..63",
				config_setting_get_string(s));
			return -EINVAL;
		}
		x->c->tun_dscp = BR_DSCP_COPY;
		return 0;
	}
	if (cfg_int(x, s, 0, 63, &v))
		return -EINVAL;
	x->c->tun_dscp = v;
	return 0;
}

/* Every group may be kept to switch modes; each must be valid. */
static const struct cfg_key tunnel_keys[] = {
	{ "mode", parse_mode },
	{ "map-e", NULL }, /* the rule of the mode that names it: after */
	{ "lw4o6", NULL },
	{ "ds-lite", parse_dslite },
	{ "ipip", cfg_parse_fixed },
	{ "ipip6", NULL }, /* 0.0.0.0/0 is free only with mode "off" */
	{ "mtu", parse_mtu },
	{ "provision", cfg_parse_provision },
	{ "dscp", parse_dscp },
	{ NULL },
};

/* The group a mode needs, by mode; NULL for none. */
static const char *const mode_groups[TUNNEL_MODES] = {
	[TUNNEL_MAPE] = "map-e",
	[TUNNEL_DSLITE] = "ds-lite",
	[TUNNEL_LW4O6] = "lw4o6",
	[TUNNEL_IPIP] = "ipip",
};

/*
 * map-e and lw4o6 both give a rule: the one tunnel.mode names goes into
 * @c, the other is checked on the side (a scratch copy) and left out;
 * with "auto", both are (provisioning gives the rule). map-e's is kept
 * with "off", as it always was.
 */
static void parse_rules(struct cfg_ctx *x, const config_setting_t *tunnel,
			struct tunnel_cfg *c)
{
	const config_setting_t *mape =
		config_setting_get_member(tunnel, "map-e");
	const config_setting_t *lw = config_setting_get_member(tunnel, "lw4o6");
	struct tunnel_cfg *side = calloc(1, sizeof(*side));

	if (!side) {
		cfg_err(x, tunnel, "out of memory");
		return;
	}
	if (mape)
		cfg_parse_mape(x, mape,
			       c->mode == TUNNEL_LW4O6 || c->mode == TUNNEL_AUTO
				       ? side
				       : c);
	if (lw)
		cfg_parse_lw4o6(x, lw, c->mode == TUNNEL_LW4O6 ? c : side);
	free(side);
}

static void check_mode_group(struct cfg_ctx *x, const config_setting_t *tunnel,
			     const struct tunnel_cfg *c)
{
	const config_setting_t *mode =
		config_setting_get_member(tunnel, "mode");
	const char *g = mode_groups[c->mode];
	unsigned int m;
	bool any = false;

	for (m = 0; m < TUNNEL_MODES; m++)
		any |= mode_groups[m] &&
		       config_setting_get_member(tunnel, mode_groups[m]);
	if (!mode && any)
		cfg_err(x, tunnel,
			"mode missing: \"map-e\", \"ds-lite\", \"lw4o6\", \"ipip\", \"auto\" or \"off\"");
	if (g && !config_setting_get_member(tunnel, g))
		cfg_err(x, mode, "\"%s\" needs a %s = { ... } group",
			tunnel_mode_name(c->mode), g);
}

int cfg_parse_tunnel(struct cfg_ctx *x, const config_setting_t *tunnel, void *obj)
{
	const config_setting_t *ipip6;
	struct tunnel_cfg *c = &x->c->tunnel;
	int before = x->errors;

	(void)obj;
	tunnel_cfg_defaults(c);
	if (cfg_group(x, tunnel, tunnel_keys, c) && !config_setting_is_group(tunnel))
		return -EINVAL;
	check_mode_group(x, tunnel, c);
	parse_rules(x, tunnel, c);
	ipip6 = config_setting_get_member(tunnel, "ipip6");
	if (ipip6)
		parse_peers(x, ipip6, c);
	return x->errors > before ? -EINVAL : 0;
}
