// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * brouter's metrics from its pinned maps: the counters by port and drop
 * reason, table sizes against their capacity, pinholes, reloads.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "common/counters.h"
#include "common/mapwalk.h"
#include "metrics/expo.h"
#include "metrics/internal.h"
#include "metrics/metrics.h"

static const char *const port_label[BR_NPORTS] = { "lan", "wan" };

int metrics_open(const char *pin_dir, const char *name)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", pin_dir, name);
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}

int metrics_read_one(const char *pin_dir, const char *name, void *val)
{
	int fd = metrics_open(pin_dir, name), err;
	__u32 zero = 0;

	if (fd < 0)
		return fd;
	err = bpf_map_lookup_elem(fd, &zero, val) ? -errno : 0;
	close(fd);
	return err;
}

static const struct br_ctr *ctr(const struct br_stat *st, int id, int port)
{
	return port == BR_PORT_LAN ? &st[id].lan : &st[id].wan;
}

/* One family per counter that is no drop reason: brouter_NAME_packets_total. */
static void counter_families(FILE *f, const struct br_stat *st, int bytes)
{
	char name[96], help[160];
	const struct br_ctr *c;
	int id, p;

	for (id = 0; id < BR_STAT_MAX; id++) {
		if (stats_is_drop_reason(id))
			continue;
		snprintf(name, sizeof(name), "brouter_%s_%s_total",
			 stats_name(id), bytes ? "bytes" : "packets");
		snprintf(help, sizeof(help), "%s (%s, by arrival port)",
			 stats_help(id), bytes ? "bytes" : "packets");
		expo_family(f, name, "counter", help);
		for (p = 0; p < BR_NPORTS; p++) {
			c = ctr(st, id, p);
			expo_u64(f, name, bytes ? c->bytes : c->packets, "port",
				 port_label[p], NULL);
		}
	}
}

/* The drop reasons, one family with a reason label. */
static void drop_family(FILE *f, const struct br_stat *st, int bytes)
{
	const char *name = bytes ? "brouter_dropped_bytes_total"
				 : "brouter_dropped_packets_total";
	const struct br_ctr *c;
	int id, p;

	expo_family(f, name, "counter",
		    bytes ? "Bytes dropped, by arrival port and reason"
			  : "Frames dropped, by arrival port and reason");
	for (id = BR_DROP_FIRST; id <= BR_DROP_LAST; id++)
		for (p = 0; p < BR_NPORTS; p++) {
			c = ctr(st, id, p);
			expo_u64(f, name, bytes ? c->bytes : c->packets, "port",
				 port_label[p], "reason", stats_name(id), NULL);
		}
}

/* Fast-path hits are not counted in BPF: bridged - bridged_slow. */
static void cache_family(FILE *f, const struct br_stat *st)
{
	const char *name = "brouter_flow_cache_hits_total";
	__u64 all, slow;
	int p;

	expo_family(
		f, name, "counter",
		"Frames bridged by the flow cache alone (bridged - bridged_slow); "
		"misses are brouter_fc_miss_packets_total");
	for (p = 0; p < BR_NPORTS; p++) {
		all = ctr(st, BR_STAT_BRIDGED, p)->packets;
		slow = ctr(st, BR_STAT_BRIDGED_SLOW, p)->packets;
		expo_u64(f, name, all > slow ? all - slow : 0, "port",
			 port_label[p], NULL);
	}
}

static int counters(FILE *f, const char *pin_dir)
{
	struct br_stat st[BR_STAT_MAX];
	int fd, err;

	fd = metrics_open(pin_dir, "stats");
	if (fd < 0)
		return fd;
	err = stats_read(fd, st);
	close(fd);
	if (err)
		return err;
	counter_families(f, st, 0);
	counter_families(f, st, 1);
	drop_family(f, st, 0);
	drop_family(f, st, 1);
	cache_family(f, st);
	return 0;
}

/* brouter_NAME_entries and brouter_NAME_entries_limit of the map @map. */
static int table(FILE *f, const char *pin_dir, const char *map, size_t key_size,
		 const char *what)
{
	char name[64], help[128];
	long n, cap;
	int fd;

	fd = metrics_open(pin_dir, map);
	if (fd < 0)
		return fd;
	n = map_count(fd, key_size);
	cap = map_capacity(fd);
	close(fd);
	if (n < 0 || cap < 0)
		return n < 0 ? n : cap;
	snprintf(name, sizeof(name), "brouter_%s_entries", map);
	snprintf(help, sizeof(help), "%s in the %s table", what, map);
	expo_family(f, name, "gauge", help);
	expo_u64(f, name, n, NULL);
	snprintf(name, sizeof(name), "brouter_%s_entries_limit", map);
	snprintf(help, sizeof(help), "Capacity of the %s table", map);
	expo_family(f, name, "gauge", help);
	expo_u64(f, name, cap, NULL);
	return 0;
}

static void gauge(FILE *f, const char *name, const char *help,
		  unsigned long long v)
{
	expo_family(f, name, "gauge", help);
	expo_u64(f, name, v, NULL);
}

static void counter(FILE *f, const char *name, const char *help,
		    unsigned long long v)
{
	expo_family(f, name, "counter", help);
	expo_u64(f, name, v, NULL);
}

static int policy(FILE *f, const char *pin_dir, const struct br_status *st)
{
	struct br_settings s;
	int err;

	err = metrics_read_one(pin_dir, "settings", &s);
	if (err)
		return err;
	gauge(f, "brouter_pinholes", "Pinholes in the active firewall policy",
	      s.pol[s.gen & 1].n_pinholes);
	counter(f, "brouter_reloads_total",
		"Reloads (SIGHUP) that installed a new policy", st->reloads);
	counter(f, "brouter_reload_failures_total",
		"Reloads refused: the running policy stayed",
		st->reload_failures);
	gauge(f, "brouter_last_reload_success_timestamp_seconds",
	      "When the running policy was installed (start or reload), Unix time",
	      st->last_reload_s);
	gauge(f, "brouter_start_time_seconds",
	      "When brouterd started, Unix time", st->started_s);
	return 0;
}

/* Is a brouterd running for @pin_dir? Its pid is in "info". */
static int daemon_up(const char *pin_dir)
{
	struct br_info info;

	if (metrics_read_one(pin_dir, "info", &info))
		return 0;
	return info.pid && (info.pid == (__u32)getpid() || !kill(info.pid, 0));
}

int metrics_write(FILE *f, const char *pin_dir)
{
	struct br_status st = { 0 };
	int up = daemon_up(pin_dir);

	gauge(f, "brouter_up",
	      "1 while a brouterd runs with this pin directory", up);
	if (!up)
		return 0;
	/* the status map is optional: pins of an older brouterd lack it */
	metrics_read_one(pin_dir, "status", &st);
	return counters(f, pin_dir) ?:
	       table(f, pin_dir, "flows", sizeof(struct br_flow_key),
		     "Connections and bindings") ?:
	       table(f, pin_dir, "fdb", sizeof(struct br_fdb_key),
		     "MAC addresses learned") ?:
	       policy(f, pin_dir, &st) ?: metrics_tunnels(f, pin_dir, &st);
}

int metrics_render(const char *pin_dir, char **buf, size_t *len)
{
	FILE *f = open_memstream(buf, len);
	int err;

	if (!f)
		return -errno;
	err = metrics_write(f, pin_dir);
	if (fclose(f) && !err)
		err = -errno;
	if (err) {
		free(*buf);
		*buf = NULL;
	}
	return err;
}
