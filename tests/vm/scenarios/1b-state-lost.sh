#!/bin/bash
# Scenario 1b: a file held open for writing across the move.  knfsd does not
# carry open state to the destination, and the Linux client then retries
# the WRITE forever (NFSv4.0: STALE_STATEID + RENEW; 4.1: BAD_STATEID +
# TEST_STATEID) while the writer hangs.  nfsmig must see it from outside
# (mountstats errors that keep growing) and `verify` must FAIL with "state
# lost after move".  The writer runs in a process of its own, killed with
# SIGKILL at the end; the scenario's deadline guards the rest.
. ./lib.sh

VERS=${VERS:-4.0}
NAME_SUFFIX=${READER:+-reader}
M=/mnt/m
export EXPORT_OPTS=,insecure

servers_up || finish
daemon_up
mount_d "$VERS" $M || finish
setup_done

# Dirty pages go to the server within a tenth of a second.
echo 10 >/proc/sys/vm/dirty_writeback_centisecs
echo 10 >/proc/sys/vm/dirty_expire_centisecs
bash -c 'exec 3>>"$1"; while :; do echo "still writing $(date +%s%N)" >&3; sleep 0.05; done' \
	holder $M/held >/dev/null 2>&1 &
holder=$!
sleep 1
check "the writer's data reaches server-a before the move" test -s /srv/d/held ||
	dmesg | grep -iE 'nfs|grace' | tail -n 20 | show

refer_d
moved_to_b() { [ "$(mount_opt $M addr)" = 198.51.100.2 ]; }
check "the kernel moves the mount to server-b" wait_for 30 moved_to_b
if [ -n "${READER:-}" ]; then
	# Other activity on the mount (a reader and a walker) while the writer
	# loops: it must not hide the loop.
	bash -c 'while :; do cat "$1"/file >/dev/null; find "$1" >/dev/null; done' \
		reader $M >/dev/null 2>&1 &
	reader=$!
fi
sleep 2
# Three samples a second apart, with the client's RPC counters of the
# namespace (/proc/net/rpc/nfs: the renewals of a moved 4.0 mount go
# through the destination's client, which mountstats does not show).
for i in 1 2 3; do
	save "mountstats.state-lost$NAME_SUFFIX.v$VERS.$i" /proc/self/mountstats
	save "rpc-nfs.state-lost$NAME_SUFFIX.v$VERS.$i" /proc/net/rpc/nfs
	[ $i = 3 ] || sleep 1
done
save "mountinfo.state-lost$NAME_SUFFIX.v$VERS" /proc/self/mountinfo
grep proc4 /proc/net/rpc/nfs | show
grep -E '^\s+(WRITE|RENEW|TEST_STATEID|OPEN):' /proc/self/mountstats | show
werr() { grep -E '^\s+WRITE:' /proc/self/mountstats | awk '{print $NF}'; }
e1=$(werr)
sleep 1
e2=$(werr)
note "WRITE errors went from $e1 to $e2 in a second"
if [ "$e2" -gt "$e1" ]; then
	LOOP=1
	pass "the kernel retries the WRITE with a stateid the destination does not know"
elif [ "$VERS" = 4.0 ]; then
	LOOP=0
	fail "the kernel retries the WRITE with a stateid the destination does not know ($e1 -> $e2)"
else
	# NFSv4.1+ may recover (TEST_STATEID, then on): then the data goes on
	# reaching the destination, and verify must not cry wolf.
	LOOP=0
	note "NFSv$VERS: no WRITE loop this time: $(grep -E '^\s+TEST_STATEID:' /proc/self/mountstats)"
	s1=$(stat -c %s /srv/d/held)
	sleep 1
	check "the writer's data goes on reaching the destination" \
		test "$(stat -c %s /srv/d/held)" -gt "$s1"
fi

out=$(timeout 60 "$NM" verify $M 2>&1)
rc=$?
printf '%s\n' "$out" | show
if [ "$LOOP" = 1 ]; then
	[ "$rc" = 1 ] && pass "nfsmig verify exits 1" || fail "nfsmig verify exits 1 (it exited $rc)"
	printf '%s\n' "$out" | grep -qE '^ +state +FAIL +state lost after move' &&
		pass "nfsmig verify: state FAIL, state lost after move" ||
		fail "nfsmig verify: state FAIL, state lost after move"
	check_out "the verdict names the mount as FAIL" "^$M: FAIL" printf '%s\n' "$out"
else
	check_out "nfsmig verify: state OK, as the kernel recovered" '^ +state +OK' \
		printf '%s\n' "$out"
fi

# The writer may stay in the kernel (D state) even after SIGKILL: it is
# left there, and the VM is powered off with it.
[ -z "${reader:-}" ] || kill $reader 2>/dev/null
kill -9 $holder 2>/dev/null
if wait_for 5 bash -c "! kill -0 $holder 2>/dev/null"; then
	note "the writer ended on SIGKILL"
else
	note "the writer still hangs after SIGKILL: $(tr '\0' ' ' </proc/$holder/cmdline 2>/dev/null)" \
		"state $(awk '{print $3}' /proc/$holder/stat 2>/dev/null)"
fi
finish
