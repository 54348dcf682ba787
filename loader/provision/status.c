// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The HB46PP status file: written by brouterd after each attempt, read by
 * brouterctl provision, which prints it for people or as JSON.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "provision/hb46pp_priv.h"

static const char *const result_names[] = {
	[HB_R_NONE] = "none",
	[HB_R_OK] = "ok",
	[HB_R_NO_SERVICE] = "no-service",
	[HB_R_DNS_ERROR] = "dns-error",
	[HB_R_SERVER_ERROR] = "server-error",
	[HB_R_BAD_ANSWER] = "bad-answer",
};

static const char *const source_names[] = {
	[HB_SRC_NONE] = "none",
	[HB_SRC_SERVER] = "server",
	[HB_SRC_STORED] = "stored",
};

const char *hb_result_name(enum hb_result r)
{
	return r <= HB_R_BAD_ANSWER ? result_names[r] : "?";
}

static json_t *addr6(const struct in6_addr *a)
{
	char s[INET6_ADDRSTRLEN];

	return json_string(inet_ntop(AF_INET6, a, s, sizeof(s)));
}

static json_t *prefix6(const struct prefix6 *p)
{
	char s[INET6_ADDRSTRLEN + 8];

	inet_ntop(AF_INET6, &p->addr, s, sizeof(s));
	snprintf(s + strlen(s), 8, "/%u", p->len);
	return json_string(s);
}

static json_t *prefix4(const struct prefix4 *p)
{
	char s[INET_ADDRSTRLEN + 8];

	inet_ntop(AF_INET, &p->addr, s, sizeof(s));
	snprintf(s + strlen(s), 8, "/%u", p->len);
	return json_string(s);
}

static json_t *host(const struct hb_host *h)
{
	char s[HB_NAME_MAX + 1];

	return json_string(hb_host_str(h, s, sizeof(s)));
}

static json_t *mape_json(const struct hb_mape *m, const struct prefix6 *wan)
{
	int r = wan ? hb_mape_select(m, wan) : -ENOENT;
	const struct hb_mape_rule *rl = &m->rules[r < 0 ? 0 : r];
	json_t *o;

	o = json_pack("{s:i, s:s, s:b, s:o, s:i}", "version", m->version,
		      "format", m->version ? "rfc7597" : "legacy", "mesh",
		      m->mesh, "br", addr6(&m->br), "rules", m->n_rules);
	if (o && r >= 0)
		json_object_set_new(o, "rule",
				    json_pack("{s:o, s:o, s:i, s:i}", "ipv6",
					      prefix6(&rl->ipv6), "ipv4",
					      prefix4(&rl->ipv4), "ea_length",
					      rl->ea_len, "psid_offset",
					      rl->psid_offset));
	return o;
}

static json_t *ipip_json(const struct hb_answer *a)
{
	json_t *arr = json_array();
	unsigned int i;

	for (i = 0; arr && i < a->n_ipip; i++)
		json_array_append_new(
			arr, json_pack("{s:o, s:o, s:o}", "ipv4",
				       prefix4(&a->ipip[i].ipv4), "ipv6_local",
				       addr6(&a->ipip[i].local), "ipv6_remote",
				       addr6(&a->ipip[i].remote)));
	return json_pack("{s:o}", "tunnels", arr);
}

static json_t *lw4o6_json(const struct hb_lw4o6 *l)
{
	char v4[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &l->ipv4, v4, sizeof(v4));
	return json_pack("{s:o, s:o, s:o, s:s, s:i, s:i, s:i}", "lwaftr",
			 host(&l->aftr), "lwaftr_addr", addr6(&l->aftr.addr),
			 "ipv6", prefix6(&l->ipv6), "ipv4", v4, "psid", l->psid,
			 "psid_length", l->psid_len, "psid_offset",
			 l->psid_offset);
}

/* The chosen method's parameters, as the answer gave them. */
static json_t *params_json(const struct hb_status *st)
{
	const struct hb_answer *a = st->answer;

	switch (a ? st->method : -1) {
	case HB_MAPE:
		return mape_json(&a->mape, st->wan);
	case HB_DSLITE:
		return json_pack("{s:o, s:o}", "aftr", host(&a->dslite),
				 "aftr_addr", addr6(&a->dslite.addr));
	case HB_IPIP:
		return ipip_json(a);
	case HB_LW4O6:
		return lw4o6_json(&a->lw4o6);
	}
	return json_null();
}

static json_t *time_json(time_t t)
{
	return t ? json_integer(t) : json_null();
}

static json_t *text_json(const char *s)
{
	return s && s[0] ? json_string(s) : json_null();
}

static json_t *answer_json(const struct hb_status *st)
{
	const struct hb_answer *a = st->answer;
	json_t *order = json_array();
	unsigned int i;

	for (i = 0; a && order && i < a->n_order; i++)
		json_array_append_new(order,
				      json_string(hb_method_name(a->order[i])));
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "fetched",
			 time_json(st->answer_time), "ttl",
			 a->has_ttl ? json_integer(a->ttl) : json_null(),
			 "enabler_name", text_json(a->enabler_name),
			 "service_name", text_json(a->service_name), "isp_name",
			 text_json(a->isp_name), "order", order, "token",
			 json_boolean(a->token[0]));
}

static json_t *status_json(const struct hb_status *st)
{
	bool ok = st->result == HB_R_OK || st->result == HB_R_NONE;
	bool has = st->answer && st->method >= 0;

	return json_pack(
		"{s:o, s:b, s:o, s:s, s:o, s:s, s:o, s:o, s:o, s:o, s:o}",
		"server", text_json(st->url), "verify", st->verify,
		"last_fetch", time_json(st->last_fetch), "result",
		hb_result_name(st->result), "error",
		text_json(ok ? NULL : st->error), "source",
		source_names[st->answer ? st->source : HB_SRC_NONE], "answer",
		st->answer ? answer_json(st) : json_null(), "method",
		has ? json_string(hb_method_name(st->method)) : json_null(),
		"params", params_json(st), "wan_prefix",
		st->wan ? prefix6(st->wan) : json_null(), "next_fetch",
		time_json(st->next_fetch));
}

int hb_status_write(const char *dir, const struct hb_status *st)
{
	json_t *o = status_json(st);
	char *text;
	int ret;

	if (!o)
		return -ENOMEM;
	text = json_dumps(o, JSON_INDENT(2));
	json_decref(o);
	if (!text)
		return -ENOMEM;
	ret = hb_store_write(dir, HB_FILE_STATUS, text, strlen(text), 0644);
	free(text);
	return ret;
}

/* ---- brouterctl provision ---- */

static void print_time(FILE *out, const char *label, json_t *v)
{
	time_t t = json_integer_value(v);
	char buf[64];
	struct tm tm;

	if (!json_is_integer(v) || !localtime_r(&t, &tm) ||
	    !strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S %z", &tm))
		snprintf(buf, sizeof(buf), "never");
	fprintf(out, "%-12s%s\n", label, buf);
}

/* A JSON value on one line: strings bare, objects as "key value ...". */
static void print_value(FILE *out, json_t *v)
{
	const char *key;
	json_t *m;
	size_t i;
	char *s;

	if (json_is_string(v)) {
		fputs(json_string_value(v), out);
	} else if (json_is_object(v)) {
		i = 0;
		json_object_foreach(v, key, m)
		{
			fprintf(out, "%s%s ", i++ ? " " : "", key);
			print_value(out, m);
		}
	} else if (json_is_array(v) && json_is_object(json_array_get(v, 0))) {
		json_array_foreach(v, i, m)
		{
			fputs(i ? "; " : "", out);
			print_value(out, m);
		}
	} else {
		s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		fputs(s ? s : "?", out);
		free(s);
	}
}

static void print_params(FILE *out, json_t *params)
{
	const char *key;
	json_t *v;

	json_object_foreach(params, key, v)
	{
		/* a column of 10, and a space after longer names (lwaftr_addr) */
		fprintf(out, "  %-10s%s", key, strlen(key) >= 10 ? " " : "");
		print_value(out, v);
		fputc('\n', out);
	}
}

static const char *str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static void print_text(FILE *out, json_t *o)
{
	json_t *answer = json_object_get(o, "answer");
	const char *src = str(o, "source");

	fprintf(out, "%-12s%s",
		"server:", str(o, "server") ?: "(not found yet)");
	if (str(o, "server"))
		fprintf(out, " (certificate %s)",
			json_is_true(json_object_get(o, "verify"))
				? "verified, t=b"
				: "not verified, t=a");
	fputc('\n', out);
	print_time(out, "last fetch:", json_object_get(o, "last_fetch"));
	fprintf(out, "%-12s%s", "result:", str(o, "result") ?: "?");
	if (str(o, "error"))
		fprintf(out, ": %s", str(o, "error"));
	fprintf(out, "\n%-12s%s",
		"method:", str(o, "method") ?: "none (no tunnel)");
	if (src && !strcmp(src, "stored"))
		fprintf(out, " (stored answer: the server is out of reach)");
	fputc('\n', out);
	print_params(out, json_object_get(o, "params"));
	if (str(o, "wan_prefix"))
		fprintf(out, "%-12s%s\n", "wan prefix:", str(o, "wan_prefix"));
	if (str(answer, "enabler_name"))
		fprintf(out, "%-12s%s%s%s\n",
			"provider:", str(answer, "enabler_name"),
			str(answer, "service_name") ? ", " : "",
			str(answer, "service_name") ?: "");
	if (json_is_object(answer))
		print_time(out,
			   "answer of:", json_object_get(answer, "fetched"));
	print_time(out, "next fetch:", json_object_get(o, "next_fetch"));
}

int hb_status_print(const char *dir, bool json, FILE *out)
{
	char path[PATH_MAX], *s;
	json_error_t jerr;
	json_t *o;

	snprintf(path, sizeof(path), "%s/%s", dir ? dir : HB_STATE_DIR,
		 HB_FILE_STATUS);
	o = json_load_file(path, 0, &jerr);
	if (!o && access(path, F_OK)) {
		fprintf(stderr,
			"%s: no such file: HB46PP provisioning has not run\n",
			path);
		return -ENOENT;
	}
	if (!o) {
		fprintf(stderr, "%s: %s\n", path, jerr.text);
		return -EINVAL;
	}
	if (json) {
		s = json_dumps(o, JSON_INDENT(2));
		fprintf(out, "%s\n", s ? s : "null");
		free(s);
	} else {
		print_text(out, o);
	}
	json_decref(o);
	return 0;
}
