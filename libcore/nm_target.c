#include "nm_target.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

bool nm_target_is_remote(const char *arg)
{
	const char *c = strstr(arg, ":/");

	return arg[0] != '/' && arg[0] != '.' && c && c != arg;
}

bool nm_target_valid_host(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > 253)
		return false;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr(".-_:%", *p))
			return false;
	return name[0] != '-' && name[0] != '.';
}

static bool ldh(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-';
}

bool nm_target_host_name_ok(const char *name)
{
	unsigned char addr[16];
	size_t len, label = 0, last = 0;
	bool digits_only = true;

	if (!name)
		return false;
	len = strlen(name);
	if (len == 0 || len > 253 + 1 || (len == 254 && name[253] != '.'))
		return false;
	if (strchr(name, ':'))
		return inet_pton(AF_INET6, name, addr) == 1;
	if (inet_pton(AF_INET, name, addr) == 1)
		return true;
	for (size_t i = 0; i <= len; i++) {
		char c = name[i];

		if (c == '.' || c == '\0') {
			/* An empty label is only the root's, after a final dot. */
			if (label == 0) {
				if (c != '\0' || i == 0)
					return false;
				break; /* the root's: judge the name before it */
			}
			if (label > 63 || name[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!ldh(c) || (label == 0 && c == '-'))
			return false;
		if (label == 0) {
			last = i;
			digits_only = true;
		}
		if (c < '0' || c > '9')
			digits_only = false;
		label++;
	}
	/* A last label all digits (1.2.3, 300.1.1.1, 0x7f.1) or in hex
	 * (0x7f000001, 0x) reads as an address to too many resolvers: glibc turns
	 * 0x7f.1 into 127.0.0.1 (RFC 3696 s2: no top-level domain is numeric). */
	if (name[last] == '0' && (name[last + 1] == 'x' || name[last + 1] == 'X')) {
		size_t i = last + 2;

		while (isxdigit((unsigned char)name[i]))
			i++;
		if (name[i] == '\0' || name[i] == '.')
			return false;
	}
	return !digits_only;
}

static int parse_port(const char *s, size_t len, unsigned *port)
{
	unsigned long v = 0;

	if (len == 0 || len > 5)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -EINVAL;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return -EINVAL;
	*port = (unsigned)v;
	return 0;
}

int nm_target_parse(const char *arg, struct nm_target *out, struct nm_err *err)
{
	const char *host, *hend, *rest, *path;

	memset(out, 0, sizeof(*out));
	if (arg[0] == '[') {
		host = arg + 1;
		hend = strchr(host, ']');
		if (!hend || hend[1] != ':')
			return nm_err_set(err, -EINVAL, "'%s': expected [ADDRESS]:/PATH", arg);
		rest = hend + 2;
	} else {
		const char *sep = strstr(arg, ":/");
		int colons = 0;

		for (const char *c = arg; sep && c < sep; c++)
			colons += *c == ':';
		if (colons > 1)
			return nm_err_set(
				err, -EINVAL,
				"'%s': bad server name (an IPv6 address goes in brackets)", arg);
		host = arg;
		hend = strchr(arg, ':');
		if (!hend)
			return nm_err_set(err, -EINVAL, "'%s': expected SERVER:/PATH", arg);
		rest = hend + 1;
	}
	if (rest[0] == '/') {
		path = rest;
	} else {
		const char *c = strchr(rest, ':');

		if (!c || c[1] != '/' || parse_port(rest, (size_t)(c - rest), &out->port) < 0)
			return nm_err_set(
				err, -EINVAL,
				"'%s': expected SERVER[:PORT]:/PATH with a port of 1-65535", arg);
		path = c + 1;
	}
	out->host = strndup(host, (size_t)(hend - host));
	out->path = strdup(path);
	if (!out->host || !out->path) {
		nm_target_free(out);
		return nm_err_set(err, -ENOMEM, "out of memory");
	}
	if (!nm_target_valid_host(out->host) || (arg[0] != '[' && strchr(out->host, ':'))) {
		nm_err_set(err, -EINVAL, "'%s': bad server name (an IPv6 address goes in brackets)",
			   arg);
		nm_target_free(out);
		return -EINVAL;
	}
	return 0;
}

void nm_target_free(struct nm_target *t)
{
	if (!t)
		return;
	free(t->host);
	free(t->path);
	memset(t, 0, sizeof(*t));
}
