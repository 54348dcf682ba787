// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* brouterctl stats: the counters, per port, as a table or one JSON object. */
#include <string.h>
#include <unistd.h>

#include "common/log.h"

#include "common/counters.h"
#include "ctl/ctl.h"

/* Width of the name column: the longest name, indented by two. */
static int stats_name_width(void)
{
	int id, w = 0;

	for (id = 0; id < BR_STAT_MAX; id++)
		if ((int)strlen(stats_name(id)) > w)
			w = strlen(stats_name(id));
	return w + 2;
}

void stats_print_text(FILE *f, const struct br_stat *st)
{
	int id, w = stats_name_width(), sub;

	fprintf(f, "%-*s %14s %16s %14s %16s\n", w, "", "LAN->  packets",
		"bytes", "WAN->  packets", "bytes");
	for (id = 0; id < BR_STAT_MAX; id++) {
		if (id == BR_DROP_FIRST)
			fprintf(f, "drop reasons:\n");
		if (id == BR_STAT_TC_MARKED)
			fprintf(f, "tc ingress:\n");
		if (id == BR_STAT_DECAP)
			fprintf(f, "IPv4 over IPv6:\n");
		sub = stats_is_drop_reason(id) || id > BR_DROP_LAST;
		fprintf(f, "%s%-*s %14llu %16llu %14llu %16llu  %s\n",
			sub ? "  " : "", sub ? w - 2 : w, stats_name(id),
			(unsigned long long)st[id].lan.packets,
			(unsigned long long)st[id].lan.bytes,
			(unsigned long long)st[id].wan.packets,
			(unsigned long long)st[id].wan.bytes, stats_help(id));
	}
}

void stats_print_json(FILE *f, const struct br_stat *st)
{
	const struct br_ctr *c;
	int p, id;

	fputc('{', f);
	for (p = 0; p < BR_NPORTS; p++) {
		fprintf(f, "%s\"%s\": {", p ? ", " : "", ctl_port_name(p));
		for (id = 0; id < BR_STAT_MAX; id++) {
			c = p == BR_PORT_LAN ? &st[id].lan : &st[id].wan;
			fprintf(f, "%s\"%s\": {\"packets\": %llu, \"bytes\": %llu}",
				id ? ", " : "", stats_name(id),
				(unsigned long long)c->packets,
				(unsigned long long)c->bytes);
		}
		fputc('}', f);
	}
	fputs("}\n", f);
}

int cmd_stats(const struct ctl *c)
{
	struct br_stat st[BR_STAT_MAX];
	int fd, err;

	fd = ctl_open(c, "stats");
	if (fd < 0)
		return ctl_exit_status(fd);
	if (c->watch) {
		err = stats_watch(c, fd);
		close(fd);
		return err;
	}
	err = stats_read(fd, st);
	close(fd);
	if (err) {
		pr_err("read stats: %s", strerror(-err));
		return CTL_ERROR;
	}
	if (c->json)
		stats_print_json(stdout, st);
	else
		stats_print_text(stdout, st);
	return CTL_OK;
}
