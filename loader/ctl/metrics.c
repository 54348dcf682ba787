// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* brouterctl metrics: the Prometheus exposition, for node_exporter's textfile collector. */
#include <errno.h>
#include <string.h>

#include "common/log.h"
#include "ctl/ctl.h"
#include "metrics/metrics.h"

int cmd_metrics(const struct ctl *c)
{
	int err = metrics_write(stdout, c->pin_dir);

	if (fflush(stdout) || err) {
		pr_err("metrics: %s", strerror(err ? -err : EIO));
		return CTL_ERROR;
	}
	return CTL_OK;
}
