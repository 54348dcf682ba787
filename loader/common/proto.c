// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* IP protocol names (common/proto.h). */
#include <stdio.h>
#include <netinet/in.h>

#include "common/proto.h"

const char *ip_proto_name(__u8 proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMPV6:
		return "icmpv6";
	case IPPROTO_ESP:
		return "esp";
	case IPPROTO_AH:
		return "ah";
	case IPPROTO_SCTP:
		return "sctp";
	case 135:
		return "mobility-header";
	case 139:
		return "hip";
	case 140:
		return "shim6";
	}
	return NULL;
}

const char *ip_proto_str(__u8 proto, const char *fmt, char *buf, size_t len)
{
	const char *name = ip_proto_name(proto);

	if (name)
		return name;
	snprintf(buf, len, fmt, proto);
	return buf;
}
