#!/usr/bin/env bats
# nfsmig verify after a cutover, with the lab's Ganesha servers as source
# and destination and a mount table fixture that names them.
#
#   srv2 192.0.2.12  the source: exports tree/srv2
#   srv5 192.0.2.15  a good destination: exports the same directory, so the
#                    file handles saved at registration are valid there
#   srv6 192.0.2.16  exports a file system of its own (tmpfs): its data is
#                    copied and the original removed for a bad cutover
#   srv8 192.0.2.18  srv2's export's data directory at another path,
#                    /moved/place: a move whose location has a rootpath
#                    of its own
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
	"$NFSLAB" server "$LAB" srv8 192.0.2.18
	"$NFSLAB" start "$LAB" srv8 2049 "$root/tree/srv2/data" /moved/place
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

teardown() {
	fake_stop
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

# The mount point is a real directory holding one entry, as the kernel's
# mount would show it, so register takes the entry's handle too; on srv5
# (another server, the same data) verify must find both handles and the
# path.  Then the entry is replaced (a new inode under the same name): the
# root's handle stays valid, the entry's is STALE.
@test "a good cutover: OK on every check, the entry's handle asked, the move is recorded" {
	local root=/run/nfsmig-lab/$LAB mp=$BATS_TEST_TMPDIR/mnt/dest
	mkdir -p "$mp"
	touch "$mp/probe-entry"
	echo one >"$root/tree/srv2/probe-entry"
	sed -i "s| /mnt/dest | $mp |" "$MI"
	nmv register "$mp"
	run nmv show "$mp"
	assert_line --regexp '^entry handle: +probe-entry \(fileid [0-9]+\) [0-9a-f]+$'
	mount_table 192.0.2.15 4.2
	sed -i "s| /mnt/dest | $mp |" "$MI"
	run nmv verify --to 192.0.2.15
	assert_success
	assert_line "$mp: OK"
	assert_line --regexp '^  destination +OK +served by 192\.0\.2\.15, the destination given$'
	assert_line --regexp '^  nfs +OK +192\.0\.2\.15 answers NFSv4\.2$'
	assert_line --regexp '^  same_fs +OK +the saved root file handle is valid: same fsid and root fileid, and the saved handle of an entry too; the path /export leads to it$'
	assert_line --regexp '^  security +OK +the destination offers sys'
	assert_line --regexp '^  record +OK +recorded the move 192\.0\.2\.12 -> 192\.0\.2\.15$'
	assert_line "1 mount: 1 OK, 0 WARN, 0 FAIL"
	run nmv show "$mp"
	assert_line --regexp '^moved: +[0-9]+ 192\.0\.2\.12 -> 192\.0\.2\.15 by verify$'
	# Left for nfsmigd to report (its event, hooks, utab, fstab).
	grep -qE '^pending=migration%20[0-9]+%20verify%20192\.0\.2\.12%20192\.0\.2\.15$' "$SD"/*.state ||
		fail "no marker: $(cat "$SD"/*.state)"
	run nmv verify "$mp"
	assert_success
	assert_line --regexp '^  record +OK +agrees with the kernel'
	# The same name, another file: only the entry's handle can tell.
	rm "$root/tree/srv2/probe-entry"
	echo two >"$root/tree/srv2/probe-entry.new"
	mv "$root/tree/srv2/probe-entry.new" "$root/tree/srv2/probe-entry"
	run nmv verify --to 192.0.2.15 "$mp"
	rm -f "$root/tree/srv2/probe-entry"
	assert_failure 1
	assert_line --regexp "^  same_fs +FAIL +the handle of 'probe-entry' saved at registration is NFS4ERR_STALE here"
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

# fake_record PORT [LOCATION]: /mnt/fake, registered on 192.0.2.12:/export/data over
# NFSv4.0 (4.$MINOR), now served by the fake server on 192.0.2.1 port PORT.  The
# record holds the root's handle 01020304 (fsid 1:2, fileid 100) and the
# handle 05060708 of its entry 'f' (fileid 200).
fake_record() {
	cat >"$MI" <<MI
22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
43 22 0:43 / /mnt/fake rw,relatime shared:23 - nfs4 srv2.nfsmig.test:/export/data rw,vers=4.${MINOR:-0},sec=sys,port=$1,clientaddr=192.0.2.1,addr=192.0.2.1
MI
	cat >"$SD/-mnt-fake.state" <<REC
nfsmig-state 1
mountpoint=/mnt/fake
source=srv2.nfsmig.test:/export/data
orig_server=192.0.2.12
cur_server=192.0.2.1
export_path=/export/data
sec=sys
vers=4
minor=${MINOR:-0}
registered=1795490195
root_fh=01020304
fsid=1:2
fileid=100
fh_expire_type=0
probe_name=f
probe_fh=05060708
probe_fileid=200
${2:+location=$2}
end
REC
	sed -i '/^$/d' "$SD/-mnt-fake.state"
}

# The fake server's first reply answers the root's PUTFH, GETATTR and
# LOOKUPP, then SECINFO fails with NFS4ERR_ACCESS: the COMPOUND stops
# before the walk of the path and the entry's PUTFH.  They are asked
# again: PUTROOTFH, LOOKUP export, LOOKUP data, GETATTR, PUTFH, GETATTR.
@test "a COMPOUND that stops before the entry's handle: the entry is asked again" {
	fake_record 20481
	fake_start 20481 replay wire/v40-verify-secinfo-access.hex wire/v40-verify-walk-entry-stale.hex
	run nmv verify /mnt/fake
	fake_stop
	assert_failure 1
	assert_line --regexp '^  nfs +OK +192\.0\.2\.1 answers NFSv4\.0$'
	assert_line --regexp "^  same_fs +FAIL +the handle of 'f' saved at registration is NFS4ERR_STALE here"
	assert_line --regexp '^  security +WARN +SECINFO failed: NFS4ERR_ACCESS$'
	refute_output --partial "saved handle of an entry too"

	fake_record 20482
	fake_start 20482 replay wire/v40-verify-secinfo-access.hex wire/v40-verify-walk-entry-ok.hex
	run nmv verify /mnt/fake
	fake_stop
	assert_failure 3
	assert_line --regexp '^  same_fs +OK +the saved root file handle is valid: same fsid and root fileid, and the saved handle of an entry too; the path /export/data leads to it$'
}

@test "an entry's handle never answered is not OK, and the move is not recorded" {
	fake_record 20483
	sed -i 's/^cur_server=.*/cur_server=192.0.2.12/' "$SD/-mnt-fake.state"
	fake_start 20483 replay wire/v40-verify-secinfo-access.hex
	run nmv verify --timeout 1 /mnt/fake
	fake_stop
	assert_failure 3
	assert_line --regexp "^  same_fs +WARN +the saved root file handle is valid, but the saved handle of 'f' got no answer \(.*\)$"
	# Connected, then silent: that is a server not answering too.
	assert_line --regexp "^  same_fs +WARN .* got no answer \(server not answering: .*no reply within.*\)$"
	refute_output --partial "saved handle of an entry too"
	assert_line --regexp '^  record +WARN +the record says 192\.0\.2\.12, the kernel 192\.0\.2\.1 \(the move is not recorded: same_fs is not OK\)$'
	grep -q '^cur_server=192.0.2.12$' "$SD/-mnt-fake.state"
}

@test "NFS4ERR_DELAY is asked again after a pause" {
	fake_record 20484
	fake_start 20484 replay wire/v40-putfh-delay.hex wire/v40-putfh-delay.hex \
		wire/v40-verify-secinfo-access.hex wire/v40-verify-walk-entry-ok.hex
	run nmv verify /mnt/fake
	fake_stop
	assert_failure 3
	assert_line --regexp '^  same_fs +OK +the saved root file handle is valid: same fsid and root fileid, and the saved handle of an entry too; the path /export/data leads to it$'
	# Never anything but DELAY: asked again until the deadline, then said:
	# no answer (WARN), not a verdict on the file system.
	fake_record 20485
	fake_start 20485 replay $(printf 'wire/v40-putfh-delay.hex %.0s' $(seq 40))
	SECONDS=0
	run nmv verify --timeout 1 /mnt/fake
	fake_stop
	((SECONDS <= 4))
	assert_failure 3
	assert_line --regexp '^  same_fs +WARN +no answer for the saved root file handle: PUTFH of it: NFS4ERR_DELAY$'
}

# Each DELAY settles one question: with a deadline per COMPOUND, five
# mounts always answered DELAY took a --timeout per question (10 s).
@test "NFS4ERR_DELAY from every mount: one deadline for the group" {
	fake_record 20490
	for i in 1 2 3 4; do
		sed "s|/mnt/fake|/mnt/fake$i|" "$SD/-mnt-fake.state" >"$SD/-mnt-fake$i.state"
		echo "5$i 22 0:5$i / /mnt/fake$i rw,relatime shared:3$i - nfs4 srv2.nfsmig.test:/export/data rw,vers=4.0,sec=sys,port=20490,clientaddr=192.0.2.1,addr=192.0.2.1" >>"$MI"
	done
	fake_start 20490 replay $(printf 'wire/v40-putfh-delay.hex %.0s' $(seq 200))
	SECONDS=0
	run nmv verify --timeout 1
	fake_stop
	((SECONDS <= 4))
	assert_failure
	# The first question DELAY, the others given up at the deadline.
	[ "$(grep -c '^  same_fs  *[A-Z]*  *no answer for the saved root file handle: .*NFS4ERR_DELAY' <<<"$output")" = 5 ]
	refute_line --regexp '^  same_fs +OK '
}

@test "NFSv4.1: a SEQUENCE answered NFS4ERR_DELAY is sent again" {
	MINOR=1 fake_record 20480
	fake_start 20480 replay wire/v41-exchange-id.hex wire/v41-create-session.hex \
		wire/v41-sequence-delay.hex wire/v41-verify-all-ok.hex \
		wire/v41-destroy-session.hex wire/v41-destroy-clientid.hex
	run nmv verify /mnt/fake
	fake_stop
	assert_success
	assert_line --regexp '^  nfs +OK +192\.0\.2\.1 answers NFSv4\.1$'
	assert_line --regexp '^  same_fs +OK +the saved root file handle is valid: same fsid and root fileid, and the saved handle of an entry too; the path /export/data leads to it$'
	assert_line --regexp '^  security +OK +the destination offers sys \(flavors 1\)$'
}

@test "an unknown status is said with its number" {
	fake_record 20486
	fake_start 20486 replay wire/v40-putfh-12345.hex
	run nmv verify /mnt/fake
	fake_stop
	assert_failure 1
	assert_line --regexp '^  same_fs +FAIL +PUTFH of the saved root file handle failed: NFS4ERR 12345$'
}

# The destination takes the saved handles but its path leads elsewhere:
# migrated clients see the file system, new mounts see something else.
@test "the destination's path does not lead to the saved root: FAIL" {
	fake_record 20487
	fake_start 20487 replay wire/v40-verify-secinfo-access.hex wire/v40-verify-walk-other.hex
	run nmv verify /mnt/fake
	fake_stop
	assert_failure 1
	assert_line --regexp '^  same_fs +FAIL +the saved root file handle is valid, but the path /export/data leads elsewhere \(fsid 0x1:0x2 fileid 101, saved root 0x1:0x2 fileid 100\): migrated clients and new mounts see different data$'

	fake_record 20488
	fake_start 20488 replay wire/v40-verify-secinfo-access.hex wire/v40-verify-walk-noent.hex \
		wire/v40-verify-entry-ok.hex
	run nmv verify /mnt/fake
	fake_stop
	assert_failure 1
	assert_line --regexp '^  same_fs +FAIL +the saved root file handle is valid, but LOOKUP of the path /export/data fails here: NFS4ERR_NOENT: new mounts do not reach the migrated file system$'
}

@test "the path walked is the recorded location's rootpath on the destination" {
	fake_record 20489 192.0.2.1:/other/place
	fake_start 20489 replay wire/v40-verify-secinfo-access.hex wire/v40-verify-walk-entry-ok.hex
	run nmv verify /mnt/fake
	fake_stop
	assert_failure 3
	assert_line --regexp '^  same_fs +OK +.*; the path /other/place leads to it$'
}

@test "after a move, every query uses the recorded location's rootpath on the new server" {
	mount_table 192.0.2.12 4.0
	sed -i 's|srv2.nfsmig.test:/export |srv2.nfsmig.test:/export/data |' "$MI"
	nmv register /mnt/dest
	sed -i 's|^end$|location=192.0.2.18:/moved/place\nend|' "$SD/-mnt-dest.state"
	mount_table 192.0.2.18 4.0
	sed -i 's|srv2.nfsmig.test:/export |srv2.nfsmig.test:/export/data |' "$MI"
	# 4.0: SECINFO of the root's name there, "place", not "data"
	run nmv verify --no-update /mnt/dest
	assert_line --regexp '^  security +OK +the destination offers sys'
	assert_line --regexp '^  same_fs +OK +.*; the path /moved/place leads to it$'
	run nmv locations --no-reach /mnt/dest
	assert_success
	assert_line --partial "/moved/place on 192.0.2.18 (NFSv4.0)"
	# register --force there: the record keeps the original server, the
	# source's export path and the location, so every query still works.
	run nmv register --force /mnt/dest
	assert_success
	run nmv show /mnt/dest
	assert_line --regexp '^export path: +/export/data$'
	assert_line --regexp '^server at registration: +192\.0\.2\.12$'
	run nmv locations --no-reach /mnt/dest
	assert_success
	assert_line --partial "/moved/place on 192.0.2.18 (NFSv4.0)"
	run nmv register --force /mnt/dest
	assert_success
	run nmv verify --no-update --source 192.0.2.12 /mnt/dest
	assert_line --regexp '^  destination +OK +served by 192\.0\.2\.18, one of the recorded locations'
	assert_line --regexp '^  same_fs +OK +.*; the path /moved/place leads to it$'
	assert_line --regexp '^  source +FAIL +the source 192\.0\.2\.12 still serves /export/data \(no NFS4ERR_MOVED\)$'
}

@test "no reserved port to be had: said, not hidden" {
	nmv register /mnt/dest
	mount_table 192.0.2.15 4.2
	fake_start 1 hogresv
	run nmv verify --to 192.0.2.15
	fake_stop
	assert_failure 3
	assert_line --regexp '^  nfs +WARN +192\.0\.2\.15 answers NFSv4\.2 \(from unprivileged port [0-9]+: no reserved port to be had: .*\): a server with the secure option refuses it$'
	assert_line --regexp '^  same_fs +OK '
}

@test "a recorded location whose name DNS never answers: verify ends within its deadline" {
	# The lab's resolv.conf names a DNS server on the lab's loopback that
	# answers only after 60 s; the resolver would wait 30 s for it.  The
	# destination check resolves the record's locations within --timeout.
	local d=$BATS_TEST_TMPDIR t0 t1
	nmv register /mnt/dest
	sed -i 's|^end$|location=slow.nfsmig.test:/export\nend|' "$SD/-mnt-dest.state"
	mount_table 192.0.2.15 4.2
	ip netns exec "$LAB" "$TOP/tests/helpers/dnsstub" 53 --delay 60000 \
		slow.nfsmig.test=192.0.2.15/300 >"$d/stub.out" 2>&1 3>&- &
	echo $! >"$d/stub.pid"
	for ((i = 0; i < 100; i++)); do grep -q ready "$d/stub.out" && break; sleep 0.05; done
	printf 'nameserver 127.0.0.1\noptions timeout:30 attempts:1\n' >"/etc/netns/$LAB/resolv.conf"
	t0=$(now_ms)
	run timeout 40 ip netns exec "$LAB" "$BUILD/cmd/nfsmig" verify --no-update --timeout 2 \
		--mountinfo "$MI" --state-dir "$SD" /mnt/dest
	t1=$(now_ms)
	rm -f "/etc/netns/$LAB/resolv.conf"
	kill "$(cat "$d/stub.pid")" 2>/dev/null || true
	[ "$status" -ne 124 ]
	assert_line --regexp '^  destination +'
	# Without a deadline the resolver waits out its 30 s.
	[ $((t1 - t0)) -lt 15000 ]
}
