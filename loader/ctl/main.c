// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* brouterctl: look at a running brouter through its pinned maps; the command table. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "common/log.h"
#include "config/config.h"
#include "ctl/ctl.h"
#include "ctl/map_e.h"

static const struct ctl_cmd {
	const char *name;
	int (*run)(const struct ctl *c);
	const char *summary; /* one line in the global help */
	const char *help;    /* brouterctl CMD --help, after the usage line */
} commands[] = {
	{ "stats", cmd_stats, "per-port counters: verdicts and drop reasons",
	  "Packets and bytes of every verdict and drop reason, per arrival port\n"
	  "(LAN: outbound, WAN: inbound). --json: {\"lan\": {COUNTER: {\"packets\": N,\n"
	  "\"bytes\": N}, ...}, \"wan\": {...}}.\n"
	  "--watch [-i SEC] [-n N]: every SEC seconds (1; 0.1..3600), the counters\n"
	  "that moved as packets and bits per second, and the flow cache's hit\n"
	  "ratio; N reports, then exit. With --json one object a line.\n" },
	{ "drops", cmd_drops, "follow firewall drops as they happen, both ways",
	  "Each firewall drop brouterd logs, as it happens: time, arrival port,\n"
	  "reason, protocol, addresses, ports (at most log.drop-rate a second).\n"
	  "-n N: N drops, then exit. --json: one object a line.\n" },
	{ "fdb", cmd_fdb, "learned MAC addresses and the port they live on",
	  "The MAC addresses learned from frames' sources: port and age.\n" },
	{ "flows", cmd_flows,
	  "firewall flows: addresses, ports, state, age, who opened them",
	  "The firewall's flows and bindings: addresses, ports, protocol, state,\n"
	  "age, idle time, and whether the LAN (opened-out) or a pinhole\n"
	  "(opened-in) opened them.\n" },
	{ "tunnel", cmd_tunnel,
	  "IPv4 over IPv6: tunnel table, CE IPv4, PSID, port set and its use",
	  "IPv4 over IPv6: which IPv4 goes into which tunnel (mode, CE IPv4, PSID,\n"
	  "port set and how much of it conntrack holds, IPv6 ends, MTU) and which\n"
	  "4in6 is accepted.\n" },
	{ "reload", cmd_reload,
	  "make brouterd re-read its config (SIGHUP) and wait",
	  "Signal brouterd (SIGHUP) to re-read its config file, and wait until it\n"
	  "is done: exit 0 once the new policy is active, 1 if brouterd kept the\n"
	  "running one (its log says why), 3 if no brouterd runs.\n" },
	{ "provision", cmd_provision,
	  "HB46PP provisioning: server, last fetch, result, method, next fetch",
	  "What HB46PP provisioning (tunnel.mode \"auto\") found: the server, when\n"
	  "it last asked, the result (or why it failed), the method in use and its\n"
	  "parameters, whether they come from the server or the stored answer, the\n"
	  "WAN prefix and the next fetch; from the status file in the state\n"
	  "directory (tunnel.provision.state-dir, or --state-dir).\n"
	  "--clear: remove the stored token and answer, and make a running\n"
	  "brouterd forget them and ask the server again (SIGUSR1).\n" },
	{ "metrics", cmd_metrics,
	  "Prometheus text exposition of all of the above",
	  "Every counter, table size, reload and tunnel figure as Prometheus text\n"
	  "(exposition format 0.0.4), for node_exporter's textfile collector.\n"
	  "With no brouterd running it prints brouter_up 0 alone and exits 0, so\n"
	  "the collector's file says so instead of keeping stale figures.\n" },
	{ "map-e", NULL, "MAP-E calculator: CE IPv4, PSID, ports, CE IPv6",
	  NULL },
	{ "help", NULL, "this text, or a command's (help COMMAND)", NULL },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static const char options_text[] =
	"options:\n"
	"  -p, --pin-dir DIR   brouterd's pin dir (default: pin-dir of the config\n"
	"                      file, else " BR_PIN_DIR_DEFAULT ")\n"
	"  -c, --config FILE   the config file to read pin-dir from (default\n"
	"                      " BR_CONFIG_DEFAULT ", if present)\n"
	"  -j, --json          machine-readable output\n"
	"  -W, --watch         stats: report rates every interval\n"
	"  -i, --interval SEC  stats --watch: seconds between reports (default 1)\n"
	"  -n, --count N       stats --watch, drops: stop after N reports or drops\n"
	"  -s, --state-dir DIR provision: HB46PP's state directory (default: the\n"
	"                      config file's, else " HB_STATE_DIR ")\n"
	"      --clear         provision: forget the token and stored answer\n"
	"  -h, --help          this text; COMMAND --help: that command's\n"
	"  -V, --version       print the version\n"
	"\n"
	"exit status: 0 done, 1 error, 2 usage error, 3 brouterd not running\n";

static void usage(FILE *f)
{
	size_t i;

	fputs("usage: brouterctl [-p DIR | -c FILE] [-j] COMMAND\n"
	      "       brouterctl help [COMMAND] | COMMAND --help | --version\n"
	      "\ncommands:\n",
	      f);
	for (i = 0; i < N_COMMANDS; i++)
		fprintf(f, "  %-8s  %s\n", commands[i].name,
			commands[i].summary);
	fputc('\n', f);
	fputs(options_text, f);
}

static const struct ctl_cmd *find_cmd(const char *name)
{
	size_t i;

	for (i = 0; i < N_COMMANDS; i++)
		if (!strcmp(name, commands[i].name))
			return &commands[i];
	return NULL;
}

static int cmd_help(const char *name)
{
	const struct ctl_cmd *cmd = name ? find_cmd(name) : NULL;
	char *argv[] = { "map-e", "--help", NULL };

	if (!name || !strcmp(name, "help")) {
		usage(stdout);
		return CTL_OK;
	}
	if (!cmd) {
		pr_err("unknown command '%s' (see brouterctl help)", name);
		return CTL_USAGE;
	}
	if (!cmd->run)
		return map_e_run(stdout, 2, argv);
	printf("usage: brouterctl [-p DIR | -c FILE] %s%s\n\n%s", cmd->name,
	       strcmp(cmd->name, "reload") ? " [-j]" : "", cmd->help);
	return CTL_OK;
}

const char *ctl_port_name(unsigned int port)
{
	static const char *const name[BR_NPORTS] = { "lan", "wan" };

	return port < BR_NPORTS ? name[port] : "?";
}

const char *ctl_sep(const struct ctl_walk *w)
{
	return w->json && w->n ? ", " : "";
}

int ctl_open(const struct ctl *c, const char *name)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", c->pin_dir, name);
	fd = bpf_obj_get(path);
	if (fd >= 0)
		return fd;
	fd = -errno;
	if (fd == -ENOENT)
		pr_err("brouterd is not running (no %s pinned in %s)", name,
		       c->pin_dir);
	else
		pr_err("open %s: %s", path, strerror(-fd));
	return fd;
}

int ctl_exit_status(int err)
{
	return !err ? CTL_OK : err == -ENOENT ? CTL_NOT_RUNNING : CTL_ERROR;
}

int ctl_print_map(const struct ctl *c, const char *name,
		  int (*print)(FILE *f, int map_fd, int json))
{
	int fd = ctl_open(c, name), err;

	if (fd < 0)
		return ctl_exit_status(fd);
	err = print(stdout, fd, c->json);
	close(fd);
	return err ? CTL_ERROR : CTL_OK;
}

/*
 * No -p: the pin dir brouterd uses is the config file's (-c, or the
 * default file when there is one). Its warnings are brouterd's business.
 */
static int paths_from_config(struct ctl *c, const char *path, int must_exist,
			     int want_pin_dir)
{
	static char pin_dir[sizeof(((struct br_options *)0)->pin_dir)];
	static char state_dir[sizeof(((struct prov_cfg *)0)->state_dir)];
	struct br_config cfg;
	int level = br_log_level, err;

	br_log_level = BR_LOG_ERR;
	err = config_load(path, must_exist, &cfg);
	br_log_level = level;
	if (err)
		return err;
	if (want_pin_dir) {
		snprintf(pin_dir, sizeof(pin_dir), "%s", cfg.opt.pin_dir);
		c->pin_dir = pin_dir;
	}
	if (!c->state_dir) {
		snprintf(state_dir, sizeof(state_dir), "%s",
			 cfg.prov.state_dir);
		c->state_dir = state_dir;
	}
	config_free(&cfg);
	return 0;
}

/* --watch, -i SEC, -n N of the live views (stats --watch, drops). */
static int live_opt(struct ctl *ctl, int c, const char *arg)
{
	char *end;
	double v;

	if (c == 'W') {
		ctl->watch = 1;
		return 0;
	}
	errno = 0;
	v = strtod(arg, &end);
	if (c == 'i' && !errno && !*end && v >= 0.1 && v <= 3600) {
		ctl->interval_ms = v * 1000 + 0.5;
		return 0;
	}
	if (c == 'n' && !errno && !*end && v >= 1 && v <= 1e9 && v == (int)v) {
		ctl->count = v;
		return 0;
	}
	pr_err("-%c %s: %s", c, arg,
	       c == 'i' ? "seconds, 0.1 to 3600" : "a whole number, 1 or more");
	return -EINVAL;
}

struct ctl_args {
	struct ctl ctl;
	const char *config; /* -c */
	int pin_dir_given;  /* -p: no config file read */
	const char *cmd;
	int help; /* --help, or help COMMAND */
};

/* Returns -1 to go on, else the exit status. */
static int parse_args(struct ctl_args *a, int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "pin-dir", required_argument, NULL, 'p' },
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "watch", no_argument, NULL, 'W' },
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'n' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "clear", no_argument, NULL, 'C' },
		{ 0 },
	};
	static const char opts[] = "p:c:jhVWi:n:s:";
	int c;

	/* GNU getopt permutes: options may come before or after the command. */
	while ((c = getopt_long(argc, argv, opts, long_opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			a->ctl.pin_dir = optarg;
			a->pin_dir_given = 1;
			break;
		case 'c':
			a->config = optarg;
			break;
		case 'j':
			a->ctl.json = 1;
			break;
		case 's':
			if (optarg[0] != '/') {
				pr_err("--state-dir: give an absolute path");
				return CTL_USAGE;
			}
			a->ctl.state_dir = optarg;
			break;
		case 'C':
			a->ctl.clear = 1;
			break;
		case 'h':
			a->help = 1;
			break;
		case 'V':
			printf("brouterctl %s\n", BR_VERSION);
			return CTL_OK;
		case 'W':
		case 'i':
		case 'n':
			if (live_opt(&a->ctl, c, optarg))
				return CTL_USAGE;
			break;
		default:
			usage(stderr);
			return CTL_USAGE;
		}
	}
	if (optind < argc)
		a->cmd = argv[optind++];
	if (a->cmd && !strcmp(a->cmd, "help")) {
		a->cmd = optind < argc ? argv[optind++] : NULL;
		a->help = 1;
	}
	if (optind < argc) {
		pr_err("unexpected argument '%s'", argv[optind]);
		return CTL_USAGE;
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct ctl_args a = { .ctl = { .pin_dir = BR_PIN_DIR_DEFAULT,
				       .interval_ms = 1000 } };
	const struct ctl_cmd *cmd;
	int status;

	br_prog_name = "brouterctl";
	/* map-e takes its own options and needs no running brouterd. */
	if (argc > 1 && !strcmp(argv[1], "map-e"))
		return cmd_map_e(argc - 1, argv + 1);
	status = parse_args(&a, argc, argv);
	if (status >= 0)
		return status;
	if (a.help)
		return cmd_help(a.cmd);
	if (!a.cmd) {
		usage(stderr);
		return CTL_USAGE;
	}
	cmd = find_cmd(a.cmd);
	if (!cmd) {
		pr_err("unknown command '%s' (see brouterctl help)", a.cmd);
		return CTL_USAGE;
	}
	if (!cmd->run) {
		pr_err("map-e comes first, its options after it (see brouterctl help map-e)");
		return CTL_USAGE;
	}
	if (a.ctl.clear && cmd->run != cmd_provision) {
		pr_err("--clear goes with provision only");
		return CTL_USAGE;
	}
	/* -p alone reads no config file, unless provision needs its state dir */
	if ((!a.pin_dir_given ||
	     (cmd->run == cmd_provision && !a.ctl.state_dir)) &&
	    paths_from_config(&a.ctl, a.config ?: BR_CONFIG_DEFAULT, !!a.config,
			      !a.pin_dir_given))
		return CTL_ERROR;
	return cmd->run(&a.ctl);
}
