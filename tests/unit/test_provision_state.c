// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * HB46PP sequence (3.6) with a fake clock, random source, resolver and
 * server: every retry range at both ends, the ttl and 20-24 h refreshes,
 * a WAN prefix change, the stored answer when the server is out of reach
 * (and not after NXDOMAIN), the token kept and cleared, and the status
 * file brouterctl prints.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <jansson.h>

#include "provision/hb46pp.h"

#define TOKEN "640756965820d3b9025b6941f9590af6802830ba58663fe8f043dc92b576f17a"
#define URL "https://vne.example.jp/rule.cgi"
#define T0 1700000000

#define RULES "'rules':[{'ipv6':'2001:db8:1:2000::/52','ipv4':'203.0.113.0/24','ea_length':12,'psid_offset':4}," \
	      "{'ipv6':'2001:db8:1:3000::/52','ipv4':'198.51.100.0/24','ea_length':12,'psid_offset':4}]"
#define MAPE "{'ttl':3600,'order':['map_e','dslite'],'dslite':{'aftr':'aftr.example.net'},'map_e':{'br':'2001:db8:1::1'," RULES "}}"
#define MAPE_NO_TTL "{'order':['map_e'],'map_e':{'br':'2001:db8:1::1'," RULES "}}"
#define DSLITE "{'ttl':3600,'token':'" TOKEN "','order':['dslite'],'dslite':{'aftr':'aftr.example.net'}}"

struct fake {
	uint64_t mono;
	time_t wall;
	uint32_t rnd;
	int dns_rc;
	int fetch_rc;
	const char *body; /* with ' for " */
	int resolve_rc;
	unsigned int fetches;
	char token_sent[HB_TOKEN_LEN + 1];
	char dir[64];
	struct hb_conf conf;
	struct hb_ops ops;
	struct hb_state *s;
};

static int f_discover(void *ctx, struct hb_txt *txt, char *err, size_t len)
{
	struct fake *f = ctx;

	snprintf(err, len, "4over6.info: fake DNS error %d", f->dns_rc);
	snprintf(txt->url, sizeof(txt->url), "%s", URL);
	txt->verify = true;
	return f->dns_rc;
}

static int f_fetch(void *ctx, const struct hb_conf *c, const struct hb_txt *txt,
		   const char *token, char **body, size_t *len, char *err,
		   size_t errlen)
{
	struct fake *f = ctx;
	char *p;

	(void)c;
	assert_string_equal(txt->url, URL);
	f->fetches++;
	snprintf(f->token_sent, sizeof(f->token_sent), "%s", token);
	if (f->fetch_rc) {
		snprintf(err, errlen, "fake server error");
		return f->fetch_rc;
	}
	*body = strdup(f->body);
	for (p = *body; *p; p++)
		if (*p == '\'')
			*p = '"';
	*len = strlen(*body);
	return 0;
}

static int f_resolve6(void *ctx, const char *name, struct in6_addr *out,
		      char *err, size_t len)
{
	struct fake *f = ctx;

	assert_string_equal(name, "aftr.example.net");
	snprintf(err, len, "%s: fake NXDOMAIN", name);
	inet_pton(AF_INET6, "2001:db8:2::1", out);
	return f->resolve_rc;
}

static uint64_t f_mono(void *ctx)
{
	return ((struct fake *)ctx)->mono;
}

static time_t f_wall(void *ctx)
{
	return ((struct fake *)ctx)->wall;
}

static uint32_t f_random(void *ctx)
{
	return ((struct fake *)ctx)->rnd;
}

static void advance(struct fake *f, uint64_t secs)
{
	f->mono += secs;
	f->wall += secs;
}

static struct hb_state *restart(struct fake *f)
{
	hb_state_free(f->s);
	f->s = hb_state_new(&f->conf, &f->ops);
	assert_non_null(f->s);
	return f->s;
}

static int setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/hb46pp-test.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->conf = (struct hb_conf){ .vendorid = "acde48", .product = "brouter",
				    .version = "1", .state_dir = f->dir };
	f->ops = (struct hb_ops){ f_discover, f_fetch, f_resolve6, f_mono,
				  f_wall, f_random, f };
	f->mono = 1000;
	f->wall = T0;
	f->body = MAPE;
	restart(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fake *f = *state;
	char path[128];

	hb_state_free(f->s);
	hb_store_clear(f->dir);
	snprintf(path, sizeof(path), "%s/%s", f->dir, HB_FILE_STATUS);
	unlink(path);
	assert_int_equal(rmdir(f->dir), 0); /* nothing else left behind */
	free(f);
	return 0;
}

static void set_wan(struct fake *f, const char *s)
{
	struct prefix6 p;

	assert_int_equal(hb_parse_prefix6(s, false, &p), 0);
	hb_state_set_wan(f->s, &p);
}

static int method_in_use(struct fake *f)
{
	int m;

	return hb_state_answer(f->s, &m) ? m : -2;
}

/* 3.6: each outcome waits a random time in its range, ends included. */
static void retry_ranges(void **state)
{
	static const struct {
		int dns_rc, fetch_rc;
		const char *body;
		uint32_t lo, hi;
		enum hb_result r;
	} cases[] = {
		{ -ENOENT, 0, MAPE, 3600, 10800, HB_R_NO_SERVICE },	/* c.2 */
		{ -EAGAIN, 0, MAPE, 60, 600, HB_R_DNS_ERROR },		/* c.3 */
		{ -EPROTONOSUPPORT, 0, MAPE, 60, 600, HB_R_DNS_ERROR },
		{ 0, -ETIMEDOUT, MAPE, 600, 1800, HB_R_SERVER_ERROR }, /* f.2 */
		{ 0, -EPROTO, MAPE, 600, 1800, HB_R_SERVER_ERROR },
		{ 0, 0, "{'order':[", 600, 1800, HB_R_BAD_ANSWER },	/* h.2 */
		{ 0, 0, "{'order':[],'ttl':604801}", 600, 1800, HB_R_BAD_ANSWER },
		{ 0, 0, MAPE_NO_TTL, 72000, 86400, HB_R_OK },		/* k.2 */
	};
	struct fake *f = *state;
	unsigned int i, j;

	set_wan(f, "2001:db8:1:2340::/60");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t span = cases[i].hi - cases[i].lo;
		uint32_t rnd[] = { 0, span, span + 1, 0xffffffff };
		uint32_t want[] = { cases[i].lo, cases[i].hi, cases[i].lo,
				    cases[i].lo + 0xffffffff % (span + 1) };

		f->dns_rc = cases[i].dns_rc;
		f->fetch_rc = cases[i].fetch_rc;
		f->body = cases[i].body;
		for (j = 0; j < 4; j++) {
			f->rnd = rnd[j];
			hb_state_run(f->s);
			assert_int_equal(hb_state_result(f->s), cases[i].r);
			if (hb_state_timeout(f->s) != want[j])
				fail_msg("case %u, random %u: waits %llu s, not %u",
					 i, rnd[j],
					 (unsigned long long)hb_state_timeout(f->s),
					 want[j]);
			advance(f, want[j]);
		}
	}
}

/* k.1: asked again exactly when ttl runs out, not before; ttl 0 is 60 s. */
static void ttl_refetch(void **state)
{
	struct fake *f = *state;

	set_wan(f, "2001:db8:1:2340::/60");
	assert_int_equal(hb_state_run(f->s), 1);
	assert_int_equal(method_in_use(f), 0);
	assert_int_equal(f->fetches, 1);
	assert_int_equal(hb_state_timeout(f->s), 3600);
	advance(f, 3599);
	assert_int_equal(hb_state_run(f->s), 0);
	assert_int_equal(f->fetches, 1);
	advance(f, 1);
	assert_int_equal(hb_state_run(f->s), 0); /* same answer: no change */
	assert_int_equal(f->fetches, 2);
	f->body = "{'ttl':0,'order':[]}";
	advance(f, 3600);
	assert_int_equal(hb_state_run(f->s), 1);
	assert_int_equal(hb_state_timeout(f->s), HB_TTL_MIN);
}

/* 3.6: a new WAN prefix re-fetches at once; the same one again does not. */
static void wan_change(void **state)
{
	struct fake *f = *state;

	set_wan(f, "2001:db8:1:2340::/60");
	assert_int_equal(hb_state_run(f->s), 1);
	assert_int_equal(hb_state_timeout(f->s), 3600);
	set_wan(f, "2001:db8:1:2340::/60");
	assert_int_equal(hb_state_timeout(f->s), 3600);
	advance(f, 100);
	/* into the other rule: the same answer, but the tunnel changes */
	set_wan(f, "2001:db8:1:3450::/60");
	assert_int_equal(hb_state_timeout(f->s), 0);
	assert_int_equal(hb_state_run(f->s), 1);
	assert_int_equal(f->fetches, 2);
	assert_int_equal(method_in_use(f), 0);
	/* outside every rule: the next method of the order, DS-Lite */
	set_wan(f, "2001:db8:9::/56");
	assert_int_equal(hb_state_run(f->s), 1);
	assert_int_equal(method_in_use(f), 1);
	assert_int_equal(f->fetches, 3);
}

/* 3.5: the last good answer serves while the server is out of reach. */
static void stored_answer(void **state)
{
	struct fake *f = *state;
	const struct hb_answer *a;
	char addr[INET6_ADDRSTRLEN];
	int m;

	f->body = DSLITE;
	assert_int_equal(hb_state_run(f->s), 1);
	restart(f); /* a reboot */
	f->fetch_rc = -EHOSTUNREACH;
	f->resolve_rc = -ENOENT; /* and DNS for the AFTR is gone too */
	assert_int_equal(hb_state_run(f->s), 1);
	assert_int_equal(hb_state_result(f->s), HB_R_SERVER_ERROR);
	a = hb_state_answer(f->s, &m);
	assert_non_null(a);
	assert_int_equal(m, HB_DSLITE);
	assert_true(a->dslite.has_addr); /* as it resolved when fetched */
	inet_ntop(AF_INET6, &a->dslite.addr, addr, sizeof(addr));
	assert_string_equal(addr, "2001:db8:2::1");
	/* a bad answer later keeps what is in use */
	f->fetch_rc = 0;
	f->body = "{'order':['dslite']}";
	advance(f, hb_state_timeout(f->s));
	assert_int_equal(hb_state_run(f->s), 0);
	assert_int_equal(hb_state_result(f->s), HB_R_BAD_ANSWER);
	assert_int_equal(method_in_use(f), HB_DSLITE);
}

/* c.2 turns the tunnel off, and a later DNS failure does not revive it. */
static void no_service_off(void **state)
{
	struct fake *f = *state;

	f->body = DSLITE;
	assert_int_equal(hb_state_run(f->s), 1);
	f->dns_rc = -ENOENT;
	advance(f, 3600);
	assert_int_equal(hb_state_run(f->s), 1);
	assert_null(hb_state_answer(f->s, NULL));
	f->dns_rc = -EAGAIN;
	advance(f, hb_state_timeout(f->s));
	assert_int_equal(hb_state_run(f->s), 0);
	assert_null(hb_state_answer(f->s, NULL));
	/* a server answer again: on, and order [] off again */
	f->dns_rc = 0;
	advance(f, hb_state_timeout(f->s));
	assert_int_equal(hb_state_run(f->s), 1);
	assert_int_equal(method_in_use(f), HB_DSLITE);
	f->body = "{'order':['map_t']}";
	advance(f, 3600);
	assert_int_equal(hb_state_run(f->s), 1);
	assert_int_equal(method_in_use(f), -1);
	assert_int_equal(hb_state_result(f->s), HB_R_OK);
}

/* 3.3/3.4 token: sent back, kept across restarts; 3.5: cleared on demand. */
static void token_and_clear(void **state)
{
	struct fake *f = *state;
	char path[128];

	f->body = DSLITE;
	hb_state_run(f->s);
	assert_string_equal(f->token_sent, "");
	advance(f, 3600);
	hb_state_run(f->s);
	assert_string_equal(f->token_sent, TOKEN);
	restart(f);
	hb_state_run(f->s);
	assert_string_equal(f->token_sent, TOKEN);
	assert_int_equal(hb_state_clear(f->s), 0);
	snprintf(path, sizeof(path), "%s/%s", f->dir, HB_FILE_TOKEN);
	assert_int_not_equal(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/%s", f->dir, HB_FILE_ANSWER);
	assert_int_not_equal(access(path, F_OK), 0);
	assert_int_equal(hb_state_timeout(f->s), 0);
	f->fetch_rc = -ETIMEDOUT;
	hb_state_run(f->s);
	assert_string_equal(f->token_sent, "");
	restart(f); /* nothing stored: nothing to fall back on */
	hb_state_run(f->s);
	assert_null(hb_state_answer(f->s, NULL));
}

static char *print(const char *dir, bool json)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	assert_non_null(out);
	assert_int_equal(hb_status_print(dir, json, out), 0);
	fclose(out);
	return buf;
}

static void status_file(void **state)
{
	struct fake *f = *state;
	json_t *o;
	char *s;

	assert_int_equal(hb_status_print(f->dir, false, stderr), -ENOENT);
	set_wan(f, "2001:db8:1:2340::/60");
	hb_state_run(f->s);
	s = print(f->dir, true);
	o = json_loads(s, 0, NULL);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "server")), URL);
	assert_string_equal(json_string_value(json_object_get(o, "result")), "ok");
	assert_string_equal(json_string_value(json_object_get(o, "method")), "map_e");
	assert_string_equal(json_string_value(json_object_get(o, "source")), "server");
	assert_int_equal(json_integer_value(json_object_get(o, "last_fetch")), T0);
	assert_int_equal(json_integer_value(json_object_get(o, "next_fetch")), T0 + 3600);
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(o, "params"), "rule"), "ipv4")),
			    "203.0.113.0/24");
	json_decref(o);
	free(s);
	s = print(f->dir, false);
	assert_non_null(strstr(s, "server:     " URL " (certificate verified, t=b)"));
	assert_non_null(strstr(s, "method:     map_e\n"));
	assert_non_null(strstr(s, "  br        2001:db8:1::1\n"));
	free(s);
	f->fetch_rc = -EPROTO;
	advance(f, 3600);
	hb_state_run(f->s);
	s = print(f->dir, false);
	assert_non_null(strstr(s, "result:     server-error: fake server error"));
	assert_non_null(strstr(s, "method:     map_e\n")); /* still in use */
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(retry_ranges, setup, teardown),
		cmocka_unit_test_setup_teardown(ttl_refetch, setup, teardown),
		cmocka_unit_test_setup_teardown(wan_change, setup, teardown),
		cmocka_unit_test_setup_teardown(stored_answer, setup, teardown),
		cmocka_unit_test_setup_teardown(no_service_off, setup, teardown),
		cmocka_unit_test_setup_teardown(token_and_clear, setup, teardown),
		cmocka_unit_test_setup_teardown(status_file, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
