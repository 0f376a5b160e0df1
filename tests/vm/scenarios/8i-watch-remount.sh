#!/bin/bash
# Scenario 8i: after a migration the mount is unmounted and mounted again
# from the old server (what the EIO advice asks for, with fstab still
# naming it).  That is a new mount of the mount point, not a migration:
# nfsmigd registers it again (a "mount" event, the move kept in the
# record) and writes no second "migration" event.  The mount IDs and
# devices the kernel gave the two mounts are shown (mountinfo's identity).
. ./lib.sh

export NMD_OPTS=${NMD_OPTS--v}
export EXPORT_OPTS=${EXPORT_OPTS-,insecure}
M=/mnt/m
ident() { awk -v m=$M '$5 == m { print $1, $3 }' /proc/self/mountinfo; }

servers_up || finish
watch_setup ""
daemon_up
mkdir -p $M
check "mount server-a:/d (vers=4.0,migration)" \
	mount -t nfs4 -o vers=4.0,migration,timeo=50,retrans=3 server-a:/d $M || finish
check "nfsmigd registered the new mount" wait_for 5 test -e "$STATE/-mnt-m.state"
check_out "the record says which mount it is" '^mount_id=' cat "$STATE/-mnt-m.state"
first=$(ident)
setup_done

refer_d
sync
echo 3 >/proc/sys/vm/drop_caches
check "the mount still reads after the move" timeout 60 cat $M/file
check "a \"migration\" event came" wait_for 20 sh -c "grep -q '\"event\":\"migration\"' $STATE/events.log"
check_out "the same mount after the move (mount ID and device: $first)" "^$first\$" ident
grep '^mount_id=' "$STATE/-mnt-m.state" | show
# Some seconds later (mountstats' age is whole seconds) the admin
# remounts from the old server, which serves /d again.
sleep 4
exports_edit server-a "s|,refer=/d@server-b||"
check "umount" umount $M
check "mount server-a:/d again" \
	mount -t nfs4 -o vers=4.0,migration,timeo=50,retrans=3 server-a:/d $M || finish
second=$(ident)
note "mount ID and device: $first before, $second after the remount"
check_out "the new mount goes to server-a" 'addr=192\.0\.2\.2' findmnt -n -o OPTIONS --mountpoint $M
check "a second \"mount\" event came (registered again)" \
	wait_for 20 sh -c "[ \"\$(grep -c '\"event\":\"mount\"' $STATE/events.log)\" = 2 ]"
sleep 2
events_of $M | show
check_out "still exactly one migration event" '^1$' sh -c "grep -c '\"event\":\"migration\"' $STATE/events.log"
check_out "the record keeps its one move" '^1$' grep -c '^move=' "$STATE/-mnt-m.state"
check_out "the record's server is server-a again" '^cur_server=192\.0\.2\.2$' cat "$STATE/-mnt-m.state"
grep '^mount_id=' "$STATE/-mnt-m.state" | show
grep -vE '^$' "$RUN/nfsmigd.log" | grep -v 'kernel (' | tail -20 | show
finish
