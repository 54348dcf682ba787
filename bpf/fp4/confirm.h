/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The fast path's slow path: for a packet no cache entry decides, ask
 * conntrack, the kernel's forwarding record ("fp4_fwd"), the FIB and the
 * tunnel table, and write what they said as a GO or WAIT entry
 * (fp4/cache.h says what each stands for).
 */
#ifndef BR_FP4_CONFIRM_H
#define BR_FP4_CONFIRM_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "maps.h"
#include "lib/clock.h"
#include "lib/csum.h"
#include "lib/port.h"
#include "fp4/cache.h"
#include "fp4/ct.h"
#include "fp4/route.h"
#include "tun/napt.h"

/* What fp4_parse() read: the key and what the route depends on. */
struct fp4_pkt {
	union fp4_key k;
	__u16 tot_len; /* host order */
	__u8 tos;
	__u8 pad[5];
};

/*
 * The IPv4 header checksum change of a TTL decrement: the word holding
 * TTL and protocol drops by one TTL unit whatever their values (TTL > 1).
 */
#define FP4_TTL_DIFF csum_diff16(bpf_htons(0x0100), 0)

/*
 * Can the fast path repeat what the kernel does with this entry? Returns
 * 0, or why not. TCP must be established and free of window tracking;
 * UDP replied to; neither may need a helper, sequence adjustment, its
 * own timeout policy or a mark (which may steer routing by rules the
 * FIB lookup does not see).
 */
static __always_inline __u32 fp4_ct_judge(const struct nf_conn___fp4 *ct,
					  __u8 proto)
{
	unsigned long st = ct->status;

	if ((st & FP4_CT_REFUSE) || !(st & IPS_SEEN_REPLY) || ct->mark ||
	    ct_ext_refused(ct))
		return BR_STAT_FP4_CT_STATE;
	if (proto != IPPROTO_TCP)
		return 0;
	if (ct->proto.tcp.state != TCP_CONNTRACK_ESTABLISHED)
		return BR_STAT_FP4_CT_STATE;
	return ct_tcp_liberal(ct) ? 0 : BR_STAT_FP4_WINDOW;
}

/*
 * Keep the entry alive as the kernel's own packet would: its state's
 * timeout again, and UDP replied to for more than two seconds becomes
 * an assured stream (nf_conntrack_proto_udp.c's rule).
 */
static __always_inline void fp4_ct_refresh(struct nf_conn___fp4 *ct, __u8 proto,
					   const struct br_settings *s)
{
	unsigned long st = ct->status;
	__u32 to = BR_FP4_TO_TCP;

	if (proto == IPPROTO_UDP) {
		if (!(st & IPS_ASSURED) &&
		    (long)(bpf_jiffies64() - ct->proto.udp.stream_ts) > 0 &&
		    !bpf_ct_change_status(ct, st | IPS_ASSURED))
			st |= IPS_ASSURED;
		to = st & IPS_ASSURED ? BR_FP4_TO_UDP_STREAM : BR_FP4_TO_UDP;
	}
	if (s->fp4.ct_timeout_ms[to])
		bpf_ct_change_timeout(ct, s->fp4.ct_timeout_ms[to]);
}

/*
 * conntrack's view of @p: 0 with the NATed tuple in @x, or why not.
 * The reference the lookup takes is dropped before returning, on every
 * path (the verifier holds us to that). *@dir: the packet's direction.
 */
static __always_inline __u32 fp4_ct(struct xdp_md *ctx, const struct fp4_pkt *p,
				    const struct br_settings *s,
				    struct br_fp4_key *x, int *dir)
{
	struct bpf_ct_opts___fp4 o = { .netns_id = FP4_CURRENT_NETNS,
				       .l4proto = p->k.t.proto };
	struct bpf_sock_tuple t = {};
	struct nf_conn___fp4 *ct;
	__u32 why;

	t.ipv4.saddr = p->k.t.saddr;
	t.ipv4.daddr = p->k.t.daddr;
	t.ipv4.sport = p->k.t.sport;
	t.ipv4.dport = p->k.t.dport;
	ct = bpf_xdp_ct_lookup(ctx, &t, sizeof(t.ipv4), &o, sizeof(o));
	if (!ct)
		return BR_STAT_FP4_NO_CT;
	*dir = o.dir;
	why = fp4_ct_judge(ct, p->k.t.proto);
	if (why != BR_STAT_FP4_CT_STATE) {
		fp4_ct_refresh(ct, p->k.t.proto, s);
		ct_translate(ct, o.dir, x);
	}
	bpf_ct_release(ct);
	x->proto = p->k.t.proto;
	return why;
}

/*
 * Ask brouterd (once a FP4_ASK_NS) to stop window tracking of the TCP
 * entry; @e becomes a WAIT entry that remembers when.
 */
static __always_inline void fp4_ask_window(struct fp4_entry *e,
					   const struct fp4_pkt *p, int dir,
					   __u32 gen, __u64 now)
{
	struct br_fp4_ask a = { .t = p->k.t, .dir = dir };
	__u64 asked = 0;

	if (fp4_key_eq(e, &p->k) && e->state == FP4_WAIT &&
	    e->why == BR_STAT_FP4_WINDOW - BR_FP4_WHY_FIRST)
		asked = e->asked_ns;

	if (!asked || ns_since(now, asked) >= FP4_ASK_NS) {
		a.t.pad[0] = 0;
		bpf_ringbuf_output(&fp4_ask, &a, sizeof(a), 0);
		asked = now;
	}
	fp4_wait(e, &p->k, BR_STAT_FP4_WINDOW, gen, now);
	e->asked_ns = asked;
}

/*
 * Has the kernel forwarded this NATed direction out of @out under the
 * current generation? If it has no record yet, start one for tc
 * egress to stamp when the kernel forwards the next packet.
 */
static __always_inline __u32 fp4_forwarded(const struct br_fp4_key *x,
					   __u32 gen, __u32 out)
{
	struct br_fp4_fwd *f = bpf_map_lookup_elem(&fp4_fwd, x), wait = {};

	if (!f) {
		bpf_map_update_elem(&fp4_fwd, x, &wait, BPF_NOEXIST);
		return BR_STAT_FP4_UNCONFIRMED;
	}
	return f->gen == gen && f->port == out ? 0 : BR_STAT_FP4_UNCONFIRMED;
}

/* The rewrite of a GO entry from the packet's tuple @o to @x. */
static __always_inline void fp4_go(struct fp4_entry *e, const union fp4_key *k,
				   const struct br_fp4_key *x)
{
	const struct br_fp4_key *o = &k->t;
	__u32 addrs = csum_diff32(o->saddr, x->saddr) +
		      csum_diff32(o->daddr, x->daddr);

	e->k.q[0] = k->q[0];
	e->k.q[1] = k->q[1];
	e->state = FP4_GO;
	e->saddr = x->saddr;
	e->daddr = x->daddr;
	e->sport = x->sport;
	e->dport = x->dport;
	e->csum_ip = csum_fold32(addrs + FP4_TTL_DIFF);
	e->csum_l4 = csum_fold32(addrs + csum_diff16(o->sport, x->sport) +
				 csum_diff16(o->dport, x->dport));
}

/*
 * Where the NATed packet goes: the IPv4 route, and through a tunnel
 * when tc egress would put it into one (tun_out, on the WAN). *@sport:
 * the source port it leaves with, which for a shared CE address is the
 * port of the set conntrack's stand-in stands for (tun/napt.h), as tc
 * egress would swap it. GRE tunnels are the kernel's path's.
 */
static __always_inline __u32 fp4_where(struct xdp_md *ctx,
				       const struct fp4_pkt *p,
				       const struct br_fp4_key *x,
				       const struct br_settings *s, __u32 port,
				       struct fp4_entry *e, __u16 *sport)
{
	struct br_tun_out_key tk = { .prefixlen = 32, .addr = x->daddr };
	const struct br_nat_port *np;
	struct br_tun *t;
	__u32 why;

	e->tun = 0;
	*sport = x->sport;
	why = fp4_route4(ctx, &p->k.t, x, p->tos, port, e);
	if (why || other_port(port) != BR_PORT_WAN)
		return why;
	t = bpf_map_lookup_elem(&tun_out, &tk);
	if (!t)
		return 0;
	if (t->flags & BR_TUN_F_GRE)
		return BR_STAT_FP4_TUNNEL;
	if (napt_swaps(t) && x->saddr == t->ce_ipv4) {
		np = nat_port(x->sport);
		if (np && np->real)
			*sport = np->real;
	}
	return fp4_route6(t, s, e) ?: fp4_tun_slot(t, e);
}

/*
 * The slow path itself, a global function: the verifier checks it once
 * on its own, and the conntrack reference never leaves it. Fills @e for
 * the packet @p arrived on @port; the caller reads the verdict there.
 */
__noinline int fp4_confirm(struct xdp_md *ctx, struct fp4_pkt *p,
			   struct fp4_entry *e, __u32 port)
{
	__u32 zero = 0, gen, why;
	const struct br_settings *s = bpf_map_lookup_elem(&settings, &zero);
	struct br_fp4_key x = {};
	__u64 now = now_ns();
	__u16 sport = 0;
	int dir = 0;

	if (!s || !e || !p)
		return 0;
	gen = s->fp4.gen;
	why = fp4_ct(ctx, p, s, &x, &dir);
	if (why == BR_STAT_FP4_WINDOW) {
		fp4_ask_window(e, p, dir, gen, now);
		return 0;
	}
	/* the route before the record: no record for what is not forwarded */
	if (!why)
		why = fp4_where(ctx, p, &x, s, port, e, &sport);
	/* the record is of the tuple tc egress sees: before any port swap */
	if (!why)
		why = fp4_forwarded(&x, gen, other_port(port));
	if (why) {
		fp4_wait(e, &p->k, why, gen, now);
		return 0;
	}
	x.sport = sport;
	fp4_go(e, &p->k, &x);
	e->gen = gen;
	e->until_ns = now + FP4_TRUST_NS;
	return 0;
}

#endif /* BR_FP4_CONFIRM_H */
