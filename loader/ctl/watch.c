// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * brouterctl stats --watch: every interval, the counters that moved, as
 * rates per second and port, and the flow cache's hit ratio.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/counters.h"
#include "common/log.h"
#include "common/mono.h"
#include "ctl/ctl.h"

/* "12.3k", "4.56M": rates a person reads at a glance. */
static const char *si(double v, char *buf, size_t len)
{
	static const char unit[] = " kMGT";
	int u = 0;

	while (v >= 1000 && u < 4) {
		v /= 1000;
		u++;
	}
	if (u)
		snprintf(buf, len, "%.2f%c", v, unit[u]);
	else /* a frame every other second is 0.5/s, not 0 */
		snprintf(buf, len, v < 100 && v != (long)v ? "%.1f" : "%.0f",
			 v);
	return buf;
}

static const struct br_ctr *port_ctr(const struct br_stat *st, int id, int p)
{
	return p == BR_PORT_LAN ? &st[id].lan : &st[id].wan;
}

/* Share of the frames the cache could take that it did, per port; -1: none. */
static double hit_ratio(const struct br_stat *a, const struct br_stat *b, int p)
{
	__u64 all = port_ctr(b, BR_STAT_BRIDGED, p)->packets -
		    port_ctr(a, BR_STAT_BRIDGED, p)->packets;
	__u64 slow = port_ctr(b, BR_STAT_BRIDGED_SLOW, p)->packets -
		     port_ctr(a, BR_STAT_BRIDGED_SLOW, p)->packets;
	__u64 miss = port_ctr(b, BR_STAT_FC_MISS, p)->packets -
		     port_ctr(a, BR_STAT_FC_MISS, p)->packets;
	__u64 hits = all > slow ? all - slow : 0;

	return hits + miss ? (double)hits / (hits + miss) : -1;
}

static void print_text(const struct br_stat *a, const struct br_stat *b,
		       double secs)
{
	char t[16], r[4][16];
	time_t now = time(NULL);
	struct tm tm;
	double v[4], h;
	int id, p;

	localtime_r(&now, &tm);
	strftime(t, sizeof(t), "%H:%M:%S", &tm);
	printf("%-16s %12s %12s %12s %12s\n", t, "LAN-> pkt/s", "bit/s",
	       "WAN-> pkt/s", "bit/s");
	for (id = 0; id < BR_STAT_MAX; id++) {
		for (p = 0; p < BR_NPORTS; p++) {
			v[2 * p] = (port_ctr(b, id, p)->packets -
				    port_ctr(a, id, p)->packets) /
				   secs;
			v[2 * p + 1] = (port_ctr(b, id, p)->bytes -
					port_ctr(a, id, p)->bytes) *
				       8 / secs;
		}
		if (id != BR_STAT_RX && !v[0] && !v[2])
			continue; /* still */
		printf("%-16s %12s %12s %12s %12s\n", stats_name(id),
		       si(v[0], r[0], 16), si(v[1], r[1], 16),
		       si(v[2], r[2], 16), si(v[3], r[3], 16));
	}
	for (p = 0; p < BR_NPORTS; p++) {
		h = hit_ratio(a, b, p);
		if (h >= 0)
			printf("flow cache hits %s: %.1f%%\n", ctl_port_name(p),
			       100 * h);
	}
	putchar('\n');
}

/* One JSON object a line: {"time", "interval_s", "lan": {NAME: {...}}, ...}. */
static void print_json(const struct br_stat *a, const struct br_stat *b,
		       double secs)
{
	const struct br_ctr *x, *y;
	int id, p, n;

	printf("{\"time\": %ld, \"interval_s\": %.3f", (long)time(NULL), secs);
	for (p = 0; p < BR_NPORTS; p++) {
		printf(", \"%s\": {", ctl_port_name(p));
		for (id = 0, n = 0; id < BR_STAT_MAX; id++) {
			x = port_ctr(a, id, p);
			y = port_ctr(b, id, p);
			printf("%s\"%s\": {\"packets_per_s\": %.3f, \"bytes_per_s\": %.3f}",
			       n++ ? ", " : "", stats_name(id),
			       (y->packets - x->packets) / secs,
			       (y->bytes - x->bytes) / secs);
		}
		if (hit_ratio(a, b, p) >= 0)
			printf(", \"flow_cache_hit_ratio\": %.4f",
			       hit_ratio(a, b, p));
		putchar('}');
	}
	puts("}");
}

int stats_watch(const struct ctl *c, int fd)
{
	struct br_stat st[2][BR_STAT_MAX];
	struct timespec next;
	__u64 t0, t1;
	int cur = 0, n, err;

	err = stats_read(fd, st[cur]);
	t0 = mono_ns();
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (n = 0; !err && (!c->count || n < c->count); n++) {
		next.tv_sec += c->interval_ms / 1000;
		next.tv_nsec += (c->interval_ms % 1000) * 1000000L;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_sec++;
			next.tv_nsec -= 1000000000L;
		}
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next,
				       NULL) == EINTR)
			;
		err = stats_read(fd, st[!cur]);
		t1 = mono_ns();
		if (err)
			break;
		(c->json ? print_json : print_text)(st[cur], st[!cur],
						    (t1 - t0) / 1e9);
		fflush(stdout);
		cur = !cur;
		t0 = t1;
	}
	if (err)
		pr_err("read stats: %s", strerror(-err));
	return err ? CTL_ERROR : CTL_OK;
}
