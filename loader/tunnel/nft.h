/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The nftables table brouterd owns while a tunnel runs, "table ip brouter":
 * MAP-E's NAPT into the CE's port set (every port of it, by the kernel's
 * conntrack NAT into stand-ins: tunnel/napt.h) and static port forwards
 * kept out of that NAPT, both in NAT chains, which the kernel runs for a
 * connection's first packet only. (MSS clamping, a GRE peer's smaller
 * MSS included, is done by the BPF programs, on SYNs alone: see
 * bpf/tun/mss.h.) Written as nft text, replaced atomically (one
 * transaction), deleted on exit.
 */
#ifndef BR_NFT_H
#define BR_NFT_H

#include <stdbool.h>
#include <netinet/in.h>

#include "config/tunnel.h"
#include "tunnel/mape_rule.h"
#include "tunnel/napt.h"

#define NFT_TABLE "brouter"
/*
 * The table's comment: what tells brouterd's table (its own, or one a
 * killed brouterd left) from one of the same name someone else made.
 */
#define NFT_OWNER_MARK \
	"brouterd: MAP-E NAPT, port forwards, MSS clamp; changes are undone"

/* What the table must do; a pure description nft_table_text() renders. */
struct nft_spec {
	const char *wan;		/* interface name */
	const struct mape_ce *ce;	/* MAP-E NAPT into ce's address and set; NULL: no NAT */
	const struct napt_plan
		*napt; /* with ce: NAT into these stand-ins instead */
	const struct tunnel_reserved *reserved; /* forwarded ports: DNAT, not NAPT */
	int n_reserved;
	const struct prefix4 *no_nat; /* ipip6 peers' prefixes: routed as they are */
	int n_no_nat;
	bool track; /* make conntrack track IPv4 (for the fast path) */
};

/*
 * Does the table have the "untracked" chain: conntrack on for the fast
 * path alone (no NAT of ours), which may then skip a flow's first packet?
 */
static inline bool nft_spec_untracked(const struct nft_spec *s)
{
	return s->track && !s->ce;
}

/*
 * The port set of @ce minus the reserved ports of @spec, as ascending
 * ranges in a malloc()ed array (*@out). Returns the count or -errno. A
 * CE with the whole address (PSID length 0) gets 1..65535.
 */
int nft_nat_ranges(const struct nft_spec *spec, struct mape_port_range **out);

/* The whole table as nft input, malloc()ed (free it), or NULL (errno). */
char *nft_table_text(const struct nft_spec *spec);

/*
 * Create or replace the table in one transaction (libnftables). 0, or
 * -errno after logging nft's own message.
 */
int nft_table_apply(const char *text);

/* Let nft parse and check @text against the kernel without applying it. */
int nft_table_check(const char *text);

/* Delete the table if it exists. */
int nft_table_delete(void);

enum { NFT_TABLE_ABSENT, NFT_TABLE_OURS, NFT_TABLE_FOREIGN };

/* Is there a table ip brouter, and is it one brouterd wrote? An enum above or -errno. */
int nft_table_owner(void);

/*
 * A libnftables context whose output and errors go to buffers
 * (nft_ctx_get_output_buffer()), or NULL (logged). nft_ctx_free() it.
 */
struct nft_ctx;
struct nft_ctx *nft_ctx_buffered(void);

#endif /* BR_NFT_H */
