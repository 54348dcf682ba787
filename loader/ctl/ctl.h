/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* brouterctl's commands, one file each; main.c parses the options and picks one. */
#ifndef BR_CTL_H
#define BR_CTL_H

#include <stdio.h>
#include "brouter/abi.h"

/* What every command gets from the command line. */
struct ctl {
	const char *pin_dir;
	int json;
	int watch;		  /* stats --watch */
	unsigned int interval_ms; /* -i: between two --watch reports */
	int count; /* -n: reports or events, then exit; 0: until killed */
	const char *state_dir; /* HB46PP's, for provision */
	int clear;	       /* provision --clear */
};

/* brouterctl's exit status (documented in brouterctl(8) and README.md). */
enum ctl_exit {
	CTL_OK = 0,
	CTL_ERROR = 1,	     /* brouterd runs, but the command failed */
	CTL_USAGE = 2,	     /* bad command line */
	CTL_NOT_RUNNING = 3, /* nothing pinned, or its brouterd is gone */
};

/* Each returns the exit status (enum ctl_exit), after an error on stderr. */
int cmd_stats(const struct ctl *c);
int cmd_fdb(const struct ctl *c);
int cmd_flows(const struct ctl *c);
int cmd_tunnel(const struct ctl *c);
int cmd_reload(const struct ctl *c);
int cmd_metrics(const struct ctl *c);
int cmd_drops(const struct ctl *c);
int cmd_provision(const struct ctl *c);

/* stats --watch on the "stats" map @fd: the exit status. */
int stats_watch(const struct ctl *c, int fd);

/*
 * Open the map @name pinned in @c's pin dir: fd, or -errno after saying
 * why (-ENOENT: brouterd is not running).
 */
int ctl_open(const struct ctl *c, const char *name);

/* The exit status for ctl_open()'s (or a read's) -errno, 0 for 0. */
int ctl_exit_status(int err);

/* Print the map @name with @print (as text or JSON, as @c says): the exit status. */
int ctl_print_map(const struct ctl *c, const char *name,
		  int (*print)(FILE *f, int map_fd, int json));

/* Printers, for the commands and their tests. */
void stats_print_text(FILE *f, const struct br_stat *st);
void stats_print_json(FILE *f, const struct br_stat *st);
int fdb_print(FILE *f, int map_fd, int json);
int flows_print(FILE *f, int map_fd, int names_fd, int json);
int tunnel_print(FILE *f, int out_fd, int in_fd, int json);

/* A printer walking a map (common/mapwalk.h): where to, how, how many so far. */
struct ctl_walk {
	FILE *f;
	int json;
	int n;
	unsigned long long now; /* mono_ns() when the walk started */
};

/* ", " before every JSON list item but the first. */
const char *ctl_sep(const struct ctl_walk *w);

/* "lan" or "wan" for a port index, "?" otherwise. */
const char *ctl_port_name(unsigned int port);

#endif /* BR_CTL_H */
