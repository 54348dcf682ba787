/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef BR_OPTIONS_H
#define BR_OPTIONS_H

#include <linux/types.h>
#include <net/if.h>
#include "brouter.h"

enum br_xdp_mode {
	BR_XDP_AUTO = 0,   /* native, falling back to generic with a warning */
	BR_XDP_NATIVE,
	BR_XDP_GENERIC,
};

struct br_options {
	char ifname[BR_NPORTS][IF_NAMESIZE];
	char pin_dir[256];
	__u32 mark[BR_NPORTS];
	int mark_enabled;
	__u16 ethertypes[BR_MAX_ETHERTYPES]; /* host order, 0 = end */
	int n_ethertypes;
	enum br_xdp_mode xdp_mode;
	int verbosity;
};

/* Parse argv into @o. Returns 0, 1 when help/version was printed, or -1. */
int options_parse(struct br_options *o, int argc, char **argv);

/* Parse a number in C notation (0x.., decimal) within [min, max]. */
int parse_u32(const char *s, __u32 min, __u32 max, __u32 *out);

#endif /* BR_OPTIONS_H */
