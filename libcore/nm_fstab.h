/* nm_fstab - the lines of /etc/fstab and of autofs map files that still
 * mount a server's export after it moved, and their rewrite.
 *
 * Files read, under a root directory ("/" or a test tree):
 *   /etc/fstab                      NFS lines: SERVER:/PATH MOUNTPOINT nfs|nfs4 ...
 *   /etc/auto.master, /etc/auto.master.d/NAME.autofs
 *                                   the master map: which map files to read
 *                                   ("/- /etc/auto.direct", "/home file:/etc/auto.home",
 *                                   "/x auto.x", "+dir:DIR"); program, NIS, LDAP
 *                                   and built-in (-hosts) maps are not read
 *   each file map it names          "KEY [-OPTIONS] LOCATION...", a location
 *                                   "HOST[(W)][,HOST...]:/PATH", or "/OFFSET LOCATION"
 *                                   for multi-mount entries
 * Lines that are not understood are skipped, never an error.  A line is a
 * hit when one of its locations names one of the old server's names or
 * addresses (names case-insensitive, addresses compared as addresses) and
 * a path that is the export path or below it.
 *
 * A rewrite touches only the hosts (and, when asked, the export path
 * prefix) of the hit lines: every other byte of the file stays.  It is
 * atomic (a temporary in the same directory, fsync, rename, the directory
 * fsync'd), keeps the file's mode and owner, and keeps the original as
 * FILE.nfsmig-YYYYmmddTHHMMSS.  Only `nfsmig fstab --apply` calls it. */
#ifndef NM_FSTAB_H
#define NM_FSTAB_H

#include <stdbool.h>
#include <stddef.h>

#include "nm_err.h"

#define NM_FSTAB_MAX_BYTES (4 * 1024 * 1024) /* a larger file is not read */
#define NM_FSTAB_MAX_MAPS  64		     /* map files read from the master maps */

enum nm_fstab_kind {
	NM_FSTAB_FSTAB = 0, /* /etc/fstab */
	NM_FSTAB_AUTOFS,    /* an autofs map file (direct or indirect) */
	NM_FSTAB_MASTER,    /* an autofs master map (parsed for map names only) */
};

/* Where, within a hit's entry, one location's host (brackets included) and
 * export path prefix are. */
struct nm_fstab_span {
	size_t host_off, host_len;
	size_t path_off, path_len; /* the bytes that spell the export path */
	int shared;		   /* the location names other servers too
				      ("old,other:/path"): its path stays */
};

struct nm_fstab_hit {
	char *file;    /* the file as on the system ("/etc/fstab"), root not included */
	unsigned line; /* 1-based */
	char *entry;   /* the line's bytes as they are (no newline) */
	/* nfsmig's own, beyond the shared fields: */
	enum nm_fstab_kind kind;
	char *key; /* the mount point (fstab, decoded) or the map key (autofs) */
	struct nm_fstab_span *spans;
	size_t nspans;
};

/* Every hit for the old server old_server (a name or an address) and
 * export_path, in /etc/fstab and the autofs maps under root (NULL: "/").
 * Files that do not exist are no error; one that cannot be read is left
 * out (its error is not fatal: the others are still scanned).  *hits is an
 * array of *n (NULL when none); free with nm_fstab_hits_free. */
int nm_fstab_scan(const char *root, const char *old_server, const char *export_path,
		  struct nm_fstab_hit **hits, size_t *n, struct nm_err *err);

/* The same for a server known by several names and addresses. */
int nm_fstab_scan_names(const char *root, const char *const *servers, size_t nservers,
			const char *export_path, struct nm_fstab_hit **hits, size_t *n,
			struct nm_err *err);

void nm_fstab_hits_free(struct nm_fstab_hit *h, size_t n);

/* Pure: the hits in text (len bytes), a file of the given kind named file,
 * appended to *hits / *n. */
int nm_fstab_match_text(const char *file, enum nm_fstab_kind kind, const char *text, size_t len,
			const char *const *servers, size_t nservers, const char *export_path,
			struct nm_fstab_hit **hits, size_t *n, struct nm_err *err);

/* Pure: the map files an autofs master map (text, len bytes) names, as
 * absolute paths ("auto.x" is /etc/auto.x), and the directories of its
 * "+dir:" lines (*dirs, may be NULL when not wanted), each a NULL-ended
 * array of new strings (free with nm_fstab_strv_free). */
int nm_fstab_master_maps(const char *text, size_t len, char ***maps, char ***dirs,
			 struct nm_err *err);
void nm_fstab_strv_free(char **v);

/* Pure: field (len bytes, fstab form) with its octal escapes (\040 ...)
 * decoded; a new string (NULL when out of memory). */
char *nm_fstab_decode(const char *field, size_t len);

/* Pure: does field (len bytes) read HOSTS:/PATH, HOSTS a host, [v6] or a
 * list "h1(w),h2"?  Gives where the hosts end (the ':') and the path
 * starts. */
bool nm_fstab_source_split(const char *field, size_t len, size_t *hosts_len, size_t *path_off);

/* Is name (len bytes, brackets allowed) one of servers[] (names without
 * regard to case or a final dot, addresses as addresses)? */
bool nm_fstab_server_is(const char *name, size_t len, const char *const *servers, size_t nservers);

/* Pure: the hit's entry with each span's host replaced by new_server (in
 * brackets when it is an IPv6 address) and, when new_path is not NULL, the
 * export path prefix by new_path (escaped as the file kind wants).
 * new_server must pass nm_target_host_name_ok.  *line is a new string. */
int nm_fstab_propose(const struct nm_fstab_hit *h, const char *new_server, const char *new_path,
		     char **line, struct nm_err *err);

/* Rewrite file (as on the system; read under root) with every hit of hits[]
 * naming that file replaced by its proposal.  Each hit's line must still
 * read as its entry: otherwise -ESTALE and nothing is written.  *backup
 * (when not NULL) gets the backup's path (as on the system, malloc'd). */
int nm_fstab_rewrite(const char *root, const char *file, const struct nm_fstab_hit *hits, size_t n,
		     const char *new_server, const char *new_path, char **backup,
		     struct nm_err *err);

/* What a moved mount's lines need: the old server's names and addresses,
 * the export path, and what replaces them.  Built from the mount (the
 * kernel's server now, addr=) and its record (nm_fstab_move.c). */
#define NM_FSTAB_MAX_OLD 16
struct nm_fstab_move {
	char *old[NM_FSTAB_MAX_OLD]; /* the record's orig_server, its source's host,
				      * the mount table's source host, each move's from */
	size_t nold;
	char *export_path; /* the record's (else the mount's) */
	char *new_server;  /* a recorded location's host served at the kernel's
			    * address (named as it is first, then resolved),
			    * else that address */
	char *new_path;	   /* that location's rootpath when not the export path, else NULL */
};

struct nm_record;
struct nm_mount;
/* 0 and *mv filled for a mount that moved (nm_record_moved); 1 when it did
 * not (*mv empty).  Names are resolved within deadline_ms, through the
 * hosts file and NSS, only when the record does not name the server as it
 * is. */
int nm_fstab_move_of(const struct nm_record *r, const struct nm_mount *m, int deadline_ms,
		     struct nm_fstab_move *mv, struct nm_err *err);
void nm_fstab_move_free(struct nm_fstab_move *mv);

#endif
