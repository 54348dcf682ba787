// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The pinned "status" map: when brouterd started, its reloads, its tunnels. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/libbpf.h>

#include "common/log.h"
#include "daemon/brouterd.h"
#include "xdp_brouter.skel.h"

static __u32 tun_modes(const struct tunnel_cfg *t)
{
	static const __u8 of[TUNNEL_MODES] = {
		[TUNNEL_MAPE] = BR_TUN_MAPE,
		[TUNNEL_DSLITE] = BR_TUN_DSLITE,
		[TUNNEL_LW4O6] = BR_TUN_LW4O6,
		[TUNNEL_IPIP] = BR_TUN_FIXED,
	};
	__u32 m = 0;

	if (t->mode < TUNNEL_MODES && of[t->mode])
		m |= 1U << of[t->mode];
	if (t->n_peers)
		m |= 1U << BR_TUN_IPIP6;
	return m;
}

/* Only metrics and brouterctl read it: a failed write is worth a warning. */
static void status_push(struct brouterd *d)
{
	__u32 zero = 0;

	struct tunnel_cfg *t = malloc(sizeof(*t));

	/* what runs: with tunnel.mode "auto", what provisioning chose */
	if (t) {
		auto_tunnel_cfg(d, &d->cfg, t);
		d->status.tun_modes = tun_modes(t);
		free(t);
	}
	snprintf(d->status.drops_sock, sizeof(d->status.drops_sock), "%s",
		 d->pub.path);
	if (bpf_map__update_elem(d->xdp->maps.status, &zero, sizeof(zero),
				 &d->status, sizeof(d->status), BPF_ANY))
		pr_warn("update status map: %s", strerror(errno));
}

void status_started(struct brouterd *d)
{
	d->status.started_s = time(NULL);
	d->status.last_reload_s = d->status.started_s;
	status_push(d);
}

void status_reloaded(struct brouterd *d, int ok)
{
	if (ok) {
		d->status.reloads++;
		d->status.last_reload_s = time(NULL);
	} else {
		d->status.reload_failures++;
	}
	status_push(d);
}

void status_tunnel(struct brouterd *d)
{
	status_push(d);
}
