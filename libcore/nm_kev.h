/* nm_kev - what the kernel tells nfsmigd about NFS mounts, whatever source
 * said it: a trace event (nm_ktrace), a uevent (nm_uevent), a kernel log
 * record (nm_kmsg).  Every text field here is already checked: host names
 * pass nm_target_host_name_ok() or are escaped (nm_esc), addresses are
 * numeric; lengths are bounded by the arrays. */
#ifndef NM_KEV_H
#define NM_KEV_H

#include <stdint.h>

enum nm_kev_kind {
	NM_KEV_NONE = 0,
	NM_KEV_MOVED,		 /* nfs4_xdr_status: a reply said NFS4ERR_MOVED */
	NM_KEV_LEASE_MOVED,	 /* nfs4_xdr_status LEASE_MOVED, or state_mgr flag */
	NM_KEV_STATE_MGR,	 /* nfs4_state_mgr: flags, hostname */
	NM_KEV_STATE_MGR_FAIL,	 /* nfs4_state_mgr_failed: hostname, error, section */
	NM_KEV_CLNT_NEW,	 /* rpc_clnt_new: peer, server, program */
	NM_KEV_XPRT_CREATE,	 /* xprt_create: peer */
	NM_KEV_XPRT_SWITCH,	 /* uevent: an xprt-switch or rpc-client came or went */
	NM_KEV_MIGRATION_FAILED, /* kmsg: "NFS: migration recovery failed (server X)",
				  * "state manager: migration failed on NFSv4 server X" */
	NM_KEV_VOLATILE_FH,	 /* kmsg: "NFS: volatile file handles not supported (server X)" */
	NM_KEV_XPRT_REPLACE,	 /* rpc_clnt_replace_xprt: a client's transport was replaced */
};

/* Flags of nfs4_state_mgr (by name from the event's format, not by bit). */
enum {
	NM_KEV_F_MOVED = 1u << 0,
	NM_KEV_F_LEASE_MOVED = 1u << 1,
	NM_KEV_F_MANAGER_RUNNING = 1u << 2,
};

struct nm_kev {
	enum nm_kev_kind kind;
	char source[24]; /* "tracepoint", "uevent", "kmsg" */
	char name[64];	 /* the trace event ("nfs4_state_mgr"), the uevent
			  * action+devpath head ("add xprt-switches"), "kmsg" */
	int64_t time_ms; /* CLOCK_REALTIME when read (kmsg: from its stamp) */
	unsigned flags;	 /* NM_KEV_F_* */
	int error;	 /* a negative errno or NFS status as the kernel gave it */
	char host[256];	 /* hostname / server name the kernel named */
	char peer[64];	 /* numeric address of the transport, no port */
	unsigned port;
	char text[256]; /* escaped, for the log and the event (kmsg message) */
};

#include <stddef.h>

/* The setters every source uses, so that the rules above hold whatever
 * the kernel sent (len bytes, NULs included; never read past len). */
/* Zeroed, with kind, source and name (cut to fit). */
void nm_kev_init(struct nm_kev *ev, enum nm_kev_kind kind, const char *source, const char *name);
/* A server name: as it is when nm_target_host_name_ok() and it fits, else
 * escaped (nm_esc, NM_ESC_SHELL | NM_ESC_BACKSLASH) and cut at an escape's
 * edge. */
void nm_kev_set_host(struct nm_kev *ev, const char *bytes, size_t len);
/* A message: escaped (NM_ESC_BACKSLASH), cut at a character's edge. */
void nm_kev_set_text(struct nm_kev *ev, const char *bytes, size_t len);
/* A numeric address (IPv4, or IPv6 with or without [] and a zone-less
 * form): 0 and kept as the canonical text; -EINVAL and peer left empty. */
int nm_kev_set_peer(struct nm_kev *ev, const char *bytes, size_t len);

#endif
