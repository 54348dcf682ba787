// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The "prefixes" map: RA-learned and configured outbound sources (fw/prefixes.h). */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>

#include "common/log.h"
#include "common/mapwalk.h"
#include "common/mono.h"
#include "fw/prefixes.h"

static void key_set(struct br_prefix_key *k, const struct prefix6 *p)
{
	struct prefix6 m = prefix6_of(&p->addr, p->len);

	memset(k, 0, sizeof(*k));
	k->prefixlen = m.len;
	memcpy(k->addr, &m.addr, 16);
}

void prefixes_config_entry(const struct prefix6 *p, struct br_prefix_key *key,
			   struct br_prefix_val *val)
{
	key_set(key, p);
	memset(val, 0, sizeof(*val));
	val->flags = BR_PFX_CONFIG; /* valid whatever expires_ns says */
}

/*
 * A user-space lookup in an LPM trie is a longest-prefix match, not the
 * entry itself: only keys known to be in the map (from a walk) are looked
 * up, so each lookup returns that very entry.
 */
static bool key_in(const struct map_keys *mk, const struct br_prefix_key *k)
{
	size_t i;

	for (i = 0; i < mk->n; i++)
		if (!memcmp(map_key_at(mk, i), k, sizeof(*k)))
			return true;
	return false;
}

static bool configured(const struct br_prefix_key *k, const struct prefix6 *p,
		       int n)
{
	struct br_prefix_key want;
	struct br_prefix_val v;
	int i;

	for (i = 0; i < n; i++) {
		prefixes_config_entry(&p[i], &want, &v);
		if (!memcmp(&want, k, sizeof(want)))
			return true;
	}
	return false;
}

static int config_add(int fd, const struct map_keys *mk, const struct prefix6 *p,
		      int n)
{
	struct br_prefix_val v, old;
	struct br_prefix_key k;
	int i;

	for (i = 0; i < n; i++) {
		prefixes_config_entry(&p[i], &k, &v);
		/* learned from RAs too: keep their lifetime for when unconfigured */
		if (key_in(mk, &k) && !bpf_map_lookup_elem(fd, &k, &old)) {
			v.flags |= old.flags;
			v.expires_ns = old.expires_ns;
		}
		if (bpf_map_update_elem(fd, &k, &v, BPF_ANY))
			return -errno;
	}
	return 0;
}

/* Drop BR_PFX_CONFIG from the entries no longer configured. */
static int config_unflag(int fd, const struct map_keys *mk,
			 const struct prefix6 *p, int n)
{
	const struct br_prefix_key *k;
	struct br_prefix_val v;
	size_t i;

	for (i = 0; i < mk->n; i++) {
		k = map_key_at(mk, i);
		if (bpf_map_lookup_elem(fd, k, &v) || !(v.flags & BR_PFX_CONFIG) ||
		    configured(k, p, n))
			continue;
		v.flags &= ~BR_PFX_CONFIG;
		/* learned from RAs too: it lives on for the RA's lifetime */
		if (v.flags ? bpf_map_update_elem(fd, k, &v, BPF_EXIST) :
			      bpf_map_delete_elem(fd, k))
			if (errno != ENOENT)
				return -errno;
	}
	return 0;
}

int prefixes_sync_config(int map_fd, const struct prefix6 *p, int n)
{
	struct map_keys mk = { 0 };
	int err;

	err = map_keys(map_fd, sizeof(struct br_prefix_key), NULL, NULL, &mk) ?:
	      config_add(map_fd, &mk, p, n) ?: config_unflag(map_fd, &mk, p, n);
	if (err)
		pr_err("prefixes: apply configured lan-prefixes: %s", strerror(-err));
	map_keys_free(&mk);
	return err;
}

/* The entry of @k as it is in the map (see key_in()), or -ENOENT. */
static int lookup_exact(int map_fd, const struct br_prefix_key *k,
			struct br_prefix_val *v)
{
	struct map_keys mk = { 0 };
	int err;

	err = map_keys(map_fd, sizeof(*k), NULL, NULL, &mk);
	if (!err)
		err = key_in(&mk, k) ? bpf_map_lookup_elem(map_fd, k, v) : -ENOENT;
	map_keys_free(&mk);
	return err;
}

int prefixes_from_ra(int map_fd, const struct ra_prefix *p, int n)
{
	char buf[PREFIX6_STRLEN];
	struct br_prefix_key k;
	struct br_prefix_val v, old;
	int i, added = 0, known;

	for (i = 0; i < n; i++) {
		key_set(&k, &p[i].p);
		prefix6_str(&p[i].p, buf);
		known = !lookup_exact(map_fd, &k, &old);
		if (!p[i].valid) {
			if (known && !bpf_map_delete_elem(map_fd, &k))
				pr_info("WAN prefix %s withdrawn by RA", buf);
			continue;
		}
		memset(&v, 0, sizeof(v));
		v.flags = BR_PFX_RA | (known ? old.flags : 0);
		/* kept for a configured prefix too, for when it is unconfigured */
		v.expires_ns = p[i].valid == RA_LIFETIME_INFINITE
				       ? 0
				       : mono_ns() + p[i].valid * 1000000000ULL;
		if (bpf_map_update_elem(map_fd, &k, &v, BPF_ANY)) {
			pr_warn("WAN prefix %s: %s", buf, strerror(errno));
			continue;
		}
		if (!known || !(old.flags & BR_PFX_RA)) {
			pr_info("WAN prefix %s learned from RA (valid %u s)", buf,
				p[i].valid);
			added++;
		}
	}
	return added;
}

static bool expired(const void *key, void *ctx)
{
	const int *fd = ctx;
	struct br_prefix_val v;

	return !bpf_map_lookup_elem(*fd, key, &v) && v.expires_ns &&
	       v.expires_ns < mono_ns();
}

/*
 * A configured prefix whose RA lifetime ran out is no longer RA-learned,
 * but stays configured: drop the flag, keep the entry.
 */
static bool ra_lapsed(int fd, const void *key)
{
	struct br_prefix_val v;

	if (bpf_map_lookup_elem(fd, key, &v) || !(v.flags & BR_PFX_CONFIG))
		return false;
	v.flags &= ~BR_PFX_RA;
	v.expires_ns = 0;
	return !bpf_map_update_elem(fd, key, &v, BPF_EXIST);
}

void prefixes_expire(int map_fd)
{
	struct map_keys mk = { 0 };
	size_t i;

	if (map_keys(map_fd, sizeof(struct br_prefix_key), expired, &map_fd,
		     &mk))
		return;
	for (i = 0; i < mk.n; i++)
		if (!ra_lapsed(map_fd, map_key_at(&mk, i)))
			bpf_map_delete_elem(map_fd, map_key_at(&mk, i));
	map_keys_free(&mk);
}

static int earliest(const void *key, const void *val, void *ctx)
{
	const struct br_prefix_val *v = val;
	__u64 *first = ctx;

	(void)key;
	if ((v->flags & BR_PFX_RA) && v->expires_ns &&
	    (!*first || v->expires_ns < *first))
		*first = v->expires_ns;
	return 0;
}

__u64 prefixes_next_expiry(int map_fd)
{
	__u64 first = 0;

	if (map_each(map_fd, sizeof(struct br_prefix_key),
		     sizeof(struct br_prefix_val), earliest, &first))
		return 0;
	return first;
}
