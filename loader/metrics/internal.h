/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Shared by the files of loader/metrics only. */
#ifndef BR_METRICS_INTERNAL_H
#define BR_METRICS_INTERNAL_H

#include <stdio.h>
#include "brouter/abi.h"

/* The pinned object @name under @pin_dir, or -errno; logs nothing. */
int metrics_open(const char *pin_dir, const char *name);

/* Read entry 0 of the one-entry array @name into @val. 0 or -errno. */
int metrics_read_one(const char *pin_dir, const char *name, void *val);

/* tunnel.c: tunnel state, MAP-E port set and its use in conntrack. */
int metrics_tunnels(FILE *f, const char *pin_dir, const struct br_status *st);

#endif /* BR_METRICS_INTERNAL_H */
