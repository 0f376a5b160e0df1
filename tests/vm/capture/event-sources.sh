#!/bin/bash
# Scenario 7: what this kernel shows of a mount and of a migration, for
# nfsmigd's watcher: the tracefs events of nfs4 and sunrpc (their names,
# and the format files of those the watcher decodes), what a private
# trace instance records during an NFSv4.1 migration, and the sunrpc
# uevents of the mount and of the migration.  Everything goes into the
# results (NOTE lines) and into saved files (NFSVM_SAVE=DIR):
#   trace/KVER/events-nfs4.txt, events-sunrpc.txt   the event names
#   trace/KVER/SYSTEM/EVENT/format                   the format files
#   trace/KVER/migration.trace                       the instance's trace
#   trace/KVER/uevents-mount.txt, uevents-migration.txt
. ./lib.sh

K=$(uname -r)
T=/sys/kernel/tracing
I=$T/instances/nfsvm
OUT=$SAVE/trace/$K
M=/mnt/m
# The events the watcher reads (docs/TESTING.md, issue 10); the format
# files of the first four go to tests/fixtures/trace/KVER.
FORMATS="nfs4/nfs4_state_mgr nfs4/nfs4_xdr_status sunrpc/rpc_clnt_new sunrpc/xprt_create"
ENABLE="$FORMATS nfs4/nfs4_state_mgr_failed sunrpc/rpc_clnt_replace_xprt"
ENABLE="$ENABLE nfs4/nfs4_exchange_id nfs4/nfs4_setclientid nfs4/nfs4_get_fs_locations"
mkdir -p "$OUT"
# knfsd's default `secure` breaks migration (docs/TESTING.md): the move
# must succeed here, so its events are those of a migration that worked.
export EXPORT_OPTS=${EXPORT_OPTS-,insecure}

mountpoint -q $T || mount -t tracefs nodev $T
check "tracefs is mounted at $T" test -d $T/events || finish
for sys in nfs4 sunrpc; do
	ls $T/events/$sys 2>/dev/null | grep -vxE 'enable|filter' >"$OUT/events-$sys.txt"
	note "$K: events/$sys has $(wc -l <"$OUT/events-$sys.txt") events (all of them saved in trace/$K/events-$sys.txt)"
done
for e in $ENABLE; do
	[ -e "$T/events/$e" ] && note "$K has $e" || note "$K has no $e"
done
for e in $FORMATS; do
	mkdir -p "$OUT/$e"
	check "$K has the event $e (its format file)" cp $T/events/$e/format "$OUT/$e/format"
done

# A private instance, as nfsmigd's: the global buffer stays untouched.
check "a private trace instance" mkdir $I || finish
for e in $ENABLE; do
	[ -e "$I/events/$e/enable" ] && echo 1 >"$I/events/$e/enable"
done
echo 1 >$I/tracing_on

python3 ./uevents.py sunrpc >"$RUN/uevents" 2>&1 &
ue=$!
wait_for 10 grep -q listening "$RUN/uevents" || fail "the uevent listener did not start"

servers_up || finish
daemon_up
mount_d 4.1 $M || finish
sleep 0.5
grep -v '^listening' "$RUN/uevents" >"$OUT/uevents-mount.txt"
n=$(wc -l <"$OUT/uevents-mount.txt")
note "$K: the mount gave $n sunrpc uevents: $(cut -d' ' -f1,2 "$OUT/uevents-mount.txt" | tr '\n' ';')"
check "the mount gave sunrpc uevents (add of an RPC client or transport switch)" \
	grep -qE '^add /kernel/sunrpc/(rpc-clients|xprt-switches)/' "$OUT/uevents-mount.txt"
ln=$(wc -l <"$RUN/uevents")
: >$I/trace
setup_done

refer_d
sync
echo 3 >/proc/sys/vm/drop_caches
check "the mount still reads after the move" timeout 60 cat $M/file
check_out "the kernel now talks to server-b (addr=)" '^198\.51\.100\.2$' mount_opt $M addr
sleep 0.5
tail -n +$((ln + 1)) "$RUN/uevents" >"$OUT/uevents-migration.txt"
note "$K: the migration gave $(wc -l <"$OUT/uevents-migration.txt") sunrpc uevents: $(cut -d' ' -f1,2 "$OUT/uevents-migration.txt" | tr '\n' ';')"
check "the migration gave sunrpc uevents" grep -qE '^(add|remove) /kernel/sunrpc/' \
	"$OUT/uevents-migration.txt"
echo 0 >$I/tracing_on
cat $I/trace >"$OUT/migration.trace"
grep -v '^#' "$OUT/migration.trace" | sed -E 's/^ *[^ ]+ +\[[0-9]+\] [^ ]+ +[0-9.]+: //' |
	head -n 40 | while IFS= read -r l; do note "$K trace: $l"; done
check "the trace instance saw nfs4_xdr_status with NFS4ERR_MOVED" \
	grep -qE 'nfs4_xdr_status: .*error=-10019 \(MOVED\)' "$OUT/migration.trace"
check "the trace instance saw nfs4_state_mgr with the MOVED flag" \
	grep -qE 'nfs4_state_mgr: .*MOVED' "$OUT/migration.trace"
check "the trace instance saw rpc_clnt_new for server-b" \
	grep -qE 'rpc_clnt_new: .*198\.51\.100\.2.*server=server-b' "$OUT/migration.trace"
check "the trace instance saw xprt_create for server-b" \
	grep -qE 'xprt_create: .*198\.51\.100\.2' "$OUT/migration.trace"
check "the global trace buffer stayed empty" bash -c "! grep -qv '^#' $T/trace"
kill "$ue" 2>/dev/null
rmdir $I 2>/dev/null || note "the trace instance could not be removed (busy)"
finish
