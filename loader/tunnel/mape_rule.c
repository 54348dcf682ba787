// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * MAP-E (RFC 7597) Basic Mapping Rule arithmetic.
 *
 * Addresses are handled as big-endian byte arrays with bits numbered from
 * the most significant bit of byte 0, as the RFC draws them; every field
 * (EA bits, IPv4 suffix, PSID, interface identifier) is read or written
 * with the bits_*() helpers, so field positions read like the RFC figures.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "brouter/portset.h"
#include "common/log.h"
#include "tunnel/mape_rule.h"

/* ---- bit fields of big-endian byte arrays ---------------------------- */

static unsigned int bit_get(const uint8_t *buf, unsigned int pos)
{
	return (buf[pos / 8] >> (7 - pos % 8)) & 1;
}

static void bit_put(uint8_t *buf, unsigned int pos, unsigned int v)
{
	uint8_t mask = 0x80 >> (pos % 8);

	if (v)
		buf[pos / 8] |= mask;
	else
		buf[pos / 8] &= ~mask;
}

/* @len (<= 64) bits of @buf starting at bit @pos, as a number. */
static uint64_t bits_get(const uint8_t *buf, unsigned int pos,
			 unsigned int len)
{
	uint64_t v = 0;
	unsigned int i;

	for (i = 0; i < len; i++)
		v = v << 1 | bit_get(buf, pos + i);
	return v;
}

/* Store the low @len (<= 64) bits of @v at bit @pos of @buf. */
static void bits_put(uint8_t *buf, unsigned int pos, unsigned int len,
		     uint64_t v)
{
	unsigned int i;

	for (i = 0; i < len; i++)
		bit_put(buf, pos + i, (v >> (len - 1 - i)) & 1);
}

/* Copy the first @len bits of @src over @dst, keeping the rest of @dst. */
static void bits_copy(uint8_t *dst, const uint8_t *src, unsigned int len)
{
	unsigned int i;

	for (i = 0; i < len; i++)
		bit_put(dst, i, bit_get(src, i));
}

/* ---- rule validation ------------------------------------------------- */

/* RFC 7597 §5.2: p = 32 - r bits of the EA field are the IPv4 suffix. */
static unsigned int ipv4_suffix_len(const struct mape_rule *rule)
{
	unsigned int p = 32 - rule->rule4.len;

	return rule->ea_len < p ? rule->ea_len : p;
}

/* ... and what is left of the EA bits (o - p, if o > p) is the PSID. */
static unsigned int ea_psid_len(const struct mape_rule *rule)
{
	return rule->ea_len - ipv4_suffix_len(rule);
}

static int check_ranges(const struct mape_rule *rule, char *err,
			size_t errlen)
{
	if (rule->rule6.len > 128)
		return br_errf(err, errlen,
			    "rule IPv6 prefix length /%u out of range (0..128)",
			    rule->rule6.len);
	if (rule->rule4.len > 32)
		return br_errf(err, errlen,
			    "rule IPv4 prefix length /%u out of range (0..32)",
			    rule->rule4.len);
	if (rule->ea_len > MAPE_EA_LEN_MAX)
		return br_errf(err, errlen,
			    "EA-bits length %u out of range (0..%d)",
			    rule->ea_len, MAPE_EA_LEN_MAX);
	if (rule->psid_offset > MAPE_PSID_OFFSET_MAX)
		return br_errf(err, errlen, "PSID offset %u out of range (0..%d)",
			    rule->psid_offset, MAPE_PSID_OFFSET_MAX);
	if (rule->psid_len != MAPE_PSID_LEN_AUTO &&
	    (rule->psid_len < 0 || rule->psid_len > MAPE_PSID_LEN_MAX))
		return br_errf(err, errlen, "PSID length %d out of range (0..%d)",
			    rule->psid_len, MAPE_PSID_LEN_MAX);
	if (rule->psid != MAPE_PSID_AUTO &&
	    (rule->psid < 0 || rule->psid > 0xffff))
		return br_errf(err, errlen, "PSID %d out of range (0..65535)",
			    rule->psid);
	if (rule->format != MAPE_FMT_RFC7597 && rule->format != MAPE_FMT_LEGACY)
		return br_errf(err, errlen, "unknown interface-identifier format %d",
			    (int)rule->format);
	return 0;
}

/* k in effect: the EA bits', or the provisioned one when they carry none. */
static unsigned int psid_len(const struct mape_rule *rule)
{
	if (rule->psid_len == MAPE_PSID_LEN_AUTO)
		return ea_psid_len(rule);
	return (unsigned int)rule->psid_len;
}

/*
 * A PSID length (and PSID) given apart from the EA bits can only restate
 * theirs, or, when the EA bits complete the IPv4 address without a PSID
 * (r + o = 32, e.g. EA-bits length 0 and a /32), share that address.
 */
static int check_psid(const struct mape_rule *rule, char *err, size_t errlen)
{
	unsigned int k_ea = ea_psid_len(rule), k = psid_len(rule);
	unsigned int r = rule->rule4.len, o = rule->ea_len;

	if (k_ea && k != k_ea)
		return br_errf(err, errlen,
			    "PSID length %u does not match the rule: %u EA bits - %u IPv4 suffix bits (32 - /%u) leave a PSID of %u bits",
			    k, o, 32 - r, r, k_ea);
	if (k_ea)
		return 0; /* a given PSID is checked against the EA bits */
	if (k && r + o < 32)
		return br_errf(err, errlen,
			    "PSID length %u does not match the rule: the CE gets the IPv4 prefix /%u (/%u + %u EA bits), which is not shared",
			    k, r + o, r, o);
	if (k && rule->psid == MAPE_PSID_AUTO)
		return br_errf(err, errlen,
			    "PSID length %u needs the PSID itself: the EA bits carry none (rule IPv4 prefix /%u + %u EA bits = 32)",
			    k, r, o);
	if (rule->psid != MAPE_PSID_AUTO && (unsigned int)rule->psid >> k)
		return br_errf(err, errlen, "PSID %d does not fit in a PSID length of %u bits",
			    rule->psid, k);
	return 0;
}

int mape_rule_check(const struct mape_rule *rule, char *err, size_t errlen)
{
	unsigned int n = rule->rule6.len, r = rule->rule4.len;
	unsigned int o = rule->ea_len, a = rule->psid_offset;
	int ret;

	ret = check_ranges(rule, err, errlen);
	if (ret)
		return ret;
	if (n + o > 128)
		return br_errf(err, errlen,
			    "rule IPv6 prefix /%u + %u EA bits = %u bits: longer than an IPv6 address",
			    n, o, n + o);
	/* RFC 7597 §5.2: the EA bits hold at most an IPv4 suffix + PSID. */
	if (r + o > 32 + MAPE_PSID_LEN_MAX)
		return br_errf(err, errlen,
			    "rule IPv4 prefix /%u + %u EA bits = %u bits: at most 48 fit (32 IPv4 + 16 PSID), the PSID would be %u bits",
			    r, o, r + o, r + o - 32);
	ret = check_psid(rule, err, errlen);
	if (ret)
		return ret;
	/* RFC 7597 §5.1: A (a bits) | PSID (k bits) | j (m bits) = 16 */
	if (a + psid_len(rule) > 16)
		return br_errf(err, errlen,
			    "PSID offset %u + PSID length %u = %u bits: more than a 16-bit port",
			    a, psid_len(rule), a + psid_len(rule));
	return 0;
}

/* ---- CE parameters --------------------------------------------------- */

static int check_end_user(const struct mape_rule *rule,
			  const struct prefix6 *eu, char *err,
			  size_t errlen)
{
	unsigned int n = rule->rule6.len, o = rule->ea_len;
	char eu_s[INET6_ADDRSTRLEN], rule_s[INET6_ADDRSTRLEN];

	if (eu->len > 128)
		return br_errf(err, errlen,
			    "end-user prefix length /%u out of range (0..128)",
			    eu->len);
	if (eu->len < n + o)
		return br_errf(err, errlen,
			    "end-user prefix /%u is shorter than rule IPv6 prefix /%u + %u EA bits = /%u",
			    eu->len, n, o, n + o);
	if (!prefix6_has(&rule->rule6, &eu->addr)) {
		inet_ntop(AF_INET6, &eu->addr, eu_s, sizeof(eu_s));
		inet_ntop(AF_INET6, &rule->rule6.addr, rule_s, sizeof(rule_s));
		return br_errf(err, errlen,
			    "end-user prefix %s/%u is not inside rule IPv6 prefix %s/%u",
			    eu_s, eu->len, rule_s, n);
	}
	return 0;
}

/*
 * RFC 7597 §5.2: rule IPv4 prefix (r bits) | IPv4 suffix (p bits of the
 * EA field) makes the address; with fewer EA bits than p (o < p) the CE
 * gets the prefix /(r + o) instead. The rest of the EA bits is the PSID,
 * unless the PSID is provisioned apart (then the EA bits hold none).
 */
static void ce_ipv4(const struct mape_rule *rule, struct mape_ce *ce)
{
	unsigned int r = rule->rule4.len, p4 = ipv4_suffix_len(rule);
	unsigned int k_ea = ea_psid_len(rule);
	uint8_t *v4 = (uint8_t *)&ce->ipv4.s_addr;

	ce->ipv4 = prefix4_of(rule->rule4.addr, r).addr;
	bits_put(v4, r, p4, ce->ea_bits >> k_ea);
	ce->ipv4_len = r + p4;
	ce->psid_len = psid_len(rule);
	if (k_ea)
		ce->psid = (uint16_t)(ce->ea_bits & ((1ULL << k_ea) - 1));
	else if (rule->psid != MAPE_PSID_AUTO)
		ce->psid = (uint16_t)rule->psid;
}

/*
 * RFC 7597 §6: end-user prefix, subnet ID 0 up to /64, then the interface
 * identifier 16 bits 0 | IPv4 (a prefix is zero-padded) | PSID (right-
 * aligned). The legacy draft-03 layout is 8 bits 0 | IPv4 | PSID | 8 bits
 * 0. A prefix longer than /64 overwrites the leading bits of the
 * identifier ("the most significant parts of the interface identifier are
 * overwritten by the prefix"), so EA bits past /64 still land in place.
 */
static void ce_ipv6(const struct mape_rule *rule,
		    const struct prefix6 *eu, struct mape_ce *ce)
{
	unsigned int v4_pos = rule->format == MAPE_FMT_LEGACY ? 72 : 80;
	uint8_t *v6 = ce->ipv6.s6_addr;
	const uint8_t *v4 = (const uint8_t *)&ce->ipv4.s_addr;

	memset(&ce->ipv6, 0, sizeof(ce->ipv6));
	bits_put(v6, v4_pos, 32, bits_get(v4, 0, 32));
	bits_put(v6, v4_pos + 32, 16, ce->psid);
	bits_copy(v6, eu->addr.s6_addr, eu->len);
}

int mape_compute(const struct mape_rule *rule, const struct prefix6 *eu,
		 struct mape_ce *ce, char *err, size_t errlen)
{
	int ret;

	ret = mape_rule_check(rule, err, errlen);
	if (ret)
		return ret;
	ret = check_end_user(rule, eu, err, errlen);
	if (ret)
		return ret;
	memset(ce, 0, sizeof(*ce));
	ce->ea_bits = bits_get(eu->addr.s6_addr, rule->rule6.len, rule->ea_len);
	ce->psid_offset = rule->psid_offset;
	ce_ipv4(rule, ce);
	if (rule->psid != MAPE_PSID_AUTO && ce->psid != rule->psid)
		return br_errf(err, errlen,
			    "PSID %d given, but the EA bits of the end-user prefix give PSID %u",
			    rule->psid, ce->psid);
	ce_ipv6(rule, eu, ce);
	return 0;
}

/* ---- port set (the arithmetic: include/brouter/portset.h) ----------- */

unsigned int mape_port_range_count(const struct mape_ce *ce)
{
	return br_portset_ranges(ce->psid_len, ce->psid_offset);
}

int mape_port_range(const struct mape_ce *ce, unsigned int i,
		    struct mape_port_range *out)
{
	uint32_t first;

	if (i >= mape_port_range_count(ce))
		return -ERANGE;
	first = br_portset_first(ce->psid, ce->psid_len, ce->psid_offset, i);
	out->first = (uint16_t)first;
	out->last = (uint16_t)(first + br_portset_run_len(ce->psid_len,
							  ce->psid_offset) - 1);
	return 0;
}

uint32_t mape_port_count(const struct mape_ce *ce)
{
	return mape_port_range_count(ce) *
	       br_portset_run_len(ce->psid_len, ce->psid_offset);
}

bool mape_port_in_set(const struct mape_ce *ce, uint16_t port)
{
	return br_port_in_set(port, ce->psid, ce->psid_len, ce->psid_offset);
}
