// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A scan of the config file (and what it @includes) for integer literals
 * that libconfig 1.5 would silently wrap, before libconfig reads it.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "config/parse.h"

struct scan {
	struct cfg_ctx *x;
	const char *file;
	unsigned int line;
	int depth;
};

static int scan_file(struct scan *sc, const char *path);

static const char *scan_number(struct scan *sc, const char *p)
{
	const char *start = p, *d;
	unsigned long long v;
	int neg = 0, wide = 0, too_big;
	size_t sig;

	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		for (p += 2; *p == '0'; p++)
			;
		for (d = p; isxdigit((unsigned char)*p); p++)
			;
		sig = p - d;
		wide = *p == 'L';
		too_big = sig > (wide ? 16U : 8U);
	} else {
		for (d = p; isdigit((unsigned char)*p); p++)
			;
		if (*p == '.' || *p == 'e' || *p == 'E') {
			/* a float: let libconfig judge it */
			while (isdigit((unsigned char)*p) || *p == '.' || *p == 'e' ||
			       *p == 'E' || ((*p == '-' || *p == '+') &&
					     (p[-1] == 'e' || p[-1] == 'E')))
				p++;
			return p;
		}
		wide = *p == 'L';
		errno = 0;
		v = strtoull(d, NULL, 10);
		too_big = errno || v > (wide ? 0x7fffffffffffffffULL : 0x7fffffffULL) + neg;
	}
	if (too_big)
		cfg_err_at(sc->x, sc->file, sc->line, "integer %.*s is out of range",
		       (int)(p + wide - start), start);
	return p + wide;
}

static const char *scan_include(struct scan *sc, const char *p)
{
	char name[PATH_MAX], path[2 * PATH_MAX];
	size_t n = 0;

	for (p += 8; *p == ' ' || *p == '\t'; p++)
		;
	if (*p != '"')
		return p;
	for (p++; *p && *p != '"' && *p != '\n'; p++)
		if (n < sizeof(name) - 1)
			name[n++] = *p;
	name[n] = '\0';
	/* libconfig 1.5 puts its include directory before every name */
	snprintf(path, sizeof(path), "%s/%s", sc->x->dir ?: ".", name);
	if (sc->depth < 10)
		scan_file(&(struct scan){ .x = sc->x, .depth = sc->depth + 1 }, path);
	return *p == '"' ? p + 1 : p;
}

static int is_name_char(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '_' || c == '*';
}

static void scan_text(struct scan *sc, const char *p)
{
	while (*p) {
		if (*p == '\n') {
			sc->line++;
			p++;
		} else if (*p == '#' || (p[0] == '/' && p[1] == '/')) {
			while (*p && *p != '\n')
				p++;
		} else if (p[0] == '/' && p[1] == '*') {
			for (p += 2; *p && !(p[0] == '*' && p[1] == '/'); p++)
				sc->line += *p == '\n';
			p += *p ? 2 : 0;
		} else if (*p == '"') {
			for (p++; *p && *p != '"'; p++) {
				if (*p == '\\' && p[1])
					p++;
				sc->line += *p == '\n';
			}
			p += !!*p;
		} else if (!strncmp(p, "@include", 8)) {
			p = scan_include(sc, p);
		} else if (isalpha((unsigned char)*p) || *p == '*') {
			while (is_name_char(*p))
				p++;
		} else if (isdigit((unsigned char)*p) ||
			   ((*p == '-' || *p == '+') && isdigit((unsigned char)p[1]))) {
			p = scan_number(sc, p);
		} else {
			p++;
		}
	}
}

static int scan_file(struct scan *sc, const char *path)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	f = fopen(path, "r");
	if (!f)
		return 0; /* libconfig says what is wrong with it */
	if (getdelim(&text, &len, '\0', f) >= 0) {
		sc->file = path;
		sc->line = 1;
		scan_text(sc, text);
	}
	free(text);
	fclose(f);
	return 0;
}

int cfg_scan_ints(struct cfg_ctx *x, const char *path, int depth)
{
	struct scan sc = { .x = x, .depth = depth };
	int before = x->errors;

	scan_file(&sc, path);
	return x->errors > before ? -EINVAL : 0;
}
