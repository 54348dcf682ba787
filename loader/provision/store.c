// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * HB46PP data kept across restarts (3.5): the token and the last good
 * answer in the state directory, each replaced atomically, and the means
 * to erase them.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/stat.h>

#include "provision/hb46pp_priv.h"

static int path_of(char *out, size_t len, const char *dir, const char *name)
{
	return snprintf(out, len, "%s/%s", dir, name) < (int)len
		       ? 0
		       : -ENAMETOOLONG;
}

static int write_all(int fd, const char *data, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		data += n;
		len -= n;
	}
	return 0;
}

/*
 * A reader sees the old file or the new one, never half of one: write a
 * temporary file beside it, fsync, then rename over it.
 */
int hb_store_write(const char *dir, const char *name, const char *data,
		   size_t len, unsigned int mode)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	int fd, ret;

	if (mkdir(dir, 0755) && errno != EEXIST)
		return -errno;
	if (path_of(path, sizeof(path), dir, name) ||
	    snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, name) >=
		    (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkstemp(tmp);
	if (fd < 0)
		return -errno;
	ret = fchmod(fd, mode) ? -errno : 0;
	ret = ret ?: write_all(fd, data, len);
	if (!ret && fsync(fd))
		ret = -errno;
	if (close(fd) && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret)
		unlink(tmp);
	return ret;
}

static int remove_file(const char *dir, const char *name)
{
	char path[PATH_MAX];

	if (path_of(path, sizeof(path), dir, name))
		return -ENAMETOOLONG;
	return unlink(path) && errno != ENOENT ? -errno : 0;
}

int hb_store_clear(const char *dir)
{
	int ret = remove_file(dir, HB_FILE_TOKEN);

	return remove_file(dir, HB_FILE_ANSWER) ?: ret;
}

int hb_store_load_token(const char *dir, char *token)
{
	char path[PATH_MAX], buf[HB_TOKEN_LEN + 2];
	size_t n;
	FILE *f;

	token[0] = 0;
	if (path_of(path, sizeof(path), dir, HB_FILE_TOKEN))
		return -ENAMETOOLONG;
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	if (strlen(buf) != HB_TOKEN_LEN ||
	    strspn(buf, "0123456789abcdef") != HB_TOKEN_LEN)
		return -EINVAL;
	strcpy(token, buf);
	return 0;
}

int hb_store_save_token(const char *dir, const char *token)
{
	char buf[HB_TOKEN_LEN + 2];

	snprintf(buf, sizeof(buf), "%s\n", token);
	/* the server tells CPEs apart by it: not for every local user */
	return hb_store_write(dir, HB_FILE_TOKEN, buf, strlen(buf), 0600);
}

/* AFTR names as they last resolved, so a stored answer needs no DNS. */
static json_t *resolved_of(const struct hb_answer *a)
{
	const struct hb_host *h[] = { &a->dslite, &a->lw4o6.aftr };
	char addr[INET6_ADDRSTRLEN];
	json_t *o = json_object();
	unsigned int i;

	for (i = 0; o && i < 2; i++) {
		if (!h[i]->name[0] || !h[i]->has_addr)
			continue;
		inet_ntop(AF_INET6, &h[i]->addr, addr, sizeof(addr));
		json_object_set_new(o, h[i]->name, json_string(addr));
	}
	return o;
}

int hb_store_save_answer(const char *dir, const char *url, time_t fetched,
			 const char *body, size_t len,
			 const struct hb_answer *a)
{
	json_t *answer = json_loadb(body, len, 0, NULL), *o;
	char *text;
	int ret;

	o = json_pack("{s:s, s:I, s:o, s:o}", "url", url, "fetched",
		      (json_int_t)fetched, "answer", answer, "resolved",
		      resolved_of(a));
	if (!o)
		return -ENOMEM;
	text = json_dumps(o, JSON_INDENT(1));
	json_decref(o);
	if (!text)
		return -ENOMEM;
	ret = hb_store_write(dir, HB_FILE_ANSWER, text, strlen(text), 0600);
	free(text);
	return ret;
}

static void apply_resolved(json_t *resolved, struct hb_host *h)
{
	const char *s;

	if (!h->name[0] || h->has_addr)
		return;
	s = json_string_value(json_object_get(resolved, h->name));
	h->has_addr = s && inet_pton(AF_INET6, s, &h->addr) == 1;
}

int hb_store_load_answer(const char *dir, unsigned int methods,
			 struct hb_answer *a, char *url, size_t urllen,
			 time_t *fetched, char *err, size_t errlen)
{
	char path[PATH_MAX];
	json_error_t jerr;
	json_t *o, *r;
	int ret;

	if (path_of(path, sizeof(path), dir, HB_FILE_ANSWER))
		return -ENAMETOOLONG;
	o = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!o)
		return access(path, F_OK) ? hb_fail(-ENOENT, err, errlen,
						    "no stored answer")
					  : hb_fail(-EINVAL, err, errlen,
						    "%s: %s", path, jerr.text);
	ret = hb_answer_parse_obj(json_object_get(o, "answer"), methods, a, err,
				  errlen);
	if (!ret) {
		r = json_object_get(o, "resolved");
		apply_resolved(r, &a->dslite);
		apply_resolved(r, &a->lw4o6.aftr);
		snprintf(url, urllen, "%s",
			 json_string_value(json_object_get(o, "url")) ?: "");
		*fetched = json_integer_value(json_object_get(o, "fetched"));
	}
	json_decref(o);
	return ret;
}
