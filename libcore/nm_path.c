#include "nm_path.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nm_esc.h"

const char *nm_path_next(const char **p, size_t *len)
{
	const char *s;

	while (**p == '/')
		(*p)++;
	s = *p;
	while (**p && **p != '/')
		(*p)++;
	*len = (size_t)(*p - s);
	return s;
}

int nm_path_split(const char *path, struct nm_path *out, struct nm_err *err)
{
	const char *p = path;

	memset(out, 0, sizeof(*out));
	if (!path || path[0] != '/')
		return nm_err_set(err, -EINVAL, "'%s' is not an absolute path", path ? path : "");
	while (*p) {
		const char *s;
		size_t len;

		s = nm_path_next(&p, &len);
		if (len == 0 || (len == 1 && s[0] == '.'))
			continue;
		if (len == 2 && s[0] == '.' && s[1] == '.') {
			if (out->n > 0)
				free(out->comp[--out->n]);
			continue;
		}
		if (len > NM_PATH_MAX_NAME) {
			nm_path_free(out);
			return nm_err_set(err, -ENAMETOOLONG,
					  "a component of '%s' is longer than %d bytes", path,
					  NM_PATH_MAX_NAME);
		}
		if (out->n == NM_PATH_MAX_COMPONENTS) {
			nm_path_free(out);
			return nm_err_set(err, -ENAMETOOLONG, "'%s' has more than %d components",
					  path, NM_PATH_MAX_COMPONENTS);
		}
		if (!out->comp) {
			out->comp = calloc(NM_PATH_MAX_COMPONENTS, sizeof(char *));
			if (!out->comp)
				return nm_err_set(err, -ENOMEM, "out of memory");
		}
		out->comp[out->n] = strndup(s, len);
		if (!out->comp[out->n]) {
			nm_path_free(out);
			return nm_err_set(err, -ENOMEM, "out of memory");
		}
		out->n++;
	}
	return 0;
}

char *nm_path_join(const struct nm_path *p, size_t n)
{
	size_t len = 2, i;
	char *s, *q;

	if (n > p->n)
		n = p->n;
	for (i = 0; i < n; i++)
		len += strlen(p->comp[i]) + 1;
	s = malloc(len);
	if (!s)
		return NULL;
	q = s;
	for (i = 0; i < n; i++)
		q += sprintf(q, "/%s", p->comp[i]);
	if (n == 0)
		strcpy(s, "/");
	return s;
}

char *nm_path_printable(const char *bytes, size_t len)
{
	return nm_esc(bytes, len, NM_ESC_BACKSLASH);
}

char *nm_path_from_wire(const pathname4 *p)
{
	size_t len = 2, i;
	char *s, *q;

	for (i = 0; i < p->pathname4_len; i++)
		len += p->pathname4_val[i].utf8str_cs_len * 4 + 1;
	s = malloc(len);
	if (!s)
		return NULL;
	q = s;
	*q = '\0';
	for (i = 0; i < p->pathname4_len; i++) {
		char *c = nm_path_printable(p->pathname4_val[i].utf8str_cs_val,
					    p->pathname4_val[i].utf8str_cs_len);
		if (!c) {
			free(s);
			return NULL;
		}
		q += sprintf(q, "/%s", c);
		free(c);
	}
	if (p->pathname4_len == 0)
		strcpy(s, "/");
	return s;
}

void nm_path_free(struct nm_path *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		free(p->comp[i]);
	free(p->comp);
	memset(p, 0, sizeof(*p));
}
