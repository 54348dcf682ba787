// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Router advertisements seen on the WAN port. The prefixes they announce
 * are the sources a LAN host may use (RFC 6092 REC-5), and MAP-E derives
 * its addresses from them.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <sys/socket.h>

#include "common/log.h"
#include "fw/ra.h"

int ra_open(const char *ifname, int ifindex)
{
	struct icmp6_filter filter;
	int fd, on = 1, hops = 255;

	fd = socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMPV6);
	if (fd < 0)
		return -errno;
	ICMP6_FILTER_SETBLOCKALL(&filter);
	ICMP6_FILTER_SETPASS(ND_ROUTER_ADVERT, &filter);
	if (setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof(filter)) ||
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, strlen(ifname)) ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on, sizeof(on)) ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof(hops)) ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &ifindex, sizeof(ifindex))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

int ra_solicit(int fd, int ifindex)
{
	struct sockaddr_in6 all_routers = {
		.sin6_family = AF_INET6,
		.sin6_scope_id = ifindex,
	};
	struct nd_router_solicit rs = { .nd_rs_type = ND_ROUTER_SOLICIT };

	inet_pton(AF_INET6, "ff02::2", &all_routers.sin6_addr);
	if (sendto(fd, &rs, sizeof(rs), 0, (struct sockaddr *)&all_routers,
		   sizeof(all_routers)) < 0)
		return -errno;
	return 0;
}

int ra_parse(const __u8 *buf, size_t len, struct ra_prefix *out, int max)
{
	const struct nd_opt_prefix_info *pi;
	size_t off = sizeof(struct nd_router_advert), olen;
	int n = 0;

	if (len < off || buf[0] != ND_ROUTER_ADVERT || buf[1] != 0)
		return 0;
	/* options: type, length in units of 8 bytes (RFC 4861 4.6) */
	while (off + 2 <= len) {
		olen = buf[off + 1] * 8;
		if (!olen || off + olen > len)
			return 0; /* malformed: ignore the whole RA, as hosts do */
		pi = (const void *)(buf + off);
		if (buf[off] == ND_OPT_PREFIX_INFORMATION &&
		    olen == sizeof(*pi) && pi->nd_opt_pi_prefix_len <= 128 &&
		    n < max) {
			out[n].p = prefix6_of(&pi->nd_opt_pi_prefix,
					      pi->nd_opt_pi_prefix_len);
			out[n].onlink = !!(pi->nd_opt_pi_flags_reserved &
					   ND_OPT_PI_FLAG_ONLINK);
			out[n].autonomous = !!(pi->nd_opt_pi_flags_reserved &
					       ND_OPT_PI_FLAG_AUTO);
			out[n].valid = ntohl(pi->nd_opt_pi_valid_time);
			n++;
		}
		off += olen;
	}
	return n;
}

int ra_read(int fd, struct ra_prefix *out, int max)
{
	__u8 buf[1500], ctrl[CMSG_SPACE(sizeof(int))];
	struct sockaddr_in6 from;
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr msg = {
		.msg_name = &from, .msg_namelen = sizeof(from),
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctrl, .msg_controllen = sizeof(ctrl),
	};
	struct cmsghdr *cm;
	int hops = -1;
	ssize_t n;

	n = recvmsg(fd, &msg, 0);
	if (n < 0)
		return -errno;
	for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm))
		if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_HOPLIMIT)
			memcpy(&hops, CMSG_DATA(cm), sizeof(hops));
	/* RFC 4861 6.1.2: only link-local routers, only from this link */
	if (hops != 255 || !IN6_IS_ADDR_LINKLOCAL(&from.sin6_addr))
		return 0;
	return ra_parse(buf, n, out, max);
}
