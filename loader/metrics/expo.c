// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Writing the Prometheus text exposition format (expo.h). */
#include <stdarg.h>

#include "metrics/expo.h"

/* HELP text escapes \ and newline; label values also ". */
static void put_escaped(FILE *f, const char *s, int quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else if (quote && *s == '"')
			fputs("\\\"", f);
		else
			fputc(*s, f);
	}
}

void expo_family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s ", name);
	put_escaped(f, help, 0);
	fprintf(f, "\n# TYPE %s %s\n", name, type);
}

static void put_labels(FILE *f, va_list ap)
{
	const char *k, *v;
	int n = 0;

	while ((k = va_arg(ap, const char *))) {
		v = va_arg(ap, const char *);
		fprintf(f, "%s%s=\"", n++ ? "," : "{", k);
		put_escaped(f, v ? v : "", 1);
		fputc('"', f);
	}
	if (n)
		fputc('}', f);
}

void expo_u64(FILE *f, const char *name, unsigned long long v, ...)
{
	va_list ap;

	fputs(name, f);
	va_start(ap, v);
	put_labels(f, ap);
	va_end(ap);
	fprintf(f, " %llu\n", v);
}

void expo_double(FILE *f, const char *name, double v, ...)
{
	va_list ap;

	fputs(name, f);
	va_start(ap, v);
	put_labels(f, ap);
	va_end(ap);
	fprintf(f, " %.6g\n", v);
}
