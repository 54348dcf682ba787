// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * SIGHUP: the config read again, with what cannot change live (ports,
 * pin directory, XDP mode and attachment, table sizes, the metrics
 * address) kept as running, and a warning saying so.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

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

/*
 * A zero-byte file is what a save cut short leaves (disk full, an editor
 * killed mid-write): taking it as "all defaults" would silently remove
 * every pinhole and the tunnel. At start it still means defaults.
 */
static int reload_file_sane(const struct br_config *cur)
{
	const char *path = cur->opt.config_path;
	struct stat st;

	if (stat(path, &st)) {
		if (errno == ENOENT && !cur->file_found)
			return 0; /* absent at start too: still the defaults */
		pr_err("reload: %s: %s", path, strerror(errno));
		return -errno;
	}
	if (S_ISREG(st.st_mode) && st.st_size == 0) {
		pr_err("reload: %s is empty (0 bytes): refused, as a truncated save "
		       "would remove every pinhole; an empty file is taken as the "
		       "defaults only at start",
		       path);
		return -ENODATA;
	}
	return 0;
}

/* What cannot change live stays as it runs, with a warning. */
static void keep_fixed(const struct br_config *cur, struct br_config *n)
{
	static const char *const xdp_modes[] = { "auto", "native", "generic" };
	struct br_options *o = &n->opt;
	char want[16], have[16];

	keep_running("the LAN port", o->ifname[BR_PORT_LAN],
		     cur->opt.ifname[BR_PORT_LAN], sizeof(o->ifname[0]));
	keep_running("the WAN port", o->ifname[BR_PORT_WAN],
		     cur->opt.ifname[BR_PORT_WAN], sizeof(o->ifname[0]));
	keep_running("pin-dir", o->pin_dir, cur->opt.pin_dir,
		     sizeof(o->pin_dir));
	if (o->xdp_mode != cur->opt.xdp_mode) {
		pr_warn("reload: xdp-mode is %s in the new configuration but %s is "
			"running; restart brouterd to change it",
			xdp_modes[o->xdp_mode], xdp_modes[cur->opt.xdp_mode]);
		o->xdp_mode = cur->opt.xdp_mode;
	}
	if (o->xdp_attach != cur->opt.xdp_attach) {
		pr_warn("reload: xdp-attach is %s in the new configuration but %s "
			"is running; restart brouterd to change it",
			xdp_attach_names[o->xdp_attach],
			xdp_attach_names[cur->opt.xdp_attach]);
		o->xdp_attach = cur->opt.xdp_attach;
	}
	if (o->tc_attach != cur->opt.tc_attach) {
		pr_warn("reload: tc-attach is %s in the new configuration but %s "
			"is running; restart brouterd to change it",
			tc_attach_names[o->tc_attach],
			tc_attach_names[cur->opt.tc_attach]);
		o->tc_attach = cur->opt.tc_attach;
	}
	if (n->max_flows != cur->max_flows) {
		pr_warn("reload: max-flows is %u in the new configuration but %u is "
			"running; restart brouterd to change it",
			n->max_flows, cur->max_flows);
		n->max_flows = cur->max_flows;
	}
	keep_running("metrics.listen", n->metrics_listen, cur->metrics_listen,
		     sizeof(n->metrics_listen));
	if (n->flow_cache != cur->flow_cache) {
		pr_warn("reload: flow-cache is %s in the new configuration "
			"but %s is running; restart brouterd to change it",
			fc_size_name(n->flow_cache, want, sizeof(want)),
			fc_size_name(cur->flow_cache, have, sizeof(have)));
		n->flow_cache = cur->flow_cache;
	}
}

int config_reload(const struct br_config *cur, struct br_config *out)
{
	struct br_config n;
	int err;

	err = reload_file_sane(cur) ?: config_build(&cur->cli, &n);
	if (err)
		return err;
	keep_fixed(cur, &n);
	*out = n;
	return 0;
}
