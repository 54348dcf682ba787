// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Loading brouter's BPF objects, sharing their maps, and the pins they leave. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common/log.h"
#include "common/mono.h"
#include "daemon/brouterd.h"
#include "xdp_brouter.skel.h"
#include "tc_ingress.skel.h"
#include "tc_egress.skel.h"

/*
 * The IPv4 fast path's cache: sets of two 64-byte entries per CPU, 64k
 * entries (4 MB) each by default, fewer on machines of many CPUs. It is
 * made whether the fast path is on or not, so a reload can turn it on.
 */
#define BR_FP4_SETS	 (1U << 15)
#define BR_FP4_MIN_SETS	 (1U << 10)
#define BR_FP4_BUDGET	 (256ULL << 20)
#define BR_FP4_SET_BYTES 128

/*
 * Maps pinned by an earlier brouter whose layout no longer matches make
 * the load fail; they hold nothing worth keeping then, so start afresh.
 */
void unpin_all(struct bpf_object *obj)
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
void drop_incompatible_state(const char *pin_dir, struct br_info *prev)
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

/*
 * The pinned "info": who runs, and what it must undo on each port. Again
 * whenever that changes (a port gone or back); the start time stays.
 */
int info_write(struct brouterd *d)
{
	struct br_info info = { .layout = BR_LAYOUT_VERSION, .pid = getpid() },
		       was;
	__u32 zero = 0;
	int p;

	for (p = 0; p < BR_NPORTS; p++) {
		info.ifindex[p] = d->ps[p].gone ? 0 : d->port[p].ifindex;
		info.promisc_set[p] = d->promisc_before[p] == 0;
		info.clsact_created[p] = d->port[p].tc_created_hook;
	}
	info.started_ns = mono_ns();
	if (!bpf_map__lookup_elem(d->xdp->maps.info, &zero, sizeof(zero), &was,
				  sizeof(was), 0) &&
	    was.pid == info.pid)
		info.started_ns = was.started_ns;
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

/*
 * Each CPU reassembles the 4in6 fragments it receives in slots of its own
 * (bpf/tun/reasm.h); their memory is taken at load, tunnel or not, since
 * a reload may add one.
 */
static int reasm_size(struct brouterd *d, int ncpus)
{
	struct bpf_map *map = d->xdp->maps.reasm;
	__u64 bytes = (__u64)bpf_map__value_size(map) * BR_REASM_SLOTS * ncpus;

	pr_info("4in6 reassembly: %d datagrams of up to %d bytes per CPU, "
		"%d CPUs, %llu KB",
		BR_REASM_SLOTS, BR_REASM_MAX, ncpus, bytes >> 10);
	return bpf_map__set_max_entries(map, BR_REASM_SLOTS * ncpus);
}

/*
 * Give @obj the maps of @owner that share their names (bpf/maps.h lists
 * every map in every object): each table then exists once, created and
 * pinned by @owner's load, whatever size brouterd gave it there.
 */
int objects_share_maps(struct bpf_object *owner, struct bpf_object *obj)
{
	struct bpf_map *map, *own;
	int err;

	bpf_object__for_each_map(map, obj) {
		if (bpf_map__is_internal(map))
			continue; /* .rodata: each object's own consts */
		own = bpf_object__find_map_by_name(owner, bpf_map__name(map));
		if (!own)
			continue;
		err = bpf_map__set_pin_path(map, NULL) ?:
		      bpf_map__reuse_fd(map, bpf_map__fd(own));
		if (err) {
			pr_err("share map %s: %s", bpf_map__name(map), strerror(-err));
			return err;
		}
	}
	return 0;
}

/*
 * Load the XDP object: through libxdp, which loads it as it attaches it
 * to the LAN port's dispatcher, or as a plain program for a link. In
 * auto mode a dispatcher libxdp cannot run (-EOPNOTSUPP: no freplace,
 * no BTF, no bpffs; -ENOENT: no xdp-dispatcher.o) is logged and a link
 * used: -EAGAIN asks for the objects to be opened afresh for that.
 */
static int xdp_load(struct brouterd *d)
{
	struct bpf_program *prog = d->xdp->progs.xdp_brouter;
	int err;

	if (d->attach == BR_XDP_ATTACH_LINK)
		return xdp_brouter__load(d->xdp);
	err = dispatch_load(d);
	if (d->cfg.opt.xdp_attach != BR_XDP_ATTACH_AUTO ||
	    (err != -EOPNOTSUPP && err != -ENOENT))
		return err;
	pr_info("libxdp cannot run its dispatcher here (%s); attaching XDP with "
		"a BPF link instead: no other XDP program can share the ports "
		"(-vv shows libxdp's reasons)",
		strerror(-err));
	d->attach = BR_XDP_ATTACH_LINK;
	dispatch_close(d);
	/* libxdp's own fallback loads a plain XDP program: a link takes it */
	if (bpf_program__fd(prog) >= 0 &&
	    bpf_program__type(prog) == BPF_PROG_TYPE_XDP)
		return 0;
	return -EAGAIN;
}

/*
 * Verify @obj's programs as CPUs without efficient unaligned access
 * (MIPS, some ARM: home routers) would: there the verifier always
 * enforces alignment, elsewhere only with this flag. The programs run
 * the same either way; the flag only makes every box refuse what one of
 * them would.
 */
void object_strict_alignment(struct bpf_object *obj)
{
	struct bpf_program *prog;

	bpf_object__for_each_program (prog, obj)
		bpf_program__set_flags(prog, bpf_program__flags(prog) |
						     BPF_F_STRICT_ALIGNMENT);
}

void br_objs_destroy(struct br_objs *o)
{
	tc_egress__destroy(o->te);
	tc_ingress__destroy(o->tc);
	xdp_brouter__destroy(o->xdp);
	memset(o, 0, sizeof(*o));
}

/* Open the three objects, the ports' current ifindexes in their consts. */
static int objects_open(struct brouterd *d, struct br_objs *o)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = d->cfg.opt.pin_dir);
	int p, err;

	o->xdp = xdp_brouter__open_opts(&oo);
	o->tc = tc_ingress__open_opts(NULL);
	o->te = tc_egress__open_opts(NULL);
	if (!o->xdp || !o->tc || !o->te) {
		err = -errno;
		pr_err("open BPF objects: %s", strerror(-err));
		br_objs_destroy(o);
		return err;
	}
	object_strict_alignment(o->xdp->obj);
	object_strict_alignment(o->tc->obj);
	object_strict_alignment(o->te->obj);
	for (p = 0; p < BR_NPORTS; p++) {
		o->xdp->rodata->consts.ifindex[p] = d->port[p].ifindex;
		o->tc->rodata->consts.ifindex[p] = d->port[p].ifindex;
		o->te->rodata->consts.ifindex[p] = d->port[p].ifindex;
	}
	o->xdp->rodata->consts.owner_pid = getpid();
	return 0;
}

/* The running objects, as one. */
static struct br_objs objs_of(struct brouterd *d)
{
	return (struct br_objs){ .xdp = d->xdp, .tc = d->tc, .te = d->te };
}

void objects_destroy(struct brouterd *d)
{
	struct br_objs o = objs_of(d);

	br_objs_destroy(&o);
	d->xdp = NULL;
	d->tc = NULL;
	d->te = NULL;
}

/* The fast path cache's size (consts.fp4_bits, the map's entries). */
static int fp4_cache_size(struct brouterd *d, int ncpus)
{
	__u32 n = BR_FP4_SETS;

	while (n > BR_FP4_MIN_SETS &&
	       (__u64)n * BR_FP4_SET_BYTES * ncpus > BR_FP4_BUDGET)
		n /= 2;
	d->xdp->rodata->consts.fp4_bits = __builtin_ctz(n);
	return bpf_map__set_max_entries(d->xdp->maps.fp4_cache, n * ncpus);
}

/* The tc objects, with the maps the XDP object created. */
static int tc_load(struct brouterd *d)
{
	return objects_share_maps(d->xdp->obj, d->tc->obj) ?:
	       tc_ingress__load(d->tc) ?:
	       objects_share_maps(d->xdp->obj, d->te->obj) ?:
	       tc_egress__load(d->te);
}

int load_programs(struct brouterd *d)
{
	int err, ncpus, retried = 0;
	struct br_objs o;
	__u32 fc_sets;

	/* a bad size is the configuration's fault: no retry below */
	err = flow_cache_sets(d, &fc_sets, &ncpus);
	if (err)
		return err;
	d->attach = d->cfg.opt.xdp_attach == BR_XDP_ATTACH_LINK
			    ? BR_XDP_ATTACH_LINK
			    : BR_XDP_ATTACH_LIBXDP;
again:
	err = objects_open(d, &o);
	if (err)
		return err;
	d->xdp = o.xdp;
	d->tc = o.tc;
	d->te = o.te;
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
	if (!err)
		err = reasm_size(d, ncpus) ?: fp4_cache_size(d, ncpus);
	/* XDP first: it creates and pins the maps the tc object shares. */
	if (!err)
		err = xdp_load(d);
	if (err == -EAGAIN) {
		objects_destroy(d);
		goto again; /* d->attach is LINK now */
	}
	if (!err)
		err = tc_load(d);
	if (err && err != -EBUSY && err != -EEXIST && !retried) {
		pr_warn("load failed (%s); removing maps pinned in %s by an older "
			"brouter and retrying", strerror(-err), d->cfg.opt.pin_dir);
		xdp_detach_all(d);
		unpin_all(d->xdp->obj);
		objects_destroy(d);
		retried = 1;
		goto again;
	}
	if (err == -EBUSY || err == -EEXIST)
		return err; /* a port in use: said so already */
	if (err) {
		pr_err("load BPF programs: %s (run with -vvv for the verifier log)",
		       strerror(-err));
		return err;
	}
	return 0;
}

/*
 * The objects again, opened but not loaded, for ports whose ifindexes
 * changed: those are rodata (what the verifier and the JIT fold into
 * every packet's path), the rest of the consts as running, and every map
 * of the running objects shared (flows, FDB, settings, counters, caches,
 * the drop log). 0, or -errno (logged).
 */
int programs_reopen(struct brouterd *d, struct br_objs *o)
{
	int p, err;

	err = objects_open(d, o);
	if (err)
		return err;
	o->xdp->rodata->consts = d->xdp->rodata->consts;
	o->tc->rodata->consts = d->tc->rodata->consts;
	o->te->rodata->consts = d->te->rodata->consts;
	for (p = 0; p < BR_NPORTS; p++) {
		o->xdp->rodata->consts.ifindex[p] = d->port[p].ifindex;
		o->tc->rodata->consts.ifindex[p] = d->port[p].ifindex;
		o->te->rodata->consts.ifindex[p] = d->port[p].ifindex;
	}
	err = objects_share_maps(d->xdp->obj, o->xdp->obj) ?:
	      objects_share_maps(d->xdp->obj, o->tc->obj) ?:
	      objects_share_maps(d->xdp->obj, o->te->obj);
	if (err)
		br_objs_destroy(o);
	return err;
}

/*
 * --keep-state: leave every pinned map except the devmap (which holds
 * ifindexes, not state) for the next brouterd, and mark the pins as
 * having no running owner.
 */
void keep_state(struct brouterd *d)
{
	struct br_info info = { .layout = BR_LAYOUT_VERSION };
	__u32 zero = 0;

	bpf_map__unpin(d->xdp->maps.tx_ports, NULL);
	bpf_map__update_elem(d->xdp->maps.info, &zero, sizeof(zero), &info,
			     sizeof(info), BPF_ANY);
	pr_info("state kept in %s for the next brouterd", d->cfg.opt.pin_dir);
}
