/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* XDP -> tc ingress handover of direction and clone requests. */
#ifndef BR_META_H
#define BR_META_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "maps.h"

/*
 * Prepend struct br_meta to the frame. Invalidates every packet pointer
 * the caller holds (the data area is moved), so call it last. Failure
 * (a driver without metadata support) is not fatal: tc then falls back
 * to marking by arrival port and does not copy the frame.
 */
static __always_inline int meta_write(struct xdp_md *ctx, __u32 port,
				      __u8 flags)
{
	struct br_meta *m;
	void *data;

	if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(*m)))
		return -1;
	/* adjust_meta moved data_meta: reload and re-check both bounds. */
	data = (void *)(long)ctx->data;
	m = (void *)(long)ctx->data_meta;
	if ((void *)(m + 1) > data)
		return -1;
	m->magic[0] = BR_META_MAGIC_HI;
	m->magic[1] = BR_META_MAGIC_LO;
	m->port = port;
	m->flags = flags;
	m->pad = 0;
	return 0;
}

/* The handover written by brouter's XDP program, or NULL. */
static __always_inline struct br_meta *meta_read(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	struct br_meta *m = (void *)(long)skb->data_meta;

	if ((void *)(m + 1) > data)
		return NULL;
	if (m->magic[0] != BR_META_MAGIC_HI || m->magic[1] != BR_META_MAGIC_LO)
		return NULL;
	return m;
}

#endif /* BR_META_H */
