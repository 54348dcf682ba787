/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What brouter's tc programs answer for a packet they let through. */
#ifndef BR_LIB_TC_H
#define BR_LIB_TC_H

#include <linux/pkt_cls.h>

/*
 * "Not decided here": the packet goes on to the programs behind ours on
 * the hook (tcx: TCX_NEXT; clsact: the next filter, an operator's
 * `tc filter` of a later priority), and passes when none is left. A tcx
 * program answering TC_ACT_OK would hide the packet from every program
 * attached after it and from every clsact filter.
 */
#define BR_TC_PASS TC_ACT_UNSPEC

#endif /* BR_LIB_TC_H */
