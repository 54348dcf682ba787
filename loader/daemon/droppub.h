/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Drop events for `brouterctl drops`. A BPF ring buffer has one consumer,
 * and brouterd is it (it logs the events); so brouterd passes each event
 * on to whoever is connected to a Unix socket of its own, whose path it
 * writes in the pinned "status" map.
 */
#ifndef BR_DROPPUB_H
#define BR_DROPPUB_H

#include <stddef.h>
#include <sys/un.h>
#include "brouter/abi.h"

#define DROPPUB_DIR "/run/brouter"
#define DROPPUB_MAX 8 /* followers at once */

struct droppub {
	int ep; /* epoll set of the sockets: poll it for POLLIN */
	int listen_fd;
	int fd[DROPPUB_MAX]; /* followers, -1 when free */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

/*
 * Listen on DROPPUB_DIR/drops-PID.sock (removing sockets of brouterds
 * that are gone). 0, or -errno: brouterd runs on without followers.
 */
int droppub_open(struct droppub *p);

/* The epoll set turned readable: accept followers, notice those gone. */
void droppub_serve(struct droppub *p);

/* Send @e to every follower; one too slow to take it misses it. */
void droppub_send(struct droppub *p, const struct br_drop_event *e);

/* Close and remove the socket; @p may be zeroed with ep = -1. */
void droppub_close(struct droppub *p);

#endif /* BR_DROPPUB_H */
