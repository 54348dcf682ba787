/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The HB46PP answer (3.4): JSON into struct hb_answer, every value checked,
 * and the choice of the method and MAP-E rule to run.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include "hb46pp_priv.h"
#include "log.h"

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

static int method_of(const char *name)
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
static int check_rule(const struct hb_mape_rule *r, const char *where,
		      char *err, size_t errlen)
{
	unsigned int suffix = 32 - r->ipv4.len;
	unsigned int k = r->ea_len > suffix ? r->ea_len - suffix : 0;

	if (r->ipv6.len + r->ea_len > 128)
		return hb_fail(-EINVAL, err, errlen,
			       "%sipv6 /%u + ea_length %u exceed 128 bits",
			       where, r->ipv6.len, r->ea_len);
	if (r->psid_offset + k > 16)
		return hb_fail(-EINVAL, err, errlen,
			       "%spsid_offset %u + PSID %u bits exceed a 16-bit port",
			       where, r->psid_offset, k);
	return 0;
}

static int parse_rule(json_t *o, const char *where, struct hb_mape_rule *r,
		      char *err, size_t errlen)
{
	int ret;

	if (!json_is_object(o))
		return hb_fail(-EINVAL, err, errlen, "%s: not an object",
			       where);
	ret = hb_json_need(hb_json_prefix6(o, "ipv6", where, true, &r->ipv6,
					   err, errlen),
			   where, "ipv6", err, errlen);
	ret = ret ?: hb_json_need(hb_json_prefix4(o, "ipv4", where, true,
						  &r->ipv4, err, errlen),
				  where, "ipv4", err, errlen);
	ret = ret ?: hb_json_need(hb_json_uint(o, "ea_length", where, 48,
					       &r->ea_len, err, errlen),
				  where, "ea_length", err, errlen);
	ret = ret ?: hb_json_need(hb_json_uint(o, "psid_offset", where, 15,
					       &r->psid_offset, err, errlen),
				  where, "psid_offset", err, errlen);
	return ret ?: check_rule(r, where, err, errlen);
}

/* 3.4: mesh is shown as true, described as 0/1; both are taken. */
static int parse_mesh(json_t *o, bool *mesh, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, "mesh");
	unsigned int n;
	int ret;

	if (json_is_boolean(v)) {
		*mesh = json_is_true(v);
		return 0;
	}
	ret = hb_json_uint(o, "mesh", "map_e.", 1, &n, err, errlen);
	*mesh = !ret && n;
	return ret == -ENOENT ? 0 : ret;
}

static int parse_rules(json_t *rules, struct hb_mape *m, char *err,
		       size_t errlen)
{
	char where[32];
	size_t i;
	int ret;

	if (!json_is_array(rules))
		return hb_fail(-EINVAL, err, errlen,
			       "map_e.rules: %s", rules ? "not an array" :
							  "missing");
	m->n_rules = json_array_size(rules);
	if (!m->n_rules || m->n_rules > HB_RULES_MAX)
		return hb_fail(-EINVAL, err, errlen,
			       "map_e.rules: %u rules, 1 to %d are allowed",
			       m->n_rules, HB_RULES_MAX);
	for (i = 0; i < m->n_rules; i++) {
		snprintf(where, sizeof(where), "map_e.rules[%zu].", i);
		ret = parse_rule(json_array_get(rules, i), where,
				 &m->rules[i], err, errlen);
		if (ret)
			return ret;
	}
	return 0;
}

static int parse_mape(json_t *o, struct hb_mape *m, char *err, size_t errlen)
{
	unsigned int version = 0;
	int ret;

	/* 3.4: no version is version 0, draft-ietf-softwire-map-03 */
	ret = hb_json_uint(o, "version", "map_e.", 1, &version, err, errlen);
	if (ret && ret != -ENOENT)
		return ret;
	m->version = version;
	ret = parse_mesh(o, &m->mesh, err, errlen);
	ret = ret ?: hb_json_need(hb_json_addr6(o, "br", "map_e.", &m->br, err,
						errlen),
				  "map_e.", "br", err, errlen);
	return ret ?: parse_rules(json_object_get(o, "rules"), m, err, errlen);
}

static int parse_ipip(json_t *a, struct hb_answer *out, char *err,
		      size_t errlen)
{
	struct hb_ipip *t;
	char where[32];
	json_t *o;
	size_t i;
	int ret;

	if (!json_is_array(a) || !json_array_size(a) ||
	    json_array_size(a) > HB_IPIP_MAX)
		return hb_fail(-EINVAL, err, errlen,
			       "ipip: not an array of 1 to %d tunnels",
			       HB_IPIP_MAX);
	json_array_foreach(a, i, o) {
		snprintf(where, sizeof(where), "ipip[%zu].", i);
		t = &out->ipip[i];
		ret = hb_json_need(hb_json_addr6(o, "ipv6_local", where,
						 &t->local, err, errlen),
				   where, "ipv6_local", err, errlen);
		ret = ret ?: hb_json_need(hb_json_addr6(o, "ipv6_remote", where,
							&t->remote, err, errlen),
					  where, "ipv6_remote", err, errlen);
		/* the fixed address with its prefix length: host bits set */
		ret = ret ?: hb_json_need(hb_json_prefix4(o, "ipv4", where,
							  false, &t->ipv4, err,
							  errlen),
					  where, "ipv4", err, errlen);
		if (ret)
			return ret;
	}
	out->n_ipip = i;
	return 0;
}

static int lw4o6_psid(json_t *o, struct hb_lw4o6 *l, char *err,
		      size_t errlen)
{
	const char *w = "lw4o6.";
	int ret;

	ret = hb_json_need(hb_json_uint(o, "psid_length", w, 16, &l->psid_len,
					err, errlen),
			   w, "psid_length", err, errlen);
	ret = ret ?: hb_json_need(hb_json_uint(o, "psid_offset", w, 15,
					       &l->psid_offset, err, errlen),
				  w, "psid_offset", err, errlen);
	ret = ret ?: hb_json_need(hb_json_uint(o, "psid", w, 65535, &l->psid,
					       err, errlen),
				  w, "psid", err, errlen);
	if (ret)
		return ret;
	if (l->psid_offset + l->psid_len > 16)
		return hb_fail(-EINVAL, err, errlen,
			       "lw4o6: psid_offset %u + psid_length %u exceed a 16-bit port",
			       l->psid_offset, l->psid_len);
	if (l->psid >> l->psid_len)
		return hb_fail(-EINVAL, err, errlen,
			       "lw4o6: psid %u does not fit psid_length %u",
			       l->psid, l->psid_len);
	return 0;
}

static int parse_lw4o6(json_t *o, struct hb_lw4o6 *l, char *err,
		       size_t errlen)
{
	const char *w = "lw4o6.";
	int ret;

	ret = hb_json_need(hb_json_host(o, "lwaftr", w, &l->aftr, err, errlen),
			   w, "lwaftr", err, errlen);
	ret = ret ?: hb_json_need(hb_json_prefix6(o, "ipv6", w, false, &l->ipv6,
						  err, errlen),
				  w, "ipv6", err, errlen);
	ret = ret ?: hb_json_need(hb_json_addr4(o, "ipv4", w, &l->ipv4, err,
						errlen),
				  w, "ipv4", err, errlen);
	return ret ?: lw4o6_psid(o, l, err, errlen);
}

/* The block of method @m; order named it, so it must be there. */
static int parse_method(json_t *root, int m, struct hb_answer *out,
			char *err, size_t errlen)
{
	json_t *o = json_object_get(root, method_names[m]);

	if (!o)
		return hb_fail(-EINVAL, err, errlen,
			       "order names %s but there is no %s",
			       method_names[m], method_names[m]);
	if (m != HB_IPIP && !json_is_object(o))
		return hb_fail(-EINVAL, err, errlen, "%s: not an object",
			       method_names[m]);
	switch (m) {
	case HB_MAPE:
		return parse_mape(o, &out->mape, err, errlen);
	case HB_DSLITE:
		return hb_json_need(hb_json_host(o, "aftr", "dslite.",
						 &out->dslite, err, errlen),
				    "dslite.", "aftr", err, errlen);
	case HB_IPIP:
		return parse_ipip(o, out, err, errlen);
	default:
		return parse_lw4o6(o, &out->lw4o6, err, errlen);
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
static int parse_order(json_t *root, unsigned int methods,
		       struct hb_answer *out, char *err, size_t errlen)
{
	json_t *order = json_object_get(root, "order"), *v;
	size_t i;
	int m, ret;

	if (!json_is_array(order))
		return hb_fail(-EINVAL, err, errlen, "order: %s",
			       order ? "not an array" : "missing");
	json_array_foreach(order, i, v) {
		if (!json_is_string(v))
			return hb_fail(-EINVAL, err, errlen,
				       "order[%zu]: not a string", i);
		m = method_of(json_string_value(v));
		if (m < 0 || !(methods & HB_BIT(m)) || in_order(out, m)) {
			pr_debug("HB46PP: order: %s skipped",
				 json_string_value(v));
			continue;
		}
		ret = parse_method(root, m, out, err, errlen);
		if (ret)
			return ret;
		out->order[out->n_order++] = m;
	}
	return 0;
}

static int parse_token(json_t *root, struct hb_answer *out, char *err,
		       size_t errlen)
{
	size_t n;
	int ret;

	ret = hb_json_text(root, "token", "", HB_TOKEN_LEN, out->token, err,
			   errlen);
	if (ret)
		return ret == -ENOENT ? 0 : ret;
	n = strlen(out->token);
	/* 3.4: a 256-bit integer in lower-case hex, 64 characters */
	if (n != HB_TOKEN_LEN || strspn(out->token, "0123456789abcdef") != n)
		return hb_fail(-EINVAL, err, errlen,
			       "token: not 64 lower-case hex digits");
	return 0;
}

static int parse_auth(json_t *root, struct hb_answer *out, char *err,
		      size_t errlen)
{
	static const char *const names[] = { "", "req", "bad", "ok" };
	char v[8];
	unsigned int i;
	int ret;

	ret = hb_json_text(root, "auth", "", sizeof(v) - 1, v, err, errlen);
	if (ret == -ENOENT)
		return 0;
	for (i = 0; !ret && i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(v, names[i])) {
			out->auth = i;
			return 0;
		}
	return hb_fail(-EINVAL, err, errlen,
		       "auth: not one of \"req\", \"bad\", \"ok\"");
}

static int opt(int ret)
{
	return ret == -ENOENT ? 0 : ret;
}

int hb_answer_parse_obj(json_t *root, unsigned int methods,
			struct hb_answer *out, char *err, size_t errlen)
{
	int ret;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(root))
		return hb_fail(-EINVAL, err, errlen,
			       "answer is not a JSON object");
	/* 3.4: ttl MUST NOT exceed 604800 s (7 days) */
	ret = hb_json_uint(root, "ttl", "", HB_TTL_MAX, &out->ttl, err,
			   errlen);
	out->has_ttl = !ret;
	ret = opt(ret) ?: parse_token(root, out, err, errlen);
	ret = ret ?: parse_auth(root, out, err, errlen);
	ret = ret ?: opt(hb_json_text(root, "enabler_name", "", HB_TEXT_MAX,
				      out->enabler_name, err, errlen));
	ret = ret ?: opt(hb_json_text(root, "service_name", "", HB_TEXT_MAX,
				      out->service_name, err, errlen));
	ret = ret ?: opt(hb_json_text(root, "isp_name", "", HB_TEXT_MAX,
				      out->isp_name, err, errlen));
	return ret ?: parse_order(root, methods ? methods : HB_METHODS_DEFAULT,
				  out, err, errlen);
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

int hb_mape_select(const struct hb_mape *m, const struct hb_prefix6 *wan)
{
	int best = -ENOENT;
	unsigned int i;

	for (i = 0; i < m->n_rules; i++)
		if (hb_prefix6_covers(&m->rules[i].ipv6, wan) &&
		    (best < 0 || m->rules[i].ipv6.len > m->rules[best].ipv6.len))
			best = i;
	return best;
}

/* Why @m cannot run now, or NULL when it can. */
static const char *cannot(const struct hb_answer *a, int m,
			  const struct hb_prefix6 *wan)
{
	switch (m) {
	case HB_MAPE:
		if (!wan)
			return "map_e: the WAN prefix is not known yet";
		return hb_mape_select(&a->mape, wan) < 0 ?
			       "map_e: no rule covers the WAN prefix" : NULL;
	case HB_DSLITE:
		return a->dslite.has_addr ? NULL :
					    "dslite: the AFTR name did not resolve";
	case HB_LW4O6:
		return a->lw4o6.aftr.has_addr ? NULL :
						"lw4o6: the lwAFTR name did not resolve";
	}
	return NULL;
}

int hb_answer_choose(const struct hb_answer *a, const struct hb_prefix6 *wan,
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
