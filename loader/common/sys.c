// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Privileges, kernel features, bpffs and the pin directory lock. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common/log.h"
#include "common/sys.h"

#define BPFFS_ROOT "/sys/fs/bpf"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static int cap_effective(int cap)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2] = { 0 };

	if (syscall(SYS_capget, &hdr, data))
		return 0;
	return !!(data[cap / 32].effective & (1U << (cap % 32)));
}

/*
 * What brouterd needs, measured: without any one of these it cannot start
 * (or, without CAP_NET_RAW, bridges but drops every LAN host's global
 * source as spoofed). The kernel lets CAP_SYS_ADMIN stand in for CAP_BPF
 * and CAP_PERFMON (bpf_capable(), perfmon_capable()).
 */
static const struct {
	int cap;
	int or_sys_admin;
	const char *name;
	const char *why;
} needed_caps[] = {
	{ CAP_NET_ADMIN, 0, "CAP_NET_ADMIN",
	  "attach to the ports, promiscuous mode, nftables, routes" },
	{ CAP_BPF, 1, "CAP_BPF", "load BPF programs, create and pin maps" },
	{ CAP_PERFMON, 1, "CAP_PERFMON",
	  "the verifier accepts packet pointer arithmetic only with it" },
	{ CAP_NET_RAW, 0, "CAP_NET_RAW",
	  "the ICMPv6 socket that hears router advertisements on the WAN" },
};

int sys_check_privileges(void)
{
	int sys_admin = cap_effective(CAP_SYS_ADMIN), missing = 0;
	unsigned int i;

	for (i = 0; i < sizeof(needed_caps) / sizeof(needed_caps[0]); i++) {
		if (cap_effective(needed_caps[i].cap) ||
		    (needed_caps[i].or_sys_admin && sys_admin))
			continue;
		pr_err("missing capability %s (%s)", needed_caps[i].name,
		       needed_caps[i].why);
		missing++;
	}
	if (!missing)
		return 0;
	pr_err("must run as root or with CAP_NET_ADMIN, CAP_BPF, CAP_PERFMON and "
	       "CAP_NET_RAW");
	return -EPERM;
}

int sys_check_kernel(void)
{
	static const struct {
		enum bpf_map_type type;
		const char *name;
	} maps[] = {
		{ BPF_MAP_TYPE_DEVMAP, "devmap" },
		{ BPF_MAP_TYPE_LRU_HASH, "LRU hash" },
		{ BPF_MAP_TYPE_PERCPU_ARRAY, "per-CPU array" },
	};
	unsigned int i;

	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		pr_err("kernel has no BTF (/sys/kernel/btf/vmlinux missing): "
		       "brouter needs CONFIG_DEBUG_INFO_BTF=y");
		return -ENOTSUP;
	}
	if (libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_XDP, NULL) != 1 ||
	    libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_SCHED_CLS, NULL) != 1) {
		pr_err("kernel cannot load XDP and tc BPF programs");
		return -ENOTSUP;
	}
	for (i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		if (libbpf_probe_bpf_map_type(maps[i].type, NULL) != 1) {
			pr_err("kernel lacks BPF %s maps", maps[i].name);
			return -ENOTSUP;
		}
	}
	return 0;
}

static int is_bpffs(const char *path)
{
	struct statfs st;

	return !statfs(path, &st) && st.f_type == BPF_FS_MAGIC;
}

int sys_ensure_bpffs(const char *pin_dir)
{
	char parent[PATH_MAX];
	char *slash;

	snprintf(parent, sizeof(parent), "%s", pin_dir);
	slash = strrchr(parent, '/');
	if (slash && slash != parent)
		*slash = '\0';
	if (is_bpffs(parent))
		return 0;
	if (strncmp(pin_dir, BPFFS_ROOT "/", strlen(BPFFS_ROOT) + 1)) {
		pr_err("pin dir %s: %s is not on a bpf filesystem", pin_dir, parent);
		return -EINVAL;
	}
	/*
	 * `ip netns exec` and fresh containers give a /sys without the
	 * host's bpffs: mount one so pins have somewhere to live.
	 */
	if (mount("bpf", BPFFS_ROOT, "bpf", 0, "mode=0700")) {
		int err = errno;

		pr_err("mount bpffs on %s: %s%s", BPFFS_ROOT, strerror(err),
		       err == EPERM
			       ? " (mounting needs CAP_SYS_ADMIN: mount it "
				 "before brouterd starts, as systemd does)"
			       : "");
		return -err;
	}
	pr_info("mounted bpffs on %s", BPFFS_ROOT);
	if (!is_bpffs(parent)) {
		pr_err("pin dir %s: %s is not on a bpf filesystem", pin_dir, parent);
		return -EINVAL;
	}
	return 0;
}

int sys_lock_pin_dir(const char *pin_dir)
{
	int fd;

	if (mkdir(pin_dir, 0700) && errno != EEXIST) {
		pr_err("create pin dir %s: %s", pin_dir, strerror(errno));
		return -errno;
	}
	fd = open(pin_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		pr_err("open pin dir %s: %s", pin_dir, strerror(errno));
		return -errno;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		int err = errno;

		close(fd);
		if (err == EWOULDBLOCK) {
			pr_err("already running: pin dir %s is locked by another brouterd",
			       pin_dir);
			return -EBUSY;
		}
		pr_err("lock pin dir %s: %s", pin_dir, strerror(err));
		return -err;
	}
	return fd;
}
