/* fuzz_shcache: the daemon's cache file as an upcall reads it (any user who
 * can write where it lies could have written it): its header and one slot
 * through nm_shcache_decode, then the key nm_upcall_answer makes.
 * Input: a settings byte (bit 0: a header of this format and version,
 * bit 1: the request asks the slot's own name and families), 8 bytes of
 * now, then the header and the slot as the file holds them (short input
 * padded with zeros). */
#include <errno.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "nm_shcache.h"
#include "nm_shcache_fmt.h"
#include "nm_upcall.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct shc_head h;
	struct shc_slot s;
	struct nm_upcall_req req = { .want4 = true, .legacy = true };
	struct nm_upcall_result res;
	struct nm_dns_answer ans;
	struct nm_conf c;
	struct nm_err err = { 0 };
	unsigned char buf[sizeof(h) + sizeof(s)] = { 0 };
	uint8_t set = size ? data[0] : 0;
	int64_t now = 0;
	int rc;

	if (size > 9) {
		memcpy(&now, data + 1, sizeof(now));
		memcpy(buf, data + 9, size - 9 < sizeof(buf) ? size - 9 : sizeof(buf));
	}
	memcpy(&h, buf, sizeof(h));
	memcpy(&s, buf + sizeof(h), sizeof(s));
	if (set & 1) {
		h.magic = SHC_MAGIC;
		h.version = SHC_VERSION;
		h.slots = NM_SHCACHE_SLOTS;
		h.slot_size = sizeof(struct shc_slot);
	}
	if (set & 2) {
		s.generation = h.generation;
		memcpy(req.name, s.name, sizeof(req.name) - 1);
		req.want4 = s.want4;
		req.want6 = s.want6;
	}
	nm_conf_defaults(&c);
	rc = nm_shcache_decode(&h, sizeof(h), &s, sizeof(s), &req, now, &c, &ans, &err);
	if (rc < 0 && rc != -EBADMSG)
		abort();
	if (rc != 1)
		return 0;
	/* What was taken is what a daemon writes: the key always expires,
	 * within what the configuration allows. */
	if (c.min_ttl < 1 || c.max_ttl > 604800 || c.min_ttl > c.max_ttl || c.negative_ttl < 1 ||
	    c.negative_ttl > 604800 || c.tempfail_ttl < 1 || c.tempfail_ttl > 604800 ||
	    c.servfail_ttl < 1 || c.servfail_ttl > 604800 || c.hosts_ttl < 1 ||
	    c.hosts_ttl > 604800 || ans.naddr > NM_DNS_MAX_ADDRS ||
	    ans.why[sizeof(ans.why) - 1] != '\0')
		abort();
	for (size_t i = 0; i < ans.naddr; i++)
		if (ans.addr[i].family != AF_INET && ans.addr[i].family != AF_INET6)
			abort();
	nm_upcall_answer(&req, &c, &ans, &res);
	if (res.timeout < 1 || res.timeout > 604800)
		abort();
	return 0;
}
