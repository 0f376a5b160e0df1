#!/bin/bash
# Scenario 8f: a failed migration.  server-b's export is `secure`, so the
# client's new transport is refused (NFS4ERR_PERM) and the move fails; the
# mount returns EIO until it is remounted.  nfsmigd must write one
# "migration-failed" event, verdict FAIL, naming the mount and saying so;
# no "migration" event.
. ./lib.sh

VERS=${VERS:-4.1}
export EXPORT_OPTS=,insecure
M=/mnt/m
servers_up || finish
watch_setup ""
daemon_up
mkdir -p $M
check "mount server-a:/d (vers=$VERS)" mount -t nfs4 -o "vers=$VERS,timeo=50,retrans=3" server-a:/d $M ||
	finish
check "nfsmigd registered it" wait_for 5 test -e "$STATE/-mnt-m.state"
exports_edit server-b 's|,insecure||'
setup_done

refer_d
sync
echo 3 >/proc/sys/vm/drop_caches
out=$(timeout 60 cat $M/file 2>&1)
check_out "the mount returns EIO after the failed move" 'Input/output error' echo "$out"
check "a \"migration-failed\" event came" \
	wait_for 10 sh -c "grep -q '\"event\":\"migration-failed\"' $STATE/events.log"
sleep 2
ev=$(grep '"event":"migration-failed"' "$STATE/events.log")
printf '%s\n' "$ev" | show
check_out "one event for the mount" '^1$' sh -c "grep -c '\"event\":\"migration-failed\"' $STATE/events.log"
check_out "it names the mount" '^/mnt/m$' jq -r .mountpoint <<<"$ev"
check_out "verdict FAIL" '^FAIL$' jq -r .verify.verdict <<<"$ev"
check_out "it says the mount returns EIO until remounted" 'EIO until it is remounted' jq -r .message <<<"$ev"
note "its trigger: $(jq -r .trigger <<<"$ev")"
check_out "the hook got it, verdict FAIL" '^NFSMIG_VERDICT=FAIL$' cat "$RUN/hook.env"
check_out "no migration event" '^0$' sh -c "grep -c '\"event\":\"migration\"' $STATE/events.log || true"
dmesg | grep -E 'NFS' | tail -n 5 | show
grep -vE '^$' "$RUN/nfsmigd.log" | grep -v 'kernel (' | tail -20 | show
finish
