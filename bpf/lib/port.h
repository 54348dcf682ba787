/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The ports and live settings: which port an ifindex is, own MACs, bridged ethertypes. */
#ifndef BR_PORT_H
#define BR_PORT_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "maps.h"

/* Returns enum br_port, or -1 for an interface brouter does not own. */
static __always_inline int port_of(__u32 ifindex)
{
	if (ifindex == consts.ifindex[BR_PORT_LAN])
		return BR_PORT_LAN;
	if (ifindex == consts.ifindex[BR_PORT_WAN])
		return BR_PORT_WAN;
	return -1;
}

static __always_inline __u32 other_port(__u32 port)
{
	return port == BR_PORT_LAN ? BR_PORT_WAN : BR_PORT_LAN;
}

static __always_inline int mac_is_group(const __u8 *mac)
{
	return mac[0] & 1;
}

static __always_inline int mac_eq(const __u8 *a, const __u8 *b)
{
	/*
	 * Three 16-bit loads per side: MACs sit at even offsets in the frame
	 * and the settings map, so this stays aligned on architectures that
	 * trap on unaligned access, yet beats six byte compares.
	 */
	const __u16 *x = (const __u16 *)a, *y = (const __u16 *)b;

	return !((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]));
}

/* The brouter's own MAC on either port: router-local traffic. */
static __always_inline int mac_is_own(const struct br_settings *s,
				      const __u8 *mac)
{
	return mac_eq(mac, s->mac[BR_PORT_LAN]) ||
	       mac_eq(mac, s->mac[BR_PORT_WAN]);
}

/* Ethertype (network order) configured to be bridged besides IPv6. */
static __always_inline int ethertype_bridged(const struct br_settings *s,
					     __u16 proto)
{
	int i;

#pragma unroll
	for (i = 0; i < BR_MAX_ETHERTYPES; i++) {
		if (!s->ethertypes[i])
			return 0;
		if (s->ethertypes[i] == proto)
			return 1;
	}
	return 0;
}

#endif /* BR_PORT_H */
