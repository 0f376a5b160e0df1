#!/bin/bash
# Scenario 1c: errors of stateful operations that are not lost state, on a
# moved mount.  A lock held on server-b's side while a process of the client
# tries it over and over (LOCK answered NFS4ERR_DENIED each time), then a
# destination that is full (WRITE answered NFS4ERR_NOSPC each time): the
# errors grow as fast as the applications ask, the recovery operations do
# not, and `verify` must say state OK, naming what failed.  Scenario 1b is
# the other way round (the kernel's own loop: FAIL).  VERS=4.1 for NFSv4.1.
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

# verify_state WHAT OP NAME: run verify while the loop runs; the state check
# is OK and names OP, and OP's errors grew over and over meanwhile (else the
# test proves nothing).  Samples before and after are saved as
# mountstats.NAME.vVERS.1/2 (fixtures of tests/bats/kernel.bats).
verify_state() {
	local what=$1 op=$2 e1 e2 out
	save "mountstats.$3.v$VERS.1" /proc/self/mountstats
	e1=$(errs "$op")
	out=$(timeout 60 "$NM" verify --state-interval 2 $M 2>&1)
	e2=$(errs "$op")
	save "mountstats.$3.v$VERS.2" /proc/self/mountstats
	printf '%s\n' "$out" | show
	note "$op errors went from $e1 to $e2 while verify ran"
	if [ "$((e2 - e1))" -ge 3 ]; then
		pass "$what: $op fails over and over"
	else
		fail "$what: $op fails over and over ($e1 -> $e2)"
	fi
	check_out "$what: nfsmig verify: state OK, naming $op" "^ +state +OK +$op failed [0-9]+ times" \
		printf '%s\n' "$out"
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
kill $contender $holder 2>/dev/null
wait $contender $holder 2>/dev/null

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
rm -f /srv/d/fill
finish
