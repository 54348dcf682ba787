// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Attaching and detaching the XDP and tc programs on a port. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "daemon/attach.h"
#include "common/log.h"

/* cls_bpf filter identity: fixed, so a restart replaces a stale filter. */
#define BR_TC_HANDLE 0xb40
#define BR_TC_PRIO 0xb4

/* enum bpf_attach_type of Linux 6.6, newer than the headers libbpf 1.1 has */
#define BR_TCX_INGRESS 46
#define BR_TCX_EGRESS  47

enum { TC_IN, TC_OUT };

static const char *const tc_dir_name[] = { "ingress", "egress" };

static enum bpf_tc_attach_point tc_point(int dir)
{
	return dir == TC_IN ? BPF_TC_INGRESS : BPF_TC_EGRESS;
}

static int xdp_link_create(struct br_port_attach *pa, int prog_fd, __u32 flags)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = flags);
	int fd;

	fd = bpf_link_create(prog_fd, pa->ifindex, BPF_XDP, &opts);
	return fd < 0 ? -errno : fd;
}

/* Name of the XDP program attached to @ifindex, "" when none or unknown. */
static void attached_name(int ifindex, char *name, size_t len)
{
	struct bpf_prog_info info = { 0 };
	__u32 id = 0, ilen = sizeof(info);
	int fd;

	*name = '\0';
	if (bpf_xdp_query_id(ifindex, 0, &id) || !id)
		return;
	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return;
	if (!bpf_obj_get_info_by_fd(fd, &info, &ilen))
		snprintf(name, len, "%s", info.name);
	close(fd);
}

void xdp_attach_error(struct br_port_attach *pa, const char *mode, int err)
{
	char name[BPF_OBJ_NAME_LEN];

	if (err != -EBUSY && err != -EEXIST) {
		pr_err("attach XDP (%s) to %s: %s", mode, pa->ifname, strerror(-err));
		return;
	}
	attached_name(pa->ifindex, name, sizeof(name));
	pr_err("attach XDP (%s) to %s: the port already has an XDP program%s%s%s "
	       "(another brouterd, or a tool that did not attach it through "
	       "libxdp's dispatcher)",
	       mode, pa->ifname, *name ? " (" : "", name, *name ? ")" : "");
}

int attach_xdp(struct br_port_attach *pa, int prog_fd, enum br_xdp_mode mode)
{
	int fd = -EOPNOTSUPP;

	if (mode != BR_XDP_GENERIC) {
		fd = xdp_link_create(pa, prog_fd, XDP_FLAGS_DRV_MODE);
		if (fd >= 0)
			goto done;
		if (mode == BR_XDP_NATIVE || fd == -EBUSY || fd == -EEXIST) {
			xdp_attach_error(pa, "native", fd);
			return fd;
		}
		pr_warn("attach XDP to %s: %s (native mode); retrying in generic mode, "
			"which is much slower", pa->ifname, strerror(-fd));
	}
	fd = xdp_link_create(pa, prog_fd, XDP_FLAGS_SKB_MODE);
	if (fd < 0) {
		xdp_attach_error(pa, "generic", fd);
		return fd;
	}
	pa->xdp_generic = 1;
done:
	pa->xdp_link = fd;
	pr_info("%s: XDP attached in %s mode", pa->ifname,
		pa->xdp_generic ? "generic" : "native");
	return 0;
}

void detach_xdp(struct br_port_attach *pa)
{
	if (pa->xdp_link < 0)
		return;
	/* Closing the last reference to an XDP link detaches the program. */
	close(pa->xdp_link);
	pa->xdp_link = -1;
	pr_debug("%s: XDP detached", pa->ifname);
}

/*
 * Program @prog_fd on the port's tcx hook @dir: a new link appended
 * behind the programs there, or the link's program replaced.
 */
static int tcx_attach(struct br_port_attach *pa, int prog_fd, int dir)
{
	int fd, type = dir == TC_IN ? BR_TCX_INGRESS : BR_TCX_EGRESS;

	if (pa->tc_link[dir] >= 0) {
		if (bpf_link_update(pa->tc_link[dir], prog_fd, NULL))
			return -errno;
		return 0;
	}
	fd = bpf_link_create(prog_fd, pa->ifindex, type, NULL);
	if (fd < 0)
		return -errno;
	pa->tc_link[dir] = fd;
	return 0;
}

static void tcx_detach(struct br_port_attach *pa, int dir)
{
	if (pa->tc_link[dir] < 0)
		return;
	/* the last reference to a tcx link gone, the program leaves the hook */
	close(pa->tc_link[dir]);
	pa->tc_link[dir] = -1;
}

/* Program @prog_fd as our cls_bpf filter on the port's clsact @point. */
static int clsact_filter_attach(struct br_port_attach *pa,
				enum bpf_tc_attach_point point, int prog_fd)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = pa->ifindex,
		    .attach_point = point);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = BR_TC_HANDLE,
		    .priority = BR_TC_PRIO, .prog_fd = prog_fd,
		    .flags = BPF_TC_F_REPLACE);

	return bpf_tc_attach(&hook, &opts);
}

/* Our cls_bpf filter off @point (one a killed brouterd left, too). */
static int clsact_filter_remove(struct br_port_attach *pa,
				enum bpf_tc_attach_point point)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = pa->ifindex,
		    .attach_point = point);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = BR_TC_HANDLE,
		    .priority = BR_TC_PRIO);

	return bpf_tc_detach(&hook, &opts);
}

/*
 * The first attach on a port decides how: a tcx link unless configured
 * otherwise; where the kernel refuses one and tc-attach is auto, clsact.
 * Returns 1 when attached by tcx, 0 when clsact is to be used, or a
 * negative error.
 */
static int tcx_try(struct br_port_attach *pa, int prog_fd)
{
	int err;

	if (pa->tc_how == BR_TC_ATTACH_CLSACT ||
	    pa->tc_want == BR_TC_ATTACH_CLSACT) {
		pa->tc_how = BR_TC_ATTACH_CLSACT;
		return 0;
	}
	err = tcx_attach(pa, prog_fd, TC_IN);
	if (!err) {
		if (pa->tc_how != BR_TC_ATTACH_TCX) {
			pa->tc_how = BR_TC_ATTACH_TCX;
			pr_debug("%s: tc programs attached with tcx links",
				 pa->ifname);
		}
		pa->tc_attached = 1;
		/* a filter of ours that an earlier brouterd on clsact left behind */
		if (!clsact_filter_remove(pa, BPF_TC_INGRESS))
			pr_info("%s: removed a tc ingress filter left by an "
				"earlier brouterd",
				pa->ifname);
		return 1;
	}
	if (pa->tc_want == BR_TC_ATTACH_TCX || pa->tc_how == BR_TC_ATTACH_TCX) {
		pr_err("%s: attach tc ingress with a tcx link: %s", pa->ifname,
		       strerror(-err));
		return err;
	}
	/* EINVAL: a kernel before 6.6, which knows no tcx attach type */
	pr_info("%s: tcx link refused (%s): tc programs go on a clsact qdisc",
		pa->ifname, strerror(-err));
	pa->tc_how = BR_TC_ATTACH_CLSACT;
	return 0;
}

/* A clsact qdisc brouterd created (here or, killed, before): removed. */
static void clsact_destroy(struct br_port_attach *pa)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = pa->ifindex,
		    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	int err;

	if (!pa->tc_created_hook)
		return;
	/* Only a clsact qdisc we created; another tool's stays. */
	err = bpf_tc_hook_destroy(&hook);
	if (err && err != -ENOENT)
		pr_warn("%s: remove clsact qdisc: %s", pa->ifname,
			strerror(-err));
	pa->tc_created_hook = 0;
}

int attach_tc_ingress(struct br_port_attach *pa, int prog_fd)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = pa->ifindex,
		    .attach_point = BPF_TC_INGRESS);
	int err;

	err = tcx_try(pa, prog_fd);
	if (err)
		return err < 0 ? err : 0;
	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST) {
		pr_err("%s: create clsact qdisc: %s", pa->ifname, strerror(-err));
		return err;
	}
	pa->tc_created_hook = !err;
	err = clsact_filter_attach(pa, BPF_TC_INGRESS, prog_fd);
	if (err) {
		pr_err("%s: attach tc ingress filter: %s", pa->ifname, strerror(-err));
		clsact_destroy(pa);
		return err;
	}
	pa->tc_attached = 1;
	pr_debug("%s: tc ingress filter attached", pa->ifname);
	return 0;
}

/* Our program off the port's tc hook @dir, however it was attached. */
static void tc_detach(struct br_port_attach *pa, int dir)
{
	int err;

	if (pa->tc_how == BR_TC_ATTACH_TCX) {
		tcx_detach(pa, dir);
		return;
	}
	err = clsact_filter_remove(pa, tc_point(dir));
	if (err && err != -ENOENT)
		pr_warn("%s: detach tc %s filter: %s", pa->ifname,
			tc_dir_name[dir], strerror(-err));
}

void detach_tc_ingress(struct br_port_attach *pa)
{
	if (!pa->tc_attached)
		return;
	pa->tc_attached = 0;
	tc_detach(pa, TC_IN);
	clsact_destroy(pa);
}

int attach_tc_egress(struct br_port_attach *pa, int prog_fd, int user)
{
	int err;

	if (pa->tc_egress_users) {
		pa->tc_egress_users |= user;
		return 0;
	}
	if (pa->tc_how == BR_TC_ATTACH_TCX)
		err = tcx_attach(pa, prog_fd, TC_OUT);
	else
		err = clsact_filter_attach(pa, BPF_TC_EGRESS, prog_fd);
	if (err) {
		pr_err("%s: attach tc egress (%s): %s", pa->ifname,
		       tc_attach_names[pa->tc_how], strerror(-err));
		return err;
	}
	pa->tc_egress_users = user;
	pr_debug("%s: tc egress attached", pa->ifname);
	return 0;
}

void detach_tc_egress(struct br_port_attach *pa, int user)
{
	if (!(pa->tc_egress_users & user))
		return;
	pa->tc_egress_users &= ~user;
	if (pa->tc_egress_users)
		return;
	tc_detach(pa, TC_OUT);
	pr_debug("%s: tc egress detached", pa->ifname);
}

void detach_tc_egress_stale(struct br_port_attach *pa)
{
	/* -ENOENT/-EINVAL: nothing there, the usual case */
	if (!clsact_filter_remove(pa, BPF_TC_EGRESS))
		pr_info("%s: removed a tc egress filter left by an earlier brouterd",
			pa->ifname);
}

void tc_forget(struct br_port_attach *pa)
{
	int dir;

	for (dir = TC_IN; dir <= TC_OUT; dir++)
		tcx_detach(pa, dir);
	pa->tc_attached = 0;
	pa->tc_created_hook = 0;
	pa->tc_egress_users = 0;
}
