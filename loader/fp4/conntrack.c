// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * conntrack for the IPv4 fast path: timeouts from sysctl, and one
 * ctnetlink update (IPCTNL_MSG_CT_NEW on an existing entry changes it)
 * that stops window tracking of a TCP entry.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <libmnl/libmnl.h>
#include <netinet/in.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netfilter/nf_conntrack_tcp.h>

#include "common/rtnl.h"
#include "fp4/conntrack.h"

#define CT_SYSCTL  "/proc/sys/net/netfilter/nf_conntrack_"
#define CT_MSG_BUF 1024

static int sysctl_seconds(const char *name, __u32 *ms)
{
	char path[128];
	unsigned long v;
	FILE *f;
	int n;

	snprintf(path, sizeof(path), CT_SYSCTL "%s", name);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	n = fscanf(f, "%lu", &v);
	fclose(f);
	if (n != 1)
		return -EINVAL;
	/* the kernel caps a timeout at INT_MAX jiffies; so do we, in ms */
	*ms = v > 0x7fffffffUL / 1000 ? 0x7fffffffU : v * 1000;
	return 0;
}

int ct_timeouts_read(__u32 ms[BR_FP4_TO_MAX])
{
	__u32 v[BR_FP4_TO_MAX];
	int err;

	err = sysctl_seconds("tcp_timeout_established", &v[BR_FP4_TO_TCP]) ?:
	      sysctl_seconds("udp_timeout", &v[BR_FP4_TO_UDP]) ?:
	      sysctl_seconds("udp_timeout_stream", &v[BR_FP4_TO_UDP_STREAM]);
	if (!err)
		memcpy(ms, v, sizeof(v));
	return err;
}

int ct_open(struct rtnl *nl)
{
	return nl_open(nl, NETLINK_NETFILTER);
}

/* CTA_TUPLE_ORIG/REPLY of @a: addresses, protocol, ports. */
static void put_tuple(struct nlmsghdr *nlh, const struct br_fp4_ask *a)
{
	struct nlattr *tuple, *ip, *proto;

	tuple = mnl_attr_nest_start(nlh,
				    a->dir ? CTA_TUPLE_REPLY : CTA_TUPLE_ORIG);
	ip = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
	mnl_attr_put_u32(nlh, CTA_IP_V4_SRC, a->t.saddr);
	mnl_attr_put_u32(nlh, CTA_IP_V4_DST, a->t.daddr);
	mnl_attr_nest_end(nlh, ip);
	proto = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(nlh, CTA_PROTO_NUM, a->t.proto);
	mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, a->t.sport);
	mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, a->t.dport);
	mnl_attr_nest_end(nlh, proto);
	mnl_attr_nest_end(nlh, tuple);
}

int ct_tcp_liberal(struct rtnl *nl, const struct br_fp4_ask *a)
{
	struct nf_ct_tcp_flags liberal = { .flags = IP_CT_TCP_FLAG_BE_LIBERAL,
					   .mask = IP_CT_TCP_FLAG_BE_LIBERAL };
	struct nlattr *info, *tcp;
	char buf[CT_MSG_BUF];
	struct nlmsghdr *nlh;

	if (a->t.proto != IPPROTO_TCP)
		return -EINVAL;
	/* no NLM_F_CREATE: an update of the entry that exists, or ENOENT */
	nlh = ct_msg(buf, IPCTNL_MSG_CT_NEW, NLM_F_ACK);
	put_tuple(nlh, a);
	info = mnl_attr_nest_start(nlh, CTA_PROTOINFO);
	tcp = mnl_attr_nest_start(nlh, CTA_PROTOINFO_TCP);
	mnl_attr_put(nlh, CTA_PROTOINFO_TCP_FLAGS_ORIGINAL, sizeof(liberal),
		     &liberal);
	mnl_attr_put(nlh, CTA_PROTOINFO_TCP_FLAGS_REPLY, sizeof(liberal),
		     &liberal);
	mnl_attr_nest_end(nlh, tcp);
	mnl_attr_nest_end(nlh, info);
	return nl_talk(nl, nlh, buf, sizeof(buf), NULL, NULL);
}
