// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The tunnel config beyond MAP-E and DS-Lite: lw4o6 (read back as the
 * rule without EA bits it runs as, its softwire address per RFC 7597 6),
 * a fixed address over ip4ip6, GRE peers with keys, tunnel.mode "auto"
 * with its provision group (the HB46PP client's defaults and limits), and
 * --tunnel over the file. Each mistake is refused with FILE:LINE:KEY.
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

#define LW_HEAD "tunnel = {\n mode = \"lw4o6\";\n lw4o6 = {\n" /* lines 1-3 */

static void lw4o6_is_a_rule_without_ea_bits(void **state)
{
	struct tunnel_cfg c;
	struct mape_ce ce;
	char err[MAPE_ERR_LEN];

	(void)state;
	assert_int_equal(
		parse(LW_HEAD
		      "  aftr = \"2001:db8:ffff::4\"; ipv4 = \"192.0.2.77\";\n"
		      "  psid-len = 8; psid = 52; prefix = \"2001:db8:12:3400::/56\";\n"
		      "  reserved-ports = ( { proto = \"tcp\"; port = 1232; to = \"192.168.1.2\"; } );\n"
		      " };\n};",
		      &c),
		0);
	assert_int_equal(c.mode, TUNNEL_LW4O6);
	assert_true(c.has_lw4o6);
	assert_rule(&c.rule, "192.0.2.77", 32, 0, 8, 52,
		    TUNNEL_PSID_OFFSET_DEFAULT);
	assert_int_equal(c.rule.format, MAPE_FMT_RFC7597);
	assert_addr6(&c.rule.br, "2001:db8:ffff::4");
	assert_true(c.has_prefix);
	assert_int_equal(c.n_reserved, 1);
	/* RFC 7598 4.6: the bind prefix, subnet 0, RFC 7597 6's identifier */
	assert_int_equal(
		mape_compute(&c.rule, &c.prefix, &ce, err, sizeof(err)), 0);
	assert_addr6(&ce.ipv6, "2001:db8:12:3400:0:c000:24d:34");
	assert_int_equal(mape_port_count(&ce), 252);

	/* no prefix: the first global one of the WAN; the whole address */
	assert_int_equal(
		parse(LW_HEAD
		      "  aftr = \"2001:db8:ffff::4\"; ipv4 = \"192.0.2.77\";\n };\n};",
		      &c),
		0);
	assert_false(c.has_prefix);
	assert_addr6(&c.rule.rule6.addr, "2000::");
	assert_int_equal(c.rule.rule6.len, 3);
	assert_int_equal(c.rule.psid_len, 0);
}

static void lw4o6_mistakes(void **state)
{
	(void)state;
	refused(LW_HEAD "  ipv4 = \"192.0.2.300\";\n  psid-len = 17;\n };\n};",
		"brouter.conf:4: tunnel.lw4o6.ipv4: \"192.0.2.300\" is not an IPv4 address",
		"brouter.conf:5: tunnel.lw4o6.psid-len: 17 is out of range (0..16)",
		"brouter.conf:3: tunnel.lw4o6: aftr missing", NULL);
	refused(LW_HEAD
		"  aftr = \"2001:db8:ffff::4\"; ipv4 = \"192.0.2.77\"; psid-len = 8;\n };\n};",
		"brouter.conf:3: tunnel.lw4o6: psid missing", NULL);
	refused(LW_HEAD
		"  aftr = \"2001:db8:ffff::4\"; ipv4 = \"192.0.2.77\";\n"
		"  psid-len = 4; psid = 16;\n };\n};",
		"brouter.conf:3: tunnel.lw4o6: PSID 16 does not fit in a PSID length of 4 bits",
		NULL);
	refused(LW_HEAD
		"  aftr = \"2001:db8:ffff::4\"; ipv4 = \"192.0.2.77\";\n"
		"  psid-len = 12; psid = 1; psid-offset = 6;\n };\n};",
		"brouter.conf:3: tunnel.lw4o6: PSID offset 6 + PSID length 12 = 18 bits",
		NULL);
	refused(LW_HEAD
		"  aftr = \"2001:db8:ffff::4\"; ipv4 = \"192.0.2.77\";\n"
		"  prefix = \"2001:db8:1::/96\";\n };\n};",
		"brouter.conf:5: tunnel.lw4o6.prefix: /96: give a prefix of at most /64",
		NULL);
	/* the group lw4o6 needs, and a map-e group checked but left out */
	refused("tunnel = {\n mode = \"lw4o6\";\n};",
		"brouter.conf:2: tunnel.mode: \"lw4o6\" needs a lw4o6 = { ... } group",
		NULL);
	refused(LW_HEAD
		"  aftr = \"2001:db8:ffff::4\"; ipv4 = \"192.0.2.77\";\n };\n"
		" map-e = { rule-ipv6 = \"2001:db8::/40\"; ea-len = 16; };\n};",
		"brouter.conf:6: tunnel.map-e: rule-ipv4 missing", NULL);
}

static void lw4o6_beside_a_map_e_group(void **state)
{
	struct tunnel_cfg c;

	(void)state;
	assert_int_equal(
		parse(LW_HEAD
		      "  aftr = \"2001:db8:ffff::4\"; ipv4 = \"192.0.2.77\";\n };\n"
		      " map-e = { rule-ipv6 = \"2001:db8::/40\"; rule-ipv4 = \"192.0.2.0/24\";\n"
		      "  ea-len = 16; br = \"2001:db8:ffff::1\"; };\n};",
		      &c),
		0);
	/* the rule in force is lw4o6's */
	assert_int_equal(c.rule.ea_len, 0);
	assert_addr6(&c.rule.br, "2001:db8:ffff::4");
	assert_false(c.has_mape);
}

#define FIX_HEAD "tunnel = {\n mode = \"ipip\";\n ipip = {\n" /* lines 1-3 */

static void fixed_address_in_a_block(void **state)
{
	static const char *const given[][2] = {
		{ "203.0.113.8/29",
		  "203.0.113.9" }, /* a block: its first host */
		{ "203.0.113.13/29",
		  "203.0.113.13" }, /* host bits: that address */
		{ "203.0.113.7", "203.0.113.7" },
		{ "203.0.113.6/31", "203.0.113.6" }, /* RFC 3021 */
	};
	char text[512];
	struct tunnel_cfg c;
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(given) / sizeof(given[0]); i++) {
		snprintf(
			text, sizeof(text),
			FIX_HEAD
			"  local = \"2001:db8:1::7\"; remote = \"2001:db8:7::1\";\n"
			"  ipv4 = \"%s\";\n };\n};",
			given[i][0]);
		assert_int_equal(parse(text, &c), 0);
		assert_int_equal(c.mode, TUNNEL_IPIP);
		assert_true(c.has_fixed);
		assert_addr4(c.fixed.ipv4, given[i][1]);
		assert_addr6(&c.fixed.local, "2001:db8:1::7");
		assert_addr6(&c.fixed.remote, "2001:db8:7::1");
	}
	refused(FIX_HEAD
		"  local = \"fe80::1\";\n  ipv4 = \"224.0.0.1\";\n };\n};",
		"brouter.conf:4: tunnel.ipip.local: \"fe80::1\" is not a global unicast address",
		"brouter.conf:5: tunnel.ipip.ipv4: 224.0.0.1 is not a unicast address",
		"brouter.conf:3: tunnel.ipip: remote missing", NULL);
	refused(FIX_HEAD
		"  local = \"2001:db8:1::7\"; remote = \"2001:db8:7::1\";\n"
		"  ipv4 = \"203.0.113/29\";\n };\n};",
		"brouter.conf:5: tunnel.ipip.ipv4: \"203.0.113/29\" is not an IPv4 address or ADDRESS/LENGTH",
		NULL);
}

#define PEER_HEAD "tunnel = {\n mode = \"off\";\n ipip6 = (\n" /* lines 1-3 */

static void gre_peers(void **state)
{
	struct tunnel_cfg c;

	(void)state;
	assert_int_equal(
		parse(PEER_HEAD
		      "  { local = \"2001:db8:1::1\"; remote = \"2001:db8:2::1\"; prefixes = \"10.20.0.0/16\"; encap = \"gre\"; },\n"
		      "  { local = \"2001:db8:1::1\"; remote = \"2001:db8:3::1\"; prefixes = \"10.30.0.0/16\"; encap = \"gre\"; key = 0xffffffff; },\n"
		      "  { local = \"2001:db8:1::1\"; remote = \"2001:db8:4::1\"; prefixes = \"10.40.0.0/16\"; encap = \"ipip\"; }\n"
		      " );\n};",
		      &c),
		0);
	assert_true(c.peers[0].gre);
	assert_false(c.peers[0].has_key);
	assert_int_equal(tunnel_peer_overhead(&c.peers[0]), 4);
	assert_true(c.peers[1].has_key);
	assert_int_equal(c.peers[1].key, 0xffffffffU);
	assert_int_equal(tunnel_peer_overhead(&c.peers[1]), 8);
	assert_false(c.peers[2].gre);
	assert_int_equal(tunnel_peer_overhead(&c.peers[2]), 0);
	refused(PEER_HEAD
		"  { local = \"2001:db8:1::1\"; remote = \"2001:db8:2::1\"; prefixes = \"10.20.0.0/16\";\n"
		"    key = 5; },\n"
		"  { local = \"2001:db8:1::1\"; remote = \"2001:db8:3::1\"; prefixes = \"10.30.0.0/16\";\n"
		"    encap = \"gretap\"; key = -1; }\n"
		" );\n};",
		"brouter.conf:5: tunnel.ipip6[0].key: a key needs encap = \"gre\" (RFC 2890)",
		"brouter.conf:7: tunnel.ipip6[1].encap: \"gretap\" is not one of \"ipip\", \"gre\"",
		"brouter.conf:7: tunnel.ipip6[1].key: -1 is out of range (0..4294967295)",
		NULL);
}

static void auto_with_provision_defaults(void **state)
{
	struct tunnel_cfg c;
	const struct prov_cfg *p = &parsed.prov;

	(void)state;
	assert_int_equal(
		parse("tunnel = { mode = \"auto\"; mtu = 1454;\n"
		      " map-e = { rule-ipv6 = \"2001:db8::/40\"; rule-ipv4 = \"192.0.2.0/24\";\n"
		      "  ea-len = 16; br = \"2001:db8:ffff::1\"; }; };",
		      &c),
		0);
	assert_int_equal(c.mode, TUNNEL_AUTO);
	assert_true(tunnel_cfg_active(&c));
	assert_int_equal(c.mtu, 1454);
	/* provisioning gives the rule: a map-e group is checked, not used */
	assert_false(c.has_mape);
	assert_int_equal(c.rule.ea_len, 0);
	/* 3.3: an OUI with a code, the product, the version in _ */
	assert_string_equal(p->vendorid, "acde48-brouter");
	assert_string_equal(p->product, "brouter");
	assert_string_equal(p->version, "0_1_0");
	assert_string_equal(p->state_dir, "/var/lib/brouter");
	assert_string_equal(p->url, "");
	assert_int_equal(p->methods, HB_METHODS_DEFAULT);
	assert_int_equal(p->timeout, HB_TIMEOUT_DEFAULT);
}

#define PROV_HEAD \
	"tunnel = {\n mode = \"auto\";\n provision = {\n" /* lines 1-3 */

static void provision_settings(void **state)
{
	struct tunnel_cfg c;
	const struct prov_cfg *p = &parsed.prov;

	(void)state;
	assert_int_equal(
		parse(PROV_HEAD
		      "  vendorid = \"0012ab-home_gw\"; product = \"BR-1\"; version = \"2_0\";\n"
		      "  user = \"u-1\"; pass = \"p_2\"; server = \"prov.example.jp\";\n"
		      "  url = \"https://prov.example.jp/config\"; verify = false;\n"
		      "  cafile = \"/dev/null\"; state-dir = \"/run/hb\";\n"
		      "  methods = [ \"dslite\", \"lw4o6\" ]; timeout = 5;\n"
		      " };\n};",
		      &c),
		0);
	assert_string_equal(p->vendorid, "0012ab-home_gw");
	assert_string_equal(p->user, "u-1");
	assert_string_equal(p->server, "prov.example.jp");
	assert_string_equal(p->url, "https://prov.example.jp/config");
	assert_false(p->verify);
	assert_string_equal(p->cafile, "/dev/null");
	assert_string_equal(p->state_dir, "/run/hb");
	assert_int_equal(p->methods, HB_BIT(HB_DSLITE) | HB_BIT(HB_LW4O6));
	assert_int_equal(p->timeout, 5);
}

static void provision_mistakes(void **state)
{
	(void)state;
	refused(PROV_HEAD "  vendorid = \"brouter\";\n };\n};",
		"brouter.conf:3: tunnel.provision: vendorid: 6 hex digits of the OUI",
		NULL);
	refused(PROV_HEAD "  version = \"0.1.0\";\n };\n};",
		"brouter.conf:3: tunnel.provision: version: 1 to 32 digits and _",
		NULL);
	refused(PROV_HEAD "  user = \"u\";\n };\n};",
		"brouter.conf:3: tunnel.provision: user and pass: give both or neither",
		NULL);
	refused(PROV_HEAD
		"  url = \"ftp://x/\";\n  methods = [ \"464xlat\" ];\n"
		"  timeout = 0;\n  state-dir = \"var/lib\";\n"
		"  cafile = \"/nonexistent/ca.pem\";\n  colour = 1;\n };\n};",
		"brouter.conf:4: tunnel.provision.url: \"ftp://x/\": give an http:// or https:// URL",
		"brouter.conf:5: tunnel.provision.methods[0]: \"464xlat\" is not one of",
		"brouter.conf:6: tunnel.provision.timeout: 0 is out of range (1..600)",
		"brouter.conf:7: tunnel.provision.state-dir: \"var/lib\": give an absolute path",
		"brouter.conf:8: tunnel.provision.cafile: /nonexistent/ca.pem: No such file or directory",
		"brouter.conf:9: tunnel.provision.colour: unknown key", NULL);
	refused(PROV_HEAD
		"  product = \"brouter-with-a-name-far-too-long-for-3.3\";\n };\n};",
		"brouter.conf:4: tunnel.provision.product: longer than 32 characters",
		NULL);
	refused("tunnel = {\n mode = \"auto\";\n ipip6 = ( { local = \"2001:db8:1::1\"; remote = \"2001:db8:2::1\";\n"
		"  prefixes = \"0.0.0.0/0\"; } );\n};",
		"brouter.conf:4: tunnel.ipip6[0].prefixes: 0.0.0.0/0 is the auto tunnel's default route",
		NULL);
}

/* A config file @text, then the command line @argv laid over it. */
static int build(const char *text, char **argv, int argc, struct br_config *out)
{
	char path[] = "/tmp/brouter-test-auto-XXXXXX";
	int fd = mkstemp(path), ret;
	struct br_options cli;

	assert_true(fd >= 0);
	assert_true(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(options_parse_args(&cli, argc, argv), 0);
	strcpy(cli.config_path, path);
	cli.given |= BR_GIVEN_CONFIG;
	ret = config_build(&cli, out);
	unlink(path);
	return ret;
}

static void tunnel_option_over_the_file(void **state)
{
	char *auto_argv[] = { "brouterd", "--tunnel", "auto", "lan0", "wan0" };
	char *off_argv[] = { "brouterd", "--tunnel=off", "lan0", "wan0" };
	const char *file =
		"tunnel = { mode = \"ds-lite\"; ds-lite = { aftr = \"2001:db8::2\"; };\n"
		" ipip6 = ( { local = \"2001:db8:1::1\"; remote = \"2001:db8:2::1\"; prefixes = \"10.0.0.0/8\"; } ); };\n";
	struct br_config c;

	(void)state;
	assert_int_equal(build(file, auto_argv, 5, &c), 0);
	assert_int_equal(c.tunnel.mode, TUNNEL_AUTO);
	assert_int_equal(c.tunnel.n_peers,
			 1); /* the file's peers run beside it */
	config_free(&c);
	assert_int_equal(build(file, off_argv, 4, &c), 0);
	assert_false(tunnel_cfg_active(&c.tunnel));
	config_free(&c);
	/* a peer holding the default route leaves none for provisioning */
	assert_int_equal(
		build("tunnel = { mode = \"off\"; ipip6 = ( { local = \"2001:db8:1::1\";\n"
		      " remote = \"2001:db8:2::1\"; prefixes = \"0.0.0.0/0\"; } ); };\n",
		      auto_argv, 5, &c),
		-EINVAL);
}

static void tunnel_option_values(void **state)
{
	char *bad[] = { "brouterd", "--tunnel", "map-e", "lan0", "wan0" };
	struct br_options o;

	(void)state;
	assert_int_equal(options_parse_args(&o, 5, bad), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lw4o6_is_a_rule_without_ea_bits),
		cmocka_unit_test(lw4o6_mistakes),
		cmocka_unit_test(lw4o6_beside_a_map_e_group),
		cmocka_unit_test(fixed_address_in_a_block),
		cmocka_unit_test(gre_peers),
		cmocka_unit_test(auto_with_provision_defaults),
		cmocka_unit_test(provision_settings),
		cmocka_unit_test(provision_mistakes),
		cmocka_unit_test(tunnel_option_over_the_file),
		cmocka_unit_test(tunnel_option_values),
	};

	br_log_level = BR_LOG_DEBUG;
	return cmocka_run_group_tests_name("tunnel config beyond MAP-E", tests,
					   NULL, NULL);
}
