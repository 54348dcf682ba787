/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Does anything but brouterd's own table need IPv4 conntrack? While
 * nothing does, conntrack runs for the fast path alone, and a flow's
 * first packet may skip it (BR_FP4_LAZY_CT): no rule can tell.
 */
#ifndef BR_FP4_CT_USERS_H
#define BR_FP4_CT_USERS_H

/*
 * In @json (`nft -j list ruleset`), a table of family ip, inet or bridge
 * other than "ip @own" that uses conntrack: a rule with a conntrack
 * expression or statement, NAT, an xtables match or target (any: their
 * insides are not shown), flow offload or synproxy; a chain of type nat;
 * or a conntrack object. 1 if there is one, 0 if not, -EINVAL if @json
 * is not such a listing.
 */
int ct_users_in(const char *json, const char *own);

/*
 * The same of the running ruleset, and of iptables-legacy: any legacy
 * IPv4 table counts. 1, 0, or -errno (unknown: count it as used).
 */
int ct_users(const char *own);

#endif /* BR_FP4_CT_USERS_H */
