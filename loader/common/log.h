/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef BR_LOG_H
#define BR_LOG_H

enum br_log_level {
	BR_LOG_ERR = 0,
	BR_LOG_WARN = 1,
	BR_LOG_INFO = 2,
	BR_LOG_DEBUG = 3,
};

extern int br_log_level;
extern const char *br_prog_name;

void br_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void br_log_libbpf_setup(void);

#define pr_err(...) br_log(BR_LOG_ERR, __VA_ARGS__)
#define pr_warn(...) br_log(BR_LOG_WARN, __VA_ARGS__)
#define pr_info(...) br_log(BR_LOG_INFO, __VA_ARGS__)
#define pr_debug(...) br_log(BR_LOG_DEBUG, __VA_ARGS__)

#endif /* BR_LOG_H */
