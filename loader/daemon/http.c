// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * brouterd's metrics endpoint: a minimal HTTP/1.0 responder that serves
 * GET /metrics and nothing else, on brouterd's own poll loop. Its sockets
 * and a once-a-second timer sit in one epoll set, so the loop sees one fd.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>

#include "common/log.h"
#include "daemon/http.h"
#include "metrics/expo.h"
#include "metrics/listen.h"
#include "metrics/metrics.h"

/* A client that has not sent its request by then is dropped. */
#define HTTP_TIMEOUT_S 5

static void client_close(struct metrics_http *h, struct http_client *c)
{
	epoll_ctl(h->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

static int watch(struct metrics_http *h, int fd, __u32 events, void *ptr)
{
	struct epoll_event ev = { .events = events, .data.ptr = ptr };

	return epoll_ctl(h->ep, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

static int listen_on(struct metrics_http *h, const char *addr)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1;

	if (metrics_listen_parse(addr, &ss, &len))
		return -EINVAL;
	h->listen_fd = socket(ss.ss_family,
			      SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (h->listen_fd < 0)
		return -errno;
	setsockopt(h->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(h->listen_fd, (struct sockaddr *)&ss, len) ||
	    listen(h->listen_fd, HTTP_MAX_CLIENTS))
		return -errno;
	return watch(h, h->listen_fd, EPOLLIN, h);
}

/* The timer ticks only while a client is connected: an idle endpoint costs no wake-up. */
static void timer_arm(struct metrics_http *h, int on)
{
	struct itimerspec tick = { { on, 0 }, { on, 0 } };

	timerfd_settime(h->timer_fd, 0, &tick, NULL);
}

int metrics_http_open(struct metrics_http *h, const char *addr,
		      const char *pin_dir)
{
	int i, err;

	memset(h, 0, sizeof(*h));
	h->listen_fd = h->timer_fd = -1;
	for (i = 0; i < HTTP_MAX_CLIENTS; i++)
		h->c[i].fd = -1;
	h->pin_dir = pin_dir;
	h->ep = epoll_create1(EPOLL_CLOEXEC);
	if (h->ep < 0)
		return -errno;
	h->timer_fd =
		timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	err = h->timer_fd < 0 ? -errno : 0;
	err = err ?: watch(h, h->timer_fd, EPOLLIN, &h->timer_fd) ?:
	      listen_on(h, addr);
	if (err) {
		pr_err("metrics: listen on %s: %s", addr, strerror(-err));
		metrics_http_close(h);
		return err;
	}
	pr_info("metrics: serving http://%s/metrics", addr);
	return 0;
}

void metrics_http_close(struct metrics_http *h)
{
	int i;

	if (h->ep < 0)
		return; /* never opened */
	for (i = 0; i < HTTP_MAX_CLIENTS; i++)
		if (h->c[i].fd >= 0)
			client_close(h, &h->c[i]);
	if (h->listen_fd >= 0)
		close(h->listen_fd);
	if (h->timer_fd >= 0)
		close(h->timer_fd);
	close(h->ep);
	memset(h, 0, sizeof(*h));
	h->ep = h->listen_fd = h->timer_fd = -1;
}

static void accept_one(struct metrics_http *h)
{
	struct http_client *c = NULL;
	int fd, i;

	fd = accept4(h->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	for (i = 0; i < HTTP_MAX_CLIENTS && !c; i++)
		if (h->c[i].fd < 0)
			c = &h->c[i];
	if (!c || watch(h, fd, EPOLLIN, c)) {
		close(fd); /* busy: the scraper retries at its next interval */
		return;
	}
	c->fd = fd;
	c->deadline = time(NULL) + HTTP_TIMEOUT_S;
	timer_arm(h, 1);
}

/* Status line and headers, then @body (may be NULL) into c->out. */
static void respond(struct http_client *c, const char *status, const char *type,
		    const char *body, size_t len)
{
	FILE *f = open_memstream(&c->out, &c->out_len);

	if (!f)
		return;
	fprintf(f,
		"HTTP/1.0 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		"Connection: close\r\n\r\n",
		status, type, len);
	if (body && len)
		fwrite(body, 1, len, f);
	fclose(f);
}

static void error_page(struct http_client *c, const char *status)
{
	char body[64];
	int n = snprintf(body, sizeof(body), "%s\n", status);

	respond(c, status, "text/plain; charset=utf-8", body, n);
}

/*
 * "METHOD PATH HTTP/1.x": the request line split in place into @method
 * and @path (query string cut off). 0, or -EINVAL when it is not one.
 */
static int request_line(char *req, char **method, char **path)
{
	char *version, *end = req + strcspn(req, "\r\n");

	*end = '\0';
	*method = req;
	*path = strchr(req, ' ');
	if (!*path)
		return -EINVAL;
	*(*path)++ = '\0';
	version = strchr(*path, ' ');
	if (!version || strncmp(version + 1, "HTTP/1.", 7) || !**method)
		return -EINVAL;
	*version = '\0';
	(*path)[strcspn(*path, "?")] = '\0'; /* Prometheus may add parameters */
	return 0;
}

/* A whole request is in c->req: answer it. */
static void answer(struct metrics_http *h, struct http_client *c)
{
	char *method, *path, *body = NULL;
	size_t len = 0;
	int err;

	if (request_line(c->req, &method, &path))
		return error_page(c, "400 Bad Request");
	if (strcmp(method, "GET"))
		return error_page(c, "405 Method Not Allowed");
	if (strcmp(path, "/metrics"))
		return error_page(c, "404 Not Found");
	err = metrics_render(h->pin_dir, &body, &len);
	if (err) {
		pr_warn("metrics: %s", strerror(-err));
		return error_page(c, "500 Internal Server Error");
	}
	respond(c, "200 OK", EXPO_CONTENT_TYPE, body, len);
	free(body);
}

static void client_read(struct metrics_http *h, struct http_client *c)
{
	struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = c };
	ssize_t n;

	n = recv(c->fd, c->req + c->got, sizeof(c->req) - 1 - c->got, 0);
	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			client_close(h, c);
		return;
	}
	c->got += n;
	c->req[c->got] = '\0';
	if (strstr(c->req, "\r\n\r\n") || strstr(c->req, "\n\n"))
		answer(h, c);
	else if (c->got == sizeof(c->req) - 1)
		error_page(c, "431 Request Header Fields Too Large");
	else
		return;
	if (!c->out || epoll_ctl(h->ep, EPOLL_CTL_MOD, c->fd, &ev))
		client_close(h, c);
}

/*
 * Answer sent: close our side, but read what the client still sends
 * until it closes too (or its deadline), since closing a socket with
 * unread data resets the connection and the answer may be lost.
 */
static void client_linger(struct metrics_http *h, struct http_client *c)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };

	c->lingering = 1;
	if (shutdown(c->fd, SHUT_WR) ||
	    epoll_ctl(h->ep, EPOLL_CTL_MOD, c->fd, &ev))
		client_close(h, c);
}

static void client_drain(struct metrics_http *h, struct http_client *c)
{
	char buf[512];
	ssize_t n = recv(c->fd, buf, sizeof(buf), 0);

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		client_close(h, c);
}

static void client_write(struct metrics_http *h, struct http_client *c)
{
	ssize_t n = send(c->fd, c->out + c->sent, c->out_len - c->sent,
			 MSG_NOSIGNAL);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0)
		client_close(h, c);
	else if ((c->sent += n) == c->out_len)
		client_linger(h, c);
}

static void expire(struct metrics_http *h)
{
	time_t now = time(NULL);
	int i, busy = 0;
	__u64 ticks;

	if (read(h->timer_fd, &ticks, sizeof(ticks)) < 0)
		return;
	for (i = 0; i < HTTP_MAX_CLIENTS; i++) {
		if (h->c[i].fd >= 0 && now > h->c[i].deadline)
			client_close(h, &h->c[i]);
		busy |= h->c[i].fd >= 0;
	}
	if (!busy)
		timer_arm(h, 0);
}

void metrics_http_serve(struct metrics_http *h)
{
	struct epoll_event ev[HTTP_MAX_CLIENTS + 2];
	struct http_client *c;
	int n, i;

	n = epoll_wait(h->ep, ev, HTTP_MAX_CLIENTS + 2, 0);
	for (i = 0; i < n; i++) {
		if (ev[i].data.ptr == h) {
			accept_one(h);
		} else if (ev[i].data.ptr == &h->timer_fd) {
			expire(h);
		} else {
			c = ev[i].data.ptr;
			if (c->fd < 0)
				continue; /* closed by an earlier event of this round */
			if (c->lingering)
				client_drain(h, c);
			else if (c->out)
				client_write(h, c);
			else
				client_read(h, c);
		}
	}
}
