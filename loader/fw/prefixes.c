// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The "prefixes" map: which sources a LAN host may use towards the WAN. */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>

#include "brouter/abi.h"
#include "common/log.h"
#include "common/mono.h"
#include "fw/prefixes.h"

static void key_set(struct br_prefix_key *k, const struct in6_addr *a, __u8 len)
{
	memset(k, 0, sizeof(*k));
	k->prefixlen = len;
	memcpy(k->addr, a, 16);
}

/*
 * A user-space lookup in an LPM trie returns the longest covering prefix,
 * not the entry itself: walk the (small) map for an exact key instead.
 */
static int lookup_exact(int map_fd, const struct br_prefix_key *k,
			struct br_prefix_val *v)
{
	struct br_prefix_key cur, *prev = NULL;

	while (!bpf_map_get_next_key(map_fd, prev, &cur)) {
		if (!memcmp(&cur, k, sizeof(cur)))
			return bpf_map_lookup_elem(map_fd, &cur, v);
		prev = &cur;
	}
	return -ENOENT;
}

int prefixes_from_ra(int map_fd, const struct ra_prefix *p, int n)
{
	char buf[INET6_ADDRSTRLEN];
	struct br_prefix_key k;
	struct br_prefix_val v, old;
	int i, added = 0, known;

	for (i = 0; i < n; i++) {
		key_set(&k, &p[i].prefix, p[i].len);
		inet_ntop(AF_INET6, &p[i].prefix, buf, sizeof(buf));
		known = !lookup_exact(map_fd, &k, &old);
		if (!p[i].valid) {
			if (known && !bpf_map_delete_elem(map_fd, &k))
				pr_info("WAN prefix %s/%u withdrawn by RA", buf, p[i].len);
			continue;
		}
		memset(&v, 0, sizeof(v));
		v.flags = BR_PFX_RA | (known ? old.flags : 0);
		v.expires_ns = p[i].valid == RA_LIFETIME_INFINITE || (v.flags & BR_PFX_CONFIG) ?
				       0 : mono_ns() + p[i].valid * 1000000000ULL;
		if (bpf_map_update_elem(map_fd, &k, &v, BPF_ANY)) {
			pr_warn("WAN prefix %s/%u: %s", buf, p[i].len, strerror(errno));
			continue;
		}
		if (!known || !(old.flags & BR_PFX_RA)) {
			pr_info("WAN prefix %s/%u learned from RA (valid %u s)", buf,
				p[i].len, p[i].valid);
			added++;
		}
	}
	return added;
}

int prefixes_add_static(int map_fd, const struct in6_addr *prefix, __u8 len)
{
	struct br_prefix_val v = { .flags = BR_PFX_CONFIG };
	struct br_prefix_key k;

	key_set(&k, prefix, len);
	if (bpf_map_update_elem(map_fd, &k, &v, BPF_ANY))
		return -errno;
	return 0;
}

void prefixes_expire(int map_fd)
{
	struct br_prefix_key keys[256], *prev = NULL, next;
	struct br_prefix_val v;
	__u64 now = mono_ns();
	int i, n = 0;

	while (n < 256 && !bpf_map_get_next_key(map_fd, prev, &next)) {
		keys[n] = next;
		prev = &keys[n++];
	}
	for (i = 0; i < n; i++)
		if (!bpf_map_lookup_elem(map_fd, &keys[i], &v) && v.expires_ns &&
		    v.expires_ns < now)
			bpf_map_delete_elem(map_fd, &keys[i]);
}
