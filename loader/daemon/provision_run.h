/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The HB46PP state machine (loader/provision) run off brouterd's poll
 * loop: DNS and HTTPS take seconds, so a worker thread owns the
 * hb_state, sleeps until hb_state_timeout() or a command, and hands each
 * new answer over through an eventfd the poll loop watches. The loop
 * talks back through a pipe: the WAN prefix, "clear", "stop".
 */
#ifndef BR_PROVISION_RUN_H
#define BR_PROVISION_RUN_H

#include <pthread.h>
#include <stdbool.h>

#include "config/provision.h"
#include "provision/hb46pp.h"

/*
 * Tests drive the timers: with BROUTERD_TEST_CLOCK naming a file, its
 * number (seconds) is added to the clock the state machine reads, and
 * the worker looks at it every second.
 */
#define PROV_TEST_CLOCK_ENV "BROUTERD_TEST_CLOCK"

struct prov_run {
	bool on;	     /* the worker runs */
	struct prov_cfg cfg; /* the strings conf borrows */
	struct hb_conf conf;
	struct hb_ops ops;
	pthread_t thread;
	int cmd[2]; /* pipe: the loop -> the worker */
	int ev;	    /* eventfd: the worker -> the loop */

	pthread_mutex_t lock;	/* the worker's hand-over below */
	bool news;		/* an answer to take */
	struct hb_answer *next; /* NULL: no tunnel */
	int next_method;
};

/* Start the worker for @cfg (tunnel.mode "auto"). 0 or -errno (logged). */
int prov_run_start(struct prov_run *r, const struct prov_cfg *cfg);

/* Stop and join the worker (a request in flight ends by its timeout). */
void prov_run_stop(struct prov_run *r);

/* The eventfd the poll loop watches, -1 when not running. */
int prov_run_fd(const struct prov_run *r);

/*
 * The eventfd fired: 1 with *@a (malloc()ed, or NULL for no tunnel; the
 * caller frees) and *@method set when the worker has a new answer, else 0.
 */
int prov_run_take(struct prov_run *r, struct hb_answer **a, int *method);

/* The WAN's IPv6 prefix changed: the state machine asks again (3.6). */
void prov_run_wan(struct prov_run *r, const struct prefix6 *wan);

/* Forget the token and the stored answer, and fetch again now (3.5). */
void prov_run_clear(struct prov_run *r);

#endif /* BR_PROVISION_RUN_H */
