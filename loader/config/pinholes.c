// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* firewall.pinholes: one allow rule per group, checked field by field. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "config/parse.h"
#include "common/log.h"

static const struct {
	const char *name;
	__u8 proto;
} proto_names[] = {
	{ "any", BR_PIN_PROTO_ANY },
	{ "tcp", IPPROTO_TCP },
	{ "udp", IPPROTO_UDP },
	{ "icmpv6", IPPROTO_ICMPV6 },
	{ "ipv6-icmp", IPPROTO_ICMPV6 },
	{ "sctp", IPPROTO_SCTP },
	{ "udplite", IPPROTO_UDPLITE },
	{ "esp", IPPROTO_ESP },
	{ "ah", IPPROTO_AH },
	{ "gre", IPPROTO_GRE },
	{ "mobility-header", 135 },
	{ "hip", 139 },
	{ "shim6", 140 },
};

/*
 * The extension headers the firewall walks past (hop-by-hop, routing,
 * fragment, destination options: bpf/lib/parse.h), so a rule naming one
 * could never match. AH, ESP, Mobility (135), HIP (139) and Shim6 (140)
 * end the walk and are filtered as protocols of their own (RFC 6092
 * REC-21..25 for IPsec), so rules may name them.
 */
static int is_walked_header(long long p)
{
	return p == 0 || p == 43 || p == 44 || p == 60;
}

static int has_ports(__u8 proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP ||
	       proto == IPPROTO_SCTP || proto == IPPROTO_UDPLITE;
}

struct pin_parse {
	struct br_pinhole *r;
	const config_setting_t *dst, *proto, *ports, *icmp;
	int proto_ok;
};

static int parse_name(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	struct pin_parse *pp = obj;
	const char *v, *c;

	if (cfg_string(x, s, &v))
		return -EINVAL;
	for (c = v; *c; c++)
		if (!isgraph((unsigned char)*c) && *c != ' ')
			break;
	if (!*v || *c || strlen(v) >= sizeof(pp->r->name)) {
		cfg_err(x, s, "must be 1..%zu printable characters",
			sizeof(pp->r->name) - 1);
		return -EINVAL;
	}
	strcpy(pp->r->name, v);
	return 0;
}

static int parse_dst(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	struct pin_parse *pp = obj;

	pp->dst = s;
	if (cfg_prefix(x, s, &pp->r->dst))
		return -EINVAL;
	if (pp->r->dst.len >= 8 && pp->r->dst.addr.s6_addr[0] == 0xff) {
		cfg_err(x, s, "multicast is not forwarded by pinholes");
		return -EINVAL;
	}
	return 0;
}

static int parse_proto(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	struct pin_parse *pp = obj;
	const char *v;
	unsigned int i;
	long long p;

	pp->proto = s;
	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		v = config_setting_get_string(s);
		for (i = 0; i < sizeof(proto_names) / sizeof(proto_names[0]); i++)
			if (!strcmp(proto_names[i].name, v))
				break;
		if (i == sizeof(proto_names) / sizeof(proto_names[0])) {
			cfg_err(x, s,
				"\"%s\" is not tcp, udp, icmpv6, sctp, udplite, "
				"esp, ah, gre, mobility-header, hip, shim6, any "
				"or a protocol number 1..255",
				v);
			return -EINVAL;
		}
		pp->r->proto = proto_names[i].proto;
		pp->proto_ok = 1;
		return 0;
	}
	if (cfg_int(x, s, 1, 255, &p))
		return -EINVAL;
	if (is_walked_header(p)) {
		cfg_err(x, s,
			"%lld is an IPv6 extension header the firewall "
			"walks past (0, 43, 44, 60): a rule could never match",
			p);
		return -EINVAL;
	}
	if (p == 59) {
		cfg_err(x, s,
			"59 is \"no next header\": such a packet carries "
			"nothing a rule could be for");
		return -EINVAL;
	}
	pp->r->proto = p;
	pp->proto_ok = 1;
	return 0;
}

static int parse_src(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	struct pin_parse *pp = obj;
	const config_setting_t *e;
	struct prefix6 p;
	int i;

	if (cfg_seq(x, s, CFG_SEQ_SCALAR))
		return -EINVAL;
	for (i = 0; i < cfg_count(s); i++) {
		e = cfg_item(s, i);
		if (cfg_prefix(x, e, &p))
			return -EINVAL;
		if (p.len >= 8 && p.addr.s6_addr[0] == 0xff) {
			cfg_err(x, e, "a multicast prefix is never a source");
			return -EINVAL;
		}
		if (prefix_set_add(pp->r->src, &pp->r->n_src, &p)) {
			cfg_err(x, s, "more than %d distinct source prefixes; use a "
				"wider prefix or split the rule", BR_PIN_MAX_SRC);
			return -EINVAL;
		}
	}
	return 0;
}

static int parse_ports(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	(void)x;
	((struct pin_parse *)obj)->ports = s;
	return 0;
}

static int parse_icmp(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	(void)x;
	((struct pin_parse *)obj)->icmp = s;
	return 0;
}

static const struct cfg_key pin_keys[] = {
	{ "name", parse_name },
	{ "dst", parse_dst },
	{ "proto", parse_proto },
	{ "ports", parse_ports },
	{ "icmp-type", parse_icmp },
	{ "src", parse_src },
	{ NULL },
};

/* ---- port (and ICMPv6 type) ranges ------------------------------------ */

/* A decimal number, nothing else: "22" yes, " 22", "+22", "0x16" no. */
static const char *dec(const char *p, long long *v)
{
	int n = 0;

	for (*v = 0; isdigit((unsigned char)*p) && n < 7; p++, n++)
		*v = *v * 10 + (*p - '0');
	return n && n < 7 ? p : NULL;
}

static int parse_range(struct cfg_ctx *x, const config_setting_t *e, long long min,
		       long long max, struct br_port_range *r)
{
	const char *v, *p;
	long long lo, hi;

	if (config_setting_type(e) != CONFIG_TYPE_STRING) {
		if (cfg_int(x, e, min, max, &lo))
			return -EINVAL;
		r->lo = r->hi = lo;
		return 0;
	}
	v = config_setting_get_string(e);
	p = dec(v, &lo);
	hi = lo;
	if (p && *p == '-')
		p = dec(p + 1, &hi);
	if (!p || *p) {
		cfg_err(x, e, "\"%s\" is not a number or a range \"LOW-HIGH\"", v);
		return -EINVAL;
	}
	if (lo < min || lo > max || hi < min || hi > max) {
		cfg_err(x, e, "\"%s\": must be within %lld..%lld", v, min, max);
		return -EINVAL;
	}
	if (lo > hi) {
		cfg_err(x, e, "\"%s\" is reversed; write \"%lld-%lld\"", v, hi, lo);
		return -EINVAL;
	}
	r->lo = lo;
	r->hi = hi;
	return 0;
}

static int range_cmp(const void *a, const void *b)
{
	const struct br_port_range *x = a, *y = b;

	return (int)x->lo - (int)y->lo ?: (int)x->hi - (int)y->hi;
}

/* Sorted, overlaps and neighbours merged, into r->range. */
static int parse_ranges(struct cfg_ctx *x, const config_setting_t *s,
			long long min, long long max, struct br_pinhole *r)
{
	struct br_port_range *tmp;
	int i, k, n, err = -EINVAL;

	if (cfg_seq(x, s, CFG_SEQ_SCALAR))
		return -EINVAL;
	n = cfg_count(s);
	tmp = calloc(n, sizeof(*tmp));
	if (!tmp)
		return -ENOMEM;
	for (i = k = 0; i < n; i++)
		k |= parse_range(x, cfg_item(s, i), min, max, &tmp[i]);
	if (k)
		goto out;
	qsort(tmp, n, sizeof(*tmp), range_cmp);
	for (i = 1, k = 0; i < n; i++) {
		if (tmp[i].lo <= tmp[k].hi)
			cfg_warn(x, s, "%u-%u overlaps %u-%u", tmp[i].lo, tmp[i].hi,
				 tmp[k].lo, tmp[k].hi);
		if ((__u32)tmp[i].lo <= (__u32)tmp[k].hi + 1) {
			if (tmp[i].hi > tmp[k].hi)
				tmp[k].hi = tmp[i].hi;
			continue;
		}
		tmp[++k] = tmp[i];
	}
	if (k + 1 > BR_PH_MAX_RANGES) {
		cfg_err(x, s, "%d separate ranges; at most %d per pinhole", k + 1,
			BR_PH_MAX_RANGES);
		goto out;
	}
	r->n_ranges = k + 1;
	memcpy(r->range, tmp, r->n_ranges * sizeof(*tmp));
	err = 0;
out:
	free(tmp);
	return err;
}

static int src_cmp(const void *a, const void *b)
{
	return prefix6_cmp(a, b);
}

/* What needs several keys: required ones, ports vs proto. */
static void finish(struct cfg_ctx *x, const config_setting_t *e,
		   struct pin_parse *pp)
{
	struct br_pinhole *r = pp->r;

	if (!pp->dst)
		cfg_err(x, e, "needs dst = \"ADDRESS\" or \"PREFIX/LENGTH\"");
	if (!pp->proto)
		cfg_err(x, e, "needs proto (tcp, udp, icmpv6, ..., a number, or "
			"\"any\" for every protocol)");
	if (!pp->proto_ok)
		return;
	if (pp->ports && !has_ports(r->proto))
		cfg_err(x, pp->ports, "ports apply only to proto tcp, udp, sctp "
			"and udplite");
	else if (pp->ports)
		parse_ranges(x, pp->ports, 1, 65535, r);
	if (pp->icmp && r->proto != IPPROTO_ICMPV6)
		cfg_err(x, pp->icmp, "icmp-type applies only to proto icmpv6");
	else if (pp->icmp)
		parse_ranges(x, pp->icmp, 0, 255, r);
	qsort(r->src, r->n_src, sizeof(r->src[0]), src_cmp);
}

/* ---- duplicates ----------------------------------------------------- */

/* Order by everything but name and place; 0 = the same rule. */
static int same_cmp(const struct br_pinhole *x, const struct br_pinhole *y)
{
	int d, i;

	d = prefix6_cmp(&x->dst, &y->dst) ?: (int)x->proto - (int)y->proto ?:
	    x->n_ranges - y->n_ranges ?: x->n_src - y->n_src;
	if (d)
		return d;
	d = memcmp(x->range, y->range, x->n_ranges * sizeof(x->range[0]));
	for (i = 0; !d && i < x->n_src; i++)
		d = prefix6_cmp(&x->src[i], &y->src[i]);
	return d;
}

static int rule_cmp(const void *a, const void *b)
{
	const struct br_pinhole *x = *(const struct br_pinhole *const *)a;
	const struct br_pinhole *y = *(const struct br_pinhole *const *)b;

	/* equal rules stay in file order, so the later one is reported */
	return same_cmp(x, y) ?: (x < y ? -1 : x > y);
}

static void check_duplicates(struct cfg_ctx *x, const config_setting_t *list)
{
	const struct br_pinhole *ph = x->c->pinholes, **v;
	int i, n = x->c->n_pinholes;

	v = calloc(n ?: 1, sizeof(*v));
	if (!v) {
		cfg_err(x, list, "out of memory");
		return;
	}
	for (i = 0; i < n; i++)
		v[i] = &ph[i];
	qsort(v, n, sizeof(*v), rule_cmp);
	for (i = 1; i < n; i++)
		if (!same_cmp(v[i - 1], v[i]))
			cfg_err(x, config_setting_get_elem(list, v[i] - ph),
				"duplicate of pinhole[%d] at line %u (same dst, "
				"proto, ports, icmp-type and src)",
				(int)(v[i - 1] - ph), v[i - 1]->line);
	free(v);
}

int cfg_parse_pinholes(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	struct br_config *c = x->c;
	const config_setting_t *e;
	struct pin_parse pp;
	int i, n, before = x->errors;

	(void)obj;
	if (!config_setting_is_list(s)) {
		cfg_err(x, s, "must be a list ( { dst = ...; proto = ...; }, ... )");
		return -EINVAL;
	}
	n = config_setting_length(s);
	if (n > BR_PIN_MAX_ENTRIES) {
		cfg_err(x, s, "%d pinholes; at most %d", n, BR_PIN_MAX_ENTRIES);
		return -EINVAL;
	}
	c->pinholes = calloc(n ?: 1, sizeof(*c->pinholes));
	if (!c->pinholes) {
		cfg_err(x, s, "out of memory");
		return -ENOMEM;
	}
	c->n_pinholes = n;
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(s, i);
		memset(&pp, 0, sizeof(pp));
		pp.r = &c->pinholes[i];
		pp.r->line = config_setting_source_line(e);
		pp.r->file = cfg_file(x, e);
		if (cfg_group(x, e, pin_keys, &pp) && !config_setting_is_group(e))
			continue;
		finish(x, e, &pp);
	}
	if (x->errors == before)
		check_duplicates(x, s);
	return x->errors > before ? -EINVAL : 0;
}
