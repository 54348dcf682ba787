// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* MAP-E NAPT stand-ins: where the contiguous range goes, and the "nat_ports" map (tunnel/napt.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>

#include "brouter/abi.h"
#include "config/tunnel.h"
#include "tunnel/napt.h"

#define NAPT_PORTS 65536

bool napt_applies(const struct mape_ce *ce)
{
	return ce->psid_len && ce->psid_offset;
}

static bool reserved_in(const uint16_t *res, int n_res, uint32_t first,
			uint32_t last)
{
	int i;

	for (i = 0; i < n_res; i++)
		if (res[i] >= first && res[i] <= last)
			return true;
	return false;
}

/*
 * The lowest start of @n stand-ins clear of @res: 1, or one past a
 * reserved port. Else the widest clear gap, @n shrunk to it.
 */
static uint32_t place(const uint16_t *res, int n_res, uint32_t *n)
{
	uint32_t start, best = 1, best_len = 0, end;
	int i;

	for (i = -1; i < n_res; i++) {
		start = i < 0 ? 1 : res[i] + 1U;
		if (start + *n - 1 <= NAPT_PORTS - 1 &&
		    !reserved_in(res, n_res, start, start + *n - 1))
			return start;
	}
	for (i = -1; i < n_res; i++) {
		start = i < 0 ? 1 : res[i] + 1U;
		end = NAPT_PORTS - 1;
		for (int j = 0; j < n_res; j++)
			if (res[j] >= start && res[j] - 1U < end)
				end = res[j] - 1U;
		if (start <= end && end - start + 1 > best_len) {
			best = start;
			best_len = end - start + 1;
		}
	}
	*n = best_len;
	return best;
}

static int cmp_u16(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

int napt_plan(const struct mape_port_range *r, int n_r,
	      const uint16_t *reserved, int n_res, struct napt_plan *out)
{
	uint16_t res[TUNNEL_MAX_RESERVED];
	uint32_t total = 0, n, p;
	int i, k = 0;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < n_r; i++)
		total += r[i].last - r[i].first + 1U;
	if (!total || total >= NAPT_PORTS || n_res > TUNNEL_MAX_RESERVED)
		return -EINVAL;
	/* ascending, so the first start that fits is the lowest */
	memcpy(res, reserved, n_res * sizeof(*res));
	qsort(res, n_res, sizeof(*res), cmp_u16);
	n = total;
	out->first = place(res, n_res, &n);
	if (!n)
		return -ENOSPC;
	out->real = calloc(n, sizeof(*out->real));
	if (!out->real)
		return -ENOMEM;
	for (i = 0; i < n_r && k < (int)n; i++)
		for (p = r[i].first; p <= r[i].last && k < (int)n; p++)
			out->real[k++] = p;
	out->n = n;
	out->last = out->first + n - 1;
	out->left_out = total - n;
	return 0;
}

void napt_plan_free(struct napt_plan *p)
{
	free(p->real);
	memset(p, 0, sizeof(*p));
}

int napt_map_write(int fd, const struct napt_plan *p)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	struct br_nat_port *v;
	__u32 *keys, count = NAPT_PORTS;
	int i, err = 0;

	keys = calloc(NAPT_PORTS, sizeof(*keys));
	v = calloc(NAPT_PORTS, sizeof(*v));
	if (!keys || !v) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < NAPT_PORTS; i++)
		keys[i] = i;
	for (i = 0; p && i < p->n; i++) {
		v[p->first + i].real = htons(p->real[i]);
		v[p->real[i]].nat = htons(p->first + i);
	}
	/* one call for the whole table: the programs see it change at once per entry */
	if (bpf_map_update_batch(fd, keys, v, &count, &opts))
		err = -errno;
out:
	free(keys);
	free(v);
	return err;
}
