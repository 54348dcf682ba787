/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The "prefixes" map: the sources a LAN host may use towards the WAN
 * (RFC 6092 REC-5), learned from router advertisements and configured
 * (firewall.lan-prefixes). An entry may be both; each source is a flag.
 */
#ifndef BR_PREFIXES_H
#define BR_PREFIXES_H

#include "brouter/abi.h"
#include "common/prefix.h"
#include "fw/ra.h"

/*
 * The map entry of a configured prefix: BR_PFX_CONFIG, valid whatever its
 * expires_ns, which holds the lifetime of an RA that advertised it too.
 */
void prefixes_config_entry(const struct prefix6 *p, struct br_prefix_key *key,
			   struct br_prefix_val *val);

/*
 * Make the BR_PFX_CONFIG entries of "prefixes" (fd) exactly @p[0..n): add
 * or flag the configured ones (they never expire; an RA-learned flag is
 * kept), unflag or delete those no longer configured. 0 or -errno.
 */
int prefixes_sync_config(int map_fd, const struct prefix6 *p, int n);

/*
 * Apply the prefixes of one RA to the map: add or refresh each with its
 * valid lifetime, remove those withdrawn (valid 0). Returns how many were
 * new, logging each.
 */
int prefixes_from_ra(int map_fd, const struct ra_prefix *p, int n);

/*
 * Drop entries whose RA lifetime ran out (the data path ignores them
 * already); a configured one only loses its BR_PFX_RA flag.
 */
void prefixes_expire(int map_fd);

/* When the first RA lifetime in the map ends (CLOCK_MONOTONIC ns), 0: none. */
__u64 prefixes_next_expiry(int map_fd);

#endif /* BR_PREFIXES_H */
