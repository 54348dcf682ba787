// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Config file: the example parses to what it says, absent keys keep the
 * defaults, every kind of mistake is refused with the right line, the
 * command line beats the file, and a failed (re)load changes nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "config/config.h"
#include "common/log.h"

#define EXAMPLE "loader/config/brouter.conf.example"
#define ARGV(...) ((char *[]){ "brouterd", __VA_ARGS__, NULL })

static char dir[] = "/tmp/brouter-test-config-XXXXXX";
static char path[sizeof(dir) + 32];
static char errors[16384]; /* what the last load logged */

static void write_file(const char *name, const char *text)
{
	char p[sizeof(dir) + 32];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Run @fn with stderr going to errors[]. */
#define CAPTURE(expr)                                                         \
	({                                                                    \
		int saved_ = dup(2), fd_, ret_;                               \
		ssize_t n_;                                                   \
		char tmp_[sizeof(dir) + 16];                                  \
		snprintf(tmp_, sizeof(tmp_), "%s/stderr", dir);               \
		fd_ = open(tmp_, O_RDWR | O_CREAT | O_TRUNC, 0600);          \
		fflush(stderr);                                               \
		dup2(fd_, 2);                                                 \
		ret_ = (expr);                                                \
		fflush(stderr);                                               \
		dup2(saved_, 2);                                              \
		close(saved_);                                                \
		n_ = pread(fd_, errors, sizeof(errors) - 1, 0);               \
		errors[n_ > 0 ? n_ : 0] = '\0';                               \
		close(fd_);                                                   \
		ret_;                                                         \
	})

static int load_text(const char *text, struct br_config *c)
{
	write_file("brouter.conf", text);
	return CAPTURE(config_load(path, 1, c));
}

static int run(char **argv, struct br_config *c)
{
	int argc = 0;

	while (argv[argc])
		argc++;
	return CAPTURE(brouter_config(argc, argv, c));
}

static struct prefix6 pfx(const char *addr, int plen)
{
	struct prefix6 p = { .len = plen };

	assert_int_equal(inet_pton(AF_INET6, addr, &p.addr), 1);
	return p;
}

static void assert_prefix(const struct prefix6 *p, const char *addr, int plen)
{
	struct prefix6 want = pfx(addr, plen);

	assert_int_equal(p->len, plen);
	assert_memory_equal(&p->addr, &want.addr, 16);
}

static void example_parses_to_its_values(void **state)
{
	const struct br_pinhole *ph;
	struct br_config c;

	(void)state;
	assert_int_equal(CAPTURE(config_load(EXAMPLE, 1, &c)), 0);
	assert_string_equal(c.opt.ifname[BR_PORT_LAN], "eth0");
	assert_string_equal(c.opt.ifname[BR_PORT_WAN], "eth1");
	assert_string_equal(c.opt.pin_dir, "/sys/fs/bpf/brouter");
	assert_int_equal(c.opt.mark[BR_PORT_LAN], 0x600);
	assert_int_equal(c.opt.mark[BR_PORT_WAN], 0x601);
	assert_int_equal(c.opt.mark_enabled, 1);
	assert_int_equal(c.opt.n_ethertypes, 1);
	assert_int_equal(c.opt.ethertypes[0], 0x88cc);
	assert_int_equal(c.opt.xdp_mode, BR_XDP_AUTO);
	assert_int_equal(c.opt.xdp_attach, BR_XDP_ATTACH_AUTO);
	assert_int_equal(c.opt.tc_attach, BR_TC_ATTACH_AUTO);
	assert_string_equal(c.metrics_listen, "");
	assert_int_equal(c.opt.wait, 0);
	assert_int_equal(c.log_level, BR_LOG_INFO);
	assert_int_equal(c.opt.syslog, 0);
	assert_int_equal(c.file_found, 1);
	assert_int_equal(c.pol.mode, BR_FW_STATEFUL);
	assert_int_equal(c.pol.lan_ipv6, 1);
	assert_int_equal(c.pol.filtering, BR_FILT_EI);
	assert_int_equal(c.pol.flags, BR_PF_ECHO_IN | BR_PF_IPSEC | BR_PF_LOG_DROPS);
	assert_int_equal(c.pol.log_rate, 10);
	assert_int_equal(c.pol.echo_rate, 100);
	assert_int_equal(c.pol.timeout[BR_TO_TCP_EST], 7440);
	assert_int_equal(c.pol.timeout[BR_TO_TCP_TRANS], 240);
	assert_int_equal(c.pol.timeout[BR_TO_TCP_CLOSED], 10);
	assert_int_equal(c.pol.timeout[BR_TO_UDP], 300);
	assert_int_equal(c.pol.timeout[BR_TO_ICMP], 60);
	assert_int_equal(c.pol.timeout[BR_TO_OTHER], 600);
	assert_int_equal(c.max_flows, 131072);
	assert_int_equal(c.flow_cache, BR_CFG_FC_AUTO);
	assert_int_equal(c.n_lan_prefixes, 1);
	assert_prefix(&c.lan_prefixes[0], "2001:db8:1::", 64);

	assert_int_equal(c.n_pinholes, 4);
	assert_int_equal(c.pol.n_pinholes, 4);
	ph = &c.pinholes[0];
	assert_string_equal(ph->name, "ssh");
	assert_string_equal(ph->file, EXAMPLE);
	assert_int_equal(ph->line, 133); /* where the example has it */
	assert_prefix(&ph->dst, "2001:db8:1::10", 128);
	assert_int_equal(ph->proto, IPPROTO_TCP);
	assert_int_equal(ph->n_ranges, 2);
	assert_int_equal(ph->range[0].lo, 22);
	assert_int_equal(ph->range[0].hi, 22);
	assert_int_equal(ph->range[1].lo, 8000);
	assert_int_equal(ph->range[1].hi, 8080);
	assert_int_equal(ph->n_src, 1);
	assert_prefix(&ph->src[0], "2001:db8:99::", 48);
	ph = &c.pinholes[1];
	assert_string_equal(ph->name, "");
	assert_prefix(&ph->dst, "2001:db8:1::", 64);
	assert_int_equal(ph->proto, IPPROTO_UDP);
	assert_int_equal(ph->n_ranges, 1);
	assert_int_equal(ph->range[0].lo, 5060);
	assert_int_equal(ph->n_src, 0);
	ph = &c.pinholes[2];
	assert_int_equal(ph->proto, IPPROTO_ICMPV6);
	assert_int_equal(ph->n_ranges, 1);
	assert_int_equal(ph->range[0].lo, 128);
	assert_int_equal(ph->range[0].hi, 128);
	ph = &c.pinholes[3];
	assert_int_equal(ph->proto, BR_PIN_PROTO_ANY);
	assert_int_equal(ph->n_ranges, 0);

	/* the tunnel group documents every key but turns nothing on */
	assert_int_equal(c.tunnel.mode, TUNNEL_OFF);
	assert_false(tunnel_cfg_active(&c.tunnel));
	assert_true(c.tunnel.has_mape);
	assert_int_equal(c.tunnel.rule.ea_len, 25);
	assert_int_equal(c.tunnel.rule.format, MAPE_FMT_LEGACY);
	assert_int_equal(c.tunnel.n_reserved, 1);
	assert_true(c.tunnel.has_dslite);
	assert_int_equal(c.tunnel.n_peers, 0);
	config_free(&c);
	assert_null(c.pinholes);
}

static void example_passes_check_config(void **state)
{
	struct br_config c;

	(void)state;
	assert_int_equal(run(ARGV("--check-config", "-c", EXAMPLE), &c), 1);
}

static void defaults_when_keys_are_absent(void **state)
{
	struct br_config c, d;

	(void)state;
	config_defaults(&d);
	assert_int_equal(load_text("# nothing but a comment\n", &c), 0);
	assert_memory_equal(&c.pol, &d.pol, sizeof(d.pol));
	assert_int_equal(c.pol.mode, BR_FW_STATEFUL);
	assert_int_equal(c.pol.filtering, BR_FILT_EI);
	assert_int_equal(c.pol.timeout[BR_TO_TCP_EST], 7440);
	assert_int_equal(c.pol.timeout[BR_TO_UDP], 300);
	assert_int_equal(c.pol.flags & BR_PF_ULA, 0);
	assert_int_equal(c.opt.mark[BR_PORT_WAN], BR_MARK_IN_DEFAULT);
	assert_string_equal(c.opt.pin_dir, BR_PIN_DIR_DEFAULT);
	assert_int_equal(c.n_pinholes, 0);
	assert_int_equal(c.log_level, BR_LOG_INFO);
	config_free(&c);

	/* a group given partly keeps the defaults of the rest */
	assert_int_equal(load_text("firewall = { timeouts = { udp = 150; }; ula = true; };\n"
				   "marks = { enabled = false; };\n", &c), 0);
	assert_int_equal(c.pol.timeout[BR_TO_UDP], 150);
	assert_int_equal(c.pol.timeout[BR_TO_TCP_EST], 7440);
	assert_int_equal(c.pol.flags, BR_PF_ECHO_IN | BR_PF_IPSEC | BR_PF_ULA |
				      BR_PF_LOG_DROPS);
	assert_int_equal(c.opt.mark_enabled, 0);
	assert_int_equal(c.opt.mark[BR_PORT_LAN], BR_MARK_OUT_DEFAULT);
	config_free(&c);
}

static void flow_cache_size(void **state)
{
	struct br_config c;

	(void)state;
	config_defaults(&c);
	assert_int_equal(config_flow_cache(&c, 1), BR_FC_DEF_PER_CPU);
	assert_int_equal(config_flow_cache(&c, 64), BR_FC_DEF_PER_CPU);
	/* 4 MB a CPU up to 64 CPUs, then halved to stay within 256 MB */
	assert_int_equal(config_flow_cache(&c, 65), BR_FC_DEF_PER_CPU / 2);
	assert_int_equal(config_flow_cache(&c, 256), BR_FC_DEF_PER_CPU / 4);
	assert_int_equal(config_flow_cache(&c, 1 << 20), BR_FC_MIN_PER_CPU);
	config_free(&c);

	/* given: taken as it is, whatever the CPUs */
	assert_int_equal(load_text("firewall = { flow-cache = 0; };", &c), 0);
	assert_int_equal(config_flow_cache(&c, 2), 0);
	config_free(&c);
	assert_int_equal(load_text("firewall = { flow-cache = 1048576; };", &c),
			 0);
	assert_int_equal(config_flow_cache(&c, 256), 1048576);
	config_free(&c);
	assert_int_equal(load_text("firewall = { flow-cache = 1024; };", &c),
			 0);
	assert_int_equal(config_flow_cache(&c, 2), 1024);
	config_free(&c);
}

/* ipv4.fast-path is on unless turned off; the outer DSCP stays 0 unless set. */
static void ipv4_fast_path_and_dscp(void **state)
{
	struct br_config c;

	(void)state;
	assert_int_equal(load_text("# defaults\n", &c), 0);
	assert_int_equal(c.fast_path, 1);
	assert_int_equal(c.tun_dscp, 0);
	config_free(&c);
	assert_int_equal(
		load_text("ipv4 = { fast-path = false; };\n"
			  "tunnel = { mode = \"off\"; dscp = \"copy\"; };\n",
			  &c),
		0);
	assert_int_equal(c.fast_path, 0);
	assert_int_equal(c.tun_dscp, BR_DSCP_COPY);
	config_free(&c);
	assert_int_equal(
		load_text("tunnel = { mode = \"off\"; dscp = 46; };\n", &c), 0);
	assert_int_equal(c.tun_dscp, 46);
	config_free(&c);
	assert_int_equal(load_text("\nipv4 = { fast-path = 1; };\n", &c),
			 -EINVAL);
	assert_non_null(strstr(
		errors,
		"brouter.conf:2: ipv4.fast-path: must be true or false"));
	assert_int_equal(load_text("ipv4 = { fastpath = true; };\n", &c),
			 -EINVAL);
	assert_non_null(
		strstr(errors, "brouter.conf:1: ipv4.fastpath: unknown key"));
	assert_int_equal(load_text("tunnel = { dscp = 64; };\n", &c), -EINVAL);
	assert_non_null(
		strstr(errors, "tunnel.dscp: 64 is out of range (0..63)"));
	assert_int_equal(load_text("tunnel = { dscp = \"inherit\"; };\n", &c),
			 -EINVAL);
	assert_non_null(strstr(
		errors, "tunnel.dscp: \"inherit\": \"copy\" or a DSCP 0..63"));
}

static void missing_file(void **state)
{
	struct br_config c;
	char p[sizeof(dir) + 16];

	(void)state;
	snprintf(p, sizeof(p), "%s/absent", dir);
	/* the default file may be absent: built-in defaults */
	assert_int_equal(CAPTURE(config_load(p, 0, &c)), 0);
	assert_int_equal(c.file_found, 0);
	config_free(&c);
	/* a file named with -c must exist */
	assert_int_equal(CAPTURE(config_load(p, 1, &c)), -ENOENT);
	assert_non_null(strstr(errors, "absent"));
	assert_int_equal(run(ARGV("-c", p, "a", "b"), &c), -ENOENT);
}

/* Each bad file is refused, and the message names its line and the problem. */
static void rejects_mistakes_naming_the_line(void **state)
{
	static const struct {
		const char *text;
		int line;
		const char *says;
	} bad[] = {
		{ "foo = 1;", 1, "foo: unknown key" },
		{ "\n\nmarks = { outbound = 1; colour = 2; };", 3, "marks.colour: unknown key" },
		{ "firewall = {\n timeouts = {\n  tcp = 5; }; };", 3, "unknown key" },
		{ "log = { verbose = true; };", 1, "unknown key" },
		{ "bridge = { vlan = 1; };", 1, "unknown key" },
		{ "firewall = { pinholes = (\n { dst = \"::1\"; proto = \"tcp\";\n   port = 22; } ); };",
		  3, "pinholes[0].port: unknown key" },
		/* types */
		{ "lan = 5;", 1, "must be a string" },
		{ "marks = { enabled = 1; };", 1, "true or false" },
		{ "marks = 5;", 1, "must be a group" },
		{ "marks = { outbound = \"0x600\"; };", 1, "must be an integer" },
		{ "firewall = { pinholes = [ 1 ]; };", 1, "must be a list" },
		{ "firewall = { pinholes = ( 1 ); };", 1, "must be a group" },
		{ "firewall = { lan-prefixes = 5; };", 1, "must be a string" },
		{ "bridge = { ethertypes = 0x88cc; };", 1, "must be an array" },
		{ "firewall = { flow-cache = 1000; };", 1, "a power of two" },
		{ "firewall = {\n flow-cache = 512; };", 2, "a power of two" },
		{ "firewall = { flow-cache = 2097152; };", 1, "out of range" },
		{ "firewall = { flow-cache = -1; };", 1, "out of range" },
		{ "firewall = { flow-cache = \"64k\"; };", 1,
		  "must be an integer" },
		/* libconfig's own syntax errors */
		{ "lan = \"a\";\nwan = ;", 2, "syntax error" },
		{ "lan = \"a\";\nlan = \"b\";", 2, "duplicate setting" },
		/* ports and interfaces */
		{ "lan = \"eth0\";\nwan = \"eth0\";", 2, "same interface" },
		{ "lan = \"a/b\";", 1, "cannot contain" },
		{ "wan = \"0123456789abcdefX\";", 1, "longer than 15" },
		{ "pin-dir = \"relative\";", 1, "absolute path" },
		{ "xdp-mode = \"turbo\";", 1, "is not one of" },
		{ "xdp-attach = \"glue\";", 1, "is not one of" },
		/* metrics endpoint */
		{ "metrics = { listen = \"9469\"; };", 1, "not ADDRESS:PORT" },
		{ "metrics = { listen = \"127.0.0.1:0\"; };", 1, "not ADDRESS:PORT" },
		{ "metrics = { listen = \"127.0.0.1:65536\"; };", 1, "not ADDRESS:PORT" },
		{ "metrics = { listen = \"::1:9469\"; };", 1, "not ADDRESS:PORT" },
		{ "metrics = { listen = \"[127.0.0.1]:9469\"; };", 1, "not ADDRESS:PORT" },
		{ "metrics = { listen = \"localhost:9469\"; };", 1, "not ADDRESS:PORT" },
		{ "metrics = {\n port = 9469; };", 2, "unknown" },
		/* marks */
		{ "marks = { inbound = -1; };", 1, "out of range" },
		{ "\nmarks = { inbound = 0x1ffffffff; };", 2, "out of range" },
		{ "marks = { inbound = 4294967296; };", 1, "out of range" },
		/* ethertypes */
		{ "bridge = { ethertypes = [ 0x0800 ]; };", 1, "routed by the kernel" },
		{ "bridge = { ethertypes = [ 0x0806 ]; };", 1, "routed by the kernel" },
		{ "bridge = { ethertypes = [ 0x86dd ]; };", 1, "always bridged" },
		{ "bridge = { ethertypes = [ 0x05dc ]; };", 1, "802.3 length" },
		{ "bridge = { pppoe = true; ethertypes = [ 0x9000, 0x9001, 0x9002,\n"
		  " 0x9003, 0x9004, 0x9005, 0x9006 ]; };", 2, "at most 8" },
		/* log */
		{ "log = { level = \"loud\"; };", 1, "is not one of" },
		{ "log = { drop-rate = 0; };", 1, "out of range" },
		{ "log = { syslog = 1; };", 1, "must be true or false" },
		/* firewall */
		{ "firewall = { mode = \"paranoid\"; };", 1, "\"stateful\", \"stateless-tcp\", \"open\"" },
		{ "firewall = { filtering = \"strict\"; };", 1, "is not one of" },
		{ "firewall = { echo-rate = -1; };", 1, "out of range" },
		{ "firewall = { echo-rate = 1000001; };", 1, "out of range" },
		{ "firewall = { echo-rate = \"fast\"; };", 1, "integer" },
		{ "firewall = { timeouts = { udp = 0; }; };", 1, "out of range" },
		{ "firewall = { timeouts = { other = 99999999; }; };", 1, "out of range" },
		{ "firewall = { timeouts = { udp = 99999999999; }; };", 1, "out of range" },
		{ "firewall = { lan-prefixes = [ \"2001:db8::1/64\" ]; };", 1, "did you mean \"2001:db8::/64\"" },
		{ "firewall = { lan-prefixes = [ \"10.0.0.0/8\" ]; };", 1, "not an IPv6" },
		{ "firewall = { lan-prefixes = [ \"ff02::/16\" ]; };", 1, "multicast" },
		{ "firewall = { lan-prefixes = [ \"2001:db8::/64\",\n \"2001:db8::/64\" ]; };", 2, "listed twice" },
		/* pinholes */
#define PH(x) "firewall = { pinholes = (\n" x " ); };"
		{ PH("{ proto = \"tcp\"; }"), 2, "needs dst" },
		{ PH("{ dst = \"::1\"; }"), 2, "needs proto" },
		{ PH("{ dst = \"2001:db8::/129\"; proto = \"tcp\"; }"), 2, "0..128" },
		{ PH("{ dst = \"2001:db8::/-1\"; proto = \"tcp\"; }"), 2, "0..128" },
		{ PH("{ dst = \"2001:zz::1\"; proto = \"tcp\"; }"), 2, "not an IPv6" },
		{ PH("{ dst = \"2001:db8::5/120\"; proto = \"tcp\"; }"), 2, "did you mean \"2001:db8::/120\"" },
		{ PH("{ dst = \"ff02::1\"; proto = \"udp\"; }"), 2, "multicast" },
		{ PH("{ dst = \"::1\"; proto = \"foo\"; }"), 2, "is not tcp, udp" },
		{ PH("{ dst = \"::1\"; proto = 0; }"), 2, "out of range" },
		{ PH("{ dst = \"::1\"; proto = 256; }"), 2, "out of range" },
		{ PH("{ dst = \"::1\"; proto = 44; }"), 2, "extension header" },
		{ PH("{ dst = \"::1\"; proto = 60; }"), 2, "extension header" },
		{ PH("{ dst = \"::1\"; proto = 43; }"), 2, "walks past (0, 43, 44, 60)" },
		{ PH("{ dst = \"::1\"; proto = 59; }"), 2, "no next header" },
		{ PH("{ dst = \"::1\"; proto = \"tcp\"; ports = [ 0 ]; }"), 2, "out of range" },
		{ PH("{ dst = \"::1\"; proto = \"tcp\"; ports = [ 65536 ]; }"), 2, "out of range" },
		{ PH("{ dst = \"::1\"; proto = \"tcp\"; ports = [ 4294967318 ]; }"), 2, "out of range" },
		{ PH("{ dst = \"::1\"; proto = \"tcp\"; ports = [ \"70000\" ]; }"), 2, "within 1..65535" },
		{ PH("{ dst = \"::1\"; proto = \"tcp\"; ports = [ \"0-5\" ]; }"), 2, "within 1..65535" },
		{ PH("{ dst = \"::1\"; proto = \"tcp\"; ports = [ \"10-5\" ]; }"), 2, "reversed; write \"5-10\"" },
		{ PH("{ dst = \"::1\"; proto = \"tcp\"; ports = [ \"ssh\" ]; }"), 2, "not a number or a range" },
		{ PH("{ dst = \"::1\"; proto = \"tcp\"; ports = [ \" 22\" ]; }"), 2, "not a number or a range" },
		{ PH("{ dst = \"::1\"; proto = \"tcp\"; ports = [ ]; }"), 2, "empty" },
		{ PH("{ dst = \"::1\"; proto = \"tcp\"; ports = 1.5; }"), 2, "must be an integer" },
		{ PH("{ dst = \"::1\"; proto = \"any\"; ports = [ 22 ]; }"), 2, "ports apply only" },
		{ PH("{ dst = \"::1\"; proto = \"icmpv6\"; ports = [ 22 ]; }"), 2, "ports apply only" },
		{ PH("{ dst = \"::1\"; proto = \"tcp\"; icmp-type = 128; }"), 2, "applies only to proto icmpv6" },
		{ PH("{ dst = \"::1\"; proto = \"icmpv6\"; icmp-type = 256; }"), 2, "out of range" },
		{ PH("{ dst = \"::1\"; proto = \"tcp\"; src = \"ff00::/8\"; }"), 2, "multicast" },
		{ PH("{ dst = \"::1\"; proto = \"tcp\"; src = [ \"1::/16\", \"2::/16\",\n"
		     "  \"3::/16\", \"4::/16\", \"5::/16\" ]; }"), 2, "more than 4 distinct" },
		{ PH("{ dst = \"::1\"; proto = \"tcp\"; name = \"0123456789012345678901234567890123\"; }"),
		  2, "printable characters" },
		{ PH("{ dst = \"2001:db8::1\"; proto = \"tcp\"; ports = [ 22, 80 ]; },\n"
		     "{ dst = \"2001:db8::2\"; proto = \"tcp\"; ports = [ 22 ]; },\n"
		     "{ dst = \"2001:db8::1\"; proto = \"tcp\"; ports = ( 80, \"22\" ); }"),
		  4, "duplicate of pinhole[0] at line 2" },
		{ PH("{ dst = \"::1\"; proto = \"udp\"; src = \"2001:db8::/32\"; },\n"
		     "{ dst = \"::1\"; proto = \"udp\"; src = [ \"2001:db9::/32\", \"2001:dba::/32\",\n"
		     "  \"2001:dbb::/32\", \"2001:dbc::/32\" ]; }"),
		  3, "more than 4 distinct sources" },
		{ PH("{ dst = \"2001:db8::/64\"; proto = \"tcp\"; ports = \"1-65535\"; },\n"
		     "{ dst = \"2001:db8::1\"; proto = \"udp\"; }, { dst = \"2001:db8::2\"; proto = \"udp\"; },\n"
		     "{ dst = \"2001:db8::3\"; proto = \"udp\"; }, { dst = \"2001:db8::4\"; proto = \"udp\"; },\n"
		     "{ dst = \"2001:db8::5\"; proto = \"udp\"; }, { dst = \"2001:db8::6\"; proto = \"udp\"; },\n"
		     "{ dst = \"2001:db8::7\"; proto = \"udp\"; }, { dst = \"2001:db8::8\"; proto = \"udp\"; }"),
		  2, "524288 map entries" },
#undef PH
	};
	struct br_config c;
	char at[32];
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (load_text(bad[i].text, &c) >= 0)
			fail_msg("case %u accepted:\n%s", i, bad[i].text);
		snprintf(at, sizeof(at), "brouter.conf:%d: ", bad[i].line);
		if (!strstr(errors, at) || !strstr(errors, bad[i].says))
			fail_msg("case %u: expected line %d and \"%s\", got:\n%s", i,
				 bad[i].line, bad[i].says, errors);
	}
}

static void metrics_and_attach_keys(void **state)
{
	struct br_config c;

	(void)state;
	assert_int_equal(load_text("", &c), 0);
	assert_string_equal(c.metrics_listen, ""); /* off by default */
	assert_int_equal(c.opt.xdp_attach, BR_XDP_ATTACH_AUTO);
	config_free(&c);
	assert_int_equal(load_text("metrics = { listen = \"[::1]:9469\"; };\n"
				   "xdp-attach = \"link\";\n", &c), 0);
	assert_string_equal(c.metrics_listen, "[::1]:9469");
	assert_int_equal(c.opt.xdp_attach, BR_XDP_ATTACH_LINK);
	config_free(&c);
	assert_int_equal(load_text("metrics = { listen = \"0.0.0.0:65535\"; };\n"
				   "xdp-attach = \"libxdp\";\n", &c), 0);
	assert_int_equal(c.opt.xdp_attach, BR_XDP_ATTACH_LIBXDP);
	assert_int_equal(c.opt.tc_attach, BR_TC_ATTACH_AUTO);
	config_free(&c);
	assert_int_equal(load_text("tc-attach = \"clsact\";\n", &c), 0);
	assert_int_equal(c.opt.tc_attach, BR_TC_ATTACH_CLSACT);
	config_free(&c);
	assert_int_equal(load_text("tc-attach = \"tcx\";\n", &c), 0);
	assert_int_equal(c.opt.tc_attach, BR_TC_ATTACH_TCX);
	config_free(&c);
	assert_true(CAPTURE(load_text("tc-attach = \"qdisc\";\n", &c)) < 0);
}

static void values_normalised(void **state)
{
	const struct br_pinhole *ph;
	struct br_config c;

	(void)state;
	assert_int_equal(load_text(
		"marks = { outbound = 0xffffffff; inbound = 0; };\n"
		"bridge = { pppoe = true; ethertypes = [ 0x8863, 0x88cc ]; };\n"
		"firewall = { pinholes = (\n"
		" { dst = \"2001:db8::/32\"; proto = \"tcp\";\n"
		"   ports = ( 26, \"20-25\", 22, \"1000-1001\" );\n"
		"   src = [ \"2001:db8:1::/48\", \"2001:db8::/32\", \"2001:db8:2::1\" ]; },\n"
		" { dst = \"::/0\"; proto = 47; },\n"
		" { dst = \"::1\"; proto = \"ipv6-icmp\"; icmp-type = [ 1, 2, 3, 128 ]; },\n"
		" { dst = \"::2\"; proto = \"esp\"; }, { dst = \"::2\"; proto = \"ah\"; },\n"
		" { dst = \"::3\"; proto = 135; }, { dst = \"::3\"; proto = \"hip\"; },\n"
		" { dst = \"::3\"; proto = \"shim6\"; }, { dst = \"::4\"; proto = \"mobility-header\"; }\n"
		"); };\n", &c), 0);
	assert_int_equal(c.opt.mark[BR_PORT_LAN], 0xffffffffU);
	assert_int_equal(c.opt.mark[BR_PORT_WAN], 0);
	/* PPPoE's two, the repeated 0x8863 kept once */
	assert_int_equal(c.opt.n_ethertypes, 3);
	assert_int_equal(c.opt.ethertypes[2], 0x88cc);
	ph = &c.pinholes[0];
	assert_int_equal(ph->n_ranges, 2); /* 20-26 merged, then 1000-1001 */
	assert_int_equal(ph->range[0].lo, 20);
	assert_int_equal(ph->range[0].hi, 26);
	assert_int_equal(ph->range[1].lo, 1000);
	assert_int_equal(ph->range[1].hi, 1001);
	assert_int_equal(ph->n_src, 1); /* the /32 covers the others */
	assert_prefix(&ph->src[0], "2001:db8::", 32);
	assert_int_equal(c.pinholes[1].proto, 47);
	assert_int_equal(c.pinholes[1].dst.len, 0);
	assert_int_equal(c.pinholes[2].proto, IPPROTO_ICMPV6);
	assert_int_equal(c.pinholes[2].n_ranges, 2); /* 1-3, 128 */
	assert_int_equal(c.pinholes[3].proto, IPPROTO_ESP);
	assert_int_equal(c.pinholes[4].proto, IPPROTO_AH);
	/* headers that end the firewall's walk are protocols rules may name */
	assert_int_equal(c.pinholes[5].proto, 135);
	assert_int_equal(c.pinholes[6].proto, 139);
	assert_int_equal(c.pinholes[7].proto, 140);
	assert_int_equal(c.pinholes[8].proto, 135);
	config_free(&c);
}

static void below_rfc_minimum_warns(void **state)
{
	struct br_config c;

	(void)state;
	br_log_level = BR_LOG_WARN;
	assert_int_equal(load_text("firewall = { timeouts = { tcp-established = 600; }; };",
				   &c), 0);
	br_log_level = BR_LOG_ERR;
	assert_non_null(strstr(errors, "brouter.conf:1: firewall.timeouts.tcp-established"));
	assert_non_null(strstr(errors, "REC-31"));
	assert_int_equal(c.pol.timeout[BR_TO_TCP_EST], 600);
	config_free(&c);
}

static void include_relative_to_file(void **state)
{
	struct br_config c;

	(void)state;
	write_file("pinholes.conf",
		   "pinholes = ( { dst = \"::1\"; proto = \"tcp\"; ports = [ 22 ]; },\n"
		   "  { dst = \"::1\"; proto = \"tcp\"; ports = [ 22 ]; } );\n");
	assert_true(load_text("firewall = {\n@include \"pinholes.conf\"\n};\n", &c) < 0);
	assert_non_null(strstr(errors, "/pinholes.conf:2: "));
	assert_non_null(strstr(errors, "duplicate"));
	write_file("pinholes.conf", "pinholes = ( { dst = \"::1\"; proto = \"tcp\"; } );\n");
	assert_int_equal(load_text("firewall = {\n@include \"pinholes.conf\"\n};\n", &c), 0);
	assert_int_equal(c.n_pinholes, 1);
	assert_non_null(strstr(c.pinholes[0].file, "/pinholes.conf"));
	config_free(&c);
}

static void failed_load_leaves_out_untouched(void **state)
{
	struct br_config c, before;

	(void)state;
	memset(&c, 0x5a, sizeof(c));
	before = c;
	assert_true(load_text("firewall = { mode = \"nope\"; };", &c) < 0);
	assert_memory_equal(&c, &before, sizeof(c));
	assert_true(run(ARGV("-c", path, "a", "b"), &c) < 0);
	assert_memory_equal(&c, &before, sizeof(c));
}

static void command_line_beats_file(void **state)
{
	struct br_config c;

	(void)state;
	write_file("brouter.conf",
		   "lan = \"lan0\"; wan = \"wan0\"; pin-dir = \"/sys/fs/bpf/x\";\n"
		   "marks = { outbound = 0x10; inbound = 0x11; };\n"
		   "bridge = { ethertypes = [ 0x88cc ]; };\n"
		   "xdp-mode = \"native\";\n"
		   "log = { level = \"debug\"; syslog = true; };\n");
	/* the file alone */
	assert_int_equal(run(ARGV("-c", path), &c), 0);
	assert_string_equal(c.opt.ifname[BR_PORT_LAN], "lan0");
	assert_string_equal(c.opt.ifname[BR_PORT_WAN], "wan0");
	assert_int_equal(c.opt.mark[BR_PORT_LAN], 0x10);
	assert_int_equal(c.opt.xdp_mode, BR_XDP_NATIVE);
	assert_int_equal(c.log_level, BR_LOG_DEBUG);
	assert_int_equal(c.opt.syslog, 1);
	assert_string_equal(c.opt.config_path, path);
	config_free(&c);

	/* each option given wins; what is not given comes from the file */
	assert_int_equal(run(ARGV("-c", path, "--mark-in", "7", "--bridge-pppoe",
				  "--xdp-mode", "generic", "-p", "/sys/fs/bpf/y",
				  "-q", "--wan", "ppp0", "eth9"), &c), 0);
	br_log_level = BR_LOG_ERR;
	assert_string_equal(c.opt.ifname[BR_PORT_LAN], "eth9");
	assert_string_equal(c.opt.ifname[BR_PORT_WAN], "ppp0");
	assert_string_equal(c.opt.pin_dir, "/sys/fs/bpf/y");
	assert_int_equal(c.opt.mark[BR_PORT_LAN], 0x10);
	assert_int_equal(c.opt.mark[BR_PORT_WAN], 7);
	assert_int_equal(c.opt.n_ethertypes, 2); /* replaced, not added to */
	assert_int_equal(c.opt.ethertypes[0], 0x8863);
	assert_int_equal(c.opt.xdp_mode, BR_XDP_GENERIC);
	assert_int_equal(c.log_level, BR_LOG_WARN);
	assert_int_equal(c.cli.given & BR_GIVEN_MARK_OUT, 0);
	config_free(&c);

	/* --no-mark beats marks.enabled = true */
	assert_int_equal(run(ARGV("-c", path, "--no-mark"), &c), 0);
	assert_int_equal(c.opt.mark_enabled, 0);
	config_free(&c);

	/* the command line can make the ports equal: refused */
	assert_true(run(ARGV("-c", path, "--lan", "wan0"), &c) < 0);
	assert_non_null(strstr(errors, "same interface"));
}

/* --tc-attach beats the file's tc-attach; a bad value names the option. */
static void tc_attach_command_line_beats_file(void **state)
{
	struct br_config c;

	(void)state;
	write_file("brouter.conf", "lan = \"lan0\"; wan = \"wan0\";\n"
				   "tc-attach = \"tcx\";\n");
	assert_int_equal(run(ARGV("-c", path), &c), 0);
	assert_int_equal(c.opt.tc_attach, BR_TC_ATTACH_TCX);
	config_free(&c);
	assert_int_equal(run(ARGV("-c", path, "--tc-attach", "clsact"), &c), 0);
	assert_int_equal(c.opt.tc_attach, BR_TC_ATTACH_CLSACT);
	config_free(&c);
	assert_true(CAPTURE(run(ARGV("-c", path, "--tc-attach", "qdisc"), &c)) <
		    0);
}

static void ports_required_except_for_check(void **state)
{
	struct br_config c;

	(void)state;
	write_file("brouter.conf", "firewall = { mode = \"open\"; };\n");
	assert_true(run(ARGV("-c", path), &c) < 0);
	assert_non_null(strstr(errors, "need a LAN and a WAN port"));
	assert_int_equal(run(ARGV("-c", path, "a", "b"), &c), 0);
	assert_int_equal(c.pol.mode, BR_FW_OPEN);
	config_free(&c);
	assert_int_equal(run(ARGV("--check-config", "-c", path), &c), 1);
	write_file("brouter.conf", "firewall = { mode = \"closed\"; };\n");
	assert_true(run(ARGV("--check-config", "-c", path), &c) < 0);
	assert_non_null(strstr(errors, "brouter.conf:1: firewall.mode"));
}

static void reload_keeps_running_config_on_error(void **state)
{
	struct br_config c, saved, n;

	(void)state;
	write_file("brouter.conf",
		   "lan = \"lan0\"; wan = \"wan0\";\n"
		   "firewall = { pinholes = ( { dst = \"::1\"; proto = \"tcp\"; } ); };\n");
	assert_int_equal(run(ARGV("-c", path, "--mark-out", "5"), &c), 0);
	assert_int_equal(c.n_pinholes, 1);
	saved = c;

	write_file("brouter.conf", "lan = \"lan0\"; wan = \"wan0\";\nfirewall = { mode = 1; };\n");
	assert_true(CAPTURE(config_reload(&c, &n)) < 0);
	assert_memory_equal(&c, &saved, sizeof(c));
	assert_non_null(strstr(errors, "brouter.conf:2: firewall.mode"));

	/* a good file: new policy, same overrides, ports cannot move live */
	write_file("brouter.conf",
		   "lan = \"other\"; wan = \"wan0\";\n"
		   "marks = { outbound = 9; inbound = 10; };\n"
		   "firewall = { mode = \"stateless-tcp\"; flow-cache = 4096;\n"
		   " pinholes = (\n"
		   " { dst = \"::1\"; proto = \"tcp\"; }, { dst = \"::2\"; proto = \"udp\"; } ); };\n");
	br_log_level = BR_LOG_WARN;
	assert_int_equal(CAPTURE(config_reload(&c, &n)), 0);
	br_log_level = BR_LOG_ERR;
	/* the running one is the caller's to replace */
	assert_memory_equal(&c, &saved, sizeof(c));
	config_free(&c);
	c = n;
	assert_int_equal(c.n_pinholes, 2);
	assert_int_equal(c.pol.n_pinholes, 2);
	assert_int_equal(c.pol.mode, BR_FW_STATELESS_TCP);
	assert_int_equal(c.opt.mark[BR_PORT_LAN], 5);	/* --mark-out still wins */
	assert_int_equal(c.opt.mark[BR_PORT_WAN], 10);
	assert_string_equal(c.opt.ifname[BR_PORT_LAN], "lan0");
	assert_non_null(strstr(errors, "restart brouterd"));
	/* the running flow cache stays: its map was sized at start */
	assert_int_equal(c.flow_cache, BR_CFG_FC_AUTO);
	assert_non_null(strstr(errors, "flow-cache is 4096 in the new "
				       "configuration but the default is "
				       "running"));
	config_free(&c);
}

#define MAPE_OK                                                                \
	"tunnel = {\n"                                                        \
	"  mode = \"map-e\";\n"                                               \
	"  map-e = { rule-ipv6 = \"2001:db8::/40\"; rule-ipv4 = \"192.0.2.0/24\";\n" \
	"            ea-len = 16; br = \"2001:db8:ffff::1\"; };\n"              \
	"};\n"

static void tunnel_group(void **state)
{
	struct br_config c, saved, n;

	(void)state;
	assert_int_equal(load_text("lan = \"lan0\"; wan = \"wan0\";\n" MAPE_OK, &c), 0);
	assert_int_equal(c.tunnel.mode, TUNNEL_MAPE);
	assert_true(tunnel_cfg_active(&c.tunnel));
	assert_int_equal(c.tunnel.rule.psid_offset, TUNNEL_PSID_OFFSET_DEFAULT);
	config_free(&c);

	/* no group: nothing to set up */
	assert_int_equal(load_text("lan = \"lan0\";\n", &c), 0);
	assert_false(tunnel_cfg_active(&c.tunnel));
	config_free(&c);

	/* errors name file, line and key, like the rest of the file */
	assert_true(load_text("lan = \"lan0\";\ntunnel = {\n  mode = \"map-e\";\n"
			      "  colour = 1;\n};\n", &c) < 0);
	assert_non_null(strstr(errors, "brouter.conf:4: tunnel.colour: unknown key"));
	assert_non_null(strstr(errors, "needs a map-e = { ... } group"));
	assert_true(load_text("tunnel = {\n  mode = \"ds-lite\";\n"
			      "  ds-lite = { aftr = \"192.0.2.1\"; };\n};\n", &c) < 0);
	assert_non_null(strstr(errors, "brouter.conf:3: tunnel.ds-lite.aftr"));
	assert_true(load_text("tunnel = 5;\n", &c) < 0);
	assert_non_null(strstr(errors, "brouter.conf:1: tunnel: must be a group"));

	/* --check-config says what it found */
	write_file("brouter.conf", MAPE_OK);
	assert_int_equal(run(ARGV("--check-config", "-c", path), &c), 1);

	/* a reload with a broken tunnel group changes nothing */
	write_file("brouter.conf", "lan = \"lan0\"; wan = \"wan0\";\n" MAPE_OK);
	assert_int_equal(run(ARGV("-c", path), &c), 0);
	saved = c;
	write_file("brouter.conf", "lan = \"lan0\"; wan = \"wan0\";\n"
		   "tunnel = { mode = \"map-e\"; map-e = { rule-ipv6 = \"2001:db8::/40\";\n"
		   " rule-ipv4 = \"192.0.2.0/24\"; ea-len = 16; }; };\n");
	assert_true(CAPTURE(config_reload(&c, &n)) < 0);
	assert_memory_equal(&c, &saved, sizeof(c));
	assert_non_null(strstr(errors, "br missing"));
	config_free(&c);
}

/* A save cut short must not wipe the policy; at start an empty file is the defaults. */
static void reload_refuses_an_empty_file(void **state)
{
	struct br_config c, saved, n;

	(void)state;
	write_file("brouter.conf", "");
	assert_int_equal(run(ARGV("-c", path, "lan0", "wan0"), &c), 0);
	assert_int_equal(c.n_pinholes, 0);
	config_free(&c);

	write_file(
		"brouter.conf",
		"firewall = { pinholes = ( { dst = \"::1\"; proto = \"tcp\"; } ); };\n");
	assert_int_equal(run(ARGV("-c", path, "lan0", "wan0"), &c), 0);
	saved = c;
	write_file("brouter.conf", "");
	assert_int_equal(CAPTURE(config_reload(&c, &n)), -ENODATA);
	assert_memory_equal(&c, &saved, sizeof(c));
	assert_non_null(strstr(errors, "is empty (0 bytes): refused"));
	/* a comment is a deliberate choice: the defaults */
	write_file("brouter.conf", "# no pinholes\n");
	assert_int_equal(CAPTURE(config_reload(&c, &n)), 0);
	assert_int_equal(n.n_pinholes, 0);
	config_free(&n);
	config_free(&c);
}

/* The default file, found at start and gone at reload: refused too. */
static void reload_refuses_a_vanished_default_file(void **state)
{
	struct br_config c, n;
	char p[sizeof(dir) + 32];

	(void)state;
	write_file("brouter.conf", "firewall = { mode = \"open\"; };\n");
	assert_int_equal(config_load(path, 0, &c), 0);
	snprintf(p, sizeof(p), "%s/brouter.conf", dir);
	assert_int_equal(unlink(p), 0);
	assert_true(CAPTURE(config_reload(&c, &n)) < 0);
	assert_non_null(strstr(errors, "No such file"));
	config_free(&c);
}

static int changes(const char *before, const char *after)
{
	struct br_config a, b;
	int n;

	assert_int_equal(load_text(before, &a), 0);
	assert_int_equal(load_text(after, &b), 0);
	br_log_level = BR_LOG_INFO;
	n = CAPTURE(config_log_changes(&a, &b));
	br_log_level = BR_LOG_ERR;
	config_free(&a);
	config_free(&b);
	return n;
}

#define PH(name, dst, port)                   \
	"{ name = \"" name "\"; dst = \"" dst \
	"\"; proto = \"tcp\"; ports = [ " port " ]; }"

static void reload_says_what_changed(void **state)
{
	(void)state;
	assert_int_equal(
		changes("firewall = { pinholes = ( " PH(
				"ssh", "2001:db8::10",
				"22") ", " PH("web", "2001:db8::11",
					      "80") " ); };",
			"firewall = { mode = \"open\"; pinholes = ( " PH(
				"ssh", "2001:db8::10",
				"2222") ", " PH("dns", "2001:db8::12",
						"53") ", "
						      "{ dst = \"2001:db8::/64\"; proto = \"udp\"; ports = [ \"5000-5010\", \"7\" ]; }"
						      " ); };"),
		5);
	assert_non_null(strstr(
		errors, "pinhole removed: web: 2001:db8::11/128 tcp 80"));
	assert_non_null(strstr(
		errors, "pinhole changed: ssh: 2001:db8::10/128 tcp 2222"));
	assert_non_null(
		strstr(errors, "pinhole added: dns: 2001:db8::12/128 tcp 53"));
	assert_non_null(strstr(
		errors, "pinhole added: line 1: 2001:db8::/64 udp 7 +1"));
	assert_non_null(strstr(errors, "firewall mode stateful -> open"));

	assert_int_equal(
		changes("lan = \"lan0\";\n" MAPE_OK, "lan = \"lan0\";\n"), 1);
	assert_non_null(strstr(errors, "reload: tunnel map-e -> none"));
	assert_int_equal(
		changes("firewall = { lan-prefixes = [ \"2001:db8:1::/64\" ]; };",
			"firewall = { lan-prefixes = [ \"2001:db8:2::/64\" ]; };"),
		2);
	assert_non_null(strstr(errors, "lan-prefix removed: 2001:db8:1::/64"));
	assert_non_null(strstr(errors, "lan-prefix added: 2001:db8:2::/64"));
	assert_int_equal(changes(MAPE_OK, MAPE_OK), 0);
	assert_non_null(
		strstr(errors, "reload: the configuration is unchanged"));
}

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/brouter.conf", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[sizeof(dir) + 16];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) ? -1 : 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(example_parses_to_its_values),
		cmocka_unit_test(example_passes_check_config),
		cmocka_unit_test(defaults_when_keys_are_absent),
		cmocka_unit_test(flow_cache_size),
		cmocka_unit_test(ipv4_fast_path_and_dscp),
		cmocka_unit_test(missing_file),
		cmocka_unit_test(rejects_mistakes_naming_the_line),
		cmocka_unit_test(values_normalised),
		cmocka_unit_test(metrics_and_attach_keys),
		cmocka_unit_test(below_rfc_minimum_warns),
		cmocka_unit_test(include_relative_to_file),
		cmocka_unit_test(failed_load_leaves_out_untouched),
		cmocka_unit_test(command_line_beats_file),
		cmocka_unit_test(tc_attach_command_line_beats_file),
		cmocka_unit_test(ports_required_except_for_check),
		cmocka_unit_test(reload_keeps_running_config_on_error),
		cmocka_unit_test(tunnel_group),
		cmocka_unit_test(reload_refuses_an_empty_file),
		cmocka_unit_test(reload_refuses_a_vanished_default_file),
		cmocka_unit_test(reload_says_what_changed),
	};

	/* errors are captured and checked; warnings only where a test asks */
	br_log_level = BR_LOG_ERR;
	return cmocka_run_group_tests(tests, setup, teardown);
}
