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
	{ "map-e", cfg_parse_mape },
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
