// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Conntrack by address. Flush: dump the IPv4 table, then delete the
 * matching entries by their original tuple, as conntrack -D does. One
 * IPCTNL_MSG_CT_DELETE cannot: given a tuple it deletes that one entry,
 * without one it flushes by mark, zone or status, never by address.
 * Port use: the same dump, counting the ports replies come back to.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
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

/* The attribute @type nested in @a, or NULL. */
static const struct nlattr *nested_get(const struct nlattr *a, int type)
{
	const struct nlattr *tb[CTA_MAX + 1] = { 0 };

	if (!a || mnl_attr_parse_nested(a, nested_attr, tb) < 0)
		return NULL;
	return tb[type];
}

/* Is the IPv4 address attribute @type of tuple @t equal to @addr? */
static bool tuple_addr_is(const struct nlattr *t, int type, __be32 addr)
{
	const struct nlattr *a = nested_get(nested_get(t, CTA_TUPLE_IP), type);

	return a && mnl_attr_get_payload_len(a) == 4 &&
	       !memcmp(mnl_attr_get_payload(a), &addr, 4);
}

/* Does the tuple @t have @addr as its IPv4 source or destination? */
static bool tuple_has(const struct nlattr *t, __be32 addr)
{
	return tuple_addr_is(t, CTA_IP_V4_SRC, addr) ||
	       tuple_addr_is(t, CTA_IP_V4_DST, addr);
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

static int ct_dump(struct rtnl *nl, char *buf, nl_cb_t cb, void *ctx)
{
	return nl_talk(nl, ct_msg(buf, IPCTNL_MSG_CT_GET, NLM_F_DUMP), buf,
		       CT_BUF, cb, ctx);
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
		err = ct_dump(&nl, buf, dump_cb, &d);
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

/* ---- port use ---------------------------------------------------------- */

struct ct_use {
	__be32 addr;
	struct ct_port_use *out;
	unsigned char *seen; /* a bit per port, per protocol */
};

static int proto_index(__u8 proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return CT_PU_TCP;
	case IPPROTO_UDP:
		return CT_PU_UDP;
	case IPPROTO_ICMP:
		return CT_PU_ICMP;
	}
	return -1;
}

/* The port a reply comes back to: destination port, or ICMP identifier. */
static int reply_port(const struct nlattr *proto, int i)
{
	const struct nlattr *a;

	a = nested_get(proto, i == CT_PU_ICMP ? CTA_PROTO_ICMP_ID
					      : CTA_PROTO_DST_PORT);
	if (!a || mnl_attr_get_payload_len(a) != 2)
		return -1;
	return ntohs(mnl_attr_get_u16(a));
}

static int use_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[CTA_MAX + 1] = { 0 }, *proto, *num;
	struct ct_use *u = data;
	unsigned char *bit;
	int i, port;

	mnl_attr_parse(nlh, sizeof(struct nfgenmsg), nested_attr, tb);
	if (!tuple_addr_is(tb[CTA_TUPLE_REPLY], CTA_IP_V4_DST, u->addr))
		return MNL_CB_OK;
	proto = nested_get(tb[CTA_TUPLE_REPLY], CTA_TUPLE_PROTO);
	num = nested_get(proto, CTA_PROTO_NUM);
	if (!num || mnl_attr_get_payload_len(num) != 1)
		return MNL_CB_OK;
	i = proto_index(mnl_attr_get_u8(num));
	port = i < 0 ? -1 : reply_port(proto, i);
	if (port < 0)
		return MNL_CB_OK;
	u->out->entries[i]++;
	bit = &u->seen[(i << 13) + (port >> 3)];
	if (!(*bit & (1 << (port & 7))))
		u->out->ports[i]++;
	*bit |= 1 << (port & 7);
	return MNL_CB_OK;
}

int ct_port_use(struct in_addr addr, struct ct_port_use *out)
{
	struct ct_use u = { .addr = addr.s_addr, .out = out };
	struct rtnl nl;
	char *buf;
	int err;

	memset(out, 0, sizeof(*out));
	err = nl_open(&nl, NETLINK_NETFILTER);
	if (err)
		return err;
	buf = malloc(CT_BUF);
	u.seen = calloc(CT_PU_NPROTO, 65536 / 8);
	err = buf && u.seen ? ct_dump(&nl, buf, use_cb, &u) : -ENOMEM;
	rtnl_close(&nl);
	free(u.seen);
	free(buf);
	return err;
}
