// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Writing compiled pinholes and configured prefixes into their maps. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "common/log.h"
#include "fw/policy.h"

static void undo_rules(int fd, const struct br_compiled *c, __u32 n)
{
	while (n--)
		bpf_map_delete_elem(fd, &c->rules[n].key);
}

static void undo_dst(int fd, const struct br_compiled *c, __u32 n)
{
	while (n--)
		bpf_map_delete_elem(fd, &c->dst[n].key);
}

int policy_write(int pin_dst_fd, int pin_rules_fd, const struct br_compiled *c)
{
	__u32 i, j;
	int err;

	for (i = 0; i < c->n_rules; i++) {
		if (bpf_map_update_elem(pin_rules_fd, &c->rules[i].key,
					&c->rules[i].val, BPF_ANY)) {
			err = -errno;
			pr_err("pin_rules: add entry %u of %u: %s%s", i + 1,
			       c->n_rules, strerror(errno),
			       err == -E2BIG ? " (map full)" : "");
			undo_rules(pin_rules_fd, c, i);
			return err;
		}
	}
	for (j = 0; j < c->n_dst; j++) {
		if (bpf_map_update_elem(pin_dst_fd, &c->dst[j].key,
					&c->dst[j].val, BPF_ANY)) {
			err = -errno;
			pr_err("pin_dst: add entry %u of %u: %s%s", j + 1, c->n_dst,
			       strerror(errno), err == -ENOSPC ? " (map full)" : "");
			undo_dst(pin_dst_fd, c, j);
			undo_rules(pin_rules_fd, c, c->n_rules);
			return err;
		}
	}
	return 0;
}

struct keybuf {
	void *k;
	size_t size, n, cap;
};

static int keybuf_add(struct keybuf *kb, const void *key)
{
	void *k;

	if (kb->n == kb->cap) {
		kb->cap = kb->cap ? 2 * kb->cap : 256;
		k = realloc(kb->k, kb->cap * kb->size);
		if (!k)
			return -ENOMEM;
		kb->k = k;
	}
	memcpy((char *)kb->k + kb->n++ * kb->size, key, kb->size);
	return 0;
}

/*
 * Keys are collected before any is deleted: deleting the key that
 * get_next_key would continue from restarts a hash walk from the start.
 */
static int collect(int fd, struct keybuf *kb, int (*want)(const void *, __u8),
		   __u8 gen)
{
	char cur[64], next[64];
	void *prev = NULL;
	int err;

	while (!bpf_map_get_next_key(fd, prev, next)) {
		if (want(next, gen)) {
			err = keybuf_add(kb, next);
			if (err)
				return err;
		}
		memcpy(cur, next, kb->size);
		prev = cur;
	}
	return errno == ENOENT ? 0 : -errno;
}

static int delete_all(int fd, const struct keybuf *kb)
{
	size_t i;

	for (i = 0; i < kb->n; i++)
		if (bpf_map_delete_elem(fd, (char *)kb->k + i * kb->size) &&
		    errno != ENOENT)
			return -errno;
	return 0;
}

static int dst_of_gen(const void *key, __u8 gen)
{
	const struct br_pin_dst_key *k = key;

	return k->prefixlen >= 8 && k->gen == gen;
}

static int rule_of_gen(const void *key, __u8 gen)
{
	return ((const struct br_pin_key *)key)->gen == gen;
}

static int clear_map(int fd, const char *name, size_t key_size,
		     int (*want)(const void *, __u8), __u8 gen)
{
	struct keybuf kb = { .size = key_size };
	int err;

	err = collect(fd, &kb, want, gen) ?: delete_all(fd, &kb);
	if (err)
		pr_err("%s: clear generation %u: %s", name, gen, strerror(-err));
	free(kb.k);
	return err;
}

int policy_clear_gen(int pin_dst_fd, int pin_rules_fd, __u8 gen)
{
	/* Destinations first: a rule entry is never reachable without one. */
	return clear_map(pin_dst_fd, "pin_dst", sizeof(struct br_pin_dst_key),
			 dst_of_gen, gen) ?:
	       clear_map(pin_rules_fd, "pin_rules", sizeof(struct br_pin_key),
			 rule_of_gen, gen);
}

void policy_prefix_entry(const struct br_prefix6 *p, struct br_prefix_key *key,
			 struct br_prefix_val *val)
{
	memset(key, 0, sizeof(*key));
	memset(val, 0, sizeof(*val));
	key->prefixlen = p->plen;
	memcpy(key->addr, p->addr, 16);
	prefix_mask(key->addr, p->plen);
	val->flags = BR_PFX_CONFIG;
	val->expires_ns = 0; /* configured prefixes never expire */
}

static int configured(const struct br_prefix_key *k, const struct br_prefix6 *p,
		      int n)
{
	struct br_prefix_key want;
	struct br_prefix_val v;
	int i;

	for (i = 0; i < n; i++) {
		policy_prefix_entry(&p[i], &want, &v);
		if (!memcmp(&want, k, sizeof(want)))
			return 1;
	}
	return 0;
}

static int any_key(const void *key, __u8 unused)
{
	(void)key;
	(void)unused;
	return 1;
}

/*
 * A user-space lookup in an LPM trie is a longest-prefix match: only keys
 * known to be in the map (from get_next_key) are looked up, so each
 * lookup returns that very entry.
 */
static int in_map(const struct keybuf *kb, const struct br_prefix_key *k)
{
	size_t i;

	for (i = 0; i < kb->n; i++)
		if (!memcmp((const struct br_prefix_key *)kb->k + i, k, sizeof(*k)))
			return 1;
	return 0;
}

static int prefixes_add(int fd, const struct keybuf *kb,
			const struct br_prefix6 *p, int n)
{
	struct br_prefix_val v, old;
	struct br_prefix_key k;
	int i;

	for (i = 0; i < n; i++) {
		policy_prefix_entry(&p[i], &k, &v);
		if (in_map(kb, &k) && !bpf_map_lookup_elem(fd, &k, &old))
			v.flags |= old.flags;
		if (bpf_map_update_elem(fd, &k, &v, BPF_ANY))
			return -errno;
	}
	return 0;
}

/* Drop BR_PFX_CONFIG from the entries no longer configured. */
static int prefixes_unflag(int fd, const struct keybuf *kb,
			   const struct br_prefix6 *p, int n)
{
	const struct br_prefix_key *k;
	struct br_prefix_val v;
	size_t i;

	for (i = 0; i < kb->n; i++) {
		k = (const struct br_prefix_key *)kb->k + i;
		if (bpf_map_lookup_elem(fd, k, &v) || !(v.flags & BR_PFX_CONFIG) ||
		    configured(k, p, n))
			continue;
		v.flags &= ~BR_PFX_CONFIG;
		/* Learned from RAs too: the next RA sets its lifetime again. */
		if (v.flags ? bpf_map_update_elem(fd, k, &v, BPF_EXIST) :
			      bpf_map_delete_elem(fd, k))
			if (errno != ENOENT)
				return -errno;
	}
	return 0;
}

int policy_prefixes_sync(int prefixes_fd, const struct br_prefix6 *p, int n)
{
	struct keybuf kb = { .size = sizeof(struct br_prefix_key) };
	int err;

	err = collect(prefixes_fd, &kb, any_key, 0);
	if (!err)
		err = prefixes_add(prefixes_fd, &kb, p, n);
	if (!err)
		err = prefixes_unflag(prefixes_fd, &kb, p, n);
	if (err)
		pr_err("prefixes: apply configured lan-prefixes: %s", strerror(-err));
	free(kb.k);
	return err;
}
