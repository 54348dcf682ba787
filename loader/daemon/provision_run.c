// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* brouterd's HB46PP worker thread: the state machine, off the poll loop. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "common/log.h"
#include "daemon/provision_run.h"

/* Until the WAN's prefix is known (map_e rules need it), at most this long. */
#define PROV_WAN_WAIT_S 15
/* The worker looks at the clock at least this often (suspend, test clock). */
#define PROV_TICK_S	60

enum { CMD_WAN = 'W', CMD_CLEAR = 'C', CMD_STOP = 'Q' };

/* One message of the loop to the worker: one write, so never torn. */
struct prov_cmd {
	char op;
	struct prefix6 wan;
};

static const char *test_clock;

/* CLOCK_BOOTTIME as hb_system_ops reads it, plus the test's offset. */
static uint64_t test_mono(void *ctx)
{
	long long off = 0;
	FILE *f = fopen(test_clock, "r");

	if (f) {
		if (fscanf(f, "%lld", &off) != 1 || off < 0)
			off = 0;
		fclose(f);
	}
	return hb_system_ops.mono(ctx) + off;
}

/* tunnel.provision.url: that server, instead of the TXT record (3.1). */
static int fixed_server(void *ctx, struct hb_txt *txt, char *err, size_t errlen)
{
	const struct prov_run *r = ctx;

	(void)err;
	(void)errlen;
	snprintf(txt->url, sizeof(txt->url), "%s", r->cfg.url);
	txt->verify = r->cfg.verify;
	return 0;
}

static void publish(struct prov_run *r, struct hb_state *s)
{
	const struct hb_answer *cur;
	struct hb_answer *copy = NULL;
	uint64_t one = 1;
	int m;

	cur = hb_state_answer(s, &m);
	if (cur) {
		copy = malloc(sizeof(*copy));
		if (!copy) {
			pr_err("HB46PP: out of memory; the new answer is not applied");
			return;
		}
		*copy = *cur;
	}
	pthread_mutex_lock(&r->lock);
	free(r->next);
	r->next = copy;
	r->next_method = m;
	r->news = true;
	pthread_mutex_unlock(&r->lock);
	if (write(r->ev, &one, sizeof(one)) != sizeof(one))
		pr_warn("HB46PP: wake the main loop: %s", strerror(errno));
}

/* Commands waiting in the pipe: 1 to stop, else 0. */
static int commands(struct prov_run *r, struct hb_state *s, bool *has_wan)
{
	struct prov_cmd c;

	while (read(r->cmd[0], &c, sizeof(c)) == sizeof(c)) {
		if (c.op == CMD_STOP)
			return 1;
		if (c.op == CMD_WAN) {
			hb_state_set_wan(s, &c.wan);
			*has_wan = true;
		} else if (c.op == CMD_CLEAR) {
			hb_state_clear(s);
		}
	}
	return 0;
}

static int wait_ms(const struct hb_state *s)
{
	uint64_t t = hb_state_timeout(s), tick = test_clock ? 1 : PROV_TICK_S;

	return (int)(t < tick ? t : tick) * 1000;
}

static long since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec - t0->tv_sec;
}

static void *worker(void *arg)
{
	struct prov_run *r = arg;
	struct pollfd p = { .fd = r->cmd[0], .events = POLLIN };
	struct hb_state *s = hb_state_new(&r->conf, &r->ops);
	bool has_wan = false;
	struct timespec t0;

	if (!s) {
		pr_err("HB46PP: out of memory; no provisioning");
		return NULL;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		/* before the first attempt: wait for the WAN prefix a while */
		poll(&p, 1,
		     has_wan || since(&t0) >= PROV_WAN_WAIT_S ? wait_ms(s)
							      : 1000);
		if (commands(r, s, &has_wan))
			break;
		if (!has_wan && since(&t0) < PROV_WAN_WAIT_S)
			continue;
		if (hb_state_run(s) > 0)
			publish(r, s);
	}
	hb_state_free(s);
	return NULL;
}

static void send_cmd(struct prov_run *r, char op, const struct prefix6 *wan)
{
	struct prov_cmd c = { .op = op };

	if (!r->on)
		return;
	if (wan)
		c.wan = *wan;
	if (write(r->cmd[1], &c, sizeof(c)) != sizeof(c))
		pr_warn("HB46PP: tell the worker: %s", strerror(errno));
}

static void close_fds(struct prov_run *r)
{
	if (r->cmd[0] >= 0)
		close(r->cmd[0]);
	if (r->cmd[1] >= 0)
		close(r->cmd[1]);
	if (r->ev >= 0)
		close(r->ev);
	r->cmd[0] = r->cmd[1] = r->ev = -1;
}

int prov_run_start(struct prov_run *r, const struct prov_cfg *cfg)
{
	int err;

	memset(r, 0, sizeof(*r));
	r->cmd[0] = r->cmd[1] = r->ev = -1;
	r->cfg = *cfg;
	prov_cfg_conf(&r->cfg, &r->conf);
	r->ops = hb_system_ops;
	r->ops.ctx = r;
	if (r->cfg.url[0])
		r->ops.discover = fixed_server;
	test_clock = getenv(PROV_TEST_CLOCK_ENV);
	if (test_clock)
		r->ops.mono = test_mono;
	if (pipe2(r->cmd, O_CLOEXEC | O_NONBLOCK) ||
	    (r->ev = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		err = -errno;
		pr_err("HB46PP: pipe/eventfd: %s", strerror(-err));
		close_fds(r);
		return err;
	}
	pthread_mutex_init(&r->lock, NULL);
	err = -pthread_create(&r->thread, NULL, worker, r);
	if (err) {
		pr_err("HB46PP: start the worker thread: %s", strerror(-err));
		pthread_mutex_destroy(&r->lock);
		close_fds(r);
		return err;
	}
	r->on = true;
	pr_info("HB46PP: provisioning %s%s, state in %s",
		r->cfg.url[0] ? "from " : "by the TXT record of " HB_TXT_NAME,
		r->cfg.url, r->cfg.state_dir);
	return 0;
}

void prov_run_stop(struct prov_run *r)
{
	if (!r->on)
		return;
	send_cmd(r, CMD_STOP, NULL);
	pthread_join(r->thread, NULL);
	pthread_mutex_destroy(&r->lock);
	free(r->next);
	r->next = NULL;
	close_fds(r);
	r->on = false;
}

int prov_run_fd(const struct prov_run *r)
{
	return r->on ? r->ev : -1;
}

int prov_run_take(struct prov_run *r, struct hb_answer **a, int *method)
{
	uint64_t n;
	bool news;

	if (!r->on)
		return 0;
	if (read(r->ev, &n, sizeof(n)) < 0 && errno != EAGAIN)
		pr_warn("HB46PP: read eventfd: %s", strerror(errno));
	pthread_mutex_lock(&r->lock);
	news = r->news;
	*a = r->next;
	*method = r->next_method;
	r->next = NULL;
	r->news = false;
	pthread_mutex_unlock(&r->lock);
	return news;
}

void prov_run_wan(struct prov_run *r, const struct prefix6 *wan)
{
	send_cmd(r, CMD_WAN, wan);
}

void prov_run_clear(struct prov_run *r)
{
	send_cmd(r, CMD_CLEAR, NULL);
}
