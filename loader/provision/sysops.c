// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The HB46PP state machine's ties to the world (struct hb_ops): the
 * system resolver, libcurl, the boot-time clock and getrandom().
 */
#include <time.h>
#include <unistd.h>
#include <sys/random.h>

#include "provision/hb46pp.h"

static int sys_discover(void *ctx, struct hb_txt *txt, char *err, size_t errlen)
{
	(void)ctx;
	return hb_discover(HB_TXT_NAME, txt, err, errlen);
}

static int sys_fetch(void *ctx, const struct hb_conf *c,
		     const struct hb_txt *txt, const char *token, char **body,
		     size_t *len, char *err, size_t errlen)
{
	(void)ctx;
	return hb_fetch(c, txt, token, body, len, err, errlen);
}

static int sys_resolve6(void *ctx, const char *name, struct in6_addr *out,
			char *err, size_t errlen)
{
	(void)ctx;
	return hb_resolve6(name, out, err, errlen);
}

/* Suspend counts, and NTP setting the clock at boot moves no timer. */
static uint64_t sys_mono(void *ctx)
{
	struct timespec ts;

	(void)ctx;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return ts.tv_sec;
}

static time_t sys_wall(void *ctx)
{
	(void)ctx;
	return time(NULL);
}

static uint32_t sys_random(void *ctx)
{
	struct timespec ts;
	uint32_t v;

	(void)ctx;
	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) == sizeof(v))
		return v;
	/* no entropy yet, early at boot: spreading retries is all it is for */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_nsec ^ (uint32_t)getpid() * 2654435761U;
}

const struct hb_ops hb_system_ops = {
	.discover = sys_discover,
	.fetch = sys_fetch,
	.resolve6 = sys_resolve6,
	.mono = sys_mono,
	.wall = sys_wall,
	.random = sys_random,
};
