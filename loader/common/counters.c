// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* brouter's counters: names and help from the X-macro list, and the per-CPU sum. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common/counters.h"

#define BR_STAT_NAME(id, name, help) [BR_STAT_##id] = name,
static const char *const stat_name[BR_STAT_MAX] = { BR_STAT_LIST(BR_STAT_NAME) };
#undef BR_STAT_NAME
#define BR_STAT_HELP(id, name, help) [BR_STAT_##id] = help,
static const char *const stat_help[BR_STAT_MAX] = { BR_STAT_LIST(BR_STAT_HELP) };
#undef BR_STAT_HELP

const char *stats_name(unsigned int id)
{
	return id < BR_STAT_MAX ? stat_name[id] : "?";
}

const char *stats_help(unsigned int id)
{
	return id < BR_STAT_MAX ? stat_help[id] : "";
}

bool stats_is_drop_reason(unsigned int id)
{
	return id >= BR_DROP_FIRST && id <= BR_DROP_LAST;
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
