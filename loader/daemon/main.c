// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * brouterd: start (wait for the ports if asked, load, attach, install the
 * policy), then one poll() loop over signals, netlink events, deadlines,
 * router advertisements and the drop log; undo everything on
 * SIGTERM/SIGINT.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <curl/curl.h>
#include <libmnl/libmnl.h>

#include "daemon/brouterd.h"
#include "fw/droplog.h"
#include "common/log.h"
#include "common/mono.h"
#include "common/netdev.h"
#include "common/notify.h"
#include "config/options.h"
#include "fw/policy.h"
#include "fw/prefixes.h"
#include "fw/ra.h"
#include "common/sys.h"
#include "daemon/tunnel_run.h"
#include "xdp_brouter.skel.h"
#include "tc_ingress.skel.h"
#include "tc_egress.skel.h"

static void teardown(struct brouterd *d)
{
	int p;

	metrics_http_close(&d->http);
	ring_buffer__free(d->drops);
	d->drops = NULL;
	droppub_close(&d->pub);
	fp4_close(d);
	ra_stop(d);

	/* while XDP still decapsulates: nothing of the tunnel outlives it */
	auto_stop(d);
	tunnel_run_stop(&d->tun);
	xdp_detach_all(d);
	for (p = 0; p < BR_NPORTS; p++) {
		detach_tc_egress(&d->port[p], BR_EGRESS_FP4);
		detach_tc_ingress(&d->port[p]);
	}
	restore_promisc(d);
	if (d->xdp && d->cfg.opt.keep_state)
		keep_state(d);
	else if (d->xdp)
		unpin_all(d->xdp->obj);
	objects_destroy(d);
	if (d->lock_fd >= 0) {
		/* Still locked: nobody else can be using the directory. */
		if (!d->cfg.opt.keep_state && rmdir(d->cfg.opt.pin_dir) &&
		    errno != ENOENT)
			pr_warn("remove pin dir %s: %s", d->cfg.opt.pin_dir, strerror(errno));
		close(d->lock_fd);
		d->lock_fd = -1;
	}
	nft_watch_close(&d->nftw);
	events_close(d);
	timers_close(&d->timers);
}

/* A drop event: to the log, and to whoever follows with brouterctl drops. */
static int drop_event(void *ctx, void *data, size_t size)
{
	struct brouterd *d = ctx;

	droplog_handle(NULL, data, size);
	if (size >= sizeof(struct br_drop_event))
		droppub_send(&d->pub, data);
	return 0;
}

/* The drop log is optional: brouter bridges without it. */
static void listeners_open(struct brouterd *d)
{
	ra_start(d);
	d->drops = ring_buffer__new(bpf_map__fd(d->xdp->maps.drop_log),
				    drop_event, d, NULL);
	if (!d->drops)
		pr_warn("drop log unavailable: %s", strerror(errno));
	else
		droppub_open(&d->pub);
	fp4_open(d);
}

/* Type=notify: the service manager counts brouterd started once this is sent. */
static void tell_ready(struct brouterd *d)
{
	char status[64];
	int err;

	snprintf(status, sizeof(status), "bridging %s (LAN) and %s (WAN)",
		 d->port[BR_PORT_LAN].ifname, d->port[BR_PORT_WAN].ifname);
	err = notify_ready(status);
	if (err < 0)
		pr_warn("tell the service manager ($NOTIFY_SOCKET) we are ready: %s",
			strerror(-err));
}

static int signals_open(void)
{
	sigset_t mask;
	int fd;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGUSR1); /* brouterctl provision --clear */
	if (sigprocmask(SIG_BLOCK, &mask, NULL))
		return -errno;
	fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	return fd < 0 ? -errno : fd;
}

enum {
	PFD_SIGNAL,
	PFD_EVENTS,
	PFD_NFT,
	PFD_TIMER,
	PFD_RA,
	PFD_DROPS,
	PFD_METRICS,
	PFD_PUB,
	PFD_AUTO, /* the HB46PP worker's answers */
	PFD_FP4,  /* the IPv4 fast path's asks */
	PFD_MAX
};

/* What the loop waits on; the RA socket changes with the WAN port. */
static void poll_set(struct brouterd *d, int sig_fd, struct pollfd *pfd)
{
	int fd[PFD_MAX] = {
		[PFD_SIGNAL] = sig_fd,
		[PFD_EVENTS] = mnl_socket_get_fd(d->events.nl),
		[PFD_NFT] = d->nftw.nl.nl ? mnl_socket_get_fd(d->nftw.nl.nl)
					  : -1,
		[PFD_TIMER] = d->timers.fd,
		[PFD_RA] = d->ra_fd,
		[PFD_DROPS] = d->drops ? ring_buffer__epoll_fd(d->drops) : -1,
		[PFD_METRICS] = d->http.ep,
		[PFD_PUB] = d->pub.ep,
		[PFD_AUTO] = auto_fd(d),
		[PFD_FP4] = fp4_asks_fd(d),
	};
	int i;

	for (i = 0; i < PFD_MAX; i++)
		pfd[i] = (struct pollfd){ .fd = fd[i], .events = POLLIN };
}

/*
 * A committed nftables transaction: any ruleset change ends what the IPv4
 * fast path decided; one that touched brouterd's own table (someone
 * else's) has the tunnel put it back.
 */
static void nft_changed(struct brouterd *d)
{
	struct nft_change nc;
	int r = nft_watch_read(&d->nftw, &nc);

	if (r > 0)
		tunnel_run_nft_changed(&d->tun, &nc);
	if (nc.commits || (r > 0 && !nc.pid))
		fp4_flush(d, "nftables ruleset changed");
}

/*
 * Events, not polling: the loop sleeps until a signal, a netlink event
 * (links, addresses, routes, neighbours, nftables), a deadline, an RA or
 * a logged drop. 0 after SIGTERM/SIGINT, -errno on a failure to go on.
 */
static int run_loop(struct brouterd *d, int sig_fd)
{
	struct pollfd pfd[PFD_MAX];
	struct signalfd_siginfo si;
	int n, err;

	for (;;) {
		poll_set(d, sig_fd, pfd);
		n = poll(pfd, PFD_MAX, -1);
		if (n < 0 && errno != EINTR) {
			pr_err("poll: %s", strerror(errno));
			return -errno;
		}
		if (n <= 0)
			continue;
		/*
		 * nftables first: rtnetlink events have the tunnel check its
		 * table too, and a table found missing there is reported
		 * without the name of whoever removed it.
		 */
		if (pfd[PFD_NFT].revents & POLLIN)
			nft_changed(d);
		if (pfd[PFD_EVENTS].revents & POLLIN) {
			err = events_read(d);
			if (err)
				return err;
		}
		if (pfd[PFD_TIMER].revents & POLLIN)
			ra_timers(d, timers_fired(&d->timers));
		if ((pfd[PFD_RA].revents & POLLIN) && d->ra_fd >= 0)
			ra_receive(d);
		if ((pfd[PFD_DROPS].revents & POLLIN) && d->drops)
			ring_buffer__consume(d->drops);
		if (pfd[PFD_METRICS].revents & POLLIN)
			metrics_http_serve(&d->http);
		if (pfd[PFD_PUB].revents & POLLIN)
			droppub_serve(&d->pub);
		if (pfd[PFD_AUTO].revents & POLLIN)
			auto_event(d);
		if (pfd[PFD_FP4].revents & POLLIN)
			fp4_asks_consume(d);
		while (read(sig_fd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo == SIGHUP) {
				notify_reloading();
				reload(d);
				tell_ready(d);
				continue;
			}
			if (si.ssi_signo == SIGUSR1) {
				auto_clear(d);
				continue;
			}
			pr_info("%s: detaching", strsignal(si.ssi_signo));
			return 0;
		}
	}
}

/* The netlink sockets and timers the loop (and --wait) listen to. */
static int watch_open(struct brouterd *d)
{
	int err;

	err = events_open(d) ?: timers_open(&d->timers);
	if (err)
		return err;
	/* optional: without it the table is still checked on WAN events */
	err = nft_watch_open(&d->nftw);
	if (err)
		pr_warn("nftables notifications: %s; a flushed table is noticed later",
			strerror(-err));
	return 0;
}

/* Where each port stands now, for the events that follow. */
static void ports_watch(struct brouterd *d)
{
	struct rtnl_link l;
	int p;

	for (p = 0; p < BR_NPORTS; p++) {
		if (!rtnl_link_get(&d->rq, d->port[p].ifindex, -1, &l)) {
			d->ps[p].flags = l.flags;
			d->ps[p].mtu = l.mtu;
		}
		veth_check(d, p);
		port_xdp_seen(d, p);
	}
}

/* The config's tunnel; with "auto", its peers until provisioning says more. */
static int tunnel_start_configured(struct brouterd *d)
{
	struct tunnel_cfg *c = malloc(sizeof(*c));
	int err;

	if (!c)
		return -ENOMEM;
	auto_tunnel_cfg(d, &d->cfg, c);
	err = tunnel_run_start(&d->tun, c, &d->port[BR_PORT_WAN], d->xdp->obj,
			       bpf_program__fd(d->te->progs.tc_brouter_out));
	free(c);
	return err;
}

/* 0 when running, 1 when stopped while waiting (--wait), -errno. */
static int start(struct brouterd *d, int sig_fd)
{
	int err;

	err = sys_check_privileges() ?: watch_open(d) ?: wait_for_ports(d, sig_fd);
	if (err)
		return err;
	err = resolve_ports(d) ?: sys_check_kernel() ?:
	      sys_ensure_bpffs(d->cfg.opt.pin_dir);
	if (err)
		return err;
	d->lock_fd = sys_lock_pin_dir(d->cfg.opt.pin_dir);
	if (d->lock_fd < 0)
		return d->lock_fd;

	drop_incompatible_state(d->cfg.opt.pin_dir, &d->prev);
	err = load_programs(d);
	if (err)
		return err;
	fp4_timeouts(d);
	err = settings_build(d, &d->cfg, &d->settings) ?: settings_push(d, &d->settings) ?:
	      tx_ports_fill(d) ?: policy_install(d);
	if (err) {
		pr_err("install firewall policy: %s", strerror(-err));
		return err;
	}
	log_policy(d, "policy");
	err = enable_promisc(d) ?: attach_all(d) ?: info_write(d) ?:
	      tunnel_start_configured(d) ?: auto_start(d);
	/* the tunnel's table decides how the fast path treats conntrack */
	if (!err)
		fp4_flush(d, "tunnel up");
	if (!err && d->cfg.metrics_listen[0])
		err = metrics_http_open(&d->http, d->cfg.metrics_listen,
					d->cfg.opt.pin_dir);
	if (err)
		return err;
	ports_watch(d);
	egress_stale_sweep(d);
	listeners_open(d);
	status_started(d);
	return 0;
}

int main(int argc, char **argv)
{
	struct brouterd d = {
		.lock_fd = -1,
		.ra_fd = -1,
		.http.ep = -1,
		.pub.ep = -1,
		.timers.fd = -1,
	};
	int p, err, sig_fd;

	br_prog_name = "brouterd";
	/*
	 * A log reader that goes away (a pipe into a pager, a logger being
	 * restarted) must not kill the daemon with the ports half-attached:
	 * a failed write to stderr is an error to ignore, not a signal.
	 */
	signal(SIGPIPE, SIG_IGN);
	for (p = 0; p < BR_NPORTS; p++) {
		d.port[p].xdp_link = -1;
		d.port[p].tc_link[0] = d.port[p].tc_link[1] = -1;
		d.promisc_before[p] = -1;
	}
	err = brouter_config(argc, argv, &d.cfg);
	if (err)
		return err > 0 ? 0 : 1;
	for (p = 0; p < BR_NPORTS; p++)
		d.port[p].tc_want = d.cfg.opt.tc_attach;
	br_log_level = d.cfg.log_level;
	br_log_syslog(d.cfg.opt.syslog);
	br_log_libbpf_setup();
	/* before any thread: the HB46PP worker's requests use libcurl */
	curl_global_init(CURL_GLOBAL_DEFAULT);

	/* Signals are blocked before anything is attached: no window to die half-done. */
	sig_fd = signals_open();
	if (sig_fd < 0) {
		pr_err("signalfd: %s", strerror(-sig_fd));
		return 1;
	}
	err = start(&d, sig_fd);
	if (err > 0) {
		err = 0; /* stopped while waiting for the ports: nothing to undo */
	} else if (!err) {
		pr_info("ready: LAN %s (ifindex %d), WAN %s (ifindex %d), pins in %s",
			d.port[BR_PORT_LAN].ifname, d.port[BR_PORT_LAN].ifindex,
			d.port[BR_PORT_WAN].ifname, d.port[BR_PORT_WAN].ifindex,
			d.cfg.opt.pin_dir);
		tell_ready(&d);
		err = run_loop(&d, sig_fd);
		notify_stopping();
	}
	teardown(&d);
	close(sig_fd);
	config_free(&d.cfg);
	curl_global_cleanup();
	return err ? 1 : 0;
}
