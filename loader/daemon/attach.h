/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Attaching brouter's XDP and tc programs to a port, and undoing exactly that. */
#ifndef BR_ATTACH_H
#define BR_ATTACH_H

#include "config/options.h"

/* What brouterd attached to one port, to undo it exactly. */
struct br_port_attach {
	const char *ifname;
	int ifindex;
	int xdp_link; /* bpf_link fd, -1 when not attached that way */
	int xdp_mode; /* attached through libxdp in this enum xdp_attach_mode; 0: not */
	int xdp_generic; /* attached in generic (skb) mode */
	enum br_tc_attach tc_want; /* as configured */
	enum br_tc_attach tc_how; /* TCX or CLSACT once decided; AUTO: not yet */
	int tc_link[2]; /* tcx link fds, ingress and egress; -1: none */
	int tc_attached;
	int tc_created_hook; /* clsact created by us: removed on detach */
	int tc_egress_users; /* BR_EGRESS_*: who needs the egress filter */
};

/* Who needs tc egress on a port: it stays attached while anyone does. */
#define BR_EGRESS_TUNNEL (1 << 0) /* WAN: encapsulation into the tunnels */
#define BR_EGRESS_FP4 \
	(1 << 1) /* both: the IPv4 fast path's forwarding record */

/* Attach an XDP program through a bpf_link, native first per @mode. */
int attach_xdp(struct br_port_attach *pa, int prog_fd, enum br_xdp_mode mode);
void detach_xdp(struct br_port_attach *pa);

/* Log why attaching XDP (@mode "native"/"generic") failed; a busy port names its program. */
void xdp_attach_error(struct br_port_attach *pa, const char *mode, int err);

/*
 * The tc ingress program: a tcx link where the kernel has tcx (Linux
 * 6.6) and tc_want allows, else a cls_bpf filter on the clsact ingress
 * hook (created when missing). Attached already: replaced in place.
 */
int attach_tc_ingress(struct br_port_attach *pa, int prog_fd);
void detach_tc_ingress(struct br_port_attach *pa);

/*
 * The tc egress program, attached as the ingress one was (on the clsact
 * that attach_tc_ingress() created or found): call it after that, and
 * detach before it. @user is
 * one BR_EGRESS_*: the filter is attached for the first and detached
 * when the last is gone.
 */
int attach_tc_egress(struct br_port_attach *pa, int prog_fd, int user);
void detach_tc_egress(struct br_port_attach *pa, int user);

/*
 * Remove an egress filter of ours that a killed brouterd left behind
 * (brouterd attaches none when nobody needs one). A tcx link goes with
 * the process that held it: only clsact filters can be left.
 */
void detach_tc_egress_stale(struct br_port_attach *pa);

/* The port's device is gone, and what was attached to it with it. */
void tc_forget(struct br_port_attach *pa);

#endif /* BR_ATTACH_H */
