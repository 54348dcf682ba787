/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Pinhole policy: rules as the config file gives them, and their
 * compilation into the "pin_dst" and "pin_rules" maps described in
 * include/brouter.h.
 */
#ifndef BR_POLICY_H
#define BR_POLICY_H

#include <linux/types.h>
#include "brouter/abi.h"
#include "common/prefix.h"

struct br_port_range {
	__u16 lo;
	__u16 hi; /* inclusive, >= lo */
};

/* Port ranges (or ICMPv6 types) one pinhole may list, after merging. */
#define BR_PH_MAX_RANGES 64

/* One allow rule from the config file. */
struct br_pinhole {
	char name[BR_PIN_NAME_LEN]; /* "" when unnamed */
	const char *file;    /* where it was read, for messages; may be NULL */
	unsigned int line;   /* 0 when not read from a file */
	struct prefix6 dst;
	__u8 proto;	     /* IPPROTO_*, or BR_PIN_PROTO_ANY */
	/*
	 * Sorted, non-overlapping, non-adjacent. Ports for TCP, UDP, SCTP and
	 * UDP-Lite; ICMPv6 types for proto 58; none: every port (type).
	 */
	int n_ranges;
	struct br_port_range range[BR_PH_MAX_RANGES];
	int n_src;	     /* 0: any source */
	struct prefix6 src[BR_PIN_MAX_SRC];
};

/*
 * Limits of one generation. The maps must hold two generations during a
 * reload: pin_dst >= 2 * BR_PIN_MAX_DST, pin_rules >= 2 * BR_PIN_MAX_ENTRIES.
 */
#define BR_PIN_MAX_DST 32768	  /* distinct destination prefixes */
#define BR_PIN_MAX_ENTRIES 524288 /* rule entries, ranges expanded */

struct br_pin_dst_entry {
	struct br_pin_dst_key key;
	struct br_pin_dst_val val;
};

struct br_pin_entry {
	struct br_pin_key key;
	struct br_pin_val val;
};

/* What policy_write() puts in the maps for one generation. */
struct br_compiled {
	struct br_pin_dst_entry *dst;	/* for "pin_dst" */
	__u32 n_dst;
	struct br_pin_entry *rules;	/* for "pin_rules" */
	__u32 n_rules;
};

/*
 * Compile @n pinholes into map entries of generation @gen.
 *
 * Every distinct destination prefix P gets a set id (1, 2, ... in the order
 * the rules name them) holding every rule whose dst covers P. A rule
 * entry is keyed {set, gen, proto, any_port, port}:
 *   proto "any"              -> {set, gen, 0, 1, 0}
 *   a protocol, no ports     -> {set, gen, proto, 1, 0}
 *   ports / ICMPv6 types     -> {set, gen, proto, 0, port} for each one
 * so the data path probes exact port, any port, any protocol. Rules that
 * land on the same key share one entry: rule_id is the lowest rule index,
 * sources are the union (any source if one rule has none).
 *
 * Returns 0 and fills @out (free with policy_compiled_free()); -E2BIG past
 * BR_PIN_MAX_DST, BR_PIN_MAX_ENTRIES or BR_PIN_MAX_SRC merged sources;
 * -ENOMEM. Errors are logged naming the rule.
 */
int policy_compile(const struct br_pinhole *ph, int n, __u8 gen,
		   struct br_compiled *out);
void policy_compiled_free(struct br_compiled *c);

/*
 * Add every entry of @c to the maps (rules first, so a destination that
 * matches always finds its rules). Clear the generation first with
 * policy_clear_gen(). On failure deletes what it wrote and returns -errno.
 */
int policy_write(int pin_dst_fd, int pin_rules_fd, const struct br_compiled *c);

/*
 * Tag every rule_id of @c with @tag (the reload's bits above
 * BR_RULE_INDEX_BITS) and write the names of the @n pinholes @ph under
 * those ids into "pin_names" (@names_fd). 0 or -errno.
 */
void policy_tag(struct br_compiled *c, __u32 tag);
int policy_write_names(int names_fd, const struct br_pinhole *ph, int n,
		       __u32 tag);

/* Delete every entry of generation @gen from both maps. 0 or -errno. */
int policy_clear_gen(int pin_dst_fd, int pin_rules_fd, __u8 gen);

/*
 * Add @p to the source set @set of *@n prefixes: skipped when a member
 * covers it, replaces the members it covers. Returns 0 or -E2BIG when
 * that would make more than BR_PIN_MAX_SRC.
 */
int prefix_set_add(struct prefix6 *set, int *n, const struct prefix6 *p);

#endif /* BR_POLICY_H */
