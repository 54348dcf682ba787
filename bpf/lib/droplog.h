/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Rate-limited log of firewall drops, both ways, read by brouterd from a ring buffer. */
#ifndef BR_DROPLOG_H
#define BR_DROPLOG_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "maps.h"
#include "lib/clock.h"
#include "lib/parse.h"
#include "lib/rate.h"

static __always_inline void drop_log_emit(const struct fw_pkt *fp, __u32 port,
					  __u32 reason, __u32 rate, __u64 now)
{
	const struct pkt *p = &fp->l;
	struct br_drop_event *e;

	if (!rate_allowed(&log_rate, rate, now))
		return;
	e = bpf_ringbuf_reserve(&drop_log, sizeof(*e), 0);
	if (!e)
		return;
	e->ts_ns = now;
	__builtin_memcpy(e->src, &fp->saddr, 16);
	__builtin_memcpy(e->dst, &fp->daddr, 16);
	e->proto = p->proto;
	e->port = port;
	e->reason = reason;
	e->dport = p->dport;
	e->sport = p->proto == IPPROTO_ICMPV6 ?
			   bpf_htons(p->icmp_type << 8 | p->icmp_code) :
			   p->sport;
	bpf_ringbuf_submit(e, 0);
}

#endif /* BR_DROPLOG_H */
