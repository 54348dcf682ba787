// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* brouterctl flows: the stateful firewall's connections and bindings. */
#include <errno.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <bpf/bpf.h>

#include "brouter/abi.h"
#include "ctl/flows.h"
#include "common/mono.h"

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

static const char *proto_str(__u8 proto, char *buf, size_t len)
{
	switch (proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMPV6:
		return "icmpv6";
	}
	snprintf(buf, len, "%u", proto);
	return buf;
}

static void print_one(FILE *f, const struct br_flow_key *k,
		      const struct br_flow *v, __u64 now, int json, int first)
{
	char lan[INET6_ADDRSTRLEN], wan[INET6_ADDRSTRLEN], pbuf[8];
	const char *proto = proto_str(k->proto, pbuf, sizeof(pbuf));
	const char *state = v->state < BR_FS_MAX ? state_name[v->state] : "?";
	const char *kind = k->kind <= BR_FK_BIND_AD ? kind_name[k->kind] : "?";
	const char *dir = v->opened_by == BR_PORT_LAN ? "out" : "in";
	unsigned long long age = mono_since(now, v->created_ns) / 1000000000ULL;
	unsigned long long idle = mono_since(now, v->seen_ns) / 1000000000ULL;

	inet_ntop(AF_INET6, k->lan_addr, lan, sizeof(lan));
	inet_ntop(AF_INET6, k->wan_addr, wan, sizeof(wan));
	if (json) {
		fprintf(f, "%s{\"proto\": \"%s\", \"kind\": \"%s\", \"lan\": \"%s\", "
			   "\"lan_port\": %u, \"wan\": \"%s\", \"wan_port\": %u, "
			   "\"state\": \"%s\", \"opened\": \"%s\", \"rule\": %u, "
			   "\"age_s\": %llu, \"idle_s\": %llu}",
			first ? "" : ", ", proto, kind, lan, ntohs(k->lan_port), wan,
			ntohs(k->wan_port), state, dir, v->rule_id, age, idle);
		return;
	}
	fprintf(f, "%-6s %-10s [%s]:%u <-> [%s]:%u %s opened-%s age %llus idle %llus\n",
		proto, kind, lan, ntohs(k->lan_port), wan, ntohs(k->wan_port), state,
		dir, age, idle);
}

int flows_print(FILE *f, int map_fd, int json)
{
	struct br_flow_key key, next, *prev = NULL;
	struct br_flow val;
	__u64 now = mono_ns();
	int n = 0;

	if (json)
		fputc('[', f);
	while (!bpf_map_get_next_key(map_fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(map_fd, &key, &val))
			continue; /* evicted between the two calls */
		print_one(f, &key, &val, now, json, !n);
		n++;
	}
	if (json)
		fputs("]\n", f);
	else if (!n)
		fputs("no flows\n", f);
	return 0;
}
