/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * MAP-E NAPT stand-ins (see bpf/tun/napt.h): conntrack NATs a shared CE's
 * connections into one contiguous range of ports, each standing for one
 * port of the set, so that its own port search covers the whole set for
 * every destination. Which stand-in is which port, and the "nat_ports"
 * map the programs swap them by.
 */
#ifndef BR_TUNNEL_NAPT_H
#define BR_TUNNEL_NAPT_H

#include <stdbool.h>
#include <stdint.h>

#include "tunnel/mape_rule.h"

struct napt_plan {
	uint16_t first, last; /* the stand-ins: first..last */
	int n;		      /* last - first + 1 */
	uint16_t *real; /* real[i]: the port of the set first + i stands for */
	int left_out; /* ports of the set no stand-in fits (see napt_plan()) */
};

/* Stand-ins are for a shared address whose set is more than one run. */
bool napt_applies(const struct mape_ce *ce);

/*
 * Stand-ins for the NAT ports @r[0..@n_r) (ascending ranges: the set
 * without reserved ports), avoiding every port of @reserved[0..@n_res):
 * a reply from a forwarded port must not pass for a stand-in. The range
 * is the lowest that fits: 1..N when N ports fit below the set (ports
 * under 2^(16 - a) belong to no CE, RFC 7597 5.1), else just above a
 * reserved port. Should reserved ports leave no gap of N ports, the
 * widest gap is used and left_out says how many ports of the set stay
 * unused. 0 (free with napt_plan_free()) or -errno.
 */
int napt_plan(const struct mape_port_range *r, int n_r,
	      const uint16_t *reserved, int n_res, struct napt_plan *out);
void napt_plan_free(struct napt_plan *p);

/* Write "nat_ports" (fd) for @p, every other port cleared; NULL: clear all. */
int napt_map_write(int fd, const struct napt_plan *p);

#endif /* BR_TUNNEL_NAPT_H */
