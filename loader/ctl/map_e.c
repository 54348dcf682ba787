// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* brouterctl map-e: compute and print a CE's MAP-E parameters. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "ctl/map_e.h"
#include "common/log.h"
#include "tunnel/mape_rule.h"

static const char map_e_usage[] =
	"usage: brouterctl map-e --rule-ipv6 P/L --rule-ipv4 P/L --ea-len N\n"
	"                        --psid-offset A [--psid-len K [--psid N]]\n"
	"                        --prefix P/L [--legacy] [--br ADDR] [--json]\n"
	"\n"
	"Compute a MAP-E CE's IPv4 address, PSID, port set and IPv6 address\n"
	"(RFC 7597) from the Basic Mapping Rule and the end-user IPv6 prefix.\n"
	"\n"
	"  --rule-ipv6 P/L     rule IPv6 prefix\n"
	"  --rule-ipv4 P/L     rule IPv4 prefix\n"
	"  --ea-len N          EA-bits length (0..48)\n"
	"  --psid-offset A     PSID offset a (0..15; RFC 7597 default 6)\n"
	"  --psid-len K        PSID length: checked against the EA bits, or, when\n"
	"                      they fill the IPv4 address (EA-bits length 0 and\n"
	"                      a /32), how the address is shared\n"
	"  --psid N            PSID for that case (decimal or 0x hex)\n"
	"  --prefix P/L        end-user IPv6 prefix (delegated by the ISP)\n"
	"  --legacy            interface identifier of draft-ietf-softwire-map-03\n"
	"                      (v6 Plus, OCN) instead of RFC 7597\n"
	"  --br ADDR           BR address (checked and shown)\n"
	"  -j, --json          machine-readable output\n";

enum {
	OPT_RULE6 = 0x100,
	OPT_RULE4,
	OPT_EA_LEN,
	OPT_PSID_OFFSET,
	OPT_PSID_LEN,
	OPT_PSID,
	OPT_PREFIX,
	OPT_LEGACY,
	OPT_BR,
};

/* Options that must be given, one bit each. */
enum {
	REQ_RULE6 = 1 << 0,
	REQ_RULE4 = 1 << 1,
	REQ_EA_LEN = 1 << 2,
	REQ_PSID_OFFSET = 1 << 3,
	REQ_PREFIX = 1 << 4,
};

static const char *const req_name[] = {
	"--rule-ipv6", "--rule-ipv4", "--ea-len", "--psid-offset", "--prefix",
};

static const struct option map_e_opts[] = {
	{ "rule-ipv6", required_argument, NULL, OPT_RULE6 },
	{ "rule-ipv4", required_argument, NULL, OPT_RULE4 },
	{ "ea-len", required_argument, NULL, OPT_EA_LEN },
	{ "psid-offset", required_argument, NULL, OPT_PSID_OFFSET },
	{ "psid-len", required_argument, NULL, OPT_PSID_LEN },
	{ "psid", required_argument, NULL, OPT_PSID },
	{ "prefix", required_argument, NULL, OPT_PREFIX },
	{ "legacy", no_argument, NULL, OPT_LEGACY },
	{ "br", required_argument, NULL, OPT_BR },
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

struct map_e_args {
	struct mape_rule rule;
	struct prefix6 eu;
	unsigned int given; /* REQ_* */
	int json;
	int help;
};

/* A decimal number; ranges are the rule's business (mape_rule_check). */
static int parse_count(const char *opt, const char *s, int base,
		       unsigned int *out, char *err, size_t errlen)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, base);
	if (*s < '0' || *s > '9' || *end || errno || v > INT_MAX) {
		snprintf(err, errlen, "%s '%s': not a number", opt, s);
		return -EINVAL;
	}
	*out = (unsigned int)v;
	return 0;
}

static int parse_br(const char *s, struct mape_rule *rule, char *err,
		    size_t errlen)
{
	if (inet_pton(AF_INET6, s, &rule->br) != 1) {
		snprintf(err, errlen, "--br '%s': not an IPv6 address", s);
		return -EINVAL;
	}
	rule->has_br = true;
	return 0;
}

static int parse_opt(struct map_e_args *args, int c, const char *val,
		     char *err, size_t errlen)
{
	struct mape_rule *rule = &args->rule;
	unsigned int v;
	int ret, hex;

	switch (c) {
	case OPT_RULE6:
		return prefix6_parse(val, &rule->rule6, "--rule-ipv6", err, errlen);
	case OPT_RULE4:
		return prefix4_parse(val, &rule->rule4, "--rule-ipv4", err, errlen);
	case OPT_PREFIX:
		return prefix6_parse(val, &args->eu, "--prefix", err, errlen);
	case OPT_EA_LEN:
		return parse_count("--ea-len", val, 10, &rule->ea_len, err, errlen);
	case OPT_PSID_OFFSET:
		return parse_count("--psid-offset", val, 10, &rule->psid_offset, err, errlen);
	case OPT_PSID_LEN:
		ret = parse_count("--psid-len", val, 10, &v, err, errlen);
		rule->psid_len = (int)v;
		return ret;
	case OPT_PSID:
		hex = val[0] == '0' && (val[1] == 'x' || val[1] == 'X');
		ret = parse_count("--psid", val, hex ? 16 : 10, &v, err, errlen);
		rule->psid = (int)v;
		return ret;
	case OPT_LEGACY:
		rule->format = MAPE_FMT_LEGACY;
		return 0;
	case OPT_BR:
		return parse_br(val, rule, err, errlen);
	}
	return 0;
}

static unsigned int req_bit(int c)
{
	switch (c) {
	case OPT_RULE6:
		return REQ_RULE6;
	case OPT_RULE4:
		return REQ_RULE4;
	case OPT_EA_LEN:
		return REQ_EA_LEN;
	case OPT_PSID_OFFSET:
		return REQ_PSID_OFFSET;
	case OPT_PREFIX:
		return REQ_PREFIX;
	}
	return 0;
}

/* getopt's own complaint, in our words (opterr is off). */
static void bad_option(int c, char **argv, char *err, size_t errlen)
{
	const char *arg = argv[optind - 1];

	if (c == ':')
		snprintf(err, errlen, "option '%s' needs a value", arg);
	else
		snprintf(err, errlen, "unknown option '%s' (see map-e --help)",
			 arg);
}

static int check_given(const struct map_e_args *args, char *err,
		       size_t errlen)
{
	unsigned int i;

	for (i = 0; i < sizeof(req_name) / sizeof(req_name[0]); i++) {
		if (!(args->given & (1u << i))) {
			snprintf(err, errlen, "missing %s (see map-e --help)",
				 req_name[i]);
			return -EINVAL;
		}
	}
	return 0;
}

static int parse_args(struct map_e_args *args, int argc, char **argv,
		      char *err, size_t errlen)
{
	int c;

	memset(args, 0, sizeof(*args));
	args->rule.psid_len = MAPE_PSID_LEN_AUTO;
	args->rule.psid = MAPE_PSID_AUTO;
	optind = 0; /* glibc: full reset, argv may be a new vector */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":jh", map_e_opts, NULL)) != -1) {
		if (c == '?' || c == ':') {
			bad_option(c, argv, err, errlen);
			return -EINVAL;
		}
		if (c == 'h') {
			args->help = 1;
			return 0;
		}
		if (c == 'j')
			args->json = 1;
		else if (parse_opt(args, c, optarg, err, errlen))
			return -EINVAL;
		args->given |= req_bit(c);
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s'", argv[optind]);
		return -EINVAL;
	}
	return check_given(args, err, errlen);
}

static void format_ipv4(const struct mape_ce *ce, char *buf, size_t len)
{
	char a[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &ce->ipv4, a, sizeof(a));
	if (ce->ipv4_len == 32)
		snprintf(buf, len, "%s", a);
	else
		snprintf(buf, len, "%s/%u", a, ce->ipv4_len);
}

#define RANGES_PER_LINE 6

static void print_ranges_text(FILE *out, const struct mape_ce *ce)
{
	unsigned int i, n = mape_port_range_count(ce);
	struct mape_port_range r;

	fprintf(out, "port ranges      %u\n", n);
	for (i = 0; i < n; i++) {
		mape_port_range(ce, i, &r);
		fprintf(out, "%s%u-%u", i % RANGES_PER_LINE ? " " : "  ",
			r.first, r.last);
		if (i % RANGES_PER_LINE == RANGES_PER_LINE - 1 || i == n - 1)
			fputc('\n', out);
	}
}

static void print_text(FILE *out, const struct mape_rule *rule,
		       const struct mape_ce *ce)
{
	char v4[INET_ADDRSTRLEN + 4], v6[INET6_ADDRSTRLEN];

	format_ipv4(ce, v4, sizeof(v4));
	fprintf(out, "CE IPv4 %s  %s\n", ce->ipv4_len == 32 ? "address" : "prefix ", v4);
	if (ce->psid_len)
		fprintf(out, "PSID             %u (0x%x), length %u, offset %u\n",
			ce->psid, ce->psid, ce->psid_len, ce->psid_offset);
	else
		fprintf(out, "PSID             none (length 0: not shared, every port)\n");
	print_ranges_text(out, ce);
	fprintf(out, "port count       %u\n", mape_port_count(ce));
	inet_ntop(AF_INET6, &ce->ipv6, v6, sizeof(v6));
	fprintf(out, "CE IPv6 address  %s%s\n", v6,
		rule->format == MAPE_FMT_LEGACY ? " (legacy interface id)" : "");
	if (rule->has_br) {
		inet_ntop(AF_INET6, &rule->br, v6, sizeof(v6));
		fprintf(out, "BR address       %s\n", v6);
	}
}

void mape_ports_json(FILE *out, const struct mape_ce *ce)
{
	unsigned int i, n = mape_port_range_count(ce);
	struct mape_port_range r;

	fprintf(out, "\"ports\": [");
	for (i = 0; i < n; i++)
		if (!mape_port_range(ce, i, &r))
			fprintf(out, "%s[%u, %u]", i ? ", " : "", r.first,
				r.last);
	fprintf(out, "], \"port_count\": %u", mape_port_count(ce));
}

static void print_json(FILE *out, const struct mape_rule *rule,
		       const struct mape_ce *ce)
{
	char v4[INET_ADDRSTRLEN + 4], v6[INET6_ADDRSTRLEN];

	format_ipv4(ce, v4, sizeof(v4));
	fprintf(out,
		"{\"ipv4\": \"%s\", \"psid\": %u, \"psid_len\": %u, "
		"\"psid_offset\": %u, ",
		v4, ce->psid, ce->psid_len, ce->psid_offset);
	mape_ports_json(out, ce);
	inet_ntop(AF_INET6, &ce->ipv6, v6, sizeof(v6));
	fprintf(out, ", \"ce_ipv6\": \"%s\"", v6);
	if (rule->has_br) {
		inet_ntop(AF_INET6, &rule->br, v6, sizeof(v6));
		fprintf(out, ", \"br\": \"%s\"", v6);
	}
	fputs("}\n", out);
}

int map_e_run(FILE *out, int argc, char **argv)
{
	char err[MAPE_ERR_LEN] = "";
	struct map_e_args args;
	struct mape_ce ce;

	if (parse_args(&args, argc, argv, err, sizeof(err))) {
		pr_err("map-e: %s", err);
		return 1;
	}
	if (args.help) {
		fputs(map_e_usage, out);
		return 0;
	}
	if (mape_compute(&args.rule, &args.eu, &ce, err, sizeof(err))) {
		pr_err("map-e: %s", err);
		return 1;
	}
	if (args.json)
		print_json(out, &args.rule, &ce);
	else
		print_text(out, &args.rule, &ce);
	return 0;
}

int cmd_map_e(int argc, char **argv)
{
	return map_e_run(stdout, argc, argv);
}
