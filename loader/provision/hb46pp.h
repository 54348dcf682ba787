/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * HB46PP, the v6pc "IPv6 migration technology domestic standard
 * provisioning" (v1.1): IPv4-over-IPv6 parameters from a server found by
 * the DNS TXT record of 4over6.info. Section numbers below are the spec's.
 *
 * discover.c  TXT record (3.1), AAAA of AFTR names
 * fetch.c     the GET request (3.3) over libcurl
 * answer.c    the JSON answer (3.4) as plain C structs
 * values.c    typed, checked values out of the JSON
 * store.c     token and last good answer on disk (3.5)
 * state.c     retries and refreshes (3.6), with injectable clock/random
 * sysops.c    the real resolver, libcurl, clocks and random for state.c
 * status.c    the status file, and brouterctl's view of it
 * adapt.c     answer -> struct tunnel_cfg, for all four methods
 */
#ifndef BR_HB46PP_H
#define BR_HB46PP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <netinet/in.h>

#include "common/prefix.h"

#define HB_TXT_NAME "4over6.info"
#define HB_TXT_VERSION "v6mig-1"
#define HB_STATE_DIR "/var/lib/brouter"
#define HB_TTL_MAX 604800U /* 3.4: ttl MUST be at most 7 days */
#define HB_TTL_MIN 60U	   /* ours: a ttl of 0 must not re-fetch in a loop */
#define HB_RULES_MAX 256   /* 3.4: map_e rules, 256 MUST be accepted */
#define HB_IPIP_MAX 16
#define HB_URL_MAX 2048
#define HB_NAME_MAX 253	  /* a DNS name in text form */
#define HB_TEXT_MAX 254	  /* 3.4: names are <= 256 bytes with their quotes */
#define HB_TOKEN_LEN 64	  /* 3.4: 256-bit integer, lower-case hex */
#define HB_FIELD_MAX 32	  /* 3.3: product, version, user, pass */
#define HB_VENDOR_CODE_MAX 24 /* 3.3: vendorid after "OUI-" */
#define HB_BODY_MAX (1 << 20) /* 256 rules are ~40 KiB of JSON */
#define HB_REDIRECTS_MAX 5
#define HB_TIMEOUT_DEFAULT 30 /* seconds for a whole request */
#define HB_ERR_LEN 256

/* The methods brouter knows; the spec's others (464xlat, map_t) are skipped. */
enum hb_method {
	HB_MAPE = 0,
	HB_DSLITE,
	HB_IPIP,
	HB_LW4O6,
	HB_METHODS,
};

#define HB_BIT(m) (1U << (m))
/* What brouterd's tunnel code runs, and so what it announces. */
#define HB_METHODS_DEFAULT                                       \
	(HB_BIT(HB_MAPE) | HB_BIT(HB_DSLITE) | HB_BIT(HB_IPIP) | \
	 HB_BIT(HB_LW4O6))

enum hb_auth {
	HB_AUTH_NONE = 0, /* no "auth": the server expects no user/pass */
	HB_AUTH_REQ,	  /* user/pass would give more */
	HB_AUTH_BAD,	  /* user/pass refused */
	HB_AUTH_OK,
};

/* The client's side of 3.3. Strings are borrowed, NULL when not set. */
struct hb_conf {
	const char *vendorid;	/* "acde48" or "acde48-code" */
	const char *product;	/* [A-Za-z0-9_-]{1,32} */
	const char *version;	/* [0-9_]{1,32}: "1_2", not "1.2" */
	unsigned int methods;	/* HB_BIT()s brouterd can run; 0: default */
	const char *user;	/* with pass, or neither */
	const char *pass;
	const char *server;	/* host user/pass belong to; NULL: any */
	const char *cafile;	/* CAs for t=b; NULL: the system's */
	const char *state_dir;	/* NULL: HB_STATE_DIR */
	unsigned int timeout;	/* seconds per request; 0: default */
};

/* The TXT record of 4over6.info (3.1). */
struct hb_txt {
	char url[HB_URL_MAX];
	bool verify; /* t=b: check the server's certificate */
};

/* An AFTR or lwAFTR: 3.4 allows a DNS name or an IPv6 address. */
struct hb_host {
	char name[HB_NAME_MAX + 1]; /* "" when given as an address */
	bool has_addr;		    /* given, or the name resolved */
	struct in6_addr addr;
};

enum hb_mape_version {
	HB_MAPE_DRAFT03 = 0, /* draft-ietf-softwire-map-03 ("legacy") */
	HB_MAPE_RFC7597 = 1,
};

struct hb_mape_rule {
	struct prefix6 ipv6; /* rule IPv6 prefix */
	struct prefix4 ipv4; /* rule IPv4 prefix */
	unsigned int ea_len;
	unsigned int psid_offset;
};

struct hb_mape {
	enum hb_mape_version version;
	bool mesh; /* brouter runs hub-and-spoke either way: all to the BR */
	struct in6_addr br;
	unsigned int n_rules;
	struct hb_mape_rule rules[HB_RULES_MAX];
};

/* RFC 2473 tunnel carrying a fixed IPv4 address (3.4 "ipip"). */
struct hb_ipip {
	struct in6_addr local;	/* ipv6_local: the CPE's end */
	struct in6_addr remote; /* ipv6_remote: the provider's end */
	struct prefix4 ipv4; /* the fixed address and its prefix length */
};

struct hb_lw4o6 {
	struct hb_host aftr;	/* lwaftr */
	struct prefix6 ipv6; /* operator-assigned IPv6 prefix */
	struct in_addr ipv4;	/* external address for NAPT44 */
	unsigned int psid;
	unsigned int psid_len;
	unsigned int psid_offset;
};

/*
 * A checked answer. Plain data, zeroed before it is filled, so it can be
 * copied and compared with memcmp; nothing to free. order[] holds only
 * methods asked for in hb_conf.methods, each once, and each has its block
 * parsed and checked.
 */
struct hb_answer {
	bool has_ttl;
	unsigned int ttl;
	char token[HB_TOKEN_LEN + 1]; /* "" when none */
	enum hb_auth auth;
	char enabler_name[HB_TEXT_MAX + 1];
	char service_name[HB_TEXT_MAX + 1];
	char isp_name[HB_TEXT_MAX + 1];
	unsigned int n_order; /* 0: the server says no tunnel */
	enum hb_method order[HB_METHODS];
	struct hb_mape mape;
	struct hb_host dslite; /* aftr */
	unsigned int n_ipip;
	struct hb_ipip ipip[HB_IPIP_MAX];
	struct hb_lw4o6 lw4o6;
};

/* ---- discover.c ---- */

/*
 * Parse "v=v6mig-1 url=URL t=a|b". -EPROTONOSUPPORT for another v6mig
 * version, -EINVAL for anything else wrong; @err says what.
 */
int hb_txt_parse(const char *txt, struct hb_txt *out, char *err,
		 size_t errlen);

/*
 * Ask the system resolver for the TXT record of @name (HB_TXT_NAME).
 * -ENOENT for NXDOMAIN or NODATA (3.6 c.2), -EAGAIN for a failure that
 * may pass, -EINVAL/-EPROTONOSUPPORT for a record we cannot use.
 */
int hb_discover(const char *name, struct hb_txt *out, char *err,
		size_t errlen);

/* AAAA of @name through the system resolver; errors as hb_discover(). */
int hb_resolve6(const char *name, struct in6_addr *out, char *err,
		size_t errlen);

/* ---- fetch.c ---- */

/* Check what the client sends against 3.3. */
int hb_conf_check(const struct hb_conf *c, char *err, size_t errlen);

/* "map_e,hubspoke,dslite": the capability parameter for @methods. */
int hb_capability(unsigned int methods, char *out, size_t outlen);

/*
 * 3.3: with a configured server name, user/pass go only over https with
 * a verified certificate (t=b) to that very host; without one, always.
 */
bool hb_may_send_credentials(const struct hb_conf *c, const char *url,
			     bool verify);

/*
 * @base plus the 3.3 parameters, escaped; parameters of ours already in
 * @base (a 307 Location repeating them) are replaced. Free with free().
 */
int hb_request_url(const struct hb_conf *c, const char *base, bool verify,
		   const char *token, char **out, char *err, size_t errlen);

/*
 * GET the answer over IPv6, following 307 only. 0 with a NUL-terminated
 * @body (free()) for a 200; -ETIMEDOUT, -EHOSTUNREACH, -EKEYREJECTED (TLS
 * verification), -EPROTO (HTTP status), -EFBIG, -ELOOP otherwise.
 */
int hb_fetch(const struct hb_conf *c, const struct hb_txt *txt,
	     const char *token, char **body, size_t *len, char *err,
	     size_t errlen);

/* ---- answer.c ---- */

/* "map_e", "dslite", "ipip", "lw4o6" (the spec's names). */
const char *hb_method_name(enum hb_method m);

/* The method of such a name, or -1 (464xlat, map_t, anything else). */
int hb_method_of(const char *name);

/* Parse and check a 3.4 answer; -EINVAL with @err naming the key. */
int hb_answer_parse(const char *json, size_t len, unsigned int methods,
		    struct hb_answer *out, char *err, size_t errlen);

/*
 * The rule whose IPv6 prefix covers @wan (the longest, if several):
 * its index, or -ENOENT.
 */
int hb_mape_select(const struct hb_mape *m, const struct prefix6 *wan);

/*
 * The first method of the order that can run: map_e needs a rule for
 * @wan (NULL: not known yet), dslite/lw4o6 an AFTR address. -ENOENT with
 * the reasons in @err when none can (or the order is empty).
 */
int hb_answer_choose(const struct hb_answer *a, const struct prefix6 *wan,
		     char *err, size_t errlen);

/* "ADDR/LEN"; with @exact no bit may be set after LEN. */
int hb_parse_prefix6(const char *s, bool exact, struct prefix6 *out);
int hb_parse_prefix4(const char *s, bool exact, struct prefix4 *out);

/* ---- store.c: files in the state directory ---- */

#define HB_FILE_TOKEN "hb46pp-token"
#define HB_FILE_ANSWER "hb46pp-answer.json"
#define HB_FILE_STATUS "hb46pp-status.json"

/* Replace @dir/@name by @data: a temporary file, fsync, rename. */
int hb_store_write(const char *dir, const char *name, const char *data,
		   size_t len, unsigned int mode);

/* Forget the token and the stored answer (3.5: a way to clear them). */
int hb_store_clear(const char *dir);

/* ---- state.c: the sequence of 3.6 ---- */

enum hb_result {
	HB_R_NONE = 0,	  /* nothing tried yet */
	HB_R_OK,	  /* an answer from the server */
	HB_R_NO_SERVICE,  /* no TXT record: no tunnel (3.6 c.2) */
	HB_R_DNS_ERROR,	  /* the TXT lookup failed otherwise (c.3) */
	HB_R_SERVER_ERROR, /* no answer from the server (f.2) */
	HB_R_BAD_ANSWER,  /* an answer we cannot use (h.2) */
};

enum hb_source {
	HB_SRC_NONE = 0,
	HB_SRC_SERVER,
	HB_SRC_STORED, /* the last good answer, server unreachable (3.5) */
};

/* Everything the state machine does to the world, replaceable in tests. */
struct hb_ops {
	int (*discover)(void *ctx, struct hb_txt *txt, char *err,
			size_t errlen);
	int (*fetch)(void *ctx, const struct hb_conf *c,
		     const struct hb_txt *txt, const char *token, char **body,
		     size_t *len, char *err, size_t errlen);
	int (*resolve6)(void *ctx, const char *name, struct in6_addr *out,
			char *err, size_t errlen);
	uint64_t (*mono)(void *ctx); /* seconds, never going back: timers */
	time_t (*wall)(void *ctx);   /* for people: the status file */
	uint32_t (*random)(void *ctx);
	void *ctx;
};

/* The real resolver, libcurl, CLOCK_BOOTTIME, time(), getrandom(). */
extern const struct hb_ops hb_system_ops;

struct hb_state;

/* @c and @ops are borrowed for the life of the state. NULL on ENOMEM. */
struct hb_state *hb_state_new(const struct hb_conf *c,
			      const struct hb_ops *ops);
void hb_state_free(struct hb_state *s);

/*
 * Run what is due. 1 when the answer in use (or the method chosen from
 * it) changed: call hb_state_answer() and reconfigure; else 0.
 */
int hb_state_run(struct hb_state *s);

/* Seconds until hb_state_run() has something to do. */
uint64_t hb_state_timeout(const struct hb_state *s);

/* A new WAN prefix re-fetches at once (3.6: "own IPv6 address changed"). */
void hb_state_set_wan(struct hb_state *s, const struct prefix6 *wan);

/*
 * The answer in use and its chosen method (-1: no tunnel), or NULL when
 * there is none.
 */
const struct hb_answer *hb_state_answer(const struct hb_state *s,
					int *method);

enum hb_result hb_state_result(const struct hb_state *s);

/* Forget token and stored answer, on disk and here; fetch again now. */
int hb_state_clear(struct hb_state *s);

/* ---- status.c ---- */

/* What brouterctl provision shows, as state.c knows it. */
struct hb_status {
	const char *url; /* NULL before a TXT record was found */
	bool verify;
	time_t last_fetch; /* 0: never */
	enum hb_result result;
	const char *error; /* why, when result is not HB_R_OK */
	enum hb_source source;
	const struct hb_answer *answer; /* NULL: none in use */
	time_t answer_time;		/* when it was fetched */
	int method;			/* -1: none */
	const struct prefix6 *wan;	/* NULL: not known */
	time_t next_fetch;
};

const char *hb_result_name(enum hb_result r);

/* Write HB_FILE_STATUS (atomically) in @dir. */
int hb_status_write(const char *dir, const struct hb_status *st);

/* brouterctl provision [--json]: print @dir's status file. */
int hb_status_print(const char *dir, bool json, FILE *out);

/* ---- adapt.c ---- */

struct tunnel_cfg;

/*
 * Set the mode and its part of @c (the rule and prefix of map-e or lw4o6,
 * ds-lite's AFTR, ipip's fixed address) from the method chosen in @a for
 * @wan; mtu, ipip6 peers, reserved ports and b4 stay as the caller set
 * them. No method: TUNNEL_OFF. -errno with @err when the answer cannot
 * run here (no rule for @wan, an IPv4 prefix for a CE, a bad lw4o6 prefix).
 */
int hb_tunnel_cfg(const struct hb_answer *a, const struct prefix6 *wan,
		  struct tunnel_cfg *c, char *err, size_t errlen);

#endif /* BR_HB46PP_H */
