// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The HB46PP sequence (3.6): discover, fetch, check, use; when and how
 * long to wait after each outcome; the stored answer when the server is
 * out of reach (3.5). Time and chance come from struct hb_ops.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "provision/hb46pp_priv.h"
#include "common/log.h"

/* 3.6 waits, in seconds: a random time within each range */
#define WAIT_NO_SERVICE 3600, 10800  /* c.2: NXDOMAIN/NODATA, 1-3 h */
#define WAIT_DNS	60, 600	     /* c.3: other DNS failures, 1-10 min */
#define WAIT_SERVER	600, 1800    /* f.2, h.2: no or bad answer, 10-30 min */
#define WAIT_NO_TTL	72000, 86400 /* k.2: no ttl, 20-24 h */

/* messages name the URL: room for one and a reason */
#define MSG_LEN (HB_URL_MAX + HB_ERR_LEN + 16)

struct hb_state {
	const struct hb_conf *conf;
	const struct hb_ops *ops;
	const char *dir;
	unsigned int methods;
	uint64_t next; /* ops->mono() time of the next attempt */
	struct hb_txt txt;
	bool has_txt;
	char token[HB_TOKEN_LEN + 1];

	struct hb_answer *cur; /* in use; NULL: no tunnel */
	int method;	       /* chosen from cur, -1: none */
	int rule;	       /* map_e rule for the WAN prefix, -1: none */
	enum hb_source source;
	time_t cur_time;
	/* c.2 turned the tunnel off: a stored answer must not revive it */
	bool no_service;

	enum hb_result result;
	char error[MSG_LEN];
	char logged[MSG_LEN]; /* the last failure logged at warn */
	unsigned int failures;
	bool status_warned;
	time_t last_fetch;

	bool has_wan;
	struct prefix6 wan;
};

static uint64_t now(const struct hb_state *s)
{
	return s->ops->mono(s->ops->ctx);
}

static uint64_t wait_in(const struct hb_state *s, uint32_t lo, uint32_t hi)
{
	return lo + s->ops->random(s->ops->ctx) % (hi - lo + 1);
}

struct hb_state *hb_state_new(const struct hb_conf *c, const struct hb_ops *ops)
{
	struct hb_state *s = calloc(1, sizeof(*s));
	int ret;

	if (!s)
		return NULL;
	s->conf = c;
	s->ops = ops;
	s->dir = c->state_dir ? c->state_dir : HB_STATE_DIR;
	s->methods = c->methods ? c->methods : HB_METHODS_DEFAULT;
	s->method = -1;
	s->rule = -1;
	s->next = now(s); /* 3.6 a): start at once */
	ret = hb_store_load_token(s->dir, s->token);
	if (ret)
		pr_warn("HB46PP: %s/%s: %s; sending no token", s->dir,
			HB_FILE_TOKEN,
			ret == -EINVAL ? "not a token" : strerror(-ret));
	return s;
}

void hb_state_free(struct hb_state *s)
{
	if (!s)
		return;
	free(s->cur);
	free(s);
}

uint64_t hb_state_timeout(const struct hb_state *s)
{
	uint64_t t = now(s);

	return s->next > t ? s->next - t : 0;
}

void hb_state_set_wan(struct hb_state *s, const struct prefix6 *wan)
{
	if (s->has_wan && s->wan.len == wan->len &&
	    !memcmp(&s->wan.addr, &wan->addr, sizeof(wan->addr)))
		return;
	s->wan = *wan;
	s->has_wan = true;
	/* 3.6: the answer may depend on our address; ask again now */
	s->next = now(s);
}

const struct hb_answer *hb_state_answer(const struct hb_state *s, int *method)
{
	if (method)
		*method = s->cur ? s->method : -1;
	return s->cur;
}

enum hb_result hb_state_result(const struct hb_state *s)
{
	return s->result;
}

/* What the tunnel is built from: the method, its block, the rule. */
static bool same_tunnel(const struct hb_answer *a, int ma, int ra,
			const struct hb_answer *b, int mb, int rb)
{
	if (!a || !b)
		return a == b;
	return ma == mb && ra == rb && a->n_order == b->n_order &&
	       !memcmp(a->order, b->order, sizeof(a->order)) &&
	       !memcmp(&a->mape, &b->mape, sizeof(a->mape)) &&
	       !memcmp(&a->dslite, &b->dslite, sizeof(a->dslite)) &&
	       a->n_ipip == b->n_ipip &&
	       !memcmp(a->ipip, b->ipip, sizeof(a->ipip)) &&
	       !memcmp(&a->lw4o6, &b->lw4o6, sizeof(a->lw4o6));
}

static int rule_for(const struct hb_state *s, const struct hb_answer *a,
		    int method)
{
	if (method != HB_MAPE || !s->has_wan)
		return -1;
	return hb_mape_select(&a->mape, &s->wan);
}

/* "rule 2001:db8::/48 -> 192.0.2.0/24 ...": what the tunnel is made of. */
static void describe(const struct hb_state *s, char *buf, size_t len)
{
	const struct hb_answer *a = s->cur;
	const struct hb_mape_rule *r;
	char x[INET6_ADDRSTRLEN], y[INET6_ADDRSTRLEN], z[INET6_ADDRSTRLEN];

	buf[0] = 0;
	if (s->method == HB_MAPE && s->rule >= 0) {
		r = &a->mape.rules[s->rule];
		inet_ntop(AF_INET6, &r->ipv6.addr, x, sizeof(x));
		inet_ntop(AF_INET, &r->ipv4.addr, y, sizeof(y));
		inet_ntop(AF_INET6, &a->mape.br, z, sizeof(z));
		snprintf(
			buf, len,
			": rule %s/%u -> %s/%u, ea_length %u, psid_offset %u, BR %s, %s format",
			x, r->ipv6.len, y, r->ipv4.len, r->ea_len,
			r->psid_offset, z,
			a->mape.version ? "RFC 7597" : "legacy");
	} else if (s->method == HB_DSLITE) {
		inet_ntop(AF_INET6, &a->dslite.addr, x, sizeof(x));
		snprintf(buf, len, ": AFTR %s%s%s%s", a->dslite.name,
			 a->dslite.name[0] ? " (" : "", x,
			 a->dslite.name[0] ? ")" : "");
	} else if (s->method == HB_IPIP) {
		inet_ntop(AF_INET, &a->ipip[0].ipv4.addr, x, sizeof(x));
		inet_ntop(AF_INET6, &a->ipip[0].remote, y, sizeof(y));
		snprintf(buf, len, ": %s/%u to %s", x, a->ipip[0].ipv4.len, y);
	} else if (s->method == HB_LW4O6) {
		inet_ntop(AF_INET, &a->lw4o6.ipv4, x, sizeof(x));
		inet_ntop(AF_INET6, &a->lw4o6.aftr.addr, y, sizeof(y));
		snprintf(buf, len, ": %s PSID %u/%u to lwAFTR %s", x,
			 a->lw4o6.psid, a->lw4o6.psid_len, y);
	}
}

static void log_use(const struct hb_state *s)
{
	const char *from =
		s->source == HB_SRC_STORED
			? " (stored answer: the server is out of reach)"
			: "";
	char what[HB_NAME_MAX + 3 * INET6_ADDRSTRLEN + 128];

	if (!s->cur) {
		pr_info("HB46PP: no tunnel");
	} else if (s->method < 0) {
		pr_info("HB46PP: no tunnel: the order names no method brouter runs%s",
			from);
	} else {
		describe(s, what, sizeof(what));
		pr_info("HB46PP: tunnel by %s%s%s", hb_method_name(s->method),
			what, from);
	}
}

/* Put @a (owned from now on, may be NULL) in use; 1 if that changes it. */
static int use(struct hb_state *s, struct hb_answer *a, int method,
	       enum hb_source src, time_t when)
{
	int rule = a ? rule_for(s, a, method) : -1;
	bool changed;

	changed = !same_tunnel(s->cur, s->method, s->rule, a, method, rule);
	free(s->cur);
	s->cur = a;
	s->method = a ? method : -1;
	s->rule = rule;
	s->source = a ? src : HB_SRC_NONE;
	s->cur_time = when;
	if (changed)
		log_use(s);
	return changed;
}

/* 3.5: when nothing is in use, the last good answer, if it can run. */
static int use_stored(struct hb_state *s)
{
	char err[HB_ERR_LEN], url[HB_URL_MAX];
	struct hb_answer *a;
	time_t when = 0;
	int m = -1;

	if (s->cur || s->no_service)
		return 0;
	a = malloc(sizeof(*a));
	if (!a)
		return 0;
	if (hb_store_load_answer(s->dir, s->methods, a, url, sizeof(url), &when,
				 err, sizeof(err)) ||
	    (a->n_order && (m = hb_answer_choose(a, s->has_wan ? &s->wan : NULL,
						 err, sizeof(err))) < 0)) {
		pr_debug("HB46PP: stored answer not used: %s", err);
		free(a);
		return 0;
	}
	return use(s, a, m, HB_SRC_STORED, when);
}

/* Each failure once at warn; the same one again only at debug. */
static void log_failure(struct hb_state *s, uint64_t wait)
{
	s->failures++;
	if (!strcmp(s->logged, s->error)) {
		pr_debug("HB46PP: %s (again); next try in %llu s", s->error,
			 (unsigned long long)wait);
		return;
	}
	snprintf(s->logged, sizeof(s->logged), "%s", s->error);
	pr_warn("HB46PP: %s; next try in %llu min", s->error,
		(unsigned long long)(wait + 59) / 60);
}

static int failed(struct hb_state *s, enum hb_result r, uint32_t lo,
		  uint32_t hi, const char *err)
{
	uint64_t wait = wait_in(s, lo, hi);

	s->result = r;
	snprintf(s->error, sizeof(s->error), "%s", err);
	s->next = now(s) + wait;
	log_failure(s, wait);
	return use_stored(s);
}

/* 3.6 c.2: no provisioning here; a running tunnel is turned off. */
static int no_service(struct hb_state *s, const char *err)
{
	s->no_service = true;
	failed(s, HB_R_NO_SERVICE, WAIT_NO_SERVICE, err);
	return use(s, NULL, -1, HB_SRC_NONE, 0);
}

/* AFTR names: resolved now; the reason of a failure goes to @why. */
static void resolve(struct hb_state *s, struct hb_answer *a, char *why,
		    size_t len)
{
	struct hb_host *h[] = { &a->dslite, &a->lw4o6.aftr };
	unsigned int i;

	for (i = 0; i < 2; i++)
		if (h[i]->name[0] && !h[i]->has_addr)
			h[i]->has_addr = !s->ops->resolve6(
				s->ops->ctx, h[i]->name, &h[i]->addr, why, len);
}

/* 3.6 g)-h): the answer, checked, with a method that can run if any. */
static int check(struct hb_state *s, const char *body, size_t len,
		 struct hb_answer *a, int *method, char *err, size_t errlen)
{
	char why[HB_ERR_LEN] = "";
	size_t n;
	int ret;

	*method = -1;
	ret = hb_answer_parse(body, len, s->methods, a, err, errlen);
	if (ret || !a->n_order)
		return ret; /* order: [] is valid: no tunnel */
	resolve(s, a, why, sizeof(why));
	*method = hb_answer_choose(a, s->has_wan ? &s->wan : NULL, err, errlen);
	if (*method >= 0)
		return 0;
	n = strlen(err);
	if (why[0] && n < errlen)
		snprintf(err + n, errlen - n, " (%s)", why);
	return -ENOENT;
}

static void keep_token(struct hb_state *s, const char *token)
{
	int ret;

	if (!token[0] || !strcmp(token, s->token))
		return;
	strcpy(s->token, token);
	ret = hb_store_save_token(s->dir, token);
	if (ret)
		pr_warn("HB46PP: cannot store the token in %s: %s", s->dir,
			strerror(-ret));
}

/* 3.6 i)-k): use it, keep it, and ask again after ttl (20-24 h without). */
static int succeeded(struct hb_state *s, struct hb_answer *a, int method,
		     const char *body, size_t len)
{
	time_t t = s->ops->wall(s->ops->ctx);
	uint64_t wait;
	int ret;

	if (s->failures)
		pr_info("HB46PP: %s answers again", s->txt.url);
	s->failures = 0;
	s->logged[0] = s->error[0] = 0;
	s->no_service = false;
	s->result = HB_R_OK;
	keep_token(s, a->token);
	ret = hb_store_save_answer(s->dir, s->txt.url, t, body, len, a);
	if (ret)
		pr_warn("HB46PP: cannot store the answer in %s: %s", s->dir,
			strerror(-ret));
	if (a->has_ttl)
		wait = a->ttl < HB_TTL_MIN ? HB_TTL_MIN : a->ttl;
	else
		wait = wait_in(s, WAIT_NO_TTL);
	s->next = now(s) + wait;
	return use(s, a, method, HB_SRC_SERVER, t);
}

/* One pass of 3.6 a) to k). 1 if the tunnel to run changed. */
static int attempt(struct hb_state *s)
{
	char err[MSG_LEN] = "", msg[MSG_LEN];
	struct hb_answer *a = NULL;
	struct hb_txt txt;
	char *body = NULL;
	size_t len = 0;
	int ret, m;

	ret = s->ops->discover(s->ops->ctx, &txt, err, sizeof(err));
	if (ret == -ENOENT)
		return no_service(s, err);
	if (ret)
		return failed(s, HB_R_DNS_ERROR, WAIT_DNS, err);
	s->txt = txt;
	s->has_txt = true;
	s->last_fetch = s->ops->wall(s->ops->ctx);
	ret = s->ops->fetch(s->ops->ctx, s->conf, &txt, s->token, &body, &len,
			    err, sizeof(err));
	if (ret)
		return failed(s, HB_R_SERVER_ERROR, WAIT_SERVER, err);
	a = malloc(sizeof(*a));
	ret = a ? check(s, body, len, a, &m, err, sizeof(err)) : -ENOMEM;
	if (!ret) {
		ret = succeeded(s, a, m, body, len);
	} else {
		free(a);
		snprintf(msg, sizeof(msg), "answer of %.*s: %.*s", HB_URL_MAX,
			 txt.url, HB_ERR_LEN,
			 ret == -ENOMEM ? "out of memory" : err);
		ret = failed(s, HB_R_BAD_ANSWER, WAIT_SERVER, msg);
	}
	free(body);
	return ret;
}

static void write_status(struct hb_state *s)
{
	time_t t = s->ops->wall(s->ops->ctx);
	struct hb_status st = {
		.url = s->has_txt ? s->txt.url : NULL,
		.verify = s->txt.verify,
		.last_fetch = s->last_fetch,
		.result = s->result,
		.error = s->error,
		.source = s->source,
		.answer = s->cur,
		.answer_time = s->cur_time,
		.method = s->cur ? s->method : -1,
		.wan = s->has_wan ? &s->wan : NULL,
		.next_fetch = t + hb_state_timeout(s),
	};
	int ret = hb_status_write(s->dir, &st);

	if (ret && !s->status_warned)
		pr_warn("HB46PP: cannot write %s/%s: %s", s->dir,
			HB_FILE_STATUS, strerror(-ret));
	s->status_warned = ret;
}

int hb_state_run(struct hb_state *s)
{
	int changed;

	if (now(s) < s->next)
		return 0;
	changed = attempt(s);
	write_status(s);
	return changed;
}

int hb_state_clear(struct hb_state *s)
{
	int ret = hb_store_clear(s->dir);

	s->token[0] = 0;
	s->next = now(s);
	if (ret)
		pr_warn("HB46PP: clearing %s: %s", s->dir, strerror(-ret));
	else
		pr_info("HB46PP: token and stored answer cleared");
	write_status(s);
	return ret;
}
