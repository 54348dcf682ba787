/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef BR_FLOWS_USER_H
#define BR_FLOWS_USER_H

#include <stdio.h>

/* Print the firewall's flow table (fd of "flows"): a table or JSON. */
int flows_print(FILE *f, int map_fd, int json);

#endif /* BR_FLOWS_USER_H */
