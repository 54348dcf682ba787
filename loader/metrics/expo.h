/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The Prometheus text exposition format (version 0.0.4): families and samples. */
#ifndef BR_EXPO_H
#define BR_EXPO_H

#include <stdio.h>

/* Content-Type of what metrics_write() produces, for an HTTP answer. */
#define EXPO_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* "# HELP name help" and "# TYPE name type" (type "counter" or "gauge"). */
void expo_family(FILE *f, const char *name, const char *type, const char *help);

/*
 * One sample: name{labels} value. @labels is NULL or pairs of label name
 * and value, ended by NULL; values are escaped as the format asks.
 */
void expo_u64(FILE *f, const char *name, unsigned long long v, ...)
	__attribute__((sentinel));
void expo_double(FILE *f, const char *name, double v, ...)
	__attribute__((sentinel));

#endif /* BR_EXPO_H */
