#include "nm_key.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int nm_key_parse_serial(const char *s, key_serial_t *key)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno || v <= 0 || v > 0x7fffffff)
		return -EINVAL;
	*key = (key_serial_t)v;
	return 0;
}

int nm_key_read_request(key_serial_t key, char *desc, size_t dcap, char *callout, size_t ccap,
			struct nm_err *err)
{
	char *d = NULL, *c = NULL, *p;
	int n;

	if (keyctl_assume_authority(key) < 0)
		return nm_err_set(err, -errno, "key %d: cannot assume authority: %s", key,
				  strerror(errno));
	if (keyctl_describe_alloc(key, &d) < 0)
		return nm_err_set(err, -errno, "key %d: cannot describe: %s", key, strerror(errno));
	/* "type;uid;gid;perm;description": the description may hold ';'. */
	p = d;
	for (int i = 0; i < 4 && p; i++) {
		p = strchr(p, ';');
		if (p)
			p++;
	}
	if (!p || strncmp(d, "dns_resolver;", 13) != 0) {
		nm_err_set(err, -EINVAL, "key %d is not a dns_resolver key ('%.40s')", key, d);
		free(d);
		return -EINVAL;
	}
	if (strlen(p) >= dcap) {
		free(d);
		return nm_err_set(err, -EINVAL, "key %d: description too long", key);
	}
	strcpy(desc, p);
	free(d);
	n = keyctl_read_alloc(KEY_SPEC_REQKEY_AUTH_KEY, (void **)&c);
	if (n < 0)
		return nm_err_set(err, -errno, "key %d: cannot read the callout: %s", key,
				  strerror(errno));
	if ((size_t)n >= ccap || memchr(c, '\0', (size_t)n)) {
		free(c);
		return nm_err_set(err, -EINVAL, "key %d: callout info too long or binary", key);
	}
	memcpy(callout, c, (size_t)n);
	callout[n] = '\0';
	free(c);
	return 0;
}

int nm_key_answer(key_serial_t key, const char *payload, size_t len, unsigned timeout,
		  struct nm_err *err)
{
	/* 0 would be "never expires": the caller's clamp, checked again here. */
	if (timeout == 0)
		timeout = 1;
	if (keyctl_set_timeout(key, timeout) < 0)
		return nm_err_set(err, -errno, "key %d: cannot set the timeout: %s", key,
				  strerror(errno));
	if (keyctl_instantiate(key, payload, len, 0) < 0)
		return nm_err_set(err, -errno, "key %d: cannot instantiate: %s", key,
				  strerror(errno));
	return 0;
}

int nm_key_reject(key_serial_t key, unsigned timeout, int error, struct nm_err *err)
{
	if (timeout == 0)
		timeout = 1;
	if (keyctl_reject(key, timeout, (unsigned)error, 0) < 0)
		return nm_err_set(err, -errno, "key %d: cannot reject: %s", key, strerror(errno));
	return 0;
}
