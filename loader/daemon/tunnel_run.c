// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The tunnel's lifetime inside brouterd: egress program plus tunnel.c. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>

#include "brouter/abi.h"
#include "common/log.h"
#include "daemon/brouterd.h"
#include "daemon/tunnel_run.h"
#include "tc_egress.skel.h"

/* tc_egress uses the maps the XDP object created ("tun_out", "stats", ...). */
static int egress_up(struct tunnel_run *r)
{
	int err;

	r->skel = tc_egress__open();
	if (!r->skel) {
		err = -errno;
		pr_err("tunnel: open tc egress object: %s", strerror(-err));
		return err;
	}
	object_strict_alignment(r->skel->obj);
	r->skel->rodata->consts.ifindex[BR_PORT_WAN] = r->wan->ifindex;
	err = objects_share_maps(r->maps, r->skel->obj) ?: tc_egress__load(r->skel);
	if (err) {
		pr_err("tunnel: load tc egress program: %s (run with -vvv for the "
		       "verifier log)", strerror(-err));
		goto fail;
	}
	err = attach_tc_egress(r->wan, bpf_program__fd(r->skel->progs.tc_brouter_out));
	if (err)
		goto fail;
	return 0;
fail:
	tc_egress__destroy(r->skel);
	r->skel = NULL;
	return err;
}

static void egress_down(struct tunnel_run *r)
{
	detach_tc_egress(r->wan);
	tc_egress__destroy(r->skel);
	r->skel = NULL;
}

static int run_up(struct tunnel_run *r, const struct tunnel_cfg *cfg)
{
	struct tunnel_maps maps;
	int err;

	err = egress_up(r);
	if (err)
		return err;
	maps = (struct tunnel_maps){
		.tun_out = bpf_map__fd(r->skel->maps.tun_out),
		.tun_in = bpf_map__fd(r->skel->maps.tun_in),
		.nat_ports = bpf_map__fd(r->skel->maps.nat_ports),
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
	return 0;
}

int tunnel_run_start(struct tunnel_run *r, const struct tunnel_cfg *cfg,
		     struct br_port_attach *wan, struct bpf_object *maps)
{
	int err;

	r->wan = wan;
	r->maps = maps;
	if (!tunnel_cfg_active(cfg)) {
		detach_tc_egress_stale(wan);
		return 0;
	}
	err = run_up(r, cfg);
	if (err)
		pr_err("tunnel: IPv4 over IPv6 could not be set up; nothing of it is left");
	return err;
}

void tunnel_run_stop(struct tunnel_run *r)
{
	if (r->on)
		tunnel_stop(&r->t);
	r->on = false;
	if (r->skel)
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
	if (!err)
		return 0;
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

void tunnel_run_prefixes(struct tunnel_run *r, const struct ra_prefix *p, int n)
{
	int i;

	if (!r->on)
		return;
	for (i = 0; i < n; i++) {
		if (p[i].valid)
			tunnel_prefix_update(&r->t, &p[i].p);
		else
			tunnel_prefix_withdraw(&r->t, &p[i].p);
	}
}

void tunnel_run_wan_changed(struct tunnel_run *r)
{
	if (r->on)
		tunnel_wan_changed(&r->t);
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
	if (r->skel) {
		/* the egress filter went with the device */
		r->wan->tc_egress_attached = 0;
		tc_egress__destroy(r->skel);
		r->skel = NULL;
	}
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
