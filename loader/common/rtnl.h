/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Just enough rtnetlink (libmnl) for the tunnels: addresses, IPv4 routes
 * through a fake next hop, permanent IPv4 neighbours, the MTU of a link;
 * and for brouterd's events: links, and sockets that listen. Every call
 * returns 0 or -errno; the caller logs with its context.
 */
#ifndef BR_RTNL_H
#define BR_RTNL_H

#include <stdbool.h>
#include <stdint.h>
#include <net/if.h>
#include <netinet/in.h>

/*
 * Routes and addresses brouterd adds carry this protocol id (rtm_protocol,
 * IFA_PROTO): `ip route` shows "proto 180", and what a killed brouterd
 * left behind is recognised as its own.
 */
#define RTNL_PROTO_BROUTER 180

struct mnl_socket;

struct rtnl {
	struct mnl_socket *nl;
	unsigned int portid;
	unsigned int seq;
};

struct nlmsghdr;

/*
 * Any netlink bus (NETLINK_ROUTE, NETLINK_NETFILTER, ...): open and bind
 * @r; close it with rtnl_close().
 */
/*
 * Start a request of @type (@flags besides NLM_F_REQUEST) in @buf, with a
 * zeroed family header of @hdr_len bytes returned in *@hdr.
 */
struct nlmsghdr *nl_msg(char *buf, __u16 type, __u16 flags, size_t hdr_len,
		       void **hdr);
/* The same for ctnetlink message @type (IPCTNL_MSG_CT_*) about IPv4 entries. */
struct nlmsghdr *ct_msg(char *buf, __u16 type, __u16 flags);
int nl_open(struct rtnl *r, int bus);

/*
 * Send @nlh (its sequence number is set here) and run @cb (may be NULL)
 * over the replies, read into @buf of @len bytes, until the ack, the end
 * of a dump or an error. @buf may be the one @nlh was built in.
 */
typedef int (*nl_cb_t)(const struct nlmsghdr *nlh, void *data);
int nl_talk(struct rtnl *r, struct nlmsghdr *nlh, void *buf, size_t len,
	    nl_cb_t cb, void *data);

/* One address of a link, as an RTM_GETADDR dump shows it. */
struct rtnl_addr {
	int family;		/* AF_INET or AF_INET6 */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} a;
	unsigned int plen;
	unsigned int flags;	/* IFA_F_* (IFA_FLAGS when present) */
	unsigned int scope;	/* RT_SCOPE_* */
	unsigned int proto;	/* IFA_PROTO, 0 when unset */
};

int rtnl_open(struct rtnl *r);
void rtnl_close(struct rtnl *r);

/*
 * Add @addr/@plen (family from @family) to @ifindex with IFA_PROTO
 * RTNL_PROTO_BROUTER. IPv6 addresses get IFA_F_NODAD (the address is
 * computed, nobody else may own it) and a preferred lifetime of 0, so the
 * kernel answers ND for it but never picks it as a source for its own
 * traffic. -EEXIST when it is already there.
 */
int rtnl_addr_add(struct rtnl *r, int ifindex, int family, const void *addr,
		  unsigned int plen);
int rtnl_addr_del(struct rtnl *r, int ifindex, int family, const void *addr,
		  unsigned int plen);

/* Addresses of @family on @ifindex into @out; the count (may exceed @max). */
int rtnl_addr_list(struct rtnl *r, int ifindex, int family, struct rtnl_addr *out,
		   int max);

/*
 * IPv4 route @dst/@plen via @gw "onlink" out of @ifindex in the main
 * table, with @mtu (0: none) and protocol RTNL_PROTO_BROUTER. -EEXIST if
 * a route for that prefix exists.
 */
int rtnl_route4_add(struct rtnl *r, int ifindex, struct in_addr dst,
		    unsigned int plen, struct in_addr gw, unsigned int mtu);
/* Deletes only a route of protocol RTNL_PROTO_BROUTER (-ESRCH if none). */
int rtnl_route4_del(struct rtnl *r, int ifindex, struct in_addr dst,
		    unsigned int plen);

/* Permanent IPv4 neighbour entry (created or replaced). */
int rtnl_neigh4_add(struct rtnl *r, int ifindex, struct in_addr ip,
		    const uint8_t mac[6]);
int rtnl_neigh4_del(struct rtnl *r, int ifindex, struct in_addr ip);

/* MTU of @ifindex, or -errno. */
int rtnl_link_mtu(struct rtnl *r, int ifindex);

/* ---- rtnl_link.c: links, neighbours asked for, listening to events ---- */

/* What a link message says (RTM_NEWLINK, RTM_DELLINK, a GETLINK reply). */
struct rtnl_link {
	int ifindex;
	char ifname[IF_NAMESIZE];
	unsigned int flags; /* IFF_* */
	unsigned int mtu;
	uint8_t mac[6];
	bool has_mac;
	char kind[16];	  /* IFLA_INFO_KIND ("veth", ...), "" if none */
	int link;	  /* IFLA_LINK: a veth's peer ifindex, 0 if none */
	int link_netnsid; /* the namespace of @link, -1: this one */
	bool xdp;	  /* an XDP program is attached */
};

int rtnl_link_parse(const struct nlmsghdr *nlh, struct rtnl_link *out);

/*
 * The link @ifindex, in this namespace (@netnsid -1) or in the one this
 * namespace knows as @netnsid (a veth's peer). 0, -ENODEV, or -errno.
 */
int rtnl_link_get(struct rtnl *r, int ifindex, int netnsid,
		  struct rtnl_link *out);

/* The id this namespace knows the namespace @netns_fd by, -1: none, or -errno. */
int rtnl_nsid_of(struct rtnl *r, int netns_fd);

/* Is the IPv4 neighbour @ip on @ifindex there? 1, 0, or -errno. */
int rtnl_neigh4_present(struct rtnl *r, int ifindex, struct in_addr ip);

/*
 * A socket of netlink @bus that receives the multicast @groups[0..@n)
 * (RTNLGRP_*, NFNLGRP_*), with a receive buffer big enough for bursts.
 */
int nl_listen(struct rtnl *r, int bus, const unsigned int *groups, int n);

/*
 * Run @cb over every event queued on @r (read into @buf of @len bytes)
 * without blocking. 0 once drained; -ENOBUFS when the kernel dropped
 * events (the caller must look again at whatever it follows); -errno.
 */
typedef int (*nl_event_cb_t)(const struct nlmsghdr *nlh, void *data);
int nl_read_events(struct rtnl *r, void *buf, size_t len, nl_event_cb_t cb,
		   void *data);

/* An IPv6 next hop: the gateway (or the destination, on-link), its MAC. */
struct rtnl_nh6 {
	struct in6_addr gw;
	int oif;     /* the device the route leaves by */
	int has_mac; /* the neighbour entry is resolved (NUD_VALID) */
	uint8_t mac[6];
};

/*
 * The kernel's next hop towards @dst from @src out of @oif (nexthop.c):
 * the route it would take and its neighbour entry. 0 with @nh filled
 * (has_mac 0 when the neighbour is not resolved), or -errno (no route).
 */
int rtnl_nexthop6(struct rtnl *r, const struct in6_addr *dst,
		  const struct in6_addr *src, int oif, struct rtnl_nh6 *nh);

#endif /* BR_RTNL_H */
