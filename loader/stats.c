// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Reading and printing brouter's counters and FDB. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "mono.h"
#include "stats.h"

#define BR_STAT_NAME(id, name, help) [BR_STAT_##id] = name,
static const char *const stat_name[BR_STAT_MAX] = { BR_STAT_LIST(BR_STAT_NAME) };
#undef BR_STAT_NAME
#define BR_STAT_HELP(id, name, help) [BR_STAT_##id] = help,
static const char *const stat_help[BR_STAT_MAX] = { BR_STAT_LIST(BR_STAT_HELP) };
#undef BR_STAT_HELP

static const char *const port_key[BR_NPORTS] = { "lan", "wan" };

const char *stats_name(unsigned int id)
{
	return id < BR_STAT_MAX ? stat_name[id] : "?";
}

static void ctr_add(struct br_ctr *sum, const struct br_ctr *c)
{
	sum->packets += c->packets;
	sum->bytes += c->bytes;
}

int stats_read(int map_fd, struct br_stat *out)
{
	int ncpus = libbpf_num_possible_cpus();
	struct br_stat *percpu;
	__u32 id;
	int cpu;

	if (ncpus <= 0)
		return -EINVAL;
	/* struct br_stat is a multiple of 8 bytes: per-CPU slots are packed. */
	percpu = calloc(ncpus, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	memset(out, 0, sizeof(*out) * BR_STAT_MAX);
	for (id = 0; id < BR_STAT_MAX; id++) {
		if (bpf_map_lookup_elem(map_fd, &id, percpu)) {
			free(percpu);
			return -errno;
		}
		for (cpu = 0; cpu < ncpus; cpu++) {
			ctr_add(&out[id].lan, &percpu[cpu].lan);
			ctr_add(&out[id].wan, &percpu[cpu].wan);
		}
	}
	free(percpu);
	return 0;
}

static int is_drop_reason(int id)
{
	return id >= BR_DROP_FIRST && id <= BR_DROP_LAST;
}

void stats_print_text(FILE *f, const struct br_stat *st)
{
	int id;

	fprintf(f, "%-16s %14s %16s %14s %16s\n", "", "LAN->  packets", "bytes",
		"WAN->  packets", "bytes");
	for (id = 0; id < BR_STAT_MAX; id++) {
		if (id == BR_DROP_FIRST)
			fprintf(f, "drop reasons:\n");
		if (id == BR_STAT_TC_MARKED)
			fprintf(f, "tc ingress:\n");
		if (id == BR_STAT_DECAP)
			fprintf(f, "IPv4 over IPv6:\n");
		fprintf(f, "%s%-*s %14llu %16llu %14llu %16llu  %s\n",
			is_drop_reason(id) || id > BR_DROP_LAST ? "  " : "",
			is_drop_reason(id) || id > BR_DROP_LAST ? 14 : 16,
			stat_name[id], (unsigned long long)st[id].lan.packets,
			(unsigned long long)st[id].lan.bytes,
			(unsigned long long)st[id].wan.packets,
			(unsigned long long)st[id].wan.bytes, stat_help[id]);
	}
}

void stats_print_json(FILE *f, const struct br_stat *st)
{
	const struct br_ctr *c;
	int p, id;

	fputc('{', f);
	for (p = 0; p < BR_NPORTS; p++) {
		fprintf(f, "%s\"%s\": {", p ? ", " : "", port_key[p]);
		for (id = 0; id < BR_STAT_MAX; id++) {
			c = p == BR_PORT_LAN ? &st[id].lan : &st[id].wan;
			fprintf(f, "%s\"%s\": {\"packets\": %llu, \"bytes\": %llu}",
				id ? ", " : "", stat_name[id],
				(unsigned long long)c->packets,
				(unsigned long long)c->bytes);
		}
		fputc('}', f);
	}
	fputs("}\n", f);
}

int fdb_print(FILE *f, int map_fd, int json)
{
	struct br_fdb_key key, next, *prev = NULL;
	struct br_fdb_val val;
	__u64 now = mono_ns();
	int n = 0;

	if (json)
		fputc('[', f);
	else
		fprintf(f, "%-17s  %-4s  %s\n", "mac", "port", "age_ms");
	while (!bpf_map_get_next_key(map_fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(map_fd, &key, &val))
			continue; /* evicted between the two calls */
		fprintf(f,
			json ? "%s{\"mac\": \"%02x:%02x:%02x:%02x:%02x:%02x\", "
			       "\"port\": \"%s\", \"age_ms\": %llu}"
			     : "%s%02x:%02x:%02x:%02x:%02x:%02x  %-4s  %llu\n",
			json && n ? ", " : "", key.mac[0], key.mac[1],
			key.mac[2], key.mac[3], key.mac[4], key.mac[5],
			val.port < BR_NPORTS ? port_key[val.port] : "?",
			(unsigned long long)(mono_since(now, val.seen_ns) /
					     1000000));
		n++;
	}
	if (json)
		fputs("]\n", f);
	return 0;
}
