// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * brouterd's configuration: defaults, then the config file, then the
 * command line. A load fills a scratch config and hands it over only when
 * every check passed, so a bad file never replaces a running one.
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/parse.h"
#include "common/log.h"

void config_defaults(struct br_config *c)
{
	memset(c, 0, sizeof(*c));
	options_defaults(&c->opt);
	options_defaults(&c->cli);
	c->pol.mode = BR_FW_STATEFUL;
	/* RFC 6092 REC-11/REC-33 (and RFC 4787): endpoint-independent */
	c->pol.filtering = BR_FILT_EI;
	c->pol.lan_ipv6 = 1;
	c->pol.flags = BR_PF_ECHO_IN | BR_PF_IPSEC | BR_PF_LOG_DROPS;
	/* RFC 6092 REC-31 (TCP), REC-12 (UDP, at least 2 min; 5 min advised) */
	c->pol.timeout[BR_TO_TCP_EST] = 7440;
	c->pol.timeout[BR_TO_TCP_TRANS] = 240;
	c->pol.timeout[BR_TO_TCP_CLOSED] = 10;
	c->pol.timeout[BR_TO_UDP] = 300;
	c->pol.timeout[BR_TO_ICMP] = 60;
	c->pol.timeout[BR_TO_OTHER] = 600;
	c->pol.log_rate = 10;
	c->pol.echo_rate = BR_CFG_DEF_ECHO_RATE;
	c->max_flows = BR_CFG_DEF_FLOWS;
	c->flow_cache = BR_CFG_FC_AUTO;
	c->fast_path = 1;
	c->tun_dscp = 0; /* the outer DSCP brouter always wrote */
	c->log_level = BR_LOG_INFO;
	tunnel_cfg_defaults(&c->tunnel);
	prov_cfg_defaults(&c->prov);
}

__u32 config_flow_cache(const struct br_config *c, int ncpus)
{
	__u32 n = BR_FC_DEF_PER_CPU;

	if (c->flow_cache != BR_CFG_FC_AUTO)
		return c->flow_cache;
	while (n > BR_FC_MIN_PER_CPU &&
	       (__u64)n * BR_FC_ENTRY_SIZE * ncpus > BR_FC_DEF_BUDGET)
		n /= 2;
	return n;
}

void config_free(struct br_config *c)
{
	int i;

	free(c->pinholes);
	free(c->lan_prefixes);
	for (i = 0; i < c->n_files; i++)
		free(c->files[i]);
	free(c->files);
	memset(c, 0, sizeof(*c));
}

/* ---- top-level keys -------------------------------------------------- */

static int parse_port(struct cfg_ctx *x, const config_setting_t *s, int port)
{
	const char *v, *why;

	if (cfg_string(x, s, &v))
		return -EINVAL;
	why = ifname_invalid(v);
	if (why) {
		cfg_err(x, s, "\"%s\": %s", v, why);
		return -EINVAL;
	}
	strcpy(x->c->opt.ifname[port], v);
	return 0;
}

static int parse_lan(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	(void)obj;
	return parse_port(x, s, BR_PORT_LAN);
}

static int parse_wan(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	(void)obj;
	return parse_port(x, s, BR_PORT_WAN);
}

static int parse_pin_dir(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	char *dir = x->c->opt.pin_dir;
	const char *v;

	(void)obj;
	if (cfg_string(x, s, &v))
		return -EINVAL;
	if (v[0] != '/' || strlen(v) >= sizeof(x->c->opt.pin_dir)) {
		cfg_err(x, s, "must be an absolute path shorter than %zu bytes",
			sizeof(x->c->opt.pin_dir));
		return -EINVAL;
	}
	strcpy(dir, v);
	return 0;
}

static int parse_mark(struct cfg_ctx *x, const config_setting_t *s, int port)
{
	long long v;

	if (cfg_int(x, s, 0, 0xffffffffLL, &v))
		return -EINVAL;
	x->c->opt.mark[port] = v;
	return 0;
}

static int parse_mark_out(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	(void)obj;
	return parse_mark(x, s, BR_PORT_LAN);
}

static int parse_mark_in(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	(void)obj;
	return parse_mark(x, s, BR_PORT_WAN);
}

static int parse_mark_enabled(struct cfg_ctx *x, const config_setting_t *s,
			      void *obj)
{
	(void)obj;
	return cfg_bool(x, s, &x->c->opt.mark_enabled);
}

static const struct cfg_key mark_keys[] = {
	{ "outbound", parse_mark_out },
	{ "inbound", parse_mark_in },
	{ "enabled", parse_mark_enabled },
	{ NULL },
};

static int parse_marks(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	return cfg_group(x, s, mark_keys, obj);
}

static int add_ethertype(struct cfg_ctx *x, const config_setting_t *s, __u32 t)
{
	int err = options_add_ethertype(&x->c->opt, t);

	if (err == -EINVAL)
		cfg_err(x, s, "ethertype 0x%04x: %s", t, ethertype_invalid(t));
	else if (err)
		cfg_err(x, s, "at most %d ethertypes can be bridged, PPPoE's two "
			"included", BR_MAX_ETHERTYPES);
	return err;
}

static int parse_pppoe(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	int on;

	(void)obj;
	if (cfg_bool(x, s, &on))
		return -EINVAL;
	return on ? add_ethertype(x, s, 0x8863) ?: add_ethertype(x, s, 0x8864) : 0;
}

static int parse_ethertypes(struct cfg_ctx *x, const config_setting_t *s,
			    void *obj)
{
	const config_setting_t *e;
	int i, err = 0;
	long long t;

	(void)obj;
	if (!config_setting_is_array(s) && !config_setting_is_list(s)) {
		cfg_err(x, s, "must be an array [ 0x88cc, ... ]");
		return -EINVAL;
	}
	for (i = 0; i < cfg_count(s); i++) {
		e = cfg_item(s, i);
		if (cfg_int(x, e, 0, 0xffff, &t) || add_ethertype(x, e, t))
			err = -EINVAL;
	}
	return err;
}

static const struct cfg_key bridge_keys[] = {
	{ "pppoe", parse_pppoe },
	{ "ethertypes", parse_ethertypes },
	{ NULL },
};

static int parse_bridge(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	return cfg_group(x, s, bridge_keys, obj);
}

static int parse_wait(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	int on;

	(void)obj;
	if (cfg_bool(x, s, &on))
		return -EINVAL;
	x->c->opt.wait = on;
	return 0;
}

static int parse_xdp_mode(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	static const char *const names[] = { "auto", "native", "generic", NULL };
	int v;

	(void)obj;
	if (cfg_enum(x, s, names, &v))
		return -EINVAL;
	x->c->opt.xdp_mode = v;
	return 0;
}

static int parse_xdp_attach(struct cfg_ctx *x, const config_setting_t *s,
			    void *obj)
{
	int v;

	(void)obj;
	if (cfg_enum(x, s, xdp_attach_names, &v))
		return -EINVAL;
	x->c->opt.xdp_attach = v;
	return 0;
}

static int parse_tc_attach(struct cfg_ctx *x, const config_setting_t *s,
			   void *obj)
{
	int v;

	(void)obj;
	if (cfg_enum(x, s, tc_attach_names, &v))
		return -EINVAL;
	x->c->opt.tc_attach = v;
	return 0;
}

static int parse_log_level(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	/* the order of enum br_log_level */
	static const char *const names[] = { "error", "warning", "info", "debug",
					     NULL };
	int v;

	(void)obj;
	if (cfg_enum(x, s, names, &v))
		return -EINVAL;
	x->c->log_level = v;
	return 0;
}

static int parse_log_drops(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	int on;

	(void)obj;
	if (cfg_bool(x, s, &on))
		return -EINVAL;
	x->c->pol.flags = on ? x->c->pol.flags | BR_PF_LOG_DROPS :
			       x->c->pol.flags & ~BR_PF_LOG_DROPS;
	return 0;
}

static int parse_log_rate(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	long long v;

	(void)obj;
	if (cfg_int(x, s, 1, 100000, &v))
		return -EINVAL;
	x->c->pol.log_rate = v;
	return 0;
}

static int parse_log_syslog(struct cfg_ctx *x, const config_setting_t *s,
			    void *obj)
{
	(void)obj;
	return cfg_bool(x, s, &x->c->opt.syslog) ? -EINVAL : 0;
}

static const struct cfg_key log_keys[] = {
	{ "level", parse_log_level },
	{ "drops", parse_log_drops },
	{ "drop-rate", parse_log_rate },
	{ "syslog", parse_log_syslog },
	{ NULL },
};

static int parse_log(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	return cfg_group(x, s, log_keys, obj);
}

static const struct cfg_key top_keys[] = {
	{ "lan", parse_lan },
	{ "wan", parse_wan },
	{ "pin-dir", parse_pin_dir },
	{ "marks", parse_marks },
	{ "bridge", parse_bridge },
	{ "xdp-mode", parse_xdp_mode },
	{ "xdp-attach", parse_xdp_attach },
	{ "tc-attach", parse_tc_attach },
	{ "wait-for-ports", parse_wait },
	{ "log", parse_log },
	{ "ipv4", cfg_parse_ipv4 },
	{ "firewall", cfg_parse_firewall },
	{ "tunnel", cfg_parse_tunnel },
	{ "metrics", cfg_parse_metrics },
	{ NULL },
};

/* ---- loading ---------------------------------------------------------- */

/* Checks across keys; the pinholes are compiled only if they parsed. */
static int check_whole(struct cfg_ctx *x, config_t *cfg, int compile)
{
	const struct br_options *o = &x->c->opt;
	struct br_compiled comp;
	int err;

	if (o->ifname[BR_PORT_LAN][0] &&
	    !strcmp(o->ifname[BR_PORT_LAN], o->ifname[BR_PORT_WAN])) {
		cfg_err(x, config_lookup(cfg, "wan"), "LAN and WAN are the same "
			"interface (%s)", o->ifname[BR_PORT_WAN]);
		return -EINVAL;
	}
	if (!compile)
		return 0;
	/* The limits of the maps are part of "valid": compile once to know. */
	err = policy_compile(x->c->pinholes, x->c->n_pinholes, 0, &comp);
	if (err) {
		x->errors++;
		return err;
	}
	policy_compiled_free(&comp);
	return 0;
}

static int read_file(struct cfg_ctx *x)
{
	config_t cfg;
	int err;

	config_init(&cfg);
	config_set_include_dir(&cfg, x->dir);
	if (!config_read_file(&cfg, x->path)) {
		if (config_error_line(&cfg))
			pr_err("%s:%d: %s", config_error_file(&cfg) ?: x->path,
			       config_error_line(&cfg), config_error_text(&cfg));
		else
			pr_err("%s: %s", x->path, config_error_text(&cfg));
		config_destroy(&cfg);
		return -EINVAL;
	}
	err = cfg_group(x, config_root_setting(&cfg), top_keys, x->c);
	err = check_whole(x, &cfg, !err) ?: err;
	config_destroy(&cfg);
	return err;
}

int config_load(const char *path, int must_exist, struct br_config *out)
{
	struct cfg_ctx x = { .path = path };
	struct br_config c;
	char *dir = NULL;
	FILE *f;
	int err;

	config_defaults(&c);
	x.c = &c;
	f = fopen(path, "r");
	if (!f) {
		err = -errno;
		if (err == -ENOENT && !must_exist) {
			pr_debug("%s: not found; using built-in defaults", path);
			snprintf(c.opt.config_path, sizeof(c.opt.config_path), "%s",
				 path);
			*out = c;
			return 0;
		}
		pr_err("%s: %s", path, strerror(-err));
		return err;
	}
	fclose(f);
	dir = strdup(path);
	if (!dir)
		return -ENOMEM;
	x.dir = dirname(dir);
	err = cfg_scan_ints(&x, path, 0) ?: read_file(&x);
	free(dir);
	if (err || x.errors) {
		if (x.errors > 1)
			pr_err("%s: %d errors", path, x.errors);
		config_free(&c);
		return err ?: -EINVAL;
	}
	c.file_found = 1;
	c.pol.n_pinholes = c.n_pinholes;
	snprintf(c.opt.config_path, sizeof(c.opt.config_path), "%s", path);
	*out = c;
	return 0;
}

/* ---- file + command line ------------------------------------------- */

/* --tunnel over the file's tunnel group: 0, or -EINVAL (logged). */
static int tunnel_override(struct br_config *c, enum br_tunnel_opt t)
{
	int i, j;

	if (t == BR_TUNNEL_NONE) {
		tunnel_cfg_defaults(&c->tunnel);
		return 0;
	}
	for (i = 0; i < c->tunnel.n_peers; i++)
		for (j = 0; j < c->tunnel.peers[i].n_prefixes; j++)
			if (!c->tunnel.peers[i].prefixes[j].len) {
				pr_err("--tunnel auto: ipip6 peer %d takes 0.0.0.0/0, the provisioned tunnel's default route",
				       i);
				return -EINVAL;
			}
	c->tunnel.mode = TUNNEL_AUTO;
	return 0;
}

int config_build(const struct br_options *cli, struct br_config *out)
{
	struct br_config c;
	int err;

	err = config_load(cli->config_path, !!(cli->given & BR_GIVEN_CONFIG), &c);
	if (err)
		return err;
	options_apply(&c.opt, cli);
	c.cli = *cli;
	if ((cli->given & BR_GIVEN_TUNNEL) &&
	    tunnel_override(&c, cli->tunnel)) {
		config_free(&c);
		return -EINVAL;
	}
	if (cli->given & BR_GIVEN_VERBOSITY)
		c.log_level = options_log_level(cli);
	/* --check-config validates a file that may not name the ports */
	if (cli->check_config && (!c.opt.ifname[BR_PORT_LAN][0] ||
				  !c.opt.ifname[BR_PORT_WAN][0]))
		err = 0;
	else
		err = options_check_ports(&c.opt);
	if (err) {
		config_free(&c);
		return err;
	}
	*out = c;
	return 0;
}

int brouter_config(int argc, char **argv, struct br_config *out)
{
	struct br_options cli;
	struct br_config c;
	int err;

	err = options_parse_args(&cli, argc, argv);
	if (err)
		return err;
	if (cli.given & BR_GIVEN_VERBOSITY)
		br_log_level = options_log_level(&cli);
	err = config_build(&cli, &c);
	if (err)
		return err;
	if (cli.check_config) {
		if (!c.file_found)
			pr_info("%s: not found; the built-in defaults apply",
				cli.config_path);
		printf("%s: OK (%d pinholes", cli.config_path, c.n_pinholes);
		if (tunnel_cfg_active(&c.tunnel))
			printf(", tunnel %s%s", tunnel_mode_name(c.tunnel.mode),
			       c.tunnel.n_peers ? " + ipip6" : "");
		printf(")\n");
		config_free(&c);
		return 1;
	}
	*out = c;
	return 0;
}
