/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Conntrack entries of an IPv4 address that is going away (ctnetlink over
 * libmnl). A MAP-E CE address is the SNAT/DNAT address of every LAN flow;
 * when renumbering replaces it, the kernel's entries still NAT each flow
 * that keeps going to the old one (SNAT to a fixed address, unlike
 * MASQUERADE, is not cleaned up when the address is removed), and those
 * flows would never leave again.
 */
#ifndef BR_CT_H
#define BR_CT_H

#include <netinet/in.h>

/*
 * Delete every IPv4 conntrack entry with @addr as source or destination
 * of either direction (NATed to it, or to/from it). Returns how many were
 * deleted, or -errno.
 */
int ct_flush_addr4(struct in_addr addr);

/* Port use of an address in conntrack, by protocol. */
enum { CT_PU_TCP, CT_PU_UDP, CT_PU_ICMP, CT_PU_NPROTO };

struct ct_port_use {
	unsigned int entries[CT_PU_NPROTO]; /* entries whose replies go to it */
	unsigned int ports[CT_PU_NPROTO]; /* distinct ports (ICMP: echo ids) */
};

/*
 * Count the IPv4 conntrack entries whose reply tuple is sent to @addr
 * (a MAP-E CE address: every connection NATed into its port set), and
 * the distinct destination ports of those replies. 0 or -errno.
 */
int ct_port_use(struct in_addr addr, struct ct_port_use *out);

#endif /* BR_CT_H */
