/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The "tunnel" group of brouter.conf: IPv4 over IPv6 by MAP-E (RFC 7597),
 * DS-Lite (RFC 6333) and static ip4ip6 peers. Parsed and checked by
 * cfg_parse_tunnel() (config_priv.h); loader/tunnel.c turns it into
 * addresses, routes, maps and nftables.
 */
#ifndef BR_CONFIG_TUNNEL_H
#define BR_CONFIG_TUNNEL_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>

#include "tunnel/mape_rule.h"

#define TUNNEL_MAX_PEERS 16	   /* ipip6 peers */
#define TUNNEL_MAX_PEER_PREFIXES 16 /* IPv4 prefixes behind one peer */
#define TUNNEL_MAX_RESERVED 32	   /* MAP-E static port forwards */
#define TUNNEL_MTU_MIN 68	   /* RFC 791: every IPv4 host takes 68 */
#define TUNNEL_MTU_MAX 65495	   /* 65535 - the 40-byte outer header */
#define TUNNEL_PSID_OFFSET_DEFAULT 6 /* RFC 7597 5.1 */

enum tunnel_mode {
	TUNNEL_OFF = 0,	   /* no MAP-E/DS-Lite; ipip6 peers may still be set */
	TUNNEL_MAPE = 1,
	TUNNEL_DSLITE = 2,
};

/* A MAP-E port of the set forwarded to a LAN server, kept out of NAPT. */
struct tunnel_reserved {
	uint8_t proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	uint16_t port;		/* of the CE's port set */
	struct in_addr to;	/* LAN server */
	uint16_t to_port;
	unsigned int line;	/* in the config file, for run-time messages */
};

/* A static ip4ip6 peer: IPv4 prefixes reached through @remote. */
struct tunnel_peer {
	struct in6_addr local;	/* our end, put on the WAN if missing */
	struct in6_addr remote;
	int n_prefixes;
	struct prefix4 prefixes[TUNNEL_MAX_PEER_PREFIXES];
};

/*
 * Plain data with fixed arrays: copy it, compare it with memcmp (the
 * parser zeroes it first, padding included), nothing to free.
 */
struct tunnel_cfg {
	enum tunnel_mode mode;

	/* map-e */
	bool has_mape;			/* the map-e group was given */
	struct mape_rule rule;		/* rule.has_br is true */
	bool has_prefix;		/* end-user prefix set; else learned on the WAN */
	struct prefix6 prefix;
	int n_reserved;
	struct tunnel_reserved reserved[TUNNEL_MAX_RESERVED];

	/* ds-lite */
	bool has_dslite;
	struct in6_addr aftr;
	bool has_b4;			/* B4 IPv6 address set; else a WAN global one */
	struct in6_addr b4;

	/* ipip6 */
	int n_peers;
	struct tunnel_peer peers[TUNNEL_MAX_PEERS];

	unsigned int mtu;		/* IPv4 MTU of the tunnels; 0: WAN MTU - 40 */
};

/* Tunnels off, no peers. */
void tunnel_cfg_defaults(struct tunnel_cfg *c);

/* Anything to set up: MAP-E, DS-Lite or at least one ipip6 peer. */
bool tunnel_cfg_active(const struct tunnel_cfg *c);

/* "map-e", "ds-lite", "off". */
const char *tunnel_mode_name(enum tunnel_mode mode);

#endif /* BR_CONFIG_TUNNEL_H */
