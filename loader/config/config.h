/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * brouterd's configuration: built-in defaults, then the config file
 * (libconfig syntax, see loader/config/brouter.conf.example), then the command
 * line. Everything is validated before anything is used, so a reload
 * with a broken file changes nothing.
 */
#ifndef BR_CONFIG_H
#define BR_CONFIG_H

#include "brouter/abi.h"
#include "config/tunnel.h"
#include "config/options.h"
#include "config/provision.h"
#include "fw/policy.h"
#include "metrics/listen.h"

/* Configured LAN prefixes at most (valid outbound sources). */
#define BR_CFG_MAX_LAN_PREFIXES 64

/* Timeouts above this many seconds (30 days) are refused as typos. */
#define BR_CFG_MAX_TIMEOUT (30U * 24 * 3600)

struct br_config {
	struct br_options opt;	/* effective: defaults < file < command line */
	struct br_options cli;	/* the command line alone, laid over each reload */
	struct br_policy pol;	/* firewall settings; pol.n_pinholes is set */
	struct br_pinhole *pinholes;
	int n_pinholes;
	struct prefix6 *lan_prefixes; /* outbound sources besides RA-learned */
	int n_lan_prefixes;
	struct tunnel_cfg tunnel; /* IPv4 over IPv6: off unless the file has a tunnel group */
	struct prov_cfg prov;	  /* HB46PP, for tunnel.mode "auto" */
	__u32 max_flows;	/* flows map size, set before load (restart to change) */
	__u32 flow_cache;	/* a CPU's entries, 0: off, or BR_CFG_FC_AUTO */
	int fast_path; /* ipv4.fast-path: XDP forwards established IPv4 */
	__u8 tun_dscp; /* tunnel.dscp: BR_DSCP_COPY or 0..63 */
	int log_level;		/* for br_log_level: enum br_log_level, or more (-vv) */
	char metrics_listen[BR_METRICS_LISTEN_MAX]; /* HTTP endpoint, "" = off */
	int file_found;		/* 0: default file absent, built-in defaults used */
	char **files;		/* file names the pinholes' ->file point to */
	int n_files;
};

/* Built-in defaults: RFC 6092 stateful firewall, no pinholes. */
void config_defaults(struct br_config *c);

/*
 * Read @path over the built-in defaults. A missing file is an error only
 * when @must_exist. Every problem is logged with file:line and what is
 * wrong. Returns 0 and fills @out (free with config_free(); its previous
 * contents are not freed), or -errno leaving @out untouched. out->cli is
 * the defaults, out->opt holds the file's values without the command line.
 */
int config_load(const char *path, int must_exist, struct br_config *out);

void config_free(struct br_config *c);

/* firewall.flow-cache absent: BR_FC_DEF_PER_CPU within BR_FC_DEF_BUDGET. */
#define BR_CFG_FC_AUTO 0xffffffffU

/*
 * Flow cache entries per CPU on a machine of @ncpus possible CPUs: the
 * configured number, or for BR_CFG_FC_AUTO the default, halved until
 * every CPU's share fits the budget (not below BR_FC_MIN_PER_CPU).
 */
__u32 config_flow_cache(const struct br_config *c, int ncpus);

/*
 * brouterd's whole configuration: argv, then the file (-c, or the default
 * one if present), then argv laid over it, then the checks. With
 * --check-config, prints "FILE: OK (N pinholes[, tunnel MODE])" to stdout
 * after a successful validation.
 *
 * Returns 0 with @out filled (the caller owns it: config_free()), 1 when
 * the program should exit 0 (help, version, --check-config passed), or
 * -errno after logging why (exit 1). @out is untouched unless 0.
 * Sets br_log_level early when -v/-q are given, so -q quiets config
 * warnings; the caller sets br_log_level = out->log_level afterwards.
 */
int brouter_config(int argc, char **argv, struct br_config *out);

/*
 * SIGHUP: re-read cur->opt.config_path (same must-exist rule; a file
 * that was there at start and is now missing or empty is refused) and
 * lay cur->cli over it again. The ports, pin directory and XDP mode
 * cannot change live: they are kept, with a warning if the file changed
 * them. Returns 0 with the new configuration in @out (the caller applies
 * it, then frees one of the two), or -errno after logging why; @cur is
 * never touched.
 */
int config_reload(const struct br_config *cur, struct br_config *out);

/*
 * Log, one line each, what applying @new over @old changes: pinholes
 * added, removed or changed (named ones by name, others by what they
 * open), firewall settings, lan-prefixes, the tunnel. Returns how many
 * lines that was (0: "unchanged" was logged).
 */
int config_log_changes(const struct br_config *old,
		       const struct br_config *new);

#endif /* BR_CONFIG_H */
