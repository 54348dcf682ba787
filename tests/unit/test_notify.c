// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The readiness protocol: datagrams to $NOTIFY_SOCKET as a service manager receives them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "common/notify.h"

/* A service manager's end: bound at @name ("/path" or "@abstract"). */
static int manager_socket(const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len = offsetof(struct sockaddr_un, sun_path) + strlen(name);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memcpy(sa.sun_path, name, strlen(name));
	if (name[0] == '@')
		sa.sun_path[0] = '\0';
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, len), 0);
	return fd;
}

static void receive(int fd, char *buf, size_t len)
{
	ssize_t n = recv(fd, buf, len - 1, MSG_DONTWAIT);

	assert_true(n > 0);
	buf[n] = '\0';
}

static void path_socket(void **state)
{
	char dir[] = "/tmp/brouter-test-notify-XXXXXX", path[64], buf[256];
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/notify", dir);
	fd = manager_socket(path);
	setenv("NOTIFY_SOCKET", path, 1);
	assert_int_equal(notify_ready("bridging a and b"), 1);
	receive(fd, buf, sizeof(buf));
	assert_string_equal(buf, "READY=1\nSTATUS=bridging a and b");
	assert_int_equal(notify_stopping(), 1);
	receive(fd, buf, sizeof(buf));
	assert_string_equal(buf, "STOPPING=1");
	/* the variable stays for the next message (no unset_environment) */
	assert_string_equal(getenv("NOTIFY_SOCKET"), path);
	close(fd);
	unlink(path);
	rmdir(dir);
}

static void abstract_socket(void **state)
{
	char name[64], buf[256];
	int fd;

	(void)state;
	snprintf(name, sizeof(name), "@brouter-test-notify-%d", getpid());
	fd = manager_socket(name);
	setenv("NOTIFY_SOCKET", name, 1);
	assert_int_equal(notify_send("READY=1"), 1);
	receive(fd, buf, sizeof(buf));
	assert_string_equal(buf, "READY=1");
	close(fd);
}

/* systemd >= 253 wants the time of the reload with RELOADING=1. */
static void reloading_carries_monotonic_usec(void **state)
{
	char name[64], buf[256];
	unsigned long long usec, before, after;
	struct timespec ts;
	int fd;

	(void)state;
	snprintf(name, sizeof(name), "@brouter-test-reload-%d", getpid());
	fd = manager_socket(name);
	setenv("NOTIFY_SOCKET", name, 1);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	before = ts.tv_sec * 1000000ULL + ts.tv_nsec / 1000;
	assert_int_equal(notify_reloading(), 1);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	after = ts.tv_sec * 1000000ULL + ts.tv_nsec / 1000;
	receive(fd, buf, sizeof(buf));
	assert_int_equal(sscanf(buf, "RELOADING=1\nMONOTONIC_USEC=%llu", &usec),
			 1);
	assert_true(usec >= before && usec <= after);
	close(fd);
}

static void no_manager_or_bad_address(void **state)
{
	char longpath[200];

	(void)state;
	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(notify_send("READY=1"), 0);
	setenv("NOTIFY_SOCKET", "", 1);
	assert_int_equal(notify_send("READY=1"), 0);
	setenv("NOTIFY_SOCKET", "relative/path", 1);
	assert_int_equal(notify_send("READY=1"), -EINVAL);
	setenv("NOTIFY_SOCKET", "@", 1);
	assert_int_equal(notify_send("READY=1"), -EINVAL);
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	setenv("NOTIFY_SOCKET", longpath, 1);
	assert_int_equal(notify_send("READY=1"), -EINVAL);
	/* nobody bound there: the error, not a hang */
	setenv("NOTIFY_SOCKET", "/tmp/brouter-test-notify-nobody/sock", 1);
	assert_int_equal(notify_send("READY=1"), -ENOENT);
	unsetenv("NOTIFY_SOCKET");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(path_socket),
		cmocka_unit_test(abstract_socket),
		cmocka_unit_test(reloading_carries_monotonic_usec),
		cmocka_unit_test(no_manager_or_bad_address),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
