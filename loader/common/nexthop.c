// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The IPv6 next hop of a destination as the kernel would send to it:
 * the route it picks (RTM_GETROUTE, the kernel's own lookup) and that
 * hop's neighbour entry (RTM_GETNEIGH).
 */
#include <errno.h>
#include <string.h>
#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include "common/rtnl.h"

#define NH_BUF 8192

struct route_reply {
	struct in6_addr gw;
	int has_gw, oif;
};

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	struct route_reply *r = data;
	const struct nlattr *a;

	mnl_attr_for_each (a, nlh, sizeof(struct rtmsg)) {
		if (mnl_attr_get_type(a) == RTA_GATEWAY &&
		    mnl_attr_get_payload_len(a) == sizeof(r->gw)) {
			memcpy(&r->gw, mnl_attr_get_payload(a), sizeof(r->gw));
			r->has_gw = 1;
		} else if (mnl_attr_get_type(a) == RTA_OIF &&
			   mnl_attr_get_payload_len(a) == 4) {
			r->oif = mnl_attr_get_u32(a);
		}
	}
	return MNL_CB_OK;
}

static int neigh_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
	struct rtnl_nh6 *nh = data;
	const struct nlattr *a;

	/* what bpf_fib_lookup() takes as resolved: NUD_VALID */
	if (!(ndm->ndm_state & (NUD_PERMANENT | NUD_NOARP | NUD_REACHABLE |
				NUD_PROBE | NUD_STALE | NUD_DELAY)))
		return MNL_CB_OK;
	mnl_attr_for_each (a, nlh, sizeof(*ndm))
		if (mnl_attr_get_type(a) == NDA_LLADDR &&
		    mnl_attr_get_payload_len(a) == sizeof(nh->mac)) {
			memcpy(nh->mac, mnl_attr_get_payload(a),
			       sizeof(nh->mac));
			nh->has_mac = 1;
		}
	return MNL_CB_OK;
}

int rtnl_nexthop6(struct rtnl *r, const struct in6_addr *dst,
		  const struct in6_addr *src, int oif, struct rtnl_nh6 *nh)
{
	struct route_reply rr = { 0 };
	char buf[NH_BUF];
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	struct ndmsg *ndm;
	int err;

	nlh = nl_msg(buf, RTM_GETROUTE, NLM_F_ACK, sizeof(*rtm), (void **)&rtm);
	rtm->rtm_family = AF_INET6;
	rtm->rtm_dst_len = 128;
	rtm->rtm_src_len = 128;
	mnl_attr_put(nlh, RTA_DST, sizeof(*dst), dst);
	mnl_attr_put(nlh, RTA_SRC, sizeof(*src), src);
	mnl_attr_put_u32(nlh, RTA_OIF, oif);
	err = nl_talk(r, nlh, buf, sizeof(buf), route_cb, &rr);
	if (err)
		return err;
	memset(nh, 0, sizeof(*nh));
	nh->gw = rr.has_gw ? rr.gw : *dst;
	nh->oif = rr.oif;
	/* that hop's neighbour entry; none (yet) is no MAC, not an error */
	nlh = nl_msg(buf, RTM_GETNEIGH, NLM_F_ACK, sizeof(*ndm), (void **)&ndm);
	ndm->ndm_family = AF_INET6;
	ndm->ndm_ifindex = nh->oif;
	mnl_attr_put(nlh, NDA_DST, sizeof(nh->gw), &nh->gw);
	err = nl_talk(r, nlh, buf, sizeof(buf), neigh_cb, nh);
	return err == -ENOENT ? 0 : err;
}
