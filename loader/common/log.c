// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Logging to stderr, with libbpf's own messages one level lower. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <bpf/libbpf.h>

#include "common/log.h"

int br_log_level = BR_LOG_INFO;
const char *br_prog_name = "brouter";

static const char *const level_tag[] = {
	[BR_LOG_ERR] = "error: ",
	[BR_LOG_WARN] = "warning: ",
	[BR_LOG_INFO] = "",
	[BR_LOG_DEBUG] = "debug: ",
};

void br_log(int level, const char *fmt, ...)
{
	va_list ap;

	if (level > br_log_level)
		return;
	fprintf(stderr, "%s: %s", br_prog_name, level_tag[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/*
 * libbpf one level lower than ours: its warnings at -v, its info at -vv,
 * its debug (verifier logs) at -vvv. Our own errors already say what
 * failed; libbpf's detail is for digging.
 */
static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	int ours = BR_LOG_DEBUG + (int)level - LIBBPF_WARN;

	if (ours > br_log_level)
		return 0;
	fprintf(stderr, "%s: ", br_prog_name);
	return vfprintf(stderr, fmt, ap);
}

void br_log_libbpf_setup(void)
{
	libbpf_set_print(libbpf_print);
}

int br_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}
