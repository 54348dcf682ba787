// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Conntrack flush by address: dump the IPv4 table, then delete the
 * matching entries by their original tuple, as conntrack -D does. One
 * IPCTNL_MSG_CT_DELETE cannot: given a tuple it deletes that one entry,
 * without one it flushes by mark, zone or status, never by address.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include "tunnel/ct.h"
#include "common/rtnl.h"

#define CT_BUF 32768
/* A tuple is IP (2 addresses) + proto (number, ports/ids): well below */
#define CT_TUPLE_MAX 128
/* Deleted per dump; more are left for the next pass */
#define CT_BATCH 4096
#define CT_PASSES 16

struct ct_victim {
	__u16 zone;
	bool has_zone;
	unsigned int len;
	char tuple[CT_TUPLE_MAX];	/* CTA_TUPLE_ORIG, header included */
};

struct ct_dump {
	__be32 addr;
	struct ct_victim *v;
	int n;
};

static int nested_attr(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;

	/* CTA_TUPLE_MAX and CTA_IP_MAX are both small; CTA_MAX bounds all */
	if (mnl_attr_type_valid(a, CTA_MAX) > 0)
		tb[mnl_attr_get_type(a)] = a;
	return MNL_CB_OK;
}

/* Does the tuple @t have @addr as its IPv4 source or destination? */
static bool tuple_has(const struct nlattr *t, __be32 addr)
{
	const struct nlattr *tt[CTA_MAX + 1] = { 0 }, *ip[CTA_MAX + 1] = { 0 };
	int i, types[] = { CTA_IP_V4_SRC, CTA_IP_V4_DST };

	if (!t || mnl_attr_parse_nested(t, nested_attr, tt) < 0 || !tt[CTA_TUPLE_IP] ||
	    mnl_attr_parse_nested(tt[CTA_TUPLE_IP], nested_attr, ip) < 0)
		return false;
	for (i = 0; i < 2; i++)
		if (ip[types[i]] && mnl_attr_get_payload_len(ip[types[i]]) == 4 &&
		    !memcmp(mnl_attr_get_payload(ip[types[i]]), &addr, 4))
			return true;
	return false;
}

static int dump_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[CTA_MAX + 1] = { 0 };
	struct ct_dump *d = data;
	const struct nlattr *orig;
	struct ct_victim *v;

	mnl_attr_parse(nlh, sizeof(struct nfgenmsg), nested_attr, tb);
	orig = tb[CTA_TUPLE_ORIG];
	if (!orig || d->n >= CT_BATCH || orig->nla_len > CT_TUPLE_MAX ||
	    (!tuple_has(orig, d->addr) && !tuple_has(tb[CTA_TUPLE_REPLY], d->addr)))
		return MNL_CB_OK;
	v = &d->v[d->n++];
	v->len = orig->nla_len;
	memcpy(v->tuple, orig, v->len);
	v->has_zone = tb[CTA_ZONE] && mnl_attr_get_payload_len(tb[CTA_ZONE]) == 2;
	v->zone = v->has_zone ? mnl_attr_get_u16(tb[CTA_ZONE]) : 0;
	return MNL_CB_OK;
}

static struct nlmsghdr *ct_msg(char *buf, int type, int flags)
{
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;

	nlh = nl_msg(buf, (NFNL_SUBSYS_CTNETLINK << 8) | type, flags, sizeof(*nfg),
		     (void **)&nfg);
	nfg->nfgen_family = AF_INET;
	nfg->version = NFNETLINK_V0;
	return nlh;
}

static int delete_one(struct rtnl *nl, char *buf, const struct ct_victim *v)
{
	struct nlmsghdr *nlh = ct_msg(buf, IPCTNL_MSG_CT_DELETE, NLM_F_ACK);
	int err;

	memcpy(mnl_nlmsg_get_payload_tail(nlh), v->tuple, v->len);
	nlh->nlmsg_len += MNL_ALIGN(v->len);
	if (v->has_zone)
		mnl_attr_put_u16(nlh, CTA_ZONE, v->zone);
	err = nl_talk(nl, nlh, buf, CT_BUF, NULL, NULL);
	/* gone meanwhile (expired, closed): as good */
	return err == -ENOENT ? 0 : err;
}

int ct_flush_addr4(struct in_addr addr)
{
	struct ct_dump d = { .addr = addr.s_addr };
	int i, pass, err, deleted = 0;
	struct rtnl nl;
	char *buf;

	err = nl_open(&nl, NETLINK_NETFILTER);
	if (err)
		return err;
	buf = malloc(CT_BUF);
	d.v = calloc(CT_BATCH, sizeof(*d.v));
	if (!buf || !d.v) {
		err = -ENOMEM;
		goto out;
	}
	/* a full batch may leave more behind: dump again, a bounded number of times */
	for (pass = 0; pass < CT_PASSES; pass++) {
		d.n = 0;
		err = nl_talk(&nl, ct_msg(buf, IPCTNL_MSG_CT_GET, NLM_F_DUMP),
			      buf, CT_BUF, dump_cb, &d);
		for (i = 0; !err && i < d.n; i++) {
			err = delete_one(&nl, buf, &d.v[i]);
			deleted += !err;
		}
		if (err || d.n < CT_BATCH)
			break;
	}
out:
	rtnl_close(&nl);
	free(d.v);
	free(buf);
	return err ?: deleted;
}
