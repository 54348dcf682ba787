// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * HB46PP discovery (3.1): the TXT record of 4over6.info through the system
 * resolver, and AAAA lookups for AFTRs given by name.
 */
#include <errno.h>
#include <netdb.h>
#include <resolv.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>

#include "provision/hb46pp_priv.h"

#define TXT_MAX (HB_URL_MAX + 64)

/* 3.1: http MUST come with t=a; nothing but http(s) is a server URL. */
static int check_url(const struct hb_txt *t, char *err, size_t errlen)
{
	bool https = !strncasecmp(t->url, "https://", 8);

	if (!https && strncasecmp(t->url, "http://", 7))
		return hb_fail(-EINVAL, err, errlen,
			       "url=%s: not an http or https URL", t->url);
	if (!https && t->verify)
		return hb_fail(
			-EINVAL, err, errlen,
			"url=%s with t=b: an http server cannot be verified (3.1: http needs t=a)",
			t->url);
	return 0;
}

static int txt_field(char *tok, struct hb_txt *out, bool *has_url, bool *has_t,
		     char *err, size_t errlen)
{
	if (!strncmp(tok, "url=", 4)) {
		if (*has_url || strlen(tok + 4) >= sizeof(out->url) || !tok[4])
			return hb_fail(-EINVAL, err, errlen,
				       "url= given twice, empty or too long");
		strcpy(out->url, tok + 4);
		*has_url = true;
	} else if (!strncmp(tok, "t=", 2)) {
		if (*has_t || (strcmp(tok + 2, "a") && strcmp(tok + 2, "b")))
			return hb_fail(
				-EINVAL, err, errlen,
				"\"%s\": t must be given once, as a or b", tok);
		out->verify = tok[2] == 'b';
		*has_t = true;
	}
	/* other keys: left for later versions of the record */
	return 0;
}

int hb_txt_parse(const char *txt, struct hb_txt *out, char *err, size_t errlen)
{
	bool has_url = false, has_t = false;
	char buf[TXT_MAX], *tok, *save;
	int ret;

	memset(out, 0, sizeof(*out));
	if (strlen(txt) >= sizeof(buf))
		return hb_fail(-EINVAL, err, errlen, "TXT record too long");
	strcpy(buf, txt);
	tok = strtok_r(buf, " \t", &save);
	if (!tok || strncmp(tok, "v=", 2))
		return hb_fail(-EINVAL, err, errlen,
			       "TXT record does not start with v=");
	if (strcmp(tok + 2, HB_TXT_VERSION))
		return hb_fail(strncmp(tok + 2, "v6mig-", 6) ? -EINVAL
							     : -EPROTONOSUPPORT,
			       err, errlen, "%s: only v=%s is supported", tok,
			       HB_TXT_VERSION);
	while ((tok = strtok_r(NULL, " \t", &save))) {
		ret = txt_field(tok, out, &has_url, &has_t, err, errlen);
		if (ret)
			return ret;
	}
	if (!has_url)
		return hb_fail(-EINVAL, err, errlen, "TXT record has no url=");
	if (!has_t)
		return hb_fail(-EINVAL, err, errlen, "TXT record has no t=");
	return check_url(out, err, errlen);
}

/*
 * res_nquery() on a private resolver state: it reads /etc/resolv.conf
 * now, so a namespace's own file is honoured, and h_errno stays ours.
 */
static int query(const char *name, int type, unsigned char *ans, int anslen,
		 char *err, size_t errlen)
{
	struct __res_state rs;
	int n, herr;

	memset(&rs, 0, sizeof(rs));
	if (res_ninit(&rs))
		return hb_fail(-EAGAIN, err, errlen,
			       "%s: resolver setup failed", name);
	n = res_nquery(&rs, name, ns_c_in, type, ans, anslen);
	herr = rs.res_h_errno;
	res_nclose(&rs);
	if (n >= 0)
		return n > anslen ? anslen : n;
	switch (herr) {
	case HOST_NOT_FOUND:
		return hb_fail(-ENOENT, err, errlen, "%s: NXDOMAIN", name);
	case NO_DATA:
		return hb_fail(-ENOENT, err, errlen, "%s: NODATA", name);
	case TRY_AGAIN:
		return hb_fail(-EAGAIN, err, errlen,
			       "%s: no answer (server failure or timeout)",
			       name);
	}
	return hb_fail(-EAGAIN, err, errlen, "%s: lookup refused or failed",
		       name);
}

/* RFC 1035 3.3.14: one or more <character-string>s, read as one text. */
static int txt_rdata(const ns_rr *rr, char *out, size_t outlen)
{
	const unsigned char *p = ns_rr_rdata(*rr);
	const unsigned char *end = p + ns_rr_rdlen(*rr);
	size_t n = 0, len;

	while (p < end) {
		len = *p++;
		if (len > (size_t)(end - p) || n + len >= outlen ||
		    memchr(p, 0, len))
			return -EINVAL;
		memcpy(out + n, p, len);
		n += len;
		p += len;
	}
	out[n] = 0;
	return 0;
}

/* The answer's v6mig records: the first in @first, how many in @n. */
static int txt_records(const unsigned char *msg, int len, char *first, int *n,
		       char *err, size_t errlen)
{
	char text[TXT_MAX];
	ns_msg h;
	ns_rr rr;
	int i;

	*n = 0;
	if (ns_initparse(msg, len, &h))
		return hb_fail(-EAGAIN, err, errlen, "unreadable DNS answer");
	for (i = 0; i < ns_msg_count(h, ns_s_an); i++) {
		if (ns_parserr(&h, ns_s_an, i, &rr))
			return hb_fail(-EAGAIN, err, errlen,
				       "unreadable DNS answer");
		if (ns_rr_type(rr) != ns_t_txt || ns_rr_class(rr) != ns_c_in)
			continue; /* the CNAMEs leading to it */
		if (txt_rdata(&rr, text, sizeof(text)))
			return hb_fail(-EINVAL, err, errlen,
				       "malformed or oversized TXT record");
		if (strncmp(text, "v=v6mig-", 8))
			continue; /* some other use of the name's TXT */
		if (!(*n)++)
			strcpy(first, text);
	}
	return 0;
}

int hb_discover(const char *name, struct hb_txt *out, char *err, size_t errlen)
{
	char text[TXT_MAX];
	unsigned char *msg;
	int len, n, ret;

	msg = malloc(NS_MAXMSG);
	if (!msg)
		return hb_fail(-ENOMEM, err, errlen, "out of memory");
	len = query(name, ns_t_txt, msg, NS_MAXMSG, err, errlen);
	ret = len < 0 ? len : txt_records(msg, len, text, &n, err, errlen);
	free(msg);
	if (ret)
		return ret;
	/* 3.1: the server returns a single record */
	if (n > 1)
		return hb_fail(-EINVAL, err, errlen,
			       "%s: %d v6mig TXT records, 3.1 allows one", name,
			       n);
	if (!n)
		return hb_fail(-ENOENT, err, errlen, "%s: no v6mig TXT record",
			       name);
	return hb_txt_parse(text, out, err, errlen);
}

static int first_aaaa(const unsigned char *msg, int len, struct in6_addr *out)
{
	ns_msg h;
	ns_rr rr;
	int i;

	if (ns_initparse(msg, len, &h))
		return -EAGAIN;
	for (i = 0; i < ns_msg_count(h, ns_s_an); i++) {
		if (ns_parserr(&h, ns_s_an, i, &rr))
			return -EAGAIN;
		if (ns_rr_type(rr) == ns_t_aaaa && ns_rr_class(rr) == ns_c_in &&
		    ns_rr_rdlen(rr) == sizeof(*out)) {
			memcpy(out, ns_rr_rdata(rr), sizeof(*out));
			return 0;
		}
	}
	return -ENOENT;
}

int hb_resolve6(const char *name, struct in6_addr *out, char *err,
		size_t errlen)
{
	unsigned char msg[NS_PACKETSZ * 4];
	int len, ret;

	if (inet_pton(AF_INET6, name, out) == 1)
		return 0;
	len = query(name, ns_t_aaaa, msg, sizeof(msg), err, errlen);
	if (len < 0)
		return len;
	ret = first_aaaa(msg, len, out);
	if (ret)
		return hb_fail(ret, err, errlen, "%s: %s", name,
			       ret == -ENOENT ? "no AAAA record"
					      : "unreadable DNS answer");
	return 0;
}
