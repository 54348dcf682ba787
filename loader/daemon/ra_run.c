// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Router advertisements on the WAN for brouterd: listening, soliciting
 * while no prefix is known, and the prefixes' lifetimes, each on a timer
 * of its own (daemon/timers.h) rather than a look once a second.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#include "common/log.h"
#include "common/mono.h"
#include "daemon/brouterd.h"
#include "fw/prefixes.h"
#include "fw/ra.h"
#include "xdp_brouter.skel.h"

/* Router solicitations while no WAN prefix is known, this far apart. */
#define BR_RS_INTERVAL_NS (10 * 1000000000ULL)

static void solicit(struct brouterd *d)
{
	int err;

	timer_at(&d->timers, BR_T_RS, 0);
	if (d->ra_fd < 0 || d->wan_prefixes)
		return;
	err = ra_solicit(d->ra_fd, d->port[BR_PORT_WAN].ifindex);
	if (err)
		pr_debug("router solicitation on %s: %s",
			 d->port[BR_PORT_WAN].ifname, strerror(-err));
	timer_at(&d->timers, BR_T_RS, mono_ns() + BR_RS_INTERVAL_NS);
}

/* RAs are optional: brouter bridges without them. */
void ra_start(struct brouterd *d)
{
	struct br_port_attach *wan = &d->port[BR_PORT_WAN];

	d->ra_fd = ra_open(wan->ifname, wan->ifindex);
	if (d->ra_fd < 0)
		pr_warn("%s: cannot listen for router advertisements (%s); outbound "
			"sources are limited to link-local and configured prefixes",
			wan->ifname, strerror(-d->ra_fd));
	/* a WAN that came back: its router has not seen us yet */
	d->wan_prefixes = 0;
	solicit(d);
}

void ra_stop(struct brouterd *d)
{
	if (d->ra_fd >= 0)
		close(d->ra_fd);
	d->ra_fd = -1;
	timer_at(&d->timers, BR_T_RS, 0);
}

/* The next RA lifetime to end, on its timer. */
void prefixes_arm(struct brouterd *d)
{
	timer_at(&d->timers, BR_T_PREFIXES,
		 prefixes_next_expiry(bpf_map__fd(d->xdp->maps.prefixes)));
}

void ra_receive(struct brouterd *d)
{
	struct ra_prefix pfx[RA_MAX_PREFIXES];
	int n;

	while ((n = ra_read(d->ra_fd, pfx, RA_MAX_PREFIXES)) >= 0) {
		d->wan_prefixes += prefixes_from_ra(
			bpf_map__fd(d->xdp->maps.prefixes), pfx, n);
		if (tunnel_run_prefixes(&d->tun, pfx, n))
			fp4_flush(d, "tunnel changed");
		auto_prefixes(d, pfx, n);
	}
	if (n != -EAGAIN && n != -EWOULDBLOCK)
		pr_warn("read router advertisement: %s", strerror(-n));
	if (d->wan_prefixes)
		timer_at(&d->timers, BR_T_RS, 0);
	prefixes_arm(d);
}

void ra_timers(struct brouterd *d, unsigned int fired)
{
	if (fired & (1U << BR_T_PREFIXES)) {
		prefixes_expire(bpf_map__fd(d->xdp->maps.prefixes));
		prefixes_arm(d);
	}
	if (fired & (1U << BR_T_RS))
		solicit(d);
}
