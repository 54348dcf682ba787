/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* brouterd's command line: options, their checks, and how they override the config file. */
#ifndef BR_OPTIONS_H
#define BR_OPTIONS_H

#include <limits.h>
#include <linux/types.h>
#include <net/if.h>
#include "brouter/abi.h"

#define BR_CONFIG_DEFAULT "/etc/brouter/brouter.conf"

enum br_xdp_mode {
	BR_XDP_AUTO = 0,   /* native, falling back to generic with a warning */
	BR_XDP_NATIVE,
	BR_XDP_GENERIC,
};

/* How XDP is attached to the ports. */
enum br_xdp_attach {
	BR_XDP_ATTACH_AUTO =
		0, /* libxdp's dispatcher, else a BPF link (logged) */
	BR_XDP_ATTACH_LIBXDP, /* libxdp's dispatcher, or fail */
	BR_XDP_ATTACH_LINK,   /* a BPF link: the port is brouter's alone */
};

/*
 * How the tc programs are attached to the ports: AUTO, tcx links where
 * the kernel has them (Linux 6.6), else clsact; TCX, tcx links or fail;
 * CLSACT, cls_bpf filters on a clsact qdisc.
 */
enum br_tc_attach {
	BR_TC_ATTACH_AUTO = 0,
	BR_TC_ATTACH_TCX,
	BR_TC_ATTACH_CLSACT,
};

/*
 * Settings given on the command line (struct br_options.given), so they
 * can be laid over the config file's values again on every reload.
 */
#define BR_GIVEN_LAN (1U << 0)
#define BR_GIVEN_WAN (1U << 1)
#define BR_GIVEN_PIN_DIR (1U << 2)
#define BR_GIVEN_MARK_OUT (1U << 3)
#define BR_GIVEN_MARK_IN (1U << 4)
#define BR_GIVEN_NO_MARK (1U << 5)
#define BR_GIVEN_ETHERTYPES (1U << 6) /* --bridge-pppoe, --bridge-ethertype */
#define BR_GIVEN_XDP_MODE (1U << 7)
#define BR_GIVEN_VERBOSITY (1U << 8)  /* -v, -q */
#define BR_GIVEN_CONFIG (1U << 9)     /* -c: the file must exist */
#define BR_GIVEN_SYSLOG (1U << 10)    /* --syslog */
#define BR_GIVEN_XDP_ATTACH (1U << 11)
#define BR_GIVEN_WAIT	    (1U << 12) /* --wait */
#define BR_GIVEN_TUNNEL	    (1U << 13) /* --tunnel */
#define BR_GIVEN_TC_ATTACH  (1U << 14)

/* --tunnel: the config file's tunnel group overridden. */
enum br_tunnel_opt {
	BR_TUNNEL_AUTO = 1, /* tunnel.mode = "auto": HB46PP */
	BR_TUNNEL_NONE,	    /* no tunnel at all, whatever the file says */
};

struct br_options {
	char ifname[BR_NPORTS][IF_NAMESIZE];
	char pin_dir[256];
	__u32 mark[BR_NPORTS];
	int mark_enabled;
	__u16 ethertypes[BR_MAX_ETHERTYPES]; /* host order, 0 = end */
	int n_ethertypes;
	enum br_xdp_mode xdp_mode;
	enum br_xdp_attach xdp_attach;
	enum br_tc_attach tc_attach;
	int verbosity;			/* -1 = -q, 0, 1 = -v, ... */
	int syslog;			/* log to syslog, not stderr */
	char config_path[PATH_MAX];	/* -c FILE, else BR_CONFIG_DEFAULT */
	int check_config;		/* --check-config: validate and exit */
	int keep_state;			/* --keep-state: leave flows/FDB pinned on exit */
	int wait; /* --wait, wait-for-ports: ports may appear later */
	enum br_tunnel_opt tunnel;	/* with BR_GIVEN_TUNNEL */
	unsigned int given;		/* BR_GIVEN_* */
};

/* Built-in defaults, before the config file and the command line. */
void options_defaults(struct br_options *o);

/*
 * Parse argv into @o (defaults first) and record in o->given what was set.
 * Ports may be missing: the config file may name them. Returns 0, 1 when
 * help or the version was printed, or -EINVAL.
 */
int options_parse_args(struct br_options *o, int argc, char **argv);

/* Both ports named and different. Returns 0 or -EINVAL (logged). */
int options_check_ports(const struct br_options *o);

/*
 * Command line only, no config file: options_parse_args() and
 * options_check_ports(). Returns 0, 1 (help/version printed) or -EINVAL.
 */
int options_parse(struct br_options *o, int argc, char **argv);

/* Copy every setting @cli->given over @o (the command line beats the file). */
void options_apply(struct br_options *o, const struct br_options *cli);

/* br_log_level for -q/-v: warnings only, info, debug, libbpf details. */
int options_log_level(const struct br_options *o);

/* Parse a number in C notation (0x.., decimal) within [min, max]. */
int parse_u32(const char *s, __u32 min, __u32 max, __u32 *out);

/* NULL if @name can be an interface name, else why not. */
const char *ifname_invalid(const char *name);

/* NULL if ethertype @t may be bridged, else why not. */
const char *ethertype_invalid(__u32 t);

/*
 * Add ethertype @t to @o's list (kept once). Returns 0, -EINVAL when
 * ethertype_invalid() or -E2BIG past BR_MAX_ETHERTYPES; does not log.
 */
int options_add_ethertype(struct br_options *o, __u32 t);

/* "auto", "native", "generic". Returns 0 or -EINVAL. */
int xdp_mode_parse(const char *s, enum br_xdp_mode *out);

/* The index of @s in the NULL-terminated @names, or -EINVAL. */
int name_index(const char *const *names, const char *s);

/* "auto", "libxdp", "link": enum br_xdp_attach, by index. */
extern const char *const xdp_attach_names[];

/* "auto", "tcx", "clsact": enum br_tc_attach, by index. */
extern const char *const tc_attach_names[];

#endif /* BR_OPTIONS_H */
