#!/bin/bash
# Scenario 10: nfsmig migrate (and the sysfs transport move under it,
# once scenario 5).  server-a answers on two addresses (192.0.2.2 and .3);
# a 4.1 mount of /d with a writer running and files held open, and a 4.0
# mount of /r, both at 192.0.2.2 and registered.
# - the checks pass for .3 (4.1: EXCHANGE_ID's server owner and scope; 4.0:
#   RFC 7931's SETCLIENTID on both) and --dry-run moves nothing;
# - server-b (another server, the same file handles) is refused, for both
#   versions, the two at once (an address nobody answers on, exit 3, is
#   tests/bats/migrate.bats');
# - the move: the transport's sysfs dstaddr and addr= change, server-a sees
#   the client on .3, the mount reads past a dropped cache, a new file and
#   the writer's lines reach the server, the held files lock and write
#   through their open state (the same server's), the record has exactly
#   one move and the event log has it;
# - the move back: .2 stops answering right after the checks (the test
#   pause of NFSMIG_TEST_MIGRATE_PAUSE, then an unreachable route to it on
#   the client: a fast error, a short reconnect back-off): migrate writes
#   the old address back and says so.
# 6.12 links each mount (/sys/fs/nfs/MAJ:MIN/nfs_client): only its own
# transports move, the 4.0 mount then by its own migrate (RFC 7931's
# checks).  6.1 has no per-mount link and its mountstats says local port 0,
# so migrate cannot pin the mount's transport by xprt_info's src_port=:
# every transport to 192.0.2.2 port 2049 moves, with a warning, and the
# 4.0 mount that moved along is checked, recorded and has its event.
. ./lib.sh

M=/mnt/m
R=/mnt/r
P=$RUN/migrate-pause
servers_up || finish
mkdir -p $M $R
check "mount 192.0.2.2:/d (vers=4.1)" \
	mount -t nfs4 -o vers=4.1,timeo=50,retrans=3 192.0.2.2:/d $M || finish
check "mount 192.0.2.2:/r (vers=4.0)" \
	mount -t nfs4 -o vers=4.0,timeo=50,retrans=3 192.0.2.2:/r $R || finish
register_it $M || finish
register_it $R || finish
setup_done
t0=$SECONDS

# A writer appending a line every 0.1 s (each append closed: flushed to
# the server; its count kept locally, so no check reads the mount without
# a deadline), and a file held open for reading and one for writing, on
# the 4.1 mount.
echo 0 >$RUN/count
(i=0; while :; do echo "line $i" >>$M/log && echo $i >$RUN/count; i=$((i + 1)); sleep 0.1; done) &
writer=$!
written() { cat $RUN/count; }
past() { test "$(written)" -gt "$1"; }
# writer_on WHAT: the writer wrote 5 more lines within 20 s.
writer_on() {
	local before
	before=$(written)
	if wait_for 20 past $((before + 5)); then
		pass "$1 ($before lines before, $(written) now)"
	else
		fail "$1 (stuck at $before lines)"
		{ echo "wchan: $(cat /proc/$writer/wchan 2>&1)"; cat /proc/$writer/stack 2>&1; } | show
	fi
}
exec 7<$M/numbers 8>>$M/held
read -r first <&7
check "the held file reads before the move (line 1 is $first)" test "$first" = 1

# mig EXPECTED-EXIT WHAT ARGS...: nfsmig migrate ARGS exits EXPECTED-EXIT.
mig() {
	local want=$1 what=$2 out rc=0
	shift 2
	out=$(timeout 120 "$NM" migrate "$@" 2>&1) || rc=$?
	if [ "$rc" = "$want" ]; then
		pass "$what (exit $rc)"
	else
		fail "$what (exit $rc, wanted $want)"
	fi
	printf '%s\n' "$out" | show
	LAST=$out
}

mig 0 "4.1: --dry-run to 192.0.2.3 passes" --dry-run -t 10 $M --to 192.0.2.3
check_out "4.1: the same server by EXCHANGE_ID" 'same_server +OK .*server_owner major ID, server_scope and the client ID equal' \
	printf '%s\n' "$LAST"
check_out "the dry run moved nothing" '^192\.0\.2\.2$' mount_opt $M addr
mig 0 "4.0: --dry-run to 192.0.2.3 passes" --dry-run -t 10 $R --to 192.0.2.3
check_out "4.0: the same server by RFC 7931" 'same_server +OK .*RFC 7931' printf '%s\n' "$LAST"

# The two refusals at once (each waits on its own connections).
(timeout 120 "$NM" migrate -t 10 $M --to 198.51.100.2 >$RUN/refuse41.out 2>&1; echo $? >$RUN/refuse41.rc) &
r41=$!
(timeout 120 "$NM" migrate -t 10 $R --to 198.51.100.2 >$RUN/refuse40.out 2>&1; echo $? >$RUN/refuse40.rc) &
r40=$!
wait $r41 $r40
check_out "4.1: server-b refused (exit 1)" '^1$' cat $RUN/refuse41.rc
show <$RUN/refuse41.out
check_out "4.1: refused as another server, the server's move" \
	"not moved to 198\\.51\\.100\\.2: another server; that move is the server's to make \\(fs_locations\\); .nfsmig rehearse. shows" \
	cat $RUN/refuse41.out
check_out "4.0: server-b refused (exit 1)" '^1$' cat $RUN/refuse40.rc
show <$RUN/refuse40.out
check_out "4.0: refused as another server" 'same_server +FAIL .*another server' \
	cat $RUN/refuse40.out
check_out "nothing moved by the refusals" '^192\.0\.2\.2$' mount_opt $M addr

note "the checks and refusals took $((SECONDS - t0)) s"
mig 0 "4.1: migrate $M to 192.0.2.3" -t 20 $M --to 192.0.2.3
check_out "addr= is 192.0.2.3" '^192\.0\.2\.3$' mount_opt $M addr
check_out "server-a sees the client on 192.0.2.3" '192\.0\.2\.3:2049' \
	srv server-a ss -tn state established
# The sysfs under it (once scenario 5): the transport migrate named says
# the new address.
x=$(printf '%s\n' "$LAST" | sed -n 's/^transport  *\(kernel\/sunrpc\/xprt-switches\/switch-[0-9]*\/xprt-[0-9]*-tcp\) .*/\1/p' | head -n 1)
check "migrate named the mount's transport ($x)" test -n "$x"
check_out "its dstaddr says 192.0.2.3" '^192\.0\.2\.3$' cat "/sys/$x/dstaddr"
check_out "its xprt_info says port 2049" '^dst_port=2049$' cat "/sys/$x/xprt_info"
sync
echo 3 >/proc/sys/vm/drop_caches
check_out "the mount reads past a dropped cache" '^hello from /srv/d$' timeout 60 cat $M/file
check "a new file through the moved transport reaches the server" \
	bash -c "echo moved >$M/after && timeout 30 sync $M/after && grep -q moved /srv/d/after"
if [ -e /sys/fs/nfs/net ] && ls -d /sys/fs/nfs/*:* >/dev/null 2>&1; then
	note "$(uname -r): the mount is linked in /sys/fs/nfs: its own transports moved"
	if printf '%s\n' "$LAST" | grep -q "own transport not found"; then
		fail "migrate warned it did not find the mount's own transport"
	else
		pass "migrate found the mount's own transport (no warning)"
	fi
	check_out "the 4.0 mount stayed at 192.0.2.2" '^192\.0\.2\.2$' mount_opt $R addr
	mig 0 "4.0: migrate $R to 192.0.2.3 (RFC 7931 checks)" -t 20 $R --to 192.0.2.3
else
	# 6.1's mountstats says local port 0 (the kernel keeps it for reused
	# ports only): every transport to 192.0.2.2:2049 moves, said.
	note "$(uname -r): no per-mount link, no local port: every transport to 192.0.2.2 port 2049 moved"
	check_out "migrate warned the mount's own transport was not found" \
		"warning: the mount's own transport not found .*every transport to 192\\.0\\.2\\.2 port 2049 moves" \
		printf '%s\n' "$LAST"
	check_out "the move said the 4.0 mount moves too" "also moves +$R" printf '%s\n' "$LAST"
	check_out "the 4.0 mount that moved along has its event" \
		'"result":"moved along"' grep -F "\"mountpoint\":\"$R\"" "$STATE/events.log"
	mig 0 "4.0: $R is at 192.0.2.3 already" -t 20 $R --to 192.0.2.3
fi
check_out "the 4.0 mount's addr= is 192.0.2.3" '^192\.0\.2\.3$' mount_opt $R addr
check_out "the 4.0 mount reads" '^inside the referral$' timeout 30 cat $R/file
writer_on "the writer kept writing"
w=$(written)
check "its lines reached the server (server-a's /srv/d/log has more than $w)" \
	test "$(wc -l </srv/d/log)" -gt "$w"
check_out "the held file still reads (state survived: same server)" '^2$' \
	timeout 30 head -n 1 <&7
# A lock through the held open (NFS emulates flock with LOCK on the
# server): uses the open's state, not the cache.
check "the held file locks and unlocks through its open (the state is there)" \
	bash -c "timeout 30 flock -x 8 && flock -u 8"
echo "written after the move" >&8
check "the held file's write reaches the server" \
	bash -c "timeout 30 sync $M/held && grep -q 'written after the move' /srv/d/held"
rec=$(grep -lx "mountpoint=$M" "$STATE"/* 2>/dev/null | head -n 1)
check_out "the record has the move" '^move=[0-9]+%20192\.0\.2\.2%20192\.0\.2\.3%20migrate$' cat "$rec"
check_out "the record has exactly one move" '^1$' grep -c '^move=' "$rec"
recr=$(grep -lx "mountpoint=$R" "$STATE"/* 2>/dev/null | head -n 1)
check_out "$R's record has its move, once" '^1$' grep -c '^move=[0-9]*%20192\.0\.2\.2%20192\.0\.2\.3%20migrate$' "$recr"
check_out "the event log has the transport-move" \
	'"event":"transport-move".*"from":"192\.0\.2\.2","to":"192\.0\.2\.3","result":"moved"' \
	grep -F "\"mountpoint\":\"$M\"" "$STATE/events.log"

# The move back: the checks pass for .2, then it stops answering.
note "the moves took $((SECONDS - t0)) s since the setup"
rm -f $P
NFSMIG_TEST_MIGRATE_PAUSE=$P timeout 120 "$NM" migrate -t 2 $M --to 192.0.2.2 >$RUN/back.out 2>&1 &
back=$!
if wait_for 60 test -e $P; then
	pass "the checks for 192.0.2.2 passed; migrate waits before the write"
else
	fail "migrate did not reach the write"
	show <$RUN/back.out
fi
# The client's route to .2 answers "unreachable" at once.
ip route add unreachable 192.0.2.2/32
rm -f $P
rc=0
wait $back || rc=$?
check "migrate exits 1 when the new address stops answering (exit $rc)" test "$rc" = 1
show <$RUN/back.out
check_out "it says it moved back" 'failed .*moved back to 192\.0\.2\.3' cat $RUN/back.out
check_out "addr= is 192.0.2.3 again" '^192\.0\.2\.3$' mount_opt $M addr
check_out "the mount reads after the move back" '^hello from /srv/d$' timeout 60 cat $M/file
note "the move back took $((SECONDS - t0)) s since the setup"
check_out "it said the test pause" '^test pause active: ' cat $RUN/back.out
check_out "it said where the mount is" 'addr=192\.0\.2\.3 now' cat $RUN/back.out
check_out "the event log has the move back" '"result":"moved back"' \
	grep -F "\"mountpoint\":\"$M\"" "$STATE/events.log"
check_out "the record still has one move (the move back moved nothing)" '^1$' grep -c '^move=' "$rec"
ip route del unreachable 192.0.2.2/32
writer_on "the writer still writes after the move back"
# Not waited for: a writer stuck on the mount would hold the scenario.
kill -9 $writer 2>/dev/null
exec 7<&- 8>&-
note "the checks, moves and move back took $((SECONDS - t0)) s"
finish
