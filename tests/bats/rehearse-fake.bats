#!/usr/bin/env bats
# nfsmig rehearse against tests/helpers/fakenfs4: one process serving a
# source (127.0.0.2) and a destination (127.0.0.3) in a network namespace of
# this file's own; the file system moves when the test sends SIGUSR1, and
# --at-move chooses what the destination does.  Each test waits for
# rehearse's "waiting for the move:" line, moves, and checks the verdict
# (text or -J), the exit status, and what the server saw (fakenfs4 logs
# every COMPOUND's operations and statuses on stderr).

setup_file() {
	load helpers
	export FNS="nfsmig-t$$-fake"
	ip netns del "$FNS" 2>/dev/null || true
	ip netns add "$FNS"
	ip -n "$FNS" link set lo up
}

teardown_file() {
	ip netns del "nfsmig-t$$-fake" 2>/dev/null || true
}

setup() {
	load helpers
	T=$BATS_TEST_TMPDIR
	FAKE=$BUILD/tests/helpers/fakenfs4
	CONTENT="the same bytes on both servers"
}

teardown() {
	local p
	for p in $(cat "$T/pids" 2>/dev/null); do
		kill "$p" 2>/dev/null || true
		kill -CONT "$p" 2>/dev/null || true
	done
	for p in $(cat "$T/pids" 2>/dev/null); do
		wait "$p" 2>/dev/null || true
	done
	if [ -n "${BATS_TEST_COMPLETED:-}" ] || [ ! -e "$T/fk.err" ]; then
		return 0
	fi
	{
		echo "# rehearse:"
		sed 's/^/#   /' "$T/reh.out" 2>/dev/null
		echo "# fakenfs4:"
		sed 's/^/#   /' "$T/fk.err"
	} >&3
}

# fk_start MINOR ARGS...: the server; waits until it listens.
fk_start() {
	local minor=$1 i
	shift
	ip netns exec "$FNS" "$FAKE" --minor "$minor" --src 127.0.0.2:20490 \
		--dst 127.0.0.3:20490 --export /d --file "f=$CONTENT" "$@" \
		>"$T/fk.out" 2>"$T/fk.err" &
	FK=$!
	echo "$FK" >>"$T/pids"
	for ((i = 0; i < 100; i++)); do
		grep -q '^ready$' "$T/fk.out" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "fakenfs4 did not start: $(cat "$T/fk.err")" >&2
	return 1
}

# reh_start ARGS...: nfsmig rehearse of 127.0.0.2:/d/f in the background.
reh_start() {
	ip netns exec "$FNS" "$BUILD/cmd/nfsmig" rehearse 127.0.0.2:/d/f --port 20490 \
		--interval 100 --wait 20 --timeout 5 "$@" >"$T/reh.out" 2>&1 &
	REH=$!
	echo "$REH" >>"$T/pids"
}

# until_line REGEX FILE [SECONDS]: poll FILE for a line matching REGEX.
until_line() {
	local i n=$((${3:-10} * 20))
	for ((i = 0; i < n; i++)); do
		grep -qE -- "$1" "$2" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "no line /$1/ in $2 within ${3:-10} s:" >&2
	cat "$2" >&2
	return 1
}

# reh_wait [SECONDS]: until rehearse ended; its exit status in REH_RC.
reh_wait() {
	local i n=$((${1:-15} * 20))
	for ((i = 0; i < n; i++)); do
		if ! kill -0 "$REH" 2>/dev/null; then
			REH_RC=0
			wait "$REH" || REH_RC=$?
			return 0
		fi
		sleep 0.05
	done
	echo "rehearse did not end within ${1:-15} s:" >&2
	cat "$T/reh.out" >&2
	return 1
}

# rehearse_move MINOR 'FAKENFS4 ARGS' REHEARSE ARGS...: the whole exchange.
# The text output says when it waits; -J does not, so then the server's
# log says it: the wait's first RENEW (4.0) or SEQUENCE alone (4.1) comes
# once every file is held.
rehearse_move() {
	local minor=$1 fargs=$2 a json=false
	shift 2
	# shellcheck disable=SC2086 # fargs: words of options
	fk_start "$minor" $fargs
	reh_start --vers "4.$minor" "$@"
	for a in "$@"; do
		[ "$a" != -J ] || json=true
	done
	if $json; then
		until_line "^fakenfs4 src 4\.$minor: (RENEW|SEQUENCE)=OK$" "$T/fk.err"
	else
		until_line '^waiting for the move: ' "$T/reh.out"
	fi
	kill -USR1 "$FK"
	until_line '^moved$' "$T/fk.out" 5
	reh_wait
}

# jfile FILTER: a field of the only file in the -J output.
jfile() {
	jq -r ".files[0] | $1" "$T/reh.out"
}

@test "fakenfs4: nfsmig locations sees the file system here, then absent with the destination" {
	fk_start 1 --at-move tsm
	run ip netns exec "$FNS" "$BUILD/cmd/nfsmig" locations --no-reach -t 5 127.0.0.2:20490:/d/f
	assert_success
	assert_output --partial "/d/f on 127.0.0.2 (NFSv4.1)"
	assert_output --partial "fsid:     0x4e4d:0x1"
	assert_output --partial "no other locations"
	# The destination does not have it before the move.
	run ip netns exec "$FNS" "$BUILD/cmd/nfsmig" locations --no-reach -t 5 127.0.0.3:20490:/d/f
	assert_failure
	assert_output --partial "NFS4ERR_NOENT"
	kill -USR1 "$FK"
	until_line '^moved$' "$T/fk.out" 5
	run ip netns exec "$FNS" "$BUILD/cmd/nfsmig" locations --no-reach -t 5 -J 127.0.0.2:20490:/d/f
	assert_success
	run jq -r '.locations[0] | "\(.server) \(.rootpath) \(.fs_path) \(.fs_root) \(.absent)"' <<<"$output"
	assert_output "127.0.0.3 /d /d /d true"
	run ip netns exec "$FNS" "$BUILD/cmd/nfsmig" locations --no-reach -t 5 127.0.0.3:20490:/d/f
	assert_success
	assert_output --partial "/d/f on 127.0.0.3 (NFSv4.1)"
	# What the server answered, in its log: the probe GETATTR after LOOKUP
	# of the absent /d, and the version 4.2 it does not speak.
	run cat "$T/fk.err"
	assert_line --partial "fakenfs4 src 4.2: status=10021"
	assert_line --regexp '^fakenfs4 src 4\.1: SEQUENCE=OK PUTROOTFH=OK GETATTR=OK LOOKUP=OK GETATTR=OK LOOKUP=MOVED$'
}

@test "fakenfs4: NFSv4.0 locations, and bad arguments refused" {
	fk_start 0 --referral
	run ip netns exec "$FNS" "$BUILD/cmd/nfsmig" locations --no-reach -t 5 --nfsvers 4.0 \
		127.0.0.2:20490:/d/f
	assert_success
	assert_output --partial "/d/f on 127.0.0.2 (NFSv4.0): /d is absent"
	assert_output --regexp "127\.0\.0\.3 +/d"
	run "$FAKE" --minor 2 --src 127.0.0.2:1 --dst 127.0.0.3:1 --export /d
	assert_failure 2
	run "$FAKE" --minor 0 --src 127.0.0.2 --dst 127.0.0.3:1 --export /d
	assert_failure 2
	run "$FAKE" --minor 0 --src 127.0.0.2:1 --dst 127.0.0.3:1 --export / --file f=x
	assert_failure 2
	run "$FAKE" --minor 0 --src 127.0.0.2:1 --dst 127.0.0.3:1 --export /d --file a/b=x
	assert_failure 2
	run "$FAKE" --minor 0 --src 127.0.0.2:1 --dst 127.0.0.3:1 --export /d --at-move maybe
	assert_failure 2
}

# raw_calls MINOR: COMPOUNDs fakenfs4 must refuse, each on a connection of
# its own; prints per call "STATUS RESOP:STATUS..." or "closed".
raw_calls() {
	ip netns exec "$FNS" python3 - "$1" <<'EOF'
import socket, struct, sys
minor = int(sys.argv[1])
def u32(*v): return b"".join(struct.pack(">I", x) for x in v)
def call(args, mark=None, cred=u32(0, 0)):
    s = socket.create_connection(("127.0.0.2", 20490), timeout=5)
    body = u32(7, 0, 2, 100003, 4, 1) + cred + u32(0, 0) + args
    s.sendall(u32(mark if mark is not None else 0x80000000 | len(body)) + body)
    data = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk: break
            data += chunk
            if len(data) >= 4 and len(data) - 4 >= (struct.unpack(">I", data[:4])[0] & 0x7fffffff): break
    except socket.timeout:
        return "timeout"
    s.close()
    if not data: return "closed"
    w = struct.unpack(">%dI" % ((len(data) - 4) // 4), data[4:4 + (len(data) - 4) // 4 * 4])
    # xid REPLY ACCEPTED verf(0,0) SUCCESS status tag(0) nres (op status)...
    if w[2] != 0: return "denied %d %d" % (w[3], w[4])
    if w[5] != 0: return "not accepted %d" % w[5]
    out = [str(w[6])]
    for i in range(w[8]):  # results of these calls are an op and a status
        out.append("%d:%d" % (w[9 + 2 * i], w[10 + 2 * i]))
    return " ".join(out)
def compound(m, ops): return u32(0, m, len(ops)) + b"".join(ops)
print(call(compound(minor, [u32(3, 0, 0)])))                 # ACCESS: not spoken
print(call(compound(minor, [u32(99)])))                      # no such operation
print(call(compound(minor, [u32(24)])))                      # PUTROOTFH (4.1: no SEQUENCE)
print(call(compound(1 - minor, [u32(24)])))                  # the other minor version
print(call(compound(minor, [u32(24)] * 129)))                # too many operations
print(call(compound(minor, [u32(24), u32(15, 2000) + b"a" * 2000])))  # LOOKUP past its bound
print(call(b"", mark=0xffffffff))                            # a 2 GiB record
print(call(compound(minor, [u32(24)]), cred=u32(1, 500) + b"\0" * 500))  # a credential too long
print(call(compound(minor, [u32(24)]), cred=u32(6, 0)))      # RPCSEC_GSS
EOF
}

@test "fakenfs4: what it does not speak, and lengths past their bounds" {
	fk_start 0
	run raw_calls 0
	assert_success
	# ACCESS NOTSUPP; 99 OP_ILLEGAL; PUTROOTFH OK; MINOR_VERS_MISMATCH with
	# no result; RESOURCE for 129 operations; BADXDR for the LOOKUP (the
	# PUTROOTFH before it answered); the huge record and the long
	# credential close the connection; RPCSEC_GSS denied (AUTH_ERROR,
	# AUTH_BADCRED).
	assert_output "$(printf '%s\n' '10004 3:10004' '10044 10044:10044' '0 24:0' '10021' \
		'10018' '10036 24:0 15:10036' closed closed 'denied 1 1')"
	kill "$FK"
	wait "$FK" 2>/dev/null || true
	fk_start 1
	run raw_calls 1
	assert_success
	assert_output "$(printf '%s\n' '10004 3:10004' '10044 10044:10044' '10071 24:10071' '10021' \
		'10070' '10071 24:10071' closed closed 'denied 1 1')"
	# It still serves.
	run ip netns exec "$FNS" "$BUILD/cmd/nfsmig" locations --no-reach -t 5 127.0.0.2:20490:/d/f
	assert_success
	assert_output --partial "no other locations"
}

@test "rehearse: transparent state migration, NFSv4.1 (-J): TEST_STATEID of the old stateids" {
	rehearse_move 1 "--at-move tsm" -J
	[ "$REH_RC" -eq 0 ]
	[ "$(jfile .kind)" = migration ]
	[ "$(jfile .state)" = transparent ]
	[ "$(jfile .verdict)" = "state moved transparently" ]
	[ "$(jfile .destination)" = 127.0.0.3 ]
	[ "$(jfile '.locations[0] | "\(.server):\(.path)"')" = 127.0.0.3:/d ]
	[ "$(jfile .read_same)" = true ]
	[ "$(jfile .lock_gap_ms)" = null ]
	[ -n "$(jfile .kernel)" ]
	[ "$(jfile '[.steps[] | select(.step == "state") | .rpcs | index("TEST_STATEID")] | length')" = 1 ]
	# One client on each server, the destination's holding one file system.
	[ "$(jq -r '[.clients[] | "\(.server) \(.minor) \(.file_systems)"] | sort | join(",")' "$T/reh.out")" = \
		"127.0.0.2 1 1,127.0.0.3 1 1" ]
	run cat "$T/fk.err"
	assert_line "fakenfs4 dst 4.1: SEQUENCE=OK TEST_STATEID=OK(OK,OK)"
	assert_line "fakenfs4 dst 4.1: SEQUENCE=OK PUTFH=OK READ=OK"
	refute_line --regexp "^fakenfs4 dst .*(LOCK|OPEN)="
}

@test "rehearse: transparent state migration, NFSv4.0: the old client ID renews on the destination" {
	rehearse_move 0 "--at-move tsm"
	[ "$REH_RC" -eq 0 ]
	run cat "$T/reh.out"
	assert_line --regexp "^\+[0-9]+\.[0-9]{3} state: RENEW of the source's client ID [0-9a-f]{16} answered NFS4_OK: the state came along \[RENEW\]$"
	assert_line "verdict 127.0.0.2:/d/f: state moved transparently"
	assert_line --regexp '^kernel: .+'
	assert_line "read 127.0.0.2:/d/f: same checksum"
	# The lock owner let go of with the client ID its LOCK was made
	# with (the source's), its answer a step.
	assert_line --regexp '^\+[0-9.]+ release-lockowner: lock owner of client ID [0-9a-f]{16}: NFS4_OK on 127\.0\.0\.3 \[RELEASE_LOCKOWNER\]$'
	run cat "$T/fk.err"
	assert_line "fakenfs4 dst 4.0: RENEW=OK"
	assert_line "fakenfs4 dst 4.0: PUTFH=OK READ=OK"
	assert_line "fakenfs4 dst 4.0: RELEASE_LOCKOWNER=OK"
}

# The "destination" is the source under another address (EXCHANGE_ID
# says the same server_owner and scope): its old stateids answering there
# prove no transparent move.
@test "rehearse: a location that is the source itself is no transparent move, NFSv4.1" {
	rehearse_move 1 "--at-move tsm --same-owner" -J
	[ "$(jfile .state)" != transparent ]
	[ "$REH_RC" -ne 0 ]
	[ "$(jfile '.steps[] | select(.step == "state") | .message')" = \
		"127.0.0.3 is the source itself (the same server_owner and scope): the old state answering there is no transparent move" ]
}

@test "rehearse: reclaim in the destination's grace period, NFSv4.0 and 4.1" {
	local m
	for m in 0 1; do
		rehearse_move "$m" "--at-move reclaim" -J
		[ "$REH_RC" -eq 0 ]
		[ "$(jfile .state)" = reclaim ]
		[ "$(jfile .verdict)" = "state recovered by reclaim" ]
		[ "$(jfile .read_same)" = true ]
		run cat "$T/fk.err"
		# The reclaim's OPEN and LOCK answered on the destination, nothing
		# re-opened by name there.
		assert_line --regexp "^fakenfs4 dst 4\.$m: (SEQUENCE=OK )?PUTFH=OK OPEN=OK GETFH=OK$"
		assert_line --regexp "^fakenfs4 dst 4\.$m: (SEQUENCE=OK )?PUTFH=OK LOCK=OK$"
		refute_line --regexp "^fakenfs4 dst .*LOOKUP=OK OPEN="
		kill "$FK"
		wait "$FK" 2>/dev/null || true
	done
}

# two_files MINOR: after two_files_move, f and g were reclaimed in the
# destination's grace through one client ID made there (4.1: one session).
two_files() {
	local m=$1
	[ "$(jq -r '[.files[] | "\(.file) \(.state) \(.read_same)"] | join(",")' "$T/reh.out")" = \
		"127.0.0.2:/d/f reclaim true,127.0.0.2:/d/g reclaim true" ]
	[ "$REH_RC" -eq 0 ]
	[ "$(jq -r '[.clients[] | select(.destination) | .server] | join(",")' "$T/reh.out")" = 127.0.0.3 ]
	[ "$(grep -cE "^fakenfs4 dst 4\.$m: (SETCLIENTID|EXCHANGE_ID)=OK$" "$T/fk.err")" -eq 1 ]
	[ "$(grep -cE "^fakenfs4 dst 4\.$m: (SEQUENCE=OK )?PUTFH=OK LOCK=OK$" "$T/fk.err")" -eq 2 ]
}

two_files_move() {
	CONTENT="f's bytes"
	rehearse_move "$1" "--at-move reclaim --file g=g's-other-bytes" --file 127.0.0.2:/d/g -J
}

@test "rehearse: two files reclaimed through one destination client, NFSv4.0" {
	two_files_move 0
	two_files 0
}

# RFC 8881 18.51.3: after RECLAIM_COMPLETE (rca_one_fs FALSE) a client may
# reclaim nothing more (NFS4ERR_NO_GRACE; knfsd does the same), so a client
# shared by several file systems sends it once all of them are reclaimed.
@test "rehearse: two files reclaimed through one destination client, NFSv4.1 (RECLAIM_COMPLETE after both)" {
	two_files_move 1
	run grep -E "^fakenfs4 dst 4\.1: .*(RECLAIM_COMPLETE|OPEN)=" "$T/fk.err"
	refute_line --regexp "OPEN=NO_GRACE"
	two_files 1
}

# Two sources (a second fakenfs4 on 127.0.0.4, its destination 127.0.0.5):
# the first's file system moves, the second's does not.  The moved one is
# recovered as soon as its move is seen, while the wait (60 s) goes on for
# the other; SIGINT then lets go of both.
@test "rehearse: a file system that moved is recovered at once while another has not moved" {
	local m p
	for m in 0 1; do
		fk_start "$m" --at-move reclaim
		ip netns exec "$FNS" "$FAKE" --minor "$m" --src 127.0.0.4:20490 \
			--dst 127.0.0.5:20490 --export /d --file "f=$CONTENT" \
			>"$T/fk2.out" 2>"$T/fk2.err" &
		echo "$!" >>"$T/pids"
		until_line '^ready$' "$T/fk2.out" 5
		reh_start --vers "4.$m" --file 127.0.0.4:/d/f --wait 60
		until_line '^waiting for the move: ' "$T/reh.out"
		kill -USR1 "$FK"
		# The reclaim and the READ on the destination, within seconds.
		until_line '^\+[0-9.]+ reclaim: .*OPEN and LOCK reclaimed' "$T/reh.out" 10
		until_line '^\+[0-9.]+ read: .* on 127\.0\.0\.3' "$T/reh.out" 10
		kill -0 "$REH" # still waiting for the other
		kill -INT "$REH"
		reh_wait 10
		[ "$REH_RC" -eq 130 ]
		run cat "$T/fk2.err"
		refute_line --regexp "NFS4ERR_MOVED|MOVED"
		for p in $(cat "$T/pids"); do
			kill "$p" 2>/dev/null || true
			wait "$p" 2>/dev/null || true
		done
		: >"$T/pids"
	done
}

@test "rehearse: LEASE_MOVED on NFSv4.0 RENEW, then the probe with the saved root handle" {
	rehearse_move 0 "--at-move reopen --signal lease-moved"
	[ "$REH_RC" -eq 1 ]
	run cat "$T/reh.out"
	assert_line --regexp '^\+[0-9.]+ lease-moved: RENEW answered NFS4ERR_LEASE_MOVED: '
	assert_line --regexp '^\+[0-9.]+ moved: GETFH of the saved root handle answered NFS4ERR_MOVED: '
	assert_line --regexp '^verdict 127\.0\.0\.2:/d/f: state recovered by re-open: locks were unprotected for [0-9]+ ms$'
	assert_line "read 127.0.0.2:/d/f: same checksum"
	run cat "$T/fk.err"
	assert_line "fakenfs4 src 4.0: RENEW=LEASE_MOVED"
	assert_line "fakenfs4 src 4.0: PUTFH=OK GETFH=MOVED"
	# The RENEW that comes after GETATTR(fs_locations) ends the condition.
	assert_line "fakenfs4 src 4.0: PUTFH=OK GETATTR=OK RENEW=OK"
}

@test "rehearse: LEASE_MOVED on NFSv4.1 (SEQ4_STATUS_LEASE_MOVED), re-open (-J)" {
	rehearse_move 1 "--at-move reopen --signal lease-moved" -J
	[ "$REH_RC" -eq 1 ]
	[ "$(jfile .state)" = reopen ]
	[ "$(jfile '.steps[] | select(.step == "lease-moved") | .status')" = ok ]
	[ "$(jfile '.steps[] | select(.step == "moved") | .message' | grep -c 'saved root handle')" = 1 ]
	gap=$(jfile .lock_gap_ms)
	[[ "$gap" =~ ^[0-9]+$ ]]
	[ "$(jfile .verdict)" = "state recovered by re-open: locks were unprotected for $gap ms" ]
	run cat "$T/fk.err"
	assert_line "fakenfs4 dst 4.1: SEQUENCE=OK TEST_STATEID=OK(BAD_STATEID,BAD_STATEID)"
	assert_line "fakenfs4 dst 4.1: SEQUENCE=OK PUTROOTFH=OK LOOKUP=OK OPEN=OK GETFH=OK"
}

@test "rehearse: FHEXPIRED on the destination: the file found again by its path" {
	rehearse_move 1 "--at-move fhexpired"
	[ "$REH_RC" -eq 1 ]
	run cat "$T/reh.out"
	assert_line --regexp '^\+[0-9.]+ reclaim: OPEN\(CLAIM_PREVIOUS\) answered NFS4ERR_FHEXPIRED: '
	assert_line --regexp '^\+[0-9.]+ lookup: /d found again by path on the destination '
	assert_line --regexp '^verdict 127\.0\.0\.2:/d/f: state recovered by re-open: locks were unprotected for [0-9]+ ms$'
	assert_line "read 127.0.0.2:/d/f: same checksum"
	run cat "$T/fk.err"
	assert_line "fakenfs4 dst 4.1: SEQUENCE=OK PUTFH=FHEXPIRED"
}

# The state moved but the handles did not (fh_expire_type volatile, RFC
# 7931's FH4_VOL_MIGRATION case): the old stateids READ on the handle found
# again by path.
@test "rehearse: transparent state migration with volatile handles: READ on the file found again by its path" {
	rehearse_move 1 "--at-move tsm --volatile-fh" -J
	run cat "$T/fk.err"
	assert_line "fakenfs4 dst 4.1: SEQUENCE=OK TEST_STATEID=OK(OK,OK)"
	assert_line "fakenfs4 dst 4.1: SEQUENCE=OK PUTFH=FHEXPIRED"
	assert_line "fakenfs4 dst 4.1: SEQUENCE=OK PUTFH=OK READ=OK"
	[ "$(jfile .state)" = transparent ]
	[ "$(jfile .read_same)" = true ]
	[ "$REH_RC" -eq 0 ]
}

@test "rehearse: a lock taken by another owner during recovery, NFSv4.0" {
	rehearse_move 0 "--at-move conflict" -J
	[ "$REH_RC" -eq 1 ]
	[ "$(jfile .state)" = conflict ]
	[ "$(jfile .verdict)" = "state recovered by re-open: the lock was taken by another owner in the gap" ]
	[ "$(jfile '.steps[] | select(.step == "relock") | .status')" = failed ]
	run cat "$T/fk.err"
	assert_line "fakenfs4 dst 4.0: PUTFH=OK LOCK=DENIED"
}

@test "rehearse: the file gone on the destination: state lost" {
	rehearse_move 1 "--at-move lost"
	[ "$REH_RC" -eq 1 ]
	run cat "$T/reh.out"
	assert_line "verdict 127.0.0.2:/d/f: state lost and not recoverable"
	run cat "$T/fk.err"
	assert_line "fakenfs4 dst 4.1: SEQUENCE=OK PUTROOTFH=OK LOOKUP=OK OPEN=NOENT"
}

@test "rehearse --now on a referral: no state, read on the destination" {
	fk_start 1 --referral
	run ip netns exec "$FNS" "$BUILD/cmd/nfsmig" rehearse 127.0.0.2:/d/f --port 20490 --now \
		--timeout 5 -J
	assert_success
	[ "$(jq -r '.files[0].state' <<<"$output")" = referral ]
	[ "$(jq -r '.files[0].kind' <<<"$output")" = referral ]
	[ "$(jq -r '.files[0].verdict' <<<"$output")" = "referral, no state" ]
	run cat "$T/fk.err"
	assert_line "fakenfs4 dst 4.1: SEQUENCE=OK PUTFH=OK READ=OK"
}

@test "rehearse: SIGINT while waiting lets go on the server (LOCKU, CLOSE, DESTROY_*), exit 130" {
	fk_start 1 --at-move tsm
	reh_start --vers 4.1
	until_line '^waiting for the move: ' "$T/reh.out"
	kill -INT "$REH"
	reh_wait 10
	[ "$REH_RC" -eq 130 ]
	run cat "$T/fk.err"
	assert_line "fakenfs4 src 4.1: SEQUENCE=OK PUTFH=OK LOCKU=OK CLOSE=OK"
	assert_line "fakenfs4 src 4.1: DESTROY_SESSION=OK"
	assert_line "fakenfs4 src 4.1: DESTROY_CLIENTID=OK"
}

# Letting go of a server that stopped answering is bounded: each call at
# most 2 s once interrupted (not --timeout's 20 s), and a second SIGINT
# ends at once (within 1 s, less than one bounded call).
@test "rehearse: SIGINT with the server gone: letting go bounded, a second SIGINT ends at once" {
	local t0
	fk_start 1 --at-move tsm
	reh_start --vers 4.1 --interval 5000 --timeout 20
	until_line '^waiting for the move: ' "$T/reh.out"
	kill -STOP "$FK"
	t0=$SECONDS
	kill -INT "$REH"
	reh_wait 12
	[ "$REH_RC" -eq 130 ]
	[ $((SECONDS - t0)) -le 8 ]
	kill -CONT "$FK"
	kill "$FK"
	wait "$FK" 2>/dev/null || true
	: >"$T/pids"
	rm -f "$T/reh.out" "$T/fk.out"
	fk_start 1 --at-move tsm
	reh_start --vers 4.1 --interval 5000 --timeout 20
	until_line '^waiting for the move: ' "$T/reh.out"
	kill -STOP "$FK"
	kill -INT "$REH"
	# Two signals, not one pending: the second 0.5 s into the CLOSE's
	# bounded 2 s, and the end within 1 s of it.
	sleep 0.5
	kill -INT "$REH"
	reh_wait 1
	[ "$REH_RC" -eq 130 ]
	kill -CONT "$FK"
}

@test "rehearse: a source that stops answering after the move earns no verdict (exit 3)" {
	fk_start 0 --at-move tsm
	reh_start --vers 4.0 --timeout 1
	until_line '^waiting for the move: ' "$T/reh.out"
	kill -STOP "$FK"
	reh_wait 15
	kill -CONT "$FK"
	[ "$REH_RC" -eq 3 ]
	run cat "$T/reh.out"
	assert_line --regexp '^verdict 127\.0\.0\.2:/d/f: no verdict'
}
