// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * brouter's XDP program through libxdp's multi-program dispatcher, so
 * that other libxdp programs (xdp-filter, an operator's own) share the
 * ports, in the order of their run priorities. libxdp loads the program
 * as an freplace extension of the first port's dispatcher and links the
 * same program into the second's; both dispatchers and the links are
 * pinned under /sys/fs/bpf/xdp, so they outlive brouterd if it is killed:
 * the next brouterd removes what a dead one left (its pid is in the
 * program's rodata) and refuses a port whose brouterd still runs.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <xdp/libxdp.h>

#include "common/log.h"
#include "daemon/brouterd.h"
#include "xdp_brouter.skel.h"

#define BR_PROG_NAME "xdp_brouter"

/* libxdp one level lower than ours, as libbpf (common/log.c). */
static int libxdp_print(enum libxdp_print_level level, const char *fmt,
			va_list ap)
{
	if (BR_LOG_DEBUG + (int)level - LIBXDP_WARN > br_log_level)
		return 0;
	fprintf(stderr, "%s: libxdp: ", br_prog_name);
	return vfprintf(stderr, fmt, ap);
}

/* Offset of the variable @var in the DATASEC @sec_id of @btf, or -1. */
static long datasec_offset(const struct btf *btf, __u32 sec_id, const char *var)
{
	const struct btf_type *sec = btf__type_by_id(btf, sec_id), *v;
	const struct btf_var_secinfo *vi;
	int i;

	if (!sec || !btf_is_datasec(sec))
		return -1;
	vi = btf_var_secinfos(sec);
	for (i = 0; i < btf_vlen(sec); i++, vi++) {
		v = btf__type_by_id(btf, vi->type);
		if (v && !strcmp(btf__name_by_offset(btf, v->name_off), var))
			return vi->offset;
	}
	return -1;
}

/* consts.owner_pid of the rodata map @map_fd of an xdp_brouter, or 0. */
static __u32 rodata_owner(int map_fd)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info), zero = 0, pid = 0;
	unsigned char val[4096];
	struct btf *btf;
	long off;

	if (bpf_obj_get_info_by_fd(map_fd, &info, &len) || !info.btf_id ||
	    !strstr(info.name, ".rodata") || info.value_size > sizeof(val) ||
	    bpf_map_lookup_elem(map_fd, &zero, val))
		return 0;
	btf = btf__load_from_kernel_by_id(info.btf_id);
	if (!btf)
		return 0;
	off = datasec_offset(btf, info.btf_value_type_id, "consts");
	if (off >= 0 &&
	    off + offsetof(struct br_consts, owner_pid) + 4 <= info.value_size)
		memcpy(&pid, val + off + offsetof(struct br_consts, owner_pid),
		       4);
	btf__free(btf);
	return pid;
}

/* The brouterd that loaded program @prog_id, read from its rodata; 0 if unknown. */
static __u32 owner_of(__u32 prog_id)
{
	__u32 ids[64], len, i, pid = 0;
	struct bpf_prog_info info;
	int fd, map;

	fd = bpf_prog_get_fd_by_id(prog_id);
	if (fd < 0)
		return 0;
	memset(&info, 0, sizeof(info));
	info.nr_map_ids = 64;
	info.map_ids = (__u64)(unsigned long)ids;
	len = sizeof(info);
	if (!bpf_obj_get_info_by_fd(fd, &info, &len))
		for (i = 0; i < info.nr_map_ids && i < 64 && !pid; i++) {
			map = bpf_map_get_fd_by_id(ids[i]);
			if (map < 0)
				continue;
			pid = rodata_owner(map);
			close(map);
		}
	close(fd);
	return pid;
}

/*
 * Remove from @pa's dispatcher the brouter programs whose brouterd is
 * gone; -EBUSY if one whose brouterd runs is there.
 */
static int clear_stale(struct br_port_attach *pa)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(pa->ifindex);
	struct xdp_program *p = NULL;
	enum xdp_attach_mode mode;
	__u32 pid;
	int err = 0;

	if (libxdp_get_error(mp) || !mp || xdp_multiprog__is_legacy(mp)) {
		xdp_multiprog__close(libxdp_get_error(mp) ? NULL : mp);
		return 0; /* nothing, or not a dispatcher: attach says what */
	}
	mode = xdp_multiprog__attach_mode(mp);
	while (!err && (p = xdp_multiprog__next_prog(p, mp))) {
		if (strcmp(xdp_program__name(p), BR_PROG_NAME))
			continue;
		pid = owner_of(xdp_program__id(p));
		if (pid && (pid == (__u32)getpid() || !kill(pid, 0) ||
			    errno != ESRCH)) {
			pr_err("%s: brouterd (pid %u) runs XDP on this port",
			       pa->ifname, pid);
			err = -EBUSY;
		} else if (!xdp_program__detach(p, pa->ifindex, mode, 0)) {
			pr_info("%s: removed the XDP program of a brouterd that is gone "
				"(pid %u)",
				pa->ifname, pid);
		}
	}
	xdp_multiprog__close(mp);
	return err;
}

/*
 * libxdp falls back by itself to attaching a lone program without a
 * dispatcher (netlink, not removed when brouterd dies) when the kernel
 * cannot run one: is what runs on @pa our own program rather than a
 * dispatcher? Asked by ids through netlink and our own fd, since looking
 * at libxdp's dispatcher needs CAP_SYS_ADMIN (program fds by id).
 */
static int is_ours_alone(struct brouterd *d, struct br_port_attach *pa,
			 __u32 flags)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info), id = 0;
	int fd = bpf_program__fd(d->xdp->progs.xdp_brouter);

	if (bpf_xdp_query_id(pa->ifindex, flags, &id) || !id ||
	    bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.id == id;
}

/* Take that lone program off @pa again, by netlink, as it was attached. */
static void detach_alone(struct brouterd *d, struct br_port_attach *pa,
			 __u32 flags)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, opts,
		    .old_prog_fd = bpf_program__fd(d->xdp->progs.xdp_brouter));

	if (bpf_xdp_detach(pa->ifindex, flags | XDP_FLAGS_REPLACE, &opts))
		pr_warn("%s: remove the program libxdp attached without a "
			"dispatcher: %s",
			pa->ifname, strerror(errno));
}

static const char *mode_name(enum xdp_attach_mode m)
{
	return m == XDP_MODE_SKB ? "generic" : "native";
}

/* Attach through the dispatcher, native first as @want says. */
int dispatch_attach(struct brouterd *d, struct br_port_attach *pa)
{
	enum br_xdp_mode want = d->cfg.opt.xdp_mode;
	enum xdp_attach_mode m = want == BR_XDP_GENERIC ? XDP_MODE_SKB
							: XDP_MODE_NATIVE;
	__u32 flags;
	int err;

	err = xdp_program__attach(d->xprog, pa->ifindex, m, 0);
	if (err && want == BR_XDP_AUTO && err != -EBUSY && err != -EEXIST) {
		pr_warn("attach XDP to %s: %s (native mode); retrying in generic "
			"mode, which is much slower",
			pa->ifname, strerror(-err));
		m = XDP_MODE_SKB;
		err = xdp_program__attach(d->xprog, pa->ifindex, m, 0);
	}
	if (err) {
		xdp_attach_error(pa, mode_name(m), err);
		return err;
	}
	flags = m == XDP_MODE_SKB ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
	if (is_ours_alone(d, pa, flags)) {
		/* not what sharing needs: the caller decides (a link, or fail) */
		detach_alone(d, pa, flags);
		return -EOPNOTSUPP;
	}
	pa->xdp_mode = m;
	pa->xdp_generic = m == XDP_MODE_SKB;
	pr_info("%s: XDP attached in %s mode through libxdp's dispatcher",
		pa->ifname, mode_name(m));
	return 0;
}

void dispatch_detach(struct brouterd *d, struct br_port_attach *pa)
{
	int err;

	if (!pa->xdp_mode)
		return;
	/* only our program: the dispatcher is rebuilt without it */
	err = xdp_program__detach(d->xprog, pa->ifindex, pa->xdp_mode, 0);
	if (err && err != -ENOENT)
		pr_warn("%s: detach XDP through libxdp: %s", pa->ifname,
			strerror(-err));
	pa->xdp_mode = 0;
	pr_debug("%s: XDP detached", pa->ifname);
}

/*
 * Load the XDP object by attaching it to the LAN port: libxdp loads it
 * as an extension of that port's dispatcher. -EOPNOTSUPP when libxdp
 * cannot run a dispatcher here (the caller may attach with a link).
 */
int dispatch_load(struct brouterd *d)
{
	int p, err;

	libxdp_set_print(libxdp_print);
	for (p = 0; p < BR_NPORTS; p++) {
		err = clear_stale(&d->port[p]);
		if (err)
			return err;
	}
	d->xprog = xdp_program__from_bpf_obj(d->xdp->obj, NULL);
	err = libxdp_get_error(d->xprog);
	if (err) {
		d->xprog = NULL;
		pr_err("libxdp: %s", strerror(-err));
		return err;
	}
	return dispatch_attach(d, &d->port[BR_PORT_LAN]);
}

void dispatch_close(struct brouterd *d)
{
	xdp_program__close(d->xprog);
	d->xprog = NULL;
}
