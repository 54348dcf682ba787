// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rtnetlink events on brouterd's poll loop: its ports going, coming back,
 * changing MAC, MTU or state, a veth peer changing, and on the WAN the
 * addresses, routes and neighbour the tunnel follows or put there, and
 * the IPv6 routes and neighbours its next hops ("tun_nh") come from. One
 * drain of the socket notes what changed; the reactions run once after
 * it, however many messages a change made. --wait waits on them too.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/signalfd.h>

#include "common/log.h"
#include "common/netdev.h"
#include "daemon/brouterd.h"

/* What one drain of the socket found. */
struct ev_batch {
	struct brouterd *d;
	bool wan_changed; /* an address or the MTU of the WAN */
	bool keep;	  /* the tunnel's addresses, routes, neighbour: look */
	bool macs;	  /* a port's MAC may have changed */
	bool next_hops;	  /* IPv6 routes, WAN neighbours: tun_nh */
	int err;	  /* a port came back and could not be re-attached */
};

int events_open(struct brouterd *d)
{
	static const unsigned int groups[] = {
		RTNLGRP_LINK,	    RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR,
		RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE,	 RTNLGRP_NEIGH,
	};
	int err;

	err = nl_listen(&d->events, NETLINK_ROUTE, groups,
			sizeof(groups) / sizeof(groups[0]))
		      ?: rtnl_open(&d->rq);
	if (err) {
		pr_err("rtnetlink sockets: %s", strerror(-err));
		events_close(d);
	}
	return err;
}

void events_close(struct brouterd *d)
{
	rtnl_close(&d->events);
	rtnl_close(&d->rq);
}

/* A link message about port @p, or about a device that has its name. */
static void port_link(struct ev_batch *b, int p, const struct rtnl_link *l,
		      bool del)
{
	struct brouterd *d = b->d;
	struct br_port_state *ps = &d->ps[p];
	bool named = !strcmp(l->ifname, d->port[p].ifname);

	if (ps->gone) {
		if (named && !del && !b->err)
			b->err = port_back(d, p, l->ifindex);
		return;
	}
	if (l->ifindex != d->port[p].ifindex)
		return;
	if (del || !named) {
		port_gone(d, p, del);
		return;
	}
	if ((l->flags ^ ps->flags) & IFF_UP) {
		pr_info("%s: link %s", l->ifname,
			l->flags & IFF_UP ? "up" : "down");
		/* what the kernel flushes with a link going down comes back now */
		b->keep |= p == BR_PORT_WAN && (l->flags & IFF_UP);
	}
	b->wan_changed |= p == BR_PORT_WAN && l->mtu != ps->mtu;
	b->macs = true; /* cheap to compare; settings only change if it did */
	ps->flags = l->flags;
	ps->mtu = l->mtu;
}

static void on_link(struct ev_batch *b, const struct nlmsghdr *nlh)
{
	bool del = nlh->nlmsg_type == RTM_DELLINK;
	struct rtnl_link l;
	int p;

	if (rtnl_link_parse(nlh, &l))
		return;
	for (p = 0; p < BR_NPORTS; p++) {
		port_link(b, p, &l, del);
		/* a veth peer here in this namespace: its GRO or XDP may have changed */
		if (!b->d->ps[p].gone && (l.ifindex == b->d->port[p].ifindex ||
					  (l.ifindex == b->d->ps[p].peer &&
					   b->d->ps[p].peer_netnsid < 0)))
			veth_check(b->d, p);
	}
}

static int on_event(const struct nlmsghdr *nlh, void *data)
{
	struct ev_batch *b = data;
	int wan = b->d->ps[BR_PORT_WAN].gone ? 0
					     : b->d->port[BR_PORT_WAN].ifindex;
	const struct ifaddrmsg *ifa;
	const struct rtmsg *rtm;
	const struct ndmsg *ndm;

	switch (nlh->nlmsg_type) {
	case RTM_NEWLINK:
	case RTM_DELLINK:
		on_link(b, nlh);
		break;
	case RTM_NEWADDR:
	case RTM_DELADDR:
		ifa = mnl_nlmsg_get_payload(nlh);
		if ((int)ifa->ifa_index == wan) {
			b->wan_changed = true;
			b->keep |= nlh->nlmsg_type == RTM_DELADDR;
		}
		break;
	case RTM_NEWROUTE:
	case RTM_DELROUTE:
		rtm = mnl_nlmsg_get_payload(nlh);
		b->keep |= nlh->nlmsg_type == RTM_DELROUTE &&
			   rtm->rtm_family == AF_INET &&
			   rtm->rtm_protocol == RTNL_PROTO_BROUTER;
		b->next_hops |= rtm->rtm_family == AF_INET6;
		break;
	case RTM_NEWNEIGH:
	case RTM_DELNEIGH:
		ndm = mnl_nlmsg_get_payload(nlh);
		b->keep |= nlh->nlmsg_type == RTM_DELNEIGH &&
			   ndm->ndm_family == AF_INET &&
			   ndm->ndm_ifindex == wan;
		b->next_hops |= ndm->ndm_family == AF_INET6 &&
				ndm->ndm_ifindex == wan;
		break;
	}
	return MNL_CB_OK;
}

/* Events were lost: look at the ports and the WAN as if each had changed. */
static void resync(struct ev_batch *b)
{
	struct brouterd *d = b->d;
	struct rtnl_link l;
	int p, ifindex;

	for (p = 0; p < BR_NPORTS; p++) {
		ifindex = if_nametoindex(d->port[p].ifname);
		if (!d->ps[p].gone && ifindex != d->port[p].ifindex)
			port_gone(d, p, true);
		if (d->ps[p].gone) {
			if (ifindex && !b->err)
				b->err = port_back(d, p, ifindex);
		} else if (!rtnl_link_get(&d->rq, ifindex, -1, &l)) {
			port_link(b, p, &l, false);
		}
	}
	b->wan_changed = b->keep = b->macs = b->next_hops = true;
}

int events_read(struct brouterd *d)
{
	char buf[MNL_SOCKET_BUFFER_SIZE * 2];
	struct ev_batch b = { .d = d };
	int err;

	err = nl_read_events(&d->events, buf, sizeof(buf), on_event, &b);
	if (err == -ENOBUFS) {
		pr_warn("rtnetlink: events were lost; looking at the ports again");
		resync(&b);
	} else if (err) {
		pr_err("rtnetlink events: %s", strerror(-err));
		return err;
	}
	if (b.err)
		return b.err; /* said why; a service manager restarts us */
	if (b.macs)
		follow_port_macs(d);
	if (b.wan_changed && tunnel_run_wan_changed(&d->tun))
		fp4_flush(d, "tunnel changed");
	else if (b.next_hops)
		tunnel_run_next_hops(&d->tun);
	if (b.keep)
		tunnel_run_keep(&d->tun);
	return 0;
}

/* Ports missing at start (--wait): 1 when both are there, 0 if not yet. */
static int ports_there(struct brouterd *d, bool say)
{
	int p, n = 0;

	for (p = 0; p < BR_NPORTS; p++) {
		if (if_nametoindex(d->cfg.opt.ifname[p])) {
			n++;
			continue;
		}
		if (say)
			pr_info("waiting for the %s port %s to appear",
				p == BR_PORT_LAN ? "LAN" : "WAN",
				d->cfg.opt.ifname[p]);
	}
	return n == BR_NPORTS;
}

/* Discard whatever is queued: only the names matter, read afresh. */
static int drain(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	(void)data;
	return MNL_CB_OK;
}

int wait_for_ports(struct brouterd *d, int sig_fd)
{
	struct pollfd pfd[2] = { { .fd = sig_fd, .events = POLLIN } };
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct signalfd_siginfo si;

	if (!d->cfg.opt.wait || ports_there(d, true))
		return 0;
	pfd[1] = (struct pollfd){ .fd = mnl_socket_get_fd(d->events.nl),
				  .events = POLLIN };
	/* the socket listens already: a port created from now on is seen */
	while (!ports_there(d, false)) {
		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			return -errno;
		if (pfd[1].revents & POLLIN)
			nl_read_events(&d->events, buf, sizeof(buf), drain,
				       NULL);
		/* a reload or --clear has nothing to act on yet */
		if (read(sig_fd, &si, sizeof(si)) == sizeof(si) &&
		    si.ssi_signo != SIGHUP && si.ssi_signo != SIGUSR1) {
			pr_info("%s while waiting for the ports: exiting",
				strsignal(si.ssi_signo));
			return 1;
		}
	}
	pr_info("ports %s and %s are there", d->cfg.opt.ifname[BR_PORT_LAN],
		d->cfg.opt.ifname[BR_PORT_WAN]);
	return 0;
}
