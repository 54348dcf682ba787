/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* brouterctl map-e: the MAP-E parameter calculator for operators. */
#ifndef BR_CTL_MAPE_H
#define BR_CTL_MAPE_H

#include <stdio.h>

/*
 * brouterctl map-e --rule-ipv6 P/L --rule-ipv4 P/L --ea-len N
 *                  --psid-offset A [--psid-len K] --prefix P/L
 *                  [--legacy] [--br ADDR] [--json]
 * @argv[0] is "map-e". Returns the exit status: 0, or 1 after an error on
 * stderr ("brouterctl: error: ...").
 */
int cmd_map_e(int argc, char **argv);

/* The same, printing the result to @out. */
int map_e_run(FILE *out, int argc, char **argv);

struct mape_ce;

/*
 * `"ports": [[first, last], ...], "port_count": N` of @ce's port set, the
 * JSON brouterctl map-e and brouterctl tunnel share.
 */
void mape_ports_json(FILE *out, const struct mape_ce *ce);

#endif /* BR_CTL_MAPE_H */
