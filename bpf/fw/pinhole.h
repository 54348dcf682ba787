/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Pinholes and prefixes: lookups whose cost does not depend on how many
 * rules are loaded (see struct br_pin_dst_key in include/brouter.h).
 */
#ifndef BR_PINHOLE_H
#define BR_PINHOLE_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "maps.h"
#include "brouter/prefix.h"
#include "fw/flows.h"

static __always_inline int pin_src_ok(const struct br_pin_val *v,
				      const struct in6_addr *src)
{
	int i;

	if (!v->n_src)
		return 1;
	for (i = 0; i < BR_PIN_MAX_SRC; i++) {
		if (i >= v->n_src)
			return 0;
		if (br_prefix_match(src->s6_addr32, (const __u32 *)v->src[i],
				    v->src_plen[i]))
			return 1;
	}
	return 0;
}

/*
 * Pinhole for an inbound packet: destination set by longest prefix, then
 * exact port, any port, any protocol. Returns 1 and the rule id on a match.
 */
static __always_inline int pinhole_match(__u8 gen, const struct in6_addr *dst,
					 const struct in6_addr *src, __u8 proto,
					 __u16 port, int has_port, __u32 *rule_id)
{
	struct br_pin_dst_key dk = { .prefixlen = 8 + 128, .gen = gen };
	struct br_pin_dst_val *dv;
	struct br_pin_key k = { .gen = gen, .proto = proto, .port = port };
	struct br_pin_val *v;
	int i;

	addr_copy(dk.addr, dst);
	dv = bpf_map_lookup_elem(&pin_dst, &dk);
	if (!dv)
		return 0;
	k.set_id = dv->set_id;
	k.any_port = !has_port;
	if (!has_port)
		k.port = 0;
	for (i = 0; i < 3; i++) {
		v = bpf_map_lookup_elem(&pin_rules, &k);
		if (v && pin_src_ok(v, src)) {
			*rule_id = v->rule_id;
			return 1;
		}
		/* next probe: any port of this protocol, then any protocol */
		if (!k.any_port) {
			k.any_port = 1;
			k.port = 0;
		} else if (k.proto != BR_PIN_PROTO_ANY) {
			k.proto = BR_PIN_PROTO_ANY;
		} else {
			return 0;
		}
	}
	return 0;
}

/* Is @src a plausible outbound source: inside an advertised prefix? */
static __always_inline int prefix_known(const struct in6_addr *src, __u64 now)
{
	struct br_prefix_key k = { .prefixlen = 128 };
	struct br_prefix_val *v;

	addr_copy(k.addr, src);
	v = bpf_map_lookup_elem(&prefixes, &k);
	/* configured: valid while configured, whatever an RA said */
	return v && ((v->flags & BR_PFX_CONFIG) || !v->expires_ns ||
		     ns_since(v->expires_ns, now) > 0);
}

#endif /* BR_PINHOLE_H */
