// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A port that goes away (a USB NIC unplugged, a driver reloaded, a VM's
 * NIC hot-unplugged, a rename) and one of its name that comes back.
 *
 * Gone: bridging across it stops at once and cleanly: its tx_ports entry
 * goes, so what the other port would redirect to it is dropped and
 * counted (no_tx_port); the tunnel forgets what the device took with it.
 *
 * Back: everything is attached again. The ports' ifindexes are rodata of
 * the programs (consts.ifindex: every packet's port lookup and the tc
 * copy across are folded from them by the verifier and the JIT), so the
 * programs are loaded again with the new one and every map of the
 * running ones (flows, FDB, settings, counters: nothing is lost), then
 * attached to the new port and swapped in on the other one (its XDP
 * link updated or its dispatcher rebuilt, its tc filter replaced). Live
 * ifindexes instead would cost a map lookup on every packet to save a
 * reload every few weeks.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <xdp/libxdp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common/log.h"
#include "common/netdev.h"
#include "daemon/brouterd.h"
#include "xdp_brouter.skel.h"
#include "tc_ingress.skel.h"
#include "tc_egress.skel.h"

static const char *const port_role[] = { "LAN", "WAN" };

/*
 * libxdp pins a port's dispatcher and the links into it under
 * <bpffs>/xdp/dispatch-IFINDEX-ID; a device that vanished leaves them
 * there, holding the programs. Its ID (the dispatcher's program id) is
 * unique, so only that directory goes.
 */
static void dispatcher_pins_remove(int ifindex, __u32 id)
{
	const char *root = getenv("LIBXDP_BPFFS");
	char dir[PATH_MAX], path[PATH_MAX + 300];
	struct dirent *de;
	DIR *dp;

	if (!id)
		return;
	snprintf(dir, sizeof(dir), "%s/dispatch-%d-%u",
		 root ?: "/sys/fs/bpf/xdp", ifindex, id);
	dp = opendir(dir);
	if (!dp)
		return;
	while ((de = readdir(dp)))
		if (de->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			unlink(path);
		}
	closedir(dp);
	if (rmdir(dir))
		pr_debug("remove %s: %s", dir, strerror(errno));
}

/* What XDP runs on port @p now: for the pins to remove if it vanishes. */
void port_xdp_seen(struct brouterd *d, int p)
{
	__u32 id = 0;

	bpf_xdp_query_id(d->port[p].ifindex, 0, &id);
	d->ps[p].xdp_id = id;
}

/* Promiscuous mode back as it was on a port renamed away: by its new name. */
static void promisc_restore_renamed(struct brouterd *d, int p)
{
	const char *name = d->port[p].ifname;
	char now[IF_NAMESIZE];

	if (!if_indextoname(d->port[p].ifindex, now)) {
		d->promisc_before[p] =
			-1; /* gone meanwhile: nothing to restore */
		return;
	}
	d->port[p].ifname = now;
	promisc_restore(d, p);
	d->port[p].ifname = name;
}

void port_gone(struct brouterd *d, int p, bool deleted)
{
	struct br_port_attach *pa = &d->port[p];
	__u32 key = p;

	d->ps[p].gone = true;
	d->ps[p].veth_warned = false;
	d->ps[p].peer = 0;
	pr_warn("%s port %s (ifindex %d) %s: nothing crosses it (the other port "
		"counts no_tx_port) until a port of that name appears",
		port_role[p], pa->ifname, pa->ifindex,
		deleted ? "is gone" : "was renamed");
	if (bpf_map__delete_elem(d->xdp->maps.tx_ports, &key, sizeof(key), 0) &&
	    errno != ENOENT)
		pr_warn("tx_ports: remove %s: %s", pa->ifname, strerror(errno));
	if (p == BR_PORT_WAN) {
		ra_stop(d);
		tunnel_run_wan_gone(&d->tun, deleted);
	}
	/* a renamed device keeps its programs and flags unless undone; a deleted one took them */
	detach_xdp(pa);
	if (!deleted) {
		dispatch_detach(d, pa);
		/* first: closing a tcx link waits for an RCU grace period */
		promisc_restore_renamed(d, p);
		detach_tc_egress(pa, BR_EGRESS_FP4);
		detach_tc_ingress(pa);
	} else {
		if (pa->xdp_mode)
			dispatcher_pins_remove(pa->ifindex, d->ps[p].xdp_id);
		pa->xdp_mode = 0;
		tc_forget(pa);
		d->promisc_before[p] = -1;
	}
	info_write(d);
	fp4_flush(d, "port gone");
}

/*
 * XDP of @nx (opened, maps shared) on port @p, and instead of the running
 * program on the other port. A BPF link is updated in place; libxdp's
 * dispatcher has the old program taken out and the new one put in (a
 * few milliseconds without brouter's XDP there: bridged traffic waits on
 * the port that was gone anyway; the rest goes to the stack as always).
 */
static int xdp_swap(struct brouterd *d, int p, struct xdp_brouter *nx)
{
	struct br_port_attach *q = &d->port[!p];
	bool q_on = !d->ps[!p].gone;
	int fd, err;

	if (d->attach == BR_XDP_ATTACH_LINK) {
		d->xdp = nx;
		err = xdp_brouter__load(nx);
		if (err)
			return err;
		fd = bpf_program__fd(nx->progs.xdp_brouter);
		d->port[p].xdp_generic = 0;
		err = attach_xdp(&d->port[p], fd, d->cfg.opt.xdp_mode);
		if (!err && q_on && bpf_link_update(q->xdp_link, fd, NULL))
			err = -errno;
		return err;
	}
	if (q_on)
		dispatch_detach(d, q);
	dispatch_close(d);
	d->xdp = nx;
	d->xprog = xdp_program__from_bpf_obj(nx->obj, NULL);
	err = libxdp_get_error(d->xprog);
	if (err) {
		d->xprog = NULL;
		pr_err("libxdp: %s", strerror(-err));
		return err;
	}
	/* the first attach loads the program */
	err = dispatch_attach(d, &d->port[p]);
	if (!err && q_on)
		err = dispatch_attach(d, q);
	return err;
}

/*
 * tc egress of @te where the other port @q has it (the fast path's
 * record, a tunnel's encapsulation), replaced in place; port @p, a new
 * device, gets it from egress_fp4_sync() and the tunnel as they need it.
 */
static int egress_swap(struct brouterd *d, int q, struct tc_egress *te)
{
	int fd = bpf_program__fd(te->progs.tc_brouter_out);
	int users = d->port[q].tc_egress_users;

	d->tun.egress_fd = fd;
	if (!users || d->ps[q].gone)
		return 0;
	d->port[q].tc_egress_users = 0; /* so that it is attached anew */
	return attach_tc_egress(&d->port[q], fd, users);
}

/* The programs again for the new ifindex of port @p, swapped in on both ports. */
static int programs_swap(struct brouterd *d, int p)
{
	struct br_objs old = { d->xdp, d->tc, d->te }, n;
	int q = !p, created, err;

	err = programs_reopen(d, &n);
	if (err)
		return err;
	err = xdp_swap(d, p, n.xdp) ?: tc_ingress__load(n.tc) ?:
	      tc_egress__load(n.te);
	if (!err)
		err = attach_tc_ingress(
			&d->port[p],
			bpf_program__fd(n.tc->progs.tc_brouter_in));
	if (!err && !d->ps[q].gone) {
		/* replacing the filter finds its clsact there: it stays ours if it was */
		created = d->port[q].tc_created_hook;
		err = attach_tc_ingress(
			&d->port[q],
			bpf_program__fd(n.tc->progs.tc_brouter_in));
		d->port[q].tc_created_hook = created;
	}
	if (!err)
		err = egress_swap(d, q, n.te);
	/* the maps are shared: destroying the old objects frees only programs */
	d->tc = n.tc;
	d->te = n.te;
	d->tun.maps = n.xdp->obj;
	old.xdp = old.xdp == d->xdp ? NULL : old.xdp;
	br_objs_destroy(&old);
	if (err)
		pr_err("attach the programs for the new ifindex of %s: %s",
		       d->port[p].ifname, strerror(-err));
	return err;
}

static int tx_port_set(struct brouterd *d, int p)
{
	__u32 key = p, ifindex = d->port[p].ifindex;

	if (bpf_map__update_elem(d->xdp->maps.tx_ports, &key, sizeof(key),
				 &ifindex, sizeof(ifindex), BPF_ANY)) {
		pr_err("add %s to tx_ports: %s", d->port[p].ifname,
		       strerror(errno));
		return -errno;
	}
	return 0;
}

static int reattach(struct brouterd *d, int p)
{
	int err;

	err = programs_swap(d, p) ?: promisc_on(d, p) ?: tx_port_set(d, p) ?:
	      policy_install(d) ?: egress_fp4_sync(d) ?: info_write(d);
	if (err || p != BR_PORT_WAN)
		return err;
	err = tunnel_run_wan_back(&d->tun, &d->cfg.tunnel,
				  &d->port[BR_PORT_WAN]);
	ra_start(d);
	return err;
}

int port_back(struct brouterd *d, int p, int ifindex)
{
	struct br_port_attach *pa = &d->port[p];
	struct rtnl_link l;
	int err;

	/* says why an interface cannot be a port; its own index, should one more event race */
	ifindex = netdev_resolve(pa->ifname);
	if (ifindex < 0)
		return ifindex;
	pa->ifindex = ifindex;
	d->ps[p].gone = false;
	err = reattach(d, p);
	if (err) {
		pr_err("%s port %s (ifindex %d) is back but could not be attached again: "
		       "exiting",
		       port_role[p], pa->ifname, ifindex);
		d->ps[p].gone = true;
		return err;
	}
	if (!rtnl_link_get(&d->rq, ifindex, -1, &l)) {
		d->ps[p].flags = l.flags;
		d->ps[p].mtu = l.mtu;
	}
	port_xdp_seen(d, p);
	fp4_flush(d, "port back");
	pr_info("%s port %s is back (ifindex %d): XDP (%s), tc ingress, promiscuous "
		"mode, tx_ports and settings attached again%s",
		port_role[p], pa->ifname, ifindex,
		pa->xdp_generic ? "generic" : "native",
		p == BR_PORT_WAN && d->tun.on ? ", tunnel set up again" : "");
	veth_check(d, p);
	return 0;
}
