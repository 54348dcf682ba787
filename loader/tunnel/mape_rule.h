/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * MAP-E (RFC 7597) parameters: from a Basic Mapping Rule and the end-user
 * IPv6 prefix to the CE's IPv4 address, PSID, port set and IPv6 address.
 * Pure computation, no system calls; brouterd configures the tunnel from
 * struct mape_ce, brouterctl map-e prints it.
 */
#ifndef BR_MAPE_RULE_H
#define BR_MAPE_RULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include "common/prefix.h"

#define MAPE_EA_LEN_MAX 48 /* RFC 7597 §5.2: 32 address + 16 PSID bits */
#define MAPE_PSID_OFFSET_MAX 15
#define MAPE_PSID_LEN_MAX 16
#define MAPE_PSID_LEN_AUTO (-1) /* k = o - p, from the EA bits */
#define MAPE_PSID_AUTO (-1) /* PSID from the EA bits, or none */
#define MAPE_ERR_LEN 256 /* enough for any message below */

/* Interface-identifier layout of the CE IPv6 address. */
enum mape_format {
	/* RFC 7597 §6: 16 bits 0 | IPv4 32 | PSID 16 */
	MAPE_FMT_RFC7597 = 0,
	/* draft-ietf-softwire-map-03 (v6 Plus, OCN): 0 8 | IPv4 | PSID | 0 8 */
	MAPE_FMT_LEGACY = 1,
};

/* A Basic Mapping Rule, as the ISP publishes it. */
struct mape_rule {
	struct prefix6 rule6; /* Rule IPv6 prefix, n = rule6.len */
	struct prefix4 rule4; /* Rule IPv4 prefix, r = rule4.len */
	unsigned int ea_len; /* o, 0..48 */
	unsigned int psid_offset; /* a, 0..15 (RFC 7597 default 6) */
	int psid_len; /* k if given, else MAPE_PSID_LEN_AUTO */
	/*
	 * PSID if provisioned apart from the EA bits (DHCPv6 S46_PORTPARAMS,
	 * RFC 7597 Appendix A example 5: EA-bits length 0, a /32 rule IPv4
	 * prefix, a shared address); else MAPE_PSID_AUTO.
	 */
	int psid;
	bool has_br;
	struct in6_addr br; /* BR address, if has_br */
	enum mape_format format;
};

/* What one CE gets from a rule and its end-user prefix. */
struct mape_ce {
	uint64_t ea_bits; /* o bits after the rule IPv6 prefix */
	struct in_addr ipv4; /* CE address, or its prefix (network order) */
	unsigned int ipv4_len; /* 32, or r + o when o < 32 - r */
	uint16_t psid; /* right-aligned, 0 when psid_len == 0 */
	unsigned int psid_len; /* k; 0: the whole address, every port */
	unsigned int psid_offset; /* a */
	struct in6_addr ipv6; /* MAP IPv6 address of the CE */
};

/* One run of consecutive ports of the set, both ends included. */
struct mape_port_range {
	uint16_t first;
	uint16_t last;
};

/*
 * Check a rule on its own (ranges, and that the EA bits fit an IPv4
 * address plus a PSID). 0, or -EINVAL with a message in @err.
 */
int mape_rule_check(const struct mape_rule *rule, char *err, size_t errlen);

/*
 * Compute @ce from @rule and the end-user prefix @eu (RFC 7597 §5.2, §6).
 * 0, or -EINVAL with a message in @err; @ce is then unspecified.
 */
int mape_compute(const struct mape_rule *rule, const struct prefix6 *eu,
		 struct mape_ce *ce, char *err, size_t errlen);

/* The port set (RFC 7597 §5.1) as ascending, disjoint ranges. */
unsigned int mape_port_range_count(const struct mape_ce *ce);
int mape_port_range(const struct mape_ce *ce, unsigned int i,
		    struct mape_port_range *out);
uint32_t mape_port_count(const struct mape_ce *ce);
bool mape_port_in_set(const struct mape_ce *ce, uint16_t port);

#endif /* BR_MAPE_RULE_H */
