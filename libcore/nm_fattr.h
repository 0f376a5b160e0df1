/* nm_fattr - NFSv4 attribute bitmaps and the values nfsmig decodes. */
#ifndef NM_FATTR_H
#define NM_FATTR_H

#include <stdbool.h>
#include <stdint.h>

#include "nfs4_prot.h"
#include "nm_err.h"

enum nm_fattr_id {
	NM_FATTR_SUPPORTED_ATTRS = 0,
	NM_FATTR_TYPE = 1,
	NM_FATTR_FH_EXPIRE_TYPE = 2,
	NM_FATTR_CHANGE = 3,
	NM_FATTR_SIZE = 4,
	NM_FATTR_FSID = 8,
	NM_FATTR_LEASE_TIME = 10,
	NM_FATTR_RDATTR_ERROR = 11,
	NM_FATTR_FILEHANDLE = 19,
	NM_FATTR_FILEID = 20,
	NM_FATTR_FS_LOCATIONS = 24,
	NM_FATTR_MOUNTED_ON_FILEID = 55,
	NM_FATTR_MAX = 96 /* bits nfsmig can name: three bitmap words */
};

#define NM_FATTR_WORDS 3

/* fh_expire_type bits (RFC 7530 4.2.3). */
#define NM_FH4_PERSISTENT	  0x00
#define NM_FH4_NOEXPIRE_WITH_OPEN 0x01
#define NM_FH4_VOLATILE_ANY	  0x02
#define NM_FH4_VOL_MIGRATION	  0x04
#define NM_FH4_VOL_RENAME	  0x08

struct nm_fattr {
	uint32_t have[NM_FATTR_WORDS]; /* which values below were present */
	uint32_t type;
	uint32_t fh_expire_type;
	uint64_t change;
	uint64_t size;
	fsid4 fsid;
	uint32_t lease_time;
	uint32_t rdattr_error;
	uint64_t fileid;
	uint64_t mounted_on_fileid;
	fs_locations4 fs_locations; /* owned; freed by nm_fattr_free */
};

/* Build a request bitmap of ids; words must hold NM_FATTR_WORDS entries. */
void nm_fattr_mask(bitmap4 *bm, uint32_t *words, const enum nm_fattr_id *ids, unsigned n);

bool nm_fattr_has(const struct nm_fattr *f, enum nm_fattr_id id);

/* Decode the values of a GETATTR reply.  Every value the bitmap announces
 * must be one nfsmig can decode, and the values must fill attr_vals exactly:
 * anything else is -EBADMSG with a message naming the attribute. */
int nm_fattr_decode(const fattr4 *a, struct nm_fattr *out, struct nm_err *err);

void nm_fattr_free(struct nm_fattr *f);

#endif
