#!/bin/bash
# Scenario 7: the metadata after a real NFSv4.1 migration (scenario 2's
# move): libmount's utab names the current server (findmnt --mtab, mount),
# a regular-file mtab is rewritten, `nfsmig fstab` finds the fstab and
# autofs lines of the old server and --apply rewrites them, and the
# unmount (umount.nfs, through libmount) takes the utab entry away.
. ./lib.sh

export EXPORT_OPTS=${EXPORT_OPTS-,insecure}
M=/mnt/m
U=${NFSMIG_BUILD:-}/tests/helpers/utabset
R=$RUN/root

servers_up || finish
daemon_up
mount_d 4.1 $M || finish
[ -x "$U" ] || { fail "no $U (NFSMIG_BUILD not a build tree with its check programs)"; finish; }
mkdir -p $R/etc
cat >$R/etc/fstab <<FSTAB
# static file system information
server-a:/d $M nfs4 vers=4.1,_netdev 0 0
192.0.2.2:/d/sub /mnt/sub nfs4 vers=4.1 0 0
server-a:/r /mnt/r nfs4 vers=4.1 0 0
FSTAB
printf '/- /etc/auto.direct\n' >$R/etc/auto.master
printf '/mnt/auto -fstype=nfs4 server-a:/d\n' >$R/etc/auto.direct
check_out "before the move: nfsmig fstab has nothing to change" \
	'^no fstab or autofs map line names an old server$' "$NM" fstab --root $R
setup_done

refer_d
sync
echo 3 >/proc/sys/vm/drop_caches
check "the mount still reads after the move" timeout 60 cat $M/file
check_out "the kernel now talks to server-b (addr=)" '^198\.51\.100\.2$' mount_opt $M addr
new=$(mount_opt $M addr)

# fstab and the autofs map: listed (exit 3), then rewritten.
out=$("$NM" fstab --root $R 2>&1)
rc=$?
printf '%s\n' "$out" | show
if [ $rc = 3 ] && grep -qE '^    \+ (server-b|198\.51\.100\.2):/d /mnt/m nfs4 vers=4\.1,_netdev 0 0$' <<<"$out" &&
	grep -qE '^    \+ (server-b|198\.51\.100\.2):/d/sub /mnt/sub ' <<<"$out" &&
	grep -qE '^    \+ /mnt/auto -fstype=nfs4 (server-b|198\.51\.100\.2):/d$' <<<"$out" &&
	! grep -q '/mnt/r' <<<"$out"; then
	pass "nfsmig fstab lists the two fstab lines and the map line of server-a:/d (exit 3)"
else
	fail "nfsmig fstab lists the two fstab lines and the map line of server-a:/d (exit 3; it exited $rc)"
fi
check_out "nfsmig fstab --apply rewrites them, keeping a backup" \
	'^rewrote /etc/fstab \(2 lines\), the original kept as /etc/fstab\.nfsmig-' \
	"$NM" fstab --root $R --apply
check_out "the new fstab mounts /mnt/m from the new server" \
	"^(server-b|198\.51\.100\.2):/d $M nfs4 vers=4\.1,_netdev 0 0$" cat $R/etc/fstab
check_out "the old server's other export stays" '^server-a:/r /mnt/r ' cat $R/etc/fstab
check "the backup is the fstab as it was" grep -qx "server-a:/d $M nfs4 vers=4.1,_netdev 0 0" \
	$R/etc/fstab.nfsmig-*

# utab: findmnt's mtab view and mount(8) show the current server.
check "nm_utab_set_moved $M $new (from 192.0.2.2)" "$U" $M "$new" 192.0.2.2
check_out "findmnt --mtab shows x-nfsmig.server=$new" \
	"^$M +server-a:/d +.*,x-nfsmig\.server=$new,x-nfsmig\.from=192\.0\.2\.2$" \
	findmnt --mtab -n -o TARGET,SOURCE,OPTIONS $M
check_out "mount(8) lists it too" "^server-a:/d on $M type nfs4 \(.*x-nfsmig\.server=$new" \
	sh -c "mount | grep -F ' on $M '"
check_out "the kernel's view still names server-a (mountinfo cannot change)" '^server-a:/d$' \
	mount_source $M
findmnt --mtab -o TARGET,SOURCE,OPTIONS $M 2>&1 | show
cat /run/mount/utab | show

# A regular-file mtab (a copy of /proc/mounts) gets the new server.
cp /proc/self/mounts $RUN/mtab
check "nm_mtab_update on a regular-file mtab" "$U" -m $RUN/mtab $M "$new"
check_out "the mtab line names $new, the export path kept" "^$new:/d $M nfs4 " cat $RUN/mtab
ln -s /proc/self/mounts $RUN/mtab-link
out=$("$U" -m $RUN/mtab-link $M "$new" 2>&1)
if [ $? = 3 ] && [ -L $RUN/mtab-link ]; then pass "a symbolic link mtab is left alone"; else
	fail "a symbolic link mtab is left alone"; printf '%s\n' "$out" | show; fi

# The unmount (umount.nfs, through libmount) takes the utab entry away.
check "umount $M" umount $M
if grep -qF "TARGET=$M " /run/mount/utab 2>/dev/null; then
	fail "umount removed the utab entry"
	cat /run/mount/utab | show
else
	pass "umount removed the utab entry"
fi
finish
