/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * tunnel.mode = "auto": the HB46PP worker (provision_run.h) and what
 * brouterd does with its answers: the method it chose, for the WAN
 * prefix brouterd learns from router advertisements, turned into the
 * tunnel settings the rest of brouterd runs (the config's ipip6 peers and
 * MTU kept), and switched to as a reload of the tunnel part would.
 */
#ifndef BR_AUTO_TUNNEL_H
#define BR_AUTO_TUNNEL_H

#include <stdbool.h>

#include "config/tunnel.h"
#include "daemon/provision_run.h"
#include "fw/ra.h"

#define AUTO_MAX_SEEN 8

struct auto_tunnel {
	struct prov_run run;
	struct hb_answer *answer; /* the answer in use, NULL: none */
	int method;		  /* chosen from it by the worker, -1: none */
	bool has_wan;
	struct prefix6 wan; /* the WAN prefix provisioning is for */
	struct prefix6 seen[AUTO_MAX_SEEN]; /* valid WAN prefixes, newest last */
	int n_seen;
	char failed[HB_ERR_LEN]; /* why the answer cannot run, logged once */
};

struct brouterd;

/*
 * The tunnel to run for @cfg (d->cfg, or a reload's new one): its tunnel
 * group, or with "auto" its peers and MTU and the provisioned method
 * (none until an answer is in use).
 */
struct br_config;
void auto_tunnel_cfg(struct brouterd *d, const struct br_config *cfg,
		     struct tunnel_cfg *out);

/* With "auto": the worker, told the WAN prefix already on the WAN. */
int auto_start(struct brouterd *d);
void auto_stop(struct brouterd *d);

/* The eventfd of the worker for the poll loop, -1 without "auto". */
int auto_fd(const struct brouterd *d);

/* The eventfd fired: take the new answer and switch the tunnel to it. */
void auto_event(struct brouterd *d);

/* Router advertisement prefixes on the WAN: a new WAN prefix asks again. */
void auto_prefixes(struct brouterd *d, const struct ra_prefix *p, int n);

/*
 * After a reload replaced d->cfg (and set up its tunnel): start, stop or
 * restart the worker (its settings changed).
 */
void auto_reload(struct brouterd *d);

/* brouterctl provision --clear (SIGUSR1): forget token and stored answer. */
void auto_clear(struct brouterd *d);

#endif /* BR_AUTO_TUNNEL_H */
