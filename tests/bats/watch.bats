#!/usr/bin/env bats
# nfsmigd's watcher on the host, which has no NFS: the mount table is a file
# ([watch] mountinfo_path, a test-only key) the tests rewrite, the records
# are written by hand as register would leave them, the kernel's sources
# are off.  A move in the table must give one record entry and one event
# (the libmount monitor's stand-in: inotify on the file; or the rescan),
# a daemon killed with a report half done must finish it once on restart,
# nfsmig status must say what runs, and the systemd unit must verify.

bats_require_minimum_version 1.5.0

setup() {
	load helpers
	W=$BATS_TEST_TMPDIR
	D=$W/state
	mkdir -p "$D" "$W/tab" "$W/hooks"
	NFSMIG=$BUILD/cmd/nfsmig
	NFSMIGD=$BUILD/daemon/nfsmigd
	FIX=$TOP/tests/fixtures/vm
	cp "$FIX/mountinfo.v4.0.before" "$W/tab/mountinfo"
	watch_record 192.0.2.2 >"$D/-mnt-m.state"
	cat >"$W/hooks/10-keep" <<-EOF
		#!/bin/sh
		cat >>$W/hook.json
		echo >>$W/hook.json
		env | grep '^NFSMIG_' | sort >$W/hook.env
	EOF
	chmod 0755 "$W/hooks/10-keep" "$W/hooks"
	conf ""
}

teardown() {
	if [ -n "${DPID:-}" ]; then
		kill -9 "$DPID" 2>/dev/null || true
	fi
	if [ -n "${WLAB:-}" ]; then
		fake_stop
		"$NFSLAB" ns-down "$WLAB" >/dev/null 2>&1 || true
	fi
}

# conf [WATCH-LINES]: the daemon's configuration.
conf() {
	cat >"$W/conf" <<-EOF
		[daemon]
		socket = $W/sock
		state_dir = $D
		[hooks]
		dir = $W/hooks
		[metrics]
		textfile =
		[watch]
		tracefs = no
		uevent = no
		kmsg = no
		upcall = no
		verify = no
		mountinfo_path = $W/tab/mountinfo
		$1
	EOF
}

daemon_start() {
	"$NFSMIGD" -F -c "$W/conf" >>"$W/log" 2>&1 &
	DPID=$!
	wait_for 10 test -S "$W/sock"
	wait_for 10 grep -q 'watching:' "$W/log"
}

# The table moves /mnt/m to server-b (written aside and renamed, as a
# kernel table changes at once).
move_table() {
	cp "$FIX/mountinfo.v4.0.after" "$W/tab/mi.new"
	mv "$W/tab/mi.new" "$W/tab/mountinfo"
}

migrations() { grep -c '"event":"migration"' "$D/events.log" 2>/dev/null || true; }

@test "watch: a move in the table is recorded once and written once, hooks run" {
	daemon_start
	run cat "$W/log"
	assert_output --partial "watching: mountinfo"
	assert_output --partial "not watching: tracefs: disabled; uevent: disabled; kmsg: disabled"
	move_table
	wait_for 5 grep -q '"event":"migration"' "$D/events.log" || fail "no event: $(cat "$W/log")"
	sleep 0.5
	[ "$(migrations)" = 1 ] || fail "$(cat "$D/events.log")"
	run jq -r '[.trigger, .from, .to, .mountpoint, (.record_time|type)] | join(" ")' "$D/events.log"
	assert_output "mountinfo 192.0.2.2 198.51.100.2 /mnt/m number"
	run grep -c '^move=' "$D/-mnt-m.state"
	assert_output 1
	run "$NFSMIG" show --mountinfo "$W/tab/mountinfo" --state-dir "$D" /mnt/m
	assert_success
	assert_line --regexp '^moved: +[0-9]+ 192\.0\.2\.2 -> 198\.51\.100\.2 by mountinfo$'
	run "$NFSMIG" show -J --mountinfo "$W/tab/mountinfo" --state-dir "$D" /mnt/m
	assert_success
	run jq -r '.moves[0] | "\(.from) \(.to) \(.trigger)"' <<<"$output"
	assert_output "192.0.2.2 198.51.100.2 mountinfo"
	grep -q '^pending=' "$D/-mnt-m.state" && fail "the marker stayed"
	wait_for 5 test -s "$W/hook.env" || fail "the hook did not run: $(cat "$W/log")"
	run cat "$W/hook.env"
	assert_line "NFSMIG_EVENT=migration"
	assert_line "NFSMIG_MOUNTPOINT=/mnt/m"
	assert_line "NFSMIG_FROM=192.0.2.2"
	assert_line "NFSMIG_TO=198.51.100.2"
	assert_line "NFSMIG_TRIGGER=mountinfo"
	assert_line "NFSMIG_VERDICT=SKIP"
	run jq -r .event "$W/hook.json"
	assert_output "migration"
}

@test "watch: with the monitor off, the rescan finds the move" {
	conf $'mountinfo = no\nrescan = 1'
	daemon_start
	move_table
	wait_for 5 grep -q '"event":"migration"' "$D/events.log" || fail "no event: $(cat "$W/log")"
	sleep 1.5
	[ "$(migrations)" = 1 ] || fail "$(cat "$D/events.log")"
	run jq -r .trigger "$D/events.log"
	assert_output "rescan"
}

@test "watch: a move made while no daemon ran is found at start, once" {
	move_table
	daemon_start
	wait_for 5 grep -q '"event":"migration"' "$D/events.log" || fail "no event: $(cat "$W/log")"
	kill -TERM "$DPID"
	wait "$DPID" || true
	daemon_start
	sleep 1
	[ "$(migrations)" = 1 ] || fail "$(cat "$D/events.log")"
	run jq -r .trigger "$D/events.log"
	assert_output "rescan"
	run grep -c '^move=' "$D/-mnt-m.state"
	assert_output 1
}

@test "watch: killed after the record, before the event: the restart writes it once, with its trigger" {
	# What a kill -9 between the record and the event leaves.
	move_table
	watch_record 198.51.100.2 "move=1795490100 192.0.2.2 198.51.100.2 tracepoint:nfs4_xdr_status
pending=migration 1795490100 tracepoint:nfs4_xdr_status 192.0.2.2 198.51.100.2" >"$D/-mnt-m.state"
	daemon_start
	wait_for 5 grep -q '"event":"migration"' "$D/events.log" || fail "no event: $(cat "$W/log")"
	wait_for 5 sh -c "! grep -q '^pending=' '$D/-mnt-m.state'" || fail "the marker stayed"
	kill -9 "$DPID"
	daemon_start
	sleep 1
	[ "$(migrations)" = 1 ] || fail "$(cat "$D/events.log")"
	run jq -r '"\(.trigger) \(.record_time)"' "$D/events.log"
	assert_output "tracepoint:nfs4_xdr_status 1795490100"
	run grep -c '^move=' "$D/-mnt-m.state"
	assert_output 1
	grep -qF "finishing the migration report a restart cut short" "$W/log" || fail "$(cat "$W/log")"
}

@test "watch: killed after the event, before the marker was cleared: no second event" {
	move_table
	watch_record 198.51.100.2 "move=1795490100 192.0.2.2 198.51.100.2 rescan
pending=migration 1795490100 rescan 192.0.2.2 198.51.100.2" >"$D/-mnt-m.state"
	printf '%s\n' '{"event":"migration","trigger":"rescan","mountpoint":"/mnt/m","from":"192.0.2.2","to":"198.51.100.2","record_time":1795490100,"time":1795490100.5}' >"$D/events.log"
	daemon_start
	wait_for 5 sh -c "! grep -q '^pending=' '$D/-mnt-m.state'" || fail "the marker stayed: $(cat "$W/log")"
	[ "$(migrations)" = 1 ] || fail "$(cat "$D/events.log")"
	grep -qF "was written before a restart" "$W/log" || fail "$(cat "$W/log")"
	[ ! -e "$W/hook.env" ] || fail "hooks ran again"
}

@test "watch: kill -9 at once after the move, again and again: one record entry, one event" {
	move_table
	for i in 1 2 3 4 5; do
		"$NFSMIGD" -F -c "$W/conf" >>"$W/log" 2>&1 &
		DPID=$!
		sleep "0.0$((i * 2))"
		kill -9 "$DPID" 2>/dev/null || true
		wait "$DPID" 2>/dev/null || true
		rm -f "$W/sock"
	done
	daemon_start
	wait_for 5 grep -q '"event":"migration"' "$D/events.log" || fail "no event: $(cat "$W/log")"
	wait_for 5 sh -c "! grep -q '^pending=' '$D/-mnt-m.state'" || fail "the marker stayed"
	sleep 0.5
	[ "$(migrations)" = 1 ] || fail "$(cat "$D/events.log")"
	run grep -c '^move=' "$D/-mnt-m.state"
	assert_output 1
}

@test "watch: SIGTERM stops the daemon within a second" {
	daemon_start
	local t0
	t0=$(date +%s%N)
	kill -TERM "$DPID"
	wait "$DPID" || true
	local ms=$((($(date +%s%N) - t0) / 1000000))
	# LeakSanitizer's check at exit (ASan builds) is not the daemon's.
	[ "$ms" -lt 3000 ] || fail "took $ms ms"
	echo "# stopped in $ms ms" >&3
	DPID=
}

@test "status: the running daemon, its sources and the last event; -J; not running" {
	conf "rescan = 5"
	daemon_start
	move_table
	wait_for 5 grep -q '"event":"migration"' "$D/events.log"
	run "$NFSMIG" status --socket "$W/sock" --state-dir "$D"
	assert_success
	assert_line --regexp "^nfsmigd: +running \\(pid $DPID, up [0-9]+m [0-9]+s\\)\$"
	assert_line --regexp '^sources: +mountinfo,rescan$'
	assert_line --regexp '^cache: +0 names'
	assert_line --regexp '^last event: .* migration /mnt/m 192\.0\.2\.2 -> 198\.51\.100\.2 trigger=mountinfo$'
	run "$NFSMIG" status -J --socket "$W/sock" --state-dir "$D"
	assert_success
	run jq -r '"\(.running) \(.pid) \(.sources|join(",")) \(.last_event.event)"' <<<"$output"
	assert_output "true $DPID mountinfo,rescan migration"
	kill -TERM "$DPID"
	wait "$DPID" || true
	DPID=
	run "$NFSMIG" status --socket "$W/sock" --state-dir "$D"
	assert_failure 1
	assert_line --regexp '^nfsmigd: +not running'
}

@test "unit: nfsmigd.service verifies and keeps its hardening" {
	command -v systemd-analyze >/dev/null || skip "no systemd-analyze"
	sed "s|^ExecStart=.*|ExecStart=$NFSMIGD -F|" "$BUILD/daemon/nfsmigd.service" >"$W/nfsmigd.service"
	run systemd-analyze verify --man=no "$W/nfsmigd.service"
	assert_success
	assert_output ""
	for line in "CapabilityBoundingSet=CAP_NET_BIND_SERVICE CAP_SYSLOG" "ProtectSystem=strict" \
		"ReadWritePaths=-/run/mount" "ProtectHome=read-only" "NoNewPrivileges=yes" \
		"RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK" \
		"SystemCallArchitectures=native"; do
		grep -qxF "$line" "$W/nfsmigd.service" || fail "missing: $line"
	done
	# A bad value is said (the test can fail).
	sed 's/^ProtectHome=read-only/ProtectHome=bogus/' "$W/nfsmigd.service" >"$W/bad.service"
	run systemd-analyze verify --man=no "$W/bad.service"
	assert_output --partial "bogus"
}

@test "watch: a new mount whose server does not answer is tried once a minute, not at every look" {
	cp "$FIX/mountinfo.v4.0.before" "$W/tab/mi.new"
	echo "60 28 0:50 / /mnt/new rw,relatime - nfs4 127.0.0.1:/x rw,vers=4.1,port=9,timeo=5,retrans=1,sec=sys,clientaddr=127.0.0.1,local_lock=none,addr=127.0.0.1" >>"$W/tab/mi.new"
	mv "$W/tab/mi.new" "$W/tab/mountinfo"
	daemon_start
	wait_for 10 grep -q '/mnt/new: register: ' "$W/log" || fail "no attempt: $(cat "$W/log")"
	for i in 1 2 3 4 5; do
		cp "$W/tab/mountinfo" "$W/tab/mi.new"
		mv "$W/tab/mi.new" "$W/tab/mountinfo"
		sleep 0.3
	done
	run grep -c '/mnt/new: register: ' "$W/log"
	assert_output 1
	[ ! -e "$D/-mnt-new.state" ] || fail "a record without an answer"
	grep -q 'tried again in a minute' "$W/log" || fail "$(cat "$W/log")"
}

@test "nfsmigd, which every upcall starts, maps none of the watcher's libraries; nfsmigd-daemon does" {
	run ldd "$NFSMIGD"
	assert_success
	refute_output --regexp 'libtracefs|libtraceevent|libjson-c|libtirpc'
	run ldd "$BUILD/daemon/nfsmigd-daemon"
	assert_output --regexp 'libtracefs'
	assert_output --regexp 'libjson-c'
}

@test "watch: killed after a failed migration's event, before the marker was cleared: no second event, no hook" {
	# report_move wrote the move's report as "migration-failed"; the
	# marker still says "migration".
	move_table
	watch_record 198.51.100.2 "move=1795490100 192.0.2.2 198.51.100.2 kmsg
pending=migration 1795490100 kmsg 192.0.2.2 198.51.100.2" >"$D/-mnt-m.state"
	printf '%s\n' '{"event":"migration-failed","trigger":"kmsg","mountpoint":"/mnt/m","from":"192.0.2.2","to":"198.51.100.2","record_time":1795490100,"time":1795490100.5}' >"$D/events.log"
	daemon_start
	wait_for 5 sh -c "! grep -q '^pending=' '$D/-mnt-m.state'" || fail "the marker stayed: $(cat "$W/log")"
	sleep 0.5
	run wc -l <"$D/events.log"
	assert_output 1
	grep -qF "was written before a restart" "$W/log" || fail "$(cat "$W/log")"
	[ ! -e "$W/hook.env" ] || fail "hooks ran again"
}

@test "watch: without -v the hooks' output and their failures are in the daemon's log" {
	printf '%s\n' '#!/bin/sh' 'echo "said by the hook"' >"$W/hooks/20-say"
	printf '%s\n' '#!/bin/sh' 'exit 3' >"$W/hooks/30-fail"
	chmod 0755 "$W/hooks/20-say" "$W/hooks/30-fail"
	daemon_start
	move_table
	wait_for 5 grep -q '30-fail' "$W/log" || fail "no hook in the log: $(cat "$W/log")"
	wait_for 5 grep -q 'hook 30-fail failed: exit status 3' "$W/log" || fail "$(cat "$W/log")"
	grep -q 'hook 20-say: said by the hook' "$W/log" || fail "$(cat "$W/log")"
}

@test "unit: NFS mounts under /home, /root and /tmp stay visible; /run/mount is made by tmpfiles.d, installed" {
	U=$BUILD/daemon/nfsmigd.service
	! grep -E '^(PrivateTmp=yes|ProtectHome=(yes|tmpfs)|MemoryDenyWriteExecute=yes)' "$U" ||
		fail "hides mounts or stops hooks' runtimes"
	grep -qxF "ReadWritePaths=-/run/mount" "$U" || fail "a missing /run/mount stops the unit"
	make -s -C "$BUILD" install-dist_tmpfilesDATA DESTDIR="$W/root" prefix=/usr >/dev/null
	run cat "$W/root/usr/lib/tmpfiles.d/nfsmig.conf"
	assert_success
	assert_line "d /run/mount 0755 root root -"
}

@test "status: as a user the daemon cannot be asked: said, exit 4, not 'not running'" {
	daemon_start
	chmod 0755 "$W" "$BATS_TEST_TMPDIR" "$(dirname "$BATS_TEST_TMPDIR")" 2>/dev/null || true
	run setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$NFSMIG" status --socket "$W/sock" --state-dir "$D"
	assert_failure 4
	assert_line --regexp '^nfsmigd: +unknown: cannot ask the daemon \(permission'
	refute_output --partial "not running"
	run setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$NFSMIG" status -J --socket "$W/sock" --state-dir "$D"
	assert_failure 4
	run jq -r .running <<<"$output"
	assert_output null
}

@test "status: a socket another user listens on is not the daemon: said, exit 1, not 'permission'" {
	F=$(mktemp -d /tmp/nfsmig-foreign.XXXXXX)
	chown nobody "$F"
	setpriv --reuid=nobody --regid=nogroup --clear-groups /usr/bin/python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(8); time.sleep(30)' "$F/sock" 3>&- &
	FPID=$!
	wait_for 5 test -S "$F/sock" || fail "no listener"
	run "$NFSMIG" status --socket "$F/sock" --state-dir "$D"
	kill "$FPID" 2>/dev/null || true
	wait "$FPID" 2>/dev/null || true
	rm -rf "$F"
	assert_failure 1
	assert_line --regexp "^nfsmigd: +not asked: another user's program listens"
	refute_output --partial "permission"
}

@test "nfsmigd: a second daemon on the socket is refused and frees what it took" {
	# Without the sanitizers a leak cannot be seen: the test would pass
	# whatever the daemon frees.
	ldd "$NFSMIGD" 2>/dev/null | grep -q 'libasan' ||
		grep -q -- '--enable-sanitizers' "$BUILD/config.log" 2>/dev/null ||
		skip "built without the sanitizers (scripts/build --enable-sanitizers)"
	daemon_start
	# Under the sanitizers (scripts/build --enable-sanitizers) a leak
	# fails the exit (LeakSanitizer's report and status 23).
	ASAN_OPTIONS=detect_leaks=1 run "$NFSMIGD" -F -c "$W/conf"
	assert_failure 1
	refute_output --partial "LeakSanitizer"
	kill -0 "$DPID" || fail "the first daemon is gone"
}

@test "watch: utab entries of file systems unmounted without libmount are removed at a look, not those mounted" {
	# A private mount namespace (its own /run/mount) without a network:
	# the real table, where the daemon registers nothing it cannot ask.
	mkdir -p "$W/m1" "$W/m2"
	sed -i '/^mountinfo_path =/d' "$W/conf"
	run unshare -m -n --propagation private sh -euc '
		mount -t tmpfs tmpfs /run/mount
		mount -t tmpfs srv1:/x "$2/m1"
		mount -t tmpfs srv1:/y "$2/m2"
		"$1" "$2/m1" srv2.nfsmig.test
		"$1" "$2/m2" srv2.nfsmig.test
		umount --no-mtab "$2/m1"
		"$3" -F -c "$2/conf" >"$2/log" 2>&1 &
		pid=$!
		i=0
		until grep -q "utab: 1 entry" "$2/log" || [ $i -ge 100 ]; do sleep 0.1; i=$((i + 1)); done
		kill $pid
		wait $pid || true
		echo "utab: [$(cat /run/mount/utab)]"' sh \
		"$BUILD/tests/helpers/utabset" "$W" "$NFSMIGD"
	assert_success
	assert_line "utab: [SRC=srv1:/y TARGET=$W/m2 ROOT=/ OPTS=x-nfsmig.server=srv2.nfsmig.test]"
	grep -q "utab: 1 entry of unmounted file systems removed" "$W/log" || fail "$(cat "$W/log")"
}

@test "watch: the kernel log's position is kept in the state dir; a restart reads what was logged meanwhile; a corrupt one: from the end" {
	[ -r /dev/kmsg ] || skip "no /dev/kmsg"
	sed -i 's/^kmsg = no/kmsg = yes/' "$W/conf"
	daemon_start
	wait_for 5 test -s "$D/kmsg.pos" || fail "no position: $(cat "$W/log")"
	run cat "$D/kmsg.pos"
	assert_line --index 0 "nfsmig-kmsg 1"
	assert_line --index 1 "boot_id=$(cat /proc/sys/kernel/random/boot_id)"
	assert_line --regexp '^seq=[0-9]+$'
	before=$(sed -n 's/^seq=//p' "$D/kmsg.pos")
	kill -9 "$DPID"
	wait "$DPID" 2>/dev/null || true
	rm -f "$W/sock"
	# Logged while no daemon ran (a process's line: read, never taken for
	# the kernel's).
	echo "nfsmig watch.bats: logged while the daemon was down" >/dev/kmsg
	daemon_start
	grep -q "kmsg: read after record $before (where the last run stopped)" "$W/log" ||
		fail "$(cat "$W/log")"
	# A message the watcher does not act on is not worth a write: the
	# position saved stays (a restart reads it again and skips it).
	sleep 1
	run sed -n 's/^seq=//p' "$D/kmsg.pos"
	assert_output "$before"
	kill -9 "$DPID"
	wait "$DPID" 2>/dev/null || true
	rm -f "$W/sock"
	printf 'nfsmig-kmsg 1\nboot_id=x\nseq=zz\n' >"$D/kmsg.pos"
	daemon_start
	grep -q "kmsg: .*kmsg.pos: not a position nfsmigd wrote: read from the end" "$W/log" ||
		fail "$(cat "$W/log")"
	run sed -n 2p "$D/kmsg.pos"
	assert_output "boot_id=$(cat /proc/sys/kernel/random/boot_id)"
}

# LEASE_MOVED (no server of the lab sends it): the daemon's answer,
# nm_watch_lease, against fakesrv replaying a server where /mnt/a's file
# system moved and /mnt/b's is still here (the replies and calls of
# lease.bats: the probe's COMPOUNDs exactly as the client must send them).
@test "watch: LEASE_MOVED: the registered mounts of that server probed by their root handles; one lease-moved event for the one that moved" {
	WLAB="nfsmig-w$$"
	LAB=$WLAB
	"$NFSLAB" ns-down "$WLAB" >/dev/null 2>&1 || true
	"$NFSLAB" ns-up "$WLAB"
	W2=wire
	fake_start 20620 replay $W2/v40-lease-probe-moved.hex,$W2/lease-call-probe-ab.call \
		$W2/v40-lease-probe-here.hex,$W2/lease-call-probe-b.call \
		$W2/v40-lease-locations-one.hex,$W2/lease-call-locations-a.call
	rm -f "$D"/*.state
	local i=0
	for m in a b; do
		i=$((i + 1))
		printf '%s\n' "nfsmig-state 1" "mountpoint=/mnt/$m" "source=192.0.2.1:/$m" \
			"orig_server=192.0.2.1" "cur_server=192.0.2.1" "export_path=/$m" "sec=sys" \
			"vers=4" "minor=0" "registered=1795490000" "root_fh=01000100$m$m" \
			"fsid=1:1" "fileid=2" "fh_expire_type=0" end >"$D/-mnt-$m.state"
		echo "6$i 28 0:5$i / /mnt/$m rw,relatime - nfs4 192.0.2.1:/$m rw,vers=4.0,port=20620,timeo=5,retrans=1,sec=sys,clientaddr=192.0.2.254,local_lock=none,addr=192.0.2.1"
	done >"$W/tab/lease"
	run ip netns exec "$WLAB" "$BUILD/tests/helpers/watchlease" "$W/tab/lease" "$D" 192.0.2.1
	! grep 'differs' "$BATS_TEST_TMPDIR/fake.out" || fail "$(cat "$BATS_TEST_TMPDIR/fake.out")"
	assert_success
	assert_line "moved 1"
	run jq -r '"\(.event) \(.mountpoint) \(.from) \(.trigger)"' "$D/events.log"
	assert_output "lease-moved /mnt/a 192.0.2.1 tracepoint:nfs4_state_mgr"
}

@test "watch: a move nfsmig verify recorded first is reported by the daemon once, trigger verify" {
	# What nfsmig verify leaves when it records the move before the
	# daemon sees it: the move, the current server and the marker.
	move_table
	watch_record 198.51.100.2 "move=1795490200 192.0.2.2 198.51.100.2 verify
pending=migration 1795490200 verify 192.0.2.2 198.51.100.2" >"$D/-mnt-m.state"
	daemon_start
	wait_for 5 grep -q '"event":"migration"' "$D/events.log" || fail "no event: $(cat "$W/log")"
	wait_for 5 sh -c "! grep -q '^pending=' '$D/-mnt-m.state'" || fail "the marker stayed"
	wait_for 5 test -s "$W/hook.env" || fail "the hook did not run: $(cat "$W/log")"
	run jq -r '"\(.trigger) \(.from) \(.to) \(.record_time)"' "$D/events.log"
	assert_output "verify 192.0.2.2 198.51.100.2 1795490200"
	run grep -c '^move=' "$D/-mnt-m.state"
	assert_output 1
	grep -qx "NFSMIG_TRIGGER=verify" "$W/hook.env" || fail "$(cat "$W/hook.env")"
	kill -TERM "$DPID"
	wait "$DPID" || true
	daemon_start
	sleep 1
	[ "$(migrations)" = 1 ] || fail "$(cat "$D/events.log")"
}

@test "watch: the same mount moved is a migration; a new mount of the mount point is not" {
	local boot
	boot=$(cat /proc/sys/kernel/random/boot_id)
	# Registered as the table's mount 50 (device 0:42) of this boot.
	watch_record 192.0.2.2 "mount_id=$boot 50 0:42" >"$D/-mnt-m.state"
	daemon_start
	move_table
	wait_for 5 grep -q '"event":"migration"' "$D/events.log" || fail "no event: $(cat "$W/log")"
	wait_for 5 sh -c "! grep -q '^pending=' '$D/-mnt-m.state'" || fail "the marker stayed"
	grep -qxF "mount_id=$boot%2050%200:42" "$D/-mnt-m.state" || fail "$(cat "$D/-mnt-m.state")"
	# Unmounted and mounted again from fstab's old server: mount 61,
	# device 0:52 (the server does not answer here: registering fails).
	sed 's|^50 28 0:42 / /mnt/m .*|61 28 0:52 / /mnt/m rw,relatime - nfs4 server-a:/d rw,vers=4.0,port=9,timeo=5,retrans=1,sec=sys,clientaddr=127.0.0.1,local_lock=none,addr=127.0.0.1|' \
		"$FIX/mountinfo.v4.0.after" >"$W/tab/mi.new"
	grep -q '^61 28 0:52 ' "$W/tab/mi.new" || fail "the table was not rewritten"
	mv "$W/tab/mi.new" "$W/tab/mountinfo"
	wait_for 10 grep -q '/mnt/m: register: ' "$W/log" || fail "not registered again: $(cat "$W/log")"
	sleep 0.5
	grep -qF "/mnt/m: mounted again (from 127.0.0.1; the record is of an earlier mount, on 198.51.100.2)" "$W/log" ||
		fail "$(cat "$W/log")"
	[ "$(migrations)" = 1 ] || fail "a remount reported as a migration: $(cat "$D/events.log")"
	run grep -c '^move=' "$D/-mnt-m.state"
	assert_output 1
	grep -q "moved from 198.51.100.2 to 127.0.0.1" "$W/log" && fail "$(cat "$W/log")"
	true
}
