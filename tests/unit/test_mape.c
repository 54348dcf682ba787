// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * MAP-E calculator: RFC 7597 Appendix A, a v6 Plus rule (legacy interface
 * identifier), end-user prefixes past /64, EA-bits length 0, PSID length 0,
 * shared IPv4 prefixes, the port set against a brute-force membership
 * check, every rejected rule, and brouterctl map-e's output.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "ctl/map_e.h"
#include "common/log.h"
#include "tunnel/mape_rule.h"

static struct mape_rule rule(const char *r6, const char *r4, unsigned int ea,
			     unsigned int a)
{
	char err[MAPE_ERR_LEN];
	struct mape_rule rl = {
		.ea_len = ea,
		.psid_offset = a,
		.psid_len = MAPE_PSID_LEN_AUTO,
		.psid = MAPE_PSID_AUTO,
	};

	assert_int_equal(prefix6_parse(r6, &rl.rule6, "rule6", err, sizeof(err)), 0);
	assert_int_equal(prefix4_parse(r4, &rl.rule4, "rule4", err, sizeof(err)), 0);
	return rl;
}

static struct prefix6 pfx6(const char *s)
{
	char err[MAPE_ERR_LEN];
	struct prefix6 p;

	assert_int_equal(prefix6_parse(s, &p, "prefix", err, sizeof(err)), 0);
	return p;
}

static void compute_ok(const struct mape_rule *rl, const char *eu,
		       struct mape_ce *ce)
{
	struct prefix6 p = pfx6(eu);
	char err[MAPE_ERR_LEN] = "";
	int ret;

	ret = mape_compute(rl, &p, ce, err, sizeof(err));
	if (ret)
		fail_msg("mape_compute(%s): %s", eu, err);
}

/* mape_compute fails with -EINVAL and a message containing @needle. */
static void compute_fails(const struct mape_rule *rl, const char *eu,
			  const char *needle)
{
	struct prefix6 p = pfx6(eu);
	char err[MAPE_ERR_LEN] = "";
	struct mape_ce ce;

	assert_int_equal(mape_compute(rl, &p, &ce, err, sizeof(err)), -EINVAL);
	if (!strstr(err, needle))
		fail_msg("error '%s' lacks '%s'", err, needle);
}

static void assert_ipv4(const struct mape_ce *ce, const char *want,
			unsigned int len)
{
	char buf[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &ce->ipv4, buf, sizeof(buf));
	assert_string_equal(buf, want);
	assert_int_equal(ce->ipv4_len, len);
}

static void assert_ipv6(const struct mape_ce *ce, const char *want)
{
	char buf[INET6_ADDRSTRLEN];

	inet_ntop(AF_INET6, &ce->ipv6, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static void assert_range(const struct mape_ce *ce, unsigned int i,
			 unsigned int first, unsigned int last)
{
	struct mape_port_range r;

	assert_int_equal(mape_port_range(ce, i, &r), 0);
	assert_int_equal(r.first, first);
	assert_int_equal(r.last, last);
}

/*
 * The ranges, in order and disjoint, hold exactly the ports that
 * mape_port_in_set() accepts, and as many as mape_port_count() says.
 */
static void assert_ranges_match_set(const struct mape_ce *ce)
{
	unsigned int i, n = mape_port_range_count(ce), total = 0;
	static uint8_t in_ranges[65536];
	struct mape_port_range r;
	long prev_last = -1;
	unsigned int port;

	memset(in_ranges, 0, sizeof(in_ranges));
	for (i = 0; i < n; i++) {
		assert_int_equal(mape_port_range(ce, i, &r), 0);
		assert_true(r.first <= r.last);
		assert_true((long)r.first > prev_last);
		prev_last = r.last;
		for (port = r.first; port <= r.last; port++)
			in_ranges[port] = 1;
		total += r.last - r.first + 1;
	}
	assert_int_equal(mape_port_range(ce, n, &r), -ERANGE);
	assert_int_equal(total, mape_port_count(ce));
	for (port = 0; port < 65536; port++)
		if (in_ranges[port] != mape_port_in_set(ce, (uint16_t)port))
			fail_msg("port %u: ranges say %u, in_set says %u", port,
				 in_ranges[port], !in_ranges[port]);
}

/* ---- known vectors --------------------------------------------------- */

/*
 * RFC 7597 Appendix A example 1: EA bits 40..55 of 2001:db8:12:3400::/56
 * are 0x12 0x34; p = 32 - 24 = 8 bits of IPv4 suffix (0x12 = 18), the
 * other 8 the PSID 0x34; m = 16 - 6 - 8 = 2, so ports A * 1024 + 0x34 * 4
 * + j: 1232-1235 for A = 1 up to 64720-64723 for A = 63.
 */
static void rfc7597_example1(void **state)
{
	struct mape_rule rl = rule("2001:db8::/40", "192.0.2.0/24", 16, 6);
	struct mape_ce ce;

	(void)state;
	compute_ok(&rl, "2001:db8:12:3400::/56", &ce);
	assert_int_equal(ce.ea_bits, 0x1234);
	assert_ipv4(&ce, "192.0.2.18", 32);
	assert_int_equal(ce.psid, 0x34);
	assert_int_equal(ce.psid_len, 8);
	assert_int_equal(ce.psid_offset, 6);
	assert_int_equal(mape_port_range_count(&ce), 63);
	assert_range(&ce, 0, 1232, 1235);
	assert_range(&ce, 1, 2256, 2259);
	assert_range(&ce, 61, 63696, 63699);
	assert_range(&ce, 62, 64720, 64723);
	assert_int_equal(mape_port_count(&ce), 63 * 4);
	assert_ipv6(&ce, "2001:db8:12:3400:0:c000:212:34");
	assert_ranges_match_set(&ce);
	assert_false(mape_port_in_set(&ce, 208)); /* A = 0: never */
	assert_true(mape_port_in_set(&ce, 1233));
	assert_false(mape_port_in_set(&ce, 1236));
}

/*
 * RFC 7597 Appendix A example 4: no EA bits, a /32 rule IPv4 prefix, no
 * sharing: the address whole, every port.
 */
static void rfc7597_example4_no_ea_bits(void **state)
{
	struct mape_rule rl = rule("2001:db8:12:3400::/56", "192.0.2.1/32", 0, 6);
	struct mape_ce ce;

	(void)state;
	compute_ok(&rl, "2001:db8:12:3400::/56", &ce);
	assert_int_equal(ce.ea_bits, 0);
	assert_ipv4(&ce, "192.0.2.1", 32);
	assert_int_equal(ce.psid_len, 0);
	assert_int_equal(ce.psid, 0);
	assert_int_equal(mape_port_range_count(&ce), 1);
	assert_range(&ce, 0, 0, 65535);
	assert_int_equal(mape_port_count(&ce), 65536);
	assert_ipv6(&ce, "2001:db8:12:3400:0:c000:201:0");
	/* an explicit PSID length 0 says the same */
	rl.psid_len = 0;
	compute_ok(&rl, "2001:db8:12:3400::/56", &ce);
	assert_int_equal(ce.psid_len, 0);
	assert_ipv6(&ce, "2001:db8:12:3400:0:c000:201:0");
}

/*
 * RFC 7597 Appendix A example 5: no EA bits, the address shared with a
 * PSID length 8 and PSID 0x20 provisioned apart (DHCPv6): ports A * 1024
 * + 0x20 * 4 + j.
 */
static void rfc7597_example5_provisioned_psid(void **state)
{
	struct mape_rule rl = rule("2001:db8:12:3400::/56", "192.0.2.1/32", 0, 6);
	struct mape_ce ce;

	(void)state;
	rl.psid_len = 8;
	rl.psid = 0x20;
	compute_ok(&rl, "2001:db8:12:3400::/56", &ce);
	assert_ipv4(&ce, "192.0.2.1", 32);
	assert_int_equal(ce.psid, 0x20);
	assert_int_equal(ce.psid_len, 8);
	assert_int_equal(mape_port_range_count(&ce), 63);
	assert_range(&ce, 0, 1152, 1155);
	assert_range(&ce, 1, 2176, 2179);
	assert_range(&ce, 62, 64640, 64643);
	assert_int_equal(mape_port_count(&ce), 252);
	assert_ipv6(&ce, "2001:db8:12:3400:0:c000:201:20");
	assert_ranges_match_set(&ce);
}

/*
 * v6 Plus: bits 31..55 of 240b:10:3f6c:d400::/56 are 0 | 0x3f6c | 0xd4.
 * p = 32 - 15 = 17: suffix 0x03f6c on 106.72.0.0/15 = 106.72.63.108; the
 * remaining 8 bits are PSID 0xd4 = 212. m = 16 - 4 - 8 = 4: ports A *
 * 4096 + 212 * 16 + j, 7488-7503 for A = 1 up to 64832-64847 for A = 15.
 * Legacy identifier: 00 | 6a 48 3f 6c | 00 d4 | 00.
 */
static void v6plus_legacy(void **state)
{
	struct mape_rule rl = rule("240b:10::/31", "106.72.0.0/15", 25, 4);
	struct mape_ce ce;

	(void)state;
	rl.format = MAPE_FMT_LEGACY;
	compute_ok(&rl, "240b:10:3f6c:d400::/56", &ce);
	assert_int_equal(ce.ea_bits, 0x3f6cd4);
	assert_ipv4(&ce, "106.72.63.108", 32);
	assert_int_equal(ce.psid, 212);
	assert_int_equal(ce.psid_len, 8);
	assert_int_equal(mape_port_range_count(&ce), 15);
	assert_range(&ce, 0, 7488, 7503);
	assert_range(&ce, 1, 11584, 11599);
	assert_range(&ce, 14, 64832, 64847);
	assert_int_equal(mape_port_count(&ce), 240);
	assert_ipv6(&ce, "240b:10:3f6c:d400:6a:483f:6c00:d400");
	assert_ranges_match_set(&ce);
	/* the same CE with the RFC 7597 identifier: 0000 | IPv4 | PSID */
	rl.format = MAPE_FMT_RFC7597;
	compute_ok(&rl, "240b:10:3f6c:d400::/56", &ce);
	assert_ipv6(&ce, "240b:10:3f6c:d400:0:6a48:3f6c:d4");
}

/*
 * The shape of OCN Virtual Connect's rules: a 6-bit PSID and 63 ranges of
 * 16 ports, 1008 in all. RFC 7597 5.1: 2^a - 1 ranges of 2^m ports, m =
 * 16 - a - k. 63 ranges take a = 6; with a = 4 the same PSID gives 15
 * ranges of 64 ports (960), which is not what OCN hands out.
 */
static void ocn_shape_needs_offset_6(void **state)
{
	struct mape_rule rl = rule("2001:db8::/32", "192.0.2.0/24", 14, 6);
	struct mape_ce ce;

	(void)state;
	rl.format = MAPE_FMT_LEGACY;
	/* EA bits 0x1234 >> 2: IPv4 suffix 18, PSID 13 */
	compute_ok(&rl, "2001:db8:1234::/56", &ce);
	assert_ipv4(&ce, "192.0.2.18", 32);
	assert_int_equal(ce.psid_len, 6);
	assert_int_equal(ce.psid, 13);
	assert_int_equal(mape_port_range_count(&ce), 63);
	assert_int_equal(mape_port_count(&ce), 1008);
	assert_range(&ce, 0, 1024 + (13 << 4), 1024 + (13 << 4) + 15);
	assert_ranges_match_set(&ce);

	rl.psid_offset = 4;
	compute_ok(&rl, "2001:db8:1234::/56", &ce);
	assert_int_equal(mape_port_range_count(&ce), 15);
	assert_int_equal(mape_port_count(&ce), 960);
}

/* A bit set at 31, the odd bit of a /31 rule: it is the suffix's MSB. */
static void v6plus_odd_bit(void **state)
{
	struct mape_rule rl = rule("240b:10::/31", "106.72.0.0/15", 25, 4);
	struct mape_ce ce;

	(void)state;
	compute_ok(&rl, "240b:11:ff:ff00::/56", &ce);
	/* EA = 1 | 0x00ff | 0xff: suffix 0x100ff, PSID 0xff */
	assert_int_equal(ce.ea_bits, (1u << 24) | 0x00ffff);
	assert_ipv4(&ce, "106.73.0.255", 32);
	assert_int_equal(ce.psid, 0xff);
	/* a longer delegated prefix keeps its own bits after the EA bits */
	compute_ok(&rl, "240b:11:ff:ff10::/60", &ce);
	assert_ipv4(&ce, "106.73.0.255", 32);
	assert_ipv6(&ce, "240b:11:ff:ff10:0:6a49:ff:ff");
}

/* ---- end-user prefixes longer than /64 ------------------------------- */

/*
 * RFC 7597 §6: past /64 the prefix overwrites the leading bits of the
 * interface identifier; the EA bits are read wherever they are.
 */
static void prefix_past_64(void **state)
{
	struct mape_rule rl = rule("2001:db8:0:ff00::/56", "198.51.100.0/24", 16, 6);
	struct mape_ce ce;

	(void)state;
	/* EA bits 56..71 = 0x12 | 0x34, straddling /64 */
	compute_ok(&rl, "2001:db8:0:ff12:3400::/72", &ce);
	assert_ipv4(&ce, "198.51.100.18", 32);
	assert_int_equal(ce.psid, 0x34);
	assert_ipv6(&ce, "2001:db8:0:ff12:3400:c633:6412:34");

	/* /80: the 16 zero bits of the identifier are all prefix */
	rl = rule("2001:db8:0:1::/64", "198.51.100.0/24", 16, 6);
	compute_ok(&rl, "2001:db8:0:1:1234::/80", &ce);
	assert_ipv4(&ce, "198.51.100.18", 32);
	assert_ipv6(&ce, "2001:db8:0:1:1234:c633:6412:34");

	/* /96: the prefix covers half of the IPv4 field too */
	rl = rule("2001:db8:0:1::/80", "198.51.100.0/24", 16, 6);
	compute_ok(&rl, "2001:db8:0:1:0:1234::/96", &ce);
	assert_ipv4(&ce, "198.51.100.18", 32);
	assert_ipv6(&ce, "2001:db8:0:1:0:1234:6412:34");
}

static void prefix_128(void **state)
{
	struct mape_rule rl = rule("2001:db8::/112", "192.0.2.0/24", 16, 6);
	struct mape_ce ce;

	(void)state;
	compute_ok(&rl, "2001:db8::1234/128", &ce);
	assert_ipv4(&ce, "192.0.2.18", 32);
	assert_int_equal(ce.psid, 0x34);
	assert_ipv6(&ce, "2001:db8::1234");
	/* legacy: the same, the identifier is all prefix */
	rl.format = MAPE_FMT_LEGACY;
	compute_ok(&rl, "2001:db8::1234/128", &ce);
	assert_ipv6(&ce, "2001:db8::1234");
}

/* ---- PSID length 0 and shared prefixes ------------------------------- */

/* o = p: a whole address per CE, no sharing, so no port restriction. */
static void psid_len_zero(void **state)
{
	struct mape_rule rl = rule("2001:db8::/40", "192.0.2.0/24", 8, 6);
	struct mape_ce ce;

	(void)state;
	compute_ok(&rl, "2001:db8:12::/48", &ce);
	assert_ipv4(&ce, "192.0.2.18", 32);
	assert_int_equal(ce.psid_len, 0);
	assert_int_equal(ce.psid, 0);
	assert_int_equal(ce.psid_offset, 6);
	assert_int_equal(mape_port_range_count(&ce), 1);
	assert_range(&ce, 0, 0, 65535);
	assert_int_equal(mape_port_count(&ce), 65536);
	assert_true(mape_port_in_set(&ce, 0));
	assert_true(mape_port_in_set(&ce, 80));
	assert_true(mape_port_in_set(&ce, 65535));
	assert_ipv6(&ce, "2001:db8:12::c000:212:0");
	assert_ranges_match_set(&ce);
}

/*
 * o < p: the CE gets the IPv4 prefix /(r + o), zero-padded in the
 * identifier (RFC 7597 §6), every port.
 */
static void shared_ipv4_prefix(void **state)
{
	struct mape_rule rl = rule("2001:db8::/40", "192.0.2.0/24", 4, 6);
	struct mape_ce ce;

	(void)state;
	compute_ok(&rl, "2001:db8:10::/44", &ce);
	assert_int_equal(ce.ea_bits, 1);
	assert_ipv4(&ce, "192.0.2.16", 28);
	assert_int_equal(ce.psid_len, 0);
	assert_int_equal(mape_port_count(&ce), 65536);
	assert_ipv6(&ce, "2001:db8:10::c000:210:0");

	/* o = 0 and r < 32: the whole rule prefix is the CE's */
	rl = rule("2001:db8:12:3400::/56", "192.0.2.0/24", 0, 6);
	compute_ok(&rl, "2001:db8:12:3400::/56", &ce);
	assert_ipv4(&ce, "192.0.2.0", 24);
	assert_ipv6(&ce, "2001:db8:12:3400:0:c000:200:0");

	/* r = 0: the EA bits are the whole IPv4 prefix */
	rl = rule("2001:db8::/32", "0.0.0.0/0", 24, 6);
	compute_ok(&rl, "2001:db8:c000:200::/56", &ce);
	assert_ipv4(&ce, "192.0.2.0", 24);
}

/* r = 0, o = 48: the whole address and a 16-bit PSID in the EA bits. */
static void ea_48(void **state)
{
	struct mape_rule rl = rule("2001::/16", "0.0.0.0/0", 48, 0);
	struct mape_ce ce;

	(void)state;
	compute_ok(&rl, "2001:c000:0201:1f90::/64", &ce);
	assert_ipv4(&ce, "192.0.2.1", 32);
	assert_int_equal(ce.psid, 0x1f90);
	assert_int_equal(ce.psid_len, 16);
	/* a = 0, m = 0: one port, the PSID itself (8080) */
	assert_int_equal(mape_port_range_count(&ce), 1);
	assert_range(&ce, 0, 8080, 8080);
	assert_int_equal(mape_port_count(&ce), 1);
	assert_ranges_match_set(&ce);
}

/* ---- port set shapes ------------------------------------------------- */

/* a = 0: no A field, one block PSID << m | j (RFC 7597 §5.1). */
static void offset_zero(void **state)
{
	struct mape_rule rl = rule("2001:db8::/40", "192.0.2.0/24", 12, 0);
	struct mape_ce ce;

	(void)state;
	compute_ok(&rl, "2001:db8:23:5000::/52", &ce);
	assert_ipv4(&ce, "192.0.2.35", 32);
	assert_int_equal(ce.psid, 5);
	assert_int_equal(ce.psid_len, 4);
	assert_int_equal(mape_port_range_count(&ce), 1);
	assert_range(&ce, 0, 5 << 12, (6 << 12) - 1);
	assert_int_equal(mape_port_count(&ce), 4096);
	assert_ranges_match_set(&ce);
}

/* Every offset and PSID length: ranges and membership agree. */
static void port_set_all_shapes(void **state)
{
	struct mape_ce ce = { 0 };
	unsigned int a, k;

	(void)state;
	for (a = 0; a <= MAPE_PSID_OFFSET_MAX; a++) {
		for (k = 0; a + k <= 16; k++) {
			ce.psid_offset = a;
			ce.psid_len = k;
			ce.psid = k ? (uint16_t)((0x5a5a >> (16 - k)) | 1) : 0;
			assert_ranges_match_set(&ce);
			if (k && a)
				assert_int_equal(mape_port_count(&ce),
						 ((1u << a) - 1) << (16 - a - k));
		}
	}
}

/* a = 15, k = 1: the most ranges there can be. */
static void offset_15(void **state)
{
	struct mape_rule rl = rule("2001:db8::/40", "192.0.2.0/24", 9, 15);
	struct mape_ce ce;

	(void)state;
	compute_ok(&rl, "2001:db8:12:8000::/49", &ce);
	assert_ipv4(&ce, "192.0.2.18", 32);
	assert_int_equal(ce.psid, 1);
	assert_int_equal(ce.psid_len, 1);
	assert_int_equal(mape_port_range_count(&ce), 32767);
	assert_range(&ce, 0, 3, 3);
	assert_range(&ce, 32766, 65535, 65535);
	assert_int_equal(mape_port_count(&ce), 32767);
}

/* ---- rejected rules -------------------------------------------------- */

static void rule_fails(const struct mape_rule *rl, const char *needle)
{
	char err[MAPE_ERR_LEN] = "";

	assert_int_equal(mape_rule_check(rl, err, sizeof(err)), -EINVAL);
	if (!strstr(err, needle))
		fail_msg("error '%s' lacks '%s'", err, needle);
}

static void bad_ranges(void **state)
{
	struct mape_rule ex1 = rule("2001:db8::/40", "192.0.2.0/24", 16, 6), rl;

	(void)state;
	rl = ex1, rl.rule6.len = 129;
	rule_fails(&rl, "rule IPv6 prefix length /129 out of range");
	rl = ex1, rl.rule4.len = 33;
	rule_fails(&rl, "rule IPv4 prefix length /33 out of range");
	rl = ex1, rl.ea_len = 49;
	rule_fails(&rl, "EA-bits length 49 out of range (0..48)");
	rl = ex1, rl.psid_offset = 16;
	rule_fails(&rl, "PSID offset 16 out of range (0..15)");
	rl = ex1, rl.psid_len = 17;
	rule_fails(&rl, "PSID length 17 out of range (0..16)");
	rl = ex1, rl.psid_len = -2;
	rule_fails(&rl, "PSID length -2 out of range");
	rl = ex1, rl.psid = 65536;
	rule_fails(&rl, "PSID 65536 out of range (0..65535)");
	rl = ex1, rl.psid = -5;
	rule_fails(&rl, "PSID -5 out of range");
	rl = ex1, rl.format = (enum mape_format)7;
	rule_fails(&rl, "unknown interface-identifier format 7");
}

static void ea_bits_do_not_fit(void **state)
{
	struct mape_rule rl;

	(void)state;
	/* more EA bits than the IPv6 address has after the rule prefix */
	rl = rule("2001:db8::/120", "192.0.2.0/24", 16, 6);
	rule_fails(&rl, "rule IPv6 prefix /120 + 16 EA bits = 136 bits");
	/* r + o > 48: a 17-bit PSID */
	rl = rule("2001:db8::/32", "192.0.2.0/24", 25, 0);
	rule_fails(&rl, "at most 48 fit");
	rl = rule("2001::/16", "0.0.0.0/0", 48, 0);
	rl.rule4.len = 1;
	rule_fails(&rl, "PSID would be 17 bits");
	/* a + k > 16 */
	rl = rule("2001:db8::/40", "192.0.2.0/24", 16, 9);
	rule_fails(&rl, "PSID offset 9 + PSID length 8 = 17 bits");
	rl = rule("2001::/16", "0.0.0.0/0", 48, 1);
	rule_fails(&rl, "PSID offset 1 + PSID length 16");
}

static void bad_psid_len(void **state)
{
	struct mape_rule rl = rule("2001:db8::/40", "192.0.2.0/24", 16, 6);

	(void)state;
	/* the EA bits say 8 */
	rl.psid_len = 7;
	rule_fails(&rl, "PSID length 7 does not match the rule: 16 EA bits - 8 IPv4 suffix bits (32 - /24) leave a PSID of 8 bits");
	rl.psid_len = 0;
	rule_fails(&rl, "PSID length 0 does not match");
	rl.psid_len = 8;
	assert_int_equal(mape_rule_check(&rl, NULL, 0), 0);

	/* o < p: a prefix is not shared */
	rl = rule("2001:db8::/40", "192.0.2.0/24", 4, 6);
	rl.psid_len = 4;
	rule_fails(&rl, "the CE gets the IPv4 prefix /28 (/24 + 4 EA bits), which is not shared");

	/* r + o = 32 without PSID bits: a shared length needs the PSID */
	rl = rule("2001:db8:12:3400::/56", "192.0.2.1/32", 0, 6);
	rl.psid_len = 8;
	rule_fails(&rl, "PSID length 8 needs the PSID itself");
	rl.psid = 256;
	rule_fails(&rl, "PSID 256 does not fit in a PSID length of 8 bits");
	rl.psid = 255;
	assert_int_equal(mape_rule_check(&rl, NULL, 0), 0);
	rl.psid_len = 12; /* 6 + 12 > 16 */
	rule_fails(&rl, "PSID offset 6 + PSID length 12 = 18 bits");
	rl.psid_len = MAPE_PSID_LEN_AUTO; /* a PSID, but length 0 */
	rule_fails(&rl, "PSID 255 does not fit in a PSID length of 0 bits");
}

static void bad_end_user_prefix(void **state)
{
	struct mape_rule rl = rule("2001:db8::/40", "192.0.2.0/24", 16, 6);
	struct prefix6 eu = pfx6("2001:db8:12:3400::/56");
	char err[MAPE_ERR_LEN] = "";
	struct mape_ce ce;

	(void)state;
	compute_fails(&rl, "2001:db8:12::/48",
		      "end-user prefix /48 is shorter than rule IPv6 prefix /40 + 16 EA bits = /56");
	compute_fails(&rl, "2001:db9:12:3400::/56",
		      "end-user prefix 2001:db9:12:3400::/56 is not inside rule IPv6 prefix 2001:db8::/40");
	/* only the last bit of the rule prefix (39) differs */
	compute_fails(&rl, "2001:db8:112:3400::/56", "is not inside");
	eu.len = 129;
	assert_int_equal(mape_compute(&rl, &eu, &ce, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "end-user prefix length /129 out of range"));
	/* rule errors come first */
	rl.ea_len = 49;
	compute_fails(&rl, "2001:db8:12:3400::/56", "EA-bits length 49");
	/* a given PSID must be what the EA bits say */
	rl = rule("2001:db8::/40", "192.0.2.0/24", 16, 6);
	rl.psid = 0x35;
	compute_fails(&rl, "2001:db8:12:3400::/56",
		      "PSID 53 given, but the EA bits of the end-user prefix give PSID 52");
	rl.psid = 0x34;
	compute_ok(&rl, "2001:db8:12:3400::/56", &ce);
}

static void parse_fails(int v6, const char *s, const char *needle)
{
	char err[MAPE_ERR_LEN] = "";
	struct prefix6 p6;
	struct prefix4 p4;
	int ret;

	ret = v6 ? prefix6_parse(s, &p6, "--x", err, sizeof(err)) :
		   prefix4_parse(s, &p4, "--x", err, sizeof(err));
	assert_int_equal(ret, -EINVAL);
	if (!strstr(err, needle))
		fail_msg("'%s': error '%s' lacks '%s'", s, err, needle);
}

static void bad_prefixes(void **state)
{
	struct prefix6 p6;
	struct prefix4 p4;

	(void)state;
	parse_fails(1, "2001:db8::", "--x '2001:db8::': not an IPv6 prefix (ADDR/LEN)");
	parse_fails(1, "2001:db8::/", "not an IPv6 prefix");
	parse_fails(1, "2001:db8::/x", "not an IPv6 prefix");
	parse_fails(1, "2001:db8::/-1", "not an IPv6 prefix");
	parse_fails(1, "2001:db8::/56x", "not an IPv6 prefix");
	parse_fails(1, "2001:db8::/ 56", "not an IPv6 prefix");
	parse_fails(1, "192.0.2.0/24", "not an IPv6 prefix");
	parse_fails(1, "2001:db8:::/32", "not an IPv6 prefix");
	parse_fails(1, "2001:db8::/129", "prefix length out of range (0..128)");
	parse_fails(1, "2001:db8:12:3456::/56",
		    "bits set after /56 (2001:db8:12:3400::/56?)");
	parse_fails(1, "2001:db8::1/0", "bits set after /0 (::/0?)");
	parse_fails(0, "192.0.2.0", "not an IPv4 prefix");
	parse_fails(0, "192.0.2/24", "not an IPv4 prefix");
	parse_fails(0, "2001:db8::/24", "not an IPv4 prefix");
	parse_fails(0, "192.0.2.0/33", "prefix length out of range (0..32)");
	parse_fails(0, "106.72.1.0/15", "bits set after /15 (106.72.0.0/15?)");
	assert_int_equal(prefix6_parse("::/0", &p6, "", NULL, 0), 0);
	assert_int_equal(p6.len, 0);
	assert_int_equal(prefix6_parse("2001:db8::1/128", &p6, "", NULL, 0), 0);
	assert_int_equal(p6.len, 128);
	assert_int_equal(prefix4_parse("192.0.2.1/32", &p4, "", NULL, 0), 0);
	assert_int_equal(p4.len, 32);
	assert_int_equal(ntohl(p4.addr.s_addr), 0xc0000201);
}

/* ---- brouterctl map-e ------------------------------------------------ */

#define ARGV(...) ((char *[]){ "map-e", __VA_ARGS__, NULL })

struct cli_result {
	int status;
	char out[8192];
	char err[1024];
};

static void read_all(FILE *f, char *buf, size_t len)
{
	size_t n;

	rewind(f);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
}

/* Run map-e with stdout and stderr captured. */
static void cli(char **argv, struct cli_result *res)
{
	FILE *out = tmpfile(), *err = tmpfile();
	int argc = 0, saved;

	assert_non_null(out);
	assert_non_null(err);
	while (argv[argc])
		argc++;
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	dup2(fileno(err), STDERR_FILENO);
	res->status = map_e_run(out, argc, argv);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	read_all(out, res->out, sizeof(res->out));
	read_all(err, res->err, sizeof(res->err));
	fclose(out);
	fclose(err);
}

static void cli_json_v6plus(void **state)
{
	struct cli_result res;

	(void)state;
	cli(ARGV("--rule-ipv6", "240b:10::/31", "--rule-ipv4", "106.72.0.0/15",
		 "--ea-len", "25", "--psid-offset", "4", "--prefix",
		 "240b:10:3f6c:d400::/56", "--legacy", "--json"),
	    &res);
	assert_int_equal(res.status, 0);
	assert_string_equal(res.err, "");
	assert_string_equal(res.out,
		"{\"ipv4\": \"106.72.63.108\", \"psid\": 212, \"psid_len\": 8, "
		"\"psid_offset\": 4, \"ports\": [[7488, 7503], [11584, 11599], "
		"[15680, 15695], [19776, 19791], [23872, 23887], [27968, 27983], "
		"[32064, 32079], [36160, 36175], [40256, 40271], [44352, 44367], "
		"[48448, 48463], [52544, 52559], [56640, 56655], [60736, 60751], "
		"[64832, 64847]], \"port_count\": 240, "
		"\"ce_ipv6\": \"240b:10:3f6c:d400:6a:483f:6c00:d400\"}\n");
}

static void cli_json_rfc_example(void **state)
{
	struct cli_result res;

	(void)state;
	cli(ARGV("--json", "--rule-ipv4", "192.0.2.0/24", "--rule-ipv6",
		 "2001:db8::/40", "--prefix", "2001:db8:12:3400::/56",
		 "--psid-offset", "6", "--ea-len", "16", "--psid-len", "8",
		 "--br", "2001:db8:ffff::1"),
	    &res);
	assert_int_equal(res.status, 0);
	assert_non_null(strstr(res.out, "{\"ipv4\": \"192.0.2.18\", \"psid\": 52, "
					"\"psid_len\": 8, \"psid_offset\": 6, "
					"\"ports\": [[1232, 1235], [2256, 2259], "));
	assert_non_null(strstr(res.out, ", [64720, 64723]], \"port_count\": 252, "
					"\"ce_ipv6\": \"2001:db8:12:3400:0:c000:212:34\", "
					"\"br\": \"2001:db8:ffff::1\"}\n"));

	/* a shared prefix: "ipv4" carries its length */
	cli(ARGV("--rule-ipv6", "2001:db8::/40", "--rule-ipv4", "192.0.2.0/24",
		 "--ea-len", "4", "--psid-offset", "6", "--prefix",
		 "2001:db8:10::/44", "-j"),
	    &res);
	assert_int_equal(res.status, 0);
	assert_string_equal(res.out,
		"{\"ipv4\": \"192.0.2.16/28\", \"psid\": 0, \"psid_len\": 0, "
		"\"psid_offset\": 6, \"ports\": [[0, 65535]], \"port_count\": 65536, "
		"\"ce_ipv6\": \"2001:db8:10::c000:210:0\"}\n");
}

static void cli_text(void **state)
{
	struct cli_result res;

	(void)state;
	cli(ARGV("--rule-ipv6", "2001:db8::/40", "--rule-ipv4", "192.0.2.0/24",
		 "--ea-len", "16", "--psid-offset", "6", "--prefix",
		 "2001:db8:12:3400::/56"),
	    &res);
	assert_int_equal(res.status, 0);
	assert_non_null(strstr(res.out, "CE IPv4 address  192.0.2.18\n"));
	assert_non_null(strstr(res.out, "PSID             52 (0x34), length 8, offset 6\n"));
	assert_non_null(strstr(res.out, "port ranges      63\n  1232-1235 2256-2259 "));
	assert_non_null(strstr(res.out, " 64720-64723\nport count       252\n"));
	assert_non_null(strstr(res.out, "CE IPv6 address  2001:db8:12:3400:0:c000:212:34\n"));

	/* RFC 7597 Appendix A example 5 from the command line */
	cli(ARGV("--rule-ipv6", "2001:db8:12:3400::/56", "--rule-ipv4",
		 "192.0.2.1/32", "--ea-len", "0", "--psid-offset", "6",
		 "--psid-len", "8", "--psid", "0x20", "--prefix",
		 "2001:db8:12:3400::/56"),
	    &res);
	assert_int_equal(res.status, 0);
	assert_non_null(strstr(res.out, "PSID             32 (0x20), length 8, offset 6\n"));
	assert_non_null(strstr(res.out, "CE IPv6 address  2001:db8:12:3400:0:c000:201:20\n"));

	cli(ARGV("--help"), &res);
	assert_int_equal(res.status, 0);
	assert_non_null(strstr(res.out, "usage: brouterctl map-e"));
}

/* Bad input: exit status 1 and "brouterctl: error: map-e: <why>". */
static void cli_fails(char **argv, const char *needle)
{
	struct cli_result res;

	cli(argv, &res);
	assert_int_equal(res.status, 1);
	assert_string_equal(res.out, "");
	if (strncmp(res.err, "brouterctl: error: map-e: ", 26) || !strstr(res.err, needle))
		fail_msg("stderr '%s' lacks '%s'", res.err, needle);
}

#define EX1 "--rule-ipv6", "2001:db8::/40", "--rule-ipv4", "192.0.2.0/24", \
	"--psid-offset", "6", "--prefix", "2001:db8:12:3400::/56"

static void cli_errors(void **state)
{
	(void)state;
	cli_fails(ARGV(EX1), "missing --ea-len");
	cli_fails(ARGV("--ea-len", "16"), "missing --rule-ipv6");
	cli_fails(ARGV(EX1, "--ea-len", "49"), "EA-bits length 49 out of range (0..48)");
	cli_fails(ARGV(EX1, "--ea-len", "sixteen"), "--ea-len 'sixteen': not a number");
	cli_fails(ARGV(EX1, "--ea-len", "-1"), "--ea-len '-1': not a number");
	cli_fails(ARGV(EX1, "--ea-len", "99999999999"), "not a number");
	cli_fails(ARGV(EX1, "--ea-len", "16", "--psid-offset", "16"),
		  "PSID offset 16 out of range (0..15)");
	cli_fails(ARGV(EX1, "--ea-len", "16", "--psid-len", "4"),
		  "PSID length 4 does not match the rule");
	cli_fails(ARGV(EX1, "--ea-len", "16", "--psid", "0x3g"), "--psid '0x3g': not a number");
	cli_fails(ARGV(EX1, "--ea-len", "16", "--br", "192.0.2.1"),
		  "--br '192.0.2.1': not an IPv6 address");
	cli_fails(ARGV(EX1, "--ea-len", "16", "--prefix", "2001:db8:12::/48"),
		  "end-user prefix /48 is shorter");
	cli_fails(ARGV(EX1, "--ea-len", "16", "--prefix", "2001:db8:12:3400::1/56"),
		  "--prefix '2001:db8:12:3400::1/56': bits set after /56");
	cli_fails(ARGV(EX1, "--ea-len", "16", "--rule-ipv4", "192.0.2.0/33"),
		  "--rule-ipv4 '192.0.2.0/33': prefix length out of range");
	cli_fails(ARGV(EX1, "--ea-len", "16", "--bogus"), "unknown option '--bogus'");
	cli_fails(ARGV(EX1, "--ea-len"), "option '--ea-len' needs a value");
	cli_fails(ARGV(EX1, "--ea-len", "16", "stray"), "unexpected argument 'stray'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rfc7597_example1),
		cmocka_unit_test(rfc7597_example4_no_ea_bits),
		cmocka_unit_test(rfc7597_example5_provisioned_psid),
		cmocka_unit_test(v6plus_legacy),
		cmocka_unit_test(v6plus_odd_bit),
		cmocka_unit_test(ocn_shape_needs_offset_6),
		cmocka_unit_test(prefix_past_64),
		cmocka_unit_test(prefix_128),
		cmocka_unit_test(psid_len_zero),
		cmocka_unit_test(shared_ipv4_prefix),
		cmocka_unit_test(ea_48),
		cmocka_unit_test(offset_zero),
		cmocka_unit_test(port_set_all_shapes),
		cmocka_unit_test(offset_15),
		cmocka_unit_test(bad_ranges),
		cmocka_unit_test(ea_bits_do_not_fit),
		cmocka_unit_test(bad_psid_len),
		cmocka_unit_test(bad_end_user_prefix),
		cmocka_unit_test(bad_prefixes),
		cmocka_unit_test(cli_json_v6plus),
		cmocka_unit_test(cli_json_rfc_example),
		cmocka_unit_test(cli_text),
		cmocka_unit_test(cli_errors),
	};

	br_prog_name = "brouterctl";
	return cmocka_run_group_tests_name("mape", tests, NULL, NULL);
}
