// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * From an HB46PP answer to brouter's tunnel settings (struct tunnel_cfg),
 * for MAP-E and DS-Lite: the one place that knows both.
 */
#include <errno.h>
#include <string.h>

#include "config/tunnel.h"
#include "provision/hb46pp_priv.h"
#include "tunnel/mape_rule.h"

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
	memset(r, 0, sizeof(*r));
	r->rule6.addr = h->ipv6.addr;
	r->rule6.len = h->ipv6.len;
	r->rule4.addr = h->ipv4.addr;
	r->rule4.len = h->ipv4.len;
	r->ea_len = h->ea_len;
	r->psid_offset = h->psid_offset;
	r->psid_len = MAPE_PSID_LEN_AUTO;
	r->psid = MAPE_PSID_AUTO;
	r->has_br = true;
	r->br = m->br;
	/* 3.4: version 0 is draft-ietf-softwire-map-03, the legacy IID */
	r->format = m->version == HB_MAPE_RFC7597 ? MAPE_FMT_RFC7597
						  : MAPE_FMT_LEGACY;
	c->mode = TUNNEL_MAPE;
	c->has_mape = true;
	/* learned on the WAN and followed there, as with a configured rule */
	c->has_prefix = false;
	return mape_rule_check(r, err, errlen);
}

int hb_tunnel_cfg(const struct hb_answer *a, const struct prefix6 *wan,
		  struct tunnel_cfg *c, char *err, size_t errlen)
{
	int m = hb_answer_choose(a, wan, err, errlen);

	c->has_mape = false;
	c->has_dslite = false;
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
	case HB_LW4O6:
		return hb_fail(-EOPNOTSUPP, err, errlen,
			       "%s: brouter's tunnel settings cannot hold it",
			       hb_method_name(m));
	}
	return m;
}
