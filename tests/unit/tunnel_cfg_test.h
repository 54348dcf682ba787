/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * For the unit tests of the "tunnel" config group: parse a whole file's
 * text as brouterd does, with what it logged in errors[], and check it.
 */
#ifndef BR_TUNNEL_CFG_TEST_H
#define BR_TUNNEL_CFG_TEST_H

static char errors[16384];	/* what the last parse logged */
static struct br_config parsed; /* what it filled in: prov too */

/* The "tunnel" group @t of a config read from @file, as brouterd parses it. */
static int parse_group(const config_setting_t *t, const char *file,
		       struct tunnel_cfg *out)
{
	struct cfg_ctx x = { .path = file, .c = &parsed };
	int ret;

	config_defaults(&parsed);
	ret = cfg_parse_tunnel(&x, t, &parsed);
	memcpy(out, &parsed.tunnel, sizeof(*out));
	return ret;
}

/*
 * parse_group() with what it logs going to @fd, read back into errors[]
 * from offset @at; @fd is closed.
 */
static int parse_logged(const config_setting_t *t, const char *file,
			struct tunnel_cfg *out, int fd, off_t at)
{
	int saved, ret;
	ssize_t n;

	fflush(stderr);
	saved = dup(2);
	dup2(fd, 2);
	ret = parse_group(t, file, out);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, errors, sizeof(errors) - 1, at);
	errors[n > 0 ? n : 0] = '\0';
	close(fd);
	return ret;
}

/* Parse @text (a whole config file) as "brouter.conf", stderr to errors[]. */
static int parse(const char *text, struct tunnel_cfg *out)
{
	char tmp[] = "/tmp/brouter-test-tunnel-XXXXXX";
	const config_setting_t *t;
	config_t cfg;
	int fd, ret;

	config_init(&cfg);
	assert_int_equal(config_read_string(&cfg, text), CONFIG_TRUE);
	t = config_lookup(&cfg, "tunnel");
	assert_non_null(t);
	fd = mkstemp(tmp);
	assert_true(fd >= 0);
	unlink(tmp);
	ret = parse_logged(t, "brouter.conf", out, fd, 0);
	config_destroy(&cfg);
	return ret;
}

/* @text is refused, and the log holds each of the NULL-ended @want. */
static void refused(const char *text, ...)
{
	struct tunnel_cfg c;
	const char *want;
	va_list ap;

	assert_int_equal(parse(text, &c), -EINVAL);
	va_start(ap, text);
	while ((want = va_arg(ap, const char *))) {
		if (!strstr(errors, want))
			fail_msg("expected \"%s\" in:\n%s", want, errors);
	}
	va_end(ap);
}

static void assert_addr6(const struct in6_addr *a, const char *want)
{
	char buf[INET6_ADDRSTRLEN];

	inet_ntop(AF_INET6, a, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static void assert_addr4(struct in_addr a, const char *want)
{
	char buf[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &a, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

/* @r: rule IPv4 prefix @v4/@len4, @ea EA bits, PSID @psid of @k bits at @a. */
static void assert_rule(const struct mape_rule *r, const char *v4,
			unsigned int len4, unsigned int ea, int k, int psid,
			unsigned int a)
{
	assert_addr4(r->rule4.addr, v4);
	assert_int_equal(r->rule4.len, len4);
	assert_int_equal(r->ea_len, ea);
	assert_int_equal(r->psid_len, k);
	assert_int_equal(r->psid, psid);
	assert_int_equal(r->psid_offset, a);
}

#endif /* BR_TUNNEL_CFG_TEST_H */
