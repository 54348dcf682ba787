// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* brouterctl flows: the stateful firewall's connections and bindings. */
#include <errno.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <bpf/bpf.h>

#include "brouter/abi.h"
#include "ctl/ctl.h"
#include "common/mapwalk.h"
#include "common/mono.h"
#include "common/proto.h"

static const char *const state_name[BR_FS_MAX] = {
	[BR_FS_ACTIVE] = "active",	   [BR_FS_SYN_SENT] = "syn_sent",
	[BR_FS_SYN_RECV] = "syn_recv",	   [BR_FS_ESTABLISHED] = "established",
	[BR_FS_FIN_WAIT] = "fin_wait",	   [BR_FS_CLOSING] = "closing",
	[BR_FS_CLOSED] = "closed",
};

static const char *const kind_name[] = {
	[BR_FK_FLOW] = "flow",
	[BR_FK_BIND_EI] = "binding-ei",
	[BR_FK_BIND_AD] = "binding-ad",
};

static int print_one(const void *key, const void *val, void *ctx)
{
	const struct br_flow_key *k = key;
	const struct br_flow *v = val;
	struct ctl_walk *w = ctx;
	char lan[INET6_ADDRSTRLEN], wan[INET6_ADDRSTRLEN], pbuf[8];
	const char *proto = ip_proto_str(k->proto, "%u", pbuf, sizeof(pbuf));
	const char *state = v->state < BR_FS_MAX ? state_name[v->state] : "?";
	const char *kind = k->kind <= BR_FK_BIND_AD ? kind_name[k->kind] : "?";
	const char *dir = v->opened_by == BR_PORT_LAN ? "out" : "in";
	unsigned long long age = mono_since(w->now, v->created_ns) / 1000000000ULL;
	unsigned long long idle = mono_since(w->now, v->seen_ns) / 1000000000ULL;

	inet_ntop(AF_INET6, k->lan_addr, lan, sizeof(lan));
	inet_ntop(AF_INET6, k->wan_addr, wan, sizeof(wan));
	if (w->json)
		fprintf(w->f, "%s{\"proto\": \"%s\", \"kind\": \"%s\", \"lan\": \"%s\", "
			      "\"lan_port\": %u, \"wan\": \"%s\", \"wan_port\": %u, "
			      "\"state\": \"%s\", \"opened\": \"%s\", \"rule\": %u, "
			      "\"age_s\": %llu, \"idle_s\": %llu}",
			ctl_sep(w), proto, kind, lan, ntohs(k->lan_port), wan,
			ntohs(k->wan_port), state, dir, v->rule_id, age, idle);
	else
		fprintf(w->f, "%-6s %-10s [%s]:%u <-> [%s]:%u %s opened-%s age %llus idle %llus\n",
			proto, kind, lan, ntohs(k->lan_port), wan, ntohs(k->wan_port),
			state, dir, age, idle);
	w->n++;
	return 0;
}

int flows_print(FILE *f, int map_fd, int json)
{
	struct ctl_walk w = { .f = f, .json = json, .now = mono_ns() };
	int err;

	if (json)
		fputc('[', f);
	err = map_each(map_fd, sizeof(struct br_flow_key), sizeof(struct br_flow),
		       print_one, &w);
	if (json)
		fputs("]\n", f);
	else if (!w.n)
		fputs("no flows\n", f);
	return err;
}

int cmd_flows(const struct ctl *c)
{
	return ctl_print_map(c, "flows", flows_print);
}
