// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rtnetlink beyond requests: what a link message says (name, flags, MTU,
 * MAC, kind, veth peer, XDP), one link asked for by index (in this or a
 * peer's namespace), a neighbour asked for, and sockets that listen to
 * multicast groups of any netlink bus.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/net_namespace.h>
#include <linux/rtnetlink.h>

#include "common/rtnl.h"

/* A nested attribute table: @tb of @max + 1 entries. */
struct nest {
	const struct nlattr **tb;
	unsigned int max;
};

static int attr_into(const struct nlattr *a, void *data)
{
	struct nest *n = data;

	if (mnl_attr_type_valid(a, n->max) > 0)
		n->tb[mnl_attr_get_type(a)] = a;
	return MNL_CB_OK;
}

static void link_kind(const struct nlattr *linkinfo, struct rtnl_link *out)
{
	const struct nlattr *tb[IFLA_INFO_MAX + 1] = { 0 };
	struct nest n = { tb, IFLA_INFO_MAX };

	if (mnl_attr_parse_nested(linkinfo, attr_into, &n) < 0 ||
	    !tb[IFLA_INFO_KIND])
		return;
	snprintf(out->kind, sizeof(out->kind), "%s",
		 mnl_attr_get_str(tb[IFLA_INFO_KIND]));
}

static bool xdp_attached(const struct nlattr *xdp)
{
	const struct nlattr *tb[IFLA_XDP_MAX + 1] = { 0 };
	struct nest n = { tb, IFLA_XDP_MAX };

	if (mnl_attr_parse_nested(xdp, attr_into, &n) < 0 ||
	    !tb[IFLA_XDP_ATTACHED])
		return false;
	return mnl_attr_get_u8(tb[IFLA_XDP_ATTACHED]) != XDP_ATTACHED_NONE;
}

int rtnl_link_parse(const struct nlmsghdr *nlh, struct rtnl_link *out)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[IFLA_MAX + 1] = { 0 };
	struct nest n = { tb, IFLA_MAX };

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi))
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->link_netnsid = -1;
	out->ifindex = ifi->ifi_index;
	out->flags = ifi->ifi_flags;
	if (mnl_attr_parse(nlh, sizeof(*ifi), attr_into, &n) < 0)
		return -EINVAL;
	if (tb[IFLA_IFNAME])
		snprintf(out->ifname, sizeof(out->ifname), "%s",
			 mnl_attr_get_str(tb[IFLA_IFNAME]));
	if (tb[IFLA_MTU])
		out->mtu = mnl_attr_get_u32(tb[IFLA_MTU]);
	if (tb[IFLA_ADDRESS] &&
	    mnl_attr_get_payload_len(tb[IFLA_ADDRESS]) == 6) {
		memcpy(out->mac, mnl_attr_get_payload(tb[IFLA_ADDRESS]), 6);
		out->has_mac = true;
	}
	if (tb[IFLA_LINK])
		out->link = mnl_attr_get_u32(tb[IFLA_LINK]);
	if (tb[IFLA_LINK_NETNSID])
		out->link_netnsid =
			(int)mnl_attr_get_u32(tb[IFLA_LINK_NETNSID]);
	if (tb[IFLA_LINKINFO])
		link_kind(tb[IFLA_LINKINFO], out);
	if (tb[IFLA_XDP])
		out->xdp = xdp_attached(tb[IFLA_XDP]);
	return 0;
}

static int link_get_cb(const struct nlmsghdr *nlh, void *data)
{
	if (nlh->nlmsg_type == RTM_NEWLINK)
		rtnl_link_parse(nlh, data);
	return MNL_CB_OK;
}

int rtnl_link_get(struct rtnl *r, int ifindex, int netnsid,
		  struct rtnl_link *out)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	int err;

	memset(out, 0, sizeof(*out));
	/* acked: the reply is one message, no dump end follows it */
	nlh = nl_msg(buf, RTM_GETLINK, NLM_F_ACK, sizeof(*ifi), (void **)&ifi);
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	if (netnsid >= 0)
		mnl_attr_put_u32(nlh, IFLA_TARGET_NETNSID, netnsid);
	err = nl_talk(r, nlh, buf, sizeof(buf), link_get_cb, out);
	if (!err && out->ifindex != ifindex)
		err = -ENODEV;
	return err;
}

static int neigh_cb(const struct nlmsghdr *nlh, void *data)
{
	*(bool *)data = nlh->nlmsg_type == RTM_NEWNEIGH;
	return MNL_CB_OK;
}

int rtnl_neigh4_present(struct rtnl *r, int ifindex, struct in_addr ip)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct ndmsg *ndm;
	bool found = false;
	int err;

	nlh = nl_msg(buf, RTM_GETNEIGH, NLM_F_ACK, sizeof(*ndm), (void **)&ndm);
	ndm->ndm_family = AF_INET;
	ndm->ndm_ifindex = ifindex;
	mnl_attr_put(nlh, NDA_DST, 4, &ip);
	err = nl_talk(r, nlh, buf, sizeof(buf), neigh_cb, &found);
	if (err == -ENOENT)
		return 0;
	return err ?: found;
}

static int nsid_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *a;

	mnl_attr_for_each (a, nlh, sizeof(struct rtgenmsg))
		if (mnl_attr_get_type(a) == NETNSA_NSID &&
		    !mnl_attr_validate(a, MNL_TYPE_U32))
			*(int *)data = (int)mnl_attr_get_u32(a);
	return MNL_CB_OK;
}

int rtnl_nsid_of(struct rtnl *r, int netns_fd)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct rtgenmsg *g;
	int nsid = -1, err;

	nlh = nl_msg(buf, RTM_GETNSID, NLM_F_ACK, sizeof(*g), (void **)&g);
	g->rtgen_family = AF_UNSPEC;
	mnl_attr_put_u32(nlh, NETNSA_FD, netns_fd);
	err = nl_talk(r, nlh, buf, sizeof(buf), nsid_cb, &nsid);
	return err ?: nsid;
}

int nl_listen(struct rtnl *r, int bus, const unsigned int *groups, int n)
{
	int err, i, size = 1 << 20;

	err = nl_open(r, bus);
	if (err)
		return err;
	/* a burst (a flush of many routes, a ruleset reload) must not overflow */
	setsockopt(mnl_socket_get_fd(r->nl), SOL_SOCKET, SO_RCVBUF, &size,
		   sizeof(size));
	for (i = 0; i < n; i++) {
		unsigned int g = groups[i];

		if (mnl_socket_setsockopt(r->nl, NETLINK_ADD_MEMBERSHIP, &g,
					  sizeof(g)) < 0) {
			err = -errno;
			rtnl_close(r);
			return err;
		}
	}
	return 0;
}

int nl_read_events(struct rtnl *r, void *buf, size_t len, nl_event_cb_t cb,
		   void *data)
{
	ssize_t n;
	int ret;

	for (;;) {
		n = recv(mnl_socket_get_fd(r->nl), buf, len, MSG_DONTWAIT);
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0
								       : -errno;
		/* events carry sequence 0 and the kernel's port id */
		ret = mnl_cb_run(buf, n, 0, 0, cb, data);
		if (ret < 0 && errno != ENOENT)
			return -errno;
	}
}
