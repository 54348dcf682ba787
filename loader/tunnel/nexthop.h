/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The IPv6 next hop of each tunnel's remote end, read from the kernel's
 * route and neighbour tables into the "tun_nh" map, for tc egress and
 * the IPv4 fast path (see struct br_tun_nh).
 */
#ifndef BR_TUNNEL_NEXTHOP_H
#define BR_TUNNEL_NEXTHOP_H

struct rtnl;

/*
 * Bring "tun_nh" (@nh_fd) in line with the tunnels of "tun_out"
 * (@out_fd) and the kernel's tables now: an entry per remote end whose
 * route leaves by @wan_ifindex, none for the others. Returns how many
 * entries changed, or -errno.
 */
int tunnel_nexthops_sync(struct rtnl *nl, int wan_ifindex, int out_fd,
			 int nh_fd);

#endif /* BR_TUNNEL_NEXTHOP_H */
