#!/bin/bash
# Scenario 8g: nfsmigd killed (SIGKILL) during a migration, then started
# again: the move is recorded exactly once and written exactly once.  The
# daemon is killed the moment the record shows the move (its event not yet
# written: the pending marker), or, when it is quicker than the poll, after.
. ./lib.sh

export EXPORT_OPTS=${EXPORT_OPTS-,insecure}
M=/mnt/m
servers_up || finish
watch_setup ""
daemon_up
mkdir -p $M
check "mount server-a:/d (vers=4.0,migration)" \
	mount -t nfs4 -o vers=4.0,migration,timeo=50,retrans=3 server-a:/d $M || finish
check "nfsmigd registered it" wait_for 5 test -e "$STATE/-mnt-m.state"
setup_done

refer_d
sync
echo 3 >/proc/sys/vm/drop_caches
timeout 60 cat $M/file >/dev/null 2>&1 &
reader=$!
# Killed as soon as the record holds the move.
for ((i = 0; i < 400; i++)); do
	grep -q '^move=' "$STATE/-mnt-m.state" 2>/dev/null && break
	sleep 0.05
done
kill -9 "$(cat "$RUN/nfsmigd.pid")"
if grep -q '^pending=' "$STATE/-mnt-m.state"; then
	note "killed with the record's marker set (the event not yet written)"
else
	note "killed after the marker was cleared (the event was written first)"
fi
wait $reader
check_out "the kernel moved the mount" '^198\.51\.100\.2$' mount_opt $M addr
sleep 1
rm -f /run/nfsmig/nfsmigd.sock
daemon_up
check "the restart finishes the report" wait_for 10 sh -c "grep -q '\"event\":\"migration\"' $STATE/events.log && ! grep -q '^pending=' $STATE/-mnt-m.state"
sleep 2
check_out "the move recorded exactly once" '^1$' grep -c '^move=' "$STATE/-mnt-m.state"
check_out "the move written exactly once" '^1$' grep -c '"event":"migration"' "$STATE/events.log"
grep '"event":"migration"' "$STATE/events.log" | jq -c '{trigger, from, to, record_time}' | show
# Killed before the record, a restart finds it with trigger "rescan": the
# second move (back to server-a) happens with no daemon at all.
kill -9 "$(cat "$RUN/nfsmigd.pid")"
rm -f /run/nfsmig/nfsmigd.sock
exports_edit server-a "s|,refer=/d@server-b||"
note "second half: a move made while no daemon runs (server-b refers back to server-a)"
exports_edit server-b \
	"s|^/srv/d .*|/srv/d *(rw,no_root_squash,no_subtree_check,fsid=1,insecure,refer=/d@server-a)|"
sync
echo 3 >/proc/sys/vm/drop_caches
timeout 60 cat $M/file >/dev/null 2>&1
if [ "$(mount_opt $M addr)" = 192.0.2.2 ]; then
	daemon_up
	check "the restart finds the move back, trigger rescan" wait_for 10 sh -c "grep '\"event\":\"migration\"' $STATE/events.log | grep -q '\"trigger\":\"rescan\"'"
	sleep 2
	check_out "two moves recorded in all" '^2$' grep -c '^move=' "$STATE/-mnt-m.state"
	check_out "two migration events in all" '^2$' grep -c '"event":"migration"' "$STATE/events.log"
else
	note "the kernel did not move back (addr=$(mount_opt $M addr)): second half skipped"
fi
grep -vE '^$' "$RUN/nfsmigd.log" | grep -v 'kernel (' | tail -20 | show
finish
