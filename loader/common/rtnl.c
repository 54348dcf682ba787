// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Minimal rtnetlink over libmnl: one request, wait for its ack (or the
 * dump's end), report the kernel's errno. Nothing cached, nothing
 * monitored: the tunnel code asks again when it needs to know.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include "common/rtnl.h"

/* Dumps of a few addresses fit a page; 16 KiB leaves room for many. */
#define RTNL_BUF 16384

struct nlmsghdr *nl_msg(char *buf, __u16 type, __u16 flags, size_t hdr_len,
		       void **hdr)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	*hdr = mnl_nlmsg_put_extra_header(nlh, hdr_len);
	return nlh;
}

struct nlmsghdr *ct_msg(char *buf, __u16 type, __u16 flags)
{
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;

	nlh = nl_msg(buf, (NFNL_SUBSYS_CTNETLINK << 8) | type, flags,
		     sizeof(*nfg), (void **)&nfg);
	nfg->nfgen_family = AF_INET;
	nfg->version = NFNETLINK_V0;
	return nlh;
}

int nl_open(struct rtnl *r, int bus)
{
	memset(r, 0, sizeof(*r));
	r->nl = mnl_socket_open(bus);
	if (!r->nl)
		return -errno;
	if (mnl_socket_bind(r->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int err = -errno;

		mnl_socket_close(r->nl);
		r->nl = NULL;
		return err;
	}
	r->portid = mnl_socket_get_portid(r->nl);
	r->seq = time(NULL);
	return 0;
}

int rtnl_open(struct rtnl *r)
{
	return nl_open(r, NETLINK_ROUTE);
}

void rtnl_close(struct rtnl *r)
{
	if (r->nl)
		mnl_socket_close(r->nl);
	r->nl = NULL;
}

int nl_talk(struct rtnl *r, struct nlmsghdr *nlh, void *buf, size_t len,
	    nl_cb_t cb, void *data)
{
	unsigned int seq;
	ssize_t n;
	int ret;

	if (!r->nl)
		return -EBADF;
	seq = nlh->nlmsg_seq = ++r->seq;
	if (mnl_socket_sendto(r->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		n = mnl_socket_recvfrom(r->nl, buf, len);
		if (n < 0)
			return -errno;
		ret = mnl_cb_run(buf, n, seq, r->portid, cb, data);
	} while (ret > 0);
	return ret < 0 ? -errno : 0;
}

/*
 * Requests are acked; dumps end with NLMSG_DONE. NLM_F_DUMP shares its
 * bits with NLM_F_REPLACE/NLM_F_EXCL, so whether this is a dump is told
 * by the message type, not the flags.
 */
static int talk(struct rtnl *r, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	char buf[RTNL_BUF];

	if (nlh->nlmsg_type != RTM_GETADDR)
		nlh->nlmsg_flags |= NLM_F_ACK;
	return nl_talk(r, nlh, buf, sizeof(buf), cb, data);
}

static int addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

/* ---- addresses --------------------------------------------------------- */

static struct nlmsghdr *addr_msg(char *buf, int type, int flags, int ifindex,
				 int family, const void *addr, unsigned int plen)
{
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;

	nlh = nl_msg(buf, type, flags, sizeof(*ifa), (void **)&ifa);
	ifa->ifa_family = family;
	ifa->ifa_prefixlen = plen;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = ifindex;
	mnl_attr_put(nlh, IFA_LOCAL, addr_len(family), addr);
	mnl_attr_put(nlh, IFA_ADDRESS, addr_len(family), addr);
	return nlh;
}

int rtnl_addr_add(struct rtnl *r, int ifindex, int family, const void *addr,
		  unsigned int plen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;

	nlh = addr_msg(buf, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, ifindex, family,
		       addr, plen);
	mnl_attr_put_u8(nlh, IFA_PROTO, RTNL_PROTO_BROUTER);
	if (family == AF_INET6) {
		/* valid forever, preferred never: ours to receive on, not a source */
		struct ifa_cacheinfo ci = { .ifa_prefered = 0, .ifa_valid = 0xffffffffU };

		mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD | IFA_F_NOPREFIXROUTE);
		mnl_attr_put(nlh, IFA_CACHEINFO, sizeof(ci), &ci);
	}
	return talk(r, nlh, NULL, NULL);
}

int rtnl_addr_del(struct rtnl *r, int ifindex, int family, const void *addr,
		  unsigned int plen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];

	return talk(r, addr_msg(buf, RTM_DELADDR, 0, ifindex, family, addr, plen),
		    NULL, NULL);
}

struct addr_dump {
	int ifindex, family, max, n;
	struct rtnl_addr *out;
};

static int addr_attr(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);

	if (mnl_attr_type_valid(a, IFA_MAX) > 0)
		tb[type] = a;
	return MNL_CB_OK;
}

static int addr_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[IFA_MAX + 1] = { 0 };
	struct addr_dump *d = data;
	const struct nlattr *addr;
	struct rtnl_addr *o;

	if (ifa->ifa_index != (unsigned int)d->ifindex || ifa->ifa_family != d->family)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*ifa), addr_attr, tb);
	/* IPv4 peer addresses put the peer in IFA_ADDRESS: ours is IFA_LOCAL */
	addr = tb[IFA_LOCAL] ?: tb[IFA_ADDRESS];
	if (!addr || mnl_attr_get_payload_len(addr) != (unsigned int)addr_len(d->family))
		return MNL_CB_OK;
	if (d->n++ >= d->max)
		return MNL_CB_OK;
	o = &d->out[d->n - 1];
	memset(o, 0, sizeof(*o));
	o->family = d->family;
	memcpy(&o->a, mnl_attr_get_payload(addr), addr_len(d->family));
	o->plen = ifa->ifa_prefixlen;
	o->scope = ifa->ifa_scope;
	o->flags = tb[IFA_FLAGS] ? mnl_attr_get_u32(tb[IFA_FLAGS]) : ifa->ifa_flags;
	o->proto = tb[IFA_PROTO] ? mnl_attr_get_u8(tb[IFA_PROTO]) : 0;
	return MNL_CB_OK;
}

int rtnl_addr_list(struct rtnl *r, int ifindex, int family, struct rtnl_addr *out,
		   int max)
{
	struct addr_dump d = { .ifindex = ifindex, .family = family, .max = max,
			       .out = out };
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	int err;

	nlh = nl_msg(buf, RTM_GETADDR, NLM_F_DUMP, sizeof(*ifa), (void **)&ifa);
	ifa->ifa_family = family;
	err = talk(r, nlh, addr_cb, &d);
	return err ?: d.n;
}

/* ---- routes and neighbours --------------------------------------------- */

static struct nlmsghdr *route_msg(char *buf, int type, int flags, int ifindex,
				  struct in_addr dst, unsigned int plen)
{
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;

	nlh = nl_msg(buf, type, flags, sizeof(*rtm), (void **)&rtm);
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = plen;
	rtm->rtm_table = RT_TABLE_MAIN;
	/* a delete matches only routes of this protocol: never someone else's */
	rtm->rtm_protocol = RTNL_PROTO_BROUTER;
	if (plen)
		mnl_attr_put(nlh, RTA_DST, 4, &dst);
	mnl_attr_put_u32(nlh, RTA_OIF, ifindex);
	return nlh;
}

int rtnl_route4_add(struct rtnl *r, int ifindex, struct in_addr dst,
		    unsigned int plen, struct in_addr gw, unsigned int mtu)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	struct nlattr *nest;

	nlh = route_msg(buf, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, ifindex, dst, plen);
	rtm = mnl_nlmsg_get_payload(nlh);
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	/* the next hop is not on any subnet of the link: take it as on-link */
	rtm->rtm_flags = RTNH_F_ONLINK;
	mnl_attr_put(nlh, RTA_GATEWAY, 4, &gw);
	if (mtu) {
		nest = mnl_attr_nest_start(nlh, RTA_METRICS);
		mnl_attr_put_u32(nlh, RTAX_MTU, mtu);
		mnl_attr_nest_end(nlh, nest);
	}
	return talk(r, nlh, NULL, NULL);
}

int rtnl_route4_del(struct rtnl *r, int ifindex, struct in_addr dst,
		    unsigned int plen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;

	nlh = route_msg(buf, RTM_DELROUTE, 0, ifindex, dst, plen);
	rtm = mnl_nlmsg_get_payload(nlh);
	rtm->rtm_scope = RT_SCOPE_NOWHERE; /* any scope */
	return talk(r, nlh, NULL, NULL);
}

static struct nlmsghdr *neigh_msg(char *buf, int type, int flags, int ifindex,
				  struct in_addr ip)
{
	struct nlmsghdr *nlh;
	struct ndmsg *ndm;

	nlh = nl_msg(buf, type, flags, sizeof(*ndm), (void **)&ndm);
	ndm->ndm_family = AF_INET;
	ndm->ndm_ifindex = ifindex;
	ndm->ndm_state = NUD_PERMANENT;
	mnl_attr_put(nlh, NDA_DST, 4, &ip);
	return nlh;
}

int rtnl_neigh4_add(struct rtnl *r, int ifindex, struct in_addr ip,
		    const uint8_t mac[6])
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;

	nlh = neigh_msg(buf, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, ifindex, ip);
	mnl_attr_put(nlh, NDA_LLADDR, 6, mac);
	return talk(r, nlh, NULL, NULL);
}

int rtnl_neigh4_del(struct rtnl *r, int ifindex, struct in_addr ip)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];

	return talk(r, neigh_msg(buf, RTM_DELNEIGH, 0, ifindex, ip), NULL, NULL);
}

/* ---- links ---------------------------------------------------------------- */

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *a;
	int *mtu = data;

	mnl_attr_for_each(a, nlh, sizeof(struct ifinfomsg))
		if (mnl_attr_get_type(a) == IFLA_MTU &&
		    mnl_attr_get_payload_len(a) >= 4)
			*mtu = (int)mnl_attr_get_u32(a);
	return MNL_CB_OK;
}

int rtnl_link_mtu(struct rtnl *r, int ifindex)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	int mtu = -ENODATA, err;

	nlh = nl_msg(buf, RTM_GETLINK, 0, sizeof(*ifi), (void **)&ifi);
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	err = talk(r, nlh, link_cb, &mtu);
	return err ?: mtu;
}
