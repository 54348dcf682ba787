/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What brouterd needs of the system: privileges, kernel features, bpffs, the pin dir lock. */
#ifndef BR_SYS_H
#define BR_SYS_H

/* Privileges brouterd needs: -EPERM with a message when missing. */
int sys_check_privileges(void);

/* Kernel features brouter relies on: BTF, XDP, devmap, LRU hash. */
int sys_check_kernel(void);

/* Mount bpffs on /sys/fs/bpf when @pin_dir lives there and it is not mounted. */
int sys_ensure_bpffs(const char *pin_dir);

/* Create @pin_dir and take an exclusive lock on it. Returns the fd or -errno. */
int sys_lock_pin_dir(const char *pin_dir);

#endif /* BR_SYS_H */
