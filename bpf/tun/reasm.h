/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Reassembly of fragmented IPv4-in-IPv6, in tc ingress on the WAN: a
 * BR/AFTR/peer fragments the outer IPv6 packet when an IPv4 packet without
 * DF is too big for the tunnel (RFC 2473 7.2), and the CE/B4 must put it
 * back together (RFC 7597 8.3, RFC 6333 5.3).
 *
 * Why in tc, in BPF. The kernel has no tunnel device here, so its own
 * IPv6 reassembly ends in a packet with next header 4 that no protocol
 * handler takes, and no program can rewrite a packet after it. XDP sees
 * the fragments but cannot make a frame larger than its buffer. Turning
 * each outer fragment into an IPv4 fragment of the inner packet, for the
 * kernel's IPv4 reassembly, does not work either: IPv6 fragments split
 * the inner packet at multiples of 8 bytes from its IPv4 header, IPv4
 * fragment offsets count from the end of that header, and a 20-byte
 * header puts every split 4 bytes off the 8-byte grid IPv4 needs. A tc
 * program can grow a packet (up to BR_REASM_MAX, include/brouter/abi.h),
 * so XDP checks the outer source, hands the fragment over (BR_META_REASM)
 * and tc keeps its data in a slot of the "reasm" array, then rewrites the
 * frame that completes the datagram into the whole inner IPv4 packet,
 * which the stack receives as if it had come unwrapped.
 *
 * The checks are those of a whole packet (tun/decap.h), made on the
 * offset-0 fragment: a datagram that fails them is refused, so its other
 * fragments, held or still to come, are dropped with the same reason.
 * Overlapping fragments drop the whole datagram (RFC 5722; an exact
 * duplicate drops only itself, as the kernel does).
 *
 * Bounded: each CPU has BR_REASM_SLOTS slots. The fragments of one
 * datagram reach one CPU: NICs hash IPv6 fragments (which carry no ports)
 * by addresses, and so does RPS, and a tunnel's traffic has one pair of
 * them. Were a datagram split across CPUs, it would expire, counted. A
 * datagram still incomplete BR_REASM_TIMEOUT_NS after its first fragment
 * is dropped (counted when that CPU next looks for a slot). A new
 * datagram takes a free slot, else a refused one, else the open one
 * holding the fewest fragments, idle longest among those (counted as
 * evicted): a flood of single fragments of distinct ids pushes out only
 * its own kind and incomplete datagrams, never one that already holds
 * more fragments, and a complete datagram is never held at all.
 */
#ifndef BR_TUN_REASM_H
#define BR_TUN_REASM_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "maps.h"
#include "lib/clock.h" /* ns_since() */
#include "lib/stats.h"
#include "lib/tc.h"
#include "tun/decap.h"

/* Ethernet, IPv6 and fragment header: where a fragment's data starts. */
#define REASM_HDRS \
	(ETH_HLEN + sizeof(struct ipv6hdr) + sizeof(struct frag_hdr6))
/*
 * What the first fragment's checks read: destination options and GRE
 * (tun/wrap.h), then for tun_inner_ok() IPv4 with options, ICMP, a
 * quoted header, 8 bytes of its payload.
 */
#define REASM_PEEK     (TUN_WRAP_MAX + 60 + 8 + 20 + 8)
/* tun_reasm(): not a fragment of 4in6 from a tunnel's far end (no tc verdict). */
#define REASM_NOT_OURS 0x100

/* The fragment tc is looking at. */
struct reasm_frag {
	struct br_tun_in_key k; /* outer source, destination */
	__u32 id;		/* network order */
	__u32 off;		/* bytes into the inner packet */
	__u32 len;		/* bytes of it this fragment carries */
	__u32 more;		/* M flag */
	__u32 frame;		/* frame bytes on arrival, for the counters */
	__u32 nh;		/* the fragment header's next header */
} __attribute__((aligned(8)));

static __always_inline void reasm_count_drop(__u32 reason, __u32 packets,
					     __u32 bytes)
{
	stat_add_n(BR_STAT_DROP, BR_PORT_WAN, packets, bytes);
	stat_add_n(reason, BR_PORT_WAN, packets, bytes);
}

static __always_inline int reasm_drop(__u32 reason, __u32 bytes)
{
	reasm_count_drop(reason, 1, bytes);
	return TC_ACT_SHOT;
}

/*
 * Read @skb's outer headers into @f and find its tunnel: 1 with *t set
 * for a fragment of 4in6 from the tunnel's far end, 0 for anything else,
 * or a negative drop reason.
 */
static __always_inline int
frag_parse(struct __sk_buff *skb, struct reasm_frag *f, const struct br_tun **t)
{
	struct {
		struct ipv6hdr ip6;
		struct frag_hdr6 fh;
	} h;
	__u32 plen, fo;
	int r;

	f->frame = skb->len;
	if (bpf_skb_load_bytes(skb, ETH_HLEN, &h, sizeof(h)) ||
	    h.ip6.version != 6 || h.ip6.nexthdr != IPPROTO_FRAGMENT ||
	    !tun_proto(h.fh.nexthdr))
		return 0;
	r = tun_lookup_in(&h.ip6, t);
	if (r <= 0)
		return r;
	__builtin_memcpy(f->k.remote6, &h.ip6.saddr, 16);
	__builtin_memcpy(f->k.local6, &h.ip6.daddr, 16);
	f->id = h.fh.id;
	f->nh = h.fh.nexthdr;
	fo = bpf_ntohs(h.fh.frag_off);
	f->off = fo & ~7U;
	f->more = fo & 1;
	plen = bpf_ntohs(h.ip6.payload_len);
	/* no data, or a payload length running past the frame */
	if (plen <= sizeof(h.fh) || ETH_HLEN + sizeof(h.ip6) + plen > skb->len)
		return -BR_STAT_DROP_TUN_FRAG_BAD;
	f->len = plen - sizeof(h.fh);
	return 1;
}

/* The fragments @s holds are dropped for @reason, and counted. */
static __always_inline void slot_drop(struct reasm_slot *s, __u32 reason)
{
	if (s->nfrag)
		reasm_count_drop(reason, s->nfrag, s->frames);
	s->nfrag = 0;
	s->frames = 0;
}

/* The datagram of @s is refused: what it holds and what is to come. */
static __always_inline void slot_refuse(struct reasm_slot *s, __u32 reason)
{
	slot_drop(s, reason);
	s->state = REASM_REFUSED;
	s->reason = reason;
}

static __always_inline int slot_matches(const struct reasm_slot *s,
					const struct reasm_frag *f)
{
	const __u64 *a = (const void *)&s->k, *b = (const void *)&f->k;

	return s->state != REASM_FREE && s->id == f->id && a[0] == b[0] &&
	       a[1] == b[1] && a[2] == b[2] && a[3] == b[3];
}

/*
 * @a goes before @b for a new datagram: free, then refused, then open
 * with fewer fragments, then idle longer.
 */
static __always_inline int slot_before(const struct reasm_slot *a,
				       const struct reasm_slot *b)
{
	if (a->state != b->state)
		return a->state < b->state;
	if (a->nfrag != b->nfrag)
		return a->nfrag < b->nfrag;
	return ns_since(b->last_ns, a->last_ns) > 0;
}

static __always_inline void slot_open(struct reasm_slot *s,
				      const struct reasm_frag *f, __u64 now)
{
	/* counts nothing for a free or refused slot */
	slot_drop(s, BR_STAT_DROP_TUN_FRAG_EVICTED);
	s->k = f->k;
	s->id = f->id;
	s->state = REASM_OPEN;
	s->first = 0;
	s->skip = 0;
	s->total = 0;
	s->have = 0;
	s->first_ns = now;
	s->last_ns = now;
}

/*
 * This CPU's slot of @f's datagram, or a new one (expiring what has
 * waited too long on the way); NULL only if the map is too small.
 */
static __always_inline struct reasm_slot *slot_get(const struct reasm_frag *f,
						   __u64 now)
{
	__u32 i, idx, base = bpf_get_smp_processor_id() * BR_REASM_SLOTS;
	struct reasm_slot *s, *victim = NULL;

	for (i = 0; i < BR_REASM_SLOTS; i++) {
		idx = base + i;
		s = bpf_map_lookup_elem(&reasm, &idx);
		if (!s)
			return NULL;
		if (s->state != REASM_FREE &&
		    ns_since(now, s->first_ns) > BR_REASM_TIMEOUT_NS) {
			slot_drop(s, BR_STAT_DROP_TUN_FRAG_TIMEOUT);
			s->state = REASM_FREE;
		}
		if (slot_matches(s, f))
			return s;
		if (!victim || slot_before(s, victim))
			victim = s;
	}
	if (victim)
		slot_open(victim, f, now);
	return victim;
}

/*
 * Whether @f may join the datagram of @s: 0, or the negative drop reason
 * of @f. One that spoils the whole datagram refuses @s as well.
 */
static __always_inline int frag_admit(struct reasm_slot *s,
				      const struct reasm_frag *f)
{
	__u32 end = f->off + f->len, i;

	if (end > BR_REASM_MAX) {
		slot_refuse(s, BR_STAT_DROP_TUN_FRAG_BIG);
		return -BR_STAT_DROP_TUN_FRAG_BIG;
	}
	/* RFC 8200 4.5: all but the last carry multiples of 8; one end */
	if ((f->more && (f->len & 7)) ||
	    (s->total && (end > s->total || (!f->more && end != s->total))))
		return -BR_STAT_DROP_TUN_FRAG_BAD;
	for (i = 0; i < BR_REASM_FRAGS && i < s->nfrag; i++) {
		if (f->off < s->r[i].end && s->r[i].start < end) {
			if (f->off == s->r[i].start && end == s->r[i].end)
				return -BR_STAT_DROP_TUN_FRAG_OVERLAP;
			slot_refuse(s, BR_STAT_DROP_TUN_FRAG_OVERLAP);
			return -BR_STAT_DROP_TUN_FRAG_OVERLAP;
		}
		/* a last fragment ending before data already held */
		if (!f->more && s->r[i].end > end)
			return -BR_STAT_DROP_TUN_FRAG_BAD;
	}
	if (s->nfrag >= BR_REASM_FRAGS) {
		slot_refuse(s, BR_STAT_DROP_TUN_FRAG_BAD);
		return -BR_STAT_DROP_TUN_FRAG_BAD;
	}
	return 0;
}

/*
 * The checks of a whole 4in6 packet, on the offset-0 fragment @f: 0, or
 * the negative drop reason, which refuses the datagram of @s.
 */
static __always_inline int frag_first_ok(struct __sk_buff *skb,
					 struct reasm_slot *s,
					 const struct br_tun *t,
					 const struct reasm_frag *f)
{
	__u32 want = REASM_HDRS + f->len;
	struct cursor c;
	void *start;
	int r = -BR_STAT_DROP_TUN_BAD;

	/* the checks read the fragment's data, not what may trail it */
	if (skb->len > want && bpf_skb_change_tail(skb, want, 0))
		goto out;
	if (want > REASM_HDRS + REASM_PEEK)
		want = REASM_HDRS + REASM_PEEK;
	if (bpf_skb_pull_data(skb, want))
		goto out;
	/* both helpers may have moved the data: pointers are taken only now */
	start = (void *)(long)skb->data + REASM_HDRS;
	cursor_init(&c, start, (void *)(long)skb->data_end);
	r = tun_unwrap(t, &c, f->nh);
	if (r)
		goto out;
	/* what the datagram carries in front of the inner IPv4, left out later */
	s->skip = c.pos - start;
	r = tun_inner_ok(t, &c);
out:
	if (r)
		slot_refuse(s, -r);
	return r;
}

/* Copy @f's data into @s at its offset, a chunk per helper call. */
static __always_inline int frag_copy(struct __sk_buff *skb,
				     struct reasm_slot *s,
				     const struct reasm_frag *f)
{
	__u32 i, done, n, pos;

	for (i = 0; i < BR_REASM_MAX / REASM_CHUNK; i++) {
		done = i * REASM_CHUNK;
		if (done >= f->len)
			break;
		n = f->len - done;
		if (n > REASM_CHUNK)
			n = REASM_CHUNK;
		/* the verifier loses done < len on the way: show it n > 0 */
		barrier_var(n);
		if (!n)
			break;
		/* frag_admit() kept off + len within BR_REASM_MAX; the verifier needs it said */
		pos = f->off + done;
		if (pos >= BR_REASM_MAX)
			return -1;
		barrier_var(pos); /* index with the checked copy */
		if (bpf_skb_load_bytes(skb, REASM_HDRS + done, s->data + pos,
				       n))
			return -1;
	}
	return 0;
}

static __always_inline void frag_hold(struct reasm_slot *s,
				      const struct reasm_frag *f, __u64 now)
{
	__u32 i = s->nfrag;

	/* frag_admit() said so; the verifier needs it said here */
	if (i < BR_REASM_FRAGS) {
		s->r[i].start = f->off;
		s->r[i].end = f->off + f->len;
	}
	s->nfrag = i + 1;
	s->have += f->len;
	s->frames += f->frame;
	s->last_ns = now;
	if (!f->more)
		s->total = f->off + f->len;
	if (!f->off)
		s->first = 1;
}

/*
 * Copy the inner packet of @s (@total bytes from @skip on) over the
 * packet, after the Ethernet header.
 */
static __always_inline int reasm_copy_out(struct __sk_buff *skb,
					  struct reasm_slot *s, __u32 skip,
					  __u32 total)
{
	__u32 i, done, n, pos;

	for (i = 0; i < BR_REASM_MAX / REASM_CHUNK; i++) {
		done = i * REASM_CHUNK;
		if (done >= total)
			break;
		n = total - done;
		if (n > REASM_CHUNK)
			n = REASM_CHUNK;
		barrier_var(n); /* as in frag_copy() */
		if (!n)
			break;
		/* skip + total is the datagram, within BR_REASM_MAX: said again */
		pos = skip + done;
		if (pos >= BR_REASM_MAX)
			return -1;
		barrier_var(pos);
		if (bpf_skb_store_bytes(skb, ETH_HLEN + done, s->data + pos, n,
					BPF_F_RECOMPUTE_CSUM))
			return -1;
	}
	return 0;
}

/*
 * The datagram of @s is whole: make @skb, its last fragment, the inner
 * IPv4 packet behind the same Ethernet addresses. Returns the verdict.
 */
static __always_inline int reasm_emit(struct __sk_buff *skb,
				      struct reasm_slot *s)
{
	__u32 skip = s->skip & 0xff, total = s->total;
	__be16 proto = bpf_htons(ETH_P_IP);
	const __u8 *ip;
	__u32 reason = 0;

	/* frag_first_ok() found the IPv4 header after skip bytes */
	if (skip > TUN_WRAP_MAX || skip + sizeof(struct iphdr) > total)
		reason = BR_STAT_DROP_TUN_BAD;
	/* bytes: skip may leave the header at any offset (strict alignment) */
	ip = s->data + skip;
	total -= skip;
	/* the inner header must not claim more than arrived */
	if (!reason && ((__u32)ip[2] << 8 | ip[3]) > total)
		reason = BR_STAT_DROP_TUN_BAD;
	/* change_proto drops 20 of the 40 outer bytes; the rest is overwritten */
	else if (!reason &&
		 (bpf_skb_change_proto(skb, proto, 0) ||
		  bpf_skb_change_tail(skb, ETH_HLEN + total, 0) ||
		  bpf_skb_store_bytes(skb, offsetof(struct ethhdr, h_proto),
				      &proto, sizeof(proto), 0) ||
		  reasm_copy_out(skb, s, skip, total)))
		reason = BR_STAT_DROP_TUN_FRAG_BIG;
	if (reason) {
		slot_drop(s, reason);
		s->state = REASM_FREE;
		return TC_ACT_SHOT;
	}
	/* nothing validated the inner checksums: the stack must */
	bpf_csum_level(skb, BPF_CSUM_LEVEL_RESET);
	s->nfrag = 0;
	s->frames = 0;
	s->state = REASM_FREE;
	stat_add(BR_STAT_TUN_REASM, BR_PORT_WAN, ETH_HLEN + total);
	return BR_TC_PASS;
}

/*
 * A frame tc ingress received on the WAN that may be a fragment of 4in6:
 * the tc verdict, or REASM_NOT_OURS for anything else.
 */
static __always_inline int tun_reasm(struct __sk_buff *skb)
{
	const struct br_tun *t = NULL;
	struct reasm_frag f = {};
	struct reasm_slot *s;
	__u64 now;
	int r;

	r = frag_parse(skb, &f, &t);
	if (r < 0)
		return reasm_drop(-r, f.frame);
	if (!r || !t)
		return REASM_NOT_OURS;
	/*
	 * The fine clock, not lib/clock.h's tick: which datagram has been
	 * idle longest is a matter of microseconds under a flood.
	 */
	now = bpf_ktime_get_ns();
	s = slot_get(&f, now);
	if (!s)
		return reasm_drop(BR_STAT_DROP_TUN_FRAG_EVICTED, f.frame);
	if (s->state == REASM_REFUSED)
		return reasm_drop(s->reason, f.frame);
	r = frag_admit(s, &f);
	if (!r && !f.off)
		r = frag_first_ok(skb, s, t, &f);
	if (!r && frag_copy(skb, s, &f)) {
		slot_refuse(s, BR_STAT_DROP_TUN_FRAG_BAD);
		r = -BR_STAT_DROP_TUN_FRAG_BAD;
	}
	if (r)
		return reasm_drop(-r, f.frame);
	frag_hold(s, &f, now);
	if (!s->first || s->have != s->total) {
		stat_add(BR_STAT_TUN_FRAG_HELD, BR_PORT_WAN, f.frame);
		return TC_ACT_STOLEN;
	}
	r = reasm_emit(skb, s);
	/* whole now, as XDP would have decapsulated it: swap NAT stand-ins as it does */
	if (r == BR_TC_PASS)
		napt_skb(skb, t, NAPT_IN);
	return r;
}

#endif /* BR_TUN_REASM_H */
