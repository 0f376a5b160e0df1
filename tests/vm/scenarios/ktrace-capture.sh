#!/bin/bash
# Scenario ktrace-capture: the trace events nfsmigd reads, as this kernel
# defines and writes them.  A private tracefs instance with the events of
# libcore/nm_ktrace.c enabled watches a 4.1 migration; the events' format
# files and the raw per-CPU ring-buffer pages are saved (NFSVM_SAVE) as the
# fixtures of tests/fixtures/trace/, with the instance's text as a witness.
. ./lib.sh

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

refer_d
sync
echo 3 >/proc/sys/vm/drop_caches
check "the mount still reads after the move" timeout 60 cat $M/file
sleep 1
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
