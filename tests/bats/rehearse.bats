#!/usr/bin/env bats
# nfsmig rehearse against NFS-Ganesha servers in a lab of namespaces: a
# referral walked with --now, a file held on a server that does not move,
# Ctrl-C, usage errors, a dead server.  The moves themselves (migration,
# TSM, reclaim, re-open) are rehearse-fake.bats's and the VM's.

setup_file() {
	load helpers
	lab_up
	# A hostile server's location names (as untrusted.bats's), on srv1:
	# Ganesha finds a new referral at its first LOOKUP.
	local tree=${NFSLAB_RUN:-/run/nfsmig-lab}/$LAB/tree/srv1
	"$NFSLAB" referral "$tree/hostile-subst" '$(touch /tmp/nfsmig-rehearse-ran):/export/a'
	"$NFSLAB" referral "$tree/hostile-esc" \
		"$(printf '\033[31mred\033[0m:/export/\033[32mgreen\302\233\377')"
}

teardown_file() {
	load helpers
	lab_down
}

setup() {
	load helpers
}

@test "--now on a referral, NFSv4.0: referral, no state, and the walk to the destination" {
	run nm rehearse --now --vers 4.0 192.0.2.11:/export/ref-name/file
	assert_success
	assert_line --regexp '^\+[0-9]+\.[0-9]{3} moved: .*NFS4ERR_MOVED.*a referral, nothing held \[.*\]$'
	assert_line --regexp '^\+[0-9.]+ fs_locations: .*srv2\.nfsmig\.test:/export/data'
	assert_line --regexp '^\+[0-9.]+ resolve: srv2\.nfsmig\.test: 192\.0\.2\.12 \(hosts'
	assert_line --regexp '^\+[0-9.]+ connect: 192\.0\.2\.12:2049: NFSv4\.0'
	assert_line --regexp '^\+[0-9.]+ secinfo: offers sys.*\[PUTROOTFH,LOOKUP,LOOKUP,SECINFO\]$'
	assert_line --regexp '^\+[0-9.]+ read: 6 bytes on 192\.0\.2\.12'
	assert_line "verdict 192.0.2.11:/export/ref-name/file: referral, no state"
	assert_line --regexp '^kernel: a submount'
	refute_line --partial "waiting for the move:"
}

@test "--now on a referral, NFSv4.1, -J: kind, locations, destination, steps" {
	run nm rehearse --now --vers 4.1 -J 192.0.2.11:/export/ref-ip/file
	assert_success
	run jq -r '.files[0] | [.kind, .state, .verdict, .destination, .locations[0].server,
		.locations[0].path, (.steps | map(.step) | join(","))] | join("|")' <<<"$output"
	assert_output --regexp '^referral\|referral\|referral, no state\|192\.0\.2\.12\|192\.0\.2\.12\|/export/data\|connect,reclaim-complete,moved,fs_locations,resolve,connect,secinfo,.*read,release,disconnect,disconnect$'
}

@test "a hostile referral: names and paths shown escaped, never resolved or run, JSON valid" {
	rm -f /tmp/nfsmig-rehearse-ran
	run nm rehearse --now --vers 4.1 192.0.2.11:/export/hostile-esc/f
	[ "$status" -eq 3 ]
	assert_line --regexp '^\+[0-9.]+ resolve: location 1: .* is not a host name or address$'
	# Escaped once at ingest, shown as it is: never \x5cx1b.
	assert_line --partial "'\\x1b\\x5b31mred\\x1b\\x5b0m' is not a host name"
	refute_output --partial 'x5cx1b'
	! grep -q $'\033' <<<"$output"
	! grep -q $'\302\233' <<<"$output"
	run nm rehearse --now --vers 4.0 -J 192.0.2.11:/export/hostile-subst/f --file 192.0.2.11:/export/hostile-esc/f
	[ "$status" -eq 3 ]
	! grep -q $'\033' <<<"$output"
	jq -e '.files | length == 2' <<<"$output" >/dev/null
	python3 -c 'import json,sys; json.loads(sys.stdin.buffer.read().decode("utf-8"))' <<<"$output"
	[ ! -e /tmp/nfsmig-rehearse-ran ]
}

@test "a file on a server that does not move: held, kept, released" {
	run nm rehearse --vers 4.0 --wait 1.5 --interval 100 192.0.2.12:/export/data/file
	assert_success
	assert_line --regexp '^\+1\.[0-9]{3} wait: 1 file still held, the lease renewed \([0-9]+ polls\)$'
	assert_line --regexp '^\+[0-9.]+ open: file opened for reading.*\[PUTFH,OPEN,GETFH(;PUTFH,OPEN_CONFIRM)?\]$'
	assert_line --regexp '^\+[0-9.]+ lock: read lock on bytes 0-4095 \[PUTFH,LOCK\]$'
	assert_line --regexp '^\+[0-9.]+ read: 6 bytes, checksum [0-9a-f]{16} \[PUTFH,READ\]$'
	assert_line --regexp '^waiting for the move: holding OPEN\+LOCK on 1 file'
	assert_line --regexp '^\+[0-9.]+ release: let go: NFS4_OK on 192\.0\.2\.12 \[PUTFH,LOCKU,CLOSE\]$'
	assert_line "verdict 192.0.2.12:/export/data/file: not moved: state kept on the source"
}

@test "MOUNT/FILE: the mount's server (addr=), export and version" {
	local mi=$BATS_TEST_TMPDIR/mountinfo
	cat >"$mi" <<MI
22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
41 22 0:41 / /mnt/data rw,relatime shared:21 - nfs4 srv2.nfsmig.test:/export/data rw,vers=4.1,sec=sys,clientaddr=192.0.2.1,addr=192.0.2.12
MI
	run nm rehearse --now --mountinfo "$mi" /mnt/data/file
	assert_success
	assert_line --regexp '^\+[0-9.]+ connect: 192\.0\.2\.12:2049: NFSv4\.1,'
	assert_line --regexp '^\+[0-9.]+ lookup: /export/data: root handle saved \([0-9]+ bytes, fh_expire_type 0x[0-9a-f]+, lease [1-9][0-9]* s\)'
	assert_line "verdict /mnt/data/file: not moved: state kept on the source"
}

@test "MOUNT/FILE: mounts of other versions or ports refused unless --vers/--port say" {
	local mi=$BATS_TEST_TMPDIR/mountinfo
	cat >"$mi" <<MI
22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
41 22 0:41 / /mnt/a rw,relatime shared:21 - nfs4 srv2.nfsmig.test:/export/data rw,vers=4.1,sec=sys,clientaddr=192.0.2.1,addr=192.0.2.12
42 22 0:42 / /mnt/b rw,relatime shared:22 - nfs4 srv2.nfsmig.test:/export/data rw,vers=4.0,sec=sys,clientaddr=192.0.2.1,addr=192.0.2.12
43 22 0:43 / /mnt/c rw,relatime shared:23 - nfs4 srv2.nfsmig.test:/export/data rw,vers=4.1,port=20490,sec=sys,clientaddr=192.0.2.1,addr=192.0.2.12
MI
	run nm rehearse --now --mountinfo "$mi" /mnt/a/file --file /mnt/b/file
	[ "$status" -eq 2 ]
	assert_output --partial "'/mnt/b/file' is mounted with NFSv4.0, '/mnt/a/file' with NFSv4.1: one --vers for all"
	run nm rehearse --now --mountinfo "$mi" /mnt/a/file --file /mnt/c/file
	[ "$status" -eq 2 ]
	assert_output --partial "'/mnt/c/file' is mounted on port 20490, '/mnt/a/file' on port 2049: one --port for all"
	run nm rehearse --now --vers 4.1 --mountinfo "$mi" /mnt/a/file --file /mnt/b/file
	assert_success
}

@test "two names of one server, NFSv4.1: one client for both files" {
	run nm rehearse --vers 4.1 --wait 0.3 --interval 100 -J 192.0.2.12:/export/data/file \
		--file srv2.nfsmig.test:/export/data/file
	assert_success
	run jq -r '[(.clients | length), .clients[0].file_systems, .clients[0].minor,
		(.files | map(.state) | join(","))] | join("|")' <<<"$output"
	assert_output "1|2|1|kept,kept"
}

@test "Ctrl-C while waiting lets go (LOCKU, CLOSE) and exits 130" {
	local out=$BATS_TEST_TMPDIR/out i
	# Not through nm (a function: its subshell would take the signal).
	ip netns exec "$LAB" "$BUILD/cmd/nfsmig" rehearse --vers 4.1 --interval 100 --wait 20 \
		192.0.2.12:/export/data/file >"$out" 2>&1 &
	local pid=$!
	for ((i = 0; i < 100; i++)); do
		grep -q '^waiting for the move:' "$out" && break
		sleep 0.05
	done
	kill -INT "$pid"
	local rc=0
	wait "$pid" || rc=$?
	[ "$rc" -eq 130 ] || { cat "$out"; false; }
	grep -Eq '^\+[0-9.]+ release: let go: NFS4_OK .*\[SEQUENCE,PUTFH,LOCKU,CLOSE\]$' "$out"
	grep -q '^interrupted: let go of what was held$' "$out"
}

@test "usage errors exit 2" {
	run nm rehearse
	[ "$status" -eq 2 ]
	run nm rehearse 192.0.2.12:/export/data/
	[ "$status" -eq 2 ]
	assert_output --partial "does not name a file"
	run nm rehearse 192.0.2.12:/export/data/../file
	[ "$status" -eq 2 ]
	run nm rehearse --vers 3 192.0.2.12:/export/data/file
	[ "$status" -eq 2 ]
	run nm rehearse --interval soon 192.0.2.12:/export/data/file
	[ "$status" -eq 2 ]
	run nm rehearse --sec krb5 192.0.2.12:/export/data/file
	[ "$status" -eq 2 ]
	run nm rehearse --bogus 192.0.2.12:/export/data/file
	[ "$status" -eq 2 ]
}

@test "a file the source does not have: no verdict, exit 1 (answered, not unanswered)" {
	run nm rehearse --now --vers 4.1 192.0.2.11:/export/data/nosuchfile
	[ "$status" -eq 1 ]
	assert_line --regexp '^\+[0-9.]+ open: OPEN of nosuchfile answered NFS4ERR_NOENT \[SEQUENCE,PUTFH,OPEN,GETFH\]$'
	assert_line "verdict 192.0.2.11:/export/data/nosuchfile: no verdict: the source refused to hold the file"
}

@test "a dead server: exit 3 within the deadline, not a hang" {
	local t0
	t0=$(now_ms)
	# srv4 refuses; 192.0.2.99 is no host at all (the connect times out).
	run nm rehearse --now -t 1 192.0.2.14:/export/f --file 192.0.2.99:/export/f
	[ "$status" -eq 3 ]
	(($(now_ms) - t0 < 5000))
	assert_line --regexp '^\+[0-9.]+ connect: 192\.0\.2\.14:/export/f: .*refused.* \(not answered\)$'
	assert_line --regexp '^\+[0-9.]+ connect: 192\.0\.2\.99:/export/f: .*no connection within 1000 ms \(not answered\)$'
	assert_line "verdict 192.0.2.14:/export/f: no verdict: the source (OPEN, LOCK and READ) not answered"
	assert_line "verdict 192.0.2.99:/export/f: no verdict: the source (OPEN, LOCK and READ) not answered"
}

@test "help, the shell's table and completion know rehearse" {
	run nm help rehearse
	assert_success
	assert_line --partial "--interval MS"
	run nm __complete rehearse --v
	assert_line "--vers"
}
