#!/usr/bin/env bats
# nfsmig mounts and verify on tables the real Linux NFS client wrote, saved
# by the VM scenarios (tests/vm) in tests/fixtures/vm:
#   mountinfo.v4.0.before/after    scenario 1: server-a:/d moved to server-b
#   mountinfo.referral             scenario 3: /mnt/a/r is server-b:/r
#   mountstats.state-lost.v4.0.1-3 scenario 1b: a second apart, the client
#   rpc-nfs.state-lost.v4.0.1-3    looping on a WRITE the destination refuses
#                                  (with /proc/net/rpc/nfs: RENEW climbing)
#   mountstats.state-lost.v4.1.1/2 scenario 2b: NFSv4.1, the client recovered
#   mountstats.lock-denied.v4.*    scenario 1c/2c: a lock denied over and over,
#   mountstats.nospace.v4.*        then writes failing with ENOSPC, on a moved
#                                  mount: errors, but not lost state
# verify runs in a network namespace of its own with no route anywhere: the
# servers of those tables are not contacted (their checks FAIL at once).

setup_file() {
	load helpers
	export NS="nfsmig-t$$"
	ip netns add "$NS"
	ip -n "$NS" link set lo up
}

teardown_file() {
	ip netns del "nfsmig-t$$" 2>/dev/null || true
}

setup() {
	load helpers
	VM=$NM_FIXTURES/vm
	SD=$BATS_TEST_TMPDIR/state
	mkdir -p "$SD"
}

# A record of /mnt/m as `nfsmig register` wrote it before the move.
record_mnt_m() {
	cat >"$SD/-mnt-m.state" <<-EOF
		nfsmig-state 1
		mountpoint=/mnt/m
		source=server-a:/d
		orig_server=192.0.2.2
		cur_server=192.0.2.2
		export_path=/d
		sec=sys
		vers=4
		minor=$1
		registered=1795546000
		root_fh=01000601000000000000000000000000
		fsid=1:0
		fileid=2
		fh_expire_type=0
		probe_name=numbers
		probe_fh=01000601000000000c000000a1b2c3d4
		probe_fileid=12
		end
	EOF
}

nmk() { ip netns exec "$NS" "$BUILD/cmd/nfsmig" "$@"; }

@test "mounts: the kernel's referral submount is a referral, its parent is not" {
	run nmk mounts -r --mountinfo "$VM/mountinfo.referral" --state-dir "$SD"
	assert_success
	assert_line "/mnt/a/r server-b:/r 198.51.100.2  4.1 sys referral"
	assert_line "/mnt/a server-a:/ 192.0.2.2  4.1 sys unregistered"
}

@test "mounts: a referral submount nfsmigd registered is still a referral" {
	printf '%s\n' "nfsmig-state 1" "mountpoint=/mnt/a/r" "source=server-b:/r" \
		"orig_server=198.51.100.2" "cur_server=198.51.100.2" "export_path=/r" "sec=sys" \
		"vers=4" "minor=1" "registered=1795490000" "root_fh=01000100" "fsid=2:0" \
		"fileid=2" "fh_expire_type=0" end >"$SD/-mnt-a-r.state"
	run nmk mounts -r --mountinfo "$VM/mountinfo.referral" --state-dir "$SD"
	rm -f "$SD/-mnt-a-r.state"
	assert_success
	assert_line "/mnt/a/r server-b:/r 198.51.100.2 198.51.100.2 4.1 sys referral"
}

@test "mounts: before the kernel's migration registered, after it moved" {
	record_mnt_m 0
	run nmk mounts -r --mountinfo "$VM/mountinfo.v4.0.before" --state-dir "$SD"
	assert_success
	assert_line "/mnt/m server-a:/d 192.0.2.2 192.0.2.2 4.0 sys registered"
	run nmk mounts -r --mountinfo "$VM/mountinfo.v4.0.after" --state-dir "$SD"
	assert_success
	# /proc/mounts still names server-a; addr= is server-b.
	assert_line "/mnt/m server-a:/d 198.51.100.2 192.0.2.2 4.0 sys moved"
}

@test "verify: two saved samples of the client's loop cannot tell: WARN, never OK" {
	# The loop is told by the namespace's RENEW climbing with the errors
	# over three samples (tests/unit/test_mstats.c); two saved mountstats
	# show errors that go on and nothing more.
	record_mnt_m 0
	run nmk verify -t 2 --mountinfo "$VM/mountinfo.state-lost.v4.0" --state-dir "$SD" \
		--mountstats "$VM/mountstats.state-lost.v4.0.1" \
		--mountstats "$VM/mountstats.state-lost.v4.0.3" /mnt/m
	assert_failure 1
	assert_output --regexp "state +WARN +stateful operations failed 2098 times between the samples \(WRITE \+2098\), RENEW/SETCLIENTID \+0 on the mount; no recovery of that order: .*cannot tell"
}

@test "verify: a healthy migration and a client that recovered are not state lost" {
	record_mnt_m 0
	run nmk verify -t 2 --mountinfo "$VM/mountinfo.v4.0.after" --state-dir "$SD" \
		--mountstats "$VM/mountstats.v4.0.after" --mountstats "$VM/mountstats.v4.0.after" /mnt/m
	assert_output --regexp "state +OK +no stateful operation failed"
	# Samples on both sides of the move: the kernel's per-op table starts again.
	run nmk verify -t 2 --mountinfo "$VM/mountinfo.v4.0.after" --state-dir "$SD" \
		--mountstats "$VM/mountstats.v4.0.before" --mountstats "$VM/mountstats.v4.0.after" /mnt/m
	assert_output --regexp "state +WARN +the counters went down between the samples \(NULL;"
	record_mnt_m 1
	run nmk verify -t 2 --mountinfo "$VM/mountinfo.state-lost.v4.1" --state-dir "$SD" \
		--mountstats "$VM/mountstats.state-lost.v4.1.1" \
		--mountstats "$VM/mountstats.state-lost.v4.1.2" /mnt/m
	assert_output --regexp "state +OK "
}

@test "verify: a lock denied over and over and writes failing with ENOSPC are never state lost" {
	record_mnt_m 0
	run nmk verify -t 2 --mountinfo "$VM/mountinfo.state-lost.v4.0" --state-dir "$SD" \
		--mountstats "$VM/mountstats.lock-denied.v4.0.1" \
		--mountstats "$VM/mountstats.lock-denied.v4.0.2" /mnt/m
	assert_output --regexp "state +WARN +stateful operations failed 259 times between the samples \(LOCK \+259\)"
	run nmk verify -t 2 --mountinfo "$VM/mountinfo.state-lost.v4.0" --state-dir "$SD" \
		--mountstats "$VM/mountstats.nospace.v4.0.1" \
		--mountstats "$VM/mountstats.nospace.v4.0.2" /mnt/m
	assert_output --regexp "state +WARN +stateful operations failed 145 times between the samples \(WRITE \+145\)"
	record_mnt_m 1
	run nmk verify -t 2 --mountinfo "$VM/mountinfo.state-lost.v4.1" --state-dir "$SD" \
		--mountstats "$VM/mountstats.lock-denied.v4.1.1" \
		--mountstats "$VM/mountstats.lock-denied.v4.1.2" /mnt/m
	assert_output --regexp "state +WARN +stateful operations failed 236 times .*TEST_STATEID \+0 on the mount"
	run nmk verify -t 2 --mountinfo "$VM/mountinfo.state-lost.v4.1" --state-dir "$SD" \
		--mountstats "$VM/mountstats.nospace.v4.1.1" \
		--mountstats "$VM/mountstats.nospace.v4.1.2" /mnt/m
	assert_output --regexp "state +WARN +stateful operations failed 167 times .*\(WRITE \+167"
	refute_output --regexp "state +FAIL"
}

@test "verify: a mount that did not move has no state check; bad mountstats say why" {
	record_mnt_m 0
	run nmk verify -t 2 --mountinfo "$VM/mountinfo.v4.0.before" --state-dir "$SD" \
		--mountstats "$VM/mountstats.v4.0.before" /mnt/m
	assert_output --regexp "state +SKIP +not moved"
	run nmk verify -t 2 --mountinfo "$VM/mountinfo.v4.0.after" --state-dir "$SD" \
		--mountstats /nonexistent/mountstats /mnt/m
	assert_output --regexp "state +WARN +cannot read mountstats: cannot open /nonexistent/mountstats"
	run nmk verify -t 2 --mountinfo "$VM/mountinfo.v4.0.after" --state-dir "$SD" \
		--mountstats "$VM/mountinfo.v4.0.after" /mnt/m
	assert_output --regexp "state +WARN +/mnt/m is not in mountstats"
	run nmk verify -t 2 --mountinfo "$VM/mountinfo.v4.0.after" --state-dir "$SD" /mnt/m
	assert_output --regexp "state +SKIP +a saved mount table without --mountstats"
	run nmk verify --state-interval x /mnt/m
	assert_failure 2
	assert_output --partial "--state-interval takes seconds"
}

@test "show: the record's entry handle, in text and JSON" {
	record_mnt_m 0
	run nmk show --mountinfo "$VM/mountinfo.v4.0.after" --state-dir "$SD" /mnt/m
	assert_success
	assert_line "entry handle:    numbers (fileid 12) 01000601000000000c000000a1b2c3d4"
	assert_line "server now:      198.51.100.2  (moved)"
	run nmk show -J --mountinfo "$VM/mountinfo.v4.0.after" --state-dir "$SD" /mnt/m
	echo "$output" | jq -e '.entry.name == "numbers" and .entry.fileid == 12 and .moved == true'
}
