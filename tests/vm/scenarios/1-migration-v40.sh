#!/bin/bash
# Scenario 1: NFSv4.0 migration (-o migration) from server-a to server-b.
# server-a's export of /srv/d gets refer=/d@server-b, so knfsd answers
# NFS4ERR_MOVED; the kernel asks fs_locations, resolves server-b through the
# dns_resolver upcall (answered by nfsmigd) and moves the mount.
#
# With NFSMIG_DEB (scripts/test-all always gives it: the .deb scripts/package
# built) the VM gets no `make install`: the package is installed with dpkg -i
# on the VM's overlay (package.sh: what it installs, no nfsmigd started or
# enabled), the move runs against the installed /usr/sbin/nfsmigd through the
# package's /etc/request-key.d/nfsmig.conf, and the package is removed and
# purged at the end.  Run by hand without it: `make install`, the package's
# checks SKIP.  (Scenario 2 runs this file with VERS=4.1: never the package.)
# nfsvm: package
. ./lib.sh
if [ "${NFSVM_PACKAGE:-0}" = 1 ]; then
	. ./package.sh
	pkg_install
elif grep -q '^# nfsvm: package' "$NFSVM_SCENARIO" 2>/dev/null; then
	echo "SKIP - package checks: no NFSMIG_DEB"
fi

VERS=${VERS:-4.0}
export EXPORT_OPTS=${EXPORT_OPTS-,insecure}
M=/mnt/m

servers_up || finish
daemon_up
[ "${NFSVM_PACKAGE:-0}" = 1 ] &&
	check "the installed nfsmigd-daemon serves the socket" test -S /run/nfsmig/nfsmigd.sock
mount_d "$VERS" $M || finish
check_out "the record holds a root entry's handle too" '^entry handle: +[a-z]+ \(fileid [0-9]+\) [0-9a-f]+$' \
	"$NM" show $M
save "mountinfo.v$VERS.before" /proc/self/mountinfo
save "mountstats.v$VERS.before" /proc/self/mountstats
setup_done

# A reader that keeps the file open across the move (read-only: reading
# needs no state the destination would have to know... see scenario 1b).
[ "${HOLD:-0}" = 1 ] && exec 3<$M/numbers && head -c 100 <&3 >/dev/null

refer_d
# The client asks the server again only for what it has not cached.
sync
echo 3 >/proc/sys/vm/drop_caches
[ "${DEBUGNFS:-1}" = 1 ] && echo 32767 >/proc/sys/sunrpc/nfs_debug
t0=$(date +%s%N)
check "the mount still reads after the move" timeout 60 cat $M/file
note "the first access after the refer= took $((($(date +%s%N) - t0) / 1000000)) ms"

check_out "the kernel now talks to server-b (addr=)" '^198\.51\.100\.2$' mount_opt $M addr
check_out "/proc/mounts still names server-a as the source" '^server-a:/d$' mount_source $M
check_out "mountstats counts the FS_LOCATIONS the kernel asked" 'FS_LOCATIONS: *[1-9]' \
	cat /proc/self/mountstats
[ "${HOLD:-0}" = 1 ] && check "the file held open across the move still reads" timeout 20 head -c 100 <&3
echo 0 >/proc/sys/sunrpc/nfs_debug
dmesg | grep -iE "migrat|locations|transport|replace|try_mig|MOVED|error" | head -60 | show
grep -E "FS_LOCATIONS|GETATTR|LOOKUP|OPEN:" /proc/self/mountstats | show
check_out "nfsmigd answered the dns_resolver upcall for server-b" \
	'"name":"server-b".*198\.51\.100\.2' upcalls_log
check_out "nfsmig locations $M names server-b" 'server-b|198\.51\.100\.2' "$NM" locations $M
check_out "nfsmig verify: OK" "^$M: OK" "$NM" verify $M
# LEASE_MOVED's probe (nm_lease) asks server-a with the saved root handle:
# knfsd answers GETFH of the migrated file system NFS4ERR_MOVED (its
# GETATTR of fsid would answer NFS4_OK with the referral fsid).
check_out "the lease probe of server-a's saved root handle: moved, to server-b" \
	"^$M moved: GETFH answered NFS4ERR_MOVED" lease_probe $M 192.0.2.2 "${VERS#4.}"
check_out "the lease probe asks the moved one's fs_locations: server-b:/d" \
	'^  location server-b:/d$' lease_probe $M 192.0.2.2 "${VERS#4.}"
check_out "nfsmig mounts shows the move" 'server-b|198\.51\.100\.2' "$NM" mounts
save "mountinfo.v$VERS.after" /proc/self/mountinfo
save "mountstats.v$VERS.after" /proc/self/mountstats
"$NM" locations $M 2>&1 | show
"$NM" verify $M 2>&1 | show
"$NM" mounts 2>&1 | show
upcalls_log | show
[ "${NFSVM_PACKAGE:-0}" = 1 ] && pkg_remove $M
finish
