// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * SIGHUP: the config read again, with what cannot change live (ports,
 * pin directory, XDP mode and attachment, table sizes, the metrics
 * address) kept as running, and a warning saying so.
 */
#include <stdio.h>
#include <string.h>

#include "config/parse.h"
#include "common/log.h"

static const char *fc_size_name(__u32 v, char *buf, size_t len)
{
	if (v == BR_CFG_FC_AUTO)
		return "the default";
	snprintf(buf, len, "%u", v);
	return buf;
}

static void keep_running(const char *what, char *now, const char *running,
			 size_t len)
{
	if (!strcmp(now, running))
		return;
	pr_warn("reload: %s is %s in the new configuration but %s is running; "
		"restart brouterd to change it",
		what, now, running);
	snprintf(now, len, "%s", running);
}

int config_reload(struct br_config *cfg)
{
	static const char *const xdp_modes[] = { "auto", "native", "generic" };
	struct br_options *o;
	struct br_config n;
	int err;

	err = config_build(&cfg->cli, &n);
	if (err) {
		pr_err("reload: %s not applied; keeping the running configuration",
		       cfg->opt.config_path);
		return err;
	}
	o = &n.opt;
	keep_running("the LAN port", o->ifname[BR_PORT_LAN],
		     cfg->opt.ifname[BR_PORT_LAN], sizeof(o->ifname[0]));
	keep_running("the WAN port", o->ifname[BR_PORT_WAN],
		     cfg->opt.ifname[BR_PORT_WAN], sizeof(o->ifname[0]));
	keep_running("pin-dir", o->pin_dir, cfg->opt.pin_dir,
		     sizeof(o->pin_dir));
	if (o->xdp_mode != cfg->opt.xdp_mode) {
		pr_warn("reload: xdp-mode is %s in the new configuration but %s is "
			"running; restart brouterd to change it",
			xdp_modes[o->xdp_mode], xdp_modes[cfg->opt.xdp_mode]);
		o->xdp_mode = cfg->opt.xdp_mode;
	}
	if (o->xdp_attach != cfg->opt.xdp_attach) {
		pr_warn("reload: xdp-attach is %s in the new configuration but %s "
			"is running; restart brouterd to change it",
			xdp_attach_names[o->xdp_attach],
			xdp_attach_names[cfg->opt.xdp_attach]);
		o->xdp_attach = cfg->opt.xdp_attach;
	}
	if (n.max_flows != cfg->max_flows) {
		pr_warn("reload: max-flows is %u in the new configuration but %u is "
			"running; restart brouterd to change it",
			n.max_flows, cfg->max_flows);
		n.max_flows = cfg->max_flows;
	}
	keep_running("metrics.listen", n.metrics_listen, cfg->metrics_listen,
		     sizeof(n.metrics_listen));
	if (n.flow_cache != cfg->flow_cache) {
		char want[16], have[16];

		pr_warn("reload: flow-cache is %s in the new configuration "
			"but %s is running; restart brouterd to change it",
			fc_size_name(n.flow_cache, want, sizeof(want)),
			fc_size_name(cfg->flow_cache, have, sizeof(have)));
		n.flow_cache = cfg->flow_cache;
	}
	config_free(cfg);
	*cfg = n;
	return 0;
}
