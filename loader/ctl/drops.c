// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * brouterctl drops: follow firewall drops as they happen, both ways. The
 * events come from brouterd, which reads the drop_log ring buffer (it has
 * one consumer) and passes each on over the Unix socket named in "status".
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <bpf/bpf.h>

#include "common/counters.h"
#include "common/log.h"
#include "common/mono.h"
#include "common/proto.h"
#include "ctl/ctl.h"
#include "fw/droplog.h"

static int connect_to(const struct ctl *c)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct br_status st;
	__u32 zero = 0;
	int fd, map;

	map = ctl_open(c, "status");
	if (map < 0)
		return map;
	fd = bpf_map_lookup_elem(map, &zero, &st) ? -errno : 0;
	close(map);
	if (fd || !st.drops_sock[0]) {
		pr_err("brouterd (pin dir %s) passes no drop events on: see its log",
		       c->pin_dir);
		return -EINVAL;
	}
	memcpy(sa.sun_path, st.drops_sock, sizeof(sa.sun_path) - 1);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		pr_err("connect %s: %s (is brouterd running?)", sa.sun_path,
		       strerror(errno));
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	return fd;
}

/* CLOCK_MONOTONIC stamp of the data path to "HH:MM:SS.mmm" local time. */
static void wall_time(__u64 ts_ns, char *buf, size_t len)
{
	struct timespec now;
	__u64 ago = mono_since(mono_ns(), ts_ns), ms;
	time_t t;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &now);
	ms = (__u64)now.tv_sec * 1000 + now.tv_nsec / 1000000 - ago / 1000000;
	t = ms / 1000;
	localtime_r(&t, &tm);
	snprintf(buf, len, "%02d:%02d:%02d.%03llu", tm.tm_hour, tm.tm_min,
		 tm.tm_sec, ms % 1000);
}

static void print_json(const struct br_drop_event *e)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], pbuf[8];
	struct timespec now;
	double ago = mono_since(mono_ns(), e->ts_ns) / 1e9;

	clock_gettime(CLOCK_REALTIME, &now);
	inet_ntop(AF_INET6, e->src, src, sizeof(src));
	inet_ntop(AF_INET6, e->dst, dst, sizeof(dst));
	printf("{\"time\": %.3f, \"port\": \"%s\", \"reason\": \"%s\", "
	       "\"proto\": \"%s\", \"src\": \"%s\", \"dst\": \"%s\", ",
	       now.tv_sec + now.tv_nsec / 1e9 - ago, ctl_port_name(e->port),
	       stats_name(e->reason),
	       ip_proto_str(e->proto, "%u", pbuf, sizeof(pbuf)), src, dst);
	if (e->proto == IPPROTO_ICMPV6)
		printf("\"type\": %u, \"code\": %u}\n", ntohs(e->sport) >> 8,
		       ntohs(e->sport) & 0xff);
	else
		printf("\"sport\": %u, \"dport\": %u}\n", ntohs(e->sport),
		       ntohs(e->dport));
}

static void print_text(const struct br_drop_event *e)
{
	char when[16], line[256];

	wall_time(e->ts_ns, when, sizeof(when));
	droplog_format(e, line, sizeof(line));
	printf("%s %s %s\n", when, ctl_port_name(e->port), line);
}

int cmd_drops(const struct ctl *c)
{
	struct br_drop_event e;
	int fd = connect_to(c), n = 0;
	ssize_t r;

	if (fd < 0) /* a socket nobody listens on: its brouterd is gone */
		return fd == -ECONNREFUSED ? CTL_NOT_RUNNING
					   : ctl_exit_status(fd);
	while (!c->count || n < c->count) {
		r = recv(fd, &e, sizeof(e), 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			pr_err("brouterd closed the drop event socket%s%s",
			       r ? ": " : " (stopped?)",
			       r ? strerror(errno) : "");
			close(fd);
			return CTL_ERROR;
		}
		if (r != sizeof(e))
			continue; /* not an event of this brouterctl's layout */
		if (c->json)
			print_json(&e);
		else
			print_text(&e);
		fflush(stdout);
		n++;
	}
	close(fd);
	return CTL_OK;
}
