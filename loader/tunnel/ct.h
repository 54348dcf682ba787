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

#endif /* BR_CT_H */
