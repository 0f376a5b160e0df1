#!/bin/bash
# Scenario 8e: a referral, seen by nfsmigd: server-a exports /srv/r with
# refer=/r@server-b; stepping into r makes the kernel mount server-b:/r
# below server-a's root.  The daemon must register the submount by itself
# and write one "referral" event (from server-a to server-b).
. ./lib.sh

export EXPORT_OPTS=${EXPORT_OPTS-,insecure}
M=/mnt/a
servers_up || finish
watch_setup ""
daemon_up
exports_edit server-a \
	's|^/srv/r .*|/srv/r *(rw,no_root_squash,no_subtree_check,fsid=2,insecure,refer=/r@server-b)|'
mkdir -p $M
check "mount server-a:/ (vers=4.1)" mount -t nfs4 -o vers=4.1,timeo=50,retrans=3 server-a:/ $M ||
	finish
check "nfsmigd registered $M by itself" wait_for 5 test -e "$STATE/-mnt-a.state"
setup_done

check_out "stepping into the referral reads server-b's file" '^inside the referral$' \
	timeout 60 cat $M/r/file
check_out "the kernel made a submount of server-b:/r" '^server-b:/r$' mount_source $M/r
check "a \"referral\" event came" wait_for 10 sh -c "grep -q '\"event\":\"referral\"' $STATE/events.log"
sleep 1
ev=$(grep '"event":"referral"' "$STATE/events.log")
printf '%s\n' "$ev" | show
check_out "exactly one referral event" '^1$' sh -c "grep -c '\"event\":\"referral\"' $STATE/events.log"
check_out "it names the submount, server-a to server-b" '^/mnt/a/r 192\.0\.2\.2 198\.51\.100\.2 ' \
	jq -r '"\(.mountpoint) \(.from) \(.to) \(.trigger)"' <<<"$ev"
note "the referral's trigger: $(jq -r .trigger <<<"$ev")"
check "the submount is registered by the daemon" test -e "$STATE/-mnt-a-r.state"
check_out "nfsmig show $M/r: its record" '^server at registration: 198\.51\.100\.2$' "$NM" show $M/r
check_out "no migration event for either" '^0$' sh -c "grep -c '\"event\":\"migration\"' $STATE/events.log || true"
check_out "nfsmig mounts: the submount is a referral" "^$M/r +server-b:/r .*referral *\$" "$NM" mounts
"$NM" mounts 2>&1 | show
grep -vE '^$' "$RUN/nfsmigd.log" | grep -v 'kernel (' | tail -20 | show
finish
