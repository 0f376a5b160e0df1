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

#endif
