#!/usr/bin/env bats
# nfsmig migrate's usage errors and its checks, against the lab's Ganesha
# servers through a mount table fixture (--mountinfo: the checks only;
# the move itself needs a kernel mount: tests/vm/scenarios/10-migrate.sh).
#
#   srv9 192.0.2.19 and 192.0.2.29   one Ganesha on two addresses: in
#                    4.0 one client ID on both (RFC 7931: the same
#                    server); in 4.1 Ganesha 4.3 gives one client owner a
#                    new client ID on each address, so no client ID
#                    trunking: refused (knfsd passes: the VM scenario)
#   srv5 192.0.2.15  another Ganesha exporting the same directory (the
#                    saved handles are valid there, and it shares srv9's
#                    host name, so its server_owner and scope: only the
#                    client ID tells it is another server)
#   srv4 192.0.2.14  a host with no NFS server

setup_file() {
	load helpers
	lab_up
	local root=/run/nfsmig-lab/$LAB
	"$NFSLAB" server "$LAB" srv5 192.0.2.15
	"$NFSLAB" start "$LAB" srv5 2049 "$root/tree/srv2"
	"$NFSLAB" server "$LAB" srv9 192.0.2.19 192.0.2.29
	"$NFSLAB" start "$LAB" srv9 2049 "$root/tree/srv2"
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
	mount_table 192.0.2.19 4.1
}

# mount_table ADDR VERS: /mnt/dest on srv9's export, the kernel's server
# being ADDR.
mount_table() {
	cat >"$MI" <<MI
22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
41 22 0:41 / /mnt/dest rw,relatime shared:21 - nfs4 srv9.nfsmig.test:/export rw,vers=$2,sec=sys,clientaddr=192.0.2.1,addr=$1
MI
}

nmm() {
	nm migrate --mountinfo "$MI" --state-dir "$SD" "$@"
}

@test "usage: no --to, a name for an address, two mounts, an unknown option" {
	run nmm /mnt/dest
	assert_failure 2
	assert_output --partial "migrate needs --to ADDRESS"
	run nmm /mnt/dest --to srv2.nfsmig.test
	assert_failure 2
	assert_output --partial "not a numeric IPv4 or IPv6 address"
	run nmm /mnt/dest /mnt/other --to 192.0.2.15
	assert_failure 2
	run nmm --bogus /mnt/dest --to 192.0.2.15
	assert_failure 2
	run nmm /mnt/dest --to 192.0.2.15 -t 0
	assert_failure 2
}

@test "a mount not registered is refused: its saved handles tell the file system" {
	run nmm /mnt/dest --to 192.0.2.29
	assert_failure 1
	assert_output --partial "nfsmig register /mnt/dest"
}

@test "not an NFS mount: refused" {
	run nmm / --to 192.0.2.15
	assert_failure 1
}

@test "the address it is at already: nothing to do" {
	run nmm /mnt/dest --to 192.0.2.19
	assert_success
	assert_output --partial "already: nothing to do"
}

@test "4.1: Ganesha gives one client owner a second client ID on its other address: refused, the safe side" {
	nm register --mountinfo "$MI" --state-dir "$SD" /mnt/dest
	run nmm /mnt/dest --to 192.0.2.29
	assert_failure 1
	assert_output --regexp "nfs +OK +192.0.2.29 answers NFSv4.1"
	assert_output --regexp "same_server +FAIL +cannot prove the same server: the client ID differs \(no client ID trunking\): .*the same server_owner and scope, but two client IDs for one client owner"
	assert_output --partial "/mnt/dest not moved to 192.0.2.29: cannot prove the same server: the client ID differs (no client ID trunking)"
	assert_output --regexp "same_fs +OK"
	assert_output --regexp "security +OK"
}

@test "4.0: the same server by RFC 7931's SETCLIENTID on both addresses" {
	mount_table 192.0.2.19 4.0
	nm register --mountinfo "$MI" --state-dir "$SD" /mnt/dest
	run nmm /mnt/dest --to 192.0.2.29
	assert_success
	assert_output --regexp "same_server +OK .*one client ID on both.*RFC 7931"
}

@test "4.1: another server with the same handles is refused, and told why" {
	nm register --mountinfo "$MI" --state-dir "$SD" /mnt/dest
	run nmm /mnt/dest --to 192.0.2.15
	assert_failure 1
	assert_output --regexp "same_server +FAIL +cannot prove the same server: the client ID differs \(no client ID trunking\): 192.0.2.15 and 192.0.2.19 .*two client IDs"
	assert_output --partial "/mnt/dest not moved to 192.0.2.15: cannot prove the same server: the client ID differs (no client ID trunking)"
}

@test "4.0: another server is refused" {
	mount_table 192.0.2.19 4.0
	nm register --mountinfo "$MI" --state-dir "$SD" /mnt/dest
	run nmm /mnt/dest --to 192.0.2.15
	assert_failure 1
	assert_output --regexp "same_server +FAIL .*another server"
}

@test "an address with no server, and one that never answers: not answered (exit 3), in time" {
	nm register --mountinfo "$MI" --state-dir "$SD" /mnt/dest
	run nmm /mnt/dest --to 192.0.2.14
	assert_failure 3
	assert_output --regexp "nfs +WARN +server not answering"
	assert_output --partial "a check was not answered"
	local t0
	t0=$(now_ms)
	run nmm -t 1 /mnt/dest --to 192.0.2.99
	assert_failure 3
	[ $(($(now_ms) - t0)) -lt 5000 ]
}

@test "-J: one object with every check and the outcome" {
	nm register --mountinfo "$MI" --state-dir "$SD" /mnt/dest
	run nmm -J /mnt/dest --to 192.0.2.15
	assert_failure 1
	run jq -r '[.outcome, (.checks | map(.check + "=" + .verdict) | join(",")), .moved] | @tsv' <<<"$output"
	assert_output "$(printf 'refused\tnfs=OK,same_server=FAIL,same_fs=OK,security=OK\tfalse')"
	# what was written of a move, and what was left: nothing, said
	run nmm -J /mnt/dest --to 192.0.2.15
	run jq -r '[.recorded, .utab, .event, (.transports_unrestored | length), (.warnings | length), (has("left_at"))] | @tsv' <<<"$output"
	assert_output "$(printf 'false\tfalse\tfalse\t0\t0\tfalse')"
}

@test "completion: migrate's mounts and --to addresses from the table and the record" {
	nm register --mountinfo "$MI" --state-dir "$SD" /mnt/dest
	run "$BUILD/cmd/nfsmig" __complete migrate --mountinfo "$MI" ""
	assert_output --partial "/mnt/dest"
	run "$BUILD/cmd/nfsmig" __complete migrate --mountinfo "$MI" --state-dir "$SD" /mnt/dest --to 192
	assert_output --partial "192.0.2.19"
	# the kernel's transport takes an address: the table's host name is
	# not offered after --to
	run "$BUILD/cmd/nfsmig" __complete migrate --mountinfo "$MI" --state-dir "$SD" /mnt/dest --to ""
	assert_output --partial "192.0.2.19"
	refute_output --partial "srv9.nfsmig.test"
}
