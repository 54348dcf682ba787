// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The "firewall" group of the config file: mode, switches, timeouts, prefixes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config/parse.h"
#include "common/log.h"

static int parse_mode(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	/* the order of enum br_fw_mode */
	static const char *const names[] = { "stateful", "stateless-tcp", "open",
					     NULL };
	int v;

	(void)obj;
	if (cfg_enum(x, s, names, &v))
		return -EINVAL;
	x->c->pol.mode = v;
	return 0;
}

static int parse_filtering(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	/* the order of enum br_filtering */
	static const char *const names[] = { "endpoint-independent",
					     "address-dependent",
					     "address-and-port-dependent", NULL };
	int v;

	(void)obj;
	if (cfg_enum(x, s, names, &v))
		return -EINVAL;
	x->c->pol.filtering = v;
	return 0;
}

static int parse_lan_ipv6(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	int on;

	(void)obj;
	if (cfg_bool(x, s, &on))
		return -EINVAL;
	x->c->pol.lan_ipv6 = on;
	return 0;
}

static int set_flag(struct cfg_ctx *x, const config_setting_t *s, __u8 flag)
{
	int on;

	if (cfg_bool(x, s, &on))
		return -EINVAL;
	x->c->pol.flags = on ? x->c->pol.flags | flag : x->c->pol.flags & ~flag;
	return 0;
}

static int parse_echo(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	(void)obj;
	return set_flag(x, s, BR_PF_ECHO_IN);
}

/* An integer setting from @lo to @hi into @out. */
static int set_u32(struct cfg_ctx *x, const config_setting_t *s, long long lo,
		   long long hi, __u32 *out)
{
	long long v;

	if (cfg_int(x, s, lo, hi, &v))
		return -EINVAL;
	*out = v;
	return 0;
}

/* Inbound echo requests a second (all CPUs) beyond which they are dropped. */
static int parse_echo_rate(struct cfg_ctx *x, const config_setting_t *s,
			   void *obj)
{
	(void)obj;
	return set_u32(x, s, 0, BR_CFG_ECHO_RATE_MAX, &x->c->pol.echo_rate);
}

static int parse_ipsec(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	(void)obj;
	return set_flag(x, s, BR_PF_IPSEC);
}

static int parse_ula(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	(void)obj;
	return set_flag(x, s, BR_PF_ULA);
}

/* ---- timeouts --------------------------------------------------------- */

static const struct {
	const char *name;
	int id;		  /* enum br_timeout */
	__u32 rfc_min;	  /* below this, warn */
	const char *why;
} timeouts[] = {
	{ "tcp-established", BR_TO_TCP_EST, 7440, "RFC 6092 REC-31: 2 h 4 min" },
	{ "tcp-transitory", BR_TO_TCP_TRANS, 240, "RFC 6092 REC-31: 4 min" },
	{ "tcp-closed", BR_TO_TCP_CLOSED, 1, "" },
	{ "udp", BR_TO_UDP, 120, "RFC 6092 REC-12: 2 min" },
	{ "icmp", BR_TO_ICMP, 1, "" },
	{ "other", BR_TO_OTHER, 1, "" },
};

static int parse_timeout(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	const char *name = config_setting_name(s);
	unsigned int i;
	long long v;

	(void)obj;
	for (i = 0; strcmp(timeouts[i].name, name); i++)
		;
	if (cfg_int(x, s, 1, BR_CFG_MAX_TIMEOUT, &v))
		return -EINVAL;
	if (v < timeouts[i].rfc_min)
		cfg_warn(x, s, "%lld s is below the minimum of %s", v,
			 timeouts[i].why);
	x->c->pol.timeout[timeouts[i].id] = v;
	return 0;
}

static const struct cfg_key timeout_keys[] = {
	{ "tcp-established", parse_timeout },
	{ "tcp-transitory", parse_timeout },
	{ "tcp-closed", parse_timeout },
	{ "udp", parse_timeout },
	{ "icmp", parse_timeout },
	{ "other", parse_timeout },
	{ NULL },
};

static int parse_timeouts(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	return cfg_group(x, s, timeout_keys, obj);
}

static int parse_max_flows(struct cfg_ctx *x, const config_setting_t *s,
			   void *obj)
{
	(void)obj;
	return set_u32(x, s, BR_CFG_MIN_FLOWS, BR_CFG_MAX_FLOWS,
		       &x->c->max_flows);
}

static int parse_flow_cache(struct cfg_ctx *x, const config_setting_t *s,
			    void *obj)
{
	long long v;

	(void)obj;
	if (cfg_int(x, s, 0, BR_FC_MAX_PER_CPU, &v))
		return -EINVAL;
	if (v && (v < BR_FC_MIN_PER_CPU || (v & (v - 1)))) {
		cfg_err(x, s, "%lld: 0 (off) or a power of two from %u to %u",
			v, BR_FC_MIN_PER_CPU, BR_FC_MAX_PER_CPU);
		return -EINVAL;
	}
	x->c->flow_cache = v;
	return 0;
}

/* ---- lan-prefixes ----------------------------------------------------- */

static int parse_lan_prefixes(struct cfg_ctx *x, const config_setting_t *s,
			      void *obj)
{
	struct br_config *c = x->c;
	const config_setting_t *e;
	struct prefix6 p;
	int i, k, n, before = x->errors;

	(void)obj;
	if (cfg_seq(x, s, CFG_SEQ_SCALAR))
		return -EINVAL;
	n = cfg_count(s);
	if (n > BR_CFG_MAX_LAN_PREFIXES) {
		cfg_err(x, s, "%d prefixes; at most %d", n, BR_CFG_MAX_LAN_PREFIXES);
		return -EINVAL;
	}
	c->lan_prefixes = calloc(n, sizeof(*c->lan_prefixes));
	if (!c->lan_prefixes) {
		cfg_err(x, s, "out of memory");
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		e = cfg_item(s, i);
		if (cfg_prefix(x, e, &p))
			continue;
		if (p.len >= 8 && p.addr.s6_addr[0] == 0xff) {
			cfg_err(x, e, "a multicast prefix is never a valid source");
			continue;
		}
		if (!p.len)
			cfg_warn(x, e, "::/0 makes every outbound source valid "
				 "(no anti-spoofing)");
		for (k = 0; k < c->n_lan_prefixes; k++)
			if (!prefix6_cmp(&c->lan_prefixes[k], &p))
				break;
		if (k < c->n_lan_prefixes) {
			cfg_err(x, e, "listed twice");
			continue;
		}
		c->lan_prefixes[c->n_lan_prefixes++] = p;
	}
	return x->errors > before ? -EINVAL : 0;
}

static const struct cfg_key fw_keys[] = {
	{ "mode", parse_mode },
	{ "lan-ipv6", parse_lan_ipv6 },
	{ "filtering", parse_filtering },
	{ "inbound-echo", parse_echo },
	{ "echo-rate", parse_echo_rate },
	{ "ipsec", parse_ipsec },
	{ "ula", parse_ula },
	{ "lan-prefixes", parse_lan_prefixes },
	{ "timeouts", parse_timeouts },
	{ "max-flows", parse_max_flows },
	{ "flow-cache", parse_flow_cache },
	{ "pinholes", cfg_parse_pinholes },
	{ NULL },
};

int cfg_parse_firewall(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	return cfg_group(x, s, fw_keys, obj);
}
