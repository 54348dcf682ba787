// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * From an HB46PP answer to brouter's tunnel settings (struct tunnel_cfg),
 * for MAP-E, DS-Lite, lw4o6 and ipip: the one place that knows both.
 */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>

#include "config/tunnel.h"
#include "provision/hb46pp_priv.h"
#include "tunnel/mape_rule.h"

/* What brouter's tunnel code takes from every ruled method. */
static void rule_defaults(struct mape_rule *r, const struct in6_addr *br)
{
	memset(r, 0, sizeof(*r));
	r->psid_len = MAPE_PSID_LEN_AUTO;
	r->psid = MAPE_PSID_AUTO;
	r->has_br = true;
	r->br = *br;
}

static int fill_mape(const struct hb_mape *m, const struct prefix6 *wan,
		     struct tunnel_cfg *c, char *err, size_t errlen)
{
	struct mape_rule *r = &c->rule;
	const struct hb_mape_rule *h;
	int i;

	i = wan ? hb_mape_select(m, wan) : -ENOENT;
	if (i < 0)
		return hb_fail(-ENOENT, err, errlen,
			       "map_e: no rule covers the WAN prefix");
	h = &m->rules[i];
	/* RFC 7597 5.2: r + o < 32 gives an IPv4 prefix, brouter runs one address */
	if (h->ipv4.len + h->ea_len < 32)
		return hb_fail(
			-EOPNOTSUPP, err, errlen,
			"map_e: ipv4 /%u + ea_length %u give the CE an IPv4 prefix; brouter needs r + o >= 32",
			h->ipv4.len, h->ea_len);
	rule_defaults(r, &m->br);
	r->rule6.addr = h->ipv6.addr;
	r->rule6.len = h->ipv6.len;
	r->rule4.addr = h->ipv4.addr;
	r->rule4.len = h->ipv4.len;
	r->ea_len = h->ea_len;
	r->psid_offset = h->psid_offset;
	/* 3.4: version 0 is draft-ietf-softwire-map-03, the legacy IID */
	r->format = m->version == HB_MAPE_RFC7597 ? MAPE_FMT_RFC7597
						  : MAPE_FMT_LEGACY;
	c->mode = TUNNEL_MAPE;
	c->has_mape = true;
	/* learned on the WAN and followed there, as with a configured rule */
	c->has_prefix = false;
	return mape_rule_check(r, err, errlen);
}

/*
 * RFC 7596 as brouter runs it (config/tunnel.h): a rule without EA bits,
 * the address /32, the PSID given, the lwB4 address built in the
 * operator's prefix (RFC 7598 4.6's bind prefix) as RFC 7597 6 says.
 */
static int fill_lw4o6(const struct hb_lw4o6 *l, struct tunnel_cfg *c, char *err,
		      size_t errlen)
{
	struct mape_rule *r = &c->rule;

	if (l->ipv6.len > 64 && l->ipv6.len < 128)
		return hb_fail(
			-EINVAL, err, errlen,
			"lw4o6: ipv6 /%u: a prefix of at most /64, or the lwB4 address /128",
			l->ipv6.len);
	rule_defaults(r, &l->aftr.addr);
	r->rule6 = prefix6_of(&l->ipv6.addr, l->ipv6.len);
	r->rule4.addr = l->ipv4;
	r->rule4.len = 32;
	r->psid_offset = l->psid_offset;
	r->psid_len = l->psid_len;
	r->psid = l->psid;
	r->format = MAPE_FMT_RFC7597;
	c->mode = TUNNEL_LW4O6;
	c->has_lw4o6 = true;
	c->has_prefix = true;
	c->prefix = r->rule6;
	return mape_rule_check(r, err, errlen);
}

/*
 * 3.4 ipip: the first tunnel carries the fixed address, IPv4's default
 * route (its ends are unicast: hb_json_addr6() saw to it).
 */
static int fill_ipip(const struct hb_answer *a, struct tunnel_cfg *c, char *err,
		     size_t errlen)
{
	const struct hb_ipip *t = &a->ipip[0];

	if (!a->n_ipip)
		return hb_fail(-EINVAL, err, errlen, "ipip: no tunnel");
	c->mode = TUNNEL_IPIP;
	c->has_fixed = true;
	c->fixed.local = t->local;
	c->fixed.remote = t->remote;
	c->fixed.ipv4 = tunnel_fixed_pick(t->ipv4.addr, t->ipv4.len);
	c->fixed.plen = t->ipv4.len;
	return 0;
}

int hb_tunnel_cfg(const struct hb_answer *a, const struct prefix6 *wan,
		  struct tunnel_cfg *c, char *err, size_t errlen)
{
	int m = hb_answer_choose(a, wan, err, errlen);

	c->has_mape = c->has_dslite = c->has_lw4o6 = c->has_fixed = false;
	c->mode = TUNNEL_OFF;
	if (m < 0 && !a->n_order)
		return 0; /* order: [] */
	switch (m) {
	case HB_MAPE:
		return fill_mape(&a->mape, wan, c, err, errlen);
	case HB_DSLITE:
		c->mode = TUNNEL_DSLITE;
		c->has_dslite = true;
		c->aftr = a->dslite.addr;
		return 0;
	case HB_IPIP:
		return fill_ipip(a, c, err, errlen);
	case HB_LW4O6:
		return fill_lw4o6(&a->lw4o6, c, err, errlen);
	}
	return m;
}
