// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Who else uses IPv4 conntrack, read from `nft -j list ruleset` output
 * (the shapes nft 1.0.6 prints): brouterd's own table never counts, a
 * rule or chain of another IPv4 table that needs conntrack always does,
 * stateless rules and IPv6-only tables do not, and a listing that is not
 * one is an error, not a "no".
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "fp4/ct_users.h"

#define HEAD                                                       \
	"{\"nftables\": [{\"metainfo\": {\"version\": \"1.0.6\", " \
	"\"json_schema_version\": 1}}"
#define TAIL "]}"

/* brouterd's table as DS-Lite with the fast path writes it */
#define OWN                                                                  \
	", {\"table\": {\"family\": \"ip\", \"name\": \"brouter\", "         \
	"\"handle\": 9}}, {\"chain\": {\"family\": \"ip\", \"table\": "      \
	"\"brouter\", \"name\": \"fast_path\", \"handle\": 1}}, {\"rule\": " \
	"{\"family\": \"ip\", \"table\": \"brouter\", \"chain\": "           \
	"\"fast_path\", \"handle\": 3, \"expr\": [{\"match\": {\"op\": "     \
	"\"in\", \"left\": {\"ct\": {\"key\": \"state\"}}, \"right\": "      \
	"\"established\"}}, {\"accept\": null}]}}, {\"chain\": "             \
	"{\"family\": \"ip\", \"table\": \"brouter\", \"name\": "            \
	"\"untracked\", \"handle\": 2, \"type\": \"filter\", \"hook\": "     \
	"\"prerouting\", \"prio\": -300, \"policy\": \"accept\"}}, "         \
	"{\"rule\": {\"family\": \"ip\", \"table\": \"brouter\", "           \
	"\"chain\": \"untracked\", \"handle\": 4, \"expr\": [{\"match\": "   \
	"{\"op\": \"==\", \"left\": {\"meta\": {\"key\": \"priority\"}}, "   \
	"\"right\": \"602:0\"}}, {\"notrack\": null}]}}"

/* a rule of table @fam @table with the expressions @expr */
#define RULE(fam, table, expr)                                       \
	", {\"rule\": {\"family\": \"" fam "\", \"table\": \"" table \
	"\", \"chain\": \"c\", \"handle\": 2, \"expr\": [" expr "]}}"

#define CT_STATE                                                     \
	"{\"match\": {\"op\": \"in\", \"left\": {\"ct\": {\"key\": " \
	"\"state\"}}, \"right\": \"established\"}}, {\"accept\": null}"
#define IIF_ACCEPT                                                     \
	"{\"match\": {\"op\": \"==\", \"left\": {\"meta\": {\"key\": " \
	"\"iifname\"}}, \"right\": \"lan0\"}}, {\"accept\": null}"

static int users(const char *json)
{
	return ct_users_in(json, "brouter");
}

static void own_table_alone_uses_none(void **state)
{
	(void)state;
	assert_int_equal(users(HEAD TAIL), 0);
	assert_int_equal(users(HEAD OWN TAIL), 0);
}

static void stateless_rules_and_ipv6_tables_use_none(void **state)
{
	(void)state;
	assert_int_equal(users(HEAD OWN RULE("inet", "f", IIF_ACCEPT) TAIL), 0);
	assert_int_equal(
		users(HEAD RULE("ip", "raw", "{\"notrack\": null}") TAIL), 0);
	/* IPv6 conntrack: not what tracks IPv4 */
	assert_int_equal(users(HEAD RULE("ip6", "f", CT_STATE) TAIL), 0);
	assert_int_equal(users(HEAD RULE("arp", "a", CT_STATE) TAIL), 0);
}

static void conntrack_in_another_ipv4_table_counts(void **state)
{
	(void)state;
	assert_int_equal(users(HEAD OWN RULE("inet", "f", CT_STATE) TAIL), 1);
	assert_int_equal(users(HEAD RULE("ip", "f", CT_STATE) OWN TAIL), 1);
	/* a table of our name in another family is not ours */
	assert_int_equal(users(HEAD RULE("inet", "brouter", CT_STATE) TAIL), 1);
	/* a statement: ct mark set */
	assert_int_equal(users(HEAD RULE("ip", "m",
					 "{\"mangle\": {\"key\": {\"ct\": "
					 "{\"key\": \"mark\"}}, \"value\": 1}}")
				       TAIL),
			 1);
	assert_int_equal(
		users(HEAD RULE("ip", "n", "{\"masquerade\": null}") TAIL), 1);
	/* iptables-nft's -m conntrack: an xtables match, insides not shown */
	assert_int_equal(users(HEAD RULE("ip", "filter",
					 "{\"xt\": {\"type\": \"match\", "
					 "\"name\": \"conntrack\"}}") TAIL),
			 1);
	assert_int_equal(users(HEAD RULE("bridge", "b", CT_STATE) TAIL), 1);
}

static void nat_chain_or_ct_object_counts_even_empty(void **state)
{
	(void)state;
	assert_int_equal(users(HEAD
			       ", {\"chain\": {\"family\": \"ip\", \"table\": "
			       "\"n\", \"name\": \"p\", \"handle\": 1, "
			       "\"type\": \"nat\", \"hook\": \"postrouting\", "
			       "\"prio\": 100, \"policy\": \"accept\"}}" TAIL),
			 1);
	assert_int_equal(
		users(HEAD ", {\"ct helper\": {\"family\": \"inet\", "
			   "\"table\": \"h\", \"name\": \"ftp\", "
			   "\"type\": \"ftp\", \"protocol\": \"tcp\"}}" TAIL),
		1);
}

static void what_is_not_a_listing_is_an_error(void **state)
{
	(void)state;
	assert_int_equal(users(""), -EINVAL);
	assert_int_equal(users("{\"nftables\": 1}"), -EINVAL);
	assert_int_equal(users("[1, 2]"), -EINVAL);
	assert_int_equal(users(HEAD), -EINVAL); /* cut short */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(own_table_alone_uses_none),
		cmocka_unit_test(stateless_rules_and_ipv6_tables_use_none),
		cmocka_unit_test(conntrack_in_another_ipv4_table_counts),
		cmocka_unit_test(nat_chain_or_ct_object_counts_even_empty),
		cmocka_unit_test(what_is_not_a_listing_is_an_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
