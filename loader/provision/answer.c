// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The HB46PP answer (3.4): JSON into struct hb_answer, every value checked,
 * and the choice of the method and MAP-E rule to run.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include "provision/hb46pp_priv.h"
#include "common/log.h"

static const char *const method_names[HB_METHODS] = {
	[HB_MAPE] = "map_e",
	[HB_DSLITE] = "dslite",
	[HB_IPIP] = "ipip",
	[HB_LW4O6] = "lw4o6",
};

const char *hb_method_name(enum hb_method m)
{
	return m < HB_METHODS ? method_names[m] : "?";
}

int hb_method_of(const char *name)
{
	int m;

	for (m = 0; m < HB_METHODS; m++)
		if (!strcmp(name, method_names[m]))
			return m;
	return -1;
}

/*
 * RFC 7597 5.2: the EA bits are the IPv4 suffix (32 - r bits) then the
 * PSID; the PSID (k bits) starts after a offset bits of a 16-bit port.
 */
static int check_rule(const struct hb_where *w, const struct hb_mape_rule *r)
{
	unsigned int suffix = 32 - r->ipv4.len;
	unsigned int k = r->ea_len > suffix ? r->ea_len - suffix : 0;

	if (r->ipv6.len + r->ea_len > 128)
		return hb_fail(-EINVAL, w->err, w->errlen,
			       "%sipv6 /%u + ea_length %u exceed 128 bits",
			       w->path, r->ipv6.len, r->ea_len);
	if (r->psid_offset + k > 16)
		return hb_fail(
			-EINVAL, w->err, w->errlen,
			"%spsid_offset %u + PSID %u bits exceed a 16-bit port",
			w->path, r->psid_offset, k);
	return 0;
}

static int parse_rule(const struct hb_where *w, json_t *o,
		      struct hb_mape_rule *r)
{
	const unsigned int f = HB_NEED | HB_EXACT;
	int ret;

	if (!json_is_object(o))
		return hb_fail(-EINVAL, w->err, w->errlen, "%s: not an object",
			       w->path);
	ret = hb_json_prefix6(w, o, "ipv6", f, &r->ipv6);
	ret = ret ?: hb_json_prefix4(w, o, "ipv4", f, &r->ipv4);
	ret = ret ?: hb_json_uint(w, o, "ea_length", f, 48, &r->ea_len);
	ret = ret ?: hb_json_uint(w, o, "psid_offset", f, 15, &r->psid_offset);
	return ret ?: check_rule(w, r);
}

/* 3.4: mesh is shown as true, described as 0/1; both are taken. */
static int parse_mesh(const struct hb_where *w, json_t *o, bool *mesh)
{
	json_t *v = json_object_get(o, "mesh");
	unsigned int n = 0;
	int ret;

	if (json_is_boolean(v)) {
		*mesh = json_is_true(v);
		return 0;
	}
	ret = hb_json_uint(w, o, "mesh", 0, 1, &n);
	*mesh = n;
	return ret == -ENOENT ? 0 : ret;
}

static int parse_rules(const struct hb_where *w, json_t *rules,
		       struct hb_mape *m)
{
	struct hb_where rw = *w;
	char path[32];
	size_t i;
	int ret;

	if (!json_is_array(rules))
		return hb_fail(-EINVAL, w->err, w->errlen, "map_e.rules: %s",
			       rules ? "not an array" : "missing");
	m->n_rules = json_array_size(rules);
	if (!m->n_rules || m->n_rules > HB_RULES_MAX)
		return hb_fail(-EINVAL, w->err, w->errlen,
			       "map_e.rules: %u rules, 1 to %d are allowed",
			       m->n_rules, HB_RULES_MAX);
	rw.path = path;
	for (i = 0; i < m->n_rules; i++) {
		snprintf(path, sizeof(path), "map_e.rules[%zu].", i);
		ret = parse_rule(&rw, json_array_get(rules, i), &m->rules[i]);
		if (ret)
			return ret;
	}
	return 0;
}

static int parse_mape(const struct hb_where *w, json_t *o, struct hb_mape *m)
{
	unsigned int version = 0;
	int ret;

	/* 3.4: no version is version 0, draft-ietf-softwire-map-03 */
	ret = hb_json_uint(w, o, "version", 0, 1, &version);
	if (ret && ret != -ENOENT)
		return ret;
	m->version = version;
	ret = parse_mesh(w, o, &m->mesh);
	ret = ret ?: hb_json_addr6(w, o, "br", HB_NEED, &m->br);
	return ret ?: parse_rules(w, json_object_get(o, "rules"), m);
}

static int parse_ipip(const struct hb_where *w, json_t *a,
		      struct hb_answer *out)
{
	struct hb_where tw = *w;
	struct hb_ipip *t;
	char path[32];
	json_t *o;
	size_t i;
	int ret;

	if (!json_is_array(a) || !json_array_size(a) ||
	    json_array_size(a) > HB_IPIP_MAX)
		return hb_fail(-EINVAL, w->err, w->errlen,
			       "ipip: not an array of 1 to %d tunnels",
			       HB_IPIP_MAX);
	tw.path = path;
	json_array_foreach(a, i, o)
	{
		snprintf(path, sizeof(path), "ipip[%zu].", i);
		t = &out->ipip[i];
		ret = hb_json_addr6(&tw, o, "ipv6_local", HB_NEED, &t->local);
		ret = ret
			      ?: hb_json_addr6(&tw, o, "ipv6_remote", HB_NEED,
					       &t->remote);
		/* the fixed address with its prefix length: host bits set */
		ret = ret ?: hb_json_prefix4(&tw, o, "ipv4", HB_NEED, &t->ipv4);
		if (ret)
			return ret;
	}
	out->n_ipip = i;
	return 0;
}

static int lw4o6_psid(const struct hb_where *w, json_t *o, struct hb_lw4o6 *l)
{
	int ret;

	ret = hb_json_uint(w, o, "psid_length", HB_NEED, 16, &l->psid_len);
	ret = ret
		      ?: hb_json_uint(w, o, "psid_offset", HB_NEED, 15,
				      &l->psid_offset);
	ret = ret ?: hb_json_uint(w, o, "psid", HB_NEED, 65535, &l->psid);
	if (ret)
		return ret;
	if (l->psid_offset + l->psid_len > 16)
		return hb_fail(
			-EINVAL, w->err, w->errlen,
			"lw4o6: psid_offset %u + psid_length %u exceed a 16-bit port",
			l->psid_offset, l->psid_len);
	if (l->psid >> l->psid_len)
		return hb_fail(-EINVAL, w->err, w->errlen,
			       "lw4o6: psid %u does not fit psid_length %u",
			       l->psid, l->psid_len);
	return 0;
}

static int parse_lw4o6(const struct hb_where *w, json_t *o, struct hb_lw4o6 *l)
{
	int ret;

	ret = hb_json_host(w, o, "lwaftr", HB_NEED, &l->aftr);
	ret = ret ?: hb_json_prefix6(w, o, "ipv6", HB_NEED, &l->ipv6);
	ret = ret ?: hb_json_addr4(w, o, "ipv4", HB_NEED, &l->ipv4);
	return ret ?: lw4o6_psid(w, o, l);
}

/* The block of method @m; order named it, so it must be there. */
static int parse_method(const struct hb_where *top, json_t *root, int m,
			struct hb_answer *out)
{
	json_t *o = json_object_get(root, method_names[m]);
	char path[16];
	struct hb_where w = { path, top->err, top->errlen };

	snprintf(path, sizeof(path), "%s.", method_names[m]);
	if (!o)
		return hb_fail(-EINVAL, w.err, w.errlen,
			       "order names %s but there is no %s",
			       method_names[m], method_names[m]);
	if (m != HB_IPIP && !json_is_object(o))
		return hb_fail(-EINVAL, w.err, w.errlen, "%s: not an object",
			       method_names[m]);
	switch (m) {
	case HB_MAPE:
		return parse_mape(&w, o, &out->mape);
	case HB_DSLITE:
		return hb_json_host(&w, o, "aftr", HB_NEED, &out->dslite);
	case HB_IPIP:
		return parse_ipip(&w, o, out);
	default:
		return parse_lw4o6(&w, o, &out->lw4o6);
	}
}

static bool in_order(const struct hb_answer *a, int m)
{
	unsigned int i;

	for (i = 0; i < a->n_order; i++)
		if ((int)a->order[i] == m)
			return true;
	return false;
}

/*
 * 3.4 order: the methods to try, best first. Those brouterd cannot run
 * (464xlat, map_t, names from later versions, methods not in @methods)
 * are skipped, as are repeats.
 */
static int parse_order(const struct hb_where *w, json_t *root,
		       unsigned int methods, struct hb_answer *out)
{
	json_t *order = json_object_get(root, "order"), *v;
	size_t i;
	int m, ret;

	if (!json_is_array(order))
		return hb_fail(-EINVAL, w->err, w->errlen, "order: %s",
			       order ? "not an array" : "missing");
	json_array_foreach(order, i, v)
	{
		if (!json_is_string(v))
			return hb_fail(-EINVAL, w->err, w->errlen,
				       "order[%zu]: not a string", i);
		m = hb_method_of(json_string_value(v));
		if (m < 0 || !(methods & HB_BIT(m)) || in_order(out, m)) {
			pr_debug("HB46PP: order: %s skipped",
				 json_string_value(v));
			continue;
		}
		ret = parse_method(w, root, m, out);
		if (ret)
			return ret;
		out->order[out->n_order++] = m;
	}
	return 0;
}

static int parse_token(const struct hb_where *w, json_t *root,
		       struct hb_answer *out)
{
	size_t n;
	int ret;

	ret = hb_json_text(w, root, "token", 0, HB_TOKEN_LEN, out->token);
	if (ret)
		return ret == -ENOENT ? 0 : ret;
	n = strlen(out->token);
	/* 3.4: a 256-bit integer in lower-case hex, 64 characters */
	if (n != HB_TOKEN_LEN || strspn(out->token, "0123456789abcdef") != n)
		return hb_fail(-EINVAL, w->err, w->errlen,
			       "token: not 64 lower-case hex digits");
	return 0;
}

static int parse_auth(const struct hb_where *w, json_t *root,
		      struct hb_answer *out)
{
	static const char *const names[] = { "", "req", "bad", "ok" };
	char v[8];
	unsigned int i;
	int ret;

	ret = hb_json_text(w, root, "auth", 0, sizeof(v) - 1, v);
	if (ret == -ENOENT)
		return 0;
	for (i = 0; !ret && i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(v, names[i])) {
			out->auth = i;
			return 0;
		}
	}
	return hb_fail(-EINVAL, w->err, w->errlen,
		       "auth: not one of \"req\", \"bad\", \"ok\"");
}

static int opt(int ret)
{
	return ret == -ENOENT ? 0 : ret;
}

/* 3.4: enabler_name, service_name, isp_name: optional, at most 256 bytes */
static int parse_names(const struct hb_where *w, json_t *root,
		       struct hb_answer *out)
{
	int ret;

	ret = opt(hb_json_text(w, root, "enabler_name", 0, HB_TEXT_MAX,
			       out->enabler_name));
	ret = ret
		      ?: opt(hb_json_text(w, root, "service_name", 0,
					  HB_TEXT_MAX, out->service_name));
	return ret
		       ?: opt(hb_json_text(w, root, "isp_name", 0, HB_TEXT_MAX,
					   out->isp_name));
}

int hb_answer_parse_obj(json_t *root, unsigned int methods,
			struct hb_answer *out, char *err, size_t errlen)
{
	const struct hb_where w = { "", err, errlen };
	int ret;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(root))
		return hb_fail(-EINVAL, err, errlen,
			       "answer is not a JSON object");
	/* 3.4: ttl MUST NOT exceed 604800 s (7 days) */
	ret = hb_json_uint(&w, root, "ttl", 0, HB_TTL_MAX, &out->ttl);
	out->has_ttl = !ret;
	ret = opt(ret) ?: parse_token(&w, root, out);
	ret = ret ?: parse_auth(&w, root, out);
	ret = ret ?: parse_names(&w, root, out);
	if (!methods)
		methods = HB_METHODS_DEFAULT;
	return ret ?: parse_order(&w, root, methods, out);
}

int hb_answer_parse(const char *json, size_t len, unsigned int methods,
		    struct hb_answer *out, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root;
	int ret;

	memset(out, 0, sizeof(*out));
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return hb_fail(-EINVAL, err, errlen,
			       "malformed JSON: %s (line %d, column %d)",
			       jerr.text, jerr.line, jerr.column);
	ret = hb_answer_parse_obj(root, methods, out, err, errlen);
	json_decref(root);
	return ret;
}

int hb_mape_select(const struct hb_mape *m, const struct prefix6 *wan)
{
	int best = -ENOENT;
	unsigned int i;

	for (i = 0; i < m->n_rules; i++)
		if (hb_prefix6_covers(&m->rules[i].ipv6, wan) &&
		    (best < 0 ||
		     m->rules[i].ipv6.len > m->rules[best].ipv6.len))
			best = i;
	return best;
}

/* Why @m cannot run now, or NULL when it can. */
static const char *cannot(const struct hb_answer *a, int m,
			  const struct prefix6 *wan)
{
	switch (m) {
	case HB_MAPE:
		if (!wan)
			return "map_e: the WAN prefix is not known yet";
		return hb_mape_select(&a->mape, wan) < 0
			       ? "map_e: no rule covers the WAN prefix"
			       : NULL;
	case HB_DSLITE:
		return a->dslite.has_addr
			       ? NULL
			       : "dslite: the AFTR name did not resolve";
	case HB_LW4O6:
		return a->lw4o6.aftr.has_addr
			       ? NULL
			       : "lw4o6: the lwAFTR name did not resolve";
	}
	return NULL;
}

int hb_answer_choose(const struct hb_answer *a, const struct prefix6 *wan,
		     char *err, size_t errlen)
{
	const char *why;
	unsigned int i;
	size_t n = 0;

	if (err && errlen)
		err[0] = 0;
	if (!a->n_order)
		return hb_fail(-ENOENT, err, errlen,
			       "order names no method brouter runs: no tunnel");
	for (i = 0; i < a->n_order; i++) {
		why = cannot(a, a->order[i], wan);
		if (!why)
			return a->order[i];
		if (n < errlen)
			n += snprintf(err + n, errlen - n, "%s%s",
				      n ? "; " : "", why);
	}
	return -ENOENT;
}
