// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Inbound drops reported by XDP through the drop_log ring buffer. */
#include <stdio.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "fw/droplog.h"
#include "common/log.h"
#include "common/counters.h"
#include "common/proto.h"

int droplog_format(const struct br_drop_event *e, char *buf, size_t len)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], proto[16];
	const char *pn = ip_proto_str(e->proto, "proto-%u", proto, sizeof(proto));
	__u16 sp = ntohs(e->sport), dp = ntohs(e->dport);

	inet_ntop(AF_INET6, e->src, src, sizeof(src));
	inet_ntop(AF_INET6, e->dst, dst, sizeof(dst));
	if (e->proto == IPPROTO_ICMPV6)
		return snprintf(buf, len, "drop %s: %s %s -> %s type %u code %u",
				stats_name(e->reason), pn, src, dst, sp >> 8, sp & 0xff);
	if (e->proto == IPPROTO_TCP || e->proto == IPPROTO_UDP ||
	    e->proto == IPPROTO_SCTP)
		return snprintf(buf, len, "drop %s: %s [%s]:%u -> [%s]:%u",
				stats_name(e->reason), pn, src, sp, dst, dp);
	return snprintf(buf, len, "drop %s: %s %s -> %s", stats_name(e->reason),
			pn, src, dst);
}

int droplog_handle(void *ctx, void *data, size_t size)
{
	char line[256];

	(void)ctx;
	if (size < sizeof(struct br_drop_event))
		return 0;
	droplog_format(data, line, sizeof(line));
	pr_info("%s", line);
	return 0;
}
