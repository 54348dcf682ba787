/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The "tunnel" group of brouter.conf: IPv4 over IPv6 by MAP-E (RFC 7597),
 * DS-Lite (RFC 6333), lw4o6 (RFC 7596), a fixed address over ip4ip6, or
 * whatever HB46PP provisioning says ("auto"), and static peers in ip4ip6
 * or GRE. Parsed and checked by cfg_parse_tunnel() (config/parse.h);
 * loader/tunnel turns it into addresses, routes, maps and nftables.
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
	TUNNEL_OFF = 0, /* no MAP-E/DS-Lite; ipip6 peers may still be set */
	TUNNEL_MAPE = 1,
	TUNNEL_DSLITE = 2,
	/*
	 * RFC 7596: a given address and port set. Runs as a MAP-E rule of
	 * no EA bits (rule IPv4 prefix the address /32, PSID given, RFC
	 * 7597 6 interface identifier), as RFC 7597 Appendix A example 5 and
	 * RFC 7598 4.6 read it: the lw4o6 group fills rule and prefix.
	 */
	TUNNEL_LW4O6 = 3,
	TUNNEL_IPIP = 4, /* a fixed IPv4 address over ip4ip6 (HB46PP "ipip") */
	TUNNEL_AUTO = 5, /* HB46PP provisioning picks one at run time */
	TUNNEL_MODES,
};

/* A MAP-E port of the set forwarded to a LAN server, kept out of NAPT. */
struct tunnel_reserved {
	uint8_t proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	uint16_t port;		/* of the CE's port set */
	struct in_addr to;	/* LAN server */
	uint16_t to_port;
	unsigned int line;	/* in the config file, for run-time messages */
};

/* A static peer: IPv4 prefixes reached through @remote, in ip4ip6 or GRE. */
struct tunnel_peer {
	struct in6_addr local;	/* our end, put on the WAN if missing */
	struct in6_addr remote;
	int n_prefixes;
	struct prefix4 prefixes[TUNNEL_MAX_PEER_PREFIXES];
	bool gre;     /* encap = "gre": RFC 2784 */
	bool has_key; /* with a key (RFC 2890) */
	uint32_t key; /* host order */
};

/*
 * A fixed IPv4 address over ip4ip6 (the "fixed IP" services, HB46PP's
 * "ipip"): the address on the WAN, IPv4's default route to @remote, the
 * LAN NAPT-ed to the address.
 */
struct tunnel_fixed {
	struct in6_addr local; /* our end, put on the WAN if missing */
	struct in6_addr remote;
	struct in_addr ipv4; /* the address brouter uses */
	unsigned int plen;   /* of the block it came with, for people */
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

	/*
	 * map-e, or lw4o6 as a rule without EA bits: rule, prefix and
	 * reserved ports come from the group tunnel.mode names; the other
	 * group, if there, is checked and kept out.
	 */
	bool has_lw4o6; /* the lw4o6 group was given */

	/* ds-lite */
	bool has_dslite;
	struct in6_addr aftr;
	bool has_b4;			/* B4 IPv6 address set; else a WAN global one */
	struct in6_addr b4;

	/* ipip */
	bool has_fixed;
	struct tunnel_fixed fixed;

	/* ipip6 */
	int n_peers;
	struct tunnel_peer peers[TUNNEL_MAX_PEERS];

	unsigned int mtu;		/* IPv4 MTU of the tunnels; 0: WAN MTU - 40 */

	/*
	 * Not of the tunnel group: ipv4.fast-path, set by brouterd. The
	 * fast path takes over flows conntrack tracks, and without NAT
	 * (DS-Lite, ipip6) nothing else may make conntrack track IPv4.
	 */
	bool track_flows;
};

/* Tunnels off, no peers. */
void tunnel_cfg_defaults(struct tunnel_cfg *c);

/* Anything to set up: MAP-E, DS-Lite or at least one ipip6 peer. */
bool tunnel_cfg_active(const struct tunnel_cfg *c);

/* "map-e", "ds-lite", "lw4o6", "ipip", "auto", "off". */
const char *tunnel_mode_name(enum tunnel_mode mode);

/* What GRE adds to @p's packets (0 for ip4ip6): its MTU is that less. */
unsigned int tunnel_peer_overhead(const struct tunnel_peer *p);

/*
 * The address brouter takes from a fixed block @a/@len: @a when it has
 * host bits set (or the block is a /31, /32), else the block's first host.
 */
struct in_addr tunnel_fixed_pick(struct in_addr a, unsigned int len);

#endif /* BR_CONFIG_TUNNEL_H */
