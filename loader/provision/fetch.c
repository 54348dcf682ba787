// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The HB46PP request (3.3): what the client sends, checked and escaped
 * into the server's URL, and the GET itself through libcurl.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <curl/curl.h>

#include "provision/hb46pp_priv.h"

#define ALNUM		"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
#define CONNECT_TIMEOUT 10

/* 1..@max characters, all from @set. */
static bool only(const char *s, const char *set, size_t max)
{
	size_t n = strlen(s);

	return n && n <= max && strspn(s, set) == n;
}

/* 3.3: six hex digits of the OUI, then optionally "-" and 1..24 [0-9A-Za-z_]. */
static bool vendorid_ok(const char *v)
{
	if (strlen(v) < 6 || strspn(v, "0123456789abcdefABCDEF") < 6)
		return false;
	if (!v[6])
		return true;
	return v[6] == '-' && only(v + 7, ALNUM "_", HB_VENDOR_CODE_MAX);
}

static int check_credentials(const struct hb_conf *c, char *err, size_t errlen)
{
	/* 3.3: pass goes with user, and never alone */
	if (!c->user != !c->pass)
		return hb_fail(-EINVAL, err, errlen,
			       "user and pass: give both or neither");
	if (c->user && !only(c->user, ALNUM "_-", HB_FIELD_MAX))
		return hb_fail(-EINVAL, err, errlen,
			       "user: 1 to 32 of A-Z a-z 0-9 - _");
	if (c->pass && !only(c->pass, ALNUM "_-", HB_FIELD_MAX))
		return hb_fail(-EINVAL, err, errlen,
			       "pass: 1 to 32 of A-Z a-z 0-9 - _");
	if (c->server && !c->user)
		return hb_fail(-EINVAL, err, errlen,
			       "server: only meaningful with user and pass");
	if (c->server && !only(c->server, ALNUM "-.", HB_NAME_MAX))
		return hb_fail(-EINVAL, err, errlen,
			       "server \"%s\": not a host name", c->server);
	return 0;
}

int hb_conf_check(const struct hb_conf *c, char *err, size_t errlen)
{
	if (!c->vendorid || !vendorid_ok(c->vendorid))
		return hb_fail(
			-EINVAL, err, errlen,
			"vendorid: 6 hex digits of the OUI, then optionally - and 1 to 24 of A-Z a-z 0-9 _");
	if (!c->product || !only(c->product, ALNUM "_-", HB_FIELD_MAX))
		return hb_fail(-EINVAL, err, errlen,
			       "product: 1 to 32 of A-Z a-z 0-9 - _");
	if (!c->version || !only(c->version, "0123456789_", HB_FIELD_MAX))
		return hb_fail(
			-EINVAL, err, errlen,
			"version: 1 to 32 digits and _ (3.3: _ stands for .)");
	if (c->methods & ~(HB_BIT(HB_METHODS) - 1))
		return hb_fail(-EINVAL, err, errlen, "unknown method bits");
	if (c->timeout > 600)
		return hb_fail(-EINVAL, err, errlen, "timeout: at most 600 s");
	return check_credentials(c, err, errlen);
}

static unsigned int methods_of(const struct hb_conf *c)
{
	return c->methods ? c->methods : HB_METHODS_DEFAULT;
}

int hb_capability(unsigned int methods, char *out, size_t outlen)
{
	size_t n = 0;
	int m;

	out[0] = 0;
	for (m = 0; m < HB_METHODS; m++) {
		if (!(methods & HB_BIT(m)))
			continue;
		n += snprintf(out + n, n < outlen ? outlen - n : 0, "%s%s",
			      n ? "," : "", hb_method_name(m));
		/* brouter's MAP-E sends everything to the BR */
		if (m == HB_MAPE)
			n += snprintf(out + n, n < outlen ? outlen - n : 0,
				      ",hubspoke");
	}
	return n < outlen ? 0 : -ENOSPC;
}

/* Host names match without regard to case or a final dot. */
static bool same_host(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la && a[la - 1] == '.')
		la--;
	if (lb && b[lb - 1] == '.')
		lb--;
	return la == lb && !strncasecmp(a, b, la);
}

bool hb_may_send_credentials(const struct hb_conf *c, const char *url,
			     bool verify)
{
	char *scheme = NULL, *host = NULL;
	CURLU *u;
	bool ok;

	if (!c->user || !c->pass)
		return false;
	if (!c->server)
		return true;
	if (!verify)
		return false;
	u = curl_url();
	if (!u)
		return false;
	ok = !curl_url_set(u, CURLUPART_URL, url, 0) &&
	     !curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) &&
	     !curl_url_get(u, CURLUPART_HOST, &host, 0) &&
	     !strcasecmp(scheme, "https") && same_host(host, c->server);
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return ok;
}

static const char *const our_keys[] = {
	"vendorid", "product", "version", "capability", "token", "user", "pass",
};

static bool ours(const char *item)
{
	size_t klen = strcspn(item, "=");
	unsigned int i;

	for (i = 0; i < sizeof(our_keys) / sizeof(our_keys[0]); i++)
		if (strlen(our_keys[i]) == klen &&
		    !strncmp(item, our_keys[i], klen))
			return true;
	return false;
}

/*
 * A 307 Location may repeat our query; keep only the server's own items,
 * so ours are sent once and credentials only where 3.3 allows them.
 */
static int drop_our_params(CURLU *u)
{
	char *q = NULL, *kept, *item, *save;
	size_t n = 0;
	int ret = 0;

	if (curl_url_get(u, CURLUPART_QUERY, &q, 0) || !q)
		return 0; /* no query */
	kept = calloc(1, strlen(q) + 1);
	if (!kept) {
		curl_free(q);
		return -ENOMEM;
	}
	for (item = strtok_r(q, "&", &save); item;
	     item = strtok_r(NULL, "&", &save))
		if (!ours(item))
			n += sprintf(kept + n, "%s%s", n ? "&" : "", item);
	if (curl_url_set(u, CURLUPART_QUERY, n ? kept : NULL, 0))
		ret = -ENOMEM;
	free(kept);
	curl_free(q);
	return ret;
}

static int add_param(CURLU *u, const char *key, const char *value, bool escape)
{
	char *esc = escape ? curl_easy_escape(NULL, value, 0) : NULL;
	char *kv;
	int ret = -ENOMEM;

	if ((esc || !escape) &&
	    asprintf(&kv, "%s=%s", key, escape ? esc : value) >= 0) {
		if (!curl_url_set(u, CURLUPART_QUERY, kv, CURLU_APPENDQUERY))
			ret = 0;
		free(kv);
	}
	curl_free(esc);
	return ret;
}

static int add_params(CURLU *u, const struct hb_conf *c, bool creds,
		      const char *token)
{
	char cap[128];
	int ret;

	if (hb_capability(methods_of(c), cap, sizeof(cap)))
		return -ENOSPC;
	ret = add_param(u, "vendorid", c->vendorid ?: "", true);
	ret = ret ?: add_param(u, "product", c->product ?: "", true);
	ret = ret ?: add_param(u, "version", c->version ?: "", true);
	/* the commas stay as 3.3 shows them: cap is made of fixed names */
	ret = ret ?: add_param(u, "capability", cap, false);
	if (!ret && token && token[0])
		ret = add_param(u, "token", token, true);
	if (!ret && creds) {
		ret = add_param(u, "user", c->user, true);
		ret = ret ?: add_param(u, "pass", c->pass, true);
	}
	return ret;
}

int hb_request_url(const struct hb_conf *c, const char *base, bool verify,
		   const char *token, char **out, char *err, size_t errlen)
{
	char *scheme = NULL, *url = NULL;
	int ret = -EINVAL;
	bool creds;
	CURLU *u;

	*out = NULL;
	u = curl_url();
	if (!u)
		return hb_fail(-ENOMEM, err, errlen, "out of memory");
	if (curl_url_set(u, CURLUPART_URL, base, 0) ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) ||
	    (strcasecmp(scheme, "http") && strcasecmp(scheme, "https"))) {
		hb_fail(ret, err, errlen, "%s: not an http or https URL", base);
		goto out;
	}
	creds = hb_may_send_credentials(c, base, verify);
	ret = drop_our_params(u) ?: add_params(u, c, creds, token);
	if (!ret && curl_url_get(u, CURLUPART_URL, &url, 0))
		ret = -ENOMEM;
	if (!ret && !(*out = strdup(url)))
		ret = -ENOMEM;
	if (ret)
		hb_fail(ret, err, errlen, "%s: cannot build the request URL",
			base);
out:
	curl_free(url);
	curl_free(scheme);
	curl_url_cleanup(u);
	return ret;
}

/* The URL without its query, for messages: no token or password in logs. */
static void shown(const char *url, char *out, size_t outlen)
{
	CURLU *u = curl_url();
	char *s = NULL;

	snprintf(out, outlen, "(bad URL)");
	if (u && !curl_url_set(u, CURLUPART_URL, url, 0) &&
	    !curl_url_set(u, CURLUPART_QUERY, NULL, 0) &&
	    !curl_url_get(u, CURLUPART_URL, &s, 0))
		snprintf(out, outlen, "%s", s);
	curl_free(s);
	curl_url_cleanup(u);
}

struct body {
	char *data;
	size_t len;
	bool too_big;
};

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	struct body *b = arg;
	size_t add = size * n;
	char *d;

	if (add > HB_BODY_MAX - b->len) {
		b->too_big = true;
		return 0; /* curl stops with CURLE_WRITE_ERROR */
	}
	d = realloc(b->data, b->len + add + 1);
	if (!d)
		return 0;
	memcpy(d + b->len, p, add);
	b->data = d;
	b->len += add;
	d[b->len] = 0;
	return add;
}

static int curl_error(CURLcode rc, const struct body *b)
{
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
		return -EKEYREJECTED;
	case CURLE_WRITE_ERROR:
	case CURLE_FILESIZE_EXCEEDED:
		return b->too_big || rc == CURLE_FILESIZE_EXCEEDED ? -EFBIG
								   : -ENOMEM;
	default:
		return -EHOSTUNREACH;
	}
}

static CURL *easy(const struct hb_conf *c, const char *url, bool verify,
		  struct body *b, char *cerr)
{
	long timeout = c->timeout ? c->timeout : HB_TIMEOUT_DEFAULT;
	CURL *h = curl_easy_init();

	if (!h)
		return NULL;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
	/* 3.3: the client MUST reach the server over IPv6 */
	curl_easy_setopt(h, CURLOPT_IPRESOLVE, (long)CURL_IPRESOLVE_V6);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT,
			 timeout < CONNECT_TIMEOUT ? timeout : CONNECT_TIMEOUT);
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE, (long)HB_BODY_MAX);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "brouter-hb46pp");
	/* t=a: 3.2 b), TLS without checking the certificate; SNI either way */
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, verify ? 1L : 0L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, verify ? 2L : 0L);
	if (verify && c->cafile)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->cafile);
	return h;
}

/* One GET: 0 with the HTTP status in @code, and the 307's target. */
static int get_once(const struct hb_conf *c, const char *url, bool verify,
		    struct body *b, long *code, char **location, char *err,
		    size_t errlen)
{
	char cerr[CURL_ERROR_SIZE] = "", where[HB_URL_MAX];
	char *loc = NULL;
	CURLcode rc;
	CURL *h;
	int ret = 0;

	shown(url, where, sizeof(where));
	h = easy(c, url, verify, b, cerr);
	if (!h)
		return hb_fail(-ENOMEM, err, errlen, "out of memory");
	rc = curl_easy_perform(h);
	if (rc) {
		ret = curl_error(rc, b);
		hb_fail(ret, err, errlen, "%s: %s", where,
			ret == -EFBIG ? "answer larger than 1 MiB"
			: cerr[0]     ? cerr
				      : curl_easy_strerror(rc));
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, code);
	if (*code == 307 &&
	    !curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &loc) && loc)
		*location = strdup(loc);
	if (*code == 307 && !*location)
		ret = hb_fail(-EPROTO, err, errlen, "%s: 307 without Location",
			      where);
	else if (*code != 200 && *code != 307)
		ret = hb_fail(-EPROTO, err, errlen, "%s: HTTP status %ld",
			      where, *code);
out:
	curl_easy_cleanup(h);
	return ret;
}

int hb_fetch(const struct hb_conf *c, const struct hb_txt *txt,
	     const char *token, char **body, size_t *len, char *err,
	     size_t errlen)
{
	char *base = strdup(txt->url), *url, *next;
	struct body b = { 0 };
	long code = 0;
	int hop, ret;

	*body = NULL;
	if (!base)
		return hb_fail(-ENOMEM, err, errlen, "out of memory");
	for (hop = 0; hop <= HB_REDIRECTS_MAX; hop++) {
		next = NULL;
		ret = hb_request_url(c, base, txt->verify, token, &url, err,
				     errlen);
		if (!ret)
			ret = get_once(c, url, txt->verify, &b, &code, &next,
				       err, errlen);
		free(url);
		free(base);
		base = next;
		if (ret || code == 200)
			break;
		/* 3.3: 307 names the next server; the same request goes there */
		free(b.data);
		b = (struct body){ 0 };
	}
	free(base);
	if (!ret && code != 200)
		ret = hb_fail(-ELOOP, err, errlen, "%s: more than %d redirects",
			      txt->url, HB_REDIRECTS_MAX);
	if (ret) {
		free(b.data);
		return ret;
	}
	*body = b.data ? b.data : strdup("");
	*len = b.len;
	return *body ? 0 : -ENOMEM;
}
