// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * HB46PP answers as brouter's tunnel settings (adapt.c): each method's
 * parameters in struct tunnel_cfg, lw4o6 as a rule without EA bits, a
 * fixed block's address.
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
#include <arpa/inet.h>

#include "config/tunnel.h"
#include "provision/hb46pp.h"
#include "provision_test.h"

static void adapter(void **state)
{
	struct hb_answer *a = malloc(sizeof(*a));
	struct tunnel_cfg *c = calloc(1, sizeof(*c));
	struct prefix6 wan = p6("2001:db8:1:2340::/60");
	char err[HB_ERR_LEN];

	(void)state;
	parse_ok(spec_example, 0, a);
	c->mtu = 1400;
	assert_int_equal(hb_tunnel_cfg(a, &wan, c, err, sizeof(err)), 0);
	assert_int_equal(c->mode, TUNNEL_MAPE);
	assert_true(c->has_mape);
	assert_int_equal(c->rule.format, MAPE_FMT_LEGACY);
	assert_int_equal(c->rule.rule6.len, 52);
	assert_int_equal(c->rule.rule4.len, 24);
	assert_int_equal(c->rule.ea_len, 12);
	assert_int_equal(c->rule.psid_offset, 4);
	assert_true(c->rule.has_br);
	assert_addr6(&c->rule.br, "2001:db8:1::1");
	assert_int_equal(c->mtu, 1400); /* not provisioning's to set */
	a->mape.version = HB_MAPE_RFC7597;
	assert_int_equal(hb_tunnel_cfg(a, &wan, c, err, sizeof(err)), 0);
	assert_int_equal(c->rule.format, MAPE_FMT_RFC7597);
	/* outside the rule: DS-Lite, once its AFTR name resolved */
	wan = p6("2001:db8:9::/56");
	assert_int_equal(hb_tunnel_cfg(a, &wan, c, err, sizeof(err)), -ENOENT);
	a->dslite.has_addr = true;
	inet_pton(AF_INET6, "2001:db8:2::1", &a->dslite.addr);
	assert_int_equal(hb_tunnel_cfg(a, &wan, c, err, sizeof(err)), 0);
	assert_int_equal(c->mode, TUNNEL_DSLITE);
	assert_false(c->has_mape);
	assert_addr6(&c->aftr, "2001:db8:2::1");
	parse_ok("{'order':[]}", 0, a);
	assert_int_equal(hb_tunnel_cfg(a, &wan, c, err, sizeof(err)), 0);
	assert_int_equal(c->mode, TUNNEL_OFF);
	assert_false(c->has_dslite);
	/* ipip: the fixed address (a block's first host), its tunnel */
	parse_ok(
		"{'order':['ipip'],'ipip':[{'ipv6_local':'2001:db8::7','ipv6_remote':'2001:db8::1','ipv4':'192.0.2.8/29'}]}",
		ALL, a);
	assert_int_equal(hb_tunnel_cfg(a, &wan, c, err, sizeof(err)), 0);
	assert_int_equal(c->mode, TUNNEL_IPIP);
	assert_true(c->has_fixed);
	assert_addr6(&c->fixed.local, "2001:db8::7");
	assert_addr6(&c->fixed.remote, "2001:db8::1");
	assert_int_equal(ntohl(c->fixed.ipv4.s_addr), 0xc0000209);
	assert_int_equal(c->fixed.plen, 29);
	/* host bits given: that address */
	parse_ok(
		"{'order':['ipip'],'ipip':[{'ipv6_local':'2001:db8::7','ipv6_remote':'2001:db8::1','ipv4':'192.0.2.13/29'}]}",
		ALL, a);
	assert_int_equal(hb_tunnel_cfg(a, &wan, c, err, sizeof(err)), 0);
	assert_int_equal(ntohl(c->fixed.ipv4.s_addr), 0xc000020d);
	free(c);
	free(a);
}

/* lw4o6 runs as a rule of no EA bits: the address /32, the PSID given. */
static void adapter_lw4o6(void **state)
{
	struct hb_answer *a = malloc(sizeof(*a));
	struct tunnel_cfg *c = calloc(1, sizeof(*c));
	struct prefix6 wan = p6("2001:db8:3:100::/64");
	char err[HB_ERR_LEN];
	struct mape_ce ce;

	(void)state;
	parse_ok(
		"{'order':['lw4o6'],'lw4o6':{'lwaftr':'2001:db8:3::1','ipv6':'2001:db8:3:100::/56',"
		"'ipv4':'203.0.113.16','psid':3,'psid_length':8,'psid_offset':6}}",
		ALL, a);
	assert_int_equal(hb_tunnel_cfg(a, &wan, c, err, sizeof(err)), 0);
	assert_int_equal(c->mode, TUNNEL_LW4O6);
	assert_true(c->has_lw4o6);
	assert_true(c->has_prefix);
	assert_int_equal(c->prefix.len, 56);
	assert_int_equal(c->rule.ea_len, 0);
	assert_int_equal(c->rule.rule4.len, 32);
	assert_addr6(&c->rule.br, "2001:db8:3::1");
	/* RFC 7597 6: prefix, subnet 0, 0 : 203.0.113.16 : PSID 3 */
	assert_int_equal(
		mape_compute(&c->rule, &c->prefix, &ce, err, sizeof(err)), 0);
	assert_addr6(&ce.ipv6, "2001:db8:3:100:0:cb00:7110:3");
	assert_int_equal(ntohl(ce.ipv4.s_addr), 0xcb007110);
	assert_int_equal(ce.psid, 3);
	assert_int_equal(ce.psid_len, 8);
	/* a prefix longer than /64 and not the address itself: refused */
	parse_ok(
		"{'order':['lw4o6'],'lw4o6':{'lwaftr':'2001:db8:3::1','ipv6':'2001:db8:3:100::/96',"
		"'ipv4':'203.0.113.16','psid':3,'psid_length':8,'psid_offset':6}}",
		ALL, a);
	assert_int_equal(hb_tunnel_cfg(a, &wan, c, err, sizeof(err)), -EINVAL);
	free(c);
	free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(adapter),
		cmocka_unit_test(adapter_lw4o6),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
