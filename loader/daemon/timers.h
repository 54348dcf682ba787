/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* brouterd's deadlines on one timerfd: each is a CLOCK_MONOTONIC time or off. */
#ifndef BR_TIMERS_H
#define BR_TIMERS_H

#include <linux/types.h>

enum br_timer {
	BR_T_PREFIXES, /* the next RA-learned prefix lifetime to end */
	BR_T_RS, /* the next router solicitation while no prefix is known */
	BR_T_MAX,
};

struct br_timers {
	int fd;		     /* timerfd, armed for the earliest deadline */
	__u64 due[BR_T_MAX]; /* CLOCK_MONOTONIC ns; 0: off */
};

int timers_open(struct br_timers *t);
void timers_close(struct br_timers *t);

/* Set @which to @when_ns (0: off). */
void timer_at(struct br_timers *t, enum br_timer which, __u64 when_ns);

/* The timerfd fired: the deadlines now due (bit per enum br_timer), each turned off. */
unsigned int timers_fired(struct br_timers *t);

#endif /* BR_TIMERS_H */
