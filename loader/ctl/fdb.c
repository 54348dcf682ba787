// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* brouterctl fdb: the learned MAC table. */
#include <bpf/bpf.h>

#include "common/mapwalk.h"
#include "common/mono.h"
#include "ctl/ctl.h"

static int print_one(const void *key, const void *val, void *ctx)
{
	const struct br_fdb_key *k = key;
	const struct br_fdb_val *v = val;
	struct ctl_walk *w = ctx;

	fprintf(w->f,
		w->json ? "%s{\"mac\": \"%02x:%02x:%02x:%02x:%02x:%02x\", "
			  "\"port\": \"%s\", \"age_ms\": %llu}"
			: "%s%02x:%02x:%02x:%02x:%02x:%02x  %-4s  %llu\n",
		ctl_sep(w), k->mac[0], k->mac[1], k->mac[2], k->mac[3], k->mac[4],
		k->mac[5], ctl_port_name(v->port),
		(unsigned long long)(mono_since(w->now, v->seen_ns) / 1000000));
	w->n++;
	return 0;
}

int fdb_print(FILE *f, int map_fd, int json)
{
	struct ctl_walk w = { .f = f, .json = json, .now = mono_ns() };
	int err;

	if (json)
		fputc('[', f);
	else
		fprintf(f, "%-17s  %-4s  %s\n", "mac", "port", "age_ms");
	err = map_each(map_fd, sizeof(struct br_fdb_key), sizeof(struct br_fdb_val),
		       print_one, &w);
	if (json)
		fputs("]\n", f);
	return err;
}

int cmd_fdb(const struct ctl *c)
{
	return ctl_print_map(c, "fdb", fdb_print);
}
