// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Who else uses IPv4 conntrack: the ruleset read as JSON through
 * libnftables and jansson, and the legacy iptables tables by name.
 * Whatever is not understood counts as a user: the cost of a wrong
 * "used" is a conntrack entry, of a wrong "unused" a broken policy.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <jansson.h>
#include <nftables/libnftables.h>

#include "config/options.h"
#include "fp4/ct_users.h"
#include "tunnel/nft.h"

/* Keys of an expression or statement that need conntrack. */
static const char *const ct_keys[] = {
	"ct",	"ct count", "ct helper",  "ct timeout", "ct expectation",
	"snat", "dnat",	    "masquerade", "redirect",	"xt",
	"flow", "synproxy", NULL,
};

/* Top-level objects of the listing that are conntrack's. */
static const char *const ct_objects[] = { "ct helper", "ct timeout",
					  "ct expectation", "synproxy", NULL };

/* Anywhere inside @v, an object key of ct_keys? */
static bool uses_ct(json_t *v)
{
	const char *key;
	json_t *sub;
	size_t i;

	if (json_is_array(v)) {
		json_array_foreach (v, i, sub)
			if (uses_ct(sub))
				return true;
	} else if (json_is_object(v)) {
		json_object_foreach (v, key, sub)
			if (name_index(ct_keys, key) >= 0 || uses_ct(sub))
				return true;
	}
	return false;
}

/* Is @o (a table, chain, rule or object) in a family IPv4 conntrack serves, and not ours? */
static bool counts(json_t *o, const char *own)
{
	const char *fam = json_string_value(json_object_get(o, "family"));
	const char *table = json_string_value(json_object_get(o, "table"));

	if (!fam)
		return true;
	if (strcmp(fam, "ip") && strcmp(fam, "inet") && strcmp(fam, "bridge"))
		return false;
	return strcmp(fam, "ip") || !table || strcmp(table, own);
}

int ct_users_in(const char *json, const char *own)
{
	json_t *root = json_loads(json, 0, NULL), *list, *item, *o;
	const char *key, *type;
	int used = 0;
	size_t i;

	list = json_object_get(root, "nftables");
	if (!json_is_array(list)) {
		json_decref(root);
		return -EINVAL;
	}
	json_array_foreach (list, i, item) {
		json_object_foreach (item, key, o) {
			if (!strcmp(key, "chain")) {
				type = json_string_value(
					json_object_get(o, "type"));
				used = counts(o, own) && type &&
				       !strcmp(type, "nat");
			} else if (!strcmp(key, "rule")) {
				used = counts(o, own) &&
				       uses_ct(json_object_get(o, "expr"));
			} else if (name_index(ct_objects, key) >= 0) {
				used = counts(o, own);
			}
			if (used)
				break;
		}
		if (used)
			break;
	}
	json_decref(root);
	return used;
}

/* Any iptables-legacy IPv4 table loaded: what it holds is not ours to read. */
static int legacy_tables(void)
{
	FILE *f = fopen("/proc/net/ip_tables_names", "r");
	int c;

	if (!f)
		return errno == ENOENT ? 0 : -errno;
	c = fgetc(f);
	fclose(f);
	return c != EOF;
}

int ct_users(const char *own)
{
	struct nft_ctx *ctx = nft_ctx_buffered();
	int r;

	if (!ctx)
		return -ENOMEM;
	nft_ctx_output_set_flags(ctx, NFT_CTX_OUTPUT_JSON);
	if (nft_run_cmd_from_buffer(ctx, "list ruleset"))
		r = -EIO;
	else
		r = ct_users_in(nft_ctx_get_output_buffer(ctx), own);
	nft_ctx_free(ctx);
	return r ?: legacy_tables();
}
