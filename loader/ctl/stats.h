/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* brouterctl's printing of the counters and the FDB. */
#ifndef BR_STATS_USER_H
#define BR_STATS_USER_H

#include <stdio.h>
#include "brouter/abi.h"

/* Print counters: a table for people, or one JSON object. */
void stats_print_text(FILE *f, const struct br_stat *st);
void stats_print_json(FILE *f, const struct br_stat *st);

/* Print the learned MAC table (fd of "fdb"). */
int fdb_print(FILE *f, int map_fd, int json);

#endif /* BR_STATS_USER_H */
