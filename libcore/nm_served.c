#include "nm_served.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "nm_dns.h"
#include "nm_fsloc.h"
#include "nm_target.h"

bool nm_served_by(const char *name, const char *addr, int deadline_ms)
{
	struct nm_dns_answer ans;
	struct nm_conf conf;
	unsigned char want[16];
	int fam = strchr(addr, ':') ? AF_INET6 : AF_INET;

	if (inet_pton(fam, addr, want) != 1)
		return strcmp(name, addr) == 0;
	/* Only a host name or an address is resolved: a name a server gave
	 * that is neither ("192.0.513", which getaddrinfo reads as 192.0.2.1)
	 * matches nothing. */
	if (!nm_target_host_name_ok(name))
		return false;
	/* The system's resolver (hosts file, then NSS, as the kernel's upcall
	 * and the administrator see it), never longer than the deadline. */
	nm_conf_defaults(&conf);
	conf.resolver = NM_RESOLVER_NSS;
	if (nm_dns_resolve(&conf, name, fam == AF_INET, fam == AF_INET6, deadline_ms, &ans, NULL) <
		    0 ||
	    ans.status != NM_DNS_OK)
		return false;
	for (size_t i = 0; i < ans.naddr; i++)
		if (ans.addr[i].family == fam &&
		    memcmp(&ans.addr[i].u, want, fam == AF_INET ? 4 : 16) == 0)
			return true;
	return false;
}

char *nm_served_location_server(const char *loc)
{
	return nm_fsloc_location_host(loc);
}

const char *nm_served_rootpath(const struct nm_record *rec, const char *server, int deadline_ms)
{
	/* A location naming server as it is first: no name is resolved when
	 * the record says it in so many words. */
	for (int resolve = 0; resolve < 2; resolve++) {
		for (size_t i = 0; i < rec->nlocations; i++) {
			const char *loc = rec->locations[i];
			const char *p = loc[0] == '[' ? strstr(loc, "]:/") : strstr(loc, ":/");
			char *srv;
			bool hit;

			if (!p)
				continue;
			srv = nm_served_location_server(loc);
			hit = srv && (resolve ? nm_served_by(srv, server, deadline_ms)
					      : strcmp(srv, server) == 0);
			free(srv);
			if (hit)
				return p + (loc[0] == '[' ? 2 : 1);
		}
	}
	return NULL;
}

char *nm_served_path(const struct nm_record *rec, const char *server, const char *spath,
		     int deadline_ms)
{
	const char *rp = nm_served_rootpath(rec, server, deadline_ms);
	const char *exp = rec->export_path ? rec->export_path : "/";
	size_t n = strcmp(exp, "/") == 0 ? 0 : strlen(exp);
	char *s = NULL;

	/* Below the export path only: "/export" is no prefix of "/exports". */
	if (!rp || strncmp(spath, exp, n) != 0 || (spath[n] && spath[n] != '/'))
		return strdup(spath);
	if (asprintf(&s, "%s%s", strcmp(rp, "/") == 0 && spath[n] ? "" : rp, spath + n) < 0)
		return NULL;
	return s;
}
