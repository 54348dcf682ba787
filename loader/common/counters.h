/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* brouter's counters (the "stats" map) read from user space, with their names. */
#ifndef BR_COUNTERS_H
#define BR_COUNTERS_H

#include <stdbool.h>
#include "brouter/abi.h"

/* Name of a counter id ("rx", "no_flow", ...), "?" when out of range. */
const char *stats_name(unsigned int id);

/* One line saying what the counter counts, "" when out of range. */
const char *stats_help(unsigned int id);

/* A drop reason (part of the "drop" sum), not a verdict or an event. */
bool stats_is_drop_reason(unsigned int id);

/* Sum the per-CPU "stats" map (fd) into @out[BR_STAT_MAX]. */
int stats_read(int map_fd, struct br_stat *out);

#endif /* BR_COUNTERS_H */
