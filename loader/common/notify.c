// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * sd_notify(3) without libsystemd: the protocol is one AF_UNIX datagram
 * of "KEY=VALUE" lines to the socket in $NOTIFY_SOCKET, which is all
 * brouterd needs of the library.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "common/notify.h"

static int notify_addr(const char *path, struct sockaddr_un *sa, socklen_t *len)
{
	size_t n = strlen(path);

	if ((path[0] != '/' && path[0] != '@') || n < 2 ||
	    n > sizeof(sa->sun_path))
		return -EINVAL;
	/* a path needs room for its NUL; an abstract name has none */
	if (path[0] == '/' && n == sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, path, n);
	if (path[0] == '@')
		sa->sun_path[0] = '\0';
	*len = offsetof(struct sockaddr_un, sun_path) + n + (path[0] == '/');
	return 0;
}

int notify_send(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	socklen_t len;
	ssize_t sent;
	int fd, err;

	if (!path || !*path)
		return 0;
	err = notify_addr(path, &sa, &len);
	if (err)
		return err;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	sent = sendto(fd, state, strlen(state), MSG_NOSIGNAL,
		      (struct sockaddr *)&sa, len);
	err = sent < 0 ? -errno : 1;
	close(fd);
	return err;
}

int notify_ready(const char *status)
{
	char msg[256];

	snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%s", status);
	return notify_send(msg);
}

int notify_reloading(void)
{
	struct timespec ts;
	char msg[64];

	/*
	 * systemd >= 253 (Type=notify-reload) ignores RELOADING=1 without the
	 * time it happened; 252 takes RELOADING=1 alone and ignores the rest.
	 */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
		 (unsigned long long)ts.tv_sec * 1000000ULL +
			 (unsigned long long)ts.tv_nsec / 1000);
	return notify_send(msg);
}

int notify_stopping(void)
{
	return notify_send("STOPPING=1");
}
