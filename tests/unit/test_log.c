// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Log lines as they reach stderr: plain, or with <N> priorities when stderr is the journal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "common/log.h"

static char path[] = "/tmp/brouter-test-log-XXXXXX";

/*
 * Log a few lines with stderr pointing at a fresh file and
 * JOURNAL_STREAM naming that file (@journal) or another one; return what
 * reached the file.
 */
static char *capture(int journal)
{
	static char out[4096];
	struct stat st;
	char js[64];
	int fd, saved;
	ssize_t n;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino + (journal ? 0 : 1));
	setenv("JOURNAL_STREAM", js, 1);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	br_log_syslog(0); /* detect the target again */
	br_log_level = BR_LOG_DEBUG;
	pr_err("no such interface: %s", "eth9");
	pr_warn("generic mode");
	pr_info("ready");
	pr_debug("two\nlines");
	br_log_level = BR_LOG_INFO;
	pr_debug("not shown");
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	n = pread(fd, out, sizeof(out) - 1, 0);
	assert_true(n >= 0);
	out[n] = '\0';
	close(fd);
	unlink(path);
	strcpy(path + strlen(path) - 6, "XXXXXX");
	unsetenv("JOURNAL_STREAM");
	return out;
}

/*
 * Under the journal every line has its priority; on a stderr that is not
 * the stream systemd connected (redirected since) lines are plain.
 */
static void priorities_only_for_the_journal(void **state)
{
	static const struct {
		int journal;
		const char *want;
	} cases[] = {
		{ 1, "<3>no such interface: eth9\n<4>generic mode\n<6>ready\n"
		     "<7>two\n<7>lines\n" },
		{ 0, "test: error: no such interface: eth9\n"
		     "test: warning: generic mode\ntest: ready\n"
		     "test: debug: two\ntest: debug: lines\n" },
	};
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(capture(cases[i].journal), cases[i].want);
}

static void journal_stream_parsing(void **state)
{
	static const char *const bad[] = { "",	    "1",   "1:",  ":1",
					   "1:2:3", "a:b", "1:2x" };
	unsigned int i;

	(void)state;
	unsetenv("JOURNAL_STREAM");
	assert_int_equal(br_log_stderr_is_journal(), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setenv("JOURNAL_STREAM", bad[i], 1);
		assert_int_equal(br_log_stderr_is_journal(), 0);
	}
	unsetenv("JOURNAL_STREAM");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(priorities_only_for_the_journal),
		cmocka_unit_test(journal_stream_parsing),
	};

	br_prog_name = "test";
	return cmocka_run_group_tests(tests, NULL, NULL);
}
