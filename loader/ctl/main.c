// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* brouterctl: look at a running brouter through its pinned maps; the command table. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/sys.h"
#include "ctl/ctl.h"
#include "ctl/map_e.h"

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
	return sys_open_pinned(c->pin_dir, name);
}

int ctl_print_map(const struct ctl *c, const char *name,
		  int (*print)(FILE *f, int map_fd, int json))
{
	int fd = ctl_open(c, name), err;

	if (fd < 0)
		return 1;
	err = print(stdout, fd, c->json);
	close(fd);
	return err ? 1 : 0;
}

static const struct {
	const char *name;
	int (*run)(const struct ctl *c);
} commands[] = {
	{ "stats", cmd_stats },
	{ "fdb", cmd_fdb },
	{ "flows", cmd_flows },
	{ "tunnel", cmd_tunnel },
	{ "reload", cmd_reload },
};

int main(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "pin-dir", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct ctl ctl = { .pin_dir = BR_PIN_DIR_DEFAULT };
	const char *cmd = NULL;
	size_t i;
	int c;

	br_prog_name = "brouterctl";
	/* map-e takes its own options and needs no running brouterd. */
	if (argc > 1 && !strcmp(argv[1], "map-e"))
		return cmd_map_e(argc - 1, argv + 1);
	/* GNU getopt permutes: options may come before or after the command. */
	while ((c = getopt_long(argc, argv, "p:jh", long_opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			ctl.pin_dir = optarg;
			break;
		case 'j':
			ctl.json = 1;
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
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(cmd, commands[i].name))
			return commands[i].run(&ctl);
	pr_err("unknown command '%s' (see --help)", cmd);
	return 2;
}
