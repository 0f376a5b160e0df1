#!/bin/bash
# Scenario 4: a bad cutover.  server-b exports a different file system (its
# own tmpfs, the same files copied) under the same path and fsid; server-a
# refers the client there.  `nfsmig verify --to server-b` must FAIL, saying
# why: the root file handle saved at registration is valid there (it names
# only the export, by its fsid), but the saved handle of an entry is STALE.
# nfsmigd, watching, records the move the kernel made (the record follows
# the kernel) and its event carries verify's FAIL.
. ./lib.sh

M=/mnt/m
export EXPORT_OPTS=,insecure
servers_up || finish
daemon_up
srv server-b bash -c 'mkdir -p /tmp/copy && cp -a /srv/d/. /tmp/copy/ &&
	mount -t tmpfs -o size=32m other /srv/d && cp -a /tmp/copy/. /srv/d/'
reexport server-b
check_out "server-b's /srv/d is a file system of its own" '^other$' \
	srv server-b findmnt -n -o SOURCE --mountpoint /srv/d
mount_d 4.1 $M || finish
setup_done

refer_d
sync
echo 3 >/proc/sys/vm/drop_caches
out=$(timeout 60 cat $M/file 2>&1)
note "reading after the refer= to the wrong file system: ${out:-nothing}"
note "the kernel's server is now $(mount_opt $M addr)"
dmesg | grep -iE 'migrat|stale' | tail -n 5 | show

out=$(timeout 60 "$NM" verify --to server-b $M 2>&1)
rc=$?
printf '%s\n' "$out" | show
[ "$rc" = 1 ] && pass "nfsmig verify --to server-b exits 1" ||
	fail "nfsmig verify --to server-b exits 1 (it exited $rc)"
check_out "the verdict is FAIL" "^$M: FAIL" printf '%s\n' "$out"
check_out "the reason: the saved entry's handle is not valid on the destination" \
	"same_fs +FAIL +the handle of '[^']+' saved at registration is NFS4ERR_STALE here \\(the root's is valid" \
	printf '%s\n' "$out"
# verify records a move only on a same file system; the watcher records
# what the kernel did, and says it failed.
check "a migration event came" wait_for 10 sh -c "grep -q '\"event\":\"migration\"' $STATE/events.log"
ev=$(grep '"event":"migration"' "$STATE/events.log")
check_out "nfsmigd's event: verify FAIL" '^FAIL$' jq -r .verify.verdict <<<"$ev"
check_out "nfsmigd's event: same_fs FAIL, the entry's handle STALE" '^FAIL .*NFS4ERR_STALE' \
	jq -r '.verify.checks[] | select(.check == "same_fs") | "\(.verdict) \(.reason)"' <<<"$ev"
check_out "the record shows the kernel's move, by nfsmigd" '^moved: .* -> 198\.51\.100\.2 by ' \
	"$NM" show $M
finish
