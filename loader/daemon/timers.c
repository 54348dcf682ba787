// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * brouterd's deadlines (daemon/timers.h): the main loop sleeps until the
 * earliest one or an event, instead of waking every second to look.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/timerfd.h>

#include "common/mono.h"
#include "daemon/timers.h"

int timers_open(struct br_timers *t)
{
	memset(t, 0, sizeof(*t));
	t->fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	return t->fd < 0 ? -errno : 0;
}

void timers_close(struct br_timers *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}

static void rearm(struct br_timers *t)
{
	struct itimerspec its = { 0 };
	__u64 first = 0;
	int i;

	for (i = 0; i < BR_T_MAX; i++)
		if (t->due[i] && (!first || t->due[i] < first))
			first = t->due[i];
	if (first) {
		/* absolute: a deadline already past fires at once (1 ns, not 0 = off) */
		its.it_value.tv_sec = first / 1000000000ULL;
		its.it_value.tv_nsec = first % 1000000000ULL ?: 1;
	}
	timerfd_settime(t->fd, TFD_TIMER_ABSTIME, &its, NULL);
}

void timer_at(struct br_timers *t, enum br_timer which, __u64 when_ns)
{
	if (t->due[which] == when_ns)
		return;
	t->due[which] = when_ns;
	rearm(t);
}

unsigned int timers_fired(struct br_timers *t)
{
	__u64 expirations, now = mono_ns();
	unsigned int fired = 0;
	int i;

	if (read(t->fd, &expirations, sizeof(expirations)) < 0 &&
	    errno != EAGAIN)
		return 0;
	for (i = 0; i < BR_T_MAX; i++) {
		if (t->due[i] && t->due[i] <= now) {
			t->due[i] = 0;
			fired |= 1U << i;
		}
	}
	rearm(t);
	return fired;
}
