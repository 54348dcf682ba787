// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * SIGHUP: all or nothing. The new configuration is read and checked, its
 * firewall policy written beside the running one, its lan-prefixes and
 * tunnel applied, and only then the policy switched; a failure at any
 * step puts back what the steps before it changed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>

#include "common/log.h"
#include "daemon/brouterd.h"
#include "fw/prefixes.h"
#include "xdp_brouter.skel.h"

/* brouterctl reload watches the count of refusals to answer at once. */
static void refused(struct brouterd *d)
{
	pr_err("reload refused: nothing changed, the running configuration stays");
	status_reloaded(d, 0);
}

static int sync_prefixes(struct brouterd *d, const struct br_config *c)
{
	return prefixes_sync_config(bpf_map__fd(d->xdp->maps.prefixes),
				    c->lan_prefixes, c->n_lan_prefixes);
}

/*
 * The tunnel of @c, with "auto" what provisioning runs now (auto_tunnel.h).
 * 0, or -errno from tunnel_run_reload().
 */
static int tunnel_of(struct brouterd *d, const struct br_config *c)
{
	struct tunnel_cfg *t = malloc(sizeof(*t));
	int err;

	if (!t)
		return -ENOMEM;
	auto_tunnel_cfg(d, c, t);
	err = tunnel_run_reload(&d->tun, t);
	free(t);
	return err;
}

/* Apply @n over the running configuration, or leave it exactly as it was. */
static int apply(struct brouterd *d, const struct br_config *n)
{
	int err;

	err = policy_stage(d, n);
	if (err)
		goto unstage;
	err = sync_prefixes(d, n);
	if (err)
		goto prefixes;
	err = tunnel_of(d, n);
	if (err)
		goto prefixes; /* tunnel_run_reload() put the old tunnel back */
	err = policy_commit(d, n);
	if (!err)
		return 0;
	pr_err("reload: switching to the new policy failed (%s)",
	       strerror(-err));
	if (tunnel_of(d, &d->cfg))
		pr_err("reload: the previous tunnel could not be put back");
prefixes:
	if (sync_prefixes(d, &d->cfg))
		pr_err("reload: the previous lan-prefixes could not be put back");
unstage:
	policy_unstage(d);
	return err;
}

void reload(struct brouterd *d)
{
	struct br_config n;

	pr_info("reload: reading %s", d->cfg.opt.config_path);
	if (config_reload(&d->cfg, &n)) {
		refused(d);
		return;
	}
	fp4_timeouts(d); /* the new settings carry conntrack's timeouts now */
	if (apply(d, &n)) {
		config_free(&n);
		refused(d);
		return;
	}
	config_log_changes(&d->cfg, &n);
	config_free(&d->cfg);
	d->cfg = n;
	auto_reload(d); /* HB46PP's worker for the new settings */
	prefixes_arm(d);
	tunnel_run_keep(
		&d->tun); /* anything of it someone removed comes back too */
	br_log_level = d->cfg.log_level;
	br_log_syslog(d->cfg.opt.syslog);
	if (egress_fp4_sync(d))
		pr_err("reload: the IPv4 fast path's egress filters could not be "
		       "attached; it takes no flow over until they are");
	/* the new settings may say anything: no decision made before holds */
	fp4_flush(d, "reload");
	log_policy(d, "reloaded");
	status_reloaded(d, 1);
}
