// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Interface lookups and flags through the classic ioctls. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "common/log.h"
#include "common/netdev.h"

static int ifreq_ioctl(const char *name, unsigned long req, struct ifreq *ifr)
{
	int fd, err = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (req != SIOCSIFFLAGS)
		memset(ifr, 0, sizeof(*ifr));
	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", name);
	if (ioctl(fd, req, ifr))
		err = -errno;
	close(fd);
	return err;
}

int netdev_resolve(const char *name)
{
	struct ifreq ifr;
	int ifindex, err;

	ifindex = if_nametoindex(name);
	if (!ifindex) {
		pr_err("no such interface: %s", name);
		return -ENODEV;
	}
	err = ifreq_ioctl(name, SIOCGIFHWADDR, &ifr);
	if (err) {
		pr_err("%s: read hardware address: %s", name, strerror(-err));
		return err;
	}
	if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER) {
		pr_err("%s is not an Ethernet interface (link type %d)", name,
		       ifr.ifr_hwaddr.sa_family);
		return -EINVAL;
	}
	return ifindex;
}

int netdev_mac(const char *name, __u8 *mac)
{
	struct ifreq ifr;
	int err;

	err = ifreq_ioctl(name, SIOCGIFHWADDR, &ifr);
	if (!err)
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	return err;
}

int netdev_get_promisc(const char *name)
{
	struct ifreq ifr;
	int err;

	err = ifreq_ioctl(name, SIOCGIFFLAGS, &ifr);
	if (err)
		return err;
	return !!(ifr.ifr_flags & IFF_PROMISC);
}

int netdev_set_promisc(const char *name, int on)
{
	struct ifreq ifr;
	int err;

	err = ifreq_ioctl(name, SIOCGIFFLAGS, &ifr);
	if (err)
		return err;
	if (on)
		ifr.ifr_flags |= IFF_PROMISC;
	else
		ifr.ifr_flags &= ~IFF_PROMISC;
	return ifreq_ioctl(name, SIOCSIFFLAGS, &ifr);
}

int netdev_gro(const char *name, int netns_fd)
{
	struct ethtool_value ev = { .cmd = ETHTOOL_GGRO };
	struct ifreq ifr = { .ifr_data = (void *)&ev };
	int fd, self = -1, err = 0;

	/* a socket made inside @netns_fd asks about that namespace's devices */
	if (netns_fd >= 0) {
		self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
		if (self < 0 || setns(netns_fd, CLONE_NEWNET)) {
			err = -errno;
			goto out;
		}
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (netns_fd >= 0 && setns(self, CLONE_NEWNET))
		err = -errno; /* cannot happen: our own namespace */
	if (fd < 0) {
		err = err ?: -errno;
		goto out;
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, SIOCETHTOOL, &ifr))
		err = err ?: -errno;
	close(fd);
out:
	if (self >= 0)
		close(self);
	return err ?: !!ev.data;
}
