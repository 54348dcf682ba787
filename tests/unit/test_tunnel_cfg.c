// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The "tunnel" config group: the documented example reads back as
 * written, absent keys take their defaults, and each kind of mistake is
 * refused with "FILE:LINE: tunnel.KEY: why", every error of a file at once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "config/parse.h"
#include "common/log.h"
#include "tunnel_cfg_test.h"

/* The example of the docs, every key given. */
static const char example[] =
	"tunnel = {\n"
	"  mode = \"map-e\";\n"
	"  map-e = { rule-ipv6 = \"2001:db8::/40\"; rule-ipv4 = \"192.0.2.0/24\"; ea-len = 16; psid-offset = 6;\n"
	"            br = \"2001:db8:ffff::1\"; format = \"rfc7597\";\n"
	"            prefix = \"2001:db8:12:3400::/56\";\n"
	"            reserved-ports = ( { proto = \"tcp\"; port = 1232; to = \"192.168.1.10\"; to-port = 22; } ); };\n"
	"  ds-lite = { aftr = \"2001:db8:ffff::2\"; };\n"
	"  ipip6 = ( { local = \"2001:db8:1::100\"; remote = \"2001:db8:2::1\"; prefixes = [ \"10.20.0.0/16\" ]; } );\n"
	"  mtu = 0;\n"
	"};\n";

static void example_reads_back(void **state)
{
	struct tunnel_cfg c;

	(void)state;
	assert_int_equal(parse(example, &c), 0);
	assert_string_equal(errors, "");
	assert_int_equal(c.mode, TUNNEL_MAPE);
	assert_true(tunnel_cfg_active(&c));
	assert_true(c.has_mape);
	assert_addr6(&c.rule.rule6.addr, "2001:db8::");
	assert_int_equal(c.rule.rule6.len, 40);
	assert_rule(&c.rule, "192.0.2.0", 24, 16, MAPE_PSID_LEN_AUTO,
		    MAPE_PSID_AUTO, 6);
	assert_true(c.rule.has_br);
	assert_addr6(&c.rule.br, "2001:db8:ffff::1");
	assert_int_equal(c.rule.format, MAPE_FMT_RFC7597);
	assert_true(c.has_prefix);
	assert_addr6(&c.prefix.addr, "2001:db8:12:3400::");
	assert_int_equal(c.prefix.len, 56);
	assert_int_equal(c.n_reserved, 1);
	assert_int_equal(c.reserved[0].proto, IPPROTO_TCP);
	assert_int_equal(c.reserved[0].port, 1232);
	assert_addr4(c.reserved[0].to, "192.168.1.10");
	assert_int_equal(c.reserved[0].to_port, 22);
	assert_int_equal(c.reserved[0].line, 6);
	assert_true(c.has_dslite);
	assert_addr6(&c.aftr, "2001:db8:ffff::2");
	assert_false(c.has_b4);
	assert_int_equal(c.n_peers, 1);
	assert_addr6(&c.peers[0].local, "2001:db8:1::100");
	assert_addr6(&c.peers[0].remote, "2001:db8:2::1");
	assert_int_equal(c.peers[0].n_prefixes, 1);
	assert_addr4(c.peers[0].prefixes[0].addr, "10.20.0.0");
	assert_int_equal(c.peers[0].prefixes[0].len, 16);
	assert_int_equal(c.mtu, 0);
}

static void defaults_when_absent(void **state)
{
	struct tunnel_cfg c, again;

	(void)state;
	assert_int_equal(parse("tunnel = { };", &c), 0);
	assert_int_equal(c.mode, TUNNEL_OFF);
	assert_false(tunnel_cfg_active(&c));

	/* map-e: offset 6 (RFC 7597 5.1), rfc7597 format, prefix learned, udp default to-port */
	assert_int_equal(parse("tunnel = { mode = \"map-e\"; map-e = {\n"
			       " rule-ipv6 = \"2001:db8::/40\"; rule-ipv4 = \"192.0.2.0/24\";\n"
			       " ea-len = 16; br = \"2001:db8:ffff::1\";\n"
			       " reserved-ports = ( { proto = \"udp\"; port = 5000; to = \"192.168.1.2\"; } ); }; };",
			       &c), 0);
	assert_int_equal(c.rule.psid_offset, TUNNEL_PSID_OFFSET_DEFAULT);
	assert_int_equal(c.rule.format, MAPE_FMT_RFC7597);
	assert_false(c.has_prefix);
	assert_int_equal(c.reserved[0].proto, IPPROTO_UDP);
	assert_int_equal(c.reserved[0].to_port, 5000);
	assert_false(c.has_dslite);

	/* the same text parses to the same bytes: memcmp tells a reload */
	assert_int_equal(parse("tunnel = { mode = \"map-e\"; map-e = {\n"
			       " rule-ipv6 = \"2001:db8::/40\"; rule-ipv4 = \"192.0.2.0/24\";\n"
			       " ea-len = 16; br = \"2001:db8:ffff::1\";\n"
			       " reserved-ports = ( { proto = \"udp\"; port = 5000; to = \"192.168.1.2\"; } ); }; };",
			       &again), 0);
	assert_memory_equal(&c, &again, sizeof(c));
}

static void vsix_plus_legacy_rule(void **state)
{
	struct tunnel_cfg c;

	(void)state;
	assert_int_equal(parse("tunnel = { mode = \"map-e\"; map-e = {\n"
			       " rule-ipv6 = \"240b:10::/31\"; rule-ipv4 = \"106.72.0.0/15\";\n"
			       " ea-len = 25; psid-offset = 4; psid-len = 8; format = \"legacy\";\n"
			       " br = \"2404:9200:225:100::64\"; prefix = \"240b:10:3f6c:d400::/56\";\n"
			       " reserved-ports = ( { proto = \"tcp\"; port = 7488; to = \"192.168.1.5\"; } ); }; };",
			       &c), 0);
	assert_int_equal(c.rule.format, MAPE_FMT_LEGACY);
	assert_int_equal(c.rule.psid_len, 8);
	assert_int_equal(c.rule.psid_offset, 4);
}

static void dslite_and_peers_only(void **state)
{
	struct tunnel_cfg c;

	(void)state;
	assert_int_equal(parse("tunnel = { mode = \"ds-lite\";\n"
			       "  ds-lite = { aftr = \"2001:db8:ffff::2\"; local = \"2001:db8:1::b4\"; };\n"
			       "  mtu = 1280; };", &c), 0);
	assert_int_equal(c.mode, TUNNEL_DSLITE);
	assert_true(c.has_b4);
	assert_addr6(&c.b4, "2001:db8:1::b4");
	assert_int_equal(c.mtu, 1280);

	/* mode off with peers: only ipip6, the default route stays free */
	assert_int_equal(parse("tunnel = { mode = \"off\"; ipip6 = (\n"
			       " { local = \"2001:db8:1::100\"; remote = \"2001:db8:2::1\"; prefixes = \"0.0.0.0/0\"; },\n"
			       " { local = \"2001:db8:1::100\"; remote = \"2001:db8:3::1\"; prefixes = [ \"10.30.0.0/16\", \"10.31.0.0/16\" ]; } ); };",
			       &c), 0);
	assert_int_equal(c.mode, TUNNEL_OFF);
	assert_true(tunnel_cfg_active(&c));
	assert_int_equal(c.n_peers, 2);
	assert_int_equal(c.peers[0].n_prefixes, 1);
	assert_int_equal(c.peers[0].prefixes[0].len, 0);
	assert_int_equal(c.peers[1].n_prefixes, 2);
	assert_addr4(c.peers[1].prefixes[1].addr, "10.31.0.0");
}

static void top_level_mistakes(void **state)
{
	(void)state;
	refused("tunnel = \"map-e\";",
		"brouter.conf:1: tunnel: must be a group", NULL);
	refused("tunnel = {\n  mode = \"mape\";\n};",
		"brouter.conf:2: tunnel.mode: \"mape\" is not one of \"off\", \"map-e\", \"ds-lite\"",
		NULL);
	refused("tunnel = {\n  mode = \"off\";\n  encap = 1;\n};",
		"brouter.conf:3: tunnel.encap: unknown key (known here: mode, map-e, lw4o6, ds-lite, ipip, ipip6, mtu, provision, dscp)",
		NULL);
	refused("tunnel = {\n  map-e = { rule-ipv6 = \"2001:db8::/40\"; rule-ipv4 = \"192.0.2.0/24\"; ea-len = 16; br = \"2001:db8::1\"; };\n};",
		"brouter.conf:1: tunnel: mode missing", NULL);
	refused("tunnel = {\n mode = \"map-e\";\n};",
		"brouter.conf:2: tunnel.mode: \"map-e\" needs a map-e = { ... } group", NULL);
	refused("tunnel = {\n mode = \"ds-lite\";\n};",
		"brouter.conf:2: tunnel.mode: \"ds-lite\" needs a ds-lite", NULL);
	refused("tunnel = {\n\n mtu = 50;\n};",
		"brouter.conf:3: tunnel.mtu: 50 is below the IPv4 minimum 68", NULL);
	refused("tunnel = {\n mtu = 70000;\n};",
		"brouter.conf:2: tunnel.mtu: 70000 is out of range (0..65495)", NULL);
	refused("tunnel = {\n mtu = \"1460\";\n};",
		"brouter.conf:2: tunnel.mtu: must be an integer, not a string", NULL);
}

#define MAPE_HEAD "tunnel = {\n mode = \"map-e\";\n map-e = {\n" /* lines 1-3 */

static void mape_mistakes(void **state)
{
	(void)state;
	refused(MAPE_HEAD
		"  rule-ipv6 = \"2001:db8::/40\";\n"
		"  rule-ipv4 = \"192.0.2.0/24\";\n"
		"  ea-len = 49;\n"
		"  br = \"2001:db8:ffff::1\";\n };\n};",
		"brouter.conf:6: tunnel.map-e.ea-len: 49 is out of range (0..48)", NULL);
	refused(MAPE_HEAD
		"  rule-ipv6 = \"2001:db8::1/40\";\n"
		"  rule-ipv4 = \"192.0.2.0\";\n"
		"  ea-len = 16;\n"
		"  psid-offset = 16;\n"
		"  format = \"draft\";\n"
		"  colour = 1;\n };\n};",
		/* every error of the group at once, br missing reported on the group */
		"brouter.conf:4: tunnel.map-e.rule-ipv6: '2001:db8::1/40': bits set after /40 (2001:db8::/40?)",
		"brouter.conf:5: tunnel.map-e.rule-ipv4: '192.0.2.0': not an IPv4 prefix (ADDR/LEN)",
		"brouter.conf:7: tunnel.map-e.psid-offset: 16 is out of range (0..15)",
		"brouter.conf:8: tunnel.map-e.format: \"draft\" is not one of \"rfc7597\", \"legacy\"",
		"brouter.conf:9: tunnel.map-e.colour: unknown key",
		"brouter.conf:3: tunnel.map-e: br missing", NULL);
	refused(MAPE_HEAD
		"  rule-ipv6 = \"2001:db8::/40\"; rule-ipv4 = \"192.0.2.0/24\"; ea-len = 30;\n"
		"  br = \"2001:db8:ffff::1\";\n };\n};",
		"brouter.conf:3: tunnel.map-e: rule IPv4 prefix /24 + 30 EA bits = 54 bits", NULL);
	refused(MAPE_HEAD
		"  rule-ipv6 = \"2001:db8::/40\"; rule-ipv4 = \"192.0.2.0/24\"; ea-len = 4;\n"
		"  br = \"2001:db8:ffff::1\";\n };\n};",
		"brouter.conf:3: tunnel.map-e: rule-ipv4 /24 + ea-len 4 = 28 bits: the CE would get an IPv4 prefix /28",
		NULL);
	refused(MAPE_HEAD
		"  rule-ipv6 = \"2001:db8::/40\"; rule-ipv4 = \"192.0.2.0/24\"; ea-len = 16;\n"
		"  psid-offset = 10;\n"
		"  br = \"2001:db8:ffff::1\";\n };\n};",
		"brouter.conf:3: tunnel.map-e: PSID offset 10 + PSID length 8 = 18 bits", NULL);
	refused(MAPE_HEAD
		"  rule-ipv6 = \"2001:db8::/40\"; rule-ipv4 = \"192.0.2.0/24\"; ea-len = 16;\n"
		"  br = \"ff02::1\";\n };\n};",
		"brouter.conf:5: tunnel.map-e.br: \"ff02::1\" is not a global unicast address", NULL);
	refused(MAPE_HEAD
		"  rule-ipv6 = \"2001:db8::/40\"; rule-ipv4 = \"192.0.2.0/24\"; ea-len = 16;\n"
		"  br = \"2001:db8:ffff::1\";\n"
		"  prefix = \"2001:db9:12:3400::/56\";\n };\n};",
		"brouter.conf:6: tunnel.map-e.prefix: end-user prefix 2001:db9:12:3400::/56 is not inside rule IPv6 prefix 2001:db8::/40",
		NULL);
	refused(MAPE_HEAD
		"  rule-ipv6 = \"2001:db8::/40\"; rule-ipv4 = \"192.0.2.0/24\"; ea-len = 16;\n"
		"  br = \"2001:db8:ffff::1\";\n"
		"  prefix = \"2001:db8:1200::/48\";\n };\n};",
		"brouter.conf:6: tunnel.map-e.prefix: end-user prefix /48 is shorter than rule IPv6 prefix /40 + 16 EA bits = /56",
		NULL);
}

static void reserved_port_mistakes(void **state)
{
	(void)state;
	/* PSID 0x34 of 8 bits, offset 6: 1232-1235, 2256-2259, ... */
	refused(MAPE_HEAD
		"  rule-ipv6 = \"2001:db8::/40\"; rule-ipv4 = \"192.0.2.0/24\"; ea-len = 16;\n"
		"  br = \"2001:db8:ffff::1\"; prefix = \"2001:db8:12:3400::/56\";\n"
		"  reserved-ports = (\n"
		"    { proto = \"tcp\"; port = 1232; to = \"192.168.1.10\"; },\n"
		"    { proto = \"tcp\"; port = 1236; to = \"192.168.1.10\"; },\n"
		"    { proto = \"tcp\"; port = 80; to = \"192.168.1.10\"; },\n"
		"    { proto = \"sctp\"; port = 2256; to = \"192.168.1.300\"; to-port = 0; },\n"
		"    { proto = \"tcp\"; port = 1232; to = \"192.168.1.11\"; },\n"
		"    { port = 1233; to = \"192.168.1.10\"; }\n"
		"  );\n };\n};",
		"brouter.conf:9: tunnel.map-e.reserved-ports[2].port: port 80 is below 1024: with psid-offset 6 no port set holds it",
		"brouter.conf:10: tunnel.map-e.reserved-ports[3].proto: \"sctp\" is not one of \"tcp\", \"udp\"",
		"brouter.conf:10: tunnel.map-e.reserved-ports[3].to: \"192.168.1.300\" is not an IPv4 address",
		"brouter.conf:10: tunnel.map-e.reserved-ports[3].to-port: 0 is out of range (1..65535)",
		"brouter.conf:11: tunnel.map-e.reserved-ports[4]: tcp port 1232 is already reserved at line 7",
		"brouter.conf:12: tunnel.map-e.reserved-ports[5]: proto missing", NULL);
	/* checked against the set once the rest is right */
	refused(MAPE_HEAD
		"  rule-ipv6 = \"2001:db8::/40\"; rule-ipv4 = \"192.0.2.0/24\"; ea-len = 16;\n"
		"  br = \"2001:db8:ffff::1\"; prefix = \"2001:db8:12:3400::/56\";\n"
		"  reserved-ports = (\n"
		"    { proto = \"udp\"; port = 1236; to = \"192.168.1.10\"; }\n"
		"  );\n };\n};",
		"brouter.conf:7: tunnel.map-e.reserved-ports[0]: port 1236 is not in this CE's port set (PSID 52 of 8 bits, offset 6)",
		NULL);
	refused(MAPE_HEAD
		"  rule-ipv6 = \"2001:db8::/40\"; rule-ipv4 = \"192.0.2.0/24\"; ea-len = 16;\n"
		"  br = \"2001:db8:ffff::1\";\n"
		"  reserved-ports = { proto = \"udp\"; port = 1236; to = \"192.168.1.10\"; };\n };\n};",
		"brouter.conf:6: tunnel.map-e.reserved-ports: must be a list ( ... ), not a group", NULL);
}

static void dslite_mistakes(void **state)
{
	(void)state;
	refused("tunnel = {\n mode = \"ds-lite\";\n ds-lite = {\n  aftr = \"fe80::1\";\n };\n};",
		"brouter.conf:4: tunnel.ds-lite.aftr: \"fe80::1\" is not a global unicast address",
		NULL);
	refused("tunnel = {\n mode = \"ds-lite\";\n ds-lite = {\n  local = \"2001:db8::zz\";\n };\n};",
		"brouter.conf:3: tunnel.ds-lite: aftr missing",
		"brouter.conf:4: tunnel.ds-lite.local: \"2001:db8::zz\" is not an IPv6 address", NULL);
}

static void ipip6_mistakes(void **state)
{
	(void)state;
	refused("tunnel = {\n ipip6 = { local = \"2001:db8:1::1\"; };\n};",
		"brouter.conf:2: tunnel.ipip6: must be a list ( ... ), not a group", NULL);
	refused("tunnel = {\n mode = \"off\";\n ipip6 = (\n"
		"  { local = \"2001:db8:1::1\"; remote = \"2001:db8:2::1\"; prefixes = [ \"10.20.0.0/8\" ]; },\n"
		"  { local = \"2001:db8:1::1\"; prefixes = [ ]; },\n"
		"  { local = \"2001:db8:1::1\"; remote = \"2001:db8:2::1\"; prefixes = \"10.30.0.0/16\"; },\n"
		"  { local = \"2001:db8:1::1\"; remote = \"2001:db8:3::1\"; prefixes = [ \"10.30.0.0/16\" ]; }\n"
		" );\n};",
		"brouter.conf:4: tunnel.ipip6[0].prefixes[0]: '10.20.0.0/8': bits set after /8 (10.0.0.0/8?)",
		"brouter.conf:5: tunnel.ipip6[1]: remote missing",
		"brouter.conf:5: tunnel.ipip6[1].prefixes: 0 prefixes: give 1 to 16",
		"brouter.conf:6: tunnel.ipip6[2]: same local and remote as ipip6 peer 0",
		"brouter.conf:7: tunnel.ipip6[3].prefixes[0]: 10.30.0.0/16 is already routed to ipip6 peer 2",
		NULL);
	refused("tunnel = {\n mode = \"ds-lite\"; ds-lite = { aftr = \"2001:db8:ffff::2\"; };\n ipip6 = (\n"
		"  { local = \"2001:db8:1::1\"; remote = \"2001:db8:2::1\"; prefixes = [ \"0.0.0.0/0\" ]; }\n"
		" );\n};",
		"brouter.conf:4: tunnel.ipip6[0].prefixes[0]: 0.0.0.0/0 is the ds-lite tunnel's default route",
		NULL);
}

/* Messages name the file a setting was read from. */
static void file_name_in_messages(void **state)
{
	char path[] = "/tmp/brouter-test-tunnel-XXXXXX";
	struct tunnel_cfg c;
	int fd = mkstemp(path);
	config_t cfg;
	char want[128];

	(void)state;
	assert_true(fd >= 0);
	assert_true(write(fd, "\ntunnel = { mtu = 1; };\n", 24) == 24);
	config_init(&cfg);
	assert_int_equal(config_read_file(&cfg, path), CONFIG_TRUE);
	unlink(path);
	/* the messages go after the config text, in the same file */
	assert_int_equal(parse_logged(config_lookup(&cfg, "tunnel"), path, &c,
				      fd, 24),
			 -EINVAL);
	config_destroy(&cfg);
	snprintf(want, sizeof(want), "%s:2: tunnel.mtu: 1 is below", path);
	if (!strstr(errors, want))
		fail_msg("expected \"%s\" in:\n%s", want, errors);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(example_reads_back),
		cmocka_unit_test(defaults_when_absent),
		cmocka_unit_test(vsix_plus_legacy_rule),
		cmocka_unit_test(dslite_and_peers_only),
		cmocka_unit_test(top_level_mistakes),
		cmocka_unit_test(mape_mistakes),
		cmocka_unit_test(reserved_port_mistakes),
		cmocka_unit_test(dslite_mistakes),
		cmocka_unit_test(ipip6_mistakes),
		cmocka_unit_test(file_name_in_messages),
	};

	br_log_level = BR_LOG_DEBUG;
	return cmocka_run_group_tests_name("tunnel config", tests, NULL, NULL);
}
