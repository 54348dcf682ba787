/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Network interfaces by name: ifindex, MAC, promiscuous mode, GRO (classic ioctls). */
#ifndef BR_NETDEV_H
#define BR_NETDEV_H

#include <linux/types.h>

/* Ifindex of an Ethernet interface @name, or -errno with a message. */
int netdev_resolve(const char *name);

/* Hardware address of @name into @mac[6]. */
int netdev_mac(const char *name, __u8 *mac);

/* Promiscuous mode: read and set the user-visible IFF_PROMISC flag. */
int netdev_get_promisc(const char *name);
int netdev_set_promisc(const char *name, int on);

/*
 * GRO on @name: 1, 0, or -errno. In the namespace @netns_fd (a veth's
 * peer elsewhere), or this one when -1.
 */
int netdev_gro(const char *name, int netns_fd);

#endif /* BR_NETDEV_H */
