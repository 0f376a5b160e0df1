#!/bin/bash
# Scenario ktrace-capture: the trace events nfsmigd reads, as this kernel
# defines and writes them.  A private tracefs instance with the events of
# libcore/nm_ktrace.c enabled watches a 4.1 migration; the events' format
# files and the raw per-CPU ring-buffer pages are saved (NFSVM_SAVE) as the
# fixtures of tests/fixtures/trace/, with the instance's text as a witness.
# tests/helpers/ksrc-dump reads the three sources of libcore meanwhile
# (its own instance, the uevents, /dev/kmsg), as nfsmigd's watcher will.
. ./lib.sh
. /nfsvm/job # NFSMIG_BUILD: the build tree, where ksrc-dump is
KD=$NFSMIG_BUILD/tests/helpers/ksrc-dump

export EXPORT_OPTS=${EXPORT_OPTS-,insecure}
M=/mnt/m
T=/sys/kernel/tracing
EVENTS="nfs4/nfs4_xdr_status nfs4/nfs4_state_mgr nfs4/nfs4_state_mgr_failed
sunrpc/rpc_clnt_new sunrpc/xprt_create sunrpc/rpc_clnt_replace_xprt"

servers_up || finish
daemon_up
mount_d 4.1 $M || finish
mountpoint -q $T || mount -t tracefs nodev $T
check "tracefs is mounted with instances" test -d $T/instances || finish
I=$T/instances/capture
mkdir $I
[ -e $I/buffer_percent ] && echo 0 >$I/buffer_percent
mkdir -p "$SAVE/trace/format"
uname -r >"$SAVE/trace/kernel"
cp $T/events/header_page "$SAVE/trace/header_page"
for e in $EVENTS; do
	if [ -e $I/events/$e/enable ]; then
		echo 1 >$I/events/$e/enable
		cp $T/events/$e/format "$SAVE/trace/format/${e%%/*}.${e##*/}"
	else
		note "this kernel has no event $e"
	fi
done
setup_done

"$KD" 90 nfsmig-dump >$RUN/kev.log 2>&1 &
kd=$!
wait_for 20 grep -q '^source kmsg' $RUN/kev.log
check_out "ksrc-dump: the tracefs source enabled the events" \
	'^source ktrace: enabled nfs4/nfs4_xdr_status nfs4/nfs4_state_mgr nfs4/nfs4_state_mgr_failed sunrpc/rpc_clnt_new sunrpc/xprt_create sunrpc/rpc_clnt_replace_xprt; missing none$' \
	grep '^source ktrace' $RUN/kev.log
check "ksrc-dump: its instance exists" test -d $T/instances/nfsmig-dump
check_out "ksrc-dump: its instance keeps only MOVED and LEASE_MOVED of nfs4_xdr_status" \
	'^error==10019 \|\| error==10031$' cat $T/instances/nfsmig-dump/events/nfs4/nfs4_xdr_status/filter
check_out "ksrc-dump: its instance's trace clock is boot" '\[boot\]' \
	cat $T/instances/nfsmig-dump/trace_clock

refer_d
sync
echo 3 >/proc/sys/vm/drop_caches
check "the mount still reads after the move" timeout 60 cat $M/file
sleep 1
kill -TERM $kd
wait $kd
cat $RUN/kev.log | show
cp $RUN/kev.log "$SAVE/trace/ksrc-dump.migration.txt"
check_out "ksrc-dump: NFS4ERR_MOVED from nfs4_xdr_status" \
	'^tracepoint MOVED nfs4_xdr_status .*error=-10019 ' cat $RUN/kev.log
check_out "ksrc-dump: MOVED carries the time the kernel wrote it (lag under 2 s)" \
	'^tracepoint MOVED nfs4_xdr_status .* lag=(-?[0-9]{1,3}|1[0-9]{3}) ' cat $RUN/kev.log
check_out "ksrc-dump: the state manager's MOVED for server-a" \
	'^tracepoint STATE_MGR nfs4_state_mgr host=server-a .*flags=MOVED,' cat $RUN/kev.log
check_out "ksrc-dump: the new client for server-b, by address" \
	'^tracepoint CLNT_NEW rpc_clnt_new host=server-b peer=198\.51\.100\.2 port=2049 ' \
	cat $RUN/kev.log
check_out "ksrc-dump: the transport replaced" '^tracepoint XPRT_REPLACE rpc_clnt_replace_xprt ' \
	cat $RUN/kev.log
check_out "ksrc-dump: sunrpc uevents of the move" \
	'^uevent XPRT_SWITCH add (xprt-switches|rpc-clients) ' cat $RUN/kev.log
check_out "ksrc-dump: no malformed record" '^ktrace: [1-9][0-9]* records, 0 malformed' \
	cat $RUN/kev.log
check "ksrc-dump: its instance is gone after it ended" test ! -e $T/instances/nfsmig-dump
cp $I/trace "$SAVE/trace/trace.txt"
check_out "the instance saw NFS4ERR_MOVED" 'nfs4_xdr_status: .*MOVED' cat "$SAVE/trace/trace.txt"
check_out "the instance saw the state manager's MOVED" 'nfs4_state_mgr: .*MOVED' cat "$SAVE/trace/trace.txt"
grep -E 'nfs4_|rpc_|xprt_' "$SAVE/trace/trace.txt" | head -40 | show
echo 0 >$I/tracing_on
for c in $I/per_cpu/cpu*; do
	timeout 3 cat $c/trace_pipe_raw >"$SAVE/trace/raw.${c##*/}" || true
done
ls -l "$SAVE/trace" | show
rmdir $I
check "the instance is gone" test ! -e $I
finish
