/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Each CPU's cache of IPv4 flow directions in front of the conntrack
 * kfuncs and bpf_fib_lookup(): a lookup there (hashing, an atomic
 * reference, a route walk) costs several times what forwarding a packet
 * does, so the slow path (fp4/confirm.h) asks them once and writes what
 * it learnt here, per flow direction and arrival port.
 *
 * What a GO entry stands for, and for how long (until_ns, at most
 * FP4_TRUST_NS after it was made, and only under the settings.fp4.gen
 * it was made under):
 *  - conntrack held the flow established both ways, with this NAT
 *    mapping and nothing the fast path cannot repeat (fp4/confirm.h);
 *  - the kernel itself forwarded a packet of this direction out of the
 *    other port under the current generation (tc egress, "fp4_fwd"):
 *    so the ruleset accepted it;
 *  - the route and neighbour were these, and the tunnel this one.
 * So a flow conntrack deletes (timeout, conntrack -D, brouterd's flush
 * when the CE address changes), a route or neighbour that changes, keep
 * their old treatment for at most FP4_TRUST_NS on a CPU that made such
 * an entry; brouterd bumps the generation when the ruleset, the
 * configuration or a tunnel changes, which ends every entry at once.
 * What still reaches the kernel: every packet fp4_parse() refuses (TCP
 * SYN/FIN/RST, fragments, options, TTL <= 1, anything but TCP and UDP),
 * packets above the path MTU, and the first packet after an entry
 * lapses when conntrack or the route no longer agree. The refresh of
 * the conntrack entry's timeout happens when an entry is made: at most
 * FP4_TRUST_NS after the packet that would have refreshed it.
 *
 * A WAIT entry sends the flow to the kernel without asking conntrack
 * again: for FP4_RETRY_NS a flow that is no conntrack entry, to the
 * router itself or without a resolved next hop; until the clock's next
 * tick one that is about to be taken over (finishing its handshake,
 * waiting for brouterd's or the kernel's part), whose packets meanwhile
 * take the slow kernel path.
 */
#ifndef BR_FP4_CACHE_H
#define BR_FP4_CACHE_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "maps.h"
#include "lib/clock.h"

#define FP4_TRUST_NS 1000000000LL
#define FP4_RETRY_NS 10000000LL
/* brouterd is asked again about a window-tracked entry after this */
#define FP4_ASK_NS   1000000000LL

/* A packet's key: struct br_fp4_key with its arrival port in pad[0]. */
union fp4_key {
	struct br_fp4_key t;
	__u64 q[2];
};

/* The set of @k on this CPU. */
static __always_inline struct fp4_set *fp4_set_of(const union fp4_key *k)
{
	__u32 h = k->t.saddr ^ k->t.daddr ^ (k->t.sport | k->t.dport << 16);
	__u32 bits = consts.fp4_bits, i;

	if (!bits)
		return NULL;
	/* Fibonacci hashing, as the IPv6 flow cache */
	i = bpf_get_smp_processor_id() << bits |
	    (h * 2654435761U) >> (32 - bits);
	return bpf_map_lookup_elem(&fp4_cache, &i);
}

static __always_inline int fp4_key_eq(const struct fp4_entry *e,
				      const union fp4_key *k)
{
	return !((e->k.q[0] ^ k->q[0]) | (e->k.q[1] ^ k->q[1]));
}

/* The entry of @set holding @k, or NULL. */
static __always_inline struct fp4_entry *fp4_find(struct fp4_set *set,
						  const union fp4_key *k)
{
	if (fp4_key_eq(&set->e[0], k))
		return &set->e[0];
	if (fp4_key_eq(&set->e[1], k))
		return &set->e[1];
	return NULL;
}

/* Still to be believed now, under generation @gen? */
static __always_inline int fp4_live(const struct fp4_entry *e, __u32 gen,
				    __u64 now)
{
	return e->state != FP4_EMPTY && e->gen == gen &&
	       ns_since(e->until_ns, now) >= 0;
}

/* Where a new entry for @k goes: the one whose trust ends first. */
static __always_inline struct fp4_entry *fp4_victim(struct fp4_set *set)
{
	if (ns_since(set->e[1].until_ns, set->e[0].until_ns) < 0)
		return &set->e[1];
	return &set->e[0];
}

/*
 * Where the slow path rewrites @e, found in @set but no longer believed:
 * in the first way, when @e is in the second and the first has lapsed
 * too (the two swap). A lookup reads the first way's cache line before
 * the second's, so a flow still sending keeps the one read first, not
 * one that went quiet (the other direction of a flow that now sends one
 * way, say).
 */
static __always_inline struct fp4_entry *
fp4_refresh_slot(struct fp4_set *set, struct fp4_entry *e, __u32 gen, __u64 now)
{
	__u64 *a = (__u64 *)&set->e[0], *b = (__u64 *)&set->e[1], t;

	if (e != &set->e[1] || fp4_live(&set->e[0], gen, now))
		return e;
	/* a word at a time: a whole entry is too much for the stack */
	for (int i = 0; i < sizeof(*e) / sizeof(t); i++) {
		t = a[i];
		a[i] = b[i];
		b[i] = t;
	}
	return &set->e[0];
}

/* Make @e a WAIT entry for @k: to the kernel for @why until it lapses. */
static __always_inline void fp4_wait(struct fp4_entry *e,
				     const union fp4_key *k, __u32 why,
				     __u32 gen, __u64 now)
{
	int soon = why == BR_STAT_FP4_CT_STATE || why == BR_STAT_FP4_WINDOW ||
		   why == BR_STAT_FP4_UNCONFIRMED;

	e->k.q[0] = k->q[0];
	e->k.q[1] = k->q[1];
	e->state = FP4_WAIT;
	e->why = why - BR_FP4_WHY_FIRST;
	e->gen = gen;
	/* now_ns() moves once a tick: "now" holds until the next one */
	e->until_ns = soon ? now : now + FP4_RETRY_NS;
}

#endif /* BR_FP4_CACHE_H */
