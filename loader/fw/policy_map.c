// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Writing compiled pinholes into "pin_dst" and "pin_rules", a generation at a time. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "common/log.h"
#include "common/mapwalk.h"
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

/* Every rule index fits below the tag: a rule takes at least one entry. */
_Static_assert(BR_PIN_MAX_ENTRIES <= BR_RULE_INDEX_MASK + 1, "rule index bits");

void policy_tag(struct br_compiled *c, __u32 tag)
{
	__u32 i;

	for (i = 0; i < c->n_rules; i++)
		c->rules[i].val.rule_id |= tag;
}

int policy_write_names(int names_fd, const struct br_pinhole *ph, int n,
		       __u32 tag)
{
	struct br_pin_name v;
	__u32 id;
	int i;

	for (i = 0; i < n; i++) {
		memset(&v, 0, sizeof(v));
		memcpy(v.name, ph[i].name, sizeof(v.name));
		id = tag | i;
		if (bpf_map_update_elem(names_fd, &id, &v, BPF_ANY))
			return -errno;
	}
	return 0;
}

static bool dst_of_gen(const void *key, void *ctx)
{
	const struct br_pin_dst_key *k = key;

	return k->prefixlen >= 8 && k->gen == *(const __u8 *)ctx;
}

static bool rule_of_gen(const void *key, void *ctx)
{
	return ((const struct br_pin_key *)key)->gen == *(const __u8 *)ctx;
}

/* Keys are collected before any is deleted (common/mapwalk.h). */
static int clear_map(int fd, const char *name, size_t key_size,
		     bool (*want)(const void *, void *), __u8 gen)
{
	struct map_keys mk = { 0 };
	int err;

	err = map_keys(fd, key_size, want, &gen, &mk) ?: map_keys_delete(fd, &mk);
	if (err)
		pr_err("%s: clear generation %u: %s", name, gen, strerror(-err));
	map_keys_free(&mk);
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
