#!/bin/bash
# Scenario 1c: errors of stateful operations that are not lost state, on a
# moved mount.  A lock held on server-b's side while processes of the client
# ask for it (lockf and flock polled, a blocking waiter: LOCK answered
# NFS4ERR_DENIED), then a destination that is full (WRITE answered
# NFS4ERR_NOSPC: with fsync, with O_DIRECT, by writeback with no fsync).
# The kernel runs no recovery with them, and `verify` must never say state
# lost: OK, or WARN when the errors go on (a full disk and a lost stateid
# look alike in the counters), naming what failed.  Scenario 1b is the
# other way round (the kernel's own loop: FAIL).  VERS=4.1 for NFSv4.1.
. ./lib.sh

VERS=${VERS:-4.0}
M=/mnt/m
export EXPORT_OPTS=,insecure

# lib.sh's check_out fails a command that fails, whatever it prints.
if (check_out "self-test" '^x$' sh -c 'echo x; exit 1') | grep -q '^FAIL - self-test'; then
	pass "check_out fails a command that fails, though its output matches"
else
	fail "check_out fails a command that fails, though its output matches"
fi
if (check_out "self-test" '^x$' sh -c 'echo x') | grep -q '^PASS - self-test'; then
	pass "check_out passes a command that succeeds with the output asked"
else
	fail "check_out passes a command that succeeds with the output asked"
fi

servers_up || finish
daemon_up
mount_d "$VERS" $M || finish
setup_done

refer_d
# The client asks the server again only for what it has not cached.
sync
echo 3 >/proc/sys/vm/drop_caches
check "the mount still reads after the move" timeout 60 cat $M/file
check_out "the kernel now talks to server-b (addr=)" '^198\.51\.100\.2$' mount_opt $M addr

# errs OP: the errors of OP in this mount's mountstats.
errs() {
	awk -v m="$M" -v op="$1:" '$1 == "device" { on = ($5 == m) }
		on && $1 == op { print $NF; exit }' /proc/self/mountstats
}

# verify_state WHAT OP NAME [MIN]: run verify while the pattern runs; the
# state check is OK or WARN, never FAIL, and names OP when it failed; OP's
# errors grew at least MIN times (3 if not given) meanwhile (else the test
# proves nothing).  Samples before and after are saved as
# mountstats.NAME.vVERS.1/2 and rpc-nfs.NAME.vVERS.1/2 (fixtures of
# tests/bats/kernel.bats and tests/unit/test_mstats.c).
verify_state() {
	local what=$1 op=$2 min=${4:-3} e1 e2 out
	save "mountstats.$3.v$VERS.1" /proc/self/mountstats
	save "rpc-nfs.$3.v$VERS.1" /proc/net/rpc/nfs
	e1=$(errs "$op")
	out=$(timeout 60 "$NM" verify --state-interval 2 $M 2>&1)
	e2=$(errs "$op")
	save "mountstats.$3.v$VERS.2" /proc/self/mountstats
	save "rpc-nfs.$3.v$VERS.2" /proc/net/rpc/nfs
	printf '%s\n' "$out" | show
	note "$op errors went from $e1 to $e2 while verify ran"
	if [ "$((e2 - e1))" -ge "$min" ]; then
		pass "$what: $op fails ($((e2 - e1)) times, at least $min)"
	else
		fail "$what: $op fails ($e1 -> $e2, at least $min)"
	fi
	if [ "$e2" -gt "$e1" ]; then
		check_out "$what: nfsmig verify: state OK or WARN, naming $op" \
			"^ +state +(OK +$op failed [0-9]+ times|WARN +stateful operations failed [0-9]+ times .*$op \+[0-9]+)" \
			printf '%s\n' "$out"
	else
		check_out "$what: nfsmig verify: state OK" "^ +state +OK " printf '%s\n' "$out"
	fi
	if printf '%s\n' "$out" | grep -qE '^ +state +FAIL'; then
		fail "$what: not read as state lost"
	else
		pass "$what: not read as state lost"
	fi
}

# 1. A lock denied over and over.  The holder takes a POSIX lock on the
# exported file system itself (knfsd's locks are POSIX locks of the same
# kernel), so each LOCK of the client is answered NFS4ERR_DENIED: two
# processes of the client would conflict in the client, which sends nothing.
echo lock >$M/lockfile
python3 -c '
import fcntl, sys, time
f = open(sys.argv[1], "r+")
fcntl.lockf(f, fcntl.LOCK_EX)
open(sys.argv[2], "w").close()
time.sleep(600)
' /srv/d/lockfile "$RUN/locked" &
holder=$!
check "a process of server-b's side holds a lock on the file" wait_for 10 test -e "$RUN/locked"
python3 -c '
import fcntl, sys, time
f = open(sys.argv[1], "r+")
denied = 0
end = time.time() + 120
while time.time() < end:
    try:
        fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        print("got the lock", flush=True)
        fcntl.lockf(f, fcntl.LOCK_UN)
    except OSError:
        denied += 1
    time.sleep(0.01)
' $M/lockfile >"$RUN/contender.log" 2>&1 &
contender=$!
sleep 1
verify_state "a lock denied over and over" LOCK lock-denied
check "the lock was never granted" bash -c "! grep -q 'got the lock' $RUN/contender.log"
kill $contender 2>/dev/null
wait $contender 2>/dev/null

# flock(LOCK_EX|LOCK_NB) polled: the client sends it as a whole-file LOCK,
# and the kernel counts no VFS lock call for it.
python3 -c '
import fcntl, sys, time
f = open(sys.argv[1], "r+")
end = time.time() + 120
while time.time() < end:
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        print("got the lock", flush=True)
        fcntl.flock(f, fcntl.LOCK_UN)
    except OSError:
        pass
    time.sleep(0.01)
' $M/lockfile >"$RUN/flocker.log" 2>&1 &
contender=$!
sleep 1
verify_state "flock -n polled" LOCK flock-denied
check "the flock was never granted" bash -c "! grep -q 'got the lock' $RUN/flocker.log"
kill $contender 2>/dev/null
wait $contender 2>/dev/null

# A blocking waiter: the client itself asks again (4.0: after 1, 2, 4... s;
# 4.1: every 30 s), each a denied LOCK counted as one VFS lock call at most.
python3 -c '
import fcntl, sys
f = open(sys.argv[1], "r+")
fcntl.lockf(f, fcntl.LOCK_EX)
print("got the lock", flush=True)
' $M/lockfile >"$RUN/waiter.log" 2>&1 &
waiter=$!
sleep 1
# 4.1 asks again every 30 s: the window may see no LOCK at all (then OK).
[ "$VERS" = 4.0 ] && min=1 || min=0
verify_state "a blocking lock waiter" LOCK lock-waiter $min
check "the waiter still waits" bash -c "! grep -q 'got the lock' $RUN/waiter.log"
kill $waiter $holder 2>/dev/null
wait $waiter $holder 2>/dev/null

# 2. Writes failing with ENOSPC: the destination's export filled up.
dd if=/dev/zero of=/srv/d/fill bs=1M >/dev/null 2>&1
check "server-b's /srv/d is full" test "$(df --output=avail -k /srv/d | tail -n 1)" -lt 64
python3 -c '
import os, sys, time
end = time.time() + 120
while time.time() < end:
    try:
        fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        os.write(fd, b"x" * 65536)
        os.fsync(fd)
        os.close(fd)
        print("written", flush=True)
    except OSError as e:
        print(e.strerror, flush=True)
        try:
            os.close(fd)
        except OSError:
            pass
    time.sleep(0.01)
' $M/nospace >"$RUN/writer.log" 2>&1 &
writer=$!
sleep 1
verify_state "writes failing with ENOSPC" WRITE nospace
check_out "the writer is told ENOSPC" 'No space left on device' cat "$RUN/writer.log"
kill $writer 2>/dev/null
wait $writer 2>/dev/null

# O_DIRECT: no page cache, and the kernel counts no VFS write for it.
python3 -c '
import mmap, os, sys, time
buf = mmap.mmap(-1, 65536)
buf.write(b"x" * 65536)
end = time.time() + 120
while time.time() < end:
    try:
        fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_DIRECT)
        os.lseek(fd, 0, os.SEEK_END)
        os.write(fd, buf)
        os.close(fd)
        print("written", flush=True)
    except OSError as e:
        print(e.strerror, flush=True)
        try:
            os.close(fd)
        except OSError:
            pass
    time.sleep(0.01)
' $M/nospace-direct >"$RUN/direct.log" 2>&1 &
writer=$!
sleep 1
verify_state "O_DIRECT writes failing with ENOSPC" WRITE nospace-direct
check_out "the O_DIRECT writer is told ENOSPC" 'No space left on device' cat "$RUN/direct.log"
kill $writer 2>/dev/null
wait $writer 2>/dev/null

# Writeback with no fsync: pages dirtied now fail later, at the kernel's
# pace, not at the application's calls.
echo 10 >/proc/sys/vm/dirty_writeback_centisecs
echo 10 >/proc/sys/vm/dirty_expire_centisecs
python3 -c '
import os, sys, time
end = time.time() + 120
while time.time() < end:
    try:
        with open(sys.argv[1], "ab") as f:
            f.write(b"x" * 65536)
    except OSError as e:
        print(e.strerror, flush=True)
    time.sleep(0.05)
' $M/nospace-writeback >"$RUN/writeback.log" 2>&1 &
writer=$!
sleep 1
verify_state "writeback failing with ENOSPC, no fsync" WRITE nospace-writeback 1
kill $writer 2>/dev/null
wait $writer 2>/dev/null
rm -f /srv/d/fill
finish
