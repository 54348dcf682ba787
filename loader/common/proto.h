/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* IP protocol numbers by the names brouter prints them with. */
#ifndef BR_COMMON_PROTO_H
#define BR_COMMON_PROTO_H

#include <stddef.h>
#include <linux/types.h>

/* "tcp", "udp", "icmpv6", "esp", "ah", "sctp", or NULL for another. */
const char *ip_proto_name(__u8 proto);

/* ip_proto_name(), or @fmt (with one %u) of the number written to @buf. */
const char *ip_proto_str(__u8 proto, const char *fmt, char *buf, size_t len);

#endif /* BR_COMMON_PROTO_H */
