// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The live settings map: own MACs, marks, ethertypes, and the firewall
 * policy in two generations, switched with one store on reload.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common/log.h"
#include "common/netdev.h"
#include "daemon/brouterd.h"
#include "fw/policy.h"
#include "fw/prefixes.h"
#include "xdp_brouter.skel.h"

/* Fill the live settings from @c's options and the ports' current MACs. */
int settings_build(struct brouterd *d, const struct br_config *c,
		   struct br_settings *out)
{
	struct br_settings tmp, *s = &tmp;
	int p, i, err;

	memset(s, 0, sizeof(*s));
	for (p = 0; p < BR_NPORTS; p++) {
		s->mark[p] = c->opt.mark[p];
		/* a port gone keeps its last MAC until one of its name is back */
		if (d->ps[p].gone) {
			memcpy(s->mac[p], d->settings.mac[p], ETH_ALEN_BR);
			continue;
		}
		err = netdev_mac(d->port[p].ifname, s->mac[p]);
		if (err) {
			pr_err("%s: read MAC: %s", d->port[p].ifname, strerror(-err));
			return err;
		}
	}
	for (i = 0; i < c->opt.n_ethertypes; i++)
		s->ethertypes[i] = htons(c->opt.ethertypes[i]);
	s->flags = c->opt.mark_enabled ? BR_F_MARK : 0;
	/* policy and its generation are owned by the reload path */
	memcpy(s->pol, d->settings.pol, sizeof(s->pol));
	s->gen = d->settings.gen;
	/* the outer DSCP: tc egress's and the fast path's alike */
	s->tun_dscp = c->tun_dscp;
	fp4_settings(d, c, s);
	*out = tmp;
	return 0;
}

int settings_push(struct brouterd *d, const struct br_settings *s)
{
	__u32 zero = 0;

	if (bpf_map__update_elem(d->xdp->maps.settings, &zero, sizeof(zero), s,
				 sizeof(*s), BPF_ANY)) {
		pr_err("update settings map: %s", strerror(errno));
		return -errno;
	}
	d->settings = *s;
	return 0;
}

int tx_ports_fill(struct brouterd *d)
{
	char path[sizeof(d->cfg.opt.pin_dir) + 16];
	__u32 p, ifindex;

	for (p = 0; p < BR_NPORTS; p++) {
		ifindex = d->port[p].ifindex;
		if (bpf_map__update_elem(d->xdp->maps.tx_ports, &p, sizeof(p),
					 &ifindex, sizeof(ifindex), BPF_ANY)) {
			pr_err("add %s to tx_ports: %s", d->port[p].ifname,
			       strerror(errno));
			return -errno;
		}
	}
	snprintf(path, sizeof(path), "%s/tx_ports", d->cfg.opt.pin_dir);
	unlink(path); /* left by a brouterd that was killed */
	if (bpf_map__pin(d->xdp->maps.tx_ports, path)) {
		pr_err("pin %s: %s", path, strerror(errno));
		return -errno;
	}
	return 0;
}

/*
 * A new policy in two steps, so that a reload can prepare everything
 * before it changes anything: policy_stage() writes @c's pinholes as the
 * inactive generation (the data path does not look at it), and
 * policy_commit() switches to it with one settings update in which only
 * gen changes: no packet is ever judged by a half-written policy, and
 * flows are untouched. Until the commit, policy_unstage() forgets it.
 *
 * gen counts policy switches; its low bit picks pol[] and the pinhole
 * maps' gen. The XDP flow cache compares the whole value, so a decision
 * cached under one policy never passes a packet under a later one,
 * however fast two reloads follow each other.
 */
static __u8 staged_slot(const struct brouterd *d)
{
	return (d->settings.gen + 1) & 1;
}

int policy_stage(struct brouterd *d, const struct br_config *c)
{
	int dst = bpf_map__fd(d->xdp->maps.pin_dst);
	int rules = bpf_map__fd(d->xdp->maps.pin_rules);
	/* the rules of a generation carry the low bits of its count */
	__u32 tag = (d->settings.gen + 1) << BR_RULE_INDEX_BITS;
	struct br_compiled comp = { 0 };
	int err;

	err = policy_compile(c->pinholes, c->n_pinholes, staged_slot(d), &comp);
	if (err)
		return err;
	policy_tag(&comp, tag);
	err = policy_clear_gen(dst, rules, staged_slot(d))
		      ?: policy_write(dst, rules, &comp);
	policy_compiled_free(&comp);
	if (err) {
		pr_err("write the pinholes of the new policy: %s",
		       strerror(-err));
		return err;
	}
	/* names are for display only: a policy without them still protects */
	err = policy_write_names(bpf_map__fd(d->xdp->maps.pin_names),
				 c->pinholes, c->n_pinholes, tag);
	if (err)
		pr_warn("pin_names: %s; brouterctl flows shows rule numbers",
			strerror(-err));
	return 0;
}

void policy_unstage(struct brouterd *d)
{
	policy_clear_gen(bpf_map__fd(d->xdp->maps.pin_dst),
			 bpf_map__fd(d->xdp->maps.pin_rules), staged_slot(d));
}

int policy_commit(struct brouterd *d, const struct br_config *c)
{
	__u8 slot = staged_slot(d);
	struct br_settings s;
	int err;

	err = settings_build(d, c, &s);
	if (err)
		return err;
	s.pol[slot] = c->pol;
	s.pol[slot].n_pinholes = c->n_pinholes;
	err = settings_push(d, &s);
	if (err)
		return err;
	s.gen++;
	err = settings_push(d, &s);
	if (err)
		return err;
	policy_clear_gen(bpf_map__fd(d->xdp->maps.pin_dst),
			 bpf_map__fd(d->xdp->maps.pin_rules), slot ^ 1);
	return 0;
}

/* The running configuration's policy as a new generation (start, MAC change). */
int policy_install(struct brouterd *d)
{
	int err;

	err = policy_stage(d, &d->cfg);
	if (!err)
		err = policy_commit(d, &d->cfg);
	if (err) {
		policy_unstage(d);
		return err;
	}
	err = prefixes_sync_config(bpf_map__fd(d->xdp->maps.prefixes),
				   d->cfg.lan_prefixes, d->cfg.n_lan_prefixes);
	if (err)
		pr_warn("configured lan-prefixes: %s", strerror(-err));
	prefixes_arm(d);
	return 0;
}

static const char *const fw_mode_name[] = {
	[BR_FW_STATEFUL] = "stateful",
	[BR_FW_STATELESS_TCP] = "stateless-tcp",
	[BR_FW_OPEN] = "open",
};

void log_policy(struct brouterd *d, const char *what)
{
	const struct br_policy *pol = &d->settings.pol[d->settings.gen & 1];

	pr_info("%s: firewall %s%s, %d pinholes, %d configured prefixes", what,
		pol->mode <= BR_FW_OPEN ? fw_mode_name[pol->mode] : "?",
		pol->lan_ipv6 ? "" : " (IPv6 kept off the LAN)", d->cfg.n_pinholes,
		d->cfg.n_lan_prefixes);
}

/*
 * A port's MAC may have changed (a link event): if it did, install the
 * settings as a new generation, as a reload does, since the XDP fast path
 * trusts that a flow cache entry's stations were no own MAC under its
 * generation. On failure the next link event tries again.
 */
void follow_port_macs(struct brouterd *d)
{
	struct br_settings s;
	int err;

	if (settings_build(d, &d->cfg, &s) ||
	    !memcmp(&s, &d->settings, sizeof(s)))
		return;
	err = policy_install(d);
	if (err)
		pr_warn("port MAC address changed; installing it failed (%s), "
			"trying again at the next link event",
			strerror(-err));
	else
		pr_info("port MAC address changed; settings updated (generation %u)",
			d->settings.gen);
	if (!err)
		fp4_flush(d, "port MAC address changed");
}
