// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Reading nftables notifications: another process's change to table ip
 * brouter is reported with who made it; brouterd's own commits are not;
 * and a change that brouterd's own later rewrite of the table already
 * undid (both read together) is not reported again.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>

#include "tunnel/nft.h"
#include "tunnel/nftwatch.h"

#define BUF_LEN 4096
#define OTHER_PID 4242

struct msgs {
	char buf[BUF_LEN];
	size_t len;
};

static struct nlmsghdr *put(struct msgs *m, int type)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(m->buf + m->len);
	struct nfgenmsg *g;

	nlh->nlmsg_type = NFNL_SUBSYS_NFTABLES << 8 | type;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = NFPROTO_IPV4;
	return nlh;
}

static void end(struct msgs *m, struct nlmsghdr *nlh)
{
	m->len += nlh->nlmsg_len;
}

/* An object message of table @table (attribute 1 of every kind). */
static void touch(struct msgs *m, int type, const char *table)
{
	struct nlmsghdr *nlh = put(m, type);

	mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, table);
	end(m, nlh);
}

/* The end of a transaction committed by @pid. */
static void commit(struct msgs *m, unsigned int pid, const char *proc)
{
	struct nlmsghdr *nlh = put(m, NFT_MSG_NEWGEN);

	mnl_attr_put_u32(nlh, NFTA_GEN_PROC_PID, htonl(pid));
	mnl_attr_put_strz(nlh, NFTA_GEN_PROC_NAME, proc);
	end(m, nlh);
}

static int parse(struct msgs *m, struct nft_change *c)
{
	struct nft_watch w = { 0 };

	return nft_watch_parse(&w, m->buf, m->len, c);
}

static void others_deletion_is_reported(void **state)
{
	struct msgs m = { 0 };
	struct nft_change c;

	(void)state;
	touch(&m, NFT_MSG_DELTABLE, NFT_TABLE);
	commit(&m, OTHER_PID, "nft");
	assert_int_equal(parse(&m, &c), 1);
	assert_true(c.deleted);
	assert_int_equal(c.pid, OTHER_PID);
	assert_string_equal(c.proc, "nft");
	assert_int_equal(c.commits, 1);
}

static void own_commit_and_other_tables_are_not(void **state)
{
	struct msgs m = { 0 };
	struct nft_change c;

	(void)state;
	touch(&m, NFT_MSG_NEWCHAIN, NFT_TABLE);
	commit(&m, getpid(), "brouterd");
	touch(&m, NFT_MSG_DELTABLE, "filter");
	commit(&m, OTHER_PID, "nft");
	assert_int_equal(parse(&m, &c), 0);
	assert_int_equal(c.commits, 2);
}

/* nft flush ruleset, then brouterd's restore from another path: done. */
static void change_undone_by_own_later_write_is_not(void **state)
{
	struct msgs m = { 0 };
	struct nft_change c;

	(void)state;
	touch(&m, NFT_MSG_DELTABLE, NFT_TABLE);
	commit(&m, OTHER_PID, "nft");
	touch(&m, NFT_MSG_NEWTABLE, NFT_TABLE);
	touch(&m, NFT_MSG_DELTABLE, NFT_TABLE);
	touch(&m, NFT_MSG_NEWTABLE, NFT_TABLE);
	commit(&m, getpid(), "brouterd");
	assert_int_equal(parse(&m, &c), 0);
	assert_false(c.deleted);
	assert_int_equal(c.pid, 0);
	assert_int_equal(c.commits, 2);
}

/* The other way round: brouterd wrote, then someone changed it again. */
static void change_after_own_write_is_reported(void **state)
{
	struct msgs m = { 0 };
	struct nft_change c;

	(void)state;
	touch(&m, NFT_MSG_NEWTABLE, NFT_TABLE);
	commit(&m, getpid(), "brouterd");
	touch(&m, NFT_MSG_DELRULE, NFT_TABLE);
	commit(&m, OTHER_PID, "iptables-nft");
	assert_int_equal(parse(&m, &c), 1);
	assert_false(c.deleted);
	assert_int_equal(c.pid, OTHER_PID);
	assert_string_equal(c.proc, "iptables-nft");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(others_deletion_is_reported),
		cmocka_unit_test(own_commit_and_other_tables_are_not),
		cmocka_unit_test(change_undone_by_own_later_write_is_not),
		cmocka_unit_test(change_after_own_write_is_reported),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
