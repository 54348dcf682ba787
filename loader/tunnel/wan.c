// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* What the tunnel reads of the WAN port: its MTU, and the addresses MAP-E and DS-Lite derive from. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <bpf/bpf.h>

#include "common/log.h"
#include "tunnel/internal.h"

int mtu_compute(struct tunnel *t)
{
	int wan = rtnl_link_mtu(&t->rtnl, t->wan_ifindex);

	if (wan < 0) {
		pr_err("%s: read MTU: %s", t->wan, strerror(-wan));
		return wan;
	}
	t->wan_mtu = wan;
	if (t->cfg.mtu) {
		if (t->cfg.mtu + TUNNEL_OUTER_HDR > (unsigned int)wan)
			pr_warn("tunnel mtu %u + %d > %s MTU %d: full-size packets will not fit the WAN",
				t->cfg.mtu, TUNNEL_OUTER_HDR, t->wan, wan);
		t->mtu = t->cfg.mtu;
		return 0;
	}
	if (wan < TUNNEL_MTU_MIN + TUNNEL_OUTER_HDR) {
		pr_err("%s: MTU %d leaves no room for IPv4 in IPv6 (at least %d needed)",
		       t->wan, wan, TUNNEL_MTU_MIN + TUNNEL_OUTER_HDR);
		return -EINVAL;
	}
	t->mtu = wan - TUNNEL_OUTER_HDR;
	return 0;
}

/* Usable as a source: global, not ours, past DAD. */
static bool addr_usable(const struct rtnl_addr *a)
{
	return a->scope == RT_SCOPE_UNIVERSE && a->proto != RTNL_PROTO_BROUTER &&
	       !(a->flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED));
}

/* A WAN address whose prefix fits the MAP-E rule (SLAAC, DHCPv6). */
int prefix_from_wan(struct tunnel *t, struct prefix6 *out)
{
	const struct mape_rule *r = &t->cfg.rule;
	struct rtnl_addr v[TUNNEL_MAX_ADDRS];
	int n, i;

	n = rtnl_addr_list(&t->rtnl, t->wan_ifindex, AF_INET6, v, TUNNEL_MAX_ADDRS);
	for (i = 0; i < n && i < TUNNEL_MAX_ADDRS; i++) {
		if (!addr_usable(&v[i]) || v[i].plen < r->rule6.len + r->ea_len ||
		    !prefix6_has(&r->rule6, &v[i].a.v6))
			continue;
		*out = prefix6_of(&v[i].a.v6, v[i].plen);
		return 1;
	}
	return n < 0 ? n : 0;
}

/*
 * DS-Lite's IPv6 source: the current one while it stays, else a global
 * address of the WAN, preferring stable over temporary, preferred over
 * deprecated.
 */
int pick_b4(struct tunnel *t, struct in6_addr *out)
{
	struct rtnl_addr v[TUNNEL_MAX_ADDRS];
	int n, i, score, best = -1;

	n = rtnl_addr_list(&t->rtnl, t->wan_ifindex, AF_INET6, v, TUNNEL_MAX_ADDRS);
	for (i = 0; i < n && i < TUNNEL_MAX_ADDRS; i++) {
		if (!addr_usable(&v[i]))
			continue;
		if (t->b4_up && !memcmp(&v[i].a.v6, &t->b4, 16)) {
			*out = t->b4;
			return 1;
		}
		score = !(v[i].flags & IFA_F_TEMPORARY) * 2 +
			!(v[i].flags & IFA_F_DEPRECATED);
		if (score > best) {
			best = score;
			*out = v[i].a.v6;
		}
	}
	return n < 0 ? n : best >= 0;
}
