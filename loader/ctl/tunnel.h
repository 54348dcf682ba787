/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* brouterctl tunnel: the 4in6 tables a running brouterd wrote. */
#ifndef BR_CTL_TUNNEL_H
#define BR_CTL_TUNNEL_H

#include <stdio.h>

/*
 * Print "tun_out" (@out_fd: IPv4 prefix -> tunnel) and "tun_in" (@in_fd:
 * outer source/destination -> tunnel, with the "refuse others" markers)
 * as text or one JSON object. 0 or -errno.
 */
int tunnel_print(FILE *f, int out_fd, int in_fd, int json);

#endif /* BR_CTL_TUNNEL_H */
