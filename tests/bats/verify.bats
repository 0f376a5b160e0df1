#!/usr/bin/env bats
# nfsmig verify after a cutover, with the lab's Ganesha servers as source
# and destination and a mount table fixture that names them.
#
#   srv2 192.0.2.12  the source: exports tree/srv2
#   srv5 192.0.2.15  a good destination: exports the same directory, so the
#                    file handles saved at registration are valid there
#   srv6 192.0.2.16  exports a file system of its own (tmpfs): its data is
#                    copied and the original removed for a bad cutover
#   srv4 192.0.2.14  a host with no NFS server

setup_file() {
	load helpers
	lab_up
	local root=/run/nfsmig-lab/$LAB
	"$NFSLAB" server "$LAB" srv5 192.0.2.15
	"$NFSLAB" start "$LAB" srv5 2049 "$root/tree/srv2"
	export OTHER
	OTHER=$("$NFSLAB" fs "$LAB" other)
	mkdir -p "$OTHER/vol"
	echo data >"$OTHER/vol/file"
	"$NFSLAB" server "$LAB" srv6 192.0.2.16
	"$NFSLAB" start "$LAB" srv6 2049 "$OTHER"
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
	mount_table 192.0.2.12 4.2
}

# mount_table ADDR VERS: /mnt/dest on srv2's export as the kernel shows it,
# the kernel's server being ADDR.
mount_table() {
	cat >"$MI" <<MI
22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
41 22 0:41 / /mnt/dest rw,relatime shared:21 - nfs4 srv2.nfsmig.test:/export rw,vers=$2,sec=sys,clientaddr=192.0.2.1,addr=$1
MI
}

nmv() {
	nm "$@" --mountinfo "$MI" --state-dir "$SD"
}

@test "a good cutover: OK on every check, the move is recorded" {
	nmv register /mnt/dest
	mount_table 192.0.2.15 4.2
	run nmv verify --to 192.0.2.15
	assert_success
	assert_line "/mnt/dest: OK"
	assert_line --regexp '^  destination +OK +served by 192\.0\.2\.15, the destination given$'
	assert_line --regexp '^  nfs +OK +192\.0\.2\.15 answers NFSv4\.2$'
	assert_line --regexp '^  same_fs +OK +the saved root file handle is valid'
	assert_line --regexp '^  security +OK +the destination offers sys'
	assert_line --regexp '^  record +OK +recorded the move 192\.0\.2\.12 -> 192\.0\.2\.15$'
	assert_line "1 mount: 1 OK, 0 WARN, 0 FAIL"
	run nmv show /mnt/dest
	assert_line --regexp '^moved: +[0-9]+ 192\.0\.2\.12 -> 192\.0\.2\.15$'
	run nmv verify /mnt/dest
	assert_success
	assert_line --regexp '^  record +OK +agrees with the kernel'
}

# verify_while SED: verify --to 192.0.2.15 held (a FIFO as its second
# mountstats sample) after it has read the record and before it records the
# move, while another writer edits the record with the sed script SED; its
# report is left in $BATS_TEST_TMPDIR/out.
verify_while() {
	local t=$BATS_TEST_TMPDIR
	: >"$t/before"
	mkfifo "$t/after"
	timeout 60 bash -c 'exec 3>"$1"; : >"$2"; while [ ! -e "$3" ]; do sleep 0.1; done' \
		_ "$t/after" "$t/opened" "$t/go" &
	timeout 120 ip netns exec "$LAB" "$BUILD/cmd/nfsmig" verify --mountinfo "$MI" \
		--state-dir "$SD" --to 192.0.2.15 --mountstats "$t/before" \
		--mountstats "$t/after" >"$t/out" 2>&1 &
	local pid=$!
	for _ in $(seq 600); do
		[ -e "$t/opened" ] && break
		sleep 0.1
	done
	[ -e "$t/opened" ]
	sed -i "$1" "$SD/-mnt-dest.state"
	: >"$t/go"
	wait "$pid" || true
}

@test "a writer of the record while verify runs: its change stays when the move is recorded" {
	nmv register /mnt/dest
	mount_table 192.0.2.15 4.2
	verify_while 's|^end$|location=srv9.nfsmig.test:/elsewhere\nend|'
	run cat "$BATS_TEST_TMPDIR/out"
	assert_line --regexp '^  record +OK +recorded the move 192\.0\.2\.12 -> 192\.0\.2\.15$'
	run nmv show -J /mnt/dest
	echo "$output" | jq -e '.locations == ["srv9.nfsmig.test:/elsewhere"]'
	echo "$output" | jq -e '.moves | length == 1 and .[0].to == "192.0.2.15"'
}

@test "a move recorded by another writer while verify runs: said so, not recorded twice" {
	nmv register /mnt/dest
	mount_table 192.0.2.15 4.2
	verify_while 's|^cur_server=.*|cur_server=192.0.2.15|'
	run cat "$BATS_TEST_TMPDIR/out"
	assert_line --regexp '^  record +OK +the move to 192\.0\.2\.15 is recorded already'
	refute_line --partial "recorded the move"
	run nmv show -J /mnt/dest
	echo "$output" | jq -e '.moves | length == 0'
}

@test "a record whose server changed while verify runs: the move is from the record's server" {
	nmv register /mnt/dest
	mount_table 192.0.2.15 4.2
	verify_while 's|^cur_server=.*|cur_server=192.0.2.13|'
	run cat "$BATS_TEST_TMPDIR/out"
	assert_line --regexp '^  record +OK +recorded the move 192\.0\.2\.13 -> 192\.0\.2\.15$'
	run nmv show -J /mnt/dest
	echo "$output" | jq -e '.moves | length == 1 and .[0].from == "192.0.2.13"'
}

@test "a record registered again while verify runs: the move is not recorded in it" {
	nmv register /mnt/dest
	mount_table 192.0.2.15 4.2
	# As register --force leaves it: another registration time.
	verify_while 's|^registered=.*|registered=1|'
	run cat "$BATS_TEST_TMPDIR/out"
	assert_line --regexp '^  record +WARN +record changed, not recorded'
	run nmv show -J /mnt/dest
	echo "$output" | jq -e '.moves | length == 0'
}

@test "a good cutover in NFSv4.0 too (SECINFO of the root's name)" {
	mount_table 192.0.2.12 4.0
	sed -i 's|srv2.nfsmig.test:/export |srv2.nfsmig.test:/export/data |' "$MI"
	nmv register /mnt/dest
	mount_table 192.0.2.15 4.0
	sed -i 's|srv2.nfsmig.test:/export |srv2.nfsmig.test:/export/data |' "$MI"
	run nmv verify
	assert_success
	assert_line --regexp '^  security +OK +the destination offers sys'
}

@test "the wrong destination: FAIL" {
	nmv register /mnt/dest
	mount_table 192.0.2.15 4.2
	run nmv verify --to 192.0.2.99
	assert_failure 1
	assert_line "/mnt/dest: FAIL"
	assert_line --regexp '^  destination +FAIL +served by 192\.0\.2\.15, not by the destination 192\.0\.2\.99$'
	assert_line --regexp '^  record +WARN +.*not recorded: checks failed'
	# Without --to the mount is checked where it is, and that is right.
	run nmv verify
	assert_success
	# Never moved at all: still on the original server.
	mount_table 192.0.2.12 4.2
	run nmv verify
	assert_failure 1
	assert_line --regexp '^  destination +FAIL +still served by the original server 192\.0\.2\.12$'
}

@test "the destination is down: FAIL, and nothing recorded" {
	nmv register /mnt/dest
	mount_table 192.0.2.14 4.2
	run nmv verify
	assert_failure 1
	assert_line --regexp '^  nfs +FAIL +server not answering: 192\.0\.2\.14 port 2049: cannot connect: Connection refused \(mount /mnt/dest\)$'
	assert_line --regexp '^  same_fs +SKIP '
	run nmv show -J /mnt/dest
	echo "$output" | jq -e '.moves == []'
	# register --force asks the server too: it says so, the record stays.
	run nmv register --force /mnt/dest/below/../path
	assert_failure 1
	assert_output "nfsmig: cannot register /mnt/dest: server not answering: 192.0.2.14 port 2049: cannot connect: Connection refused (mount /mnt/dest)"
	run nmv show -J /mnt/dest
	echo "$output" | jq -e '.moves == []'
}

@test "the data was copied and the original removed: the saved handle is STALE, FAIL" {
	sed -i 's|srv2.nfsmig.test:/export rw|srv6:/export/vol rw|; s|addr=192.0.2.12|addr=192.0.2.16|' "$MI"
	nmv register /mnt/dest
	cp -a "$OTHER/vol" "$OTHER/vol.copy"
	rm -rf "$OTHER/vol"
	mv "$OTHER/vol.copy" "$OTHER/vol"
	run nmv verify --to 192.0.2.16
	assert_failure 1
	assert_line --regexp '^  same_fs +FAIL +the root file handle saved at registration is NFS4ERR_STALE here: not the same file system$'
}

@test "the source: MOVED and listing the destination, or still serving" {
	sed -i 's|srv2.nfsmig.test:/export rw|srv2.nfsmig.test:/export/data rw|' "$MI"
	nmv register /mnt/dest
	# srv1's ref-ip is a referral to 192.0.2.12:/export/data.
	run nmv verify --to 192.0.2.12 --source 192.0.2.11:/export/ref-ip
	assert_line --regexp '^  source +OK +the source 192\.0\.2\.11 answers MOVED for /export/ref-ip and lists 192\.0\.2\.12$'
	run nmv verify --to 192.0.2.12 --source 192.0.2.11:/export/data
	assert_failure 1
	assert_line --regexp '^  source +FAIL +the source 192\.0\.2\.11 still serves /export/data \(no NFS4ERR_MOVED\)$'
	run nmv verify --to 192.0.2.12 --source 192.0.2.14
	assert_failure 1
	assert_line --regexp '^  source +FAIL +server not answering: 192\.0\.2\.14 port 2049: cannot connect'
}

@test "no record: FAIL with register first" {
	run nmv verify /mnt/dest
	assert_failure 1
	assert_line --regexp '^  record +FAIL +/mnt/dest has no record in .* \(register it first\)$'
}

@test "a corrupt record and an unreadable state directory: FAIL with the reason" {
	nmv register /mnt/dest
	printf 'nfsmig-state 1\nmountpoint=/mnt/dest\n' >"$SD/-mnt-dest.state"
	run nmv verify /mnt/dest
	assert_failure 1
	assert_line --regexp '^  record +FAIL +.*record is truncated \(no end line\)$'
	run nm verify --mountinfo "$MI" --state-dir /nonexistent/state
	assert_failure 1
	assert_output --partial "state directory /nonexistent/state: No such file or directory"
}

@test "--no-update records nothing: a move the record does not know is a WARN" {
	nmv register /mnt/dest
	mount_table 192.0.2.15 4.2
	run nmv verify --no-update
	assert_failure 3
	assert_line --regexp '^  record +WARN +the record says 192\.0\.2\.12, the kernel 192\.0\.2\.15$'
}

@test "warnings only exit 3: the record and the kernel disagree on the version" {
	nmv register /mnt/dest
	mount_table 192.0.2.15 4.1
	run nmv verify --to 192.0.2.15
	assert_failure 3
	assert_line "/mnt/dest: WARN"
	assert_line --regexp '^  record +WARN +the record says NFSv4\.2, the kernel NFSv4\.1$'
}

@test "JSON: one object per mount, a verdict and every check" {
	nmv register /mnt/dest
	mount_table 192.0.2.15 4.2
	run nmv verify -J
	assert_success
	echo "$output" | jq -e '.verify | length == 1'
	echo "$output" | jq -e '.verify[0].target == "/mnt/dest" and .verify[0].verdict == "OK"'
	echo "$output" | jq -e '.verify[0].same_fs | startswith("OK: ")'
	echo "$output" | jq -e '.verify[0].source | startswith("SKIP: ")'
}

@test "many mounts on one server: one session, checks batched" {
	local i
	{
		echo "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw"
		for i in $(seq 40); do
			echo "$((100 + i)) 22 0:$((100 + i)) / /mnt/m$i rw,relatime shared:$i - nfs4 srv2.nfsmig.test:/export rw,vers=4.1,sec=sys,addr=192.0.2.12"
		done
	} >"$MI"
	nmv register >/dev/null
	sed -i 's/addr=192.0.2.12/addr=192.0.2.15/' "$MI"
	run nmv verify -v --to 192.0.2.15
	assert_success
	assert_line "40 mounts: 40 OK, 0 WARN, 0 FAIL"
	# EXCHANGE_ID, CREATE_SESSION, a few COMPOUNDs of 20 mounts, teardown.
	local rpcs
	rpcs=$(echo "$output" | sed -n 's/^nfsmig: 1 destination server, \([0-9]*\) RPCs to them$/\1/p')
	[ -n "$rpcs" ] && ((rpcs <= 8))
}
