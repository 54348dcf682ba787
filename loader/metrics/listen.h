/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The address of the metrics HTTP endpoint (config key metrics.listen). */
#ifndef BR_METRICS_LISTEN_H
#define BR_METRICS_LISTEN_H

#include <sys/socket.h>

/* Longest metrics.listen: "[" IPv6 "]:" port. */
#define BR_METRICS_LISTEN_MAX 64

/*
 * "192.0.2.1:9469" or "[2001:db8::1]:9469" ("0.0.0.0:P", "[::]:P" for
 * every address) into @ss and @len. 0, or -EINVAL when malformed.
 */
int metrics_listen_parse(const char *s, struct sockaddr_storage *ss,
			 socklen_t *len);

#endif /* BR_METRICS_LISTEN_H */
