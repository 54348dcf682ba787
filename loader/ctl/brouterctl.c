// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* brouterctl: look at a running brouter through its pinned maps. */
#include <errno.h>
#include <signal.h>
#include <time.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctl/map_e.h"
#include "ctl/tunnel.h"
#include "ctl/flows.h"
#include "common/log.h"
#include <bpf/bpf.h>
#include "common/counters.h"
#include "ctl/stats.h"
#include "common/sys.h"

static const char usage_text[] =
	"usage: brouterctl [-p PIN_DIR] COMMAND [--json]\n"
	"\n"
	"commands:\n"
	"  stats     per-port packet/byte counters, verdicts and drop reasons\n"
	"  fdb       learned MAC addresses and the port they live on\n"
	"  flows     firewall flows: addresses, ports, state, age, who opened them\n"
	"  tunnel    IPv4 over IPv6: which IPv4 goes into which tunnel, which 4in6\n"
	"            is accepted (mode, CE IPv4, PSID, port set, IPv6 ends, MTU)\n"
	"  reload    make brouterd re-read its config (SIGHUP); exit 0 once the new\n"
	"            policy is active, 1 if brouterd kept the old one\n"
	"  map-e     MAP-E calculator: CE IPv4, PSID, ports, CE IPv6 (map-e --help)\n"
	"\n"
	"  -p, --pin-dir DIR   brouterd's pin dir (default " BR_PIN_DIR_DEFAULT ")\n"
	"  -j, --json          machine-readable output\n";

static int cmd_stats(const char *pin_dir, int json)
{
	struct br_stat st[BR_STAT_MAX];
	int fd, err;

	fd = sys_open_pinned(pin_dir, "stats");
	if (fd < 0)
		return 1;
	err = stats_read(fd, st);
	close(fd);
	if (err) {
		pr_err("read stats: %s", strerror(-err));
		return 1;
	}
	if (json)
		stats_print_json(stdout, st);
	else
		stats_print_text(stdout, st);
	return 0;
}

static int cmd_fdb(const char *pin_dir, int json)
{
	int fd, err;

	fd = sys_open_pinned(pin_dir, "fdb");
	if (fd < 0)
		return 1;
	err = fdb_print(stdout, fd, json);
	close(fd);
	return err ? 1 : 0;
}

static int cmd_flows(const char *pin_dir, int json)
{
	int fd, err;

	fd = sys_open_pinned(pin_dir, "flows");
	if (fd < 0)
		return 1;
	err = flows_print(stdout, fd, json);
	close(fd);
	return err ? 1 : 0;
}

static int cmd_tunnel(const char *pin_dir, int json)
{
	int out_fd, in_fd, err;

	out_fd = sys_open_pinned(pin_dir, "tun_out");
	if (out_fd < 0)
		return 1;
	in_fd = sys_open_pinned(pin_dir, "tun_in");
	if (in_fd < 0) {
		close(out_fd);
		return 1;
	}
	err = tunnel_print(stdout, out_fd, in_fd, json);
	close(in_fd);
	close(out_fd);
	return err ? 1 : 0;
}

static int read_one(const char *pin_dir, const char *map, void *val)
{
	__u32 zero = 0;
	int fd, err;

	fd = sys_open_pinned(pin_dir, map);
	if (fd < 0)
		return fd;
	err = bpf_map_lookup_elem(fd, &zero, val) ? -errno : 0;
	close(fd);
	return err;
}

/* brouterd increments settings.gen only after a reload fully succeeded. */
static int cmd_reload(const char *pin_dir)
{
	struct timespec pause = { 0, 50 * 1000000 };
	struct br_settings s;
	struct br_info info;
	__u32 gen;
	int i;

	if (read_one(pin_dir, "info", &info) || read_one(pin_dir, "settings", &s))
		return 1;
	if (!info.pid || kill(info.pid, 0)) {
		pr_err("no brouterd running for %s", pin_dir);
		return 1;
	}
	gen = s.gen;
	if (kill(info.pid, SIGHUP)) {
		pr_err("signal brouterd (pid %u): %s", info.pid, strerror(errno));
		return 1;
	}
	for (i = 0; i < 100; i++) {
		nanosleep(&pause, NULL);
		if (!read_one(pin_dir, "settings", &s) && s.gen != gen) {
			printf("reloaded: policy generation %u active\n", s.gen);
			return 0;
		}
	}
	pr_err("brouterd (pid %u) kept its running policy: see its log for the "
	       "config error", info.pid);
	return 1;
}

int main(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "pin-dir", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *pin_dir = BR_PIN_DIR_DEFAULT, *cmd = NULL;
	int c, json = 0;

	br_prog_name = "brouterctl";
	/* map-e takes its own options and needs no running brouterd. */
	if (argc > 1 && !strcmp(argv[1], "map-e"))
		return cmd_map_e(argc - 1, argv + 1);
	/* GNU getopt permutes: options may come before or after the command. */
	while ((c = getopt_long(argc, argv, "p:jh", long_opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			pin_dir = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			fputs(usage_text, stderr);
			return 2;
		}
	}
	if (optind < argc)
		cmd = argv[optind++];
	if (optind < argc) {
		pr_err("unexpected argument '%s'", argv[optind]);
		return 2;
	}
	if (!cmd) {
		fputs(usage_text, stderr);
		return 2;
	}
	if (!strcmp(cmd, "stats"))
		return cmd_stats(pin_dir, json);
	if (!strcmp(cmd, "fdb"))
		return cmd_fdb(pin_dir, json);
	if (!strcmp(cmd, "flows"))
		return cmd_flows(pin_dir, json);
	if (!strcmp(cmd, "tunnel"))
		return cmd_tunnel(pin_dir, json);
	if (!strcmp(cmd, "reload"))
		return cmd_reload(pin_dir);
	pr_err("unknown command '%s' (see --help)", cmd);
	return 2;
}
