// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Test driver for the HB46PP client against real peers: discover through
 * the system resolver, fetch, parse, and print one JSON line saying how
 * far it got. With --state DIR, one pass of the real state machine and its
 * status file instead. Built and run by tests/ns/test_provision_peers.py.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "provision/hb46pp.h"
#include "common/log.h"

struct opts {
	struct hb_conf conf;
	struct hb_txt txt; /* --url: no discovery */
	bool has_url;
	const char *token;
	const char *wan;
};

/* {"stage": ..., "rc": ..., ...} on stdout; exit 0 only when all went. */
static int report(const char *stage, int rc, const char *err,
		  const struct hb_txt *txt, const struct hb_answer *a)
{
	json_t *o = json_pack("{s:s, s:i, s:s}", "stage", stage, "rc", rc,
			      "error", rc ? err : "");
	json_t *order = json_array();
	unsigned int i;
	char *s;

	if (txt) {
		json_object_set_new(o, "url", json_string(txt->url));
		json_object_set_new(o, "verify", json_boolean(txt->verify));
	}
	for (i = 0; a && i < a->n_order; i++)
		json_array_append_new(order,
				      json_string(hb_method_name(a->order[i])));
	json_object_set_new(o, "order", order);
	if (a)
		json_object_set_new(o, "ttl", json_integer(a->ttl));
	s = json_dumps(o, JSON_COMPACT);
	printf("%s\n", s);
	free(s);
	json_decref(o);
	return rc ? 1 : 0;
}

static int one_fetch(struct opts *o)
{
	char err[HB_ERR_LEN + HB_URL_MAX] = "", *body = NULL;
	struct hb_answer *a;
	size_t len = 0;
	int ret;

	if (!o->has_url) {
		ret = hb_discover(HB_TXT_NAME, &o->txt, err, sizeof(err));
		if (ret)
			return report("discover", ret, err, NULL, NULL);
	}
	ret = hb_fetch(&o->conf, &o->txt, o->token, &body, &len, err,
		       sizeof(err));
	if (ret)
		return report("fetch", ret, err, &o->txt, NULL);
	a = malloc(sizeof(*a));
	ret = a ? hb_answer_parse(body, len, o->conf.methods, a, err,
				  sizeof(err)) : -ENOMEM;
	ret = report(ret ? "answer" : "done", ret, err, &o->txt,
		     ret ? NULL : a);
	free(a);
	free(body);
	return ret;
}

static int one_pass(struct opts *o)
{
	struct hb_state *s = hb_state_new(&o->conf, &hb_system_ops);
	struct prefix6 wan;

	if (!s)
		return 1;
	if (o->wan && !hb_parse_prefix6(o->wan, false, &wan))
		hb_state_set_wan(s, &wan);
	hb_state_run(s);
	hb_state_free(s);
	return hb_status_print(o->conf.state_dir, true, stdout) ? 1 : 0;
}

static unsigned int methods_of(char *list)
{
	unsigned int bits = 0;
	char *m, *save;
	int i;

	for (m = strtok_r(list, ",", &save); m; m = strtok_r(NULL, ",", &save))
		for (i = 0; i < HB_METHODS; i++)
			if (!strcmp(m, hb_method_name(i)))
				bits |= HB_BIT(i);
	return bits;
}

static void parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lopts[] = {
		{ "cafile", 1, NULL, 'c' }, { "user", 1, NULL, 'u' },
		{ "pass", 1, NULL, 'p' },   { "server", 1, NULL, 's' },
		{ "token", 1, NULL, 't' },  { "url", 1, NULL, 'U' },
		{ "verify", 0, NULL, 'v' }, { "methods", 1, NULL, 'm' },
		{ "state", 1, NULL, 'S' },  { "wan", 1, NULL, 'w' },
		{ "timeout", 1, NULL, 'T' }, { NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->conf.cafile = optarg;
			break;
		case 'u':
			o->conf.user = optarg;
			break;
		case 'p':
			o->conf.pass = optarg;
			break;
		case 's':
			o->conf.server = optarg;
			break;
		case 't':
			o->token = optarg;
			break;
		case 'U':
			snprintf(o->txt.url, sizeof(o->txt.url), "%s", optarg);
			o->has_url = true;
			break;
		case 'v':
			o->txt.verify = true;
			break;
		case 'm':
			o->conf.methods = methods_of(optarg);
			break;
		case 'S':
			o->conf.state_dir = optarg;
			break;
		case 'w':
			o->wan = optarg;
			break;
		case 'T':
			o->conf.timeout = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: %s [--cafile F] [--user U --pass P [--server S]] [--token T] [--url URL [--verify]] [--methods m,..] [--state DIR [--wan P/L]] [--timeout S]\n",
				argv[0]);
			exit(2);
		}
	}
}

int main(int argc, char **argv)
{
	struct opts o = {
		.conf = { .vendorid = "acde48-brouter_test",
			  .product = "brouter", .version = "0_1" },
		.token = "",
	};
	char err[HB_ERR_LEN];

	br_prog_name = "prov_fetch";
	br_log_level = BR_LOG_DEBUG;
	parse_opts(argc, argv, &o);
	if (hb_conf_check(&o.conf, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	return o.conf.state_dir ? one_pass(&o) : one_fetch(&o);
}
