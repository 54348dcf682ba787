// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The "metrics" group of brouter.conf: where brouterd serves Prometheus metrics. */
#include <errno.h>
#include <string.h>

#include "config/parse.h"
#include "metrics/listen.h"

static int parse_listen(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	struct sockaddr_storage ss;
	socklen_t len;
	const char *v;

	(void)obj;
	if (cfg_string(x, s, &v))
		return -EINVAL;
	if (strlen(v) >= sizeof(x->c->metrics_listen) ||
	    metrics_listen_parse(v, &ss, &len)) {
		cfg_err(x, s,
			"\"%s\": not ADDRESS:PORT (e.g. \"127.0.0.1:9469\" or "
			"\"[::1]:9469\")",
			v);
		return -EINVAL;
	}
	strcpy(x->c->metrics_listen, v);
	return 0;
}

static const struct cfg_key metrics_keys[] = {
	{ "listen", parse_listen },
	{ NULL },
};

int cfg_parse_metrics(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	return cfg_group(x, s, metrics_keys, obj);
}
