/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The service manager's readiness protocol (sd_notify(3)): one datagram to $NOTIFY_SOCKET. */
#ifndef BR_NOTIFY_H
#define BR_NOTIFY_H

/*
 * Send @state ("READY=1", "STOPPING=1", newline-separated assignments) to
 * the socket $NOTIFY_SOCKET names: a path, or "@name" for the abstract
 * namespace. Returns 1 when sent, 0 when no service manager listens
 * (variable unset), -errno on failure.
 */
int notify_send(const char *state);

/* Started, or a reload done: READY=1 with a STATUS= line. */
int notify_ready(const char *status);

/* A reload begins: RELOADING=1 and the MONOTONIC_USEC= systemd 253 wants. */
int notify_reloading(void);

/* Shutting down: STOPPING=1. */
int notify_stopping(void);

#endif /* BR_NOTIFY_H */
