#!/usr/bin/env bats
# nfsmig locations against NFS-Ganesha servers in a lab of namespaces.

setup_file() {
	load helpers
	lab_up
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

@test "referral to an IP address, NFSv4.0" {
	run nm locations --nfsvers 4.0 192.0.2.11:/export/ref-ip
	assert_success
	assert_line --partial "/export/ref-ip on 192.0.2.11 (NFSv4.0) is absent"
	assert_line "fs_root:  /export/ref-ip"
	assert_line --regexp '^192\.0\.2\.12 +/export/data +192\.0\.2\.12 +ok [0-9.]+ ms$'
}

@test "referral to an IP address, NFSv4.1" {
	run nm locations --nfsvers 4.1 192.0.2.11:/export/ref-ip
	assert_success
	assert_line --partial "(NFSv4.1) is absent"
	assert_line --regexp '^192\.0\.2\.12 +/export/data +192\.0\.2\.12 +ok'
}

@test "referral to an IP address, NFSv4.2" {
	run nm locations --nfsvers 4.2 192.0.2.11:/export/ref-ip
	assert_success
	assert_line --partial "(NFSv4.2) is absent"
	assert_line --regexp '^192\.0\.2\.12 +/export/data +192\.0\.2\.12 +ok'
}

@test "without --nfsvers a server is asked in the highest version it speaks" {
	run nm locations 192.0.2.11:/export/ref-ip
	assert_success
	assert_line --partial "(NFSv4.2)"
}

@test "a server that speaks only 4.0 is asked in 4.0 after MINOR_VERS_MISMATCH" {
	mkdir -p "$BATS_TEST_TMPDIR/old"
	"$NFSLAB" referral "$BATS_TEST_TMPDIR/old/ref" "192.0.2.12:/export/data"
	"$NFSLAB" server "$LAB" old 192.0.2.21
	"$NFSLAB" start "$LAB" old 2049 "$BATS_TEST_TMPDIR/old" /export 0
	run nm locations -v 192.0.2.21:/export/ref
	"$NFSLAB" stop "$LAB" old
	assert_success
	assert_line --partial "(NFSv4.0) is absent"
	assert_line --regexp '^192\.0\.2\.12 +/export/data'
}

@test "referral to a host name: every address resolved and checked, in each version" {
	for v in 4.0 4.1 4.2; do
		run nm locations --nfsvers "$v" 192.0.2.11:/export/ref-name
		assert_success
		assert_line --regexp '^srv2\.nfsmig\.test +/export/data +(2001:db8::12|192\.0\.2\.12) +ok'
		assert_output --partial "2001:db8::12"
		assert_output --partial "192.0.2.12"
	done
}

@test "JSON: locations as objects, addresses and reach as arrays" {
	run nm locations -J 192.0.2.11:/export/ref-name
	assert_success
	echo "$output" | jq -e '.locations | length == 1'
	echo "$output" | jq -e '.locations[0].server == "srv2.nfsmig.test"'
	echo "$output" | jq -e '.locations[0].rootpath == "/export/data"'
	echo "$output" | jq -e '.locations[0].addresses | sort == ["192.0.2.12", "2001:db8::12"]'
	echo "$output" | jq -e '.locations[0].reachable == true'
	echo "$output" | jq -e '.locations[0]."fs_root" == "/export/ref-name"'
	echo "$output" | jq -e '.locations[0].absent == true'
	echo "$output" | jq -e '.locations[0].target == "srv2.nfsmig.test:/export/data"'
}

@test "a whole export root that moved" {
	run nm locations srv3.nfsmig.test:/
	assert_success
	assert_line --partial "/ on srv3.nfsmig.test (NFSv4.2) is absent"
	assert_line "fs_root:  /"
	assert_line --regexp '^srv2\.nfsmig\.test +/export '
}

@test "a path below a referral names the referral and where the path went" {
	run nm locations -o SERVER,FS_PATH,TARGET srv3.nfsmig.test:/a/b
	assert_success
	assert_line --partial "/a/b on srv3.nfsmig.test (NFSv4.2): / is absent"
	assert_line --regexp '^srv2\.nfsmig\.test +/ +srv2\.nfsmig\.test:/export/a/b$'
	run nm locations --nfsvers 4.0 -o TARGET -n 192.0.2.11:/export/ref-name/x/y
	assert_success
	assert_output "srv2.nfsmig.test:/export/data/x/y"
}

@test "a path that is not a referral has no other locations, exit 0" {
	run nm locations 192.0.2.11:/export/data
	assert_success
	assert_line "/export/data on 192.0.2.11 (NFSv4.2)"
	assert_line "no other locations"
	run nm locations -J 192.0.2.11:/export/data
	assert_success
	echo "$output" | jq -e '.locations == []'
}

@test "a location on a host without NFS is shown refused" {
	run nm locations 192.0.2.11:/export/ref-down
	assert_success
	assert_line --regexp '^srv4\.nfsmig\.test +/export +192\.0\.2\.14 +refused$'
	run nm locations -J 192.0.2.11:/export/ref-down
	echo "$output" | jq -e '.locations[0].reachable == false'
}

@test "no such path on the server" {
	run nm locations 192.0.2.11:/export/nothere
	assert_failure 1
	assert_output --partial "LOOKUP of /export/nothere failed: NFS4ERR_NOENT"
}

@test "a server that is down: refused at once" {
	run nm locations 192.0.2.14:/export
	assert_failure 1
	assert_output "nfsmig: server not answering: 192.0.2.14 port 2049: cannot connect: Connection refused"
}

@test "a host that does not answer: a clear error within the deadline" {
	local t0 t1
	t0=$(now_ms)
	run nm locations -t 1 192.0.2.99:/export
	t1=$(now_ms)
	assert_failure 1
	assert_output --regexp "192\.0\.2\.99 port 2049: (no connection within 1000 ms|cannot connect: No route to host)"
	# The deadline is 1 s; allow for a loaded machine, not for a hang.
	((t1 - t0 < 4000))
}

@test "a server that accepts and never answers: no reply within the deadline" {
	fake_start 20491 silent
	local t0 t1
	t0=$(now_ms)
	run nm locations -t 1 192.0.2.1:20491:/export
	t1=$(now_ms)
	assert_failure 1
	assert_output "nfsmig: server not answering: 192.0.2.1:20491: no reply within 1000 ms"
	((t1 - t0 < 4000))
}

@test "a port where nothing speaks NFS (an SSH banner, an HTTP server)" {
	fake_start 20492 banner
	run nm locations -t 2 192.0.2.1:20492:/export
	assert_failure 1
	assert_output --partial "192.0.2.1:20492: connection lost while waiting for the reply"
	assert_output --partial "is NFS served on that port?"
	refute_output --partial "not answering" # it answered, just not with NFS
	fake_stop
	fake_start 20493 http
	run nm locations -t 2 192.0.2.1:20493:/export
	assert_failure 1
	assert_output --partial "192.0.2.1:20493: connection lost while waiting for the reply"
}

@test "replayed Ganesha replies give the same answer (the fake server is sound)" {
	fake_start 20494 replay wire/v40-walk-moved-probe.hex wire/v40-fsloc-ref-name.hex
	run nm locations --no-reach --nfsvers 4.0 -o SERVER,ROOTPATH -n 192.0.2.1:20494:/export/ref-name/sub
	assert_success
	assert_output --regexp '^srv2\.nfsmig\.test +/export/data$'
}

@test "a server that closes the connection in the middle of a reply" {
	fake_start 20495 replay wire/v40-walk-moved-probe.hex wire/v40-fsloc-ref-name.hex@100
	run nm locations --nfsvers 4.0 192.0.2.1:20495:/export/ref-name/sub
	assert_failure 1
	assert_output --partial "192.0.2.1:20495: connection lost while waiting for the reply"
}

@test "NFSv4.1: a connection closed mid-reply ends in an error, not SIGPIPE" {
	fake_start 20497 replay wire/v41-exchange-id.hex wire/v41-create-session.hex \
		wire/v41-fsloc-root-moved.hex@50
	run nm locations --nfsvers 4.1 192.0.2.1:20497:/
	assert_failure 1
	assert_output --partial "192.0.2.1:20497: connection lost while waiting for the reply"
}

@test "NFSv4.1: a server that stops answering mid-session costs one deadline, not three" {
	fake_start 20498 replay wire/v41-exchange-id.hex wire/v41-create-session.hex
	local t0 t1
	t0=$(now_ms)
	run nm locations --nfsvers 4.1 -t 1 192.0.2.1:20498:/
	t1=$(now_ms)
	assert_failure 1
	assert_output "nfsmig: server not answering: 192.0.2.1:20498: no reply within 1000 ms"
	# One 1 s deadline; DESTROY_SESSION and DESTROY_CLIENTID are not tried
	# on a connection that failed.
	((t1 - t0 < 2500))
}

@test "a reply that answers other operations than were sent" {
	fake_start 20496 replay wire/v41-exchange-id.hex
	run nm locations --nfsvers 4.0 192.0.2.1:20496:/export
	assert_failure 1
	assert_output "nfsmig: 192.0.2.1:20496: malformed reply: result 0 is for EXCHANGE_ID, not PUTROOTFH"
}

@test "a PATH on an NFSv4 mount: server, version and server path from the mount table" {
	local mi=$BATS_TEST_TMPDIR/mountinfo
	cat >"$mi" <<MI
22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
40 22 0:40 / /mnt/lab rw,relatime shared:20 - nfs4 srv1.nfsmig.test:/export rw,vers=4.1,hard,proto=tcp,sec=sys,clientaddr=192.0.2.1,addr=192.0.2.11
41 22 0:41 / /mnt/three rw,relatime shared:21 - nfs srv1.nfsmig.test:/export rw,vers=3,hard,proto=tcp,sec=sys,addr=192.0.2.11
42 22 0:42 / /mnt/krb rw,relatime shared:22 - nfs4 srv1.nfsmig.test:/export rw,vers=4.2,sec=krb5p,addr=192.0.2.11
MI
	run nm locations --mountinfo "$mi" /mnt/lab/ref-name/deeper
	assert_success
	assert_line --partial "/export/ref-name/deeper on 192.0.2.11 (NFSv4.1): /export/ref-name is absent"
	assert_line --regexp '^srv2\.nfsmig\.test +/export/data '
	run nm locations --mountinfo "$mi" /mnt/three/x
	assert_failure 1
	assert_output "nfsmig: /mnt/three/x is on an NFSv3 mount (/mnt/three): nfsmig works with NFSv4 mounts"
	run nm locations --mountinfo "$mi" /var/tmp
	assert_failure 1
	assert_output "nfsmig: /var/tmp is not on an NFS mount (/ is ext4)"
	run nm locations --mountinfo "$mi" /mnt/krb/x
	assert_failure 1
	assert_output "nfsmig: security flavor 'krb5p' is not supported yet (only sys)"
}

@test "a live path: missing, and not on NFS" {
	run nm locations /nonexistent/dir
	assert_failure 1
	assert_output "nfsmig: /nonexistent/dir: No such file or directory"
	run nm locations /proc/self
	assert_failure 1
	assert_output --regexp "^nfsmig: /proc/self is not on an NFS mount \(/proc is proc\)$"
}

@test "columns: -o picks, +LIST adds, --list-columns lists, an unknown one is a usage error" {
	run nm locations -o server,reachable -n 192.0.2.11:/export/ref-ip
	assert_success
	assert_output --regexp '^192\.0\.2\.12 +yes$'
	run nm locations -o +LOCATION -n 192.0.2.11:/export/ref-ip
	assert_output --regexp '^192\.0\.2\.12 +/export/data +192\.0\.2\.12 +ok [0-9.]+ ms +1$'
	run nm locations --list-columns
	assert_success
	for c in LOCATION SERVER ROOTPATH ADDRESSES REACH REACHABLE TARGET PATH FS_PATH FS_ROOT FSID ABSENT; do
		assert_line --regexp "^$c "
	done
	run nm locations -o BOGUS 192.0.2.11:/export
	assert_failure 2
	assert_output "nfsmig: unknown column 'BOGUS' (see --list-columns)"
}

@test "usage errors exit 2 and say what is wrong" {
	run nm locations
	assert_failure 2
	assert_output --partial "Usage: nfsmig locations"
	run nm locations --nfsvers 3 srv:/x
	assert_failure 2
	assert_output "nfsmig: --nfsvers takes 4.0, 4.1 or 4.2, not '3'"
	run nm locations -t 0 srv:/x
	assert_failure 2
	run nm locations '2001:db8::12:/export'
	assert_failure 1
	assert_output --partial "an IPv6 address goes in brackets"
	run nm nosuchcommand
	assert_failure 2
	assert_output "nfsmig: no command 'nosuchcommand' (try: nfsmig help)"
}

@test "an IPv6 server in brackets" {
	run nm locations '[2001:db8::12]:/export/data'
	assert_success
	assert_line "/export/data on 2001:db8::12 (NFSv4.2)"
	assert_line "no other locations"
}

@test "help lists locations and shows its options" {
	run nm help
	assert_success
	assert_line --regexp '^  locations +ask the server for the fs_locations'
	run nm help locations
	assert_success
	assert_output --partial "--mountinfo FILE"
	assert_output --partial "--nfsvers 4.N"
}
