/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Shared by the config*.c files (and their unit tests) only. */
#ifndef BR_CONFIG_PRIV_H
#define BR_CONFIG_PRIV_H

#include <libconfig.h>
#include "config/config.h"

/* Errors printed per file; the rest are only counted. */
#define BR_CFG_MAX_ERRORS 30
/*
 * Flow table size: the LRU hash is preallocated, ~150 bytes an entry
 * (key, value, element and LRU list heads), so 128k flows take ~20 MB
 * and the maximum 16M ~2.5 GB.
 */
#define BR_CFG_DEF_FLOWS 131072
#define BR_CFG_MIN_FLOWS 1024
#define BR_CFG_MAX_FLOWS (1 << 24)
/*
 * Inbound echo requests a second, all LAN hosts together: ample for
 * monitoring and traceroute to every host of a home or office LAN, far
 * below a flood's rate. 0 lifts the limit.
 */
#define BR_CFG_DEF_ECHO_RATE 100
#define BR_CFG_ECHO_RATE_MAX 1000000

struct cfg_ctx {
	const char *path;	/* the file as given */
	const char *dir;	/* its directory: base of @include */
	struct br_config *c;	/* being filled */
	int errors;
};

/*
 * A key of a group and the function that reads its value into @obj. A
 * key without one is read by the caller after cfg_group(), when it
 * depends on others whatever their order in the file.
 */
struct cfg_key {
	const char *name;
	int (*parse)(struct cfg_ctx *x, const config_setting_t *s, void *obj);
};

/* Errors and warnings naming the file, line and key of @s. */
void cfg_err(struct cfg_ctx *x, const config_setting_t *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void cfg_warn(struct cfg_ctx *x, const config_setting_t *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* An error at @file:@line, for what the scan finds before libconfig parses. */
void cfg_err_at(struct cfg_ctx *x, const char *file, unsigned int line,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Interned file name of @s for messages kept after the parse. */
const char *cfg_file(struct cfg_ctx *x, const config_setting_t *s);

/*
 * Check that @g is a group whose every key is in @keys, and run each
 * key's parser. Returns 0 or -EINVAL (all errors logged).
 */
int cfg_group(struct cfg_ctx *x, const config_setting_t *g,
	      const struct cfg_key *keys, void *obj);

/* "KEY missing" for each of the NULL-ended keys that group @g lacks. */
int cfg_need(struct cfg_ctx *x, const config_setting_t *g, ...)
	__attribute__((sentinel));

/* Typed values; each logs its own error and returns -EINVAL. */
int cfg_bool(struct cfg_ctx *x, const config_setting_t *s, int *out);
int cfg_int(struct cfg_ctx *x, const config_setting_t *s, long long min,
	    long long max, long long *out);
int cfg_string(struct cfg_ctx *x, const config_setting_t *s, const char **out);
int cfg_enum(struct cfg_ctx *x, const config_setting_t *s,
	     const char *const *names, int *out);
/* @af AF_INET into a struct in_addr, AF_INET6 into a struct in6_addr. */
int cfg_addr(struct cfg_ctx *x, const config_setting_t *s, int af, void *out);
int cfg_prefix(struct cfg_ctx *x, const config_setting_t *s,
	       struct prefix6 *out);

/* A scalar, or an array/list of them: how many items, and item @i. */
int cfg_count(const config_setting_t *s);
const config_setting_t *cfg_item(const config_setting_t *s, int i);

/* An array [ ... ] or list ( ... ), not empty unless @flags say so. */
#define CFG_SEQ_SCALAR	0x1	/* a single value stands for [ value ] */
#define CFG_SEQ_EMPTY	0x2	/* [ ] and ( ) are fine */
#define CFG_SEQ_GROUPS	0x4	/* its items are groups: say "list" */
int cfg_seq(struct cfg_ctx *x, const config_setting_t *s, int flags);

/*
 * libconfig 1.5 silently wraps integers that do not fit 32 bits (port
 * 4294967318 reads as 22). Scan the file's literals first and refuse them.
 */
int cfg_scan_ints(struct cfg_ctx *x, const char *path, int depth);

/* A tunnel end: a global (or unique local) unicast IPv6 address. */
int cfg_tunnel_end(struct cfg_ctx *x, const config_setting_t *s,
		   struct in6_addr *out);

/* "ADDR/LEN" with the length required (tunnel rules, peer prefixes). */
int cfg_prefix4(struct cfg_ctx *x, const config_setting_t *s, struct prefix4 *out);
int cfg_prefix6_strict(struct cfg_ctx *x, const config_setting_t *s,
		       struct prefix6 *out);

/* The "ipv4" group (ipv4.c). */
int cfg_parse_ipv4(struct cfg_ctx *x, const config_setting_t *s, void *obj);

/* The "firewall" group (firewall.c). */
int cfg_parse_firewall(struct cfg_ctx *x, const config_setting_t *s, void *obj);

/*
 * The file of @cli (cli->config_path) read over the defaults, then @cli
 * laid over it, the ports checked: @out filled, or -errno (config.c).
 */
int config_build(const struct br_options *cli, struct br_config *out);

/* The "metrics" group (metrics.c). */
int cfg_parse_metrics(struct cfg_ctx *x, const config_setting_t *s, void *obj);

/* "pinholes" list and duplicate check (pinholes.c). */
int cfg_parse_pinholes(struct cfg_ctx *x, const config_setting_t *s, void *obj);

/*
 * The "tunnel" group (tunnel.c) into x->c->tunnel, zeroed first.
 * Every problem is logged as "FILE:LINE: tunnel.KEY: what is wrong".
 */
int cfg_parse_tunnel(struct cfg_ctx *x, const config_setting_t *s, void *obj);

/* tunnel.map-e (mape.c) into the struct tunnel_cfg @obj. */
int cfg_parse_mape(struct cfg_ctx *x, const config_setting_t *g, void *obj);

/*
 * A reserved-ports list @s into @c (mape.c), checked against
 * c->rule.psid_offset, which must be set.
 */
void cfg_parse_reserved(struct cfg_ctx *x, const config_setting_t *s,
			struct tunnel_cfg *c);

/*
 * What a rule (c->rule) and, if given, the prefix allow checking: the
 * rule's ranges, one CE address, reserved ports in the set (mape.c).
 */
void cfg_check_rule(struct cfg_ctx *x, const config_setting_t *g,
		    struct tunnel_cfg *c);

/* tunnel.lw4o6 (lw4o6.c) into the struct tunnel_cfg @obj: a rule, prefix, ports. */
int cfg_parse_lw4o6(struct cfg_ctx *x, const config_setting_t *g, void *obj);

/* tunnel.ipip (fixed.c): a fixed IPv4 address over ip4ip6. */
int cfg_parse_fixed(struct cfg_ctx *x, const config_setting_t *g, void *obj);

/* tunnel.provision (provision.c) into x->c->prov. */
int cfg_parse_provision(struct cfg_ctx *x, const config_setting_t *g,
			void *obj);

#endif /* BR_CONFIG_PRIV_H */
