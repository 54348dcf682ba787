/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Walking a BPF map from user space: every entry in turn, or its keys first. */
#ifndef BR_MAPWALK_H
#define BR_MAPWALK_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Call @fn(key, value, @ctx) for each entry of the map @fd (keys of
 * @key_size, values of @val_size bytes, at most 64 and 4096). An entry
 * evicted between finding its key and reading it is skipped. @fn returns
 * 0 to go on, or a value map_each() stops with and returns; 0 at the end,
 * -errno when the walk itself fails. @fn must not delete entries (use
 * map_keys()): a hash walk continued from a deleted key restarts.
 */
int map_each(int fd, size_t key_size, size_t val_size,
	     int (*fn)(const void *key, const void *val, void *ctx), void *ctx);

/*
 * How many entries @fd holds now (keys walked, values not read), at most
 * its capacity, or -errno.
 */
long map_count(int fd, size_t key_size);

/* max_entries of the map @fd, or -errno. */
long map_capacity(int fd);

/* Keys collected before anything is done with them. */
struct map_keys {
	void *k;
	size_t size, n, cap;
};

#define map_key_at(mk, i) ((void *)((char *)(mk)->k + (i) * (mk)->size))

/*
 * Collect into @out (zeroed by the caller, freed with map_keys_free())
 * the keys of @fd for which @want(key, @ctx) is true (@want NULL: all).
 * 0 or -errno.
 */
int map_keys(int fd, size_t key_size, bool (*want)(const void *key, void *ctx),
	     void *ctx, struct map_keys *out);
void map_keys_free(struct map_keys *mk);

/* Delete the keys of @mk from @fd; one already gone is no error. 0 or -errno. */
int map_keys_delete(int fd, const struct map_keys *mk);

/* Delete every entry of @fd. 0 or -errno. */
int map_clear(int fd, size_t key_size);

#endif /* BR_MAPWALK_H */
