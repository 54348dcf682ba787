/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* brouterd's state and the steps its main loop calls, one file per concern. */
#ifndef BR_BROUTERD_H
#define BR_BROUTERD_H

#include <time.h>
#include <bpf/libbpf.h>

struct xdp_program;

#include "brouter/abi.h"
#include "config/config.h"
#include "common/rtnl.h"
#include "daemon/attach.h"
#include "daemon/auto_tunnel.h"
#include "daemon/droppub.h"
#include "daemon/http.h"
#include "daemon/fp4.h"
#include "daemon/timers.h"
#include "daemon/tunnel_run.h"
#include "tunnel/nftwatch.h"

/* What brouterd follows of a port, besides what it attached to it. */
struct br_port_state {
	bool gone; /* deleted or renamed: waiting for one of its name */
	unsigned int flags; /* IFF_* as last seen */
	unsigned int mtu;
	int peer;	  /* a veth's peer ifindex, 0: none or not a veth */
	int peer_netnsid; /* where that peer is, -1: this namespace */
	bool veth_warned; /* "its veth peer drops what XDP redirects" is out */
	__u32 xdp_id;	  /* what XDP runs there (libxdp: its dispatcher) */
};

struct brouterd {
	struct br_config cfg;
	struct br_port_attach port[BR_NPORTS];
	struct br_port_state ps[BR_NPORTS];
	int promisc_before[BR_NPORTS]; /* -1 = not changed by us */
	struct xdp_brouter *xdp;
	struct tc_ingress *tc;
	enum br_xdp_attach attach; /* how XDP is attached: LIBXDP or LINK */
	struct xdp_program *xprog; /* the XDP program for libxdp, or NULL */
	struct tc_egress *te;	   /* loaded always, attached when needed */
	struct br_settings settings;
	int lock_fd;
	int ra_fd; /* router advertisements on the WAN, -1 if none */
	int wan_prefixes;	/* prefixes learned from RAs so far */
	struct ring_buffer *drops;
	struct br_info prev;	/* left pinned by a brouterd that is gone, or zero */
	struct tunnel_run tun;	/* IPv4 over IPv6, when configured */
	struct auto_tunnel at;	/* tunnel.mode "auto": HB46PP */
	struct br_status status;  /* what the pinned "status" map says */
	struct metrics_http http; /* metrics endpoint; http.ep -1 when off */
	struct droppub pub; /* drop events for brouterctl; pub.ep -1 when off */
	struct rtnl events; /* rtnetlink: links, addresses, routes, neighbours */
	struct rtnl rq;	    /* rtnetlink requests (never on the event socket) */
	struct nft_watch nftw; /* nftables changes */
	struct br_timers timers;
	struct fp4_run fp4; /* the IPv4 fast path */
};

/* load.c: programs, maps and pins */
int load_programs(struct brouterd *d);
/* The three BPF objects, as one (brouterd's, or a new set for replug.c). */
struct br_objs {
	struct xdp_brouter *xdp;
	struct tc_ingress *tc;
	struct tc_egress *te;
};
void br_objs_destroy(struct br_objs *o);
int programs_reopen(struct brouterd *d, struct br_objs *o);
int objects_share_maps(struct bpf_object *owner, struct bpf_object *obj);
void object_strict_alignment(struct bpf_object *obj);
void drop_incompatible_state(const char *pin_dir, struct br_info *prev);
int info_write(struct brouterd *d);
void keep_state(struct brouterd *d);
void unpin_all(struct bpf_object *obj);
void objects_destroy(struct brouterd *d);

/* ports.c: the two ports, their promiscuous mode and attachments */
int resolve_ports(struct brouterd *d);
int promisc_on(struct brouterd *d, int p);
int enable_promisc(struct brouterd *d);
void promisc_restore(struct brouterd *d, int p);
void restore_promisc(struct brouterd *d);
int attach_all(struct brouterd *d);
void xdp_detach_all(struct brouterd *d);
/* tc egress for the IPv4 fast path on both ports, as the config says */
int egress_fp4_sync(struct brouterd *d);
/* remove an egress filter a killed brouterd left where none is needed now */
void egress_stale_sweep(struct brouterd *d);

/* settings.c: live settings and policy generations */
int settings_build(struct brouterd *d, const struct br_config *c,
		   struct br_settings *out);
int settings_push(struct brouterd *d, const struct br_settings *s);
int tx_ports_fill(struct brouterd *d);
int policy_stage(struct brouterd *d, const struct br_config *c);
void policy_unstage(struct brouterd *d);
int policy_commit(struct brouterd *d, const struct br_config *c);
int policy_install(struct brouterd *d);
void log_policy(struct brouterd *d, const char *what);
void follow_port_macs(struct brouterd *d);

/* dispatch.c: XDP through libxdp's dispatcher */
int dispatch_load(struct brouterd *d);
int dispatch_attach(struct brouterd *d, struct br_port_attach *pa);
void dispatch_detach(struct brouterd *d, struct br_port_attach *pa);
void dispatch_close(struct brouterd *d);

/* status.c: the pinned "status" map (start, reloads, tunnels configured) */
void status_started(struct brouterd *d);
void status_reloaded(struct brouterd *d, int ok);
void status_tunnel(struct brouterd *d); /* the tunnel changed: its modes */

/* reload.c: SIGHUP */
void reload(struct brouterd *d);

/* ra_run.c: router advertisements on the WAN, prefix lifetimes */
void ra_start(struct brouterd *d);
void ra_stop(struct brouterd *d);
void ra_receive(struct brouterd *d);
void ra_timers(struct brouterd *d, unsigned int fired);
void prefixes_arm(struct brouterd *d);

/* events.c: rtnetlink events; --wait */
int events_open(struct brouterd *d);
void events_close(struct brouterd *d);
int events_read(struct brouterd *d);
int wait_for_ports(struct brouterd *d, int sig_fd);

/* replug.c: a port that goes and comes back */
void port_gone(struct brouterd *d, int p, bool deleted);
void port_xdp_seen(struct brouterd *d, int p);
int port_back(struct brouterd *d, int p, int ifindex);

/* veth.c: a veth port whose peer cannot take XDP redirects */
void veth_check(struct brouterd *d, int p);

#endif /* BR_BROUTERD_H */
