/* nm_conf - /etc/nfsmig.conf, in the nfs.conf style, read with libinih. */
#ifndef NM_CONF_H
#define NM_CONF_H

#include <stdbool.h>
#include <sys/socket.h>

#include "nm_err.h"

#define NM_CONF_DEFAULT	 "/etc/nfsmig.conf"
#define NM_CONF_MAX_NS	 8
#define NM_CONF_PATH_MAX 256

enum nm_prefer { NM_PREFER_IPV4, NM_PREFER_IPV6 };
enum nm_resolver { NM_RESOLVER_DNS, NM_RESOLVER_NSS };

struct nm_conf {
	/* [resolver] */
	struct sockaddr_storage ns[NM_CONF_MAX_NS]; /* nameservers = ADDR[#PORT] ... */
	socklen_t ns_len[NM_CONF_MAX_NS];
	int nns;		   /* 0: those of /etc/resolv.conf */
	enum nm_prefer prefer;	   /* prefer = ipv4 | ipv6 */
	enum nm_resolver resolver; /* resolver = dns | nss (getaddrinfo: NIS, LDAP...) */
	unsigned min_ttl;	   /* min_ttl: clamp of DNS TTLs (s) */
	unsigned max_ttl;	   /* max_ttl */
	unsigned hosts_ttl;	   /* default_ttl: for /etc/hosts answers */
	unsigned negative_ttl;	   /* negative_ttl: no such name / no data */
	unsigned tempfail_ttl;	   /* tempfail_ttl: DNS timed out or answered SERVFAIL-like */
	unsigned servfail_ttl;	   /* servfail_ttl: refused, unusable answers */
	int deadline_ms; /* deadline (s, decimals allowed): the kernel never waits longer */
	char hosts[NM_CONF_PATH_MAX];	       /* hosts = /etc/hosts */
	char resolv_conf[NM_CONF_PATH_MAX];    /* resolv_conf = /etc/resolv.conf */
	char other_requests[NM_CONF_PATH_MAX]; /* other_requests = /sbin/key.dns_resolver */
	/* [daemon] */
	char socket[NM_CONF_PATH_MAX];	  /* socket = /run/nfsmig/nfsmigd.sock */
	char state_dir[NM_CONF_PATH_MAX]; /* state_dir = /var/lib/nfsmig */
	int daemon_wait_ms;		  /* ask_daemon_timeout: upcall's wait for the daemon */
	/* [events] */
	size_t event_max_bytes; /* max_bytes = 4M: events.log rotated past it */
	/* [hooks] */
	char hooks_dir[NM_CONF_PATH_MAX]; /* dir = /etc/nfsmig/hooks.d */
	int hook_timeout_ms;		  /* timeout (s, decimals allowed) of each hook */
	/* [watch]: nfsmigd's sources, each yes|no */
	bool watch_tracefs, watch_uevent, watch_kmsg, watch_mountinfo, watch_upcall;
	int watch_rescan_s; /* rescan = 60: the safety net's period (s), 0: none */
	bool watch_verify;  /* verify = yes: a moved mount is verified */
	char watch_mountinfo_path[NM_CONF_PATH_MAX]; /* mountinfo_path (tests): a table
						      * file instead of the kernel's */
	/* [metrics] */
	char metrics_textfile[NM_CONF_PATH_MAX]; /* textfile = NM_PROM_DEFAULT_PATH: nfsmigd's
						  * Prometheus file; "": none */
};

void nm_conf_defaults(struct nm_conf *c);

/* Read path over the defaults.  missing_ok: a missing file is no error
 * (the default path); any other problem is -EINVAL with "FILE:LINE: ...". */
int nm_conf_load(struct nm_conf *c, const char *path, bool missing_ok, struct nm_err *err);

/* "2", "0.5": seconds, decimals allowed, to milliseconds in [min_ms,
 * max_ms]; -EINVAL when it is not that. */
int nm_conf_parse_seconds(const char *s, int min_ms, int max_ms);

/* Parse "ADDR", "ADDR#PORT" or "[V6]:PORT" into a socket address (port 53
 * by default). */
int nm_conf_parse_ns(const char *s, struct sockaddr_storage *ss, socklen_t *len);

#endif
