/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Shared by the files of loader/provision only: JSON readers, messages. */
#ifndef BR_HB46PP_PRIV_H
#define BR_HB46PP_PRIV_H

#include <jansson.h>

#include "hb46pp.h"

/* vsnprintf into @err, then return @ret: "return hb_fail(-EINVAL, ...)". */
int hb_fail(int ret, char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * Readers of one member @key of object @o; @where prefixes messages
 * ("map_e.rules[3]."). -ENOENT without a message when the key is absent
 * (or null), -EINVAL with one when it has the wrong type or value.
 */
int hb_json_uint(json_t *o, const char *key, const char *where,
		 unsigned int max, unsigned int *out, char *err,
		 size_t errlen);
int hb_json_text(json_t *o, const char *key, const char *where, size_t max,
		 char *out, char *err, size_t errlen);
int hb_json_addr6(json_t *o, const char *key, const char *where,
		  struct in6_addr *out, char *err, size_t errlen);
int hb_json_addr4(json_t *o, const char *key, const char *where,
		  struct in_addr *out, char *err, size_t errlen);
int hb_json_prefix6(json_t *o, const char *key, const char *where,
		    bool exact, struct hb_prefix6 *out, char *err,
		    size_t errlen);
int hb_json_prefix4(json_t *o, const char *key, const char *where,
		    bool exact, struct hb_prefix4 *out, char *err,
		    size_t errlen);
int hb_json_host(json_t *o, const char *key, const char *where,
		 struct hb_host *out, char *err, size_t errlen);

/* A required member: turn -ENOENT into a message. */
int hb_json_need(int ret, const char *where, const char *key, char *err,
		 size_t errlen);

/* Parse an answer already read as JSON (the stored one is). */
int hb_answer_parse_obj(json_t *root, unsigned int methods,
			struct hb_answer *out, char *err, size_t errlen);

/* @p covers @q: q is inside p (p->len <= q->len, same leading bits). */
bool hb_prefix6_covers(const struct hb_prefix6 *p,
		       const struct hb_prefix6 *q);

/* The name, or the address as text, written into @buf. */
const char *hb_host_str(const struct hb_host *h, char *buf, size_t len);

/* ---- store.c: the token and stored answer files ---- */

/* @token gets "" when there is no file; -EINVAL for a damaged one. */
int hb_store_load_token(const char *dir, char *token);
int hb_store_save_token(const char *dir, const char *token);

/*
 * The answer as received (re-read and re-checked when loaded), with the
 * URL it came from, when, and what its AFTR names resolved to.
 */
int hb_store_save_answer(const char *dir, const char *url, time_t fetched,
			 const char *body, size_t len,
			 const struct hb_answer *a);
int hb_store_load_answer(const char *dir, unsigned int methods,
			 struct hb_answer *a, char *url, size_t urllen,
			 time_t *fetched, char *err, size_t errlen);

#endif /* BR_HB46PP_PRIV_H */
