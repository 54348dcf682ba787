// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * nftables change notifications (tunnel/nftwatch.h). Each object message
 * of a transaction names its table in attribute 1 (NFTA_TABLE_NAME,
 * NFTA_CHAIN_TABLE, NFTA_RULE_TABLE, NFTA_SET_TABLE, ... all are 1); the
 * transaction ends with NFT_MSG_NEWGEN, which names the process that
 * committed it: brouterd's own writes are told apart by that pid.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h> /* before the uapi headers: they defer to it */
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>

#include "tunnel/nft.h"
#include "tunnel/nftwatch.h"

#define NFT_ATTR_TABLE 1 /* every object message's table name */

struct read_ctx {
	struct nft_watch *w;
	struct nft_change *out;
	int found;
};

int nft_watch_open(struct nft_watch *w)
{
	static const unsigned int groups[] = { NFNLGRP_NFTABLES };

	memset(w, 0, sizeof(*w));
	return nl_listen(&w->nl, NETLINK_NETFILTER, groups, 1);
}

void nft_watch_close(struct nft_watch *w)
{
	rtnl_close(&w->nl);
}

static const char *attr_str(const struct nlmsghdr *nlh, unsigned int type)
{
	const struct nlattr *a;

	mnl_attr_for_each (a, nlh, sizeof(struct nfgenmsg))
		if (mnl_attr_get_type(a) == type &&
		    !mnl_attr_validate(a, MNL_TYPE_NUL_STRING))
			return mnl_attr_get_str(a);
	return NULL;
}

static unsigned int attr_u32(const struct nlmsghdr *nlh, unsigned int type)
{
	const struct nlattr *a;

	mnl_attr_for_each (a, nlh, sizeof(struct nfgenmsg))
		if (mnl_attr_get_type(a) == type &&
		    !mnl_attr_validate(a, MNL_TYPE_U32))
			return ntohl(mnl_attr_get_u32(a));
	return 0;
}

/*
 * The end of a transaction: report it if it touched ours and was not
 * ours. One of brouterd's own writes the whole table anew (nft.c), so
 * it undoes whatever others did before it: a change read together with
 * a later write of brouterd's (the write came first from another path,
 * one that saw the table missing) is no longer there to restore.
 */
static void transaction_end(struct read_ctx *c, const struct nlmsghdr *nlh)
{
	struct nft_watch *w = c->w;
	unsigned int pid = attr_u32(nlh, NFTA_GEN_PROC_PID);
	const char *proc = attr_str(nlh, NFTA_GEN_PROC_NAME);
	unsigned int commits = c->out->commits;

	if (w->touched && pid == (unsigned int)getpid()) {
		memset(c->out, 0, sizeof(*c->out));
		c->out->commits = commits;
		c->found = 0;
	} else if (w->touched) {
		c->out->deleted |= w->deleted;
		c->out->pid = pid;
		snprintf(c->out->proc, sizeof(c->out->proc), "%s", proc ?: "?");
		c->found = 1;
	}
	w->touched = w->deleted = false;
}

static int on_msg(const struct nlmsghdr *nlh, void *data)
{
	struct read_ctx *c = data;
	const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);
	const char *table;
	int msg;

	if ((nlh->nlmsg_type >> 8) != NFNL_SUBSYS_NFTABLES ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*g))
		return MNL_CB_OK;
	msg = nlh->nlmsg_type & 0xff;
	if (msg == NFT_MSG_NEWGEN) {
		c->out->commits++;
		transaction_end(c, nlh);
		return MNL_CB_OK;
	}
	table = attr_str(nlh, NFT_ATTR_TABLE);
	if (g->nfgen_family != NFPROTO_IPV4 || !table ||
	    strcmp(table, NFT_TABLE))
		return MNL_CB_OK;
	c->w->touched = true;
	c->w->deleted |= msg == NFT_MSG_DELTABLE;
	return MNL_CB_OK;
}

int nft_watch_parse(struct nft_watch *w, const void *buf, size_t len,
		    struct nft_change *out)
{
	struct read_ctx c = { .w = w, .out = out };

	memset(out, 0, sizeof(*out));
	if (mnl_cb_run(buf, len, 0, 0, on_msg, &c) < 0 && errno != ENOENT)
		return -errno;
	return c.found;
}

int nft_watch_read(struct nft_watch *w, struct nft_change *out)
{
	char buf[MNL_SOCKET_BUFFER_SIZE * 2];
	struct read_ctx c = { .w = w, .out = out };
	int err;

	memset(out, 0, sizeof(*out));
	err = nl_read_events(&w->nl, buf, sizeof(buf), on_msg, &c);
	if (err == -ENOBUFS) {
		/* events lost: cannot tell who did what; look at the table */
		w->touched = w->deleted = false;
		snprintf(out->proc, sizeof(out->proc), "?");
		return 1;
	}
	return c.found;
}
