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

int attach_tc_ingress(struct br_port_attach *pa, int prog_fd)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = pa->ifindex,
		    .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = BR_TC_HANDLE,
		    .priority = BR_TC_PRIO, .prog_fd = prog_fd,
		    .flags = BPF_TC_F_REPLACE);
	int err;

	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST) {
		pr_err("%s: create clsact qdisc: %s", pa->ifname, strerror(-err));
		return err;
	}
	pa->tc_created_hook = !err;
	err = bpf_tc_attach(&hook, &opts);
	if (err) {
		pr_err("%s: attach tc ingress filter: %s", pa->ifname, strerror(-err));
		if (pa->tc_created_hook)
			bpf_tc_hook_destroy(&hook);
		pa->tc_created_hook = 0;
		return err;
	}
	pa->tc_attached = 1;
	pr_debug("%s: tc ingress filter attached", pa->ifname);
	return 0;
}

void detach_tc_ingress(struct br_port_attach *pa)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = pa->ifindex,
		    .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = BR_TC_HANDLE,
		    .priority = BR_TC_PRIO);
	int err;

	if (!pa->tc_attached)
		return;
	err = bpf_tc_detach(&hook, &opts);
	if (err && err != -ENOENT)
		pr_warn("%s: detach tc ingress filter: %s", pa->ifname, strerror(-err));
	pa->tc_attached = 0;
	if (pa->tc_created_hook) {
		/* Only a clsact qdisc we created; another tool's stays. */
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		err = bpf_tc_hook_destroy(&hook);
		if (err && err != -ENOENT)
			pr_warn("%s: remove clsact qdisc: %s", pa->ifname, strerror(-err));
		pa->tc_created_hook = 0;
	}
}

int attach_tc_egress(struct br_port_attach *pa, int prog_fd, int user)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = pa->ifindex,
		    .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = BR_TC_HANDLE,
		    .priority = BR_TC_PRIO, .prog_fd = prog_fd,
		    .flags = BPF_TC_F_REPLACE);
	int err;

	if (pa->tc_egress_users) {
		pa->tc_egress_users |= user;
		return 0;
	}
	err = bpf_tc_attach(&hook, &opts);
	if (err) {
		pr_err("%s: attach tc egress filter: %s", pa->ifname, strerror(-err));
		return err;
	}
	pa->tc_egress_users = user;
	pr_debug("%s: tc egress filter attached", pa->ifname);
	return 0;
}

static int tc_egress_remove(struct br_port_attach *pa)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = pa->ifindex,
		    .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = BR_TC_HANDLE,
		    .priority = BR_TC_PRIO);

	return bpf_tc_detach(&hook, &opts);
}

void detach_tc_egress(struct br_port_attach *pa, int user)
{
	int err;

	if (!(pa->tc_egress_users & user))
		return;
	pa->tc_egress_users &= ~user;
	if (pa->tc_egress_users)
		return;
	err = tc_egress_remove(pa);
	if (err && err != -ENOENT)
		pr_warn("%s: detach tc egress filter: %s", pa->ifname,
			strerror(-err));
	pr_debug("%s: tc egress filter detached", pa->ifname);
}

void detach_tc_egress_stale(struct br_port_attach *pa)
{
	/* -ENOENT/-EINVAL: nothing there, the usual case */
	if (!tc_egress_remove(pa))
		pr_info("%s: removed a tc egress filter left by an earlier brouterd",
			pa->ifname);
}
