/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * brouterd's side of the IPv4 fast path: its part of the settings, the
 * flush (one generation bump, which anything that changes what the
 * kernel would decide calls), and brouterd's answers to what XDP asks.
 */
#ifndef BR_DAEMON_FP4_H
#define BR_DAEMON_FP4_H

#include <stdbool.h>

#include "brouter/abi.h"
#include "common/rtnl.h"

struct brouterd;
struct br_config;
struct ring_buffer;

struct fp4_run {
	__u32 timeout_ms[BR_FP4_TO_MAX]; /* conntrack's, read at start and reload */
	struct ring_buffer *asks;	 /* "fp4_ask" */
	struct rtnl ct;			 /* ctnetlink, for the asks */
	unsigned long liberal; /* entries freed from window tracking */
};

/* Read conntrack's timeouts (start, reload); a failure keeps the last ones. */
void fp4_timeouts(struct brouterd *d);

/* The fast path's fields of settings @s from config @c and @d's state. */
void fp4_settings(const struct brouterd *d, const struct br_config *c,
		  struct br_settings *s);

/*
 * End every decision the fast path holds: the next packet of each flow
 * goes back to the kernel, and a flow is taken over again only once the
 * kernel has forwarded one of its packets under the rules now in force.
 * For ruleset changes, reloads and tunnel changes; @why is logged.
 */
void fp4_flush(struct brouterd *d, const char *why);

/*
 * Listen to XDP's requests (brouterd's poll() loop); without them the
 * fast path takes no TCP over (logged). A ruleset change reaches it
 * through the nftables watch (main.c: nft_changed()). fp4_close() undoes
 * it.
 */
void fp4_open(struct brouterd *d);
void fp4_close(struct brouterd *d);
int fp4_asks_fd(const struct brouterd *d);
void fp4_asks_consume(struct brouterd *d);

#endif /* BR_DAEMON_FP4_H */
