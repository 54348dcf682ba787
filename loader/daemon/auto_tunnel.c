// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* tunnel.mode "auto": HB46PP answers turned into the tunnel brouterd runs. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include "common/log.h"
#include "common/rtnl.h"
#include "daemon/brouterd.h"

static bool is_auto(const struct brouterd *d)
{
	return d->cfg.tunnel.mode == TUNNEL_AUTO;
}

void auto_tunnel_cfg(struct brouterd *d, const struct br_config *cfg,
		     struct tunnel_cfg *out)
{
	struct auto_tunnel *at = &d->at;
	char err[HB_ERR_LEN] = "";

	*out = cfg->tunnel;
	/* conntrack even without NAT: the IPv4 fast path's source of truth */
	out->track_flows = cfg->fast_path;
	if (cfg->tunnel.mode != TUNNEL_AUTO)
		return;
	out->mode = TUNNEL_OFF;
	if (!at->answer || at->method < 0)
		return;
	if (!hb_tunnel_cfg(at->answer, at->has_wan ? &at->wan : NULL, out, err,
			   sizeof(err))) {
		at->failed[0] = 0;
		out->track_flows = cfg->fast_path;
		return;
	}
	out->mode = TUNNEL_OFF;
	if (strcmp(err, at->failed))
		pr_warn("HB46PP: the answer cannot run here: %s; no tunnel",
			err);
	snprintf(at->failed, sizeof(at->failed), "%s", err);
}

/* Switch the running tunnel to what the config and the answer say now. */
static void apply(struct brouterd *d, const char *why)
{
	struct tunnel_cfg *c = malloc(sizeof(*c));

	if (!c) {
		pr_err("HB46PP: out of memory; the tunnel is not switched");
		return;
	}
	auto_tunnel_cfg(d, &d->cfg, c);
	tunnel_run_switch(&d->tun, c, why);
	free(c);
	fp4_flush(d, "tunnel switched");
	status_tunnel(d);
}

/* A prefix provisioning may be for: global unicast, a /64 or shorter. */
static bool wan_prefix_ok(const struct prefix6 *p)
{
	return p->len <= 64 && (p->addr.s6_addr[0] & 0xe0) == 0x20;
}

static void set_wan(struct brouterd *d, const struct prefix6 *p)
{
	struct auto_tunnel *at = &d->at;
	char a[PREFIX6_STRLEN];

	if (at->has_wan && prefix6_eq(&at->wan, p))
		return;
	at->wan = *p;
	at->has_wan = true;
	pr_info("HB46PP: WAN prefix %s", prefix6_str(p, a));
	prov_run_wan(&at->run, p);
	/* the answer in use may hold another rule for it: look again now */
	apply(d, "HB46PP");
}

/* A global prefix of an address the WAN has already (SLAAC, DHCPv6). */
static void wan_from_addresses(struct brouterd *d)
{
	struct rtnl_addr v[64];
	struct prefix6 p;
	struct rtnl rt;
	int n, i;

	if (rtnl_open(&rt))
		return;
	n = rtnl_addr_list(&rt, d->port[BR_PORT_WAN].ifindex, AF_INET6, v, 64);
	for (i = 0; i < n && i < 64; i++) {
		p = prefix6_of(&v[i].a.v6, v[i].plen);
		if (v[i].scope != RT_SCOPE_UNIVERSE ||
		    v[i].proto == RTNL_PROTO_BROUTER ||
		    (v[i].flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED)) ||
		    !wan_prefix_ok(&p))
			continue;
		d->at.seen[d->at.n_seen++] = p;
		set_wan(d, &p);
		break;
	}
	rtnl_close(&rt);
}

/* The worker, told the WAN prefix at once when it is known already. */
static int worker_start(struct brouterd *d)
{
	int err = prov_run_start(&d->at.run, &d->cfg.prov);

	if (err)
		return err;
	if (d->at.has_wan)
		prov_run_wan(&d->at.run, &d->at.wan);
	else
		wan_from_addresses(d);
	return 0;
}

int auto_start(struct brouterd *d)
{
	if (!is_auto(d))
		return 0;
	d->at.method = -1;
	return worker_start(d);
}

void auto_stop(struct brouterd *d)
{
	prov_run_stop(&d->at.run);
	free(d->at.answer);
	d->at.answer = NULL;
	d->at.method = -1;
	d->at.failed[0] = 0;
}

int auto_fd(const struct brouterd *d)
{
	return prov_run_fd(&d->at.run);
}

void auto_event(struct brouterd *d)
{
	struct hb_answer *a;
	int m;

	if (!prov_run_take(&d->at.run, &a, &m))
		return;
	free(d->at.answer);
	d->at.answer = a;
	d->at.method = a ? m : -1;
	apply(d, "HB46PP");
}

/* Forget @p; 1 if it was in the list. */
static int seen_del(struct auto_tunnel *at, const struct prefix6 *p)
{
	int i;

	for (i = 0; i < at->n_seen; i++) {
		if (!prefix6_eq(&at->seen[i], p))
			continue;
		memmove(at->seen + i, at->seen + i + 1,
			(at->n_seen - i - 1) * sizeof(*p));
		at->n_seen--;
		return 1;
	}
	return 0;
}

/*
 * A prefix seen for the first time becomes the WAN prefix (a renumbered
 * line advertises old and new for a while: the new one counts); a
 * withdrawn one in use gives way to the newest still valid.
 */
void auto_prefixes(struct brouterd *d, const struct ra_prefix *p, int n)
{
	struct auto_tunnel *at = &d->at;
	int i;
	bool news;

	if (!is_auto(d) || !at->run.on)
		return;
	for (i = 0; i < n; i++) {
		if (!wan_prefix_ok(&p[i].p))
			continue;
		news = !seen_del(at, &p[i].p);
		if (!p[i].valid) {
			if (at->has_wan && prefix6_eq(&at->wan, &p[i].p) &&
			    at->n_seen)
				set_wan(d, &at->seen[at->n_seen - 1]);
			continue;
		}
		if (at->n_seen == AUTO_MAX_SEEN)
			seen_del(at, &at->seen[0]);
		at->seen[at->n_seen++] = p[i].p;
		if (news || !at->has_wan)
			set_wan(d, &p[i].p);
	}
}

void auto_reload(struct brouterd *d)
{
	struct prov_run *r = &d->at.run;
	bool now = is_auto(d);

	/*
	 * The worker keeps a copy of the settings it was started with. New
	 * ones restart it; the answer in use runs on until it says more.
	 */
	if (r->on && !now) {
		pr_info("reload: HB46PP provisioning off");
		auto_stop(d);
	} else if (r->on && memcmp(&r->cfg, &d->cfg.prov, sizeof(r->cfg))) {
		pr_info("reload: HB46PP settings changed: starting afresh");
		prov_run_stop(r);
	}
	if (now && !r->on && (d->at.answer ? worker_start(d) : auto_start(d)))
		pr_err("reload: HB46PP provisioning could not start; no tunnel by it");
	apply(d, "reload");
}

void auto_clear(struct brouterd *d)
{
	if (!d->at.run.on) {
		pr_info("SIGUSR1: HB46PP provisioning is not running (tunnel.mode is not \"auto\")");
		return;
	}
	pr_info("SIGUSR1: clearing the HB46PP token and stored answer");
	prov_run_clear(&d->at.run);
}
