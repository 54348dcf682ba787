// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tunnel.provision: the HB46PP client's settings (spec 3.3: vendorid,
 * product, version, user/pass and the server they belong to; a fixed
 * server URL instead of discovery; the CAs for t=b; the state directory),
 * checked by the client library's own rules (hb_conf_check()).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "brouter/abi.h"
#include "config/parse.h"

void prov_cfg_defaults(struct prov_cfg *p)
{
	char *c;

	memset(p, 0, sizeof(*p));
	strcpy(p->vendorid, PROV_VENDORID_DEFAULT);
	strcpy(p->product, PROV_PRODUCT_DEFAULT);
	/* 3.3: the version in digits and "_", for "." */
	snprintf(p->version, sizeof(p->version), "%s", BR_VERSION);
	for (c = p->version; *c; c++)
		if (*c == '.')
			*c = '_';
	strcpy(p->state_dir, HB_STATE_DIR);
	p->verify = true;
	p->methods = HB_METHODS_DEFAULT;
	p->timeout = HB_TIMEOUT_DEFAULT;
}

static const char *opt(const char *s)
{
	return s[0] ? s : NULL;
}

void prov_cfg_conf(const struct prov_cfg *p, struct hb_conf *out)
{
	*out = (struct hb_conf){
		.vendorid = p->vendorid,
		.product = p->product,
		.version = p->version,
		.methods = p->methods,
		.user = opt(p->user),
		.pass = opt(p->pass),
		.server = opt(p->server),
		.cafile = opt(p->cafile),
		.state_dir = p->state_dir,
		.timeout = p->timeout,
	};
}

/* A string into @buf of @size bytes; what it may hold hb_conf_check() says. */
static int copy(struct cfg_ctx *x, const config_setting_t *s, char *buf,
		size_t size)
{
	const char *v;

	if (cfg_string(x, s, &v))
		return -EINVAL;
	if (strlen(v) >= size) {
		cfg_err(x, s, "longer than %zu characters", size - 1);
		return -EINVAL;
	}
	strcpy(buf, v);
	return 0;
}

#define STRING_KEY(field)                                                      \
	static int parse_##field(struct cfg_ctx *x, const config_setting_t *s, \
				 void *obj)                                    \
	{                                                                      \
		struct prov_cfg *p = obj;                                      \
		return copy(x, s, p->field, sizeof(p->field));                 \
	}
STRING_KEY(vendorid)
STRING_KEY(product)
STRING_KEY(version)
STRING_KEY(user)
STRING_KEY(pass)
STRING_KEY(server)
#undef STRING_KEY

static int parse_url(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	struct prov_cfg *p = obj;

	if (copy(x, s, p->url, sizeof(p->url)))
		return -EINVAL;
	if (strncmp(p->url, "https://", 8) && strncmp(p->url, "http://", 7)) {
		cfg_err(x, s, "\"%s\": give an http:// or https:// URL",
			p->url);
		return -EINVAL;
	}
	return 0;
}

static int parse_verify(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	int v;

	if (cfg_bool(x, s, &v))
		return -EINVAL;
	((struct prov_cfg *)obj)->verify = v;
	return 0;
}

/* An absolute path into @buf; @must_read: a file brouterd reads. */
static int path(struct cfg_ctx *x, const config_setting_t *s, char *buf,
		size_t size, bool must_read)
{
	if (copy(x, s, buf, size))
		return -EINVAL;
	if (buf[0] != '/') {
		cfg_err(x, s, "\"%s\": give an absolute path", buf);
		return -EINVAL;
	}
	if (must_read && access(buf, R_OK)) {
		cfg_err(x, s, "%s: %s", buf, strerror(errno));
		return -EINVAL;
	}
	return 0;
}

static int parse_cafile(struct cfg_ctx *x, const config_setting_t *s, void *obj)
{
	struct prov_cfg *p = obj;

	return path(x, s, p->cafile, sizeof(p->cafile), true);
}

static int parse_state_dir(struct cfg_ctx *x, const config_setting_t *s,
			   void *obj)
{
	struct prov_cfg *p = obj;

	return path(x, s, p->state_dir, sizeof(p->state_dir), false);
}

static int parse_methods(struct cfg_ctx *x, const config_setting_t *s,
			 void *obj)
{
	const config_setting_t *item;
	const char *v;
	int i, m, err = 0;

	if (cfg_seq(x, s, CFG_SEQ_SCALAR))
		return -EINVAL;
	((struct prov_cfg *)obj)->methods = 0;
	for (i = 0; i < cfg_count(s); i++) {
		item = cfg_item(s, i);
		if (cfg_string(x, item, &v)) {
			err = -EINVAL;
			continue;
		}
		m = hb_method_of(v);
		if (m < 0) {
			cfg_err(x, item,
				"\"%s\" is not one of \"map_e\", \"dslite\", \"ipip\", \"lw4o6\" (the methods brouter runs)",
				v);
			err = -EINVAL;
			continue;
		}
		((struct prov_cfg *)obj)->methods |= HB_BIT(m);
	}
	return err;
}

static int parse_timeout(struct cfg_ctx *x, const config_setting_t *s,
			 void *obj)
{
	long long v;

	if (cfg_int(x, s, 1, 600, &v))
		return -EINVAL;
	((struct prov_cfg *)obj)->timeout = v;
	return 0;
}

static const struct cfg_key prov_keys[] = {
	{ "vendorid", parse_vendorid },
	{ "product", parse_product },
	{ "version", parse_version },
	{ "user", parse_user },
	{ "pass", parse_pass },
	{ "server", parse_server },
	{ "url", parse_url },
	{ "verify", parse_verify },
	{ "cafile", parse_cafile },
	{ "state-dir", parse_state_dir },
	{ "methods", parse_methods },
	{ "timeout", parse_timeout },
	{ NULL },
};

int cfg_parse_provision(struct cfg_ctx *x, const config_setting_t *g, void *obj)
{
	struct prov_cfg *p = &x->c->prov;
	char err[HB_ERR_LEN];
	struct hb_conf conf;
	int before = x->errors;

	(void)obj;
	if (cfg_group(x, g, prov_keys, p) && !config_setting_is_group(g))
		return -EINVAL;
	if (x->errors > before)
		return -EINVAL;
	prov_cfg_conf(p, &conf);
	if (hb_conf_check(&conf, err, sizeof(err))) {
		cfg_err(x, g, "%s", err);
		return -EINVAL;
	}
	return 0;
}
