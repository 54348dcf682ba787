// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Pinhole compiler: rules -> "pin_dst" (LPM) and "pin_rules" (hash)
 * entries, so the data path's cost is one trie lookup and at most three
 * hash probes however many rules there are. Pure: no maps, no syscalls.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "common/log.h"
#include "fw/policy.h"

int prefix_set_add(struct prefix6 *set, int *n, const struct prefix6 *p)
{
	int i, j;

	for (i = 0; i < *n; i++)
		if (prefix6_covers(&set[i], p))
			return 0;
	for (i = j = 0; i < *n; i++)
		if (!prefix6_covers(p, &set[i]))
			set[j++] = set[i];
	*n = j;
	if (*n == BR_PIN_MAX_SRC)
		return -E2BIG;
	set[(*n)++] = *p;
	return 0;
}

/* "file:12: pinhole[3] 'ssh'" for messages. */
static const char *rule_desc(const struct br_pinhole *ph, int idx, char *buf,
			     size_t len)
{
	const struct br_pinhole *r = &ph[idx];
	int off = 0;

	if (r->line)
		off = snprintf(buf, len, "%s:%u: ", r->file ?: "config", r->line);
	snprintf(buf + off, len - off, "pinhole[%d]%s%s%s", idx,
		 r->name[0] ? " '" : "", r->name, r->name[0] ? "'" : "");
	return buf;
}

/* ---- destination prefixes -> sets ---------------------------------- */

struct dst_ref {
	struct prefix6 p;
	int rule;
};

struct dst_uniq {
	struct prefix6 p;
	int first_rule;	  /* lowest rule naming it */
	int start, count; /* its rules: refs[start..start+count) */
	__u32 set_id;
};

static int dst_ref_cmp(const void *a, const void *b)
{
	const struct dst_ref *x = a, *y = b;

	return prefix6_cmp(&x->p, &y->p) ?: x->rule - y->rule;
}

static int uniq_by_first_rule(const void *a, const void *b)
{
	const struct dst_uniq *const *x = a, *const *y = b;

	return (*x)->first_rule - (*y)->first_rule;
}

static int uniq_find(const struct dst_uniq *u, int n, const struct prefix6 *p)
{
	int lo = 0, hi = n - 1, mid, d;

	while (lo <= hi) {
		mid = lo + (hi - lo) / 2;
		d = prefix6_cmp(&u[mid].p, p);
		if (!d)
			return mid;
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

/* ---- rule entries, merged by key ------------------------------------ */

struct builder {
	const struct br_pinhole *ph;
	__u8 gen;
	struct br_pin_entry *e;
	__u32 n, cap;
	__u32 *slot;	/* open addressing: entry index + 1, 0 = empty */
	__u32 nslots;	/* power of two, at least twice n */
	__u64 expanded; /* entries generated before merging */
};

static __u32 key_hash(const struct br_pin_key *k)
{
	__u64 h = (__u64)k->set_id * 0x9e3779b97f4a7c15ULL;

	h ^= ((__u64)k->proto << 24 | (__u64)k->any_port << 16 | k->port) *
	     0xc2b2ae3d27d4eb4fULL;
	h ^= h >> 29;
	return (__u32)(h ^ h >> 32);
}

static int builder_grow(struct builder *b)
{
	__u32 i, j, nslots = b->nslots ? 2 * b->nslots : 1024;
	__u32 *slot;
	void *e;

	if (b->n + 1 > b->cap) {
		b->cap = b->cap ? 2 * b->cap : 512;
		e = realloc(b->e, b->cap * sizeof(*b->e));
		if (!e)
			return -ENOMEM;
		b->e = e;
	}
	if (2 * (b->n + 1) <= b->nslots)
		return 0;
	slot = calloc(nslots, sizeof(*slot));
	if (!slot)
		return -ENOMEM;
	for (i = 0; i < b->n; i++) {
		j = key_hash(&b->e[i].key) & (nslots - 1);
		while (slot[j])
			j = (j + 1) & (nslots - 1);
		slot[j] = i + 1;
	}
	free(b->slot);
	b->slot = slot;
	b->nslots = nslots;
	return 0;
}

static void val_set_src(struct br_pin_val *v, const struct prefix6 *src, int n)
{
	int i;

	v->n_src = n;
	memset(v->src_plen, 0, sizeof(v->src_plen));
	memset(v->src, 0, sizeof(v->src));
	for (i = 0; i < n; i++) {
		struct prefix6 p = prefix6_of(&src[i].addr, src[i].len);

		v->src_plen[i] = p.len;
		memcpy(v->src[i], &p.addr, 16);
	}
}

/* Union of the sources allowed; no source list (any) absorbs the rest. */
static int val_merge_src(struct br_pin_val *v, const struct br_pinhole *r)
{
	struct prefix6 set[BR_PIN_MAX_SRC];
	int i, n = v->n_src;

	if (!v->n_src)
		return 0;
	if (!r->n_src) {
		val_set_src(v, NULL, 0);
		return 0;
	}
	for (i = 0; i < n; i++) {
		memcpy(&set[i].addr, v->src[i], 16);
		set[i].len = v->src_plen[i];
	}
	for (i = 0; i < r->n_src; i++)
		if (prefix_set_add(set, &n, &r->src[i]))
			return -E2BIG;
	val_set_src(v, set, n);
	return 0;
}

static int emit(struct builder *b, __u32 set_id, int rule, __u8 proto,
		__u8 any_port, __u16 port)
{
	struct br_pin_key k = {
		.set_id = set_id, .gen = b->gen, .proto = proto,
		.any_port = any_port, .port = port,
	};
	const struct br_pinhole *r = &b->ph[rule];
	char d1[128], d2[128];
	struct br_pin_entry *e;
	__u32 j;
	int err;

	if (++b->expanded > BR_PIN_MAX_ENTRIES) {
		pr_err("%s: its ports, repeated for each destination set inside its "
		       "dst, take the pinholes past %u map entries; use fewer ports "
		       "or fewer host rules inside its prefix",
		       rule_desc(b->ph, rule, d1, sizeof(d1)), BR_PIN_MAX_ENTRIES);
		return -E2BIG;
	}
	j = key_hash(&k) & (b->nslots - 1);
	for (; b->nslots && b->slot[j]; j = (j + 1) & (b->nslots - 1)) {
		e = &b->e[b->slot[j] - 1];
		if (memcmp(&e->key, &k, sizeof(k)))
			continue;
		if (val_merge_src(&e->val, r)) {
			pr_err("%s: together with %s it allows more than %d distinct "
			       "sources to the same destination, protocol and port; "
			       "merge them or use a wider source prefix",
			       rule_desc(b->ph, rule, d1, sizeof(d1)),
			       rule_desc(b->ph, e->val.rule_id, d2, sizeof(d2)),
			       BR_PIN_MAX_SRC);
			return -E2BIG;
		}
		return 0;
	}
	err = builder_grow(b);
	if (err)
		return err;
	j = key_hash(&k) & (b->nslots - 1);
	while (b->slot[j])
		j = (j + 1) & (b->nslots - 1);
	e = &b->e[b->n];
	memset(e, 0, sizeof(*e));
	e->key = k;
	e->val.rule_id = rule;
	val_set_src(&e->val, r->src, r->n_src);
	b->slot[j] = ++b->n;
	return 0;
}

/* All entries of rule @rule in set @set_id. */
static int emit_rule(struct builder *b, __u32 set_id, int rule)
{
	const struct br_pinhole *r = &b->ph[rule];
	int i, err;
	__u32 p;

	if (r->proto == BR_PIN_PROTO_ANY || !r->n_ranges)
		return emit(b, set_id, rule, r->proto, 1, 0);
	for (i = 0; i < r->n_ranges; i++)
		for (p = r->range[i].lo; p <= r->range[i].hi; p++) {
			err = emit(b, set_id, rule, r->proto, 0, p);
			if (err)
				return err;
		}
	return 0;
}

static int int_cmp(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

static int check_rule(const struct br_pinhole *ph, int i)
{
	const struct br_pinhole *r = &ph[i];
	char d[128];
	int k;

	if (r->dst.len > 128 || r->n_src < 0 || r->n_src > BR_PIN_MAX_SRC ||
	    r->n_ranges < 0 || r->n_ranges > BR_PH_MAX_RANGES ||
	    (r->proto == BR_PIN_PROTO_ANY && r->n_ranges))
		goto bad;
	for (k = 0; k < r->n_ranges; k++)
		if (r->range[k].lo > r->range[k].hi)
			goto bad;
	for (k = 0; k < r->n_src; k++)
		if (r->src[k].len > 128)
			goto bad;
	return 0;
bad:
	pr_err("%s: malformed rule", rule_desc(ph, i, d, sizeof(d)));
	return -EINVAL;
}

struct compile_ctx {
	struct dst_ref *refs;
	struct dst_uniq *u;
	struct dst_uniq **order; /* u by first rule: set id order */
	int *members;
	int nu;
};

static int build_sets(const struct br_pinhole *ph, int n, struct compile_ctx *x)
{
	char d[128];
	int i;

	for (i = 0; i < n; i++) {
		x->refs[i].p = prefix6_of(&ph[i].dst.addr, ph[i].dst.len);
		x->refs[i].rule = i;
	}
	qsort(x->refs, n, sizeof(*x->refs), dst_ref_cmp);
	for (i = 0; i < n; i++) {
		if (i && !prefix6_cmp(&x->refs[i].p, &x->refs[i - 1].p)) {
			x->u[x->nu - 1].count++;
			continue;
		}
		x->u[x->nu] = (struct dst_uniq){ .p = x->refs[i].p, .start = i,
						 .count = 1,
						 .first_rule = x->refs[i].rule };
		x->order[x->nu] = &x->u[x->nu];
		x->nu++;
	}
	qsort(x->order, x->nu, sizeof(*x->order), uniq_by_first_rule);
	if (x->nu > BR_PIN_MAX_DST) {
		pr_err("%s: more than %d distinct pinhole destinations",
		       rule_desc(ph, x->order[BR_PIN_MAX_DST]->first_rule, d,
				 sizeof(d)), BR_PIN_MAX_DST);
		return -E2BIG;
	}
	for (i = 0; i < x->nu; i++)
		x->order[i]->set_id = i + 1;
	return 0;
}

/* Rules of set @s: those of every listed prefix covering it, by index. */
static int set_members(struct compile_ctx *x, const struct dst_uniq *s,
		       const __u8 *plens, int nplens)
{
	struct prefix6 q;
	int i, k, m = 0, at;

	for (i = 0; i < nplens && plens[i] <= s->p.len; i++) {
		q = prefix6_of(&s->p.addr, plens[i]);
		at = uniq_find(x->u, x->nu, &q);
		if (at < 0)
			continue;
		for (k = 0; k < x->u[at].count; k++)
			x->members[m++] = x->refs[x->u[at].start + k].rule;
	}
	qsort(x->members, m, sizeof(*x->members), int_cmp);
	return m;
}

static int compile_sets(struct builder *b, struct compile_ctx *x,
			struct br_compiled *out)
{
	__u8 plens[129], seen[129] = { 0 };
	int i, k, m, nplens = 0, err;
	struct br_pin_dst_entry *d;

	for (i = 0; i < x->nu; i++)
		seen[x->u[i].p.len] = 1;
	for (i = 0; i <= 128; i++)
		if (seen[i])
			plens[nplens++] = i;
	for (i = 0; i < x->nu; i++) {
		m = set_members(x, x->order[i], plens, nplens);
		for (k = 0; k < m; k++) {
			err = emit_rule(b, x->order[i]->set_id, x->members[k]);
			if (err)
				return err;
		}
		d = &out->dst[i];
		memset(d, 0, sizeof(*d));
		d->key.prefixlen = 8 + x->order[i]->p.len;
		d->key.gen = b->gen;
		memcpy(d->key.addr, &x->order[i]->p.addr, 16);
		d->val.set_id = x->order[i]->set_id;
	}
	out->n_dst = x->nu;
	return 0;
}

int policy_compile(const struct br_pinhole *ph, int n, __u8 gen,
		   struct br_compiled *out)
{
	struct builder b = { .ph = ph, .gen = gen };
	struct compile_ctx x = { 0 };
	struct br_compiled c = { 0 };
	int i, err = -ENOMEM;

	for (i = 0; i < n; i++)
		if (check_rule(ph, i))
			return -EINVAL;
	if (n <= 0) {
		*out = c;
		return 0;
	}
	x.refs = calloc(n, sizeof(*x.refs));
	x.u = calloc(n, sizeof(*x.u));
	x.order = calloc(n, sizeof(*x.order));
	x.members = calloc(n, sizeof(*x.members));
	c.dst = calloc(n, sizeof(*c.dst));
	if (!x.refs || !x.u || !x.order || !x.members || !c.dst)
		goto out;
	err = build_sets(ph, n, &x) ?: compile_sets(&b, &x, &c);
	if (err)
		goto out;
	c.rules = b.e;
	c.n_rules = b.n;
	b.e = NULL;
	*out = c;
	c.dst = NULL;
out:
	if (err == -ENOMEM)
		pr_err("compile pinholes: out of memory");
	free(c.dst);
	free(b.e);
	free(b.slot);
	free(x.refs);
	free(x.u);
	free(x.order);
	free(x.members);
	return err;
}

void policy_compiled_free(struct br_compiled *c)
{
	free(c->dst);
	free(c->rules);
	memset(c, 0, sizeof(*c));
}
