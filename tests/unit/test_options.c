// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* brouterd's command line: every accepted form and every rejected one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/if_ether.h>

#include "common/log.h"
#include "config/options.h"

#define ARGV(...) ((char *[]){ "brouterd", __VA_ARGS__, NULL })

static int parse(struct br_options *o, char **argv)
{
	int argc = 0;

	while (argv[argc])
		argc++;
	return options_parse(o, argc, argv);
}

static void positional_lan_then_wan(void **state)
{
	struct br_options o;

	(void)state;
	assert_int_equal(parse(&o, ARGV("eth0", "eth1")), 0);
	assert_string_equal(o.ifname[BR_PORT_LAN], "eth0");
	assert_string_equal(o.ifname[BR_PORT_WAN], "eth1");
	assert_string_equal(o.pin_dir, BR_PIN_DIR_DEFAULT);
	assert_int_equal(o.mark[BR_PORT_LAN], 0x600);
	assert_int_equal(o.mark[BR_PORT_WAN], 0x601);
	assert_int_equal(o.mark_enabled, 1);
	assert_int_equal(o.n_ethertypes, 0);
	assert_int_equal(o.xdp_mode, BR_XDP_AUTO);
}

static void named_ports_any_order(void **state)
{
	struct br_options o;

	(void)state;
	assert_int_equal(parse(&o, ARGV("--wan", "ppp0x", "--lan", "br-lan")), 0);
	assert_string_equal(o.ifname[BR_PORT_LAN], "br-lan");
	assert_string_equal(o.ifname[BR_PORT_WAN], "ppp0x");
	/* --wan given, the one positional fills LAN */
	assert_int_equal(parse(&o, ARGV("-w", "eth1", "eth0")), 0);
	assert_string_equal(o.ifname[BR_PORT_LAN], "eth0");
	assert_string_equal(o.ifname[BR_PORT_WAN], "eth1");
}

static void marks_and_ethertypes(void **state)
{
	struct br_options o;

	(void)state;
	assert_int_equal(parse(&o, ARGV("--mark-out", "0x10", "--mark-in", "32",
					"--bridge-pppoe", "--bridge-ethertype",
					"0x88cc", "--bridge-ethertype", "0x8863",
					"a", "b")), 0);
	assert_int_equal(o.mark[BR_PORT_LAN], 0x10);
	assert_int_equal(o.mark[BR_PORT_WAN], 32);
	/* 0x8863 given twice is kept once */
	assert_int_equal(o.n_ethertypes, 3);
	assert_int_equal(o.ethertypes[0], ETH_P_PPP_DISC);
	assert_int_equal(o.ethertypes[1], ETH_P_PPP_SES);
	assert_int_equal(o.ethertypes[2], 0x88cc);
	assert_int_equal(parse(&o, ARGV("--no-mark", "--xdp-mode", "generic", "a", "b")), 0);
	assert_int_equal(o.mark_enabled, 0);
	assert_int_equal(o.xdp_mode, BR_XDP_GENERIC);
}

static void help_and_version_stop_early(void **state)
{
	struct br_options o;

	(void)state;
	assert_int_equal(parse(&o, ARGV("--help")), 1);
	assert_int_equal(parse(&o, ARGV("-V")), 1);
}

static void rejects_bad_input(void **state)
{
	static const char *const bad[][6] = {
		{ "eth0" },				/* WAN missing */
		{ "eth0", "eth0" },			/* same port twice */
		{ "a", "b", "c" },			/* extra argument */
		{ "--lan", "a", "--lan", "b", "c" },	/* LAN twice */
		{ "--mark-in", "foo", "a", "b" },
		{ "--mark-in", "-1", "a", "b" },
		{ "--mark-out", "0x100000000", "a", "b" },
		{ "--bridge-ethertype", "0x0800", "a", "b" },
		{ "--bridge-ethertype", "0x86dd", "a", "b" },
		{ "--bridge-ethertype", "0x0806", "a", "b" },
		{ "--bridge-ethertype", "0x05dc", "a", "b" }, /* 802.3 length */
		{ "--bridge-ethertype", "0x10000", "a", "b" },
		{ "--xdp-mode", "turbo", "a", "b" },
		{ "--pin-dir", "relative", "a", "b" },
		{ "--no-such-option", "a", "b" },
		{ "a", "--mark-in" },			/* value missing */
		{ "0123456789abcdefX", "b" },		/* name too long */
		{ "a:b", "c" },				/* LAN:WAN, then one more */
		{ "-l", "a", "b:c" },			/* ':' is not in names */
		{ "a:b:c" },
		{ ":b" },				/* LAN:WAN with LAN empty */
		{ "a:" },
		{ "a:a" },
		{ "..", "c" },
		{ "-c", "", "a", "b" },			/* empty config path */
		{ "a", "b", "-c" },			/* -c without a file */
	};
	struct br_options o;
	char *argv[8];
	unsigned int i, n;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		argv[0] = "brouterd";
		for (n = 0; n < 6 && bad[i][n]; n++)
			argv[n + 1] = (char *)bad[i][n];
		argv[n + 1] = NULL;
		if (parse(&o, argv) >= 0)
			fail_msg("case %u (%s ...) was accepted", i, bad[i][0]);
	}
}

static void config_options(void **state)
{
	struct br_options o;

	(void)state;
	assert_int_equal(parse(&o, ARGV("a", "b")), 0);
	assert_string_equal(o.config_path, BR_CONFIG_DEFAULT);
	assert_int_equal(o.check_config, 0);
	assert_int_equal(o.given, BR_GIVEN_LAN | BR_GIVEN_WAN);
	assert_int_equal(parse(&o, ARGV("-c", "/tmp/x.conf", "--check-config", "a", "b")), 0);
	assert_string_equal(o.config_path, "/tmp/x.conf");
	assert_int_equal(o.check_config, 1);
	assert_true(o.given & BR_GIVEN_CONFIG);
	assert_int_equal(parse(&o, ARGV("--config", "rel.conf", "a", "b")), 0);
	assert_string_equal(o.config_path, "rel.conf");
}

/* LAN:WAN in one argument, as systemd's brouterd@LAN:WAN gives it. */
static void lan_colon_wan(void **state)
{
	struct br_options o;

	(void)state;
	assert_int_equal(parse(&o, ARGV("-v", "eth0:wan-1.7")), 0);
	assert_string_equal(o.ifname[BR_PORT_LAN], "eth0");
	assert_string_equal(o.ifname[BR_PORT_WAN], "wan-1.7");
	assert_int_equal(o.given, BR_GIVEN_LAN | BR_GIVEN_WAN | BR_GIVEN_VERBOSITY);
}

/*
 * A flag of the command line wins over the file only when given: --syslog
 * (log.syslog), --wait (wait-for-ports), each at @off in the options.
 */
static void flag_given(const char *opt, size_t off, unsigned int given)
{
	struct br_options file, cli;
	int *cli_flag = (int *)((char *)&cli + off),
	    *file_flag = (int *)((char *)&file + off);

	assert_int_equal(parse(&cli, ARGV("a", "b")), 0);
	assert_int_equal(*cli_flag, 0);
	assert_int_equal(parse(&cli, ARGV((char *)opt, "a", "b")), 0);
	assert_int_equal(*cli_flag, 1);
	assert_true(cli.given & given);
	options_defaults(&file);
	options_apply(&file, &cli);
	assert_int_equal(*file_flag, 1);
	/* without the option the file's choice stands */
	assert_int_equal(parse(&cli, ARGV("a", "b")), 0);
	*file_flag = 1;
	options_apply(&file, &cli);
	assert_int_equal(*file_flag, 1);
}

static void syslog_and_wait_options(void **state)
{
	(void)state;
	flag_given("--syslog", offsetof(struct br_options, syslog),
		   BR_GIVEN_SYSLOG);
	flag_given("--wait", offsetof(struct br_options, wait), BR_GIVEN_WAIT);
}

/* Ports may come from the config file: only the full parse demands them. */
static void ports_optional_before_the_file(void **state)
{
	struct br_options o;

	(void)state;
	assert_int_equal(options_parse_args(&o, 1, ARGV("x")), 0);
	assert_int_equal(o.given, 0);
	assert_int_equal(options_check_ports(&o), -EINVAL);
	assert_int_equal(options_parse_args(&o, 2, ARGV("eth0")), 0);
	assert_string_equal(o.ifname[BR_PORT_LAN], "eth0");
	assert_int_equal(o.given, BR_GIVEN_LAN);
	assert_int_equal(options_check_ports(&o), -EINVAL);
}

/* Only what the command line gave replaces a value from the file. */
static void apply_given_only(void **state)
{
	struct br_options file, cli;

	(void)state;
	options_defaults(&file);
	strcpy(file.ifname[BR_PORT_LAN], "flan");
	strcpy(file.ifname[BR_PORT_WAN], "fwan");
	file.mark[BR_PORT_LAN] = 1;
	file.mark[BR_PORT_WAN] = 2;
	file.ethertypes[0] = 0x88cc;
	file.n_ethertypes = 1;
	file.xdp_mode = BR_XDP_NATIVE;
	assert_int_equal(options_parse_args(&cli, 6,
		ARGV("--mark-in", "9", "-w", "eth1", "-vv")), 0);
	assert_int_equal(cli.given, BR_GIVEN_MARK_IN | BR_GIVEN_WAN | BR_GIVEN_VERBOSITY);
	options_apply(&file, &cli);
	assert_string_equal(file.ifname[BR_PORT_LAN], "flan");
	assert_string_equal(file.ifname[BR_PORT_WAN], "eth1");
	assert_int_equal(file.mark[BR_PORT_LAN], 1);
	assert_int_equal(file.mark[BR_PORT_WAN], 9);
	assert_int_equal(file.n_ethertypes, 1);
	assert_int_equal(file.xdp_mode, BR_XDP_NATIVE);
	assert_int_equal(options_log_level(&file), BR_LOG_INFO + 2);
	assert_int_equal(options_parse_args(&cli, 3, ARGV("-q", "--bridge-pppoe")), 0);
	options_apply(&file, &cli);
	assert_int_equal(file.n_ethertypes, 2); /* the list is replaced */
	assert_int_equal(file.ethertypes[0], ETH_P_PPP_DISC);
	assert_int_equal(options_log_level(&file), BR_LOG_WARN);
}

static void helpers(void **state)
{
	enum br_xdp_mode m;

	(void)state;
	assert_null(ifname_invalid("eth0"));
	assert_non_null(ifname_invalid(""));
	assert_non_null(ifname_invalid("a b"));
	assert_null(ethertype_invalid(0x88cc));
	assert_non_null(ethertype_invalid(0x0800));
	assert_non_null(ethertype_invalid(0x10000));
	assert_int_equal(xdp_mode_parse("native", &m), 0);
	assert_int_equal(m, BR_XDP_NATIVE);
	assert_int_equal(xdp_mode_parse("Native", &m), -EINVAL);
}

static void too_many_ethertypes(void **state)
{
	char *argv[2 * BR_MAX_ETHERTYPES + 6];
	char types[BR_MAX_ETHERTYPES + 1][8];
	struct br_options o;
	int i, n = 0;

	(void)state;
	argv[n++] = "brouterd";
	for (i = 0; i <= BR_MAX_ETHERTYPES; i++) {
		snprintf(types[i], sizeof(types[i]), "0x%04x", 0x9000 + i);
		argv[n++] = "--bridge-ethertype";
		argv[n++] = types[i];
	}
	argv[n++] = "a";
	argv[n++] = "b";
	argv[n] = NULL;
	assert_int_equal(parse(&o, argv), -E2BIG);
	/* exactly the maximum is fine: drop the last pair */
	argv[2 * BR_MAX_ETHERTYPES + 1] = "a";
	argv[2 * BR_MAX_ETHERTYPES + 2] = "b";
	argv[2 * BR_MAX_ETHERTYPES + 3] = NULL;
	assert_int_equal(parse(&o, argv), 0);
	assert_int_equal(o.n_ethertypes, BR_MAX_ETHERTYPES);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(positional_lan_then_wan),
		cmocka_unit_test(named_ports_any_order),
		cmocka_unit_test(marks_and_ethertypes),
		cmocka_unit_test(help_and_version_stop_early),
		cmocka_unit_test(rejects_bad_input),
		cmocka_unit_test(too_many_ethertypes),
		cmocka_unit_test(config_options),
		cmocka_unit_test(lan_colon_wan),
		cmocka_unit_test(syslog_and_wait_options),
		cmocka_unit_test(ports_optional_before_the_file),
		cmocka_unit_test(apply_given_only),
		cmocka_unit_test(helpers),
	};

	br_log_level = -1; /* the rejections print errors; keep output clean */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
