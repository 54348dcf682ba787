// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Walking BPF maps from user space (common/mapwalk.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "common/mapwalk.h"

#define MAPWALK_KEY_MAX 64
#define MAPWALK_VAL_MAX 4096

int map_each(int fd, size_t key_size, size_t val_size,
	     int (*fn)(const void *key, const void *val, void *ctx), void *ctx)
{
	unsigned char cur[MAPWALK_KEY_MAX], next[MAPWALK_KEY_MAX];
	unsigned char val[MAPWALK_VAL_MAX];
	void *prev = NULL;
	int ret;

	if (key_size > sizeof(cur) || val_size > sizeof(val))
		return -EINVAL;
	while (!bpf_map_get_next_key(fd, prev, next)) {
		memcpy(cur, next, key_size);
		prev = cur;
		if (bpf_map_lookup_elem(fd, cur, val))
			continue; /* evicted between the two calls */
		ret = fn(cur, val, ctx);
		if (ret)
			return ret;
	}
	return errno == ENOENT ? 0 : -errno;
}

long map_capacity(int fd)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	return info.max_entries;
}

/*
 * A hash walk whose last key was deleted meanwhile starts over: under
 * churn it could count for ever, so it stops at the map's capacity.
 */
long map_count(int fd, size_t key_size)
{
	unsigned char cur[MAPWALK_KEY_MAX], next[MAPWALK_KEY_MAX];
	long n = 0, cap = map_capacity(fd);
	void *prev = NULL;

	if (key_size > sizeof(cur))
		return -EINVAL;
	if (cap < 0)
		return cap;
	while (n < cap && !bpf_map_get_next_key(fd, prev, next)) {
		memcpy(cur, next, key_size);
		prev = cur;
		n++;
	}
	return n == cap || errno == ENOENT ? n : -errno;
}

static int keys_add(struct map_keys *mk, const void *key)
{
	void *k;

	if (mk->n == mk->cap) {
		mk->cap = mk->cap ? 2 * mk->cap : 256;
		k = realloc(mk->k, mk->cap * mk->size);
		if (!k)
			return -ENOMEM;
		mk->k = k;
	}
	memcpy(map_key_at(mk, mk->n++), key, mk->size);
	return 0;
}

int map_keys(int fd, size_t key_size, bool (*want)(const void *key, void *ctx),
	     void *ctx, struct map_keys *out)
{
	unsigned char cur[MAPWALK_KEY_MAX], next[MAPWALK_KEY_MAX];
	void *prev = NULL;
	int err;

	if (key_size > sizeof(cur))
		return -EINVAL;
	out->size = key_size;
	while (!bpf_map_get_next_key(fd, prev, next)) {
		if (!want || want(next, ctx)) {
			err = keys_add(out, next);
			if (err)
				return err;
		}
		memcpy(cur, next, key_size);
		prev = cur;
	}
	return errno == ENOENT ? 0 : -errno;
}

void map_keys_free(struct map_keys *mk)
{
	free(mk->k);
	memset(mk, 0, sizeof(*mk));
}

int map_keys_delete(int fd, const struct map_keys *mk)
{
	size_t i;

	for (i = 0; i < mk->n; i++)
		if (bpf_map_delete_elem(fd, map_key_at(mk, i)) && errno != ENOENT)
			return -errno;
	return 0;
}

int map_clear(int fd, size_t key_size)
{
	struct map_keys mk = { 0 };
	int err;

	err = map_keys(fd, key_size, NULL, NULL, &mk) ?: map_keys_delete(fd, &mk);
	map_keys_free(&mk);
	return err;
}
