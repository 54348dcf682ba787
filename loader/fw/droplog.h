/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The drop log brouterd reads from the XDP program's ring buffer and prints. */
#ifndef BR_DROPLOG_USER_H
#define BR_DROPLOG_USER_H

#include <stddef.h>
#include "brouter/abi.h"

/* One line for a dropped packet: reason, protocol, addresses and ports. */
int droplog_format(const struct br_drop_event *e, char *buf, size_t len);

/* ring_buffer__new() callback: log the event at info level. */
int droplog_handle(void *ctx, void *data, size_t size);

#endif /* BR_DROPLOG_USER_H */
