// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* brouterd command line. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if_ether.h>

#include "common/log.h"
#include "config/options.h"

static const char usage_text[] =
	"usage: brouterd [options] LAN WAN\n"
	"       brouterd [options] LAN:WAN         (one argument, as in brouterd@LAN:WAN)\n"
	"       brouterd [options] --lan IF --wan IF\n"
	"       brouterd [options] -c FILE          (ports from the file)\n"
	"       brouterd --check-config [-c FILE]\n"
	"\n"
	"Bridge IPv6 between the LAN and WAN ports in XDP, pass IPv4 and\n"
	"everything else to the kernel, mark the direction of IPv6 passed up.\n"
	"\n"
	"  -c, --config FILE         config file (default " BR_CONFIG_DEFAULT
	");\n"
	"                            the command line overrides it\n"
	"      --check-config        validate the config, print FILE: OK and exit\n"
	"  -l, --lan IF              LAN port\n"
	"  -w, --wan IF              WAN port (the ISP line)\n"
	"  -p, --pin-dir DIR         pin maps under DIR (default " BR_PIN_DIR_DEFAULT
	")\n"
	"      --mark-out N          mark of IPv6 from the LAN passed to the stack (default 0x600)\n"
	"      --mark-in N           mark of IPv6 from the WAN passed to the stack (default 0x601)\n"
	"      --no-mark             do not set direction marks\n"
	"      --bridge-pppoe        also bridge PPPoE (0x8863 discovery, 0x8864 session)\n"
	"      --bridge-ethertype T  also bridge ethertype T (e.g. 0x88cc); repeatable\n"
	"      --xdp-mode MODE       auto (native, else generic), native or generic\n"
	"      --xdp-attach HOW      auto (libxdp's dispatcher, else a BPF link), libxdp\n"
	"                            or link\n"
	"      --tc-attach HOW       auto (tcx links, else a clsact qdisc), tcx or\n"
	"                            clsact\n"
	"      --keep-state          on exit, leave flows and FDB pinned so a restarted\n"
	"                            brouterd keeps every connection\n"
	"      --wait                wait for ports that do not exist yet instead of\n"
	"                            failing\n"
	"      --tunnel MODE         auto (IPv4 over IPv6 as HB46PP provisioning says,\n"
	"                            tunnel.mode = \"auto\") or off (no tunnel at all)\n"
	"  -v, --verbose             more logging (repeat for libbpf details)\n"
	"  -q, --quiet               warnings and errors only\n"
	"      --syslog              log to syslog (facility daemon) instead of stderr\n"
	"  -h, --help                this text\n"
	"  -V, --version             print the version\n";

enum {
	OPT_MARK_OUT = 0x100,
	OPT_MARK_IN,
	OPT_NO_MARK,
	OPT_BRIDGE_PPPOE,
	OPT_BRIDGE_ETHERTYPE,
	OPT_XDP_MODE,
	OPT_XDP_ATTACH,
	OPT_TC_ATTACH,
	OPT_CHECK_CONFIG,
	OPT_KEEP_STATE,
	OPT_SYSLOG,
	OPT_WAIT,
	OPT_TUNNEL,
};

static const struct option long_opts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "check-config", no_argument, NULL, OPT_CHECK_CONFIG },
	{ "keep-state", no_argument, NULL, OPT_KEEP_STATE },
	{ "wait", no_argument, NULL, OPT_WAIT },
	{ "lan", required_argument, NULL, 'l' },
	{ "wan", required_argument, NULL, 'w' },
	{ "pin-dir", required_argument, NULL, 'p' },
	{ "mark-out", required_argument, NULL, OPT_MARK_OUT },
	{ "mark-in", required_argument, NULL, OPT_MARK_IN },
	{ "no-mark", no_argument, NULL, OPT_NO_MARK },
	{ "bridge-pppoe", no_argument, NULL, OPT_BRIDGE_PPPOE },
	{ "bridge-ethertype", required_argument, NULL, OPT_BRIDGE_ETHERTYPE },
	{ "xdp-mode", required_argument, NULL, OPT_XDP_MODE },
	{ "xdp-attach", required_argument, NULL, OPT_XDP_ATTACH },
	{ "tc-attach", required_argument, NULL, OPT_TC_ATTACH },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "syslog", no_argument, NULL, OPT_SYSLOG },
	{ "tunnel", required_argument, NULL, OPT_TUNNEL },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ 0 },
};

int parse_u32(const char *s, __u32 min, __u32 max, __u32 *out)
{
	unsigned long long v;
	char *end;

	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

const char *ifname_invalid(const char *name)
{
	if (!*name)
		return "empty interface name";
	if (strlen(name) >= IF_NAMESIZE)
		return "interface name longer than 15 characters";
	/* What the kernel's dev_valid_name() refuses. */
	if (strpbrk(name, "/: \t\n\v\f\r") || !strcmp(name, ".") ||
	    !strcmp(name, ".."))
		return "interface names cannot contain '/', ':' or spaces, or be . or ..";
	return NULL;
}

static int set_ifname(struct br_options *o, int port, const char *name)
{
	const char *why = ifname_invalid(name);

	if (why) {
		pr_err("invalid interface name '%s': %s", name, why);
		return -EINVAL;
	}
	if (o->given & (port == BR_PORT_LAN ? BR_GIVEN_LAN : BR_GIVEN_WAN)) {
		pr_err("%s port given twice ('%s' and '%s')",
		       port == BR_PORT_LAN ? "LAN" : "WAN", o->ifname[port], name);
		return -EINVAL;
	}
	strcpy(o->ifname[port], name);
	o->given |= port == BR_PORT_LAN ? BR_GIVEN_LAN : BR_GIVEN_WAN;
	return 0;
}

const char *ethertype_invalid(__u32 t)
{
	if (t == ETH_P_IP || t == ETH_P_ARP)
		return "IPv4 and ARP are routed by the kernel and cannot be bridged";
	if (t == ETH_P_IPV6)
		return "IPv6 (0x86dd) is always bridged";
	if (t < ETH_P_802_3_MIN)
		return "an 802.3 length, not an ethertype (must be >= 0x0600)";
	if (t > 0xffff)
		return "not a 16-bit number";
	return NULL;
}

int options_add_ethertype(struct br_options *o, __u32 t)
{
	int i;

	if (ethertype_invalid(t))
		return -EINVAL;
	for (i = 0; i < o->n_ethertypes; i++)
		if (o->ethertypes[i] == t)
			return 0;
	if (o->n_ethertypes == BR_MAX_ETHERTYPES)
		return -E2BIG;
	o->ethertypes[o->n_ethertypes++] = t;
	return 0;
}

/* Command line: the file's list is replaced by the first ethertype option. */
static int add_ethertype(struct br_options *o, __u32 t)
{
	int err = options_add_ethertype(o, t);

	if (err == -EINVAL)
		pr_err("ethertype 0x%04x: %s", t, ethertype_invalid(t));
	else if (err)
		pr_err("at most %d extra ethertypes can be bridged", BR_MAX_ETHERTYPES);
	o->given |= BR_GIVEN_ETHERTYPES;
	return err;
}

int xdp_mode_parse(const char *s, enum br_xdp_mode *out)
{
	if (!strcmp(s, "auto"))
		*out = BR_XDP_AUTO;
	else if (!strcmp(s, "native"))
		*out = BR_XDP_NATIVE;
	else if (!strcmp(s, "generic"))
		*out = BR_XDP_GENERIC;
	else
		return -EINVAL;
	return 0;
}

const char *const xdp_attach_names[] = { "auto", "libxdp", "link", NULL };
const char *const tc_attach_names[] = { "auto", "tcx", "clsact", NULL };

int name_index(const char *const *names, const char *s)
{
	int i;

	for (i = 0; names[i]; i++)
		if (!strcmp(s, names[i]))
			return i;
	return -EINVAL;
}

static int parse_mark(struct br_options *o, const char *arg, int port)
{
	if (parse_u32(arg, 0, 0xffffffffU, &o->mark[port])) {
		pr_err("%s: '%s' is not a 32-bit number",
		       port == BR_PORT_LAN ? "--mark-out" : "--mark-in", arg);
		return -EINVAL;
	}
	o->given |= port == BR_PORT_LAN ? BR_GIVEN_MARK_OUT : BR_GIVEN_MARK_IN;
	return 0;
}

static int parse_one(struct br_options *o, int c, const char *arg)
{
	__u32 v;
	int i;

	switch (c) {
	case 'c':
		if (!*arg || strlen(arg) >= sizeof(o->config_path)) {
			pr_err("--config: invalid file name '%s'", arg);
			return -EINVAL;
		}
		strcpy(o->config_path, arg);
		o->given |= BR_GIVEN_CONFIG;
		return 0;
	case OPT_CHECK_CONFIG:
		o->check_config = 1;
		return 0;
	case OPT_KEEP_STATE:
		o->keep_state = 1;
		return 0;
	case OPT_WAIT:
		o->wait = 1;
		o->given |= BR_GIVEN_WAIT;
		return 0;
	case 'l':
		return set_ifname(o, BR_PORT_LAN, arg);
	case 'w':
		return set_ifname(o, BR_PORT_WAN, arg);
	case 'p':
		if (!*arg || strlen(arg) >= sizeof(o->pin_dir) || arg[0] != '/') {
			pr_err("--pin-dir must be an absolute path shorter than %zu bytes",
			       sizeof(o->pin_dir));
			return -EINVAL;
		}
		strcpy(o->pin_dir, arg);
		o->given |= BR_GIVEN_PIN_DIR;
		return 0;
	case OPT_MARK_OUT:
		return parse_mark(o, arg, BR_PORT_LAN);
	case OPT_MARK_IN:
		return parse_mark(o, arg, BR_PORT_WAN);
	case OPT_NO_MARK:
		o->mark_enabled = 0;
		o->given |= BR_GIVEN_NO_MARK;
		return 0;
	case OPT_BRIDGE_PPPOE:
		return add_ethertype(o, ETH_P_PPP_DISC) ?:
		       add_ethertype(o, ETH_P_PPP_SES);
	case OPT_BRIDGE_ETHERTYPE:
		if (parse_u32(arg, 0, 0xffff, &v)) {
			pr_err("--bridge-ethertype: '%s' is not a 16-bit number", arg);
			return -EINVAL;
		}
		return add_ethertype(o, v);
	case OPT_XDP_MODE:
		if (xdp_mode_parse(arg, &o->xdp_mode)) {
			pr_err("--xdp-mode: '%s' is not auto, native or generic", arg);
			return -EINVAL;
		}
		o->given |= BR_GIVEN_XDP_MODE;
		return 0;
	case OPT_XDP_ATTACH:
		i = name_index(xdp_attach_names, arg);
		if (i < 0) {
			pr_err("--xdp-attach: '%s' is not auto, libxdp or link",
			       arg);
			return -EINVAL;
		}
		o->xdp_attach = i;
		o->given |= BR_GIVEN_XDP_ATTACH;
		return 0;
	case OPT_TC_ATTACH:
		i = name_index(tc_attach_names, arg);
		if (i < 0) {
			pr_err("--tc-attach: '%s' is not auto, tcx or clsact",
			       arg);
			return -EINVAL;
		}
		o->tc_attach = i;
		o->given |= BR_GIVEN_TC_ATTACH;
		return 0;
	case 'v':
		o->verbosity++;
		o->given |= BR_GIVEN_VERBOSITY;
		return 0;
	case 'q':
		o->verbosity = -1;
		o->given |= BR_GIVEN_VERBOSITY;
		return 0;
	case OPT_SYSLOG:
		o->syslog = 1;
		o->given |= BR_GIVEN_SYSLOG;
		return 0;
	case OPT_TUNNEL:
		if (strcmp(arg, "auto") && strcmp(arg, "off")) {
			pr_err("--tunnel: '%s' is not auto or off", arg);
			return -EINVAL;
		}
		o->tunnel = strcmp(arg, "auto") ? BR_TUNNEL_NONE
						: BR_TUNNEL_AUTO;
		o->given |= BR_GIVEN_TUNNEL;
		return 0;
	}
	return -EINVAL;
}

void options_defaults(struct br_options *o)
{
	memset(o, 0, sizeof(*o));
	strcpy(o->pin_dir, BR_PIN_DIR_DEFAULT);
	strcpy(o->config_path, BR_CONFIG_DEFAULT);
	o->mark[BR_PORT_LAN] = BR_MARK_OUT_DEFAULT;
	o->mark[BR_PORT_WAN] = BR_MARK_IN_DEFAULT;
	o->mark_enabled = 1;
}

/*
 * Positional ports fill LAN then WAN, after any --lan/--wan. "LAN:WAN" is
 * both in one argument, as a systemd instance name gives them (no
 * interface name holds a ':').
 */
static int set_positional(struct br_options *o, const char *arg)
{
	const char *colon = strchr(arg, ':');
	char *lan;
	int port, err;

	if (colon && !(o->given & (BR_GIVEN_LAN | BR_GIVEN_WAN))) {
		lan = strndup(arg, colon - arg);
		if (!lan)
			return -ENOMEM;
		err = set_ifname(o, BR_PORT_LAN, lan) ?:
		      set_ifname(o, BR_PORT_WAN, colon + 1);
		free(lan);
		return err;
	}
	port = !(o->given & BR_GIVEN_LAN) ? BR_PORT_LAN :
	       !(o->given & BR_GIVEN_WAN) ? BR_PORT_WAN : -1;
	if (port < 0) {
		pr_err("unexpected argument '%s' (LAN and WAN already given)", arg);
		return -EINVAL;
	}
	return set_ifname(o, port, arg);
}

int options_parse_args(struct br_options *o, int argc, char **argv)
{
	int c, err;

	options_defaults(o);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:l:w:p:vqhV", long_opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage_text, stdout);
			return 1;
		}
		if (c == 'V') {
			printf("brouterd %s\n", BR_VERSION);
			return 1;
		}
		if (c == '?') {
			pr_err("unknown option '%s' (see --help)", argv[optind - 1]);
			return -EINVAL;
		}
		if (c == ':') {
			pr_err("option '%s' needs a value", argv[optind - 1]);
			return -EINVAL;
		}
		err = parse_one(o, c, optarg);
		if (err)
			return err;
	}

	for (; optind < argc; optind++) {
		err = set_positional(o, argv[optind]);
		if (err)
			return err;
	}
	return 0;
}

int options_check_ports(const struct br_options *o)
{
	if (!o->ifname[BR_PORT_LAN][0] || !o->ifname[BR_PORT_WAN][0]) {
		pr_err("need a LAN and a WAN port: brouterd [options] LAN WAN, "
		       "or lan/wan in the config file");
		return -EINVAL;
	}
	if (!strcmp(o->ifname[BR_PORT_LAN], o->ifname[BR_PORT_WAN])) {
		pr_err("LAN and WAN are the same interface (%s)", o->ifname[BR_PORT_LAN]);
		return -EINVAL;
	}
	return 0;
}

int options_parse(struct br_options *o, int argc, char **argv)
{
	int err = options_parse_args(o, argc, argv);

	return err ?: options_check_ports(o);
}

void options_apply(struct br_options *o, const struct br_options *cli)
{
	unsigned int g = cli->given;
	int p;

	for (p = 0; p < BR_NPORTS; p++)
		if (g & (p == BR_PORT_LAN ? BR_GIVEN_LAN : BR_GIVEN_WAN))
			strcpy(o->ifname[p], cli->ifname[p]);
	if (g & BR_GIVEN_PIN_DIR)
		strcpy(o->pin_dir, cli->pin_dir);
	if (g & BR_GIVEN_MARK_OUT)
		o->mark[BR_PORT_LAN] = cli->mark[BR_PORT_LAN];
	if (g & BR_GIVEN_MARK_IN)
		o->mark[BR_PORT_WAN] = cli->mark[BR_PORT_WAN];
	if (g & BR_GIVEN_NO_MARK)
		o->mark_enabled = 0;
	if (g & BR_GIVEN_ETHERTYPES) {
		memcpy(o->ethertypes, cli->ethertypes, sizeof(o->ethertypes));
		o->n_ethertypes = cli->n_ethertypes;
	}
	if (g & BR_GIVEN_XDP_MODE)
		o->xdp_mode = cli->xdp_mode;
	if (g & BR_GIVEN_XDP_ATTACH)
		o->xdp_attach = cli->xdp_attach;
	if (g & BR_GIVEN_TC_ATTACH)
		o->tc_attach = cli->tc_attach;
	if (g & BR_GIVEN_VERBOSITY)
		o->verbosity = cli->verbosity;
	if (g & BR_GIVEN_SYSLOG)
		o->syslog = 1;
	if (g & BR_GIVEN_WAIT)
		o->wait = 1;
	strcpy(o->config_path, cli->config_path);
	o->check_config = cli->check_config;
	o->keep_state = cli->keep_state;
	o->tunnel = cli->tunnel;
	o->given = g;
}

int options_log_level(const struct br_options *o)
{
	return o->verbosity < 0 ? BR_LOG_WARN : BR_LOG_INFO + o->verbosity;
}
