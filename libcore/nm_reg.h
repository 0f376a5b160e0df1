/* nm_reg - registering a mount: what its server says of the mounted
 * export, made a record and saved under the record's lock.
 *
 * nm_reg_query talks to the server; nm_reg_build and nm_reg_root_path are
 * pure; nm_reg_save decides, under the lock, what becomes of a record that
 * is there already (kept unless forced; a corrupt one set aside). */
#ifndef NM_REG_H
#define NM_REG_H

#include <stdbool.h>
#include <stdint.h>

#include "nm_err.h"
#include "nm_fsloc.h"
#include "nm_mount.h"
#include "nm_store.h"

/* The server-side path of the mount's root: export path + mountinfo root;
 * NULL when out of memory. */
char *nm_reg_root_path(const struct nm_mount *m);

/* Which mount of its mount point m is (a record's mount_id): "BOOT_ID
 * MOUNT_ID MAJOR:MINOR [MOUNTED]", from the boot's ID, mountinfo's fields
 * and when the NFS mount was made (seconds of CLOCK_MONOTONIC, from
 * mountstats' age; mounted < 0: not known, left out): the kernel gives a
 * remount the mount ID and device of the mount it replaces, so only the
 * time tells them apart in one boot.  No stat of the mount.  -ENOENT when
 * not known (no mount ID, no boot ID), -E2BIG when buf is too small. */
int nm_reg_mount_id(const struct nm_mount *m, const char *boot_id, int64_t mounted, char *buf,
		    size_t cap);
/* When target's NFS mount was made (seconds of CLOCK_MONOTONIC), from
 * mountstats s (its last entry for target); -1 when not said. */
struct nm_mstats;
int64_t nm_reg_mounted_at(const struct nm_mstats *s, const char *target);
/* The boot's ID (/proc/sys/kernel/random/boot_id), or "" when unknown. */
#define NM_REG_BOOT_ID_PATH "/proc/sys/kernel/random/boot_id"
void nm_reg_boot_id(char *buf, size_t cap);

/* A record from the mount and its server's answer for path (the root's
 * handle, fsid, fileid, fh_expire_type and fs_locations), minor the
 * session's minor version, now the registration time.  rec is zeroed
 * first; on an error it holds nothing.  Locations beyond what a record
 * keeps (NM_STORE_MAX_LIST, NM_STORE_LOCATION_BYTES) are left out, not an
 * error: *dropped (may be NULL) counts them, for a note. */
int nm_reg_build(const struct nm_mount *m, const char *path, int minor, int64_t now,
		 const struct nm_fsloc_root *root, struct nm_record *rec, unsigned *dropped,
		 struct nm_err *err);

/* Whether m can be registered: -EPROTONOSUPPORT for a mount that is not
 * NFSv4, -EEXIST when it has a record and force is false (a corrupt
 * record does not count: register sets it aside), else 0. */
int nm_reg_check(const char *dir, const struct nm_mount *m, bool force, struct nm_err *err);

/* Ask m's server (addr=, port=, its version and flavor) and build the
 * record, with the handle and fileid of one entry of the root when there
 * is one.  With m's record in dir (NULL: none consulted), the root is
 * asked at the rootpath of its recorded location on m's server, if any:
 * after a move the export path is the source's.  Registered without an
 * entry's handle (verify then checks less), *no_probe says why (its code
 * < 0; NULL: not said). */
int nm_reg_query(const char *dir, const struct nm_mount *m, int timeout_ms, struct nm_record *rec,
		 unsigned *dropped, struct nm_err *no_probe, struct nm_err *err);

/* Save rec under the record's lock.  A record there already: -EEXIST
 * unless force, else replaced, the moves it recorded kept (they come
 * first).  A corrupt record is set aside: u->found is then -EBADMSG,
 * u->why says why and u->aside names the copy kept.  u may be NULL. */
int nm_reg_save(const char *dir, const struct nm_record *rec, bool force, struct nm_store_update *u,
		struct nm_err *err);

#endif
