/* fuzz_dns: a DNS answer as c-ares hands it to nm_dns (any bytes a server
 * sends that carry the query's id and question), read for A and for AAAA
 * the way the live path does, then turned into a key answer for the NFS
 * client's request and for a list.  Input: the DNS message. */
#include <arpa/nameser.h>

#include "fuzz.h"
#include "nm_dns.h"
#include "nm_upcall.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int qtypes[] = { ns_t_a, ns_t_aaaa };
	static const char *const callouts[] = { "", "list" };
	struct nm_upcall_result res;
	struct nm_upcall_req req;
	struct nm_dns_answer ans;
	struct nm_conf conf;
	struct nm_err err;
	char asked[NM_DNS_NAME_MAX + 2];
	uint8_t *msg;

	/* A heap copy of exactly size bytes: reads past the end are found. */
	msg = malloc(size ? size : 1);
	if (!msg)
		abort();
	if (size)
		memcpy(msg, data, size);
	nm_conf_defaults(&conf);
	for (size_t t = 0; t < sizeof(qtypes) / sizeof(qtypes[0]); t++) {
		memset(&ans, 0, sizeof(ans));
		ans.ttl = UINT32_MAX;
		ans.status = nm_dns_read_answer(msg, size, qtypes[t], asked, sizeof(asked), &ans);
		if (ans.naddr > NM_DNS_MAX_ADDRS || (ans.status != NM_DNS_OK && ans.naddr != 0))
			abort(); /* bounded, and all or nothing */
		for (size_t c = 0; c < sizeof(callouts) / sizeof(callouts[0]); c++) {
			if (nm_upcall_parse("fuzz.example", callouts[c], &req, &err) < 0)
				abort();
			nm_upcall_answer(&req, &conf, &ans, &res);
			if (res.timeout == 0 || (res.ok && res.len != strlen(res.payload) + 1))
				abort(); /* never a key without expiry; the NUL counted */
		}
	}
	free(msg);
	return 0;
}
