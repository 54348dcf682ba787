/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * brouterd's side of IPv4 over IPv6: the tc egress filter on the WAN
 * and loader/tunnel.c's system state, both present exactly while the
 * config has a tunnel (the IPv4 fast path may want the filter too:
 * attach.h counts who does).
 */
#ifndef BR_TUNNEL_RUN_H
#define BR_TUNNEL_RUN_H

#include <stdbool.h>

#include "daemon/attach.h"
#include "config/tunnel.h"
#include "fw/ra.h"
#include "tunnel/tunnel.h"
#include "tunnel/nftwatch.h"

struct bpf_object;

struct tunnel_run {
	struct br_port_attach *wan;
	struct bpf_object *maps; /* the XDP object, whose maps tc_egress uses */
	int egress_fd; /* tc_brouter_out, attached on the WAN while the tunnel runs */
	struct tunnel t;
	bool on;		/* tunnel_start() succeeded and tunnel_stop() is due */
};

/*
 * Start @cfg on @wan (whose clsact hook attach_tc_ingress() made): attach
 * the egress program @egress_fd there (loaded with the others, on the
 * maps of @maps, the XDP object), then tunnel_start(). Nothing to do for
 * a config without a tunnel. Returns 0, or -errno with everything undone.
 */
int tunnel_run_start(struct tunnel_run *r, const struct tunnel_cfg *cfg,
		     struct br_port_attach *wan, struct bpf_object *maps,
		     int egress_fd);

/*
 * Switch to @cfg (start, stop or change), saying @why in the log
 * ("reload", "HB46PP"). 0, or -errno when the new tunnel could not be
 * set up: the previous one is then put back (logged if even that failed).
 */
int tunnel_run_switch(struct tunnel_run *r, const struct tunnel_cfg *cfg,
		      const char *why);

/* SIGHUP with a valid config: tunnel_run_switch(..., "reload"). */
int tunnel_run_reload(struct tunnel_run *r, const struct tunnel_cfg *cfg);

/*
 * Router advertisement prefixes (MAP-E end-user prefix, DS-Lite source);
 * a WAN address or its MTU changed (tunnel_wan_changed()). Both return
 * true when what goes into the tunnel changed (CE address, port set, B4
 * address, MTU).
 */
bool tunnel_run_prefixes(struct tunnel_run *r, const struct ra_prefix *p,
			 int n);
bool tunnel_run_wan_changed(struct tunnel_run *r);

/* The tunnels' IPv6 next hops ("tun_nh") as the kernel's routes and neighbours say now. */
void tunnel_run_next_hops(struct tunnel_run *r);

/* Something on the WAN may have been removed: put back what is ours. */
void tunnel_run_keep(struct tunnel_run *r);

/* Someone changed or removed the nftables table: restore it. */
void tunnel_run_nft_changed(struct tunnel_run *r, const struct nft_change *c);

/*
 * The WAN device is gone (@deleted) or was renamed: the tunnel stops,
 * forgetting what went with a deleted device. tunnel_run_wan_back() sets
 * it up on the next one (@wan, its new ifindex), if @cfg has a tunnel.
 */
void tunnel_run_wan_gone(struct tunnel_run *r, bool deleted);
int tunnel_run_wan_back(struct tunnel_run *r, const struct tunnel_cfg *cfg,
			struct br_port_attach *wan);

/* tunnel_stop(), then the egress filter goes unless the fast path keeps it. Idempotent. */
void tunnel_run_stop(struct tunnel_run *r);

#endif /* BR_TUNNEL_RUN_H */
