// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * brouterd: load brouter's programs, attach them to the LAN and WAN ports,
 * keep the live settings current, and undo everything on SIGTERM/SIGINT.
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

#include "daemon/attach.h"
#include "config/config.h"
#include "fw/droplog.h"
#include "common/log.h"
#include "common/mono.h"
#include "common/netdev.h"
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

struct brouterd {
	struct br_config cfg;
	struct br_port_attach port[BR_NPORTS];
	int promisc_before[BR_NPORTS]; /* -1 = not changed by us */
	struct xdp_brouter *xdp;
	struct tc_ingress *tc;
	struct br_settings settings;
	int lock_fd;
	int ra_fd;		/* router advertisements on the WAN, -1 if none */
	time_t last_rs;		/* when we last solicited one */
	int wan_prefixes;	/* prefixes learned from RAs so far */
	struct ring_buffer *drops;
	struct br_info prev;	/* left pinned by a brouterd that is gone, or zero */
	struct tunnel_run tun;	/* IPv4 over IPv6, when configured */
};

static int resolve_ports(struct brouterd *d)
{
	int p, ifindex;

	for (p = 0; p < BR_NPORTS; p++) {
		ifindex = netdev_resolve(d->cfg.opt.ifname[p]);
		if (ifindex < 0)
			return ifindex;
		d->port[p].ifname = d->cfg.opt.ifname[p];
		d->port[p].ifindex = ifindex;
	}
	if (d->port[0].ifindex == d->port[1].ifindex) {
		pr_err("LAN and WAN are the same interface (%s = %s)",
		       d->cfg.opt.ifname[0], d->cfg.opt.ifname[1]);
		return -EINVAL;
	}
	return 0;
}

/* Fill the live settings from options and the ports' current MACs. */
static int settings_build(struct brouterd *d, struct br_settings *out)
{
	struct br_settings tmp, *s = &tmp;
	int p, i, err;

	memset(s, 0, sizeof(*s));
	for (p = 0; p < BR_NPORTS; p++) {
		err = netdev_mac(d->port[p].ifname, s->mac[p]);
		if (err) {
			pr_err("%s: read MAC: %s", d->port[p].ifname, strerror(-err));
			return err;
		}
		s->mark[p] = d->cfg.opt.mark[p];
	}
	for (i = 0; i < d->cfg.opt.n_ethertypes; i++)
		s->ethertypes[i] = htons(d->cfg.opt.ethertypes[i]);
	s->flags = d->cfg.opt.mark_enabled ? BR_F_MARK : 0;
	/* policy and its generation are owned by the reload path */
	memcpy(s->pol, d->settings.pol, sizeof(s->pol));
	s->gen = d->settings.gen;
	*out = tmp;
	return 0;
}

static int settings_push(struct brouterd *d, const struct br_settings *s)
{
	__u32 zero = 0;

	if (bpf_map__update_elem(d->xdp->maps.settings, &zero, sizeof(zero), s,
				 sizeof(*s), BPF_ANY)) {
		pr_err("update settings map: %s", strerror(errno));
		return -errno;
	}
	d->settings = *s;
	return 0;
}

static int tx_ports_fill(struct brouterd *d)
{
	char path[sizeof(d->cfg.opt.pin_dir) + 16];
	__u32 p, ifindex;

	for (p = 0; p < BR_NPORTS; p++) {
		ifindex = d->port[p].ifindex;
		if (bpf_map__update_elem(d->xdp->maps.tx_ports, &p, sizeof(p),
					 &ifindex, sizeof(ifindex), BPF_ANY)) {
			pr_err("add %s to tx_ports: %s", d->port[p].ifname,
			       strerror(errno));
			return -errno;
		}
	}
	snprintf(path, sizeof(path), "%s/tx_ports", d->cfg.opt.pin_dir);
	unlink(path); /* left by a brouterd that was killed */
	if (bpf_map__pin(d->xdp->maps.tx_ports, path)) {
		pr_err("pin %s: %s", path, strerror(errno));
		return -errno;
	}
	return 0;
}

/*
 * Install the configured firewall as the inactive generation, then switch
 * to it with one settings update in which only gen changes: no packet is
 * ever judged by a half-written policy, and flows are untouched. On any
 * error the running generation stays as it was.
 *
 * gen counts reloads; its low bit picks pol[] and the pinhole maps' gen.
 * The XDP flow cache compares the whole value, so a decision cached under
 * one policy never passes a packet under a later one, however fast two
 * reloads follow each other.
 */
static int policy_install(struct brouterd *d)
{
	int dst = bpf_map__fd(d->xdp->maps.pin_dst);
	int rules = bpf_map__fd(d->xdp->maps.pin_rules);
	__u32 next = d->settings.gen + 1;
	__u8 old = d->settings.gen & 1, slot = next & 1;
	struct br_compiled c = { 0 };
	struct br_settings s;
	int err;

	err = policy_compile(d->cfg.pinholes, d->cfg.n_pinholes, slot, &c);
	if (err)
		return err;
	err = policy_clear_gen(dst, rules, slot) ?: policy_write(dst, rules, &c) ?:
	      settings_build(d, &s);
	policy_compiled_free(&c);
	if (err)
		return err;
	s.pol[slot] = d->cfg.pol;
	s.pol[slot].n_pinholes = d->cfg.n_pinholes;
	err = settings_push(d, &s);
	if (err)
		return err;
	s.gen = next;
	err = settings_push(d, &s);
	if (err)
		return err;
	policy_clear_gen(dst, rules, old);
	err = policy_prefixes_sync(bpf_map__fd(d->xdp->maps.prefixes),
				   d->cfg.lan_prefixes, d->cfg.n_lan_prefixes);
	if (err)
		pr_warn("configured lan-prefixes: %s", strerror(-err));
	return 0;
}

static const char *const fw_mode_name[] = {
	[BR_FW_STATEFUL] = "stateful",
	[BR_FW_STATELESS_TCP] = "stateless-tcp",
	[BR_FW_OPEN] = "open",
};

static void log_policy(struct brouterd *d, const char *what)
{
	const struct br_policy *pol = &d->settings.pol[d->settings.gen & 1];

	pr_info("%s: firewall %s%s, %d pinholes, %d configured prefixes", what,
		pol->mode <= BR_FW_OPEN ? fw_mode_name[pol->mode] : "?",
		pol->lan_ipv6 ? "" : " (IPv6 kept off the LAN)", d->cfg.n_pinholes,
		d->cfg.n_lan_prefixes);
}

/* SIGHUP: all or nothing. A config with any error changes nothing. */
static void reload(struct brouterd *d)
{
	int err;

	if (config_reload(&d->cfg))
		return; /* config_reload said what is wrong and that nothing changed */
	br_log_level = d->cfg.log_level;
	err = policy_install(d);
	if (err) {
		pr_err("reload: installing the policy failed (%s); the running policy "
		       "stays", strerror(-err));
		return;
	}
	log_policy(d, "reloaded");
	tunnel_run_reload(&d->tun, &d->cfg.tunnel);
}

/*
 * Maps pinned by an earlier brouter whose layout no longer matches make
 * the load fail; they hold nothing worth keeping then, so start afresh.
 */
static void unpin_all(struct bpf_object *obj)
{
	struct bpf_map *map;

	bpf_object__for_each_map(map, obj)
		if (bpf_map__pin_path(map))
			bpf_map__unpin(map, NULL);
}

/*
 * State pinned by a brouterd with another map layout would be misread:
 * remove it so libbpf creates fresh maps. Same layout: reuse it, which
 * is what keeps connections alive across a restart.
 */
static void drop_incompatible_state(const char *pin_dir, struct br_info *prev)
{
	char path[PATH_MAX];
	struct br_info info;
	struct dirent *de;
	__u32 zero = 0;
	DIR *dir;
	int fd;

	snprintf(path, sizeof(path), "%s/info", pin_dir);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return;
	if (!bpf_map_lookup_elem(fd, &zero, &info) && info.layout == BR_LAYOUT_VERSION) {
		close(fd);
		pr_info("reusing state pinned in %s", pin_dir);
		/* a dead owner's undo duties become ours (see struct br_info) */
		if (!info.pid || kill(info.pid, 0))
			*prev = info;
		return;
	}
	close(fd);
	pr_warn("state pinned in %s has another layout; starting with empty tables",
		pin_dir);
	dir = opendir(pin_dir);
	if (!dir)
		return;
	while ((de = readdir(dir)))
		if (de->d_name[0] != '.')
			unlinkat(dirfd(dir), de->d_name, 0);
	closedir(dir);
}

static int info_write(struct brouterd *d)
{
	struct br_info info = { .layout = BR_LAYOUT_VERSION, .pid = getpid() };
	__u32 zero = 0;
	int p;

	for (p = 0; p < BR_NPORTS; p++) {
		info.ifindex[p] = d->port[p].ifindex;
		info.promisc_set[p] = d->promisc_before[p] == 0;
		info.clsact_created[p] = d->port[p].tc_created_hook;
	}
	info.started_ns = mono_ns();
	if (bpf_map__update_elem(d->xdp->maps.info, &zero, sizeof(zero), &info,
				 sizeof(info), BPF_ANY)) {
		pr_err("update info map: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

/*
 * The flow cache's size, before anything is loaded: sets per CPU (0 for
 * off) and how many CPUs, or -errno after saying why.
 */
static int flow_cache_sets(const struct brouterd *d, __u32 *sets, int *ncpus)
{
	__u32 n;
	__u64 bytes;

	*ncpus = libbpf_num_possible_cpus();
	if (*ncpus < 0) {
		pr_err("possible CPUs: %s", strerror(-*ncpus));
		return *ncpus;
	}
	n = config_flow_cache(&d->cfg, *ncpus);
	*sets = n / BR_FC_WAYS;
	if ((__u64)*sets * *ncpus > UINT32_MAX) {
		pr_err("flow-cache: %u entries for each of %d CPUs: more "
		       "than one map holds", n, *ncpus);
		return -E2BIG;
	}
	bytes = (__u64)n * BR_FC_ENTRY_SIZE * *ncpus;
	if (!n)
		pr_info("flow cache: off");
	else
		pr_info("flow cache: %u entries per CPU, %d CPUs, %llu %s", n,
			*ncpus, bytes >> (bytes < (1 << 20) ? 10 : 20),
			bytes < (1 << 20) ? "KB" : "MB");
	return 0;
}

static int load_programs(struct brouterd *d)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = d->cfg.opt.pin_dir);
	int p, err, ncpus, retried = 0;
	__u32 fc_sets;

	/* a bad size is the configuration's fault: no retry below */
	err = flow_cache_sets(d, &fc_sets, &ncpus);
	if (err)
		return err;
again:
	d->xdp = xdp_brouter__open_opts(&oo);
	d->tc = tc_ingress__open_opts(&oo);
	if (!d->xdp || !d->tc) {
		pr_err("open BPF objects: %s", strerror(errno));
		return -errno;
	}
	for (p = 0; p < BR_NPORTS; p++) {
		d->xdp->rodata->consts.ifindex[p] = d->port[p].ifindex;
		d->tc->rodata->consts.ifindex[p] = d->port[p].ifindex;
	}
	/*
	 * A pinned flows map of another size is not reused: the load fails
	 * and the retry below starts with fresh maps.
	 */
	err = bpf_map__set_max_entries(d->xdp->maps.flows, d->cfg.max_flows);
	/* 1 << fc_bits sets per CPU; off: fc_bits 0 and the smallest array */
	d->xdp->rodata->consts.fc_bits = fc_sets ? __builtin_ctz(fc_sets) : 0;
	if (!err)
		err = bpf_map__set_max_entries(d->xdp->maps.flow_cache,
					       fc_sets ? fc_sets * ncpus : 1);
	/* XDP first: it creates and pins the maps the tc object reuses. */
	if (!err)
		err = xdp_brouter__load(d->xdp);
	if (!err)
		err = tc_ingress__load(d->tc);
	if (err && !retried) {
		pr_warn("load failed (%s); removing maps pinned in %s by an older "
			"brouter and retrying", strerror(-err), d->cfg.opt.pin_dir);
		unpin_all(d->xdp->obj);
		tc_ingress__destroy(d->tc);
		xdp_brouter__destroy(d->xdp);
		retried = 1;
		goto again;
	}
	if (err) {
		pr_err("load BPF programs: %s (run with -vvv for the verifier log)",
		       strerror(-err));
		return err;
	}
	return 0;
}

static int enable_promisc(struct brouterd *d)
{
	int p, before, err;

	for (p = 0; p < BR_NPORTS; p++) {
		before = netdev_get_promisc(d->port[p].ifname);
		if (before < 0) {
			pr_err("%s: read flags: %s", d->port[p].ifname, strerror(-before));
			return before;
		}
		/* on because a killed brouterd set it: still ours to undo */
		if (before && d->prev.ifindex[p] == (__u32)d->port[p].ifindex &&
		    d->prev.promisc_set[p])
			before = 0;
		if (before)
			continue;
		err = netdev_set_promisc(d->port[p].ifname, 1);
		if (err) {
			pr_err("%s: enable promiscuous mode: %s", d->port[p].ifname,
			       strerror(-err));
			return err;
		}
		d->promisc_before[p] = 0;
	}
	return 0;
}

static void restore_promisc(struct brouterd *d)
{
	int p, err;

	for (p = 0; p < BR_NPORTS; p++) {
		if (d->promisc_before[p] < 0)
			continue;
		err = netdev_set_promisc(d->port[p].ifname, d->promisc_before[p]);
		if (err)
			pr_warn("%s: restore promiscuous mode: %s", d->port[p].ifname,
				strerror(-err));
		d->promisc_before[p] = -1;
	}
}

static int attach_all(struct brouterd *d)
{
	int p, err;

	/*
	 * XDP first: its link attach fails cleanly (EBUSY) when another
	 * brouterd owns a port, before we touch that instance's tc filter.
	 * Multicast passed up in the few microseconds before tc is attached
	 * reaches the stack but is not copied across.
	 */
	for (p = 0; p < BR_NPORTS; p++) {
		err = attach_xdp(&d->port[p],
				 bpf_program__fd(d->xdp->progs.xdp_brouter),
				 d->cfg.opt.xdp_mode);
		if (err)
			return err;
	}
	for (p = 0; p < BR_NPORTS; p++) {
		err = attach_tc_ingress(&d->port[p],
					bpf_program__fd(d->tc->progs.tc_brouter_in));
		if (err)
			return err;
		/* a clsact left by a killed brouterd is still ours to remove */
		if (d->prev.ifindex[p] == (__u32)d->port[p].ifindex &&
		    d->prev.clsact_created[p])
			d->port[p].tc_created_hook = 1;
	}
	return 0;
}

/*
 * --keep-state: leave every pinned map except the devmap (which holds
 * ifindexes, not state) for the next brouterd, and mark the pins as
 * having no running owner.
 */
static void keep_state(struct brouterd *d)
{
	struct br_info info = { .layout = BR_LAYOUT_VERSION };
	__u32 zero = 0;

	bpf_map__unpin(d->xdp->maps.tx_ports, NULL);
	bpf_map__update_elem(d->xdp->maps.info, &zero, sizeof(zero), &info,
			     sizeof(info), BPF_ANY);
	pr_info("state kept in %s for the next brouterd", d->cfg.opt.pin_dir);
}

static void teardown(struct brouterd *d)
{
	int p;

	ring_buffer__free(d->drops);
	d->drops = NULL;
	if (d->ra_fd >= 0)
		close(d->ra_fd);
	d->ra_fd = -1;

	/* while XDP still decapsulates: nothing of the tunnel outlives it */
	tunnel_run_stop(&d->tun);
	for (p = 0; p < BR_NPORTS; p++)
		detach_xdp(&d->port[p]);
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
 * A port's MAC changed: install the settings as a new generation, as a
 * reload does, since the XDP fast path trusts that a flow cache entry's
 * stations were no own MAC under its generation. On failure the next
 * tick tries again.
 */
static void follow_port_macs(struct brouterd *d)
{
	struct br_settings s;
	int err;

	if (settings_build(d, &s) || !memcmp(&s, &d->settings, sizeof(s)))
		return;
	err = policy_install(d);
	if (err)
		pr_warn("port MAC address changed; installing it failed (%s), "
			"trying again", strerror(-err));
	else
		pr_info("port MAC address changed; settings updated (generation %u)",
			d->settings.gen);
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
				    droplog_handle, d, NULL);
	if (!d->drops)
		pr_warn("drop log unavailable: %s", strerror(errno));
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

enum { PFD_SIGNAL, PFD_RA, PFD_DROPS, PFD_MAX };

static int run_loop(struct brouterd *d, int sig_fd)
{
	struct pollfd pfd[PFD_MAX] = {
		[PFD_SIGNAL] = { .fd = sig_fd, .events = POLLIN },
		[PFD_RA] = { .fd = d->ra_fd, .events = POLLIN },
		[PFD_DROPS] = { .fd = d->drops ? ring_buffer__epoll_fd(d->drops) : -1,
				.events = POLLIN },
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
		while (read(sig_fd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo == SIGHUP) {
				reload(d);
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
	err = settings_build(d, &d->settings) ?: settings_push(d, &d->settings) ?:
	      tx_ports_fill(d) ?: policy_install(d);
	if (err) {
		pr_err("install firewall policy: %s", strerror(-err));
		return err;
	}
	log_policy(d, "policy");
	err = enable_promisc(d) ?: attach_all(d) ?: info_write(d) ?:
	      tunnel_run_start(&d->tun, &d->cfg.tunnel, &d->port[BR_PORT_WAN],
			       d->cfg.opt.pin_dir);
	if (!err)
		listeners_open(d);
	return err;
}

int main(int argc, char **argv)
{
	struct brouterd d = { .lock_fd = -1, .ra_fd = -1 };
	int p, err, sig_fd;

	br_prog_name = "brouterd";
	for (p = 0; p < BR_NPORTS; p++) {
		d.port[p].xdp_link = -1;
		d.promisc_before[p] = -1;
	}
	err = brouter_config(argc, argv, &d.cfg);
	if (err)
		return err > 0 ? 0 : 1;
	br_log_level = d.cfg.log_level;
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
		err = run_loop(&d, sig_fd);
	}
	teardown(&d);
	close(sig_fd);
	config_free(&d.cfg);
	return err ? 1 : 0;
}
