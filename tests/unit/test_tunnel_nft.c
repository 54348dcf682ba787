// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * brouterd's nftables table: NAPT covers every range of the MAP-E port
 * set except reserved ports, port forwards are there, no chain runs for
 * every forwarded packet,
 * peers' prefixes are not NATed, and (as root) nft accepts the text.
 */
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

#include "common/log.h"
#include "tunnel/nft.h"

/* RFC 7597 Appendix A example 1: 192.0.2.18, PSID 0x34/8, offset 6. */
static struct mape_ce rfc_ce(void)
{
	struct mape_rule rule = { .ea_len = 16, .psid_offset = 6,
				  .psid_len = MAPE_PSID_LEN_AUTO, .psid = MAPE_PSID_AUTO };
	struct prefix6 eu = { .len = 56 };
	char err[MAPE_ERR_LEN];
	struct mape_ce ce;

	inet_pton(AF_INET6, "2001:db8::", &rule.rule6.addr);
	rule.rule6.len = 40;
	inet_pton(AF_INET, "192.0.2.0", &rule.rule4.addr);
	rule.rule4.len = 24;
	inet_pton(AF_INET6, "2001:db8:12:3400::", &eu.addr);
	assert_int_equal(mape_compute(&rule, &eu, &ce, err, sizeof(err)), 0);
	return ce;
}

static struct tunnel_reserved reserved(int proto, int port, const char *to, int to_port)
{
	struct tunnel_reserved r = { .proto = proto, .port = port, .to_port = to_port };

	inet_pton(AF_INET, to, &r.to);
	return r;
}

static void assert_contains(const char *text, const char *want)
{
	if (!strstr(text, want))
		fail_msg("expected \"%s\" in:\n%s", want, text);
}

/* As root, nft itself must accept what we wrote (dry run, nothing applied). */
static void nft_accepts(const char *text)
{
	if (geteuid())
		return;
	assert_int_equal(nft_table_check(text), 0);
}

static void every_range_of_the_set(void **state)
{
	struct mape_ce ce = rfc_ce();
	struct nft_spec s = { .wan = "wan0", .ce = &ce };
	struct mape_port_range *r;
	char *text;
	int n;

	(void)state;
	n = nft_nat_ranges(&s, &r);
	assert_int_equal(n, 63);
	assert_int_equal(r[0].first, 1232);
	assert_int_equal(r[0].last, 1235);
	assert_int_equal(r[1].first, 2256);
	assert_int_equal(r[62].first, 64720);
	assert_int_equal(r[62].last, 64723);
	free(r);

	text = nft_table_text(&s);
	assert_non_null(text);
	assert_contains(text, "add table ip brouter\ndelete table ip brouter\ntable ip brouter {");
	assert_contains(text, "type nat hook postrouting priority srcnat;");
	assert_contains(text, "oifname \"wan0\" meta l4proto { tcp, udp, icmp } snat ip to numgen inc mod 63 map { 0 : 192.0.2.18 . 1232-1235, 1 : 192.0.2.18 . 2256-2259,");
	assert_contains(text, "62 : 192.0.2.18 . 64720-64723 }\n");
	/*
	 * No chain every forwarded packet runs through: MSS clamping and the
	 * drop of port-less protocols are the BPF programs' (SYNs only).
	 */
	assert_null(strstr(text, "hook forward"));
	assert_null(strstr(text, "maxseg"));
	assert_null(strstr(text, "nat_in"));
	assert_null(strstr(text, "no_nat"));
	nft_accepts(text);
	free(text);
}

static void reserved_ports_split_ranges(void **state)
{
	struct tunnel_reserved res[] = {
		reserved(IPPROTO_UDP, 2257, "192.168.1.20", 5000),
		reserved(IPPROTO_TCP, 1232, "192.168.1.10", 22),
		reserved(IPPROTO_TCP, 64723, "192.168.1.10", 443),
	};
	struct mape_ce ce = rfc_ce();
	struct nft_spec s = {
		.wan = "wan0", .ce = &ce, .reserved = res, .n_reserved = 3
	};
	struct mape_port_range *r;
	char *text;
	int n, i;
	uint32_t total = 0;

	(void)state;
	n = nft_nat_ranges(&s, &r);
	assert_int_equal(n, 64); /* 2257 cuts 2256-2259 in two */
	assert_int_equal(r[0].first, 1233);
	assert_int_equal(r[0].last, 1235);
	assert_int_equal(r[1].first, 2256);
	assert_int_equal(r[1].last, 2256);
	assert_int_equal(r[2].first, 2258);
	assert_int_equal(r[2].last, 2259);
	assert_int_equal(r[63].first, 64720);
	assert_int_equal(r[63].last, 64722);
	for (i = 0; i < n; i++) {
		total += r[i].last - r[i].first + 1U;
		assert_true(mape_port_in_set(&ce, r[i].first));
		assert_true(mape_port_in_set(&ce, r[i].last));
	}
	assert_int_equal(total, mape_port_count(&ce) - 3);
	free(r);

	text = nft_table_text(&s);
	assert_non_null(text);
	assert_contains(text, "snat ip to numgen inc mod 64 map { 0 : 192.0.2.18 . 1233-1235, 1 : 192.0.2.18 . 2256-2256, 2 : 192.0.2.18 . 2258-2259,");
	assert_contains(text, "type nat hook prerouting priority dstnat;");
	assert_contains(text, "iifname \"wan0\" ip daddr 192.0.2.18 udp dport 2257 dnat ip to 192.168.1.20:5000\n");
	assert_contains(text, "iifname \"wan0\" ip daddr 192.0.2.18 tcp dport 1232 dnat ip to 192.168.1.10:22\n");
	nft_accepts(text);
	free(text);
}

/*
 * A shared CE of many runs: conntrack NATs into one contiguous range of
 * stand-ins, each one port of the set, reserved ports out of both.
 */
static void stand_ins_cover_the_whole_set(void **state)
{
	struct tunnel_reserved res[] = {
		reserved(IPPROTO_TCP, 2257, "192.168.1.10", 22),
	};
	struct mape_ce ce = rfc_ce();
	struct nft_spec s = {
		.wan = "wan0", .ce = &ce, .reserved = res, .n_reserved = 1
	};
	struct mape_port_range *r;
	struct napt_plan p;
	uint16_t rp = 2257;
	char *text;
	int n, i;

	(void)state;
	assert_true(napt_applies(&ce));
	n = nft_nat_ranges(&s, &r);
	assert_int_equal(napt_plan(r, n, &rp, 1, &p), 0);
	free(r);
	/* 251 ports of the set, below 1024 (A = 0: no CE's port) */
	assert_int_equal(p.n, 251);
	assert_int_equal(p.first, 1);
	assert_int_equal(p.last, 251);
	assert_int_equal(p.left_out, 0);
	for (i = 0; i < p.n; i++) {
		assert_true(mape_port_in_set(&ce, p.real[i]));
		assert_int_not_equal(p.real[i], 2257);
		if (i)
			assert_true(p.real[i] > p.real[i - 1]);
	}
	assert_int_equal(p.real[0], 1232);
	assert_int_equal(p.real[250], 64723);

	s.napt = &p;
	text = nft_table_text(&s);
	assert_non_null(text);
	assert_contains(
		text,
		"oifname \"wan0\" meta l4proto { tcp, udp, icmp } snat ip to 192.0.2.18:1-251\n");
	assert_null(strstr(text, "numgen"));
	assert_contains(text, "type filter hook input priority filter;");
	assert_contains(
		text,
		"iifname \"wan0\" ip daddr 192.0.2.18 meta l4proto { tcp, udp } th dport 1-251 ct state new drop");
	assert_contains(text, "tcp dport 2257 dnat ip to 192.168.1.10:22");
	nft_accepts(text);
	free(text);
	napt_plan_free(&p);

	/* one run, or an unshared address: no stand-ins needed */
	ce.psid_offset = 0;
	assert_false(napt_applies(&ce));
	ce = rfc_ce();
	ce.psid_len = 0;
	assert_false(napt_applies(&ce));
}

/* A big set: the stand-ins step over reserved ports, or squeeze between them. */
static void stand_ins_avoid_reserved_ports(void **state)
{
	struct mape_port_range big = { 4096, 4096 + 15359 };
	uint16_t res[] = { 30000, 5000 };
	uint16_t spread[] = { 64000, 8000,  16000, 24000,
			      32000, 40000, 48000, 56000 };
	struct napt_plan p;

	(void)state;
	assert_int_equal(napt_plan(&big, 1, res, 2, &p), 0);
	assert_int_equal(p.first, 5001);
	assert_int_equal(p.last, 5001 + 15359);
	assert_int_equal(p.left_out, 0);
	napt_plan_free(&p);

	assert_int_equal(napt_plan(&big, 1, spread, 8, &p), 0);
	assert_int_equal(p.first, 1);
	assert_int_equal(p.last, 7999);
	assert_int_equal(p.left_out, 15360 - 7999);
	napt_plan_free(&p);
}

/* PSID length 0: the whole address is the CE's, every protocol NATed. */
static void whole_address(void **state)
{
	struct mape_ce ce = { .psid_len = 0, .psid_offset = 6, .ipv4_len = 32 };
	struct tunnel_reserved res = reserved(IPPROTO_TCP, 22, "192.168.1.10", 22);
	struct nft_spec s = { .wan = "wan0", .ce = &ce };
	char *text;

	(void)state;
	inet_pton(AF_INET, "203.0.113.7", &ce.ipv4);
	text = nft_table_text(&s);
	assert_non_null(text);
	assert_contains(text, "snat ip to numgen inc mod 1 map { 0 : 203.0.113.7 . 1-65535 }");
	assert_contains(text, "oifname \"wan0\" snat ip to 203.0.113.7\n");
	assert_null(strstr(text, "drop"));
	nft_accepts(text);
	free(text);

	s.reserved = &res;
	s.n_reserved = 1;
	text = nft_table_text(&s);
	assert_contains(text, "map { 0 : 203.0.113.7 . 1-21, 1 : 203.0.113.7 . 23-65535 }");
	nft_accepts(text);
	free(text);
}

/* DS-Lite and ipip6: an empty table; with MAP-E, peers' prefixes skip NAT. */
static void no_nat_for_dslite_and_peers(void **state)
{
	struct prefix4 peers[2] = { { .len = 16 }, { .len = 24 } };
	struct nft_spec s = { .wan = "eth1", .no_nat = peers, .n_no_nat = 2 };
	struct mape_ce ce = rfc_ce();
	char *text;

	(void)state;
	inet_pton(AF_INET, "10.20.0.0", &peers[0].addr);
	inet_pton(AF_INET, "10.30.1.0", &peers[1].addr);
	text = nft_table_text(&s);
	assert_non_null(text);
	assert_null(strstr(text, "snat"));
	assert_null(strstr(text, "chain"));
	nft_accepts(text);
	free(text);

	/*
	 * With the IPv4 fast path, a rule that turns conntrack on, never
	 * run; and, conntrack being the fast path's alone, the one hook of
	 * the table: the raw chain that lets a flow's first packet skip it.
	 */
	s.track = true;
	text = nft_table_text(&s);
	assert_contains(text,
			"\tchain fast_path {\n\t\tct state established accept");
	assert_contains(text,
			"\tchain untracked {\n\t\ttype filter hook prerouting "
			"priority raw; policy accept;\n\t\tmeta priority 602:0 "
			"notrack");
	assert_null(strstr(strstr(text, "hook") + 1, "hook"));
	nft_accepts(text);
	free(text);

	/* with NAT of ours conntrack is not the fast path's alone */
	s.ce = &ce;
	text = nft_table_text(&s);
	assert_contains(text, "\tchain fast_path {");
	assert_null(strstr(text, "chain untracked"));
	assert_null(strstr(text, "notrack"));
	nft_accepts(text);
	free(text);
	s.track = false;

	text = nft_table_text(&s);
	assert_contains(text, "set no_nat {\n\t\ttype ipv4_addr; flags interval;\n\t\telements = { 10.20.0.0/16, 10.30.1.0/24 }\n");
	assert_contains(text, "oifname \"eth1\" ip daddr @no_nat return\n\t\toifname \"eth1\" meta l4proto { tcp, udp, icmp } snat");
	assert_null(strstr(text, "drop"));
	nft_accepts(text);
	free(text);
}

static void refuses_odd_interface_names(void **state)
{
	struct nft_spec s = { .wan = "wan\"0" };

	(void)state;
	assert_null(nft_table_text(&s));
	s.wan = "";
	assert_null(nft_table_text(&s));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_range_of_the_set),
		cmocka_unit_test(reserved_ports_split_ranges),
		cmocka_unit_test(stand_ins_cover_the_whole_set),
		cmocka_unit_test(stand_ins_avoid_reserved_ports),
		cmocka_unit_test(whole_address),
		cmocka_unit_test(no_nat_for_dslite_and_peers),
		cmocka_unit_test(refuses_odd_interface_names),
	};

	br_log_level = BR_LOG_DEBUG;
	return cmocka_run_group_tests_name("tunnel nftables", tests, NULL, NULL);
}
