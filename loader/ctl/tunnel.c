// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* brouterctl tunnel: print the pinned "tun_out" and "tun_in" maps. */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>

#include "brouter/abi.h"
#include "ctl/map_e.h"
#include "common/mapwalk.h"
#include "ctl/ctl.h"
#include "tunnel/ct.h"
#include "tunnel/mape_rule.h"

#define TUN_MAX 64 /* BR_TUN_MAX of bpf/maps.h */

static const char *mode_name(__u32 mode)
{
	switch (mode) {
	case BR_TUN_MAPE:
		return "map-e";
	case BR_TUN_DSLITE:
		return "ds-lite";
	case BR_TUN_IPIP6:
		return "ipip6";
	case BR_TUN_LW4O6:
		return "lw4o6";
	case BR_TUN_FIXED:
		return "ipip";
	}
	return "refuse"; /* {::, local} marker: 4in6 from anyone else is dropped */
}

/* A GRE peer: its encapsulation and key. */
static void print_gre(FILE *f, const struct br_tun *t, int json)
{
	if (!(t->flags & BR_TUN_F_GRE))
		return;
	if (json) {
		fprintf(f, ", \"encap\": \"gre\"");
		if (t->flags & BR_TUN_F_KEY)
			fprintf(f, ", \"key\": %u", ntohl(t->gre_key));
		return;
	}
	fprintf(f, " gre");
	if (t->flags & BR_TUN_F_KEY)
		fprintf(f, " key %u", ntohl(t->gre_key));
}

static struct mape_ce ce_of(const struct br_tun *t)
{
	struct mape_ce ce = { .ipv4_len = 32 };

	ce.ipv4.s_addr = t->ce_ipv4;
	ce.psid = t->psid;
	ce.psid_len = t->psid_len;
	ce.psid_offset = t->psid_offset;
	return ce;
}

/* "1232-1235 2256-2259 ... (252 ports in 63 ranges)" */
static void print_ports_text(FILE *f, const struct br_tun *t)
{
	struct mape_ce ce = ce_of(t);
	unsigned int n = mape_port_range_count(&ce), i;
	struct mape_port_range r;

	for (i = 0; i < n; i++) {
		if (i == 2 && n > 4) {
			fprintf(f, " ...");
			i = n - 2;
		}
		if (!mape_port_range(&ce, i, &r))
			fprintf(f, " %u-%u", r.first, r.last);
	}
	fprintf(f, " (%u ports in %u ranges)", mape_port_count(&ce), n);
}

static void print_ports_json(FILE *f, const struct br_tun *t)
{
	struct mape_ce ce = ce_of(t);

	fprintf(f, ", ");
	mape_ports_json(f, &ce);
}

/*
 * Ports of the set conntrack holds, per protocol: the connections NATed
 * into it (replies go to the CE address). A full set is what users of a
 * shared address run into: new connections then fail.
 */
static void print_port_use(FILE *f, const struct br_tun *t, int json)
{
	static const char *const proto[CT_PU_NPROTO] = { "tcp", "udp", "icmp" };
	struct in_addr ce = { .s_addr = t->ce_ipv4 };
	struct mape_ce c = ce_of(t);
	unsigned int n = mape_port_count(&c), i;
	struct ct_port_use u;
	int err = ct_port_use(ce, &u);

	if (json) {
		if (err)
			return;
		fprintf(f, ", \"ports_used\": {");
		for (i = 0; i < CT_PU_NPROTO; i++)
			fprintf(f, "%s\"%s\": %u", i ? ", " : "", proto[i],
				u.ports[i]);
		fputc('}', f);
		return;
	}
	if (err) {
		fprintf(f, "           ports in use: unknown (conntrack: %s)\n",
			strerror(-err));
		return;
	}
	fprintf(f, "           ports in use:");
	for (i = 0; i < CT_PU_NPROTO; i++)
		fprintf(f, "%s %s %u of %u (%.1f%%)", i ? "," : "", proto[i],
			u.ports[i], n, n ? 100.0 * u.ports[i] / n : 0.0);
	fputc('\n', f);
}

static void print_tun(FILE *f, const struct br_tun *t, int json)
{
	char l[INET6_ADDRSTRLEN], r[INET6_ADDRSTRLEN], c[INET_ADDRSTRLEN];

	inet_ntop(AF_INET6, t->local6, l, sizeof(l));
	inet_ntop(AF_INET6, t->remote6, r, sizeof(r));
	inet_ntop(AF_INET, &t->ce_ipv4, c, sizeof(c));
	if (json) {
		fprintf(f, "\"mode\": \"%s\", \"local\": \"%s\", \"remote\": \"%s\", "
			   "\"mtu\": %u", mode_name(t->mode), l, r, t->mtu);
		print_gre(f, t, 1);
		if (BR_TUN_HAS_CE(t->mode)) {
			fprintf(f, ", \"ce_ipv4\": \"%s\", \"psid\": %u, \"psid_len\": %u, "
				   "\"psid_offset\": %u", c, t->psid, t->psid_len,
				t->psid_offset);
			print_ports_json(f, t);
		}
		return;
	}
	if (!t->mode) {
		fprintf(f, "%-8s anyone else -> %s\n", mode_name(t->mode), l);
		return;
	}
	fprintf(f, "%-8s %s -> %s mtu %u", mode_name(t->mode), l, r, t->mtu);
	print_gre(f, t, 0);
	fputc('\n', f);
	if (BR_TUN_HAS_CE(t->mode)) {
		fprintf(f, "           CE %s PSID %u (%u bits, offset %u), ports", c,
			t->psid, t->psid_len, t->psid_offset);
		print_ports_text(f, t);
		fputc('\n', f);
	}
}

static int print_out_one(const void *key, const void *val, void *ctx)
{
	const struct br_tun_out_key *k = key;
	struct ctl_walk *w = ctx;
	const struct br_tun *t = val;
	char a[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &k->addr, a, sizeof(a));
	if (w->json)
		fprintf(w->f, "%s{\"prefix\": \"%s/%u\", ", ctl_sep(w), a, k->prefixlen);
	else
		fprintf(w->f, "  %s/%u via ", a, k->prefixlen);
	print_tun(w->f, t, w->json);
	if (BR_TUN_HAS_CE(t->mode))
		print_port_use(w->f, t, w->json);
	if (w->json)
		fputc('}', w->f);
	return ++w->n >= TUN_MAX;
}

static int print_in_one(const void *key, const void *val, void *ctx)
{
	const struct br_tun_in_key *k = key;
	const struct br_tun *t = val;
	struct ctl_walk *w = ctx;
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];

	inet_ntop(AF_INET6, k->remote6, a, sizeof(a));
	inet_ntop(AF_INET6, k->local6, b, sizeof(b));
	if (w->json) {
		fprintf(w->f, "%s{\"src\": \"%s\", \"dst\": \"%s\", ", ctl_sep(w),
			t->mode ? a : "any", b);
		print_tun(w->f, t, 1);
		fputc('}', w->f);
	} else {
		fprintf(w->f, "  ");
		print_tun(w->f, t, 0);
	}
	return ++w->n >= TUN_MAX;
}

static int print_out(FILE *f, int fd, int json)
{
	struct ctl_walk w = { .f = f, .json = json };
	int err;

	if (!json)
		fprintf(f, "IPv4 into tunnels (tun_out):\n");
	err = map_each(fd, sizeof(struct br_tun_out_key), sizeof(struct br_tun),
		       print_out_one, &w);
	if (!w.n && !json)
		fprintf(f, "  none (no tunnel configured, or MAP-E waiting for a prefix)\n");
	return err < 0 ? err : 0;
}

static int print_in(FILE *f, int fd, int json)
{
	struct ctl_walk w = { .f = f, .json = json };
	int err;

	if (!json)
		fprintf(f, "4in6 accepted (tun_in):\n");
	err = map_each(fd, sizeof(struct br_tun_in_key), sizeof(struct br_tun),
		       print_in_one, &w);
	if (!w.n && !json)
		fprintf(f, "  none\n");
	return err < 0 ? err : 0;
}

int tunnel_print(FILE *f, int out_fd, int in_fd, int json)
{
	if (json)
		fprintf(f, "{\"tun_out\": [");
	print_out(f, out_fd, json);
	if (json)
		fprintf(f, "], \"tun_in\": [");
	print_in(f, in_fd, json);
	if (json)
		fprintf(f, "]}\n");
	return 0;
}

int cmd_tunnel(const struct ctl *c)
{
	int out_fd, in_fd, err;

	out_fd = ctl_open(c, "tun_out");
	if (out_fd < 0)
		return ctl_exit_status(out_fd);
	in_fd = ctl_open(c, "tun_in");
	if (in_fd < 0) {
		close(out_fd);
		return ctl_exit_status(in_fd);
	}
	err = tunnel_print(stdout, out_fd, in_fd, c->json);
	close(in_fd);
	close(out_fd);
	return err ? CTL_ERROR : CTL_OK;
}
