// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Config file values: typed getters that say file:line and what is wrong,
 * unknown and missing key checks, addresses and prefixes.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "config/parse.h"
#include "common/log.h"

/* Where libconfig says @s was read, relative names made relative to dir. */
static const char *source_file(struct cfg_ctx *x, const config_setting_t *s,
			       char *buf, size_t len)
{
	const char *f = s ? config_setting_source_file(s) : NULL;

	if (!f || !strcmp(f, x->path) || f[0] == '/' || !x->dir)
		return f ?: x->path;
	snprintf(buf, len, "%s/%s", x->dir, f);
	return buf;
}

const char *cfg_file(struct cfg_ctx *x, const config_setting_t *s)
{
	struct br_config *c = x->c;
	char buf[PATH_MAX + 64];
	const char *f = source_file(x, s, buf, sizeof(buf));
	char **files, *dup;
	int i;

	for (i = 0; i < c->n_files; i++)
		if (!strcmp(c->files[i], f))
			return c->files[i];
	dup = strdup(f);
	files = realloc(c->files, (c->n_files + 1) * sizeof(*files));
	if (!dup || !files) {
		free(dup);
		if (files)
			c->files = files;
		return NULL;
	}
	c->files = files;
	c->files[c->n_files++] = dup;
	return dup;
}

/* "firewall.pinholes[2].ports[0]" */
static void setting_path(const config_setting_t *s, char *buf, size_t len)
{
	const config_setting_t *chain[16];
	size_t off = 0;
	int n = 0, i;

	for (; s && !config_setting_is_root(s) && n < 16; s = config_setting_parent(s))
		chain[n++] = s;
	buf[0] = '\0';
	for (i = n - 1; i >= 0 && off < len; i--) {
		if (config_setting_name(chain[i]))
			off += snprintf(buf + off, len - off, "%s%s", off ? "." : "",
					config_setting_name(chain[i]));
		else
			off += snprintf(buf + off, len - off, "[%d]",
					config_setting_index(chain[i]));
	}
}

static void report_at(struct cfg_ctx *x, int level, const char *file,
		      unsigned int line, const char *where, const char *msg)
{
	if (level == BR_LOG_ERR && ++x->errors > BR_CFG_MAX_ERRORS) {
		if (x->errors == BR_CFG_MAX_ERRORS + 1)
			pr_err("%s: too many errors; not showing the rest", x->path);
		return;
	}
	if (line)
		br_log(level, "%s:%u: %s%s%s", file, line, where, *where ? ": " : "",
		       msg);
	else
		br_log(level, "%s: %s%s%s", file, where, *where ? ": " : "", msg);
}

void cfg_err_at(struct cfg_ctx *x, const char *file, unsigned int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	report_at(x, BR_LOG_ERR, file, line, "", msg);
}

static void report(struct cfg_ctx *x, int level, const config_setting_t *s,
		   const char *fmt, va_list ap)
{
	char msg[512], where[160], buf[PATH_MAX + 64];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	where[0] = '\0';
	if (s)
		setting_path(s, where, sizeof(where));
	report_at(x, level, source_file(x, s, buf, sizeof(buf)),
		  s ? config_setting_source_line(s) : 0, where, msg);
}

void cfg_err(struct cfg_ctx *x, const config_setting_t *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(x, BR_LOG_ERR, s, fmt, ap);
	va_end(ap);
}

void cfg_warn(struct cfg_ctx *x, const config_setting_t *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(x, BR_LOG_WARN, s, fmt, ap);
	va_end(ap);
}

static const char *type_name(const config_setting_t *s)
{
	static const char *const names[] = {
		[CONFIG_TYPE_NONE] = "nothing", [CONFIG_TYPE_GROUP] = "a group",
		[CONFIG_TYPE_INT] = "an integer", [CONFIG_TYPE_INT64] = "an integer",
		[CONFIG_TYPE_FLOAT] = "a float", [CONFIG_TYPE_STRING] = "a string",
		[CONFIG_TYPE_BOOL] = "a boolean", [CONFIG_TYPE_ARRAY] = "an array",
		[CONFIG_TYPE_LIST] = "a list",
	};
	int t = config_setting_type(s);

	return t >= 0 && t <= CONFIG_TYPE_LIST ? names[t] : "unknown";
}

int cfg_group(struct cfg_ctx *x, const config_setting_t *g,
	      const struct cfg_key *keys, void *obj)
{
	int i, k, before = x->errors;
	const config_setting_t *s;
	char known[256];
	size_t off = 0;

	if (!config_setting_is_group(g)) {
		cfg_err(x, g, "must be a group { key = value; ... }, not %s",
			type_name(g));
		return -EINVAL;
	}
	for (i = 0; i < config_setting_length(g); i++) {
		s = config_setting_get_elem(g, i);
		for (k = 0; keys[k].name; k++)
			if (!strcmp(keys[k].name, config_setting_name(s)))
				break;
		if (keys[k].name) {
			if (keys[k].parse)
				keys[k].parse(x, s, obj);
			continue;
		}
		for (k = 0, off = 0; keys[k].name && off < sizeof(known); k++)
			off += snprintf(known + off, sizeof(known) - off, "%s%s",
					k ? ", " : "", keys[k].name);
		cfg_err(x, s, "unknown key (known here: %s)", known);
	}
	return x->errors > before ? -EINVAL : 0;
}

int cfg_need(struct cfg_ctx *x, const config_setting_t *g, ...)
{
	int before = x->errors;
	const char *key;
	va_list ap;

	va_start(ap, g);
	while ((key = va_arg(ap, const char *)))
		if (!config_setting_get_member(g, key))
			cfg_err(x, g, "%s missing", key);
	va_end(ap);
	return x->errors > before ? -EINVAL : 0;
}

int cfg_bool(struct cfg_ctx *x, const config_setting_t *s, int *out)
{
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		cfg_err(x, s, "must be true or false, not %s", type_name(s));
		return -EINVAL;
	}
	*out = config_setting_get_bool(s);
	return 0;
}

int cfg_int(struct cfg_ctx *x, const config_setting_t *s, long long min,
	    long long max, long long *out)
{
	long long v;

	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
		v = config_setting_get_int(s);
		/* libconfig 1.5 reads 0x80000000..0xffffffff as negative ints. */
		if (config_setting_get_format(s) == CONFIG_FORMAT_HEX)
			v = (__u32)v;
		break;
	case CONFIG_TYPE_INT64:
		v = config_setting_get_int64(s);
		break;
	default:
		cfg_err(x, s, "must be an integer, not %s", type_name(s));
		return -EINVAL;
	}
	if (v < min || v > max) {
		cfg_err(x, s, "%lld is out of range (%lld..%lld)", v, min, max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

int cfg_string(struct cfg_ctx *x, const config_setting_t *s, const char **out)
{
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		cfg_err(x, s, "must be a string \"...\", not %s", type_name(s));
		return -EINVAL;
	}
	*out = config_setting_get_string(s);
	return 0;
}

int cfg_enum(struct cfg_ctx *x, const config_setting_t *s,
	     const char *const *names, int *out)
{
	char known[256];
	const char *v;
	size_t off = 0;
	int i;

	if (cfg_string(x, s, &v))
		return -EINVAL;
	i = name_index(names, v);
	if (i >= 0) {
		*out = i;
		return 0;
	}
	for (i = 0; names[i] && off < sizeof(known); i++)
		off += snprintf(known + off, sizeof(known) - off, "%s\"%s\"",
				i ? ", " : "", names[i]);
	cfg_err(x, s, "\"%s\" is not one of %s", v, known);
	return -EINVAL;
}

int cfg_addr(struct cfg_ctx *x, const config_setting_t *s, int af, void *out)
{
	const char *v;

	if (cfg_string(x, s, &v))
		return -EINVAL;
	if (inet_pton(af, v, out) != 1) {
		cfg_err(x, s, "\"%s\" is not an IPv%c address", v,
			af == AF_INET ? '4' : '6');
		return -EINVAL;
	}
	return 0;
}

/* "ADDR/LEN" whose LEN is not a number: a length error, not an address one. */
static int bad_length(const char *v)
{
	const char *slash = strchr(v, '/');

	return slash && (!slash[1] || strspn(slash + 1, "0123456789") != strlen(slash + 1));
}

int cfg_prefix(struct cfg_ctx *x, const config_setting_t *s,
	       struct prefix6 *out)
{
	char ntop[PREFIX6_STRLEN];
	struct prefix6 p;
	const char *v;
	int ret;

	if (cfg_string(x, s, &v))
		return -EINVAL;
	ret = prefix6_read(v, 128, &p);
	if (ret == -ERANGE || (ret == -EINVAL && bad_length(v))) {
		cfg_err(x, s, "\"%s\": prefix length must be 0..128", v);
		return -EINVAL;
	}
	if (ret == -EDOM) {
		p = prefix6_of(&p.addr, p.len);
		cfg_err(x, s, "\"%s\" has bits set past the /%u prefix length; "
			"did you mean \"%s\"?", v, p.len, prefix6_str(&p, ntop));
		return -EINVAL;
	}
	if (ret) {
		cfg_err(x, s, "\"%s\" is not an IPv6 address or ADDRESS/LENGTH prefix", v);
		return -EINVAL;
	}
	*out = p;
	return 0;
}

/* prefix*_parse()'s messages start with the name we passed it: none. */
static const char *prefix_msg(const char *err)
{
	return err[0] == ' ' ? err + 1 : err;
}

/*
 * A tunnel end: a global (or unique local) unicast address. Link-local
 * ones cannot be routed to a BR; the others are never a tunnel end.
 */
int cfg_tunnel_end(struct cfg_ctx *x, const config_setting_t *s,
		     struct in6_addr *out)
{
	if (cfg_addr(x, s, AF_INET6, out))
		return -EINVAL;
	if (IN6_IS_ADDR_UNSPECIFIED(out) || IN6_IS_ADDR_LOOPBACK(out) ||
	    IN6_IS_ADDR_MULTICAST(out) || IN6_IS_ADDR_LINKLOCAL(out) ||
	    IN6_IS_ADDR_V4MAPPED(out)) {
		cfg_err(x, s, "\"%s\" is not a global unicast address",
			config_setting_get_string(s));
		return -EINVAL;
	}
	return 0;
}

/* IPv4/IPv6 prefixes as tunnel rules give them: the length is required. */
int cfg_prefix4(struct cfg_ctx *x, const config_setting_t *s,
			 struct prefix4 *out)
{
	char err[256];
	const char *v;

	if (cfg_string(x, s, &v))
		return -EINVAL;
	if (prefix4_parse(v, out, "", err, sizeof(err))) {
		cfg_err(x, s, "%s", prefix_msg(err));
		return -EINVAL;
	}
	return 0;
}

int cfg_prefix6_strict(struct cfg_ctx *x, const config_setting_t *s,
			 struct prefix6 *out)
{
	char err[256];
	const char *v;

	if (cfg_string(x, s, &v))
		return -EINVAL;
	if (prefix6_parse(v, out, "", err, sizeof(err))) {
		cfg_err(x, s, "%s", prefix_msg(err));
		return -EINVAL;
	}
	return 0;
}

int cfg_count(const config_setting_t *s)
{
	return config_setting_is_array(s) || config_setting_is_list(s) ?
		       config_setting_length(s) : 1;
}

const config_setting_t *cfg_item(const config_setting_t *s, int i)
{
	return config_setting_is_array(s) || config_setting_is_list(s) ?
		       config_setting_get_elem(s, i) : s;
}

int cfg_seq(struct cfg_ctx *x, const config_setting_t *s, int flags)
{
	if (config_setting_is_array(s) || config_setting_is_list(s)) {
		if (config_setting_length(s) || (flags & CFG_SEQ_EMPTY))
			return 0;
		cfg_err(x, s, "empty; leave the key out instead");
		return -EINVAL;
	}
	if ((flags & CFG_SEQ_SCALAR) && config_setting_is_scalar(s))
		return 0;
	/* libconfig arrays hold scalars only: groups go in a list */
	if (flags & CFG_SEQ_GROUPS)
		cfg_err(x, s, "must be a list ( ... ), not %s", type_name(s));
	else
		cfg_err(x, s, "must be an array [ ... ]%s, not %s",
			flags & CFG_SEQ_SCALAR ? " or a single value" : "",
			type_name(s));
	return -EINVAL;
}
