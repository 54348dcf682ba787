// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The "ipv4" group of brouter.conf: the IPv4 fast path. */
#include <errno.h>

#include "config/parse.h"

static int parse_fast_path(struct cfg_ctx *x, const config_setting_t *s,
			   void *obj)
{
	(void)obj;
	return cfg_bool(x, s, &x->c->fast_path);
}

static const struct cfg_key ipv4_keys[] = {
	{ "fast-path", parse_fast_path },
	{ NULL },
};

int cfg_parse_ipv4(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	return cfg_group(x, s, ipv4_keys, obj);
}
