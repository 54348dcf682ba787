// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Logging to stderr, to the journal through stderr with <N> priorities,
 * or to syslog; libbpf's own messages one level lower.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/libbpf.h>

#include "common/log.h"

int br_log_level = BR_LOG_INFO;
const char *br_prog_name = "brouter";

enum log_target {
	LOG_TO_UNKNOWN,
	LOG_TO_STDERR,
	LOG_TO_JOURNAL,
	LOG_TO_SYSLOG
};

static enum log_target target;

static const char *const level_tag[] = {
	[BR_LOG_ERR] = "error: ",
	[BR_LOG_WARN] = "warning: ",
	[BR_LOG_INFO] = "",
	[BR_LOG_DEBUG] = "debug: ",
};

static const int syslog_prio[] = {
	[BR_LOG_ERR] = LOG_ERR,
	[BR_LOG_WARN] = LOG_WARNING,
	[BR_LOG_INFO] = LOG_INFO,
	[BR_LOG_DEBUG] = LOG_DEBUG,
};

int br_log_stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char extra;

	/*
	 * systemd sets JOURNAL_STREAM=DEV:INODE of the stream it connected;
	 * stderr redirected since (a pipe to a pager, a file) no longer
	 * matches, and then the <N> prefixes would only be noise.
	 */
	if (!js || sscanf(js, "%llu:%llu%c", &dev, &ino, &extra) != 2 ||
	    fstat(STDERR_FILENO, &st))
		return 0;
	return st.st_dev == dev && st.st_ino == ino;
}

static enum log_target log_target(void)
{
	if (target == LOG_TO_UNKNOWN)
		target = br_log_stderr_is_journal() ? LOG_TO_JOURNAL
						    : LOG_TO_STDERR;
	return target;
}

void br_log_syslog(int on)
{
	if (on && target != LOG_TO_SYSLOG) {
		openlog(br_prog_name, LOG_PID, LOG_DAEMON);
		target = LOG_TO_SYSLOG;
	} else if (!on) {
		if (target == LOG_TO_SYSLOG)
			closelog();
		target =
			LOG_TO_UNKNOWN; /* stderr: the journal or not, seen anew */
	}
}

/*
 * One record per line: journald and syslog take a line as a message, so
 * a libbpf verifier log keeps its priority on every line.
 */
static void emit_line(int level, const char *tag, const char *line, int len)
{
	int prio = syslog_prio[level > BR_LOG_DEBUG ? BR_LOG_DEBUG : level];

	switch (log_target()) {
	case LOG_TO_SYSLOG:
		syslog(prio, "%.*s", len, line);
		break;
	case LOG_TO_JOURNAL:
		/* sd-daemon(3): "<N>" opens the line, the journal adds the name */
		fprintf(stderr, "<%d>%.*s\n", prio, len, line);
		break;
	default:
		fprintf(stderr, "%s: %s%.*s\n", br_prog_name, tag, len, line);
	}
}

static void emit(int level, const char *tag, const char *fmt, va_list ap)
{
	char *text, *p, *nl;

	if (vasprintf(&text, fmt, ap) < 0)
		return;
	for (p = text; *p; p = nl + 1) {
		nl = strchrnul(p, '\n');
		emit_line(level, tag, p, nl - p);
		if (!*nl)
			break;
	}
	free(text);
}

void br_log(int level, const char *fmt, ...)
{
	va_list ap;

	if (level > br_log_level)
		return;
	va_start(ap, fmt);
	emit(level, level_tag[level], fmt, ap);
	va_end(ap);
}

/*
 * libbpf one level lower than ours: its warnings at -v, its info at -vv,
 * its debug (verifier logs) at -vvv. Our own errors already say what
 * failed; libbpf's detail is for digging.
 */
static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	int ours = BR_LOG_DEBUG + (int)level - LIBBPF_WARN;

	if (ours > br_log_level)
		return 0;
	emit(ours, "", fmt, ap);
	return 0;
}

void br_log_libbpf_setup(void)
{
	libbpf_set_print(libbpf_print);
}

int br_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}
