// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * brouterd: start (load, attach, install the policy), then one poll() loop
 * over signals, router advertisements and the drop log; undo everything
 * on SIGTERM/SIGINT.
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

/* How often the ports' MACs are re-read (a MAC change is rare, cheap to see). */
#define BR_HOUSEKEEPING_MS 1000
/* Router solicitations while no WAN prefix is known, at most this often. */
#define BR_RS_INTERVAL_S 10


static void teardown(struct brouterd *d)
{
	int p;

	metrics_http_close(&d->http);
	ring_buffer__free(d->drops);
	d->drops = NULL;
	droppub_close(&d->pub);
	if (d->ra_fd >= 0)
		close(d->ra_fd);
	d->ra_fd = -1;

	/* while XDP still decapsulates: nothing of the tunnel outlives it */
	tunnel_run_stop(&d->tun);
	xdp_detach_all(d);
	for (p = 0; p < BR_NPORTS; p++)
		detach_tc_ingress(&d->port[p]);
	restore_promisc(d);
	if (d->xdp && d->cfg.opt.keep_state)
		keep_state(d);
	else if (d->xdp)
		unpin_all(d->xdp->obj);
	tc_ingress__destroy(d->tc);
	xdp_brouter__destroy(d->xdp);
	d->tc = NULL;
	d->xdp = NULL;
	if (d->lock_fd >= 0) {
		/* Still locked: nobody else can be using the directory. */
		if (!d->cfg.opt.keep_state && rmdir(d->cfg.opt.pin_dir) &&
		    errno != ENOENT)
			pr_warn("remove pin dir %s: %s", d->cfg.opt.pin_dir, strerror(errno));
		close(d->lock_fd);
		d->lock_fd = -1;
	}
}

static void solicit_ra(struct brouterd *d)
{
	time_t now = time(NULL);
	int err;

	if (d->ra_fd < 0 || d->wan_prefixes || now - d->last_rs < BR_RS_INTERVAL_S)
		return;
	d->last_rs = now;
	err = ra_solicit(d->ra_fd, d->port[BR_PORT_WAN].ifindex);
	if (err)
		pr_debug("router solicitation on %s: %s", d->port[BR_PORT_WAN].ifname,
			 strerror(-err));
}

/*
 * Once a second: keep the own-MAC test right if someone changes a port's
 * address, forget expired prefixes, ask for an RA while none is known.
 */
static void housekeeping(struct brouterd *d)
{
	follow_port_macs(d);
	prefixes_expire(bpf_map__fd(d->xdp->maps.prefixes));
	tunnel_run_tick(&d->tun);
	solicit_ra(d);
}

static void ra_receive(struct brouterd *d)
{
	struct ra_prefix pfx[RA_MAX_PREFIXES];
	int n;

	while ((n = ra_read(d->ra_fd, pfx, RA_MAX_PREFIXES)) >= 0) {
		d->wan_prefixes += prefixes_from_ra(bpf_map__fd(d->xdp->maps.prefixes),
						    pfx, n);
		tunnel_run_prefixes(&d->tun, pfx, n);
	}
	if (n != -EAGAIN && n != -EWOULDBLOCK)
		pr_warn("read router advertisement: %s", strerror(-n));
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

/* RAs on the WAN and the drop log: optional, brouter bridges without them. */
static void listeners_open(struct brouterd *d)
{
	struct br_port_attach *wan = &d->port[BR_PORT_WAN];

	d->ra_fd = ra_open(wan->ifname, wan->ifindex);
	if (d->ra_fd < 0)
		pr_warn("%s: cannot listen for router advertisements (%s); outbound "
			"sources are limited to link-local and configured prefixes",
			wan->ifname, strerror(-d->ra_fd));
	solicit_ra(d);
	d->drops = ring_buffer__new(bpf_map__fd(d->xdp->maps.drop_log),
				    drop_event, d, NULL);
	if (!d->drops)
		pr_warn("drop log unavailable: %s", strerror(errno));
	else
		droppub_open(&d->pub);
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
	if (sigprocmask(SIG_BLOCK, &mask, NULL))
		return -errno;
	fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	return fd < 0 ? -errno : fd;
}

enum { PFD_SIGNAL, PFD_RA, PFD_DROPS, PFD_METRICS, PFD_PUB, PFD_MAX };

static int run_loop(struct brouterd *d, int sig_fd)
{
	struct pollfd pfd[PFD_MAX] = {
		[PFD_SIGNAL] = { .fd = sig_fd, .events = POLLIN },
		[PFD_RA] = { .fd = d->ra_fd, .events = POLLIN },
		[PFD_DROPS] = { .fd = d->drops ? ring_buffer__epoll_fd(d->drops)
					       : -1,
				.events = POLLIN },
		[PFD_METRICS] = { .fd = d->http.ep, .events = POLLIN },
		[PFD_PUB] = { .fd = d->pub.ep, .events = POLLIN },
	};
	struct timespec last = { 0 }, now;
	struct signalfd_siginfo si;
	int n;

	for (;;) {
		n = poll(pfd, PFD_MAX, BR_HOUSEKEEPING_MS);
		if (n < 0 && errno != EINTR) {
			pr_err("poll: %s", strerror(errno));
			return -errno;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec != last.tv_sec) {
			last = now;
			housekeeping(d);
		}
		if (n <= 0)
			continue;
		if (pfd[PFD_RA].revents & POLLIN)
			ra_receive(d);
		if (pfd[PFD_DROPS].revents & POLLIN)
			ring_buffer__consume(d->drops);
		if (pfd[PFD_METRICS].revents & POLLIN)
			metrics_http_serve(&d->http);
		if (pfd[PFD_PUB].revents & POLLIN)
			droppub_serve(&d->pub);
		while (read(sig_fd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo == SIGHUP) {
				notify_reloading();
				reload(d);
				tell_ready(d);
				continue;
			}
			pr_info("%s: detaching", strsignal(si.ssi_signo));
			return 0;
		}
	}
}

static int start(struct brouterd *d)
{
	int err;

	err = sys_check_privileges() ?: resolve_ports(d) ?: sys_check_kernel() ?:
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
	err = settings_build(d, &d->cfg, &d->settings) ?: settings_push(d, &d->settings) ?:
	      tx_ports_fill(d) ?: policy_install(d);
	if (err) {
		pr_err("install firewall policy: %s", strerror(-err));
		return err;
	}
	log_policy(d, "policy");
	err = enable_promisc(d) ?: attach_all(d) ?: info_write(d) ?:
	      tunnel_run_start(&d->tun, &d->cfg.tunnel, &d->port[BR_PORT_WAN],
			       d->xdp->obj);
	if (!err && d->cfg.metrics_listen[0])
		err = metrics_http_open(&d->http, d->cfg.metrics_listen,
					d->cfg.opt.pin_dir);
	if (!err) {
		listeners_open(d);
		status_started(d);
	}
	return err;
}

int main(int argc, char **argv)
{
	struct brouterd d = {
		.lock_fd = -1, .ra_fd = -1, .http.ep = -1, .pub.ep = -1
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
		d.promisc_before[p] = -1;
	}
	err = brouter_config(argc, argv, &d.cfg);
	if (err)
		return err > 0 ? 0 : 1;
	br_log_level = d.cfg.log_level;
	br_log_syslog(d.cfg.opt.syslog);
	br_log_libbpf_setup();

	/* Signals are blocked before anything is attached: no window to die half-done. */
	sig_fd = signals_open();
	if (sig_fd < 0) {
		pr_err("signalfd: %s", strerror(-sig_fd));
		return 1;
	}
	err = start(&d);
	if (!err) {
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
	return err ? 1 : 0;
}
