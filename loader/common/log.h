/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Logging with levels (-v) to stderr, the journal (<N> priorities) or
 * syslog; libbpf's messages routed through it one level lower.
 */
#ifndef BR_LOG_H
#define BR_LOG_H

#include <stddef.h>

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

/*
 * Log through syslog(3) (facility daemon) when @on, else back to stderr.
 * On stderr, lines carry sd-daemon(3) "<N>" priority prefixes instead of
 * "PROG: level: " when stderr is the journal (br_log_stderr_is_journal()).
 */
void br_log_syslog(int on);

/* $JOURNAL_STREAM names the stream stderr is (systemd's StandardError=journal). */
int br_log_stderr_is_journal(void);

/*
 * A message for the caller to log, put in @err (@errlen bytes; NULL: no
 * message): for pure code that reports what is wrong without logging.
 * Returns -EINVAL.
 */
int br_errf(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define pr_err(...) br_log(BR_LOG_ERR, __VA_ARGS__)
#define pr_warn(...) br_log(BR_LOG_WARN, __VA_ARGS__)
#define pr_info(...) br_log(BR_LOG_INFO, __VA_ARGS__)
#define pr_debug(...) br_log(BR_LOG_DEBUG, __VA_ARGS__)

#endif /* BR_LOG_H */
