// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* brouterctl: look at a running brouter through its pinned maps. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "stats.h"
#include "sys.h"

static const char usage_text[] =
	"usage: brouterctl [-p PIN_DIR] COMMAND [--json]\n"
	"\n"
	"commands:\n"
	"  stats     per-port packet/byte counters, verdicts and drop reasons\n"
	"  fdb       learned MAC addresses and the port they live on\n"
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
	/* "+" would stop at the command; options may follow it too. */
	while (optind < argc) {
		c = getopt_long(argc, argv, "p:jh", long_opts, NULL);
		if (c == -1) {
			if (cmd) {
				pr_err("unexpected argument '%s'", argv[optind]);
				return 2;
			}
			cmd = argv[optind++];
			continue;
		}
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
	if (!cmd) {
		fputs(usage_text, stderr);
		return 2;
	}
	if (!strcmp(cmd, "stats"))
		return cmd_stats(pin_dir, json);
	if (!strcmp(cmd, "fdb"))
		return cmd_fdb(pin_dir, json);
	pr_err("unknown command '%s' (see --help)", cmd);
	return 2;
}
