/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Router advertisements on the WAN port: listening, soliciting, parsing. */
#ifndef BR_RA_H
#define BR_RA_H

#include <netinet/in.h>
#include <linux/types.h>

#include "common/prefix.h"

/* A prefix information option of a router advertisement (RFC 4861 4.6.2). */
struct ra_prefix {
	struct prefix6 p; /* host bits cleared */
	__u8 onlink;	/* L flag */
	__u8 autonomous; /* A flag */
	__u32 valid;	/* seconds; 0xffffffff = infinite, 0 = withdraw */
};

#define RA_MAX_PREFIXES 16
#define RA_LIFETIME_INFINITE 0xffffffffU

/* Raw ICMPv6 socket receiving router advertisements on @ifname. */
int ra_open(const char *ifname, int ifindex);

/* Send a router solicitation so the ISP's router answers now. */
int ra_solicit(int fd, int ifindex);

/*
 * Read one advertisement. Returns the number of prefixes stored in @out,
 * 0 for a packet to ignore (not from a link-local router, hop limit not
 * 255, malformed), or -errno (-EAGAIN when nothing is queued).
 */
int ra_read(int fd, struct ra_prefix *out, int max);

/* Parse the body of an RA (ICMPv6 header included): pure, unit-testable. */
int ra_parse(const __u8 *buf, size_t len, struct ra_prefix *out, int max);

#endif /* BR_RA_H */
