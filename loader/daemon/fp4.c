// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The IPv4 fast path in brouterd: settings, flush, and XDP's requests. */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common/log.h"
#include "daemon/brouterd.h"
#include "daemon/fp4.h"
#include "fp4/conntrack.h"
#include "fp4/ct_users.h"
#include "tunnel/nft.h"
#include "xdp_brouter.skel.h"

void fp4_timeouts(struct brouterd *d)
{
	int err = ct_timeouts_read(d->fp4.timeout_ms);

	if (err)
		pr_warn("IPv4 fast path: conntrack timeouts unreadable (%s); "
			"fast-pathed flows keep their entries alive with %s",
			strerror(-err),
			d->fp4.timeout_ms[0] ? "the last ones read"
					     : "no refresh at all");
}

/*
 * BR_FP4_LAZY_CT when conntrack runs for the fast path alone: our table
 * turns it on and has the "untracked" chain, and no other rule uses it.
 * It reads the whole ruleset: the flush's to ask, as the generation is.
 */
static __u32 fp4_lazy_ct(const struct brouterd *d, bool on)
{
	int used;

	if (!on || !d->tun.on || !tunnel_untracked_chain(&d->tun.t))
		return 0;
	used = ct_users(NFT_TABLE);
	if (used < 0)
		pr_warn("IPv4 fast path: ruleset unreadable (%s): every packet "
			"goes through conntrack",
			strerror(-used));
	return used ? 0 : BR_FP4_LAZY_CT;
}

void fp4_settings(const struct brouterd *d, const struct br_config *c,
		  struct br_settings *s)
{
	s->fp4.flags = c->fast_path ? BR_FP4_ON : 0;
	/*
	 * Settings are built on every link event, to compare: the conntrack
	 * question, like the generation, is left to the flush, which
	 * follows every change of the ruleset, the tunnel or the settings.
	 */
	if (c->fast_path)
		s->fp4.flags |= d->settings.fp4.flags & BR_FP4_LAZY_CT;
	/* the generation is the flush's to change; it is never 0 */
	s->fp4.gen = d->settings.fp4.gen ?: 1;
	memcpy(s->fp4.ct_timeout_ms, d->fp4.timeout_ms,
	       sizeof(d->fp4.timeout_ms));
}

void fp4_flush(struct brouterd *d, const char *why)
{
	struct br_settings s = d->settings;
	__u32 lazy = d->settings.fp4.flags & BR_FP4_LAZY_CT;

	if (!d->xdp)
		return;
	s.fp4.gen = s.fp4.gen + 1 ?: 1;
	s.fp4.flags &= ~BR_FP4_LAZY_CT;
	s.fp4.flags |= fp4_lazy_ct(d, s.fp4.flags & BR_FP4_ON);
	if (settings_push(d, &s))
		return;
	pr_debug("IPv4 fast path flushed (%s): generation %u", why, s.fp4.gen);
	if (lazy != (s.fp4.flags & BR_FP4_LAZY_CT))
		pr_info("IPv4 fast path: %s",
			lazy ? "the ruleset uses conntrack now: every packet goes "
			       "through it"
			     : "conntrack runs for it alone: the first UDP packet "
			       "of a flow each way goes untracked");
}

static int ask_handle(void *ctx, void *data, size_t len)
{
	struct brouterd *d = ctx;
	int err;

	if (len < sizeof(struct br_fp4_ask))
		return 0;
	err = ct_tcp_liberal(&d->fp4.ct, data);
	if (!err)
		d->fp4.liberal++;
	else if (err != -ENOENT) /* gone meanwhile: nothing to do */
		pr_debug("IPv4 fast path: conntrack update: %s",
			 strerror(-err));
	return 0;
}

static int fp4_asks_open(struct brouterd *d)
{
	int err = ct_open(&d->fp4.ct);

	if (err)
		return err;
	d->fp4.asks = ring_buffer__new(bpf_map__fd(d->xdp->maps.fp4_ask),
				       ask_handle, d, NULL);
	if (!d->fp4.asks) {
		err = -errno;
		rtnl_close(&d->fp4.ct);
	}
	return err;
}

void fp4_open(struct brouterd *d)
{
	int err = fp4_asks_open(d);

	if (err)
		pr_warn("IPv4 fast path: no ctnetlink (%s); TCP stays on the kernel "
			"path",
			strerror(-err));
	if (d->cfg.fast_path && !d->nftw.nl.nl)
		pr_warn("IPv4 fast path: without nftables notifications a ruleset "
			"change reaches it only with a reload");
}

void fp4_close(struct brouterd *d)
{
	ring_buffer__free(d->fp4.asks);
	d->fp4.asks = NULL;
	rtnl_close(&d->fp4.ct);
}

int fp4_asks_fd(const struct brouterd *d)
{
	return d->fp4.asks ? ring_buffer__epoll_fd(d->fp4.asks) : -1;
}

void fp4_asks_consume(struct brouterd *d)
{
	ring_buffer__consume(d->fp4.asks);
}
