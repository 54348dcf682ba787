// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The tunnel's lifetime inside brouterd: the egress filter on the WAN plus tunnel.c. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>

#include "brouter/abi.h"
#include "common/log.h"
#include "daemon/brouterd.h"
#include "daemon/tunnel_run.h"
#include "common/mapwalk.h"
#include "tunnel/nexthop.h"

/* The egress filter (loaded with the other programs) encapsulates on the WAN. */
static int egress_up(struct tunnel_run *r)
{
	return attach_tc_egress(r->wan, r->egress_fd, BR_EGRESS_TUNNEL);
}

static void egress_down(struct tunnel_run *r)
{
	if (r->wan) /* NULL: never started */
		detach_tc_egress(r->wan, BR_EGRESS_TUNNEL);
}

static int map_fd(struct tunnel_run *r, const char *name)
{
	return bpf_map__fd(bpf_object__find_map_by_name(r->maps, name));
}

void tunnel_run_next_hops(struct tunnel_run *r)
{
	int n;

	if (!r->on)
		return;
	n = tunnel_nexthops_sync(&r->t.rtnl, r->wan->ifindex,
				 map_fd(r, "tun_out"), map_fd(r, "tun_nh"));
	if (n < 0)
		pr_debug("tunnel: next hops: %s", strerror(-n));
	else if (n)
		pr_debug("tunnel: %d next hop entries changed", n);
}

static int run_up(struct tunnel_run *r, const struct tunnel_cfg *cfg)
{
	struct tunnel_maps maps;
	int err;

	err = egress_up(r);
	if (err)
		return err;
	maps = (struct tunnel_maps){
		.tun_out = map_fd(r, "tun_out"),
		.tun_in = map_fd(r, "tun_in"),
		.nat_ports = map_fd(r, "nat_ports"),
		.tun_epoch = map_fd(r, "tun_epoch"),
	};
	err = tunnel_start(&r->t, cfg, r->wan->ifname, r->wan->ifindex, &maps);
	if (err) {
		/* tunnel_start() undid its part already */
		egress_down(r);
		return err;
	}
	r->on = true;
	pr_info("tunnel: %s%s set up on %s", tunnel_mode_name(cfg->mode),
		cfg->n_peers ? " + ipip6" : "", r->wan->ifname);
	tunnel_run_next_hops(r);
	return 0;
}

int tunnel_run_start(struct tunnel_run *r, const struct tunnel_cfg *cfg,
		     struct br_port_attach *wan, struct bpf_object *maps,
		     int egress_fd)
{
	int err;

	r->wan = wan;
	r->maps = maps;
	r->egress_fd = egress_fd;
	if (!tunnel_cfg_active(cfg))
		return 0;
	err = run_up(r, cfg);
	if (err)
		pr_err("tunnel: IPv4 over IPv6 could not be set up; nothing of it is left");
	return err;
}

void tunnel_run_stop(struct tunnel_run *r)
{
	if (r->on) {
		tunnel_stop(&r->t);
		map_clear(map_fd(r, "tun_nh"), sizeof(struct br_addr_key));
	}
	r->on = false;
	egress_down(r);
}

int tunnel_run_switch(struct tunnel_run *r, const struct tunnel_cfg *cfg,
		      const char *why)
{
	struct tunnel_cfg old;
	bool had = r->on;
	int err;

	if (had)
		old = r->t.cfg;
	if (!tunnel_cfg_active(cfg)) {
		if (had) {
			tunnel_run_stop(r);
			pr_info("%s: no tunnel any more: tunnel and tc egress "
				"program removed",
				why);
		}
		return 0;
	}
	if (!had) {
		pr_info("%s: tunnel %s%s added", why,
			tunnel_mode_name(cfg->mode),
			cfg->n_peers ? " + ipip6" : "");
		err = run_up(r, cfg);
		if (err)
			pr_err("%s: the tunnel could not be set up; nothing of it is left",
			       why);
		return err;
	}
	err = tunnel_reload(&r->t, cfg);
	if (!err) {
		tunnel_run_next_hops(r);
		return 0;
	}
	/* tunnel_reload() left it down: the old settings worked, use them */
	pr_err("%s: the new tunnel configuration could not be set up; "
	       "going back to the previous one",
	       why);
	if (tunnel_reload(&r->t, &old)) {
		pr_err("%s: the previous tunnel could not be set up again either; "
		       "IPv4 over IPv6 is down",
		       why);
		tunnel_run_stop(r);
	}
	return err;
}

int tunnel_run_reload(struct tunnel_run *r, const struct tunnel_cfg *cfg)
{
	return tunnel_run_switch(r, cfg, "reload");
}

/* What encapsulation depends on, to tell whether a step changed it. */
struct tun_view {
	bool ce_up, b4_up;
	__u32 ce4;
	__u16 psid;
	struct in6_addr b4;
	unsigned int mtu;
};

static struct tun_view tun_view(const struct tunnel *t)
{
	struct tun_view v;

	memset(&v, 0, sizeof(v));
	v.ce_up = t->ce_up;
	v.b4_up = t->b4_up;
	v.ce4 = t->ce.ipv4.s_addr;
	v.psid = t->ce.psid;
	v.b4 = t->b4;
	v.mtu = t->mtu;
	return v;
}

/* Did what goes into the tunnel change since @before? Then its next hops too. */
static bool changed_since(struct tunnel_run *r, const struct tun_view *before)
{
	struct tun_view after = tun_view(&r->t);

	if (!memcmp(before, &after, sizeof(after)))
		return false;
	tunnel_run_next_hops(r);
	return true;
}

bool tunnel_run_prefixes(struct tunnel_run *r, const struct ra_prefix *p, int n)
{
	struct tun_view before = tun_view(&r->t);
	int i;

	if (!r->on)
		return false;
	for (i = 0; i < n; i++) {
		if (p[i].valid)
			tunnel_prefix_update(&r->t, &p[i].p);
		else
			tunnel_prefix_withdraw(&r->t, &p[i].p);
	}
	return changed_since(r, &before);
}

bool tunnel_run_wan_changed(struct tunnel_run *r)
{
	struct tun_view before = tun_view(&r->t);

	if (!r->on)
		return false;
	tunnel_wan_changed(&r->t);
	return changed_since(r, &before);
}

void tunnel_run_keep(struct tunnel_run *r)
{
	if (r->on)
		tunnel_keep(&r->t);
}

void tunnel_run_nft_changed(struct tunnel_run *r, const struct nft_change *c)
{
	char what[96];

	if (!r->on)
		return;
	if (!c->pid)
		snprintf(what, sizeof(what),
			 "may have changed (events were lost)");
	else
		snprintf(what, sizeof(what), "was %s by %s (pid %u)",
			 c->deleted ? "deleted" : "changed", c->proc, c->pid);
	tunnel_nft_restore(&r->t, what);
}

void tunnel_run_wan_gone(struct tunnel_run *r, bool deleted)
{
	if (!deleted) {
		tunnel_run_stop(
			r); /* renamed: all of it is still there to undo */
		return;
	}
	if (r->on)
		tunnel_forget(&r->t);
	r->on = false;
	/* the egress filter went with the device; the fast path's needs it back */
	r->wan->tc_egress_users &= ~BR_EGRESS_TUNNEL;
}

int tunnel_run_wan_back(struct tunnel_run *r, const struct tunnel_cfg *cfg,
			struct br_port_attach *wan)
{
	int err;

	r->wan = wan;
	if (!tunnel_cfg_active(cfg))
		return 0;
	/* the egress program takes the new ifindex as rodata: a new one */
	err = run_up(r, cfg);
	if (err)
		pr_err("tunnel: could not be set up on the new %s",
		       wan->ifname);
	return err;
}
