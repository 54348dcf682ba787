// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Drop events passed on to `brouterctl drops` over a Unix socket (droppub.h). */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "common/log.h"
#include "daemon/droppub.h"

/* Sockets of brouterds killed before they could remove them. */
static void remove_stale(void)
{
	struct dirent *de;
	DIR *dir = opendir(DROPPUB_DIR);
	int pid;

	if (!dir)
		return;
	while ((de = readdir(dir)))
		if (sscanf(de->d_name, "drops-%d.sock", &pid) == 1 && pid > 0 &&
		    kill(pid, 0) && errno == ESRCH)
			unlinkat(dirfd(dir), de->d_name, 0);
	closedir(dir);
}

static int listen_unix(struct droppub *p)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = -1 };
	mode_t old;
	int err;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", p->path);
	p->listen_fd = socket(AF_UNIX,
			      SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->listen_fd < 0)
		return -errno;
	unlink(p->path);   /* ours: a pid of ours, or of one long gone */
	old = umask(0077); /* drops name LAN hosts: root's to read */
	err = bind(p->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) ? -errno
								     : 0;
	umask(old);
	if (err || listen(p->listen_fd, DROPPUB_MAX))
		return err ?: -errno;
	return epoll_ctl(p->ep, EPOLL_CTL_ADD, p->listen_fd, &ev) ? -errno : 0;
}

int droppub_open(struct droppub *p)
{
	int i, err;

	memset(p, 0, sizeof(*p));
	p->ep = p->listen_fd = -1;
	for (i = 0; i < DROPPUB_MAX; i++)
		p->fd[i] = -1;
	snprintf(p->path, sizeof(p->path), DROPPUB_DIR "/drops-%d.sock",
		 getpid());
	if (mkdir(DROPPUB_DIR, 0755) && errno != EEXIST)
		err = -errno;
	else
		err = 0;
	remove_stale();
	p->ep = epoll_create1(EPOLL_CLOEXEC);
	if (!err && p->ep < 0)
		err = -errno;
	err = err ?: listen_unix(p);
	if (err) {
		pr_warn("%s: %s; brouterctl drops cannot follow drops", p->path,
			strerror(-err));
		droppub_close(p);
	}
	return err;
}

static void follower_close(struct droppub *p, int i)
{
	epoll_ctl(p->ep, EPOLL_CTL_DEL, p->fd[i], NULL);
	close(p->fd[i]);
	p->fd[i] = -1;
}

static void accept_one(struct droppub *p)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int fd, i;

	fd = accept4(p->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	for (i = 0; i < DROPPUB_MAX; i++) {
		if (p->fd[i] >= 0)
			continue;
		ev.data.fd = i;
		if (epoll_ctl(p->ep, EPOLL_CTL_ADD, fd, &ev))
			break;
		p->fd[i] = fd;
		return;
	}
	close(fd); /* full: brouterctl says the socket closed */
}

void droppub_serve(struct droppub *p)
{
	struct epoll_event ev[DROPPUB_MAX + 1];
	char buf[64];
	int n, i, f;
	ssize_t r;

	n = epoll_wait(p->ep, ev, DROPPUB_MAX + 1, 0);
	for (i = 0; i < n; i++) {
		f = ev[i].data.fd;
		if (f < 0) {
			accept_one(p);
			continue;
		}
		if (p->fd[f] < 0)
			continue;
		/* followers send nothing: readable means gone */
		r = recv(p->fd[f], buf, sizeof(buf), MSG_DONTWAIT);
		if (r == 0 || (r < 0 && errno != EAGAIN))
			follower_close(p, f);
	}
}

void droppub_send(struct droppub *p, const struct br_drop_event *e)
{
	int i;

	for (i = 0; i < DROPPUB_MAX; i++)
		if (p->fd[i] >= 0 &&
		    send(p->fd[i], e, sizeof(*e), MSG_DONTWAIT | MSG_NOSIGNAL) <
			    0 &&
		    errno != EAGAIN)
			follower_close(p, i);
}

void droppub_close(struct droppub *p)
{
	int i;

	if (p->ep < 0)
		return;
	for (i = 0; i < DROPPUB_MAX; i++)
		if (p->fd[i] >= 0)
			follower_close(p, i);
	if (p->listen_fd >= 0) {
		close(p->listen_fd);
		unlink(p->path);
	}
	close(p->ep);
	p->ep = p->listen_fd = -1;
	p->path[0] = '\0';
}
