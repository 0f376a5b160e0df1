#!/usr/bin/env bats
# nfsmig's metrics with the real parts a fleet runs: Debian's
# prometheus-node-exporter, started here on a free loopback port with only
# its textfile collector, scraped with curl, and promtool (from the
# prometheus package) linting what it serves.  nfsmig verify --prometheus
# runs against the lab's Ganesha servers (srv2 the source, srv5 the same
# export: a good cutover; 192.0.2.14 has no server: FAIL), and nfsmigd
# in the lab verifies the same moves and writes their verdicts; nfsmigd writes
# its file after a scan and after an event, with the mount table a file as
# in watch.bats.  A hostile mount point (a quote, a backslash, a newline)
# must come out escaped and parse.

bats_require_minimum_version 1.5.0

setup() {
	load helpers
	T=$BATS_TEST_TMPDIR
	TF=$T/textfile
	mkdir -p "$TF"
	command -v prometheus-node-exporter >/dev/null ||
		skip "prometheus-node-exporter is not installed (scripts/deps)"
	command -v promtool >/dev/null || skip "promtool is not installed (scripts/deps)"
}

teardown() {
	if [ -n "${NEPID:-}" ]; then
		kill "$NEPID" 2>/dev/null || true
		wait "$NEPID" 2>/dev/null || true
	fi
	if [ -n "${DPID:-}" ]; then
		kill -9 "$DPID" 2>/dev/null || true
		wait "$DPID" 2>/dev/null || true
	fi
	if [ -n "${LAB:-}" ]; then
		lab_down
	fi
}

# node_exporter serving the textfile directory $TF on 127.0.0.1, a port
# the kernel chose free; $NE is its URL.
ne_start() {
	local port i
	for i in 1 2 3; do
		port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
		prometheus-node-exporter --web.listen-address="127.0.0.1:$port" \
			--collector.disable-defaults --collector.textfile \
			--collector.textfile.directory="$TF" >"$T/ne.log" 2>&1 &
		NEPID=$!
		NE=http://127.0.0.1:$port/metrics
		wait_for 10 curl -sf "$NE" && return 0
		kill "$NEPID" 2>/dev/null || true
		wait "$NEPID" 2>/dev/null || true
		NEPID=
	done
	echo "node_exporter did not start: $(cat "$T/ne.log")" >&2
	return 1
}

# scrape: node_exporter's page into $T/scrape, checked: the textfile
# collector read every file without an error, and promtool lints it clean.
scrape() {
	curl -sf "$NE" >"$T/scrape"
	grep -qx 'node_textfile_scrape_error 0' "$T/scrape" ||
		fail "node_exporter could not read the file: $(grep textfile "$T/scrape"; cat "$T/ne.log")"
	run promtool check metrics <"$T/scrape"
	[ "$status" -eq 0 ] && [ -z "$output" ] || fail "promtool: $output"
}

@test "metrics: nfsmigd verifying moves and verify --prometheus against Ganesha: verdicts per mount, served by node_exporter, linted clean" {
	lab_up
	"$NFSLAB" server "$LAB" srv5 192.0.2.15
	"$NFSLAB" start "$LAB" srv5 2049 "/run/nfsmig-lab/$LAB/tree/srv2"
	local MI=$T/mountinfo SD=$T/state
	local bad=$'/mnt/q"x\\y\nz'
	mkdir -p "$SD"
	# Two mounts of srv2's export: /mnt/dest and one whose name is hostile
	# (mountinfo's octal escapes: \134 a backslash, \012 a newline).
	mi() {
		cat >"$MI.new" <<-MI
			22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
			41 22 0:41 / /mnt/dest rw,relatime shared:21 - nfs4 srv2.nfsmig.test:/export rw,vers=4.2,sec=sys,clientaddr=192.0.2.1,addr=$1
			42 22 0:42 / /mnt/q"x\\134y\\012z rw,relatime shared:22 - nfs4 srv2.nfsmig.test:/export rw,vers=4.2,sec=sys,clientaddr=192.0.2.1,addr=$2
			${3:-43 22 0:43} / /mnt/r rw,relatime shared:23 - nfs4 srv2.nfsmig.test:/export rw,vers=4.2,sec=sys,clientaddr=192.0.2.1,addr=${4:-$2}
		MI
		mv "$MI.new" "$MI"
	}
	mi 192.0.2.12 192.0.2.12
	nm register --mountinfo "$MI" --state-dir "$SD" /mnt/dest
	nm register --mountinfo "$MI" --state-dir "$SD" "$bad"
	nm register --mountinfo "$MI" --state-dir "$SD" /mnt/r
	# nfsmigd in the lab's client namespace, verifying the moves it sees:
	# its file (a directory of its own) gets each mount's verdict.
	mkdir -p "$T/daemon" "$T/hooks"
	cat >"$T/conf" <<-EOF
		[daemon]
		socket = $T/sock
		state_dir = $SD
		[hooks]
		dir = $T/hooks
		[watch]
		tracefs = no
		uevent = no
		kmsg = no
		upcall = no
		mountinfo_path = $MI
		[metrics]
		textfile = $T/daemon/nfsmig.prom
	EOF
	ip netns exec "$LAB" "$BUILD/daemon/nfsmigd" -F -c "$T/conf" >>"$T/log" 2>&1 &
	DPID=$!
	wait_for 10 test -s "$T/daemon/nfsmig.prom" || fail "no file: $(cat "$T/log")"
	grep -q verify_state "$T/daemon/nfsmig.prom" && fail "a verdict before any verify"
	# The cutover: /mnt/dest on srv5 (good), the other on a host with no
	# server (FAIL); the table replaced at once, as the kernel's changes.
	mi 192.0.2.15 192.0.2.14
	local df=$T/daemon/nfsmig.prom
	wait_for 20 grep -q 'nfsmig_mount_verify_state{mountpoint="/mnt/q.*state="FAIL"} 1' "$df" ||
		fail "no verdict in nfsmigd's file: $(cat "$df" "$T/log")"
	wait_for 20 grep -q 'nfsmig_mount_verify_state{mountpoint="/mnt/dest".*state="OK"} 1' "$df" ||
		fail "no verdict in nfsmigd's file: $(cat "$df" "$T/log")"
	grep -qxF 'nfsmig_moves_total{kind="migration"} 3' "$df" || fail "$(cat "$df")"
	wait_for 20 grep -q 'nfsmig_mount_verify_state{mountpoint="/mnt/r".*state="FAIL"} 1' "$df" ||
		fail "no verdict in nfsmigd's file: $(cat "$df" "$T/log")"
	# The daemon's verdict is in the record, not the daemon's memory.
	grep -qE '^verify=[0-9]{10} FAIL$' "$SD/-mnt-r.state" || fail "$(cat "$SD/-mnt-r.state")"
	# /mnt/r mounted again (another mount, from srv5): a new record, the
	# old mount's FAIL is not this one's.
	mi 192.0.2.15 192.0.2.14 "44 22 0:44" 192.0.2.15
	wait_for 20 grep -q '/mnt/r: mounted again from 192.0.2.15, registered again' "$T/log" ||
		fail "not registered again: $(cat "$T/log")"
	r_verdict() { grep 'mountpoint="/mnt/r"' "$df" | grep -q verify_state; }
	wait_for 10 eval '! r_verdict' || fail "the earlier mount's verdict: $(cat "$df")"
	grep -q '^verify=' "$SD/-mnt-r.state" && fail "$(cat "$SD/-mnt-r.state")"
	kill "$DPID"
	wait "$DPID" || true
	DPID=
	run nm verify --mountinfo "$MI" --state-dir "$SD" --prometheus "$TF/nfsmig.prom"
	assert_failure 1
	assert_line "/mnt/dest: OK"
	local f=$TF/nfsmig.prom
	local dest='mountpoint="/mnt/dest",source="srv2.nfsmig.test:/export",server="192.0.2.15",registered_server="192.0.2.12"'
	local hostile='mountpoint="/mnt/q\"x\\y\nz",source="srv2.nfsmig.test:/export",server="192.0.2.14",registered_server="192.0.2.12"'
	grep -qxF "nfsmig_mount_moved{$dest} 1" "$f" || fail "$(cat "$f")"
	grep -qxF "nfsmig_mount_verify_state{$dest,state=\"OK\"} 1" "$f" || fail "$(cat "$f")"
	grep -qxF "nfsmig_mount_verify_state{$dest,state=\"FAIL\"} 0" "$f" || fail "$(cat "$f")"
	grep -qxF "nfsmig_mount_verify_state{$hostile,state=\"FAIL\"} 1" "$f" || fail "$(cat "$f")"
	grep -qE "^nfsmig_mount_last_move_timestamp_seconds\{$dest\} [0-9]{10}$" "$f" ||
		fail "verify recorded the move: its time: $(cat "$f")"
	# Each verdict kept in its record, for nfsmigd's metrics.
	grep -qE '^verify=[0-9]{10} OK$' "$SD/-mnt-dest.state" || fail "$(cat "$SD/-mnt-dest.state")"
	grep -qE '^verify=[0-9]{10} FAIL$' "$SD"/-mnt-q*.state || fail "$(cat "$SD"/-mnt-q*.state)"
	# No counter in verify's file: they are nfsmigd's.
	grep -q '_total' "$f" && fail "counters in verify's file: $(cat "$f")"
	# Nothing but the file itself in the directory (no temporary left).
	[ "$(ls -A "$TF")" = nfsmig.prom ] || fail "$(ls -A "$TF")"

	ne_start
	scrape
	# node_exporter serves the labels sorted by name.
	dest='mountpoint="/mnt/dest",registered_server="192.0.2.12",server="192.0.2.15",source="srv2.nfsmig.test:/export"'
	hostile='mountpoint="/mnt/q\"x\\y\nz",registered_server="192.0.2.12",server="192.0.2.14",source="srv2.nfsmig.test:/export"'
	grep -qxF "nfsmig_mount_verify_state{$dest,state=\"OK\"} 1" "$T/scrape" ||
		fail "not served: $(grep nfsmig "$T/scrape")"
	# The hostile name as Prometheus reads it back: the text exposition
	# format's escapes, nothing that breaks a line or a label.
	grep -qxF "nfsmig_mount_moved{$hostile} 1" "$T/scrape" ||
		fail "not served escaped: $(grep nfsmig_mount_moved "$T/scrape")"
	run promtool check metrics <"$f"
	assert_success
	assert_output ""
}

daemon_conf() {
	cat >"$T/conf" <<-EOF
		[daemon]
		socket = $T/sock
		state_dir = $T/state
		[hooks]
		dir = $T/hooks
		[watch]
		tracefs = no
		uevent = no
		kmsg = no
		upcall = no
		verify = no
		mountinfo_path = $T/tab/mountinfo
		[metrics]
		textfile = $1
	EOF
}

@test "metrics: nfsmigd writes its file after a scan and after an event, counters included" {
	local FIX=$TOP/tests/fixtures/vm f=$TF/nfsmig.prom
	mkdir -p "$T/state" "$T/tab" "$T/hooks"
	cp "$FIX/mountinfo.v4.0.before" "$T/tab/mountinfo"
	# nfsmig verify's last verdict, as it leaves it in the record.
	watch_record 192.0.2.2 "verify=1795490300 FAIL" >"$T/state/-mnt-m.state"
	# A hook that fails, and one refused (writable by its group): both
	# counted.
	printf '#!/bin/sh\nexit 3\n' >"$T/hooks/10-fail"
	printf '#!/bin/sh\nexit 0\n' >"$T/hooks/20-refused"
	chmod 0755 "$T/hooks/10-fail" "$T/hooks"
	chmod 0775 "$T/hooks/20-refused"
	daemon_conf "$f"
	"$BUILD/daemon/nfsmigd" -F -c "$T/conf" >>"$T/log" 2>&1 &
	DPID=$!
	# The first scan: the mount, not moved, every counter at 0 but scans.
	wait_for 10 test -s "$f" || fail "no file after the first scan: $(cat "$T/log")"
	local m='mountpoint="/mnt/m",source="server-a:/d",server="192.0.2.2",registered_server="192.0.2.2"'
	grep -qxF "nfsmig_mount_moved{$m} 0" "$f" || fail "$(cat "$f")"
	grep -qxF "nfsmig_mount_verify_state{$m,state=\"FAIL\"} 1" "$f" || fail "$(cat "$f")"
	grep -qxF 'nfsmig_moves_total{kind="migration"} 0' "$f" || fail "$(cat "$f")"
	grep -qxF 'nfsmig_upcalls_total{result="ok"} 0' "$f" || fail "$(cat "$f")"
	grep -qE '^nfsmig_scans_total [1-9][0-9]*$' "$f" || fail "$(cat "$f")"
	# The move: the table names server-b now.
	cp "$FIX/mountinfo.v4.0.after" "$T/tab/mi.new"
	mv "$T/tab/mi.new" "$T/tab/mountinfo"
	local moved='mountpoint="/mnt/m",source="server-a:/d",server="198.51.100.2",registered_server="192.0.2.2"'
	wait_for 10 grep -qxF 'nfsmig_hook_failures_total 2' "$f" ||
		fail "no event in the file: $(cat "$f"; cat "$T/log")"
	grep -qxF "nfsmig_mount_moved{$moved} 1" "$f" || fail "$(cat "$f")"
	grep -qxF 'nfsmig_moves_total{kind="migration"} 1' "$f" || fail "$(cat "$f")"
	grep -qE "^nfsmig_mount_last_move_timestamp_seconds\{$moved\} [0-9]{10}$" "$f" ||
		fail "$(cat "$f")"
	ne_start
	scrape
	grep -qxF 'nfsmig_moves_total{kind="migration"} 1' "$T/scrape" || fail "$(grep nfsmig "$T/scrape")"
	# Every metric the example alerts use is one nfsmigd serves (the
	# verdict's: verify's, test 1).
	local name
	for name in $(grep -o 'nfsmig_[a-z_]*' "$TOP/contrib/prometheus/nfsmig.rules.yml" | sort -u); do
		[ "$name" = nfsmig_mount_verify_state ] && continue
		grep -q "^# TYPE $name " "$T/scrape" || fail "the rules use $name: not served"
	done
	kill "$DPID"
	wait "$DPID" || true
	DPID=
	[ "$(ls -A "$TF")" = nfsmig.prom ] || fail "a temporary left: $(ls -A "$TF")"
}

# scans_at_least N: the daemon at $T/sock has looked N times.
scans_at_least() {
	local n
	n=$("$BUILD/cmd/nfsmig" status --socket "$T/sock" --state-dir "$T/state" |
		sed -n 's/^watcher: *\([0-9]*\) scans.*/\1/p')
	[ -n "$n" ] && [ "$n" -ge "$1" ]
}

@test "metrics: nfsmigd with the file's directory missing says so once and goes on; empty: none" {
	local FIX=$TOP/tests/fixtures/vm
	mkdir -p "$T/state" "$T/tab" "$T/hooks"
	cp "$FIX/mountinfo.v4.0.before" "$T/tab/mountinfo"
	watch_record 192.0.2.2 >"$T/state/-mnt-m.state"
	daemon_conf "$T/missing/nfsmig.prom"
	sed -i 's/^\[watch\]$/[watch]\nrescan = 1/' "$T/conf"
	"$BUILD/daemon/nfsmigd" -F -c "$T/conf" >>"$T/log" 2>&1 &
	DPID=$!
	wait_for 10 grep -q 'watching:' "$T/log" || fail "$(cat "$T/log")"
	# Rescans every second: the daemon goes on, and says it once.
	wait_for 10 scans_at_least 3 || fail "the daemon stopped scanning: $(cat "$T/log")"
	run grep -c "metrics: .*missing" "$T/log"
	assert_output 1
	mkdir "$T/missing"
	wait_for 10 test -s "$T/missing/nfsmig.prom" || fail "not written once there: $(cat "$T/log")"
	grep -q "metrics: $T/missing/nfsmig.prom written again" "$T/log" || fail "$(cat "$T/log")"
	kill "$DPID"
	wait "$DPID" || true
	DPID=
	# Empty: disabled, nothing written, not even to the default file.  The
	# daemon runs in a mount namespace of its own where the default
	# directory is $T/default: without the key the file appears there
	# (the check can fail), with it empty nothing does.
	local def=/var/lib/prometheus/node-exporter
	[ -d "$def" ] || return 0
	mkdir "$T/default"
	daemon_conf ""
	sed -i 's/^\[watch\]$/[watch]\nrescan = 1/' "$T/conf"
	sed '/^textfile = /d' "$T/conf" >"$T/conf.default"
	in_ns() {
		exec unshare -m --propagation private sh -c \
			'mount --bind "$1" "$2" && shift 2 && exec "$@"' sh "$T/default" "$def" "$@"
	}
	in_ns "$BUILD/daemon/nfsmigd" -F -c "$T/conf.default" >>"$T/log2" 2>&1 &
	DPID=$!
	wait_for 10 test -s "$T/default/nfsmig.prom" || fail "no default file: $(cat "$T/log2")"
	kill "$DPID"
	wait "$DPID" || true
	rm "$T/default/nfsmig.prom"
	in_ns "$BUILD/daemon/nfsmigd" -F -c "$T/conf" >>"$T/log3" 2>&1 &
	DPID=$!
	wait_for 10 scans_at_least 3 || fail "$(cat "$T/log3")"
	run grep -c metrics "$T/log3"
	assert_output 0
	[ -z "$(ls -A "$T/default")" ] || fail "written though disabled: $(ls -A "$T/default")"
}

@test "metrics: the example alert rules check, and their tests pass" {
	local dir=$TOP/contrib/prometheus
	run promtool check rules "$dir/nfsmig.rules.yml"
	assert_success
	assert_output --partial "SUCCESS: 5 rules found"
	# promtool test rules reads the rule file next to the test file.
	cd "$dir"
	run promtool test rules nfsmig.rules.test.yml
	assert_success
}

@test "metrics: the unit lets nfsmigd write the default textfile's directory" {
	local dir
	dir=$(sed -n 's|^#define NM_PROM_DEFAULT_PATH "\(.*\)/[^/]*"$|\1|p' "$TOP/libcore/nm_prom.h")
	[ -n "$dir" ] || fail "no default path in nm_prom.h"
	grep -qxF "ReadWritePaths=-$dir" "$TOP/daemon/nfsmigd.service.in" ||
		fail "ProtectSystem=strict would keep nfsmigd from writing $dir"
}
