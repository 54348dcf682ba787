/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Watching nftables (NFNLGRP_NFTABLES): which committed transaction of
 * someone else touched brouterd's table, so that it is restored at once.
 */
#ifndef BR_NFTWATCH_H
#define BR_NFTWATCH_H

#include <stdbool.h>

#include "common/rtnl.h"

struct nft_watch {
	struct rtnl nl;
	bool touched, deleted; /* by the transaction being read */
};

/* What a committed transaction of someone else did to table ip brouter. */
struct nft_change {
	bool deleted;	  /* the table went (flush ruleset, delete table) */
	unsigned int pid; /* who committed it (0: unknown, events lost) */
	char proc[32];
	unsigned int commits; /* transactions read, on any table, by anyone */
};

int nft_watch_open(struct nft_watch *w);
void nft_watch_close(struct nft_watch *w);

/*
 * Read what is queued. 1 with *@out filled when another process changed
 * or removed the table (or events were lost: look anyway), 0 when not;
 * either way @out->commits counts every transaction read.
 */
int nft_watch_read(struct nft_watch *w, struct nft_change *out);

/* The same for the @len bytes of messages at @buf, as read from the socket. */
int nft_watch_parse(struct nft_watch *w, const void *buf, size_t len,
		    struct nft_change *out);

#endif /* BR_NFTWATCH_H */
