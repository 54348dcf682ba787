// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The LAN and WAN ports: which they are, promiscuous mode, programs attached. */
#include <errno.h>
#include <string.h>

#include "common/log.h"
#include "common/netdev.h"
#include "daemon/brouterd.h"
#include "xdp_brouter.skel.h"
#include "tc_ingress.skel.h"
#include "tc_egress.skel.h"

int resolve_ports(struct brouterd *d)
{
	int p, ifindex;

	for (p = 0; p < BR_NPORTS; p++) {
		ifindex = netdev_resolve(d->cfg.opt.ifname[p]);
		if (ifindex < 0)
			return ifindex;
		d->port[p].ifname = d->cfg.opt.ifname[p];
		d->port[p].ifindex = ifindex;
	}
	if (d->port[0].ifindex == d->port[1].ifindex) {
		pr_err("LAN and WAN are the same interface (%s = %s)",
		       d->cfg.opt.ifname[0], d->cfg.opt.ifname[1]);
		return -EINVAL;
	}
	return 0;
}

/* Promiscuous mode on port @p, remembering whether it was off before. */
int promisc_on(struct brouterd *d, int p)
{
	int before, err;

	before = netdev_get_promisc(d->port[p].ifname);
	if (before < 0) {
		pr_err("%s: read flags: %s", d->port[p].ifname,
		       strerror(-before));
		return before;
	}
	/* on because a killed brouterd set it: still ours to undo */
	if (before && d->prev.ifindex[p] == (__u32)d->port[p].ifindex &&
	    d->prev.promisc_set[p])
		before = 0;
	if (before)
		return 0;
	err = netdev_set_promisc(d->port[p].ifname, 1);
	if (err) {
		pr_err("%s: enable promiscuous mode: %s", d->port[p].ifname,
		       strerror(-err));
		return err;
	}
	d->promisc_before[p] = 0;
	return 0;
}

int enable_promisc(struct brouterd *d)
{
	int p, err;

	for (p = 0; p < BR_NPORTS; p++) {
		err = promisc_on(d, p);
		if (err)
			return err;
	}
	return 0;
}

void promisc_restore(struct brouterd *d, int p)
{
	int err;

	if (d->promisc_before[p] < 0)
		return;
	err = netdev_set_promisc(d->port[p].ifname, d->promisc_before[p]);
	if (err)
		pr_warn("%s: restore promiscuous mode: %s", d->port[p].ifname,
			strerror(-err));
	d->promisc_before[p] = -1;
}

void restore_promisc(struct brouterd *d)
{
	int p;

	for (p = 0; p < BR_NPORTS; p++)
		promisc_restore(d, p);
}

int attach_all(struct brouterd *d)
{
	int p, err;

	/*
	 * XDP first: its link attach fails cleanly (EBUSY) when another
	 * brouterd owns a port, before we touch that instance's tc filter.
	 * Multicast passed up in the few microseconds before tc is attached
	 * reaches the stack but is not copied across.
	 */
	for (p = 0; p < BR_NPORTS; p++) {
		if (d->attach == BR_XDP_ATTACH_LINK)
			err = attach_xdp(
				&d->port[p],
				bpf_program__fd(d->xdp->progs.xdp_brouter),
				d->cfg.opt.xdp_mode);
		else if (!d->port[p].xdp_mode) /* the LAN's came with the load */
			err = dispatch_attach(d, &d->port[p]);
		else
			err = 0;
		if (err)
			return err;
	}
	for (p = 0; p < BR_NPORTS; p++) {
		err = attach_tc_ingress(&d->port[p],
					bpf_program__fd(d->tc->progs.tc_brouter_in));
		if (err)
			return err;
		/* a clsact left by a killed brouterd is still ours to remove */
		if (d->prev.ifindex[p] == (__u32)d->port[p].ifindex &&
		    d->prev.clsact_created[p])
			d->port[p].tc_created_hook = 1;
	}
	return egress_fp4_sync(d);
}

void egress_stale_sweep(struct brouterd *d)
{
	int p;

	for (p = 0; p < BR_NPORTS; p++)
		if (!d->port[p].tc_egress_users)
			detach_tc_egress_stale(&d->port[p]);
}

int egress_fp4_sync(struct brouterd *d)
{
	int p, err, fd = bpf_program__fd(d->te->progs.tc_brouter_out);

	for (p = 0; p < BR_NPORTS; p++) {
		if (!d->cfg.fast_path) {
			detach_tc_egress(&d->port[p], BR_EGRESS_FP4);
			continue;
		}
		err = attach_tc_egress(&d->port[p], fd, BR_EGRESS_FP4);
		if (err)
			return err;
	}
	return 0;
}

/* XDP off both ports, however it was attached; the libxdp program closed. */
void xdp_detach_all(struct brouterd *d)
{
	int p;

	for (p = 0; p < BR_NPORTS; p++) {
		detach_xdp(&d->port[p]);
		if (d->xprog)
			dispatch_detach(d, &d->port[p]);
	}
	dispatch_close(d);
}
