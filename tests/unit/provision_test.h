/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* For the HB46PP unit tests: answers written readably, parsed and checked. */
#ifndef BR_PROVISION_TEST_H
#define BR_PROVISION_TEST_H

#define TOKEN "640756965820d3b9025b6941f9590af6802830ba58663fe8f043dc92b576f17a"
#define ALL   (HB_BIT(HB_METHODS) - 1)

/* JSON written with ' for ", so the fixtures stay readable. */
static inline char *J(const char *s)
{
	char *d = strdup(s), *p;

	assert_non_null(d);
	for (p = d; *p; p++)
		if (*p == '\'')
			*p = '"';
	return d;
}

static inline int parse(const char *json, unsigned int methods,
			struct hb_answer *a, char *err)
{
	char *j = J(json);
	int ret = hb_answer_parse(j, strlen(j), methods, a, err, HB_ERR_LEN);

	free(j);
	return ret;
}

static inline void parse_ok(const char *json, unsigned int methods,
			    struct hb_answer *a)
{
	char err[HB_ERR_LEN] = "";

	if (parse(json, methods, a, err))
		fail_msg("answer refused: %s", err);
}

/* Refused, with a message that names @what. */
static inline void parse_bad(const char *json, unsigned int methods,
			     const char *what)
{
	struct hb_answer *a = malloc(sizeof(*a));
	char err[HB_ERR_LEN] = "";

	assert_non_null(a);
	assert_int_equal(parse(json, methods, a, err), -EINVAL);
	if (!strstr(err, what))
		fail_msg("message \"%s\" does not name \"%s\"", err, what);
	free(a);
}

static inline struct prefix6 p6(const char *s)
{
	struct prefix6 p;

	assert_int_equal(hb_parse_prefix6(s, false, &p), 0);
	return p;
}

static inline void assert_addr6(const struct in6_addr *a, const char *s)
{
	char buf[INET6_ADDRSTRLEN];

	inet_ntop(AF_INET6, a, buf, sizeof(buf));
	assert_string_equal(buf, s);
}

/* The answer of the spec's 3.4, as written there. */
#define MAPE_RULE(v6, v4, ea, a)                            \
	"{'ipv6':'" v6 "','ipv4':'" v4 "','ea_length':" #ea \
	",'psid_offset':" #a "}"

static const char spec_example[] =
	"{'enabler_name':'A VNE','service_name':'Highspeed 4over6',"
	"'isp_name':'ISP-A','ttl':86400,'token':'" TOKEN "','auth':'ok',"
	"'order':['464xlat','map_e','dslite'],"
	"'map_e':{'version':0,'mesh':true,'br':'2001:db8:1::1','rules':[" MAPE_RULE(
		"2001:db8:1:2000::/52", "203.0.113.0/24", 12,
		4) "]},"
		   "'dslite':{'aftr':'aftr.example.net'},"
		   "'map_t':{'dmr':'2001:db8:5::/64','rules':[]},"
		   "'464xlat':{'nat64prefix':'2001:db8:6::/96'},"
		   "'unknown_key':[1,2,3]}";

#endif /* BR_PROVISION_TEST_H */
