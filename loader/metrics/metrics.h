/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * brouter's Prometheus metrics, read from the maps pinned under a pin
 * directory: one producer for `brouterctl metrics` and brouterd's HTTP
 * endpoint (README "Monitoring" lists every name).
 */
#ifndef BR_METRICS_H
#define BR_METRICS_H

#include <stdio.h>

/*
 * Write the exposition of the brouter pinned in @pin_dir to @f. With no
 * brouter there (no pins) it writes brouter_up 0 alone. Returns 0, or
 * -errno when a pinned map cannot be read (what was written is partial).
 */
int metrics_write(FILE *f, const char *pin_dir);

/* The same into a malloc()ed buffer (*@buf, *@len; free it). 0 or -errno. */
int metrics_render(const char *pin_dir, char **buf, size_t *len);

#endif /* BR_METRICS_H */
