#!/usr/bin/env bats
# NFS4ERR_LEASE_MOVED: nm_lease's check (RENEW in NFSv4.0, SEQUENCE's
# status flags in 4.1) and its probe of each file system of the server by
# its saved root handle, against fakesrv replaying a server that says so
# (tests/helpers/lease-replies.py wrote the replies: no server of the lab
# sends LEASE_MOVED).  tests/helpers/leaseprobe runs libcore's functions;
# a record is NAME=ROOTHANDLE@FSIDMAJOR:FSIDMINOR.

setup_file() {
	load helpers
	export LAB="nfsmig-t$$"
	"$NFSLAB" ns-down "$LAB" >/dev/null 2>&1 || true
	"$NFSLAB" ns-up "$LAB"
}

teardown_file() {
	load helpers
	lab_down
}

setup() {
	load helpers
}

teardown() {
	fake_stop
}

lp() {
	ip netns exec "$LAB" "$BUILD/tests/helpers/leaseprobe" "$@"
}

V40_CLIENT="wire/v40-lease-setclientid.hex wire/v40-lease-setclientid-confirm.hex"
V41_SESSION="wire/v41-exchange-id.hex wire/v41-create-session.hex"
V41_END="wire/v41-destroy-session.hex wire/v41-destroy-clientid.hex"
A=/mnt/a=01000100aa@1:1
B=/mnt/b=01000100bb@1:2
C=/mnt/c=01000100cc@1:3

@test "NFSv4.0: RENEW answered NFS4ERR_LEASE_MOVED: the lease moved" {
	fake_start 20600 replay $V40_CLIENT wire/v40-lease-renew-moved.hex
	run lp check 192.0.2.1 20600 0 2000
	assert_success
	assert_output "lease moved"
}

@test "NFSv4.0: RENEW answered NFS4_OK: the lease did not move" {
	fake_start 20601 replay $V40_CLIENT wire/v40-lease-renew-ok.hex
	run lp check 192.0.2.1 20601 0 2000
	assert_success
	assert_output "lease not moved"
}

@test "NFSv4.0: RENEW answered NFS4ERR_EXPIRED: no answer, never 'not moved'" {
	fake_start 20602 replay $V40_CLIENT wire/v40-lease-renew-expired.hex
	run lp check 192.0.2.1 20602 0 2000
	assert_failure 1
	assert_output --regexp '^lease unanswered: .*RENEW answered NFS4ERR_EXPIRED'
	refute_output --partial "not moved"
}

@test "NFSv4.0: a server that never answers RENEW: no answer within the deadline" {
	fake_start 20603 replay $V40_CLIENT
	t0=$(now_ms)
	run lp check 192.0.2.1 20603 0 1000
	assert_failure 1
	assert_output --regexp '^lease unanswered: '
	(($(now_ms) - t0 < 5000))
}

@test "NFSv4.1: SEQUENCE's SEQ4_STATUS_LEASE_MOVED: the lease moved" {
	fake_start 20604 replay $V41_SESSION wire/v41-lease-sequence-moved.hex $V41_END
	run lp check 192.0.2.1 20604 1 2000
	assert_success
	assert_output "lease moved"
}

@test "NFSv4.1: SEQUENCE without the flag: the lease did not move" {
	fake_start 20605 replay $V41_SESSION wire/v41-lease-sequence-none.hex $V41_END
	run lp check 192.0.2.1 20605 1 2000
	assert_success
	assert_output "lease not moved"
}

# The first COMPOUND asks a, b and c; it stops at a's GETATTR (MOVED).  The
# second asks b and c again: b answers its fsid, c MOVED.
@test "NFSv4.0 probe: one file system moved, one still here, one moved: each by its own answer" {
	fake_start 20606 replay $V40_CLIENT wire/v40-lease-renew-moved.hex \
		wire/v40-lease-probe-moved.hex wire/v40-lease-probe-here-moved.hex
	run lp watch 192.0.2.1 20606 0 2000 "$A" "$B" "$C"
	assert_success
	assert_line --index 0 "lease moved"
	assert_line "/mnt/a moved: GETATTR answered NFS4ERR_MOVED"
	assert_line "/mnt/b here: fsid 1:2 answered: still served here"
	assert_line "/mnt/c moved: GETATTR answered NFS4ERR_MOVED"
	assert_line "moved 2"
}

@test "NFSv4.0 probe: the lease did not move: nothing probed" {
	fake_start 20607 replay $V40_CLIENT wire/v40-lease-renew-ok.hex
	run lp watch 192.0.2.1 20607 0 2000 "$A" "$B"
	assert_success
	assert_output "lease not moved
no probe"
}

@test "NFSv4.1 probe: SEQUENCE flags, then the moved and the still-here file system" {
	fake_start 20608 replay $V41_SESSION wire/v41-lease-sequence-moved.hex \
		wire/v41-lease-probe-moved.hex wire/v41-lease-probe-here.hex $V41_END
	run lp watch 192.0.2.1 20608 1 2000 "$A" /mnt/b=01000100bb@1:1
	assert_success
	assert_line --index 0 "lease moved"
	assert_line "/mnt/a moved: GETATTR answered NFS4ERR_MOVED"
	assert_line "/mnt/b here: fsid 1:1 answered: still served here"
	assert_line "moved 1"
}

# A verdict is earned: the server stops answering after the first record.
@test "a record whose probe is not answered is 'unanswered', never 'here'" {
	fake_start 20609 replay wire/v40-lease-probe-moved.hex
	t0=$(now_ms)
	run lp probe 192.0.2.1 20609 0 1000 "$A" "$B"
	assert_success
	assert_line "/mnt/a moved: GETATTR answered NFS4ERR_MOVED"
	assert_line --regexp '^/mnt/b unanswered: not answered: 192\.0\.2\.1:20609: no reply within 1000 ms'
	refute_line --regexp '^/mnt/b here'
	assert_line "moved 1"
	(($(now_ms) - t0 < 5000))
}

@test "no server at all: every record unanswered, and the probe fails" {
	run lp probe 192.0.2.1 20610 0 1000 "$A" "$B"
	assert_failure 1
	assert_line --regexp '^/mnt/a unanswered: not answered: '
	assert_line --regexp '^/mnt/b unanswered: not answered: '
	assert_line --regexp '^probe failed: '
}

@test "an absent file system answered with rdattr_error MOVED and its locations: moved, where to" {
	fake_start 20611 replay wire/v40-lease-probe-absent.hex
	run lp probe 192.0.2.1 20611 0 2000 "$C"
	assert_success
	assert_line "/mnt/c moved: GETATTR's rdattr_error answered NFS4ERR_MOVED"
	assert_line "  location server-b:/d"
	assert_line "moved 1"
}

@test "a saved root handle the server calls stale: stale, not here and not moved" {
	fake_start 20612 replay wire/v40-lease-probe-putfh-stale.hex wire/v40-lease-probe-here-moved.hex
	run lp probe 192.0.2.1 20612 0 2000 "$A" "$B" "$C"
	assert_success
	assert_line --regexp '^/mnt/a stale: PUTFH of the saved root handle answered NFS4ERR_STALE'
	assert_line "/mnt/b here: fsid 1:2 answered: still served here"
	assert_line "/mnt/c moved: GETATTR answered NFS4ERR_MOVED"
	assert_line "moved 1"
}

@test "a record without a saved root handle is not asked: unanswered" {
	fake_start 20613 replay wire/v40-lease-probe-here.hex
	run lp probe 192.0.2.1 20613 0 2000 /mnt/none=@1:1 "$A"
	assert_success
	assert_line "/mnt/none unanswered: not answered: the record holds no root handle to ask with"
	assert_line "/mnt/a here: fsid 1:1 answered: still served here"
	assert_line "moved 0"
}
