// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Following the WAN while the tunnel runs: a new or withdrawn prefix
 * (MAP-E's end-user prefix), the DS-Lite source address, the MTU, and a
 * reload with another configuration.
 */
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

/* Note @p as learned; true if it is news (not seen since the start). */
static bool seen_add(struct tunnel *t, const struct prefix6 *p)
{
	int i;

	for (i = 0; i < t->n_seen; i++)
		if (prefix6_eq(&t->seen[i], p))
			return false;
	if (t->n_seen == TUNNEL_MAX_SEEN) {
		memmove(t->seen, t->seen + 1, (TUNNEL_MAX_SEEN - 1) * sizeof(t->seen[0]));
		t->n_seen--;
	}
	t->seen[t->n_seen++] = *p;
	return true;
}

static int mape_switch(struct tunnel *t, const struct prefix6 *p, const char *why)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	int err;

	if (t->have_prefix)
		pr_info("%s: end-user prefix %s/%u (%s) replaces %s/%u: recomputing",
			tunnel_rule_name(t), addr6_str(&p->addr, a), p->len,
			why, addr6_str(&t->prefix.addr, b), t->prefix.len);
	else
		pr_info("%s: end-user prefix %s/%u (%s)", tunnel_rule_name(t),
			addr6_str(&p->addr, a), p->len, why);
	main_down(t, true);
	t->prefix = *p;
	t->have_prefix = true;
	err = main_up(t);
	return err ?: 1;
}

/* DS-Lite: (re)pick the source address when it has none or lost it. */
static int dslite_recheck(struct tunnel *t)
{
	char a[INET6_ADDRSTRLEN];
	struct in6_addr b4;
	int ret;

	if (t->b4_up) {
		if (t->cfg.has_b4)
			return 0;
		ret = pick_b4(t, &b4);
		if (ret < 0 || (ret && !memcmp(&b4, &t->b4, 16)))
			return 0;
		pr_info("DS-Lite: %s is no longer on %s", addr6_str(&t->b4, a), t->wan);
		main_down(t, true);
	}
	ret = main_up(t);
	return ret ?: t->b4_up;
}

int tunnel_prefix_update(struct tunnel *t, const struct prefix6 *learned)
{
	const struct mape_rule *r = &t->cfg.rule;
	struct prefix6 p;
	bool news;

	if (!t->started || learned->len > 128)
		return learned->len > 128 ? -EINVAL : 0;
	if (t->cfg.mode == TUNNEL_DSLITE) {
		t->main_failed = false;
		return dslite_recheck(t);
	}
	if (!tunnel_ruled(t) || t->cfg.has_prefix)
		return 0;
	p = prefix6_of(&learned->addr, learned->len);
	if (p.len < r->rule6.len + r->ea_len || !prefix6_has(&r->rule6, &p.addr))
		return 0; /* not this rule's: another prefix of the WAN */
	news = seen_add(t, &p);
	if (t->have_prefix && (prefix6_eq(&p, &t->prefix) || !news))
		return 0;
	return mape_switch(t, &p, "router advertisement");
}

int tunnel_prefix_withdraw(struct tunnel *t, const struct prefix6 *gone)
{
	char a[INET6_ADDRSTRLEN];
	struct prefix6 p;
	int i;

	if (!t->started || !tunnel_ruled(t) || t->cfg.has_prefix ||
	    gone->len > 128)
		return 0;
	p = prefix6_of(&gone->addr, gone->len);
	for (i = 0; i < t->n_seen; i++) {
		if (!prefix6_eq(&t->seen[i], &p))
			continue;
		memmove(t->seen + i, t->seen + i + 1, (t->n_seen - i - 1) * sizeof(p));
		t->n_seen--;
		break;
	}
	if (!t->have_prefix || !prefix6_eq(&p, &t->prefix))
		return 0;
	if (t->n_seen)
		return mape_switch(t, &t->seen[t->n_seen - 1], "the newest still valid");
	pr_warn("%s: end-user prefix %s/%u withdrawn: IPv4 is down until another is learned",
		tunnel_rule_name(t), addr6_str(&p.addr, a), p.len);
	main_down(t, true);
	t->have_prefix = false;
	return 1;
}

/* Everything again, e.g. for a new MTU. */
static void rebuild(struct tunnel *t)
{
	main_down(t, false);
	undo_all(t, &t->peers);
	undo_all(t, &t->base);
	if (everything_up(t))
		pr_err("tunnel: could not be set up again; IPv4 over IPv6 is down");
}

void tunnel_wan_changed(struct tunnel *t)
{
	struct prefix6 p;
	int mtu;

	if (!t->started || !tunnel_cfg_active(&t->cfg))
		return;
	if (!t->cfg.mtu) {
		mtu = rtnl_link_mtu(&t->rtnl, t->wan_ifindex);
		if (mtu > 0 && (unsigned int)mtu != t->wan_mtu) {
			pr_info("%s: MTU %u -> %d: tunnel MTU %d", t->wan, t->wan_mtu, mtu,
				mtu - TUNNEL_OUTER_HDR);
			rebuild(t);
			return;
		}
	}
	if (t->main_failed)
		return; /* logged; retried when a prefix comes */
	if (tunnel_ruled(t) && !t->have_prefix && prefix_from_wan(t, &p) > 0) {
		seen_add(t, &p);
		mape_switch(t, &p, "address on the WAN");
	} else if (t->cfg.mode == TUNNEL_DSLITE) {
		dslite_recheck(t);
	}
}

static bool only_tracking_changed(const struct tunnel_cfg *a,
				  const struct tunnel_cfg *b)
{
	struct tunnel_cfg c = *b;

	c.track_flows = a->track_flows;
	return !memcmp(a, &c, sizeof(c));
}

int tunnel_reload(struct tunnel *t, const struct tunnel_cfg *cfg)
{
	char wan[IF_NAMESIZE];
	struct tunnel_maps maps = { t->tun_out_fd, t->tun_in_fd, t->nat_fd,
				    t->epoch_fd };
	int ifindex = t->wan_ifindex;
	struct prefix6 learned = t->prefix;
	bool had = t->have_prefix && !t->cfg.has_prefix, had_ce = t->ce_up;
	struct in_addr old_ce = t->ce.ipv4;
	int err;

	if (t->started && !memcmp(&t->cfg, cfg, sizeof(*cfg)))
		return 0;
	if (t->started && only_tracking_changed(&t->cfg, cfg)) {
		/* the IPv4 fast path turned on or off: the nftables table alone */
		t->cfg.track_flows = cfg->track_flows;
		return nft_sync(t);
	}
	memcpy(wan, t->wan, sizeof(wan));
	pr_info("tunnel: configuration changed (%s%s): setting up again",
		tunnel_mode_name(cfg->mode), cfg->n_peers ? " + ipip6" : "");
	tunnel_stop(t);
	err = tunnel_start(t, cfg, wan, ifindex, &maps);
	if (!err && had)
		tunnel_prefix_update(t, &learned);
	/* on error the caller goes back to the old settings: keep the flows */
	if (!err && had_ce && (!t->ce_up || t->ce.ipv4.s_addr != old_ce.s_addr))
		ct_forget(old_ce);
	return err;
}
