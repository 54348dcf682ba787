// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * brouterd's nftables table, as nft text run through libnftables.
 *
 * MAP-E NAPT of a shared address uses every port of the set for every
 * destination: one snat into a contiguous range of stand-ins
 * (tunnel/napt.h), which the programs swap for the ports of the set, so
 * the kernel's own search for a free port covers the whole set. (Picking
 * one run of the set per connection, round robin, fails a connection
 * whenever its run is full for that destination while others have room.)
 * An unshared address, or a set of one run, is NATed into its ranges
 * directly. The same rules map ICMP echo identifiers, which conntrack
 * NATs like ports.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <nftables/libnftables.h>

#include "brouter/abi.h"
#include "common/log.h"
#include "tunnel/nft.h"

static int cmp_u16(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/* Split [first, last] around the sorted @ports; append to @out. */
static int split_range(uint32_t first, uint32_t last, const uint16_t *ports,
		       int n_ports, struct mape_port_range *out, int n)
{
	uint32_t cur = first;
	int i;

	for (i = 0; i < n_ports; i++) {
		if (ports[i] < cur || ports[i] > last)
			continue;
		if (ports[i] > cur)
			out[n++] = (struct mape_port_range){ cur, ports[i] - 1 };
		cur = ports[i] + 1U;
	}
	if (cur <= last)
		out[n++] = (struct mape_port_range){ cur, last };
	return n;
}

int nft_nat_ranges(const struct nft_spec *spec, struct mape_port_range **out)
{
	uint16_t ports[TUNNEL_MAX_RESERVED];
	const struct mape_ce *ce = spec->ce;
	struct mape_port_range r, *v;
	unsigned int count, i;
	int n = 0, n_ports = 0;

	if (!ce || spec->n_reserved > TUNNEL_MAX_RESERVED)
		return -EINVAL;
	/* reserved for one protocol, kept from all: the map is shared */
	for (i = 0; i < (unsigned int)spec->n_reserved; i++)
		ports[n_ports++] = spec->reserved[i].port;
	qsort(ports, n_ports, sizeof(ports[0]), cmp_u16);
	count = ce->psid_len ? mape_port_range_count(ce) : 1;
	v = calloc(count + n_ports, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = 0; i < count; i++) {
		if (!ce->psid_len)
			r = (struct mape_port_range){ 1, 65535 }; /* port 0 is no port */
		else if (mape_port_range(ce, i, &r))
			break;
		n = split_range(r.first, r.last, ports, n_ports, v, n);
	}
	*out = v;
	return n;
}

/* Interface names end up inside "..." in nft syntax. */
static int ifname_ok(const char *s)
{
	return s && *s && !strpbrk(s, "\"\\\n");
}

static void print_nat_out(FILE *f, const struct nft_spec *s,
			  const struct mape_port_range *r, int n)
{
	char ce[INET_ADDRSTRLEN];
	int i;

	inet_ntop(AF_INET, &s->ce->ipv4, ce, sizeof(ce));
	fprintf(f, "\tchain nat_out {\n"
		   "\t\ttype nat hook postrouting priority srcnat; policy accept;\n");
	if (s->n_no_nat)
		fprintf(f, "\t\toifname \"%s\" ip daddr @no_nat return\n", s->wan);
	if (s->napt)
		fprintf(f,
			"\t\toifname \"%s\" meta l4proto { tcp, udp, icmp } "
			"snat ip to %s:%u-%u\n",
			s->wan, ce, s->napt->first, s->napt->last);
	else if (n) {
		fprintf(f, "\t\toifname \"%s\" meta l4proto { tcp, udp, icmp } "
			   "snat ip to numgen inc mod %d map {", s->wan, n);
		for (i = 0; i < n; i++)
			fprintf(f, "%s %d : %s . %u-%u", i ? "," : "", i, ce,
				r[i].first, r[i].last);
		fprintf(f, " }\n");
	}
	/*
	 * A shared address (PSID length > 0) cannot carry port-less protocols:
	 * tc egress drops them (encap_portless). A whole address can.
	 */
	if (!s->ce->psid_len)
		fprintf(f, "\t\toifname \"%s\" snat ip to %s\n", s->wan, ce);
	fprintf(f, "\t}\n");
}

static void print_nat_in(FILE *f, const struct nft_spec *s)
{
	char ce[INET_ADDRSTRLEN], to[INET_ADDRSTRLEN];
	const struct tunnel_reserved *r;
	int i;

	inet_ntop(AF_INET, &s->ce->ipv4, ce, sizeof(ce));
	fprintf(f, "\tchain nat_in {\n"
		   "\t\ttype nat hook prerouting priority dstnat; policy accept;\n");
	for (i = 0; i < s->n_reserved; i++) {
		r = &s->reserved[i];
		inet_ntop(AF_INET, &r->to, to, sizeof(to));
		fprintf(f, "\t\tiifname \"%s\" ip daddr %s %s dport %u dnat ip to %s:%u\n",
			s->wan, ce, r->proto == IPPROTO_UDP ? "udp" : "tcp", r->port,
			to, r->to_port);
	}
	fprintf(f, "\t}\n");
}

/*
 * A stand-in is only ever the reply half of a connection the CE opened:
 * a new one arriving on it (XDP swapped an unsolicited packet's port of
 * the set for it) must not reach whatever listens on that low port here.
 */
static void print_guard(FILE *f, const struct nft_spec *s)
{
	char ce[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &s->ce->ipv4, ce, sizeof(ce));
	fprintf(f,
		"\tchain guard {\n"
		"\t\ttype filter hook input priority filter; policy accept;\n"
		"\t\tiifname \"%s\" ip daddr %s meta l4proto { tcp, udp } "
		"th dport %u-%u ct state new drop\n"
		"\t}\n",
		s->wan, ce, s->napt->first, s->napt->last);
}

char *nft_table_text(const struct nft_spec *s)
{
	struct mape_port_range *ranges = NULL;
	char *text = NULL, net[INET_ADDRSTRLEN];
	size_t len = 0;
	int n = 0, i;
	FILE *f;

	if (!ifname_ok(s->wan)) {
		errno = EINVAL;
		return NULL;
	}
	if (s->ce && (n = nft_nat_ranges(s, &ranges)) < 0) {
		errno = -n;
		return NULL;
	}
	f = open_memstream(&text, &len);
	if (!f) {
		free(ranges);
		return NULL;
	}
	/* create-then-delete: the new table replaces any old one in one go */
	fprintf(f,
		"add table ip %s\ndelete table ip %s\ntable ip %s {\n"
		"\tcomment \"%s\"\n",
		NFT_TABLE, NFT_TABLE, NFT_TABLE, NFT_OWNER_MARK);
	if (s->n_no_nat) {
		fprintf(f, "\tset no_nat {\n\t\ttype ipv4_addr; flags interval;\n"
			   "\t\telements = {");
		for (i = 0; i < s->n_no_nat; i++) {
			inet_ntop(AF_INET, &s->no_nat[i].addr, net, sizeof(net));
			fprintf(f, "%s %s/%u", i ? "," : "", net, s->no_nat[i].len);
		}
		fprintf(f, " }\n\t}\n");
	}
	if (s->ce)
		print_nat_out(f, s, ranges, n);
	if (s->ce && s->n_reserved)
		print_nat_in(f, s);
	if (s->ce && s->napt)
		print_guard(f, s);
	/*
	 * A rule using conntrack has the kernel track the family's packets,
	 * even in a chain nothing jumps to: which is all this one is for.
	 */
	if (s->track)
		fprintf(f,
			"\tchain fast_path {\n\t\tct state established accept "
			"comment \"conntrack on for the IPv4 fast path\"\n\t}\n");
	/*
	 * What the fast path sends up untracked (tc ingress gave it
	 * BR_NOTRACK_PRIO): it does so only while nothing else uses
	 * conntrack (daemon/fp4.c), and only with no NAT of ours.
	 */
	if (nft_spec_untracked(s))
		fprintf(f,
			"\tchain untracked {\n"
			"\t\ttype filter hook prerouting priority raw; policy accept;\n"
			"\t\tmeta priority %x:%x notrack comment \"first packet of a "
			"UDP flow, conntrack being the fast path's alone\"\n\t}\n",
			BR_NOTRACK_PRIO >> 16, BR_NOTRACK_PRIO & 0xffff);
	fprintf(f, "}\n");
	free(ranges);
	if (fclose(f)) {
		free(text);
		return NULL;
	}
	return text;
}

struct nft_ctx *nft_ctx_buffered(void)
{
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);

	if (!ctx || nft_ctx_buffer_output(ctx) || nft_ctx_buffer_error(ctx)) {
		pr_err("nftables: cannot create a context");
		if (ctx)
			nft_ctx_free(ctx);
		return NULL;
	}
	return ctx;
}

int nft_table_owner(void)
{
	struct nft_ctx *ctx = nft_ctx_buffered();
	const char *out;
	int ret;

	if (!ctx)
		return -ENOMEM;
	if (nft_run_cmd_from_buffer(ctx, "list table ip " NFT_TABLE "\n"))
		ret = NFT_TABLE_ABSENT;
	else if ((out = nft_ctx_get_output_buffer(ctx)) &&
		 strstr(out, "comment \"" NFT_OWNER_MARK "\""))
		ret = NFT_TABLE_OURS;
	else
		ret = NFT_TABLE_FOREIGN;
	nft_ctx_free(ctx);
	return ret;
}

static int run(const char *text, const char *what, bool dry_run)
{
	struct nft_ctx *ctx = nft_ctx_buffered();
	const char *msg;
	size_t len;
	int rc;

	if (!ctx)
		return -ENOMEM;
	nft_ctx_set_dry_run(ctx, dry_run);
	rc = nft_run_cmd_from_buffer(ctx, text);
	if (rc) {
		msg = nft_ctx_get_error_buffer(ctx);
		len = msg ? strlen(msg) : 0;
		while (len && msg[len - 1] == '\n')
			len--;
		pr_err("nftables: %s table ip %s: %.*s", what, NFT_TABLE, (int)len,
		       len ? msg : "failed");
	}
	nft_ctx_free(ctx);
	return rc ? -EIO : 0;
}

int nft_table_apply(const char *text)
{
	return run(text, "load", false);
}

int nft_table_check(const char *text)
{
	return run(text, "check", true);
}

int nft_table_delete(void)
{
	/* "add" first so that a missing table is no error */
	return run("add table ip " NFT_TABLE "\ndelete table ip " NFT_TABLE "\n",
		   "delete", false);
}
