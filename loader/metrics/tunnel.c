// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Tunnel metrics: which tunnels are up (have a tun_out entry), and for
 * MAP-E the port set against the ports conntrack has NATed into it.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>

#include "brouter/portset.h"
#include "common/log.h"
#include "common/mapwalk.h"
#include "metrics/expo.h"
#include "metrics/internal.h"
#include "tunnel/ct.h"

#define TUN_MODES BR_TUN_MODES /* enum br_tun_mode: 1.. */

static const char *const mode_label[TUN_MODES] = {
	[BR_TUN_MAPE] = "map-e",  [BR_TUN_DSLITE] = "ds-lite",
	[BR_TUN_IPIP6] = "ipip6", [BR_TUN_LW4O6] = "lw4o6",
	[BR_TUN_FIXED] = "ipip",
};

static const char *const proto_label[CT_PU_NPROTO] = {
	[CT_PU_TCP] = "tcp",
	[CT_PU_UDP] = "udp",
	[CT_PU_ICMP] = "icmp",
};

struct tun_seen {
	unsigned int n[TUN_MODES];
	struct br_tun mape; /* the MAP-E or lw4o6 tunnel, when has_set */
	bool has_set;
};

static int seen_one(const void *key, const void *val, void *ctx)
{
	const struct br_tun *t = val;
	struct tun_seen *s = ctx;

	(void)key;
	if (t->mode >= TUN_MODES)
		return 0;
	/* lw4o6's port set is NAPT-ed into as MAP-E's: the same metrics */
	if ((t->mode == BR_TUN_MAPE || t->mode == BR_TUN_LW4O6) &&
	    !s->has_set) {
		s->mape = *t;
		s->has_set = true;
	}
	s->n[t->mode]++;
	return 0;
}

static void up_family(FILE *f, const struct tun_seen *s, __u32 configured)
{
	const char *name = "brouter_tunnel_up";
	int m;

	expo_family(
		f, name, "gauge",
		"1 when a configured tunnel carries IPv4 (0: e.g. MAP-E waiting "
		"for a prefix)");
	for (m = 1; m < TUN_MODES; m++)
		if (s->n[m] || (configured & (1U << m)))
			expo_u64(f, name, !!s->n[m], "mode", mode_label[m],
				 NULL);
}

static __u32 portset_size(const struct br_tun *t)
{
	return br_portset_ranges(t->psid_len, t->psid_offset) *
	       br_portset_run_len(t->psid_len, t->psid_offset);
}

static void ports_family(FILE *f, const char *name, const char *help,
			 const unsigned int *v)
{
	int i;

	expo_family(f, name, "gauge", help);
	for (i = 0; i < CT_PU_NPROTO; i++)
		expo_u64(f, name, v[i], "proto", proto_label[i], NULL);
}

static void mape_families(FILE *f, const struct br_tun *t)
{
	const char *ratio = "brouter_mape_port_usage_ratio";
	__u32 size = portset_size(t);
	struct in_addr ce = { .s_addr = t->ce_ipv4 };
	struct ct_port_use u;
	int err, i;

	expo_family(
		f, "brouter_mape_ports", "gauge",
		"Ports in the MAP-E CE's port set (each protocol has them all)");
	expo_u64(f, "brouter_mape_ports", size, NULL);
	err = ct_port_use(ce, &u);
	if (err) {
		pr_warn("metrics: conntrack: %s; MAP-E port use left out",
			strerror(-err));
		return;
	}
	ports_family(
		f, "brouter_mape_ports_used",
		"Distinct ports (ICMP: echo identifiers) of the CE address in "
		"use in conntrack",
		u.ports);
	ports_family(f, "brouter_mape_nat_entries",
		     "Conntrack entries whose replies go to the CE address",
		     u.entries);
	expo_family(f, ratio, "gauge",
		    "Share of the port set in use (brouter_mape_ports_used / "
		    "brouter_mape_ports)");
	for (i = 0; i < CT_PU_NPROTO; i++)
		expo_double(f, ratio, size ? (double)u.ports[i] / size : 0,
			    "proto", proto_label[i], NULL);
}

int metrics_tunnels(FILE *f, const char *pin_dir, const struct br_status *st)
{
	struct tun_seen s = { 0 };
	int fd, err;

	fd = metrics_open(pin_dir, "tun_out");
	if (fd < 0)
		return fd;
	err = map_each(fd, sizeof(struct br_tun_out_key), sizeof(struct br_tun),
		       seen_one, &s);
	close(fd);
	if (err)
		return err;
	up_family(f, &s, st->tun_modes);
	if (s.has_set)
		mape_families(f, &s.mape);
	return 0;
}
