// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * HB46PP client, pure parts: the TXT record, what the request sends (and
 * the 3.3 rule on credentials), the answer of 3.4 with each method and
 * each refusal, MAP-E rule selection by the WAN prefix (the adapter to
 * struct tunnel_cfg: test_provision_adapt.c).
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

/* ---- TXT record (3.1) ---- */

static void txt_ok(void **state)
{
	struct hb_txt t;
	char err[HB_ERR_LEN];

	(void)state;
	assert_int_equal(hb_txt_parse("v=v6mig-1 url=https://vne.example.jp/rule.cgi t=b",
				      &t, err, sizeof(err)), 0);
	assert_string_equal(t.url, "https://vne.example.jp/rule.cgi");
	assert_true(t.verify);
	assert_int_equal(hb_txt_parse("v=v6mig-1  t=a\turl=http://[2001:db8::1]:8080/c?x=1 later=ignored",
				      &t, err, sizeof(err)), 0);
	assert_string_equal(t.url, "http://[2001:db8::1]:8080/c?x=1");
	assert_false(t.verify);
	assert_int_equal(hb_txt_parse("v=v6mig-1 url=https://a.example/ t=a",
				      &t, err, sizeof(err)), 0);
	assert_false(t.verify);
}

static void txt_bad(void **state)
{
	static const struct {
		const char *txt;
		int ret;
		const char *what;
	} cases[] = {
		{ "v=v6mig-2 url=https://a.example/ t=b", -EPROTONOSUPPORT, "v6mig-2" },
		{ "v=spf1 -all", -EINVAL, "only v=v6mig-1" },
		{ "url=https://a.example/ v=v6mig-1 t=b", -EINVAL, "start with v=" },
		{ "", -EINVAL, "start with v=" },
		{ "v=v6mig-1 t=b", -EINVAL, "no url=" },
		{ "v=v6mig-1 url= t=b", -EINVAL, "url=" },
		{ "v=v6mig-1 url=https://a.example/", -EINVAL, "no t=" },
		{ "v=v6mig-1 url=https://a.example/ t=c", -EINVAL, "t=c" },
		{ "v=v6mig-1 url=https://a.example/ t=a t=b", -EINVAL, "once" },
		{ "v=v6mig-1 url=https://a/ url=https://b/ t=a", -EINVAL, "twice" },
		{ "v=v6mig-1 url=http://a.example/ t=b", -EINVAL, "http needs t=a" },
		{ "v=v6mig-1 url=ftp://a.example/ t=a", -EINVAL, "not an http" },
	};
	char err[HB_ERR_LEN];
	struct hb_txt t;
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = 0;
		if (hb_txt_parse(cases[i].txt, &t, err, sizeof(err)) != cases[i].ret ||
		    !strstr(err, cases[i].what))
			fail_msg("\"%s\": got \"%s\"", cases[i].txt, err);
	}
}

/* ---- the request (3.3) ---- */

static const struct hb_conf conf = {
	.vendorid = "acde48-v6pc_swg_hgw",
	.product = "V6MIG-ROUTER",
	.version = "1_32",
};

static void conf_check(void **state)
{
	struct hb_conf c = conf;
	char err[HB_ERR_LEN];

	(void)state;
	assert_int_equal(hb_conf_check(&c, err, sizeof(err)), 0);
	c.vendorid = "acde48";
	assert_int_equal(hb_conf_check(&c, err, sizeof(err)), 0);
	c.vendorid = "acde4";
	assert_int_equal(hb_conf_check(&c, err, sizeof(err)), -EINVAL);
	c.vendorid = "acde48-abcdefghijklmnopqrstuvwxy"; /* 25 after the - */
	assert_int_equal(hb_conf_check(&c, err, sizeof(err)), -EINVAL);
	c.vendorid = "acde48-a.b";
	assert_int_equal(hb_conf_check(&c, err, sizeof(err)), -EINVAL);
	c = conf;
	c.version = "1.32";
	assert_int_equal(hb_conf_check(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "_ stands for ."));
	c = conf;
	c.product = "V6MIG ROUTER";
	assert_int_equal(hb_conf_check(&c, err, sizeof(err)), -EINVAL);
	c = conf;
	c.user = "u";
	assert_int_equal(hb_conf_check(&c, err, sizeof(err)), -EINVAL);
	c.pass = "p&";
	assert_int_equal(hb_conf_check(&c, err, sizeof(err)), -EINVAL);
	c.pass = "p-1";
	c.server = "vne.example.jp";
	assert_int_equal(hb_conf_check(&c, err, sizeof(err)), 0);
}

static char *url_of(const struct hb_conf *c, const char *base, bool verify,
		    const char *token)
{
	char err[HB_ERR_LEN];
	char *u;

	if (hb_request_url(c, base, verify, token, &u, err, sizeof(err)))
		fail_msg("%s: %s", base, err);
	return u;
}

static void request_params(void **state)
{
	struct hb_conf c = conf;
	char err[HB_ERR_LEN], cap[64], *u;

	(void)state;
	u = url_of(&c, "https://vne.example.jp/rule.cgi", true, "");
	assert_string_equal(
		u,
		"https://vne.example.jp/rule.cgi?vendorid=acde48-v6pc_swg_hgw&product=V6MIG-ROUTER&version=1_32&capability=map_e,hubspoke,dslite,ipip,lw4o6");
	free(u);
	/* values are escaped: nothing in them can add a parameter */
	c.product = "a&b=c d";
	u = url_of(&c, "http://[2001:db8::1]:8080/c?x=1", false, TOKEN);
	assert_non_null(strstr(u, "http://[2001:db8::1]:8080/c?x=1&vendorid="));
	assert_non_null(strstr(u, "&product=a%26b%3"));
	assert_null(strstr(u, "b=c"));
	assert_non_null(strstr(u, "&token=" TOKEN));
	free(u);
	assert_int_equal(hb_request_url(&c, "ftp://a/", false, "", &u, err,
					sizeof(err)), -EINVAL);
	assert_int_equal(hb_capability(ALL, cap, sizeof(cap)), 0);
	assert_string_equal(cap, "map_e,hubspoke,dslite,ipip,lw4o6");
	assert_int_equal(hb_capability(HB_BIT(HB_DSLITE), cap, sizeof(cap)), 0);
	assert_string_equal(cap, "dslite");
}

static bool sends_credentials(const struct hb_conf *c, const char *base,
			      bool verify)
{
	char *u = url_of(c, base, verify, "");
	bool user = strstr(u, "&user=u1") != NULL;
	bool pass = strstr(u, "&pass=p1") != NULL;

	free(u);
	assert_int_equal(user, pass); /* 3.3: pass with user, never alone */
	assert_int_equal(user, hb_may_send_credentials(c, base, verify));
	return user;
}

/*
 * 3.3: with a server name configured, user/pass go only over https with a
 * verified certificate (t=b) to that host; without one, to any server.
 */
static void request_credentials(void **state)
{
	struct hb_conf c = conf;

	(void)state;
	assert_false(sends_credentials(&c, "https://vne.example.jp/", true));
	c.user = "u1";
	c.pass = "p1";
	assert_true(sends_credentials(&c, "http://vne.example.jp/", false));
	assert_true(sends_credentials(&c, "https://other.example/", false));
	c.server = "vne.example.jp";
	assert_true(sends_credentials(&c, "https://vne.example.jp/rule.cgi", true));
	assert_true(sends_credentials(&c, "https://VNE.Example.JP.:8443/x", true));
	assert_false(sends_credentials(&c, "https://vne.example.jp/", false));
	assert_false(sends_credentials(&c, "http://vne.example.jp/", false));
	assert_false(sends_credentials(&c, "https://other.example/", true));
	assert_false(sends_credentials(&c, "https://vne.example.jp.evil.example/", true));
}

/* A 307 target repeating our query gets ours once, and its own kept. */
static void request_redirect_query(void **state)
{
	struct hb_conf c = conf;
	char *u;

	(void)state;
	c.user = "u1";
	c.pass = "p1";
	c.server = "vne.example.jp";
	u = url_of(&c, "https://other.example/c?vendorid=x&pass=p1&user=u1&sid=7&token=old",
		   true, TOKEN);
	assert_string_equal(
		u,
		"https://other.example/c?sid=7&vendorid=acde48-v6pc_swg_hgw&product=V6MIG-ROUTER&version=1_32&capability=map_e,hubspoke,dslite,ipip,lw4o6&token=" TOKEN);
	free(u);
}

/* ---- the answer (3.4) ---- */

static void answer_spec_example(void **state)
{
	struct hb_answer *a = malloc(sizeof(*a));

	(void)state;
	parse_ok(spec_example, 0, a);
	assert_true(a->has_ttl);
	assert_int_equal(a->ttl, 86400);
	assert_string_equal(a->token, TOKEN);
	assert_int_equal(a->auth, HB_AUTH_OK);
	assert_string_equal(a->enabler_name, "A VNE");
	/* 464xlat is not brouter's: skipped */
	assert_int_equal(a->n_order, 2);
	assert_int_equal(a->order[0], HB_MAPE);
	assert_int_equal(a->order[1], HB_DSLITE);
	assert_int_equal(a->mape.version, HB_MAPE_DRAFT03);
	assert_true(a->mape.mesh);
	assert_addr6(&a->mape.br, "2001:db8:1::1");
	assert_int_equal(a->mape.n_rules, 1);
	assert_addr6(&a->mape.rules[0].ipv6.addr, "2001:db8:1:2000::");
	assert_int_equal(a->mape.rules[0].ipv6.len, 52);
	assert_int_equal(ntohl(a->mape.rules[0].ipv4.addr.s_addr), 0xcb007100);
	assert_int_equal(a->mape.rules[0].ipv4.len, 24);
	assert_int_equal(a->mape.rules[0].ea_len, 12);
	assert_int_equal(a->mape.rules[0].psid_offset, 4);
	assert_string_equal(a->dslite.name, "aftr.example.net");
	assert_false(a->dslite.has_addr);
	free(a);
}

static void answer_mape_v1_dslite_addr(void **state)
{
	struct hb_answer *a = malloc(sizeof(*a));

	(void)state;
	parse_ok("{'order':['dslite','map_e'],'dslite':{'aftr':'2001:db8:2::1'},"
		 "'map_e':{'version':1,'mesh':0,'br':'2001:db8:1::1','rules':["
		 MAPE_RULE("2001:db8:1::/48", "192.0.2.0/24", 16, 6) "]}}",
		 0, a);
	assert_false(a->has_ttl);
	assert_string_equal(a->token, "");
	assert_int_equal(a->n_order, 2);
	assert_int_equal(a->order[0], HB_DSLITE);
	assert_string_equal(a->dslite.name, "");
	assert_true(a->dslite.has_addr);
	assert_addr6(&a->dslite.addr, "2001:db8:2::1");
	assert_int_equal(a->mape.version, HB_MAPE_RFC7597);
	assert_false(a->mape.mesh);
	free(a);
}

static void answer_ipip_lw4o6(void **state)
{
	struct hb_answer *a = malloc(sizeof(*a));

	(void)state;
	parse_ok("{'order':['ipip','lw4o6'],'ipip':[{'ipv6_local':'2001:db8:7:100::7',"
		 "'ipv6_remote':'2001:db8:7::1','ipv4':'203.0.113.5/29'}],"
		 "'lw4o6':{'lwaftr':'lwaftr.example.net','ipv6':'2001:db8:3:100::/56',"
		 "'ipv4':'203.0.113.16','psid':3,'psid_length':8,'psid_offset':6}}",
		 ALL, a);
	assert_int_equal(a->n_order, 2);
	assert_int_equal(a->n_ipip, 1);
	assert_addr6(&a->ipip[0].local, "2001:db8:7:100::7");
	assert_addr6(&a->ipip[0].remote, "2001:db8:7::1");
	assert_int_equal(ntohl(a->ipip[0].ipv4.addr.s_addr), 0xcb007105);
	assert_int_equal(a->ipip[0].ipv4.len, 29);
	assert_string_equal(a->lw4o6.aftr.name, "lwaftr.example.net");
	assert_int_equal(a->lw4o6.ipv6.len, 56);
	assert_int_equal(ntohl(a->lw4o6.ipv4.s_addr), 0xcb007110);
	assert_int_equal(a->lw4o6.psid, 3);
	assert_int_equal(a->lw4o6.psid_len, 8);
	assert_int_equal(a->lw4o6.psid_offset, 6);
	/* not asked for: skipped, and their blocks not even read */
	parse_ok("{'order':['ipip','lw4o6','map_t'],'ipip':'junk'}",
		 HB_BIT(HB_MAPE) | HB_BIT(HB_DSLITE), a);
	assert_int_equal(a->n_order, 0);
	free(a);
}

static void answer_order(void **state)
{
	struct hb_answer *a = malloc(sizeof(*a));

	(void)state;
	parse_ok("{'order':['map_t','future_x','dslite','dslite'],'dslite':{'aftr':'2001:db8::1'}}",
		 0, a);
	assert_int_equal(a->n_order, 1);
	assert_int_equal(a->order[0], HB_DSLITE);
	parse_ok("{'order':[]}", 0, a);
	assert_int_equal(a->n_order, 0);
	parse_ok("{'order':[], 'ttl':604800}", 0, a);
	assert_int_equal(a->ttl, 604800);
	free(a);
}

static void answer_refused(void **state)
{
	(void)state;
	parse_bad("{'order':[], 'ttl':604801}", 0, "ttl");
	parse_bad("{'order':[], 'ttl':-1}", 0, "ttl");
	parse_bad("{'order':[], 'ttl':'3600'}", 0, "ttl: not an integer");
	parse_bad("{'order':[]", 0, "malformed JSON");
	parse_bad("[]", 0, "not a JSON object");
	parse_bad("{'order':[], 'order':[]}", 0, "malformed JSON");
	parse_bad("{'ttl':60}", 0, "order: missing");
	parse_bad("{'order':'map_e'}", 0, "order: not an array");
	parse_bad("{'order':[1]}", 0, "order[0]");
	parse_bad("{'order':['map_e']}", 0, "no map_e");
	parse_bad("{'order':[],'token':'ABC'}", 0, "token");
	parse_bad("{'order':[],'token':'" TOKEN "0'}", 0, "token");
	parse_bad("{'order':[],'auth':'maybe'}", 0, "auth");
	parse_bad("{'order':['dslite'],'dslite':{}}", 0, "dslite.aftr: missing");
	parse_bad("{'order':['dslite'],'dslite':{'aftr':'2001:db8::zz'}}", 0, "dslite.aftr");
	parse_bad("{'order':['dslite'],'dslite':{'aftr':'ff02::1'}}", 0, "unicast");
	parse_bad("{'order':['dslite'],'dslite':{'aftr':'-bad-.example'}}", 0, "host name");
	parse_bad("{'order':['map_e'],'map_e':{'br':'fe80::1','rules':["
		  MAPE_RULE("2001:db8::/48", "192.0.2.0/24", 16, 6) "]}}", 0, "map_e.br");
	parse_bad("{'order':['map_e'],'map_e':{'br':'2001:db8::1','rules':["
		  MAPE_RULE("2001:db8::1/48", "192.0.2.0/24", 16, 6) "]}}", 0,
		  "map_e.rules[0].ipv6");
	parse_bad("{'order':['map_e'],'map_e':{'br':'2001:db8::1','rules':["
		  MAPE_RULE("2001:db8::/48", "192.0.2.0/33", 16, 6) "]}}", 0,
		  "map_e.rules[0].ipv4");
	parse_bad("{'order':['map_e'],'map_e':{'br':'2001:db8::1','rules':["
		  MAPE_RULE("2001:db8::/48", "192.0.2.0/24", 49, 6) "]}}", 0, "ea_length");
	parse_bad("{'order':['map_e'],'map_e':{'br':'2001:db8::1','rules':["
		  MAPE_RULE("2001:db8::/48", "192.0.2.0/24", 20, 6) "]}}", 0, "psid_offset 6");
	parse_bad("{'order':['map_e'],'map_e':{'version':2,'br':'2001:db8::1','rules':[]}}",
		  0, "version");
	parse_bad("{'order':['map_e'],'map_e':{'br':'2001:db8::1','rules':[]}}", 0, "0 rules");
	parse_bad("{'order':['ipip'],'ipip':{'ipv4':'192.0.2.1/32'}}", ALL, "ipip");
	parse_bad("{'order':['lw4o6'],'lw4o6':{'lwaftr':'2001:db8::1','ipv6':'2001:db8::/56',"
		  "'ipv4':'192.0.2.1','psid':256,'psid_length':8,'psid_offset':6}}", ALL,
		  "psid 256");
}

/* 3.4: 256 rules MUST be accepted; more are refused. */
static char *rules_json(unsigned int n)
{
	size_t len = 128 + n * 128, off;
	char *s = malloc(len);
	unsigned int i;

	assert_non_null(s);
	off = snprintf(s, len, "{'order':['map_e'],'map_e':{'br':'2001:db8::1','rules':[");
	for (i = 0; i < n; i++)
		off += snprintf(s + off, len - off,
				"%s{'ipv6':'2001:db8:%x::/48','ipv4':'10.%u.%u.0/24','ea_length':16,'psid_offset':6}",
				i ? "," : "", i, i / 256, i % 256);
	snprintf(s + off, len - off, "]}}");
	return s;
}

static void answer_rule_count(void **state)
{
	struct hb_answer *a = malloc(sizeof(*a));
	char *s = rules_json(256);

	(void)state;
	parse_ok(s, 0, a);
	assert_int_equal(a->mape.n_rules, 256);
	assert_int_equal(a->mape.rules[255].ipv6.addr.s6_addr[5], 0xff);
	free(s);
	s = rules_json(257);
	parse_bad(s, 0, "257 rules");
	free(s);
	free(a);
}

static void rule_selection(void **state)
{
	struct hb_answer *a = malloc(sizeof(*a));
	struct prefix6 wan;
	char err[HB_ERR_LEN];

	(void)state;
	parse_ok("{'order':['map_e','dslite'],'dslite':{'aftr':'2001:db8::1'},"
		 "'map_e':{'br':'2001:db8::1','rules':["
		 MAPE_RULE("240b:10::/31", "106.72.0.0/15", 25, 4) ","
		 MAPE_RULE("240b:12::/31", "14.8.0.0/15", 25, 4) ","
		 MAPE_RULE("240b:12:8000::/33", "14.10.0.0/16", 24, 4) "]}}",
		 0, a);
	wan = p6("240b:10:3f6c:d400::/56");
	assert_int_equal(hb_mape_select(&a->mape, &wan), 0);
	wan = p6("240b:12:1::/56");
	assert_int_equal(hb_mape_select(&a->mape, &wan), 1);
	wan = p6("240b:12:8001::/56"); /* the longest rule that covers it */
	assert_int_equal(hb_mape_select(&a->mape, &wan), 2);
	assert_int_equal(hb_answer_choose(a, &wan, err, sizeof(err)), HB_MAPE);
	wan = p6("240b:10::/30"); /* shorter than every rule */
	assert_int_equal(hb_mape_select(&a->mape, &wan), -ENOENT);
	/* 3.4: try the order's methods in turn */
	wan = p6("2001:db8:9::/56");
	assert_int_equal(hb_mape_select(&a->mape, &wan), -ENOENT);
	assert_int_equal(hb_answer_choose(a, &wan, err, sizeof(err)), HB_DSLITE);
	a->dslite.has_addr = false;
	assert_int_equal(hb_answer_choose(a, &wan, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "no rule covers"));
	assert_non_null(strstr(err, "AFTR"));
	assert_int_equal(hb_answer_choose(a, NULL, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "not known yet"));
	free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(txt_ok),
		cmocka_unit_test(txt_bad),
		cmocka_unit_test(conf_check),
		cmocka_unit_test(request_params),
		cmocka_unit_test(request_credentials),
		cmocka_unit_test(request_redirect_query),
		cmocka_unit_test(answer_spec_example),
		cmocka_unit_test(answer_mape_v1_dslite_addr),
		cmocka_unit_test(answer_ipip_lw4o6),
		cmocka_unit_test(answer_order),
		cmocka_unit_test(answer_refused),
		cmocka_unit_test(answer_rule_count),
		cmocka_unit_test(rule_selection),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
