// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* brouterctl flows: the stateful firewall's connections and bindings. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
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

struct flows_walk {
	struct ctl_walk w;
	int names_fd; /* "pin_names", or -1 */
};

/*
 * The pinhole that opened a flow: its name from "pin_names" (written by
 * brouterd at each reload, tagged with it), else "#INDEX" in the config.
 */
static const char *pinhole_name(const struct flows_walk *fw, __u32 rule_id,
				char *buf, size_t len)
{
	struct br_pin_name n;

	if (fw->names_fd >= 0 &&
	    !bpf_map_lookup_elem(fw->names_fd, &rule_id, &n) && n.name[0]) {
		snprintf(buf, len, "%.*s", (int)sizeof(n.name), n.name);
		return buf;
	}
	snprintf(buf, len, "#%u", rule_id & BR_RULE_INDEX_MASK);
	return buf;
}

static int print_one(const void *key, const void *val, void *ctx)
{
	const struct br_flow_key *k = key;
	const struct br_flow *v = val;
	struct flows_walk *fw = ctx;
	struct ctl_walk *w = &fw->w;
	char pin[BR_PIN_NAME_LEN + 8];
	char lan[INET6_ADDRSTRLEN], wan[INET6_ADDRSTRLEN], pbuf[8];
	const char *proto = ip_proto_str(k->proto, "%u", pbuf, sizeof(pbuf));
	const char *state = v->state < BR_FS_MAX ? state_name[v->state] : "?";
	const char *kind = k->kind <= BR_FK_BIND_AD ? kind_name[k->kind] : "?";
	const char *dir = v->opened_by == BR_OPENED_OUT ? "out" : "in";
	unsigned long long age = mono_since(w->now, v->created_ns) / 1000000000ULL;
	unsigned long long idle = mono_since(w->now, v->seen_ns) / 1000000000ULL;

	inet_ntop(AF_INET6, k->lan_addr, lan, sizeof(lan));
	inet_ntop(AF_INET6, k->wan_addr, wan, sizeof(wan));
	if (v->opened_by == BR_OPENED_IN)
		pinhole_name(fw, v->rule_id, pin, sizeof(pin));
	if (w->json) {
		fprintf(w->f,
			"%s{\"proto\": \"%s\", \"kind\": \"%s\", \"lan\": \"%s\", "
			"\"lan_port\": %u, \"wan\": \"%s\", \"wan_port\": %u, "
			"\"state\": \"%s\", \"opened\": \"%s\", \"rule\": %u, ",
			ctl_sep(w), proto, kind, lan, ntohs(k->lan_port), wan,
			ntohs(k->wan_port), state, dir,
			v->rule_id & BR_RULE_INDEX_MASK);
		if (v->opened_by == BR_OPENED_IN)
			fprintf(w->f, "\"pinhole\": \"%s\", ", pin);
		fprintf(w->f, "\"age_s\": %llu, \"idle_s\": %llu}", age, idle);
	} else {
		fprintf(w->f,
			"%-6s %-10s [%s]:%u <-> [%s]:%u %s opened-%s%s%s age %llus "
			"idle %llus\n",
			proto, kind, lan, ntohs(k->lan_port), wan,
			ntohs(k->wan_port), state, dir,
			v->opened_by == BR_OPENED_IN ? " by pinhole " : "",
			v->opened_by == BR_OPENED_IN ? pin : "", age, idle);
	}
	w->n++;
	return 0;
}

int flows_print(FILE *f, int map_fd, int names_fd, int json)
{
	struct flows_walk fw = {
		.w = { .f = f, .json = json, .now = mono_ns() },
		.names_fd = names_fd,
	};
	int err;

	if (json)
		fputc('[', f);
	err = map_each(map_fd, sizeof(struct br_flow_key),
		       sizeof(struct br_flow), print_one, &fw);
	if (json)
		fputs("]\n", f);
	else if (!fw.w.n)
		fputs("no flows\n", f);
	return err;
}

int cmd_flows(const struct ctl *c)
{
	int fd = ctl_open(c, "flows"), names, err;
	char path[PATH_MAX];

	if (fd < 0)
		return ctl_exit_status(fd);
	/* pins of an older brouterd have no names: rule numbers then */
	snprintf(path, sizeof(path), "%s/pin_names", c->pin_dir);
	names = bpf_obj_get(path);
	err = flows_print(stdout, fd, names, c->json);
	if (names >= 0)
		close(names);
	close(fd);
	return err ? CTL_ERROR : CTL_OK;
}
