#!/usr/bin/env bats
# nfsmig register, mounts and show: records of NFS mounts, against the
# lab's Ganesha servers, with a mount table fixture that names them.

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
	MI=$BATS_TEST_TMPDIR/mountinfo
	SD=$BATS_TEST_TMPDIR/state
	mkdir -p "$SD"
	cat >"$MI" <<MI
22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
40 22 0:40 / /mnt/data rw,relatime shared:20 - nfs4 srv1.nfsmig.test:/export/data rw,vers=4.1,sec=sys,clientaddr=192.0.2.1,addr=192.0.2.11
41 22 0:41 / /mnt/dest rw,relatime shared:21 - nfs4 srv2.nfsmig.test:/export rw,vers=4.2,sec=sys,clientaddr=192.0.2.1,addr=192.0.2.12
42 22 0:42 / /mnt/ref rw,relatime shared:22 - nfs4 srv1.nfsmig.test:/export/ref-ip rw,vers=4.0,sec=sys,addr=192.0.2.11
43 22 0:43 / /mnt/three rw,relatime shared:23 - nfs srv1.nfsmig.test:/export rw,vers=3,addr=192.0.2.11
MI
}

nmm() {
	nm "$@" --mountinfo "$MI" --state-dir "$SD"
}

@test "register: every NFSv4 mount without a record; a referral and NFSv3 are not" {
	run nmm register
	assert_failure 1
	assert_line --regexp '^registered /mnt/data: server 192\.0\.2\.11, NFSv4\.1, fsid 0x[0-9a-f]+:0x[0-9a-f]+, root file handle of [0-9]+ bytes$'
	assert_line --regexp '^registered /mnt/dest: server 192\.0\.2\.12, NFSv4\.2, '
	assert_line "nfsmig: cannot register /mnt/ref: 192.0.2.11:2049: /export/ref-ip is absent (MOVED): a referral or a moved file system"
	refute_output --partial "/mnt/three"
	[ "$(stat -c %a "$SD/-mnt-data.state")" = 600 ]
	run nmm register
	assert_output --partial "cannot register /mnt/ref"
	refute_output --partial "registered /mnt/data"
}

@test "register says when it saves no entry's file handle, and why" {
	# The lab's mount points are not on this system: nothing to list.
	run nmm register /mnt/data
	assert_success
	assert_output --partial "registered /mnt/data:"
	assert_output --partial "nfsmig: warning: /mnt/data: no entry's file handle saved, verify will check the root only: cannot list the mount point: /mnt/data: No such file or directory"
}

@test "register a named mount; again only with --force" {
	run nmm register /mnt/data/some/dir
	assert_success
	assert_output --partial "registered /mnt/data:"
	run nmm register /mnt/data
	assert_failure 1
	assert_output --partial "/mnt/data is registered already"
	run nmm register --force /mnt/data
	assert_success
	run nmm register /mnt/three
	assert_failure 1
	assert_output "nfsmig: /mnt/three is on an NFSv3 mount (/mnt/three): nfsmig works with NFSv4 mounts"
}

@test "the record holds what the server said: the same handle and fsid as the destination's" {
	nmm register /mnt/data
	run nmm show -J /mnt/data
	assert_success
	echo "$output" | jq -e '.target == "/mnt/data" and .orig_server == "192.0.2.11"'
	echo "$output" | jq -e '.export_path == "/export/data" and .version == "4.1"'
	echo "$output" | jq -e '.root_fh | test("^[0-9a-f]{16,256}$")'
	echo "$output" | jq -e '.moved == false and .locations == [] and .moves == []'
	local fsid
	fsid=$(echo "$output" | jq -r .fsid)
	# The fsid agrees with what locations reads for the same directory.
	run nm locations -o FSID 192.0.2.11:/export/data
	assert_line "fsid:     $fsid"
}

@test "mounts: registered, moved, unregistered, not NFSv4; JSON" {
	nmm register /mnt/data /mnt/dest
	run nmm mounts -o TARGET,SERVER,ORIG_SERVER,STATE
	assert_success
	assert_line --regexp '^/mnt/data +192\.0\.2\.11 +192\.0\.2\.11 +registered$'
	assert_line --regexp '^/mnt/ref +192\.0\.2\.11 +unregistered$'
	assert_line --regexp '^/mnt/three +192\.0\.2\.11 +not NFSv4$'
	# The kernel moved /mnt/dest: addr= changes, the source does not.
	sed -i 's/addr=192.0.2.12/addr=192.0.2.13/' "$MI"
	run nmm mounts -J
	echo "$output" | jq -e '.mounts[] | select(.target == "/mnt/dest") | .state == "moved" and .server == "192.0.2.13" and .orig_server == "192.0.2.12"'
	run nmm show /mnt/dest
	assert_line "server now:      192.0.2.13  (moved)"
	assert_line "server at registration: 192.0.2.12"
}

@test "show of a mount without a record says register first" {
	run nmm show /mnt/data
	assert_failure 1
	assert_output --partial "/mnt/data has no record in $SD (register it first)"
}

@test "a corrupt or truncated record is reported, never trusted" {
	nmm register /mnt/data
	cp "$SD/-mnt-data.state" "$SD/good"
	# Cut at a line: the end line is missing.
	grep -v '^end$' "$SD/good" >"$SD/-mnt-data.state"
	run nmm show /mnt/data
	assert_failure 1
	assert_output --partial "-mnt-data.state: record is truncated (no end line)"
	# Cut in a line.
	head -c 40 "$SD/good" >"$SD/-mnt-data.state"
	run nmm show /mnt/data
	assert_failure 1
	assert_output --partial "-mnt-data.state: line 3 is not key=value"
	run nmm mounts -o TARGET,STATE
	assert_line --regexp '^/mnt/data +corrupt$'
	printf '\177ELF\0\1\2' >"$SD/-mnt-data.state"
	run nmm show /mnt/data
	assert_failure 1
	assert_output --partial "record holds a NUL byte"
}

@test "register sets a corrupt record aside, says so, and keeps it" {
	nmm register /mnt/data
	head -c 40 "$SD/-mnt-data.state" >"$BATS_TEST_TMPDIR/cut"
	cp "$BATS_TEST_TMPDIR/cut" "$SD/-mnt-data.state"
	run nmm register /mnt/data
	assert_success
	assert_line --regexp "^nfsmig: the record of /mnt/data could not be read \(.*-mnt-data\.state: line 3 is not key=value\): kept as $SD/-mnt-data\.state\.corrupt-[0-9]+\$"
	assert_line --partial "registered /mnt/data:"
	local aside
	aside=$(ls "$SD" | grep '^-mnt-data\.state\.corrupt-')
	cmp "$BATS_TEST_TMPDIR/cut" "$SD/$aside"
	run nmm show /mnt/data
	assert_success
	# Again: the first copy set aside stays.
	cp "$BATS_TEST_TMPDIR/cut" "$SD/-mnt-data.state"
	run nmm register
	assert_line --partial "could not be read"
	[ "$(ls "$SD" | grep -c '^-mnt-data\.state\.corrupt-')" = 2 ]
	cmp "$BATS_TEST_TMPDIR/cut" "$SD/$aside"
}

@test "register --force keeps the moves recorded" {
	nmm register /mnt/data
	sed -i 's/^end$/move=1795490300%20192.0.2.11%20192.0.2.12\nend/' "$SD/-mnt-data.state"
	run nmm register --force /mnt/data
	assert_success
	run nmm show -J /mnt/data
	echo "$output" | jq -e '.moves == [{"time": 1795490300, "from": "192.0.2.11", "to": "192.0.2.12"}]'
}

@test "a mount point of 250 characters is registered; every name in the state directory fits" {
	local long
	long=/mnt/$(printf 'x%.0s' $(seq 245))
	echo "44 22 0:44 / $long rw,relatime shared:24 - nfs4 srv1.nfsmig.test:/export/data rw,vers=4.1,sec=sys,addr=192.0.2.11" >>"$MI"
	run nmm register "$long"
	assert_success
	assert_output --partial "registered $long:"
	run nmm show -J "$long"
	assert_success
	echo "$output" | jq -e --arg t "$long" '.target == $t'
	printf garbage >"$SD/$(ls "$SD" | grep '~.*\.state$')"
	run nmm register "$long"
	assert_success
	assert_line --partial "could not be read"
	# A name over NAME_MAX cannot be made at all: check the lengths the
	# store chose, the record's name 200 bytes (its most), the lock's
	# and the set-aside one's within NAME_MAX.
	local rec
	rec=$(ls "$SD" | grep '~.*\.state$')
	[ "${#rec}" -eq 200 ]
	[ -f "$SD/.$rec.lock" ]
	local aside
	aside=$(ls "$SD" | grep '\.corrupt-')
	[ "${aside#"$rec".corrupt-}" != "$aside" ]
	[ "${#aside}" -le 255 ]
	[ "$(ls -a "$SD" | grep -c '\.corrupt-')" = 1 ]
}

@test "an unreadable state directory is a clear error" {
	run nm show --mountinfo "$MI" --state-dir /nonexistent/state /mnt/data
	assert_failure 1
	assert_output --partial "state directory /nonexistent/state: No such file or directory"
	: >"$BATS_TEST_TMPDIR/afile"
	run nm register --mountinfo "$MI" --state-dir "$BATS_TEST_TMPDIR/afile" /mnt/data
	assert_failure 1
	assert_output --partial "Not a directory"
}
