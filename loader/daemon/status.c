// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The pinned "status" map: when brouterd started, its reloads, its tunnels. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <bpf/libbpf.h>

#include "common/log.h"
#include "daemon/brouterd.h"
#include "xdp_brouter.skel.h"

static __u32 tun_modes(const struct tunnel_cfg *t)
{
	__u32 m = 0;

	if (t->mode == TUNNEL_MAPE)
		m |= 1U << BR_TUN_MAPE;
	if (t->mode == TUNNEL_DSLITE)
		m |= 1U << BR_TUN_DSLITE;
	if (t->n_peers)
		m |= 1U << BR_TUN_IPIP6;
	return m;
}

/* Only metrics and brouterctl read it: a failed write is worth a warning. */
static void status_push(struct brouterd *d)
{
	__u32 zero = 0;

	d->status.tun_modes = tun_modes(&d->cfg.tunnel);
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
