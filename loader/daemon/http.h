/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* brouterd's optional metrics endpoint (metrics.listen): HTTP/1.0, GET /metrics. */
#ifndef BR_HTTP_H
#define BR_HTTP_H

#include <time.h>
#include <linux/types.h>

/* Scrapers served at once; Prometheus uses one connection per target. */
#define HTTP_MAX_CLIENTS 8

struct http_client {
	int fd;		 /* -1: free */
	time_t deadline; /* closed if still there then */
	size_t got;	 /* bytes of the request read */
	char req[2048];
	char *out; /* the answer, once the request is whole */
	size_t out_len, sent;
	int lingering; /* answer sent: reading until the client closes */
};

struct metrics_http {
	int ep; /* epoll set of all below: poll it for POLLIN */
	int listen_fd;
	int timer_fd;	     /* ticks while clients are connected */
	const char *pin_dir; /* whose maps the metrics read */
	struct http_client c[HTTP_MAX_CLIENTS];
};

/* Listen on @addr ("ADDR:PORT"). 0, or -errno after logging why. */
int metrics_http_open(struct metrics_http *h, const char *addr,
		      const char *pin_dir);

/* The epoll set turned readable: accept, read, answer, time out. */
void metrics_http_serve(struct metrics_http *h);

/* Close every socket; @h may be zeroed with ep = -1 (never opened). */
void metrics_http_close(struct metrics_http *h);

#endif /* BR_HTTP_H */
