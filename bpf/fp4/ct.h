/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * conntrack, read from XDP: the kfuncs of nf_conntrack_bpf.c (they look
 * up TCP and UDP only) and the few fields of struct nf_conn the fast path
 * needs. Those are declared here with a ___fp4 suffix and CO-RE
 * relocations: libbpf finds struct nf_conn and the rest in the running
 * kernel's BTF by name and fixes every offset at load, so no vmlinux.h
 * has to be mixed with the uapi headers the other programs use.
 */
#ifndef BR_FP4_CT_H
#define BR_FP4_CT_H

#include <linux/bpf.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "brouter/abi.h"

/*
 * One end of a tuple. The kernel's dst is an anonymous struct with more
 * members; CO-RE matches members by name, so one type serves both.
 */
struct nf_conntrack_man___fp4 {
	union {
		__u32 ip;
	} u3;
	union {
		__u16 all;
	} u;
} __attribute__((preserve_access_index));

struct nf_conntrack_tuple___fp4 {
	struct nf_conntrack_man___fp4 src;
	struct nf_conntrack_man___fp4 dst;
} __attribute__((preserve_access_index));

struct nf_conntrack_tuple_hash___fp4 {
	struct nf_conntrack_tuple___fp4 tuple;
} __attribute__((preserve_access_index));

struct ip_ct_tcp_state___fp4 {
	__u8 flags;
} __attribute__((preserve_access_index));

struct ip_ct_tcp___fp4 {
	struct ip_ct_tcp_state___fp4 seen[2];
	__u8 state;
} __attribute__((preserve_access_index));

struct nf_ct_udp___fp4 {
	unsigned long stream_ts;
} __attribute__((preserve_access_index));

union nf_conntrack_proto___fp4 {
	struct ip_ct_tcp___fp4 tcp;
	struct nf_ct_udp___fp4 udp;
} __attribute__((preserve_access_index));

struct nf_ct_ext___fp4 {
	__u8 offset[16]; /* indexed by enum nf_ct_ext_id; the size is the kernel's */
} __attribute__((preserve_access_index));

struct nf_conn___fp4 {
	struct nf_conntrack_tuple_hash___fp4 tuplehash[2];
	unsigned long status;
	__u32 mark;
	struct nf_ct_ext___fp4 *ext;
	union nf_conntrack_proto___fp4 proto;
} __attribute__((preserve_access_index));

/* The kernel's enum, whose values depend on its configuration. */
enum nf_ct_ext_id___fp4 {
	NF_CT_EXT_HELPER___fp4,
	NF_CT_EXT_TIMEOUT___fp4,
};

/* nf_conntrack_bpf.c's options; 16 bytes is the size with zones. */
struct bpf_ct_opts___fp4 {
	__s32 netns_id;
	__s32 error;
	__u8 l4proto;
	__u8 dir;
	__u16 ct_zone_id;
	__u8 ct_zone_dir;
	__u8 reserved[3];
};

#define FP4_CURRENT_NETNS (-1)

extern struct nf_conn___fp4 *bpf_xdp_ct_lookup(struct xdp_md *ctx,
					       struct bpf_sock_tuple *tuple,
					       __u32 tuple__sz,
					       struct bpf_ct_opts___fp4 *opts,
					       __u32 opts__sz) __ksym;
extern void bpf_ct_release(struct nf_conn___fp4 *ct) __ksym;
extern int bpf_ct_change_timeout(struct nf_conn___fp4 *ct,
				 __u32 timeout) __ksym;
extern int bpf_ct_change_status(struct nf_conn___fp4 *ct, __u32 status) __ksym;

/*
 * Status the fast path cannot repeat: a helper reads the payload, NAT
 * of a helper and SYN proxy adjust sequence numbers (IPS_SEQ_ADJUST: the
 * extension alone says nothing, ctnetlink gives it to every entry it
 * makes), a template or untracked entry is no flow, and a dying one is
 * on its way out.
 */
#define FP4_CT_REFUSE \
	(IPS_DYING | IPS_SEQ_ADJUST | IPS_HELPER | IPS_TEMPLATE | IPS_UNTRACKED)

/* Does the entry carry extension @id (by its value in the running kernel)? */
#define ct_has_ext(ext, id)                                         \
	(bpf_core_enum_value_exists(enum nf_ct_ext_id___fp4, id) && \
	 (ext)->offset[bpf_core_enum_value(enum nf_ct_ext_id___fp4, id)])

/*
 * Extensions the fast path cannot repeat: a helper (even one that does
 * not adjust sequence numbers reads payload), a timeout policy of its
 * own (the refresh would override it).
 */
static __always_inline int ct_ext_refused(const struct nf_conn___fp4 *ct)
{
	const struct nf_ct_ext___fp4 *ext = ct->ext;

	if (!ext)
		return 0;
	return ct_has_ext(ext, NF_CT_EXT_HELPER___fp4) ||
	       ct_has_ext(ext, NF_CT_EXT_TIMEOUT___fp4);
}

/* Both directions of a TCP entry free of window tracking. */
static __always_inline int ct_tcp_liberal(const struct nf_conn___fp4 *ct)
{
	return ct->proto.tcp.seen[0].flags & ct->proto.tcp.seen[1].flags &
	       IP_CT_TCP_FLAG_BE_LIBERAL;
}

/*
 * Where a packet of direction @dir goes once NATed: the other
 * direction's tuple turned round (its destination is our new source).
 * Constant indexes: CO-RE relocates those, not a computed one.
 */
static __always_inline void ct_translate(const struct nf_conn___fp4 *ct,
					 int dir, struct br_fp4_key *out)
{
	const struct nf_conntrack_tuple___fp4 *t =
		dir ? &ct->tuplehash[0].tuple : &ct->tuplehash[1].tuple;

	out->saddr = t->dst.u3.ip;
	out->daddr = t->src.u3.ip;
	out->sport = t->dst.u.all;
	out->dport = t->src.u.all;
}

#endif /* BR_FP4_CT_H */
