/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The IPv4 fast path's dealings with conntrack from user space: the
 * timeouts it refreshes entries to, and the entries it asks to stop
 * window tracking (see struct br_fp4_ask).
 */
#ifndef BR_FP4_CONNTRACK_H
#define BR_FP4_CONNTRACK_H

#include "brouter/abi.h"

/*
 * The kernel's conntrack timeouts of this network namespace
 * (/proc/sys/net/netfilter/nf_conntrack_*) into @ms, in milliseconds.
 * Returns 0, or -errno with @ms untouched (conntrack not loaded).
 */
int ct_timeouts_read(__u32 ms[BR_FP4_TO_MAX]);

/* An open ctnetlink socket for ct_tcp_liberal(). */
struct rtnl;
int ct_open(struct rtnl *nl);

/*
 * Set IP_CT_TCP_FLAG_BE_LIBERAL on both directions of the TCP entry
 * @a names, as the kernel's flow offload does for the flows it takes
 * over. 0, or -errno (-ENOENT: the entry is gone).
 */
int ct_tcp_liberal(struct rtnl *nl, const struct br_fp4_ask *a);

#endif /* BR_FP4_CONNTRACK_H */
