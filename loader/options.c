// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* brouterd command line. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if_ether.h>

#include "log.h"
#include "options.h"

static const char usage_text[] =
	"usage: brouterd [options] LAN WAN\n"
	"       brouterd [options] --lan IF --wan IF\n"
	"\n"
	"Bridge IPv6 between the LAN and WAN ports in XDP, pass IPv4 and\n"
	"everything else to the kernel, mark the direction of IPv6 passed up.\n"
	"\n"
	"  -l, --lan IF              LAN port\n"
	"  -w, --wan IF              WAN port (the ISP line)\n"
	"  -p, --pin-dir DIR         pin maps under DIR (default " BR_PIN_DIR_DEFAULT ")\n"
	"      --mark-out N          mark of IPv6 from the LAN passed to the stack (default 0x600)\n"
	"      --mark-in N           mark of IPv6 from the WAN passed to the stack (default 0x601)\n"
	"      --no-mark             do not set direction marks\n"
	"      --bridge-pppoe        also bridge PPPoE (0x8863 discovery, 0x8864 session)\n"
	"      --bridge-ethertype T  also bridge ethertype T (e.g. 0x88cc); repeatable\n"
	"      --xdp-mode MODE       auto (native, else generic), native or generic\n"
	"  -v, --verbose             more logging (repeat for libbpf details)\n"
	"  -q, --quiet               warnings and errors only\n"
	"  -h, --help                this text\n"
	"  -V, --version             print the version\n";

enum {
	OPT_MARK_OUT = 0x100,
	OPT_MARK_IN,
	OPT_NO_MARK,
	OPT_BRIDGE_PPPOE,
	OPT_BRIDGE_ETHERTYPE,
	OPT_XDP_MODE,
};

static const struct option long_opts[] = {
	{ "lan", required_argument, NULL, 'l' },
	{ "wan", required_argument, NULL, 'w' },
	{ "pin-dir", required_argument, NULL, 'p' },
	{ "mark-out", required_argument, NULL, OPT_MARK_OUT },
	{ "mark-in", required_argument, NULL, OPT_MARK_IN },
	{ "no-mark", no_argument, NULL, OPT_NO_MARK },
	{ "bridge-pppoe", no_argument, NULL, OPT_BRIDGE_PPPOE },
	{ "bridge-ethertype", required_argument, NULL, OPT_BRIDGE_ETHERTYPE },
	{ "xdp-mode", required_argument, NULL, OPT_XDP_MODE },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
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

static int set_ifname(struct br_options *o, int port, const char *name)
{
	if (!*name || strlen(name) >= IF_NAMESIZE || strchr(name, '/')) {
		pr_err("invalid interface name '%s'", name);
		return -1;
	}
	if (o->ifname[port][0]) {
		pr_err("%s port given twice ('%s' and '%s')",
		       port == BR_PORT_LAN ? "LAN" : "WAN", o->ifname[port], name);
		return -1;
	}
	strcpy(o->ifname[port], name);
	return 0;
}

static int add_ethertype(struct br_options *o, __u32 t)
{
	int i;

	if (t == ETH_P_IP || t == ETH_P_ARP) {
		pr_err("ethertype 0x%04x is routed by the kernel and cannot be bridged", t);
		return -1;
	}
	if (t == ETH_P_IPV6) {
		pr_err("ethertype 0x86dd (IPv6) is always bridged");
		return -1;
	}
	if (t < ETH_P_802_3_MIN) {
		pr_err("0x%04x is an 802.3 length, not an ethertype (must be >= 0x0600)", t);
		return -1;
	}
	for (i = 0; i < o->n_ethertypes; i++)
		if (o->ethertypes[i] == t)
			return 0;
	if (o->n_ethertypes == BR_MAX_ETHERTYPES) {
		pr_err("at most %d extra ethertypes can be bridged", BR_MAX_ETHERTYPES);
		return -1;
	}
	o->ethertypes[o->n_ethertypes++] = t;
	return 0;
}

static int parse_mark(const char *arg, const char *opt, __u32 *out)
{
	if (parse_u32(arg, 0, 0xffffffffU, out)) {
		pr_err("%s: '%s' is not a 32-bit number", opt, arg);
		return -1;
	}
	return 0;
}

static int parse_one(struct br_options *o, int c, const char *arg)
{
	__u32 v;

	switch (c) {
	case 'l':
		return set_ifname(o, BR_PORT_LAN, arg);
	case 'w':
		return set_ifname(o, BR_PORT_WAN, arg);
	case 'p':
		if (!*arg || strlen(arg) >= sizeof(o->pin_dir) || arg[0] != '/') {
			pr_err("--pin-dir must be an absolute path shorter than %zu bytes",
			       sizeof(o->pin_dir));
			return -1;
		}
		strcpy(o->pin_dir, arg);
		return 0;
	case OPT_MARK_OUT:
		return parse_mark(arg, "--mark-out", &o->mark[BR_PORT_LAN]);
	case OPT_MARK_IN:
		return parse_mark(arg, "--mark-in", &o->mark[BR_PORT_WAN]);
	case OPT_NO_MARK:
		o->mark_enabled = 0;
		return 0;
	case OPT_BRIDGE_PPPOE:
		return add_ethertype(o, ETH_P_PPP_DISC) ?:
		       add_ethertype(o, ETH_P_PPP_SES);
	case OPT_BRIDGE_ETHERTYPE:
		if (parse_u32(arg, 0, 0xffff, &v)) {
			pr_err("--bridge-ethertype: '%s' is not a 16-bit number", arg);
			return -1;
		}
		return add_ethertype(o, v);
	case OPT_XDP_MODE:
		if (!strcmp(arg, "auto"))
			o->xdp_mode = BR_XDP_AUTO;
		else if (!strcmp(arg, "native"))
			o->xdp_mode = BR_XDP_NATIVE;
		else if (!strcmp(arg, "generic"))
			o->xdp_mode = BR_XDP_GENERIC;
		else {
			pr_err("--xdp-mode: '%s' is not auto, native or generic", arg);
			return -1;
		}
		return 0;
	case 'v':
		o->verbosity++;
		return 0;
	case 'q':
		o->verbosity = -1;
		return 0;
	}
	return -1;
}

int options_parse(struct br_options *o, int argc, char **argv)
{
	int c, port;

	memset(o, 0, sizeof(*o));
	strcpy(o->pin_dir, BR_PIN_DIR_DEFAULT);
	o->mark[BR_PORT_LAN] = BR_MARK_OUT_DEFAULT;
	o->mark[BR_PORT_WAN] = BR_MARK_IN_DEFAULT;
	o->mark_enabled = 1;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":l:w:p:vqhV", long_opts, NULL)) != -1) {
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
			return -1;
		}
		if (c == ':') {
			pr_err("option '%s' needs a value", argv[optind - 1]);
			return -1;
		}
		if (parse_one(o, c, optarg))
			return -1;
	}

	/* Positional ports fill LAN then WAN, after any --lan/--wan. */
	for (; optind < argc; optind++) {
		port = !o->ifname[BR_PORT_LAN][0] ? BR_PORT_LAN :
		       !o->ifname[BR_PORT_WAN][0] ? BR_PORT_WAN : -1;
		if (port < 0) {
			pr_err("unexpected argument '%s' (LAN and WAN already given)",
			       argv[optind]);
			return -1;
		}
		if (set_ifname(o, port, argv[optind]))
			return -1;
	}
	if (!o->ifname[BR_PORT_LAN][0] || !o->ifname[BR_PORT_WAN][0]) {
		pr_err("need a LAN and a WAN port: brouterd [options] LAN WAN");
		return -1;
	}
	if (!strcmp(o->ifname[BR_PORT_LAN], o->ifname[BR_PORT_WAN])) {
		pr_err("LAN and WAN are the same interface (%s)", o->ifname[BR_PORT_LAN]);
		return -1;
	}
	return 0;
}
