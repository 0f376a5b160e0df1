/* nm_kev - the checked setters of struct nm_kev (see nm_kev.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "nm_esc.h"
#include "nm_kev.h"
#include "nm_target.h"

static void copy_cut(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

void nm_kev_init(struct nm_kev *ev, enum nm_kev_kind kind, const char *source, const char *name)
{
	memset(ev, 0, sizeof(*ev));
	ev->kind = kind;
	copy_cut(ev->source, sizeof(ev->source), source ? source : "");
	copy_cut(ev->name, sizeof(ev->name), name ? name : "");
}

/* bytes[0..len) escaped into dst (cap bytes, NUL-terminated), each
 * character or escape whole or not at all. */
static void esc_into(char *dst, size_t cap, const char *bytes, size_t len, unsigned flags)
{
	const unsigned char *s = (const unsigned char *)bytes;
	size_t o = 0;

	for (size_t i = 0; i < len;) {
		size_t n = nm_esc_plain_len(s + i, len - i, flags);

		if (n == 0) {
			if (o + 4 >= cap)
				break;
			snprintf(dst + o, 5, "\\x%02x", s[i]);
			o += 4;
			i++;
		} else {
			if (o + n >= cap)
				break;
			memcpy(dst + o, s + i, n);
			o += n;
			i += n;
		}
	}
	dst[o] = '\0';
}

void nm_kev_set_host(struct nm_kev *ev, const char *bytes, size_t len)
{
	char name[sizeof(ev->host)];

	if (len < sizeof(name) && !memchr(bytes, '\0', len)) {
		memcpy(name, bytes, len);
		name[len] = '\0';
		if (nm_target_host_name_ok(name)) {
			memcpy(ev->host, name, len + 1);
			return;
		}
	}
	esc_into(ev->host, sizeof(ev->host), bytes, len, NM_ESC_SHELL | NM_ESC_BACKSLASH);
}

void nm_kev_set_text(struct nm_kev *ev, const char *bytes, size_t len)
{
	esc_into(ev->text, sizeof(ev->text), bytes, len, NM_ESC_BACKSLASH);
}

int nm_kev_set_peer(struct nm_kev *ev, const char *bytes, size_t len)
{
	char a[INET6_ADDRSTRLEN + 2];
	unsigned char bin[16];

	ev->peer[0] = '\0';
	if (len >= 2 && bytes[0] == '[' && bytes[len - 1] == ']') {
		bytes++;
		len -= 2;
	}
	if (len == 0 || len >= sizeof(a) || memchr(bytes, '\0', len))
		return -EINVAL;
	memcpy(a, bytes, len);
	a[len] = '\0';
	if (inet_pton(AF_INET, a, bin) == 1) {
		inet_ntop(AF_INET, bin, ev->peer, sizeof(ev->peer));
		return 0;
	}
	if (inet_pton(AF_INET6, a, bin) == 1) {
		inet_ntop(AF_INET6, bin, ev->peer, sizeof(ev->peer));
		return 0;
	}
	return -EINVAL;
}
