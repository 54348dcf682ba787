// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* brouterctl fdb: the learned MAC table. */
#include <bpf/bpf.h>

#include "common/mono.h"
#include "ctl/stats.h"

static const char *const port_key[BR_NPORTS] = { "lan", "wan" };

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
