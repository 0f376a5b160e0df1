#!/usr/bin/env bats
# NFS4ERR_LEASE_MOVED: nm_lease's check (RENEW in NFSv4.0, SEQUENCE's
# status flags in 4.1) and its probe of each file system of the server by
# its saved root handle, against fakesrv replaying a server that says so
# (tests/helpers/lease-replies.py wrote the replies: no server of the lab
# sends LEASE_MOVED), in its expect mode: each reply goes only to the
# call the client must send (REPLY,CALL: the wire/lease-call-*.call
# fixtures; the RENEW of the client id that SETCLIENTID_CONFIRM confirmed,
# the confirm verifier the server gave, the probe's operations and
# attribute masks).  tests/helpers/leaseprobe runs libcore's functions; a
# record is NAME=ROOTHANDLE@FSIDMAJOR:FSIDMINOR.  The replies are knfsd's
# to a migrated file system: PUTFH OK, GETFH NFS4ERR_MOVED.

setup_file() {
	load helpers
	export LAB="nfsmig-t$$"
	"$NFSLAB" ns-down "$LAB" >/dev/null 2>&1 || true
	"$NFSLAB" ns-up "$LAB"
	# SETCLIENTID's owner is one per host: nfsmig/HOSTNAME.
	"$TOP/tests/helpers/lease-replies.py" setclientid-call "nfsmig/$(hostname)" tcp \
		0.0.0.0.0.0 >"$BATS_FILE_TMPDIR/setclientid.call"
	"$TOP/tests/helpers/lease-replies.py" setclientid-call "nfsmig/$(hostname)" tcp6 \
		::.0.0 >"$BATS_FILE_TMPDIR/setclientid6.call"
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

# No call differed from what fakesrv expected (a differing call is not
# answered, so the client fails too; this says why).
calls_ok() {
	! grep 'differs' "$BATS_TEST_TMPDIR/fake.out"
}

lp() {
	ip netns exec "$LAB" "$BUILD/tests/helpers/leaseprobe" "$@"
}

W=wire
V40_CLIENT="$W/v40-lease-setclientid.hex,$BATS_FILE_TMPDIR/setclientid.call
$W/v40-lease-setclientid-confirm.hex,$W/lease-call-confirm.call"
RENEW="$W/lease-call-renew.call"
SEQ="$W/lease-call-sequence.call"
V41_SESSION="$W/v41-exchange-id.hex $W/v41-create-session.hex"
V41_END="$W/v41-destroy-session.hex $W/v41-destroy-clientid.hex"
A=/mnt/a=01000100aa@1:1
B=/mnt/b=01000100bb@1:2
C=/mnt/c=01000100cc@1:3

@test "NFSv4.0: RENEW answered NFS4ERR_LEASE_MOVED: the lease moved" {
	fake_start 20600 replay $V40_CLIENT $W/v40-lease-renew-moved.hex,$RENEW
	run lp check 192.0.2.1 20600 0 2000
	calls_ok
	assert_success
	assert_output "lease moved"
}

@test "NFSv4.0: RENEW answered NFS4_OK: our lease is quiet (not 'nothing moved')" {
	fake_start 20601 replay $V40_CLIENT $W/v40-lease-renew-ok.hex,$RENEW
	run lp check 192.0.2.1 20601 0 2000
	calls_ok
	assert_success
	assert_output "lease quiet"
}

@test "NFSv4.0: RENEW answered NFS4ERR_EXPIRED: no answer, never 'quiet'" {
	fake_start 20602 replay $V40_CLIENT $W/v40-lease-renew-expired.hex,$RENEW
	run lp check 192.0.2.1 20602 0 2000
	calls_ok
	assert_failure 1
	assert_output --regexp '^lease unanswered: .*RENEW answered NFS4ERR_EXPIRED'
	refute_output --partial "quiet"
}

@test "NFSv4.0: a server that never answers RENEW: no answer within the deadline" {
	fake_start 20603 replay $V40_CLIENT
	t0=$(now_ms)
	run lp check 192.0.2.1 20603 0 1000
	calls_ok
	assert_failure 1
	assert_output --regexp '^lease unanswered: '
	(($(now_ms) - t0 < 5000))
}

@test "NFSv4.1: SEQUENCE's SEQ4_STATUS_LEASE_MOVED: the lease moved" {
	fake_start 20604 replay $V41_SESSION $W/v41-lease-sequence-moved.hex,$SEQ $V41_END
	run lp check 192.0.2.1 20604 1 2000
	calls_ok
	assert_success
	assert_output "lease moved"
}

@test "NFSv4.1: SEQUENCE without the flag: our lease is quiet" {
	fake_start 20605 replay $V41_SESSION $W/v41-lease-sequence-none.hex,$SEQ $V41_END
	run lp check 192.0.2.1 20605 1 2000
	calls_ok
	assert_success
	assert_output "lease quiet"
}

# The first COMPOUND asks a, b and c; it stops at a's GETFH (MOVED).  The
# second asks b and c again: b answers its fsid, c MOVED.  The third asks
# where a and c went.
@test "NFSv4.0 probe: one file system moved, one still here, one moved: each by its own answer" {
	fake_start 20606 replay $V40_CLIENT $W/v40-lease-renew-moved.hex,$RENEW \
		$W/v40-lease-probe-moved.hex,$W/lease-call-probe-abc.call \
		$W/v40-lease-probe-here-moved.hex,$W/lease-call-probe-bc.call \
		$W/v40-lease-locations-two.hex,$W/lease-call-locations-ac.call
	run lp watch 192.0.2.1 20606 0 2000 "$A" "$B" "$C"
	calls_ok
	assert_success
	assert_line --index 0 "lease moved"
	assert_line --index 1 "/mnt/a moved: GETFH answered NFS4ERR_MOVED"
	assert_line --index 2 "  location server-b:/d"
	assert_line --index 3 "/mnt/b here: fsid 1:2 answered: still served here"
	assert_line --index 4 "/mnt/c moved: GETFH answered NFS4ERR_MOVED"
	assert_line --index 5 "  location server-c:/d"
	assert_line "moved 2"
}

# LEASE_MOVED goes to the leases holding state on the moved file system:
# the kernel's, never nfsmig's.  The probe starts from the kernel's news,
# whatever our own lease says.
@test "NFSv4.0 probe: our lease is quiet: the probe runs all the same" {
	fake_start 20607 replay $V40_CLIENT $W/v40-lease-renew-ok.hex,$RENEW \
		$W/v40-lease-probe-moved.hex,$W/lease-call-probe-ab.call \
		$W/v40-lease-probe-here.hex,$W/lease-call-probe-b.call \
		$W/v40-lease-locations-one.hex,$W/lease-call-locations-a.call
	run lp watch 192.0.2.1 20607 0 2000 "$A" /mnt/b=01000100bb@1:1
	calls_ok
	assert_success
	assert_line --index 0 "lease quiet"
	assert_line "/mnt/a moved: GETFH answered NFS4ERR_MOVED"
	assert_line "/mnt/b here: fsid 1:1 answered: still served here"
	assert_line "moved 1"
}

@test "NFSv4.1 probe: SEQUENCE flags, then the moved and the still-here file system" {
	fake_start 20608 replay $V41_SESSION $W/v41-lease-sequence-moved.hex,$SEQ \
		$W/v41-lease-probe-moved.hex,$W/lease-call-v41-probe-ab.call \
		$W/v41-lease-probe-here.hex,$W/lease-call-v41-probe-b.call \
		$W/v41-lease-locations-one.hex,$W/lease-call-v41-locations-a.call $V41_END
	run lp watch 192.0.2.1 20608 1 2000 "$A" /mnt/b=01000100bb@1:1
	calls_ok
	assert_success
	assert_line --index 0 "lease moved"
	assert_line "/mnt/a moved: GETFH answered NFS4ERR_MOVED"
	assert_line "  location server-b:/d"
	assert_line "/mnt/b here: fsid 1:1 answered: still served here"
	assert_line "moved 1"
}

# A verdict is earned: the server stops answering after the first record.
@test "a record whose probe is not answered is 'unanswered', never 'here'" {
	fake_start 20609 replay $W/v40-lease-probe-moved.hex,$W/lease-call-probe-ab.call
	t0=$(now_ms)
	run lp probe 192.0.2.1 20609 0 1000 "$A" "$B"
	calls_ok
	assert_success
	assert_line --regexp '^/mnt/a moved: GETFH answered NFS4ERR_MOVED'
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

# knfsd answers GETATTR of fsid on an absent file system NFS4_OK with the
# referral fsid; a server that also lets GETFH through has not said "here".
@test "the referral fsid 0x8000000:0x8000000 answered: never 'here', even when the record has it" {
	fake_start 20611 replay $W/v40-lease-probe-referral.hex,$W/lease-call-probe-c.call
	run lp probe 192.0.2.1 20611 0 2000 /mnt/c=01000100cc@0x8000000:0x8000000
	calls_ok
	assert_success
	assert_line --regexp '^/mnt/c other: the saved root handle answers the referral fsid 0x8000000:0x8000000'
	refute_line --regexp ' here: '
	assert_line "moved 0"
}

@test "the locations of a moved file system cannot be had: still moved, and says why" {
	fake_start 20614 replay $W/v40-lease-probe-moved.hex,$W/lease-call-probe-a.call \
		$W/v40-lease-probe-putfh-stale.hex,$W/lease-call-locations-a.call
	run lp probe 192.0.2.1 20614 0 2000 "$A"
	calls_ok
	assert_success
	assert_line "/mnt/a moved: GETFH answered NFS4ERR_MOVED (its locations: PUTFH answered NFS4ERR_STALE)"
	assert_line "moved 1"
}

@test "a saved root handle the server calls stale: stale, not here and not moved" {
	fake_start 20612 replay $W/v40-lease-probe-putfh-stale.hex,$W/lease-call-probe-abc.call \
		$W/v40-lease-probe-here-moved.hex,$W/lease-call-probe-bc.call \
		$W/v40-lease-locations-one.hex,$W/lease-call-locations-c.call
	run lp probe 192.0.2.1 20612 0 2000 "$A" "$B" "$C"
	calls_ok
	assert_success
	assert_line --regexp '^/mnt/a stale: PUTFH of the saved root handle answered NFS4ERR_STALE'
	assert_line "/mnt/b here: fsid 1:2 answered: still served here"
	assert_line "/mnt/c moved: GETFH answered NFS4ERR_MOVED"
	assert_line "  location server-b:/d"
	assert_line "moved 1"
}

@test "a record without a saved root handle is not asked: unanswered" {
	fake_start 20613 replay $W/v40-lease-probe-here.hex,$W/lease-call-probe-a.call
	run lp probe 192.0.2.1 20613 0 2000 /mnt/none=@1:1 "$A"
	calls_ok
	assert_success
	assert_line "/mnt/none unanswered: not answered: the record holds no root handle to ask with"
	assert_line "/mnt/a here: fsid 1:1 answered: still served here"
	assert_line "moved 0"
}

@test "no record with a saved root handle: nothing asked, and the probe fails" {
	fake_start 20615 replay $W/v40-lease-probe-here.hex
	run lp probe 192.0.2.1 20615 0 2000 /mnt/none=@1:1
	assert_failure 1
	assert_line "/mnt/none unanswered: not answered: the record holds no root handle to ask with"
	assert_line --regexp '^probe failed: .*no record with a saved root handle'
}

# The whole probe within its deadline: a, moved, then b answered
# NFS4ERR_DELAY at every try; a's locations are not asked once it passed.
@test "a server that says NFS4ERR_DELAY: the whole probe ends within its deadline" {
	local d=$W/v40-putfh-delay.hex
	fake_start 20616 replay $W/v40-lease-probe-moved.hex,$W/lease-call-probe-ab.call \
		$d $d $d $d $d $d $d $d $d $d $d $d $d $d $d $d $d $d $d $d
	t0=$(now_ms)
	run lp probe 192.0.2.1 20616 0 2000 "$A" "$B"
	t=$(($(now_ms) - t0))
	calls_ok
	assert_success
	assert_line --regexp '^/mnt/a moved: GETFH answered NFS4ERR_MOVED \(its locations not asked: the probe.s deadline passed\)'
	assert_line --regexp '^/mnt/b unanswered: PUTFH of the saved root handle answered NFS4ERR_DELAY until the deadline'
	assert_line "moved 1"
	echo "took $t ms" >&3
	((t < 3200))
}

# SEQUENCE's flags are ORed until taken: the probe's SEQUENCE said
# LEASE_MOVED, the check's next one did not; the check after that sees
# only its own.
@test "NFSv4.1: LEASE_MOVED said by an earlier SEQUENCE of the session is not lost, and taken once" {
	fake_start 20617 replay $V41_SESSION \
		$W/v41-lease-probe-here.hex,$W/lease-call-v41-probe-b.call \
		$W/v41-lease-sequence-none.hex,$SEQ $W/v41-lease-sequence-none.hex,$SEQ $V41_END
	run lp probecheck 192.0.2.1 20617 1 2000 /mnt/b=01000100bb@1:1
	calls_ok
	assert_success
	assert_line --index 0 "/mnt/b here: fsid 1:1 answered: still served here"
	assert_line --index 1 "moved 0"
	assert_line --index 2 "lease moved"
	assert_line --index 3 "lease quiet"
}

@test "NFSv4.0: SETCLIENTID answered NFS4ERR_DELAY is asked again within the deadline" {
	fake_start 20618 replay $W/v40-lease-setclientid-delay.hex,$BATS_FILE_TMPDIR/setclientid.call \
		$V40_CLIENT $W/v40-lease-renew-moved.hex,$RENEW
	run lp check 192.0.2.1 20618 0 2000
	calls_ok
	assert_success
	assert_output "lease moved"
}

@test "NFSv4.0 over IPv6: SETCLIENTID's callback netid is tcp6" {
	local out=$BATS_TEST_TMPDIR/fake.out
	ip netns exec "$LAB" "$BUILD/tests/helpers/fakesrv" 2001:db8::1 20619 replay \
		$W/v40-lease-setclientid.hex,$BATS_FILE_TMPDIR/setclientid6.call \
		$W/v40-lease-setclientid-confirm.hex,$W/lease-call-confirm.call \
		$W/v40-lease-renew-moved.hex,$RENEW >"$out" 2>&1 &
	echo $! >>"$BATS_TEST_TMPDIR/fake.pids"
	for ((i = 0; i < 100; i++)); do
		grep -q ready "$out" && break
		sleep 0.05
	done
	run lp check 2001:db8::1 20619 0 2000
	calls_ok
	assert_success
	assert_output "lease moved"
}
