/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef BR_PREFIXES_H
#define BR_PREFIXES_H

#include "fw/ra.h"

/*
 * Apply the prefixes of one RA to the "prefixes" map (fd): add or refresh
 * each with its valid lifetime, remove those withdrawn (valid 0). Returns
 * how many were new, logging each.
 */
int prefixes_from_ra(int map_fd, const struct ra_prefix *p, int n);

/* Add a configured prefix that never expires. */
int prefixes_add_static(int map_fd, const struct in6_addr *prefix, __u8 len);

/* Drop entries whose lifetime ran out (the data path ignores them already). */
void prefixes_expire(int map_fd);

#endif /* BR_PREFIXES_H */
