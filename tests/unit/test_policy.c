// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Pinhole compiler: the exact map entries produced for each kind of rule,
 * merging, limits, speed; and, when allowed to create maps (root), the
 * writes, rollback and generation clearing against real BPF maps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <bpf/bpf.h>

#include "common/log.h"
#include "fw/policy.h"
#include "fw/prefixes.h"

static struct prefix6 pfx(const char *addr, int plen)
{
	struct prefix6 p = { .len = plen };

	assert_int_equal(inet_pton(AF_INET6, addr, &p.addr), 1);
	return p;
}

static struct br_pinhole rule(const char *dst, int plen, __u8 proto)
{
	struct br_pinhole r;

	memset(&r, 0, sizeof(r));
	r.dst = pfx(dst, plen);
	r.proto = proto;
	return r;
}

static void add_ports(struct br_pinhole *r, __u16 lo, __u16 hi)
{
	r->range[r->n_ranges].lo = lo;
	r->range[r->n_ranges++].hi = hi;
}

static __u32 set_of(const struct br_compiled *c, const char *dst, int plen)
{
	struct prefix6 p = pfx(dst, plen);
	__u32 i;

	for (i = 0; i < c->n_dst; i++)
		if (c->dst[i].key.prefixlen == 8u + plen &&
		    !memcmp(c->dst[i].key.addr, &p.addr, 16))
			return c->dst[i].val.set_id;
	fail_msg("no pin_dst entry for %s/%d", dst, plen);
	return 0;
}

static const struct br_pin_val *find(const struct br_compiled *c, __u32 set,
				     __u8 proto, __u8 any_port, __u16 port)
{
	__u32 i;

	for (i = 0; i < c->n_rules; i++) {
		const struct br_pin_key *k = &c->rules[i].key;

		if (k->set_id == set && k->proto == proto &&
		    k->any_port == any_port && k->port == port)
			return &c->rules[i].val;
	}
	return NULL;
}

/* The bytes the BPF side looks up, padding included. */
static void one_host_rule_exact_bytes(void **state)
{
	struct br_pinhole r = rule("2001:db8:1::10", 128, IPPROTO_TCP);
	struct br_pin_dst_key dk;
	struct br_pin_key rk;
	struct br_pin_val rv;
	struct br_compiled c;

	(void)state;
	add_ports(&r, 22, 22);
	assert_int_equal(policy_compile(&r, 1, 1, &c), 0);
	assert_int_equal(c.n_dst, 1);
	assert_int_equal(c.n_rules, 1);

	memset(&dk, 0, sizeof(dk));
	dk.prefixlen = 8 + 128;
	dk.gen = 1;
	inet_pton(AF_INET6, "2001:db8:1::10", dk.addr);
	assert_memory_equal(&c.dst[0].key, &dk, sizeof(dk));
	assert_int_equal(c.dst[0].val.set_id, 1);

	memset(&rk, 0, sizeof(rk));
	rk.set_id = 1;
	rk.gen = 1;
	rk.proto = IPPROTO_TCP;
	rk.port = 22;
	assert_memory_equal(&c.rules[0].key, &rk, sizeof(rk));
	memset(&rv, 0, sizeof(rv));
	assert_memory_equal(&c.rules[0].val, &rv, sizeof(rv)); /* rule 0, any source */
	policy_compiled_free(&c);
	assert_null(c.dst);
}

/* A host inside a /64 rule gets a set with both rules: one LPM match is complete. */
static void prefix_rule_inherited_by_host_set(void **state)
{
	struct br_pinhole r[2] = {
		rule("2001:db8:1::", 64, IPPROTO_UDP),
		rule("2001:db8:1::20", 128, IPPROTO_TCP),
	};
	struct br_compiled c;
	__u32 net, host;

	(void)state;
	add_ports(&r[0], 5060, 5060);
	add_ports(&r[1], 22, 22);
	assert_int_equal(policy_compile(r, 2, 0, &c), 0);
	assert_int_equal(c.n_dst, 2);
	net = set_of(&c, "2001:db8:1::", 64);
	host = set_of(&c, "2001:db8:1::20", 128);
	assert_int_equal(net, 1); /* set ids in the order rules name them */
	assert_int_equal(host, 2);
	assert_int_equal(c.n_rules, 3);
	assert_non_null(find(&c, net, IPPROTO_UDP, 0, 5060));
	assert_null(find(&c, net, IPPROTO_TCP, 0, 22));
	assert_int_equal(find(&c, host, IPPROTO_UDP, 0, 5060)->rule_id, 0);
	assert_int_equal(find(&c, host, IPPROTO_TCP, 0, 22)->rule_id, 1);
	policy_compiled_free(&c);
}

/* A host outside the /64 (other /64) inherits nothing from it. */
static void sibling_prefix_not_inherited(void **state)
{
	struct br_pinhole r[2] = {
		rule("2001:db8:1::", 64, IPPROTO_UDP),
		rule("2001:db8:2::20", 128, IPPROTO_TCP),
	};
	struct br_compiled c;

	(void)state;
	assert_int_equal(policy_compile(r, 2, 0, &c), 0);
	assert_int_equal(c.n_rules, 2);
	assert_null(find(&c, set_of(&c, "2001:db8:2::20", 128), IPPROTO_UDP, 1, 0));
	policy_compiled_free(&c);
}

static void port_range_expanded(void **state)
{
	struct br_pinhole r = rule("2001:db8::1", 128, IPPROTO_TCP);
	struct br_compiled c;

	(void)state;
	add_ports(&r, 1000, 1002);
	assert_int_equal(policy_compile(&r, 1, 0, &c), 0);
	assert_int_equal(c.n_rules, 3);
	assert_non_null(find(&c, 1, IPPROTO_TCP, 0, 1000));
	assert_non_null(find(&c, 1, IPPROTO_TCP, 0, 1001));
	assert_non_null(find(&c, 1, IPPROTO_TCP, 0, 1002));
	assert_null(find(&c, 1, IPPROTO_TCP, 0, 1003));
	policy_compiled_free(&c);
}

static void any_port_any_proto_and_icmp_type(void **state)
{
	struct br_pinhole r[3] = {
		rule("2001:db8::1", 128, IPPROTO_TCP),		/* every port */
		rule("2001:db8::2", 128, BR_PIN_PROTO_ANY),	/* everything */
		rule("2001:db8::3", 128, IPPROTO_ICMPV6),	/* echo request */
	};
	struct br_compiled c;

	(void)state;
	add_ports(&r[2], 128, 128);
	assert_int_equal(policy_compile(r, 3, 0, &c), 0);
	assert_int_equal(c.n_rules, 3);
	assert_non_null(find(&c, 1, IPPROTO_TCP, 1, 0));
	assert_non_null(find(&c, 2, BR_PIN_PROTO_ANY, 1, 0));
	assert_non_null(find(&c, 3, IPPROTO_ICMPV6, 0, 128));
	policy_compiled_free(&c);
}

static void sources_merged(void **state)
{
	struct br_pinhole r[3] = {
		rule("2001:db8::1", 128, IPPROTO_TCP),
		rule("2001:db8::1", 128, IPPROTO_TCP),
		rule("2001:db8::1", 128, IPPROTO_TCP),
	};
	const struct br_pin_val *v;
	struct prefix6 p;
	struct br_compiled c;

	(void)state;
	add_ports(&r[0], 22, 22);
	add_ports(&r[1], 20, 22);
	r[0].src[r[0].n_src++] = pfx("2001:db8:a::", 48);
	r[1].src[r[1].n_src++] = pfx("2001:db8:b::", 48);
	r[1].src[r[1].n_src++] = pfx("2001:db8:a:1::", 64); /* inside rule 0's */
	assert_int_equal(policy_compile(r, 2, 0, &c), 0);
	assert_int_equal(c.n_rules, 3); /* 20, 21, 22 */
	v = find(&c, 1, IPPROTO_TCP, 0, 22);
	assert_int_equal(v->rule_id, 0);
	assert_int_equal(v->n_src, 2);
	p = pfx("2001:db8:a::", 48);
	assert_memory_equal(v->src[0], &p.addr, 16);
	assert_int_equal(v->src_plen[0], 48);
	assert_int_equal(v->src_plen[1], 48);
	assert_int_equal(find(&c, 1, IPPROTO_TCP, 0, 21)->rule_id, 1);
	assert_int_equal(find(&c, 1, IPPROTO_TCP, 0, 21)->n_src, 2);
	policy_compiled_free(&c);

	/* a rule without sources opens the port to everyone */
	add_ports(&r[2], 22, 22);
	assert_int_equal(policy_compile(r, 3, 0, &c), 0);
	assert_int_equal(find(&c, 1, IPPROTO_TCP, 0, 22)->n_src, 0);
	assert_int_equal(find(&c, 1, IPPROTO_TCP, 0, 22)->rule_id, 0);
	policy_compiled_free(&c);
}

static void too_many_merged_sources(void **state)
{
	struct br_pinhole r[3];
	struct br_compiled c;
	char a[64];
	int i;

	(void)state;
	for (i = 0; i < 3; i++) {
		r[i] = rule("2001:db8::1", 128, IPPROTO_UDP);
		snprintf(a, sizeof(a), "2001:db8:%x::", 2 * i + 1);
		r[i].src[r[i].n_src++] = pfx(a, 48);
		snprintf(a, sizeof(a), "2001:db8:%x::", 2 * i + 2);
		r[i].src[r[i].n_src++] = pfx(a, 48);
	}
	assert_int_equal(policy_compile(r, 2, 0, &c), 0);
	assert_int_equal(c.rules[0].val.n_src, 4);
	policy_compiled_free(&c);
	assert_int_equal(policy_compile(r, 3, 0, &c), -E2BIG);
}

/* /64 with every port, plus hosts inside that inherit all of them. */
static void expansion_cap(void **state)
{
	struct br_pinhole r[9];
	struct br_compiled c;
	char a[64];
	int i;

	(void)state;
	r[0] = rule("2001:db8::", 64, IPPROTO_TCP);
	add_ports(&r[0], 1, 65535);
	for (i = 1; i < 9; i++) {
		snprintf(a, sizeof(a), "2001:db8::%x", i);
		r[i] = rule(a, 128, IPPROTO_UDP);
	}
	/* 8 sets * 65535 + 7 = 524287: just fits */
	assert_int_equal(policy_compile(r, 8, 0, &c), 0);
	assert_int_equal(c.n_rules, 8 * 65535 + 7);
	policy_compiled_free(&c);
	assert_int_equal(policy_compile(r, 9, 0, &c), -E2BIG);
}

static void distinct_destination_cap(void **state)
{
	int i, n = BR_PIN_MAX_DST + 1;
	struct br_pinhole *r = calloc(n, sizeof(*r));
	struct br_compiled c;

	(void)state;
	assert_non_null(r);
	for (i = 0; i < n; i++) {
		r[i] = rule("2001:db8::", 128, IPPROTO_TCP);
		r[i].dst.addr.s6_addr[14] = i >> 8;
		r[i].dst.addr.s6_addr[15] = i;
	}
	assert_int_equal(policy_compile(r, n - 1, 0, &c), 0);
	assert_int_equal(c.n_dst, BR_PIN_MAX_DST);
	policy_compiled_free(&c);
	assert_int_equal(policy_compile(r, n, 0, &c), -E2BIG);
	free(r);
}

static void gen_byte_and_masking(void **state)
{
	struct br_pinhole r = rule("2001:db8:1:2:3:4:5:6", 64, IPPROTO_TCP);
	struct prefix6 net = pfx("2001:db8:1:2::", 64);
	struct prefix6 src = pfx("2001:db8::", 32);
	struct br_compiled c;
	int gen;

	(void)state;
	r.src[r.n_src++] = pfx("2001:db8:ff:ff::1", 32);
	for (gen = 0; gen < 2; gen++) {
		assert_int_equal(policy_compile(&r, 1, gen, &c), 0);
		assert_int_equal(c.dst[0].key.gen, gen);
		assert_int_equal(c.rules[0].key.gen, gen);
		/* host bits past the length are zero in keys and sources */
		assert_memory_equal(c.dst[0].key.addr, &net.addr, 16);
		assert_memory_equal(c.rules[0].val.src[0], &src.addr, 16);
		policy_compiled_free(&c);
	}
}

static void empty_policy(void **state)
{
	struct br_compiled c;

	(void)state;
	assert_int_equal(policy_compile(NULL, 0, 1, &c), 0);
	assert_int_equal(c.n_dst, 0);
	assert_int_equal(c.n_rules, 0);
	policy_compiled_free(&c);
}

static void ten_thousand_hosts_fast(void **state)
{
	int i, n = 10000;
	struct br_pinhole *r = calloc(n + 1, sizeof(*r));
	struct timespec t0, t1;
	struct br_compiled c;
	double s;

	(void)state;
	assert_non_null(r);
	r[0] = rule("2001:db8::", 48, IPPROTO_ICMPV6);
	for (i = 1; i <= n; i++) {
		r[i] = rule("2001:db8::", 128, IPPROTO_TCP);
		r[i].dst.addr.s6_addr[6] = i >> 8; /* spread over /64s inside the /48 */
		r[i].dst.addr.s6_addr[15] = i;
		add_ports(&r[i], 443, 443);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(policy_compile(r, n + 1, 0, &c), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	assert_int_equal(c.n_dst, n + 1);
	assert_int_equal(c.n_rules, 1 + 2 * n); /* each host also gets the /48's ICMPv6 */
	assert_true(s < 1.0);
	policy_compiled_free(&c);
	free(r);
}

/* ---- against real maps (needs CAP_BPF; skipped otherwise) ----------- */

struct maps {
	int dst, rules, prefixes;
};

static int maps_create(struct maps *m, __u32 max_rules)
{
	LIBBPF_OPTS(bpf_map_create_opts, lpm, .map_flags = BPF_F_NO_PREALLOC);

	m->dst = bpf_map_create(BPF_MAP_TYPE_LPM_TRIE, "t_pin_dst",
				sizeof(struct br_pin_dst_key),
				sizeof(struct br_pin_dst_val), 1024, &lpm);
	m->rules = bpf_map_create(BPF_MAP_TYPE_HASH, "t_pin_rules",
				  sizeof(struct br_pin_key),
				  sizeof(struct br_pin_val), max_rules, NULL);
	m->prefixes = bpf_map_create(BPF_MAP_TYPE_LPM_TRIE, "t_prefixes",
				     sizeof(struct br_prefix_key),
				     sizeof(struct br_prefix_val), 256, &lpm);
	return m->dst < 0 || m->rules < 0 || m->prefixes < 0 ? -1 : 0;
}

static void maps_close(struct maps *m)
{
	if (m->dst >= 0)
		close(m->dst);
	if (m->rules >= 0)
		close(m->rules);
	if (m->prefixes >= 0)
		close(m->prefixes);
}

static int count(int fd, size_t key_size)
{
	char k[64], prev[64];
	int n = 0;

	while (!bpf_map_get_next_key(fd, n ? prev : NULL, k)) {
		memcpy(prev, k, key_size);
		n++;
	}
	return n;
}

static void write_and_clear_generations(void **state)
{
	struct br_pinhole r[2] = {
		rule("2001:db8::", 64, IPPROTO_TCP),
		rule("2001:db8::5", 128, IPPROTO_UDP),
	};
	struct br_compiled c0, c1;
	struct br_pin_dst_key dk;
	struct br_pin_dst_val dv;
	struct maps m;

	(void)state;
	if (maps_create(&m, 1024)) {
		maps_close(&m);
		skip();
	}
	add_ports(&r[0], 80, 81);
	assert_int_equal(policy_compile(r, 2, 0, &c0), 0);
	assert_int_equal(policy_compile(r, 1, 1, &c1), 0);
	assert_int_equal(policy_write(m.dst, m.rules, &c0), 0);
	assert_int_equal(policy_write(m.dst, m.rules, &c1), 0);
	assert_int_equal(count(m.dst, sizeof(dk)), 3);
	assert_int_equal(count(m.rules, sizeof(struct br_pin_key)), 5 + 2);

	/* an LPM lookup as the data path does it finds the host's set */
	memset(&dk, 0, sizeof(dk));
	dk.prefixlen = 8 + 128;
	inet_pton(AF_INET6, "2001:db8::5", dk.addr);
	assert_int_equal(bpf_map_lookup_elem(m.dst, &dk, &dv), 0);
	assert_int_equal(dv.set_id, 2);

	assert_int_equal(policy_clear_gen(m.dst, m.rules, 0), 0);
	assert_int_equal(count(m.dst, sizeof(dk)), 1);
	assert_int_equal(count(m.rules, sizeof(struct br_pin_key)), 2);
	assert_int_not_equal(bpf_map_lookup_elem(m.dst, &dk, &dv), 0);
	dk.gen = 1;
	assert_int_equal(bpf_map_lookup_elem(m.dst, &dk, &dv), 0);
	policy_compiled_free(&c0);
	policy_compiled_free(&c1);
	maps_close(&m);
}

static void failed_write_leaves_nothing(void **state)
{
	struct br_pinhole r = rule("2001:db8::1", 128, IPPROTO_TCP);
	struct br_compiled c;
	struct maps m;

	(void)state;
	if (maps_create(&m, 4)) {
		maps_close(&m);
		skip();
	}
	add_ports(&r, 1, 10); /* 10 entries, the map holds 4 */
	assert_int_equal(policy_compile(&r, 1, 0, &c), 0);
	assert_true(policy_write(m.dst, m.rules, &c) < 0);
	assert_int_equal(count(m.rules, sizeof(struct br_pin_key)), 0);
	assert_int_equal(count(m.dst, sizeof(struct br_pin_dst_key)), 0);
	policy_compiled_free(&c);
	maps_close(&m);
}

static void prefixes_follow_config(void **state)
{
	struct prefix6 p[2] = { pfx("2001:db8:1::", 64), pfx("2001:db8:2::", 64) };
	struct br_prefix_key k;
	struct br_prefix_val v;
	struct maps m;

	(void)state;
	prefixes_config_entry(&p[0], &k, &v);
	assert_int_equal(k.prefixlen, 64);
	assert_int_equal(v.flags, BR_PFX_CONFIG);
	assert_int_equal(v.expires_ns, 0);
	if (maps_create(&m, 16)) {
		maps_close(&m);
		skip();
	}
	/* p[1] was also learned from an RA */
	prefixes_config_entry(&p[1], &k, &v);
	v.flags = BR_PFX_RA;
	v.expires_ns = 12345;
	assert_int_equal(bpf_map_update_elem(m.prefixes, &k, &v, BPF_ANY), 0);

	assert_int_equal(prefixes_sync_config(m.prefixes, p, 2), 0);
	assert_int_equal(count(m.prefixes, sizeof(k)), 2);
	assert_int_equal(bpf_map_lookup_elem(m.prefixes, &k, &v), 0);
	assert_int_equal(v.flags, BR_PFX_RA | BR_PFX_CONFIG);

	/* both removed from the config: p[0] goes, p[1] stays as RA-learned */
	assert_int_equal(prefixes_sync_config(m.prefixes, NULL, 0), 0);
	assert_int_equal(count(m.prefixes, sizeof(k)), 1);
	assert_int_equal(bpf_map_lookup_elem(m.prefixes, &k, &v), 0);
	assert_int_equal(v.flags, BR_PFX_RA);
	maps_close(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(one_host_rule_exact_bytes),
		cmocka_unit_test(prefix_rule_inherited_by_host_set),
		cmocka_unit_test(sibling_prefix_not_inherited),
		cmocka_unit_test(port_range_expanded),
		cmocka_unit_test(any_port_any_proto_and_icmp_type),
		cmocka_unit_test(sources_merged),
		cmocka_unit_test(too_many_merged_sources),
		cmocka_unit_test(expansion_cap),
		cmocka_unit_test(distinct_destination_cap),
		cmocka_unit_test(gen_byte_and_masking),
		cmocka_unit_test(empty_policy),
		cmocka_unit_test(ten_thousand_hosts_fast),
		cmocka_unit_test(write_and_clear_generations),
		cmocka_unit_test(failed_write_leaves_nothing),
		cmocka_unit_test(prefixes_follow_config),
	};

	br_log_level = -1; /* the rejections print errors; keep output clean */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
