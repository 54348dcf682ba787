/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Shared by the files of loader/provision only: JSON readers, messages. */
#ifndef BR_HB46PP_PRIV_H
#define BR_HB46PP_PRIV_H

#include <jansson.h>

#include "provision/hb46pp.h"

/* vsnprintf into @err, then return @ret: "return hb_fail(-EINVAL, ...)". */
int hb_fail(int ret, char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Where a value is in the answer, and the message buffer for it. */
struct hb_where {
	const char *path; /* "map_e.rules[3].", "" at the top */
	char *err;
	size_t errlen;
};

#define HB_NEED 1U  /* the member must be there */
#define HB_EXACT 2U /* prefixes: no bit set after the length */

/*
 * Readers of member @key of object @o: 0, -ENOENT without a message when
 * it is absent or null and not HB_NEED, -EINVAL with a message naming it.
 */
int hb_json_uint(const struct hb_where *w, json_t *o, const char *key,
		 unsigned int flags, unsigned int max, unsigned int *out);
int hb_json_text(const struct hb_where *w, json_t *o, const char *key,
		 unsigned int flags, size_t max, char *out);
int hb_json_addr6(const struct hb_where *w, json_t *o, const char *key,
		  unsigned int flags, struct in6_addr *out);
int hb_json_addr4(const struct hb_where *w, json_t *o, const char *key,
		  unsigned int flags, struct in_addr *out);
int hb_json_prefix6(const struct hb_where *w, json_t *o, const char *key,
		    unsigned int flags, struct prefix6 *out);
int hb_json_prefix4(const struct hb_where *w, json_t *o, const char *key,
		    unsigned int flags, struct prefix4 *out);
int hb_json_host(const struct hb_where *w, json_t *o, const char *key,
		 unsigned int flags, struct hb_host *out);

/* Parse an answer already read as JSON (the stored one is). */
int hb_answer_parse_obj(json_t *root, unsigned int methods,
			struct hb_answer *out, char *err, size_t errlen);

/* @p covers @q: q is inside p (p->len <= q->len, same leading bits). */
bool hb_prefix6_covers(const struct prefix6 *p,
		       const struct prefix6 *q);

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
