/* nm_key - the key service side of a dns_resolver upcall (libkeyutils). */
#ifndef NM_KEY_H
#define NM_KEY_H

#include <keyutils.h>
#include <stddef.h>

#include "nm_err.h"

/* The kernel's own limits (a description, callout info: 4095 bytes and a
 * NUL): any request it makes fits, so another user's is handed on whole. */
#define NM_KEY_DESC_MAX	   4096
#define NM_KEY_CALLOUT_MAX 4096

/* Assume authority over key; read its description (the part after
 * "type;uid;gid;perm;") and callout info.  The key must be dns_resolver. */
int nm_key_read_request(key_serial_t key, char *desc, size_t dcap, char *callout, size_t ccap,
			struct nm_err *err);

/* Instantiate with payload (len counts its NUL) and timeout seconds. */
int nm_key_answer(key_serial_t key, const char *payload, size_t len, unsigned timeout,
		  struct nm_err *err);

/* Reject: later requests fail with error until timeout seconds pass. */
int nm_key_reject(key_serial_t key, unsigned timeout, int error, struct nm_err *err);

/* Parse a key serial from the command line. */
int nm_key_parse_serial(const char *s, key_serial_t *key);

#endif
