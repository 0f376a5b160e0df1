/* fuzz_conf: /etc/nfsmig.conf through nm_conf_load (libinih and our
 * handlers), and its value parsers on the raw input. */
#include <sys/socket.h>

#include "fuzz.h"
#include "nm_conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nm_conf c;
	struct nm_err err;
	struct sockaddr_storage ss;
	socklen_t len;
	char *s;

	nm_conf_defaults(&c);
	(void)nm_conf_load(&c, fuzz_file(data, size), false, &err);
	s = fuzz_str(data, size);
	(void)nm_conf_parse_seconds(s, 0, 3600 * 1000);
	(void)nm_conf_parse_ns(s, &ss, &len);
	free(s);
	return 0;
}
