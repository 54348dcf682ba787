// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * What a reload changes, in words for the log: pinholes added, removed or
 * changed (by name, else by what they open), firewall settings, the
 * configured LAN prefixes and the tunnel.
 */
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/proto.h"
#include "config/config.h"

static const char *const fw_modes[] = { "stateful", "stateless-tcp", "open" };
static const char *const filterings[] = { "endpoint-independent",
					  "address-dependent",
					  "address-and-port-dependent" };

/* The rule itself, without where it was written. */
static bool pinhole_same(const struct br_pinhole *a, const struct br_pinhole *b)
{
	int i;

	if (!prefix6_eq(&a->dst, &b->dst) || a->proto != b->proto ||
	    a->n_ranges != b->n_ranges || a->n_src != b->n_src)
		return false;
	for (i = 0; i < a->n_ranges; i++)
		if (a->range[i].lo != b->range[i].lo ||
		    a->range[i].hi != b->range[i].hi)
			return false;
	for (i = 0; i < a->n_src; i++)
		if (!prefix6_eq(&a->src[i], &b->src[i]))
			return false;
	return true;
}

/* "ssh: 2001:db8::10/128 tcp 22" or "line 7: 2001:db8::/64 udp 5000-5010 +2" */
static const char *pinhole_desc(const struct br_pinhole *p, char *buf,
				size_t len)
{
	char dst[PREFIX6_STRLEN], proto[16], ports[32] = "";
	const struct br_port_range *r = &p->range[0];
	int n;

	if (p->n_ranges) {
		n = snprintf(ports, sizeof(ports),
			     r->lo == r->hi ? " %u" : " %u-%u", r->lo, r->hi);
		if (p->n_ranges > 1 && n > 0 && (size_t)n < sizeof(ports))
			snprintf(ports + n, sizeof(ports) - n, " +%d",
				 p->n_ranges - 1);
	}
	if (p->name[0])
		n = snprintf(buf, len, "%s: ", p->name);
	else
		n = snprintf(buf, len, "line %u: ", p->line);
	if (n < 0 || (size_t)n >= len)
		return buf;
	snprintf(buf + n, len - n, "%s %s%s", prefix6_str(&p->dst, dst),
		 p->proto == BR_PIN_PROTO_ANY
			 ? "any"
			 : ip_proto_str(p->proto, "proto %u", proto,
					sizeof(proto)),
		 ports);
	return buf;
}

/* Named rules are matched by name, unnamed ones by what they open. */
static const struct br_pinhole *pinhole_find(const struct br_config *c,
					     const struct br_pinhole *p)
{
	int i;

	for (i = 0; i < c->n_pinholes; i++) {
		const struct br_pinhole *q = &c->pinholes[i];

		if (p->name[0] ? !strcmp(p->name, q->name)
			       : !q->name[0] && pinhole_same(p, q))
			return q;
	}
	return NULL;
}

static int pinholes_diff(const struct br_config *old,
			 const struct br_config *new)
{
	const struct br_pinhole *p, *q;
	char d[160];
	int i, n = 0;

	for (i = 0; i < old->n_pinholes; i++) {
		p = &old->pinholes[i];
		if (!pinhole_find(new, p) && ++n)
			pr_info("reload: pinhole removed: %s",
				pinhole_desc(p, d, sizeof(d)));
	}
	for (i = 0; i < new->n_pinholes; i++) {
		p = &new->pinholes[i];
		q = pinhole_find(old, p);
		if (!q && ++n)
			pr_info("reload: pinhole added: %s",
				pinhole_desc(p, d, sizeof(d)));
		else if (!pinhole_same(p, q) && ++n)
			pr_info("reload: pinhole changed: %s",
				pinhole_desc(p, d, sizeof(d)));
	}
	return n;
}

static bool has_prefix(const struct prefix6 *v, int n, const struct prefix6 *p)
{
	int i;

	for (i = 0; i < n; i++)
		if (prefix6_eq(&v[i], p))
			return true;
	return false;
}

/* The lan-prefixes of @a that @b lacks, logged as @what. */
static int prefixes_only_in(const struct br_config *a,
			    const struct br_config *b, const char *what)
{
	char buf[PREFIX6_STRLEN];
	int i, n = 0;

	for (i = 0; i < a->n_lan_prefixes; i++) {
		if (has_prefix(b->lan_prefixes, b->n_lan_prefixes,
			       &a->lan_prefixes[i]))
			continue;
		pr_info("reload: lan-prefix %s: %s", what,
			prefix6_str(&a->lan_prefixes[i], buf));
		n++;
	}
	return n;
}

static int policy_diff(const struct br_policy *a, const struct br_policy *b)
{
	int n = 0;

	if (a->mode != b->mode && a->mode <= BR_FW_OPEN &&
	    b->mode <= BR_FW_OPEN && ++n)
		pr_info("reload: firewall mode %s -> %s", fw_modes[a->mode],
			fw_modes[b->mode]);
	if (a->filtering != b->filtering && a->filtering <= BR_FILT_APD &&
	    b->filtering <= BR_FILT_APD && ++n)
		pr_info("reload: filtering %s -> %s", filterings[a->filtering],
			filterings[b->filtering]);
	if (a->lan_ipv6 != b->lan_ipv6 && ++n)
		pr_info("reload: lan-ipv6 %s -> %s",
			a->lan_ipv6 ? "true" : "false",
			b->lan_ipv6 ? "true" : "false");
	if (a->flags != b->flags && ++n)
		pr_info("reload: firewall flags (inbound-echo, ipsec, ula, log.drops) "
			"0x%x -> 0x%x",
			a->flags, b->flags);
	if ((memcmp(a->timeout, b->timeout, sizeof(a->timeout)) ||
	     a->log_rate != b->log_rate) &&
	    ++n)
		pr_info("reload: timeouts or log.drop-rate changed");
	return n;
}

static int tunnel_diff(const struct tunnel_cfg *a, const struct tunnel_cfg *b)
{
	bool on_a = tunnel_cfg_active(a), on_b = tunnel_cfg_active(b);

	if (!memcmp(a, b, sizeof(*a)))
		return 0;
	if (a->mode != b->mode || on_a != on_b)
		pr_info("reload: tunnel %s%s -> %s%s",
			on_a ? tunnel_mode_name(a->mode) : "none",
			a->n_peers ? " + ipip6" : "",
			on_b ? tunnel_mode_name(b->mode) : "none",
			b->n_peers ? " + ipip6" : "");
	else
		pr_info("reload: tunnel %s%s settings changed",
			tunnel_mode_name(b->mode),
			b->n_peers ? " + ipip6" : "");
	return 1;
}

int config_log_changes(const struct br_config *old, const struct br_config *new)
{
	int n;

	n = pinholes_diff(old, new) + prefixes_only_in(old, new, "removed") +
	    prefixes_only_in(new, old, "added") +
	    policy_diff(&old->pol, &new->pol) +
	    tunnel_diff(&old->tunnel, &new->tunnel);
	if (memcmp(&old->opt.mark, &new->opt.mark, sizeof(old->opt.mark)) ||
	    old->opt.mark_enabled != new->opt.mark_enabled ||
	    memcmp(old->opt.ethertypes, new->opt.ethertypes,
		   sizeof(old->opt.ethertypes)) ||
	    old->opt.n_ethertypes != new->opt.n_ethertypes) {
		pr_info("reload: marks or bridged ethertypes changed");
		n++;
	}
	if (old->log_level != new->log_level && ++n)
		pr_info("reload: log level %d -> %d", old->log_level,
			new->log_level);
	if (!n)
		pr_info("reload: the configuration is unchanged");
	return n;
}
