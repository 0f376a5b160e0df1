#!/bin/bash
# Scenario ktrace-failed: a migration that fails (server-b's export is
# `secure`: the client's new transport is refused, NFS4ERR_PERM), seen by
# libcore's kernel sources through tests/helpers/ksrc-dump: the kernel log's
# failure text (nm_kmsg) and nfs4_state_mgr_failed (nm_ktrace).  The kernel
# log and the trace page are saved as fixtures (NFSVM_SAVE).
. ./lib.sh
. /nfsvm/job
KD=$NFSMIG_BUILD/tests/helpers/ksrc-dump
M=/mnt/m
T=/sys/kernel/tracing

export EXPORT_OPTS=,insecure
servers_up || finish
daemon_up
mount_d 4.1 $M || finish
exports_edit server-b 's|,insecure||'
mountpoint -q $T || mount -t tracefs nodev $T
setup_done

"$KD" 120 nfsmig-dump >$RUN/kev.log 2>&1 &
kd=$!
wait_for 20 grep -q '^source kmsg' $RUN/kev.log
refer_d
sync
echo 3 >/proc/sys/vm/drop_caches
out=$(timeout 60 cat $M/file 2>&1)
note "reading after the refer= to the secure export: ${out:-nothing}"
check_out "the mount returns EIO after the failed move" 'Input/output error' echo "$out"
sleep 3
kill -TERM $kd
wait $kd
cat $RUN/kev.log | show
mkdir -p "$SAVE/trace"
cp $RUN/kev.log "$SAVE/trace/ksrc-dump.failed.txt"
dmesg >"$SAVE/trace/dmesg.failed"
dmesg | grep -E '^\[.*NFS' | tail -n 5 | show
check_out "ksrc-dump: the kernel log's 'migration recovery failed', naming server-a" \
	'^kmsg MIGRATION_FAILED kmsg host=server-a .*text=NFS: migration recovery failed \(server server-a\)$' \
	cat $RUN/kev.log
check_out "ksrc-dump: the kernel log's 'state manager: migration failed', its error" \
	'^kmsg MIGRATION_FAILED kmsg host=server-a .* error=[1-9][0-9]* seq=[0-9]+ lag=-?[0-9]+ text=NFS: state manager: migration failed on NFSv4 server server-a with error [1-9]' \
	cat $RUN/kev.log
check_out "ksrc-dump: nfs4_state_mgr_failed, section migration" \
	'^tracepoint STATE_MGR_FAIL nfs4_state_mgr_failed host=server-a .* error=-[1-9][0-9]* seq=0 lag=(-?[0-9]{1,3}|1[0-9]{3}) text=migration$' \
	cat $RUN/kev.log
check_out "ksrc-dump: the kernel log's records carry their sequence numbers and times" \
	'^kmsg MIGRATION_FAILED kmsg host=server-a .* seq=[1-9][0-9]* lag=(-?[0-9]{1,3}|1[0-9]{3}) text=NFS: migration recovery failed' \
	cat $RUN/kev.log
check_out "ksrc-dump: nothing malformed" '^ktrace: [0-9]+ records, 0 malformed' cat $RUN/kev.log
finish
